//! `slipway export` as a user types it: each kind printed and written with -o (the same text),
//! and bad input (an unknown kind, project or environment, an invalid blueprint, a -o path of
//! the wrong kind or below a file) refused with what / why / next and nothing written.

mod common;
use common::*;

use std::path::{Path, PathBuf};

fn sample_app() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/sample-app")
        .canonicalize()
        .unwrap()
        .display()
        .to_string()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn files_under(p: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(p).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        }
        out.push(path);
    }
    out.sort();
    out
}

#[test]
fn terraform_prints_and_writes_the_blueprint() {
    let data = slipway_testkit::data_dir();
    let d = data.path();
    let o = slipway(
        d,
        &[
            "blueprint",
            "--project",
            "shop",
            "--set",
            "nodeCount=4",
            "--set",
            "region=eu-west-1",
            "--set",
            "azs=[\"eu-west-1a\",\"eu-west-1b\"]",
            // No AWS connection to tell the address from: the user gives it.
            "--set",
            "adminCidr=203.0.113.7/32",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));

    let o = slipway(d, &["export", "terraform", "--project", "shop"], None);
    assert!(o.status.success(), "{}", text(&o));
    let printed = stdout(&o);
    for needle in [
        "provider \"aws\"",
        "resource \"aws_vpc\" \"vpc\"",
        "resource \"aws_eks_node_group\" \"nodes\"",
        "variable \"node_count\"",
        "output \"eks_endpoint\"",
    ] {
        assert!(printed.contains(needle), "{needle} missing:\n{printed}");
    }
    assert!(
        printed.contains("default     = 4")
            && printed.contains("default     = \"shop\"")
            && printed.contains("default     = \"eu-west-1\""),
        "the saved blueprint's values:\n{printed}"
    );
    assert!(!text(&o).contains("No blueprint is saved"), "{}", text(&o));

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("infra");
    let o = slipway(
        d,
        &[
            "export",
            "terraform",
            "--project",
            "shop",
            "-o",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        stdout(&o).contains("wrote ") && stdout(&o).contains("main.tf"),
        "{}",
        text(&o)
    );
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    assert_eq!(
        format!(
            "{}\n{}\n{}",
            read("main.tf"),
            read("variables.tf"),
            read("outputs.tf")
        ),
        printed,
        "the files are what was printed"
    );

    // A project without a saved blueprint exports the defaults, and says so.
    let o = slipway(d, &["export", "terraform"], None);
    assert!(
        o.status.success() && text(&o).contains("note: No blueprint is saved for project slipway"),
        "{}",
        text(&o)
    );
}

#[test]
fn k8s_jenkinsfile_and_workflow_of_a_project() {
    let data = slipway_testkit::data_dir();
    let d = data.path();
    let o = slipway(
        d,
        &["project", "add", &sample_app(), "--id", "sample"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));

    let o = slipway(d, &["export", "k8s"], None);
    assert!(o.status.success(), "{}", text(&o));
    let yaml = stdout(&o);
    assert!(
        yaml.starts_with(
            "# Kubernetes objects of project sample, environment default (namespace sample)"
        ),
        "{yaml}"
    );
    for needle in [
        "kind: Namespace",
        "kind: Deployment",
        "name: backend",
        "REPLACE_WITH_DB_PASSWORD",
        "slipway.dev/placeholder",
    ] {
        assert!(yaml.contains(needle), "{needle} missing:\n{yaml}");
    }
    assert!(
        text(&o).contains("note: No run of sample has built images yet"),
        "{}",
        text(&o)
    );
    // The compose file's password is the sample's local one; the Secret holds only the placeholder.
    assert!(!yaml.contains("sample-root"), "{yaml}");

    let out = tempfile::tempdir().unwrap();
    let k8s = out.path().join("repo/slipway/k8s.yaml");
    let o = slipway(d, &["export", "k8s", "-o", k8s.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&k8s).unwrap(), yaml);

    let o = slipway(d, &["export", "jenkinsfile", "--project", "sample"], None);
    assert!(o.status.success(), "{}", text(&o));
    let j = stdout(&o);
    assert!(
        j.contains("pipeline {")
            && j.contains("stage('Deploy')")
            && j.contains("junit testResults: 'reports/**/*.xml'"),
        "{j}"
    );
    assert!(
        j.contains("cd examples/sample-app")
            || j.contains("examples/sample-app/backend/Dockerfile"),
        "paths from the repository root: {j}"
    );
    let jf = out.path().join("repo/Jenkinsfile");
    let o = slipway(
        d,
        &["export", "jenkinsfile", "-o", jf.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&jf).unwrap(), j);

    let wf = out.path().join("repo/.github/workflows/slipway.yml");
    let o = slipway(
        d,
        &[
            "export",
            "github-actions",
            "-o",
            wf.to_str().unwrap(),
            "--json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "github-actions");
    assert_eq!(v["written"][0], wf.to_str().unwrap());
    let w = std::fs::read_to_string(&wf).unwrap();
    assert!(
        w.contains("dorny/test-reporter@")
            && w.contains("docker/login-action@")
            && w.contains("services:"),
        "{w}"
    );
    let o = slipway(d, &["export", "github-actions", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["path"], "slipway.yml");
    assert_eq!(v["files"][0]["content"], w.as_str());
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let data = slipway_testkit::data_dir();
    let d = data.path();
    let out = tempfile::tempdir().unwrap();
    let refused = |args: &[&str], needles: &[&str]| {
        let o = slipway(d, args, None);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
        assert!(stdout(&o).is_empty(), "{args:?} printed: {}", stdout(&o));
        let t = text(&o);
        assert!(
            t.contains("error:") && t.contains("why:") && t.contains("next:"),
            "{t}"
        );
        for n in needles {
            assert!(t.contains(n), "{args:?}: {n} missing from {t}");
        }
    };
    refused(
        &["export", "ansible"],
        &[
            "Unknown export",
            "'ansible'",
            "terraform, k8s, jenkinsfile, github-actions",
        ],
    );
    refused(&["export", "k8s"], &["No project", "slipway project add"]);
    refused(
        &["export", "terraform", "--project", "Bad_Name"],
        &["Blueprint not valid", "project name 'Bad_Name'"],
    );
    let o = slipway(
        d,
        &["project", "add", &sample_app(), "--id", "sample"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    refused(
        &["export", "jenkinsfile", "--project", "nope"],
        &["Project not found", "nope"],
    );
    refused(
        &["export", "k8s", "--env", "prod"],
        &["Environment not found", "no environment \"prod\""],
    );

    // -o of the wrong kind, or below a file: refused, nothing written, nothing changed.
    let o = slipway(d, &["blueprint", "--set", "adminCidr=203.0.113.7/32"], None);
    assert!(o.status.success(), "{}", text(&o));
    let file = out.path().join("notes.txt");
    std::fs::write(&file, "keep me").unwrap();
    let folder = out.path().join("existing");
    std::fs::create_dir(&folder).unwrap();
    refused(
        &["export", "terraform", "-o", file.to_str().unwrap()],
        &["The export was not written", "is a file", "folder"],
    );
    refused(
        &["export", "jenkinsfile", "-o", folder.to_str().unwrap()],
        &["The export was not written", "is a folder", "Jenkinsfile"],
    );
    refused(
        &[
            "export",
            "github-actions",
            "-o",
            file.join(".github/workflows/slipway.yml").to_str().unwrap(),
        ],
        &["notes.txt is a file"],
    );
    refused(
        &[
            "export",
            "terraform",
            "-o",
            file.join("tf").to_str().unwrap(),
        ],
        &["notes.txt is a file"],
    );
    assert_eq!(files_under(out.path()), vec![folder.clone(), file.clone()]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

#[test]
fn the_opt_in_vms_are_turned_on_with_blueprint_set_and_the_export_follows() {
    let data = slipway_testkit::data_dir();
    let d = data.path();
    let bp = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["blueprint", "--project", "shop", "--set", "adminCidr=203.0.113.7/32"];
        all.extend_from_slice(args);
        let o = slipway(d, &all, None);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let terraform = || {
        let o = slipway(d, &["export", "terraform", "--project", "shop"], None);
        assert!(o.status.success(), "{}", text(&o));
        stdout(&o)
    };
    // Off by default: no VM in the export.
    let b = bp(&[]);
    assert_eq!((b["ciVm"].as_bool(), b["testVm"].as_bool()), (Some(false), Some(false)), "{b}");
    let t = terraform();
    assert!(!t.contains("aws_instance") && !t.contains("aws_key_pair"), "{t}");
    // On: the CI VM with its security group and the key pair; then the test VM too.
    let b = bp(&["--set", "ciVm=true"]);
    assert_eq!(b["ciVm"], true);
    let t = terraform();
    assert!(t.contains("resource \"aws_instance\" \"vm_ci\"") && t.contains("resource \"aws_security_group\" \"sg_ci\"") && t.contains("resource \"aws_key_pair\" \"keypair\""), "{t}");
    assert!(!t.contains("vm_test"), "{t}");
    bp(&["--set", "testVm=true"]);
    let t = terraform();
    assert!(t.contains("resource \"aws_instance\" \"vm_test\"") && t.contains("resource \"aws_instance\" \"vm_ci\""), "{t}");
    // And off again: gone, the rest kept.
    let b = bp(&["--set", "ciVm=false", "--set", "testVm=false"]);
    assert_eq!(b["nodeCount"], 2);
    assert!(!terraform().contains("aws_instance"));
    // Not a boolean: refused, nothing saved.
    let o = slipway(d, &["blueprint", "--project", "shop", "--set", "ciVm=maybe"], None);
    assert!(!o.status.success());
    assert!(text(&o).contains("does not fit"), "{}", text(&o));
    assert_eq!(bp(&[])["ciVm"], false);
}
