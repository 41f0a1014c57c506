//! The Kubernetes export of the sample app read back through a YAML parser and applied to the
//! test environment's real control plane with `kubectl apply --server-side` (each test in its
//! own namespace, deleted at the end), and the CI exports' way of deploying it (a kustomization
//! replacing the images, the placeholder Secrets left out) checked with the same kubectl.

use serde_json::Value;
use slipway_core::deploy::LABEL_PROJECT;
use slipway_core::export::ci::{self, CiInput};
use slipway_core::export::{LABEL_PLACEHOLDER, PASSWORD_MARK, PLACEHOLDER_PASSWORD};
use slipway_core::pipeline::project::{detect, Project, Source};
use slipway_core::pipeline::run::ImageArtifact;
use slipway_kube::export::{export, ExportInput, KubeExport};
use slipway_kube::manifests::DbPlan;
use slipway_testkit::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn sample_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-app")
}

fn sample() -> Project {
    detect(
        &sample_repo(),
        "sample",
        Source::Path {
            path: sample_repo().display().to_string(),
        },
    )
    .unwrap()
}

fn images() -> Vec<ImageArtifact> {
    vec![
        ImageArtifact {
            service: "backend".into(),
            image: "sample-backend:0123456789ab".into(),
            pushed: Some("127.0.0.1:5000/team/sample-backend:0123456789ab".into()),
            digest: None,
        },
        ImageArtifact {
            service: "frontend".into(),
            image: "sample-frontend:0123456789ab".into(),
            pushed: None,
            digest: None,
        },
    ]
}

fn kubectl(args: &[&str], stdin_file: Option<&Path>) -> (bool, String) {
    let mut c = Command::new(env("SLIPWAY_TEST_KUBECTL"));
    c.arg("--kubeconfig")
        .arg(env("SLIPWAY_TEST_KUBECONFIG"))
        .args(args);
    if let Some(f) = stdin_file {
        c.stdin(std::fs::File::open(f).unwrap());
    }
    let o = c.output().expect("kubectl runs");
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// Deletes the test's namespace when the test ends, passed or not.
struct Cleanup(String);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = kubectl(
            &[
                "delete",
                "namespace",
                &self.0,
                "--wait=false",
                "--ignore-not-found",
            ],
            None,
        );
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", slipway_core::secrets::random_hex(3))
}

/// The YAML parsed back: every document an object, the namespace first, then the Secrets with
/// placeholders only.
fn parse(e: &KubeExport, yaml: &str) -> Vec<Value> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(yaml).unwrap_or_else(|err| panic!("not YAML: {err}\n{yaml}"));
    let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    assert_eq!(docs, e.objects, "the YAML holds exactly the objects");
    assert_eq!(docs[0]["kind"], "Namespace");
    assert_eq!(docs[0]["metadata"]["name"], e.namespace.as_str());
    for d in &docs[1..] {
        assert_eq!(d["metadata"]["namespace"], e.namespace.as_str(), "{d}");
        assert_eq!(d["metadata"]["labels"][LABEL_PROJECT], "sample", "{d}");
    }
    for s in docs.iter().filter(|d| d["kind"] == "Secret") {
        assert_eq!(s["metadata"]["labels"][LABEL_PLACEHOLDER], "true", "{s}");
        assert!(
            s.get("data").is_none(),
            "values in stringData, readable: {s}"
        );
        assert!(
            s["stringData"]
                .as_object()
                .unwrap()
                .values()
                .any(|v| v.as_str().unwrap().contains(PLACEHOLDER_PASSWORD)),
            "{s}"
        );
    }
    assert!(!yaml.contains(PASSWORD_MARK));
    docs
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f
}

fn apply(file: &Path) {
    let (ok, out) = kubectl(
        &[
            "apply",
            "--server-side",
            "--field-manager",
            "slipway",
            "-f",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        ok,
        "kubectl apply failed: {out}\n{}",
        std::fs::read_to_string(file).unwrap()
    );
}

fn names(ns: &str, kind: &str) -> Vec<String> {
    let (ok, out) = kubectl(&["-n", ns, "get", kind, "-o", "name"], None);
    assert!(ok, "{out}");
    let mut v: Vec<String> = out.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn generated_manifests_with_the_sandbox_database_apply_to_a_real_cluster() {
    let mut p = sample();
    p.manifests.clear();
    let ns = unique("exp-gen");
    let _cleanup = Cleanup(ns.clone());
    let imgs = images();
    let e = export(&ExportInput {
        project: &p,
        environment: "dev",
        repo: &sample_repo(),
        images: &imgs,
        namespace: Some(&ns),
        database: &DbPlan::InCluster,
        progress_deadline_secs: None,
    })
    .unwrap();
    let yaml = e.yaml("the images of run sample-1").unwrap();
    assert!(
        yaml.starts_with("# Kubernetes objects of project sample, environment dev"),
        "{yaml}"
    );
    let docs = parse(&e, &yaml);
    let secrets: Vec<&str> = docs
        .iter()
        .filter(|d| d["kind"] == "Secret")
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(secrets, ["sample-db", "sample-db-server"]);
    let db = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "sample-db")
        .unwrap();
    assert_eq!(
        db["stringData"]["DATABASE_URL"],
        format!("mysql://sample:{PLACEHOLDER_PASSWORD}@db:3306/sample")
    );
    assert_eq!(db["stringData"]["DB_HOST"], "db");
    assert_eq!(
        e.rollouts,
        [
            "deployment/backend",
            "deployment/frontend",
            "deployment/slipway-proxy",
            "deployment/db"
        ],
        "in apply order"
    );
    assert_eq!(
        e.manifest_images["backend"],
        "127.0.0.1:5000/team/sample-backend"
    );
    assert_eq!(e.manifest_images["frontend"], "sample-frontend");

    let d = tempfile::tempdir().unwrap();
    apply(&write(d.path(), "k8s.yaml", &yaml));
    assert_eq!(
        names(&ns, "deployment"),
        [
            "deployment.apps/backend",
            "deployment.apps/db",
            "deployment.apps/frontend",
            "deployment.apps/slipway-proxy"
        ]
    );
    assert!(names(&ns, "secret").contains(&"secret/sample-db".to_string()));
    let (ok, image) = kubectl(
        &[
            "-n",
            &ns,
            "get",
            "deployment",
            "backend",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ],
        None,
    );
    assert!(
        ok && image == "127.0.0.1:5000/team/sample-backend:0123456789ab",
        "{image}"
    );
    let (ok, managers) = kubectl(
        &[
            "-n",
            &ns,
            "get",
            "deployment",
            "frontend",
            "-o",
            "jsonpath={.metadata.managedFields[*].manager}",
        ],
        None,
    );
    assert!(
        ok && managers.split_whitespace().any(|m| m == "slipway"),
        "applied by field manager slipway: {managers}"
    );
}

#[test]
fn the_repository_manifests_apply_and_the_ci_deploy_replaces_images_without_the_placeholders() {
    let p = sample();
    assert!(
        !p.manifests.is_empty(),
        "the sample has manifests: {:?}",
        p.manifests
    );
    let ns = unique("exp-repo");
    let _cleanup = Cleanup(ns.clone());
    let imgs = images();
    let e = export(&ExportInput {
        project: &p,
        environment: "ci",
        repo: &sample_repo(),
        images: &imgs,
        namespace: Some(&ns),
        database: &DbPlan::InCluster,
        progress_deadline_secs: Some(120),
    })
    .unwrap();
    let yaml = e.yaml("the images of run sample-2").unwrap();
    let docs = parse(&e, &yaml);
    assert!(
        docs.iter()
            .any(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "nginx-conf"),
        "the repository's own objects"
    );
    assert!(
        e.rollouts.contains(&"deployment/nginx".to_string()),
        "{:?}",
        e.rollouts
    );

    // The CI way: a kustomization over the committed export, the images this build pushed,
    // the placeholder Secrets left out (CI makes them from its credentials).
    let input = CiInput {
        project: &p,
        registry: Some("registry.example.com/team".into()),
        environment: "ci".into(),
        namespace: e.namespace.clone(),
        manifest_images: e.manifest_images.clone(),
        rollouts: e.rollouts.clone(),
        secrets: e.ci_secrets.clone(),
    };
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "k8s.yaml", &yaml);
    write(
        d.path(),
        "kustomization.yaml",
        &ci::kustomization(&input, "registry.example.com/team", "feedbeef0123"),
    );
    let (ok, built) = kubectl(&["kustomize", d.path().to_str().unwrap()], None);
    assert!(ok, "{built}");
    let built: Vec<Value> = serde_saphyr::from_multiple(&built).unwrap();
    let image = |name: &str| {
        built
            .iter()
            .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == name)
            .unwrap()["spec"]["template"]["spec"]["containers"][0]["image"]
            .clone()
    };
    assert_eq!(
        image("backend"),
        "registry.example.com/team/sample-backend:feedbeef0123"
    );
    assert_eq!(
        image("frontend"),
        "registry.example.com/team/sample-frontend:feedbeef0123"
    );
    assert_eq!(image("nginx"), "nginx:stable", "not a project service");

    let (ok, out) = kubectl(&["create", "namespace", &ns], None);
    assert!(ok, "{out}");
    // What the deploy script does for the Secrets, with a test password.
    for s in &e.ci_secrets {
        let mut args: Vec<String> = vec![
            "-n".into(),
            ns.clone(),
            "create".into(),
            "secret".into(),
            "generic".into(),
            s.name.clone(),
        ];
        args.extend(s.data.iter().map(|(k, v)| {
            format!(
                "--from-literal={k}={}",
                v.replace(PASSWORD_MARK, "ci-test-password")
            )
        }));
        let (ok, out) = kubectl(&args.iter().map(String::as_str).collect::<Vec<_>>(), None);
        assert!(ok, "{out}");
    }
    let (ok, out) = kubectl(
        &[
            "apply",
            "--server-side",
            "--field-manager",
            "slipway",
            "-k",
            d.path().to_str().unwrap(),
            "-l",
            &format!("{LABEL_PLACEHOLDER}!=true"),
        ],
        None,
    );
    assert!(ok, "{out}");
    assert!(
        !out.contains("secret/"),
        "the placeholder Secrets are left out: {out}"
    );
    let (ok, url) = kubectl(
        &[
            "-n",
            &ns,
            "get",
            "secret",
            "sample-db",
            "-o",
            "jsonpath={.data.DATABASE_URL}",
        ],
        None,
    );
    assert!(ok, "{url}");
    let decoded = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, url.trim()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        decoded, "mysql://sample:ci-test-password@db:3306/sample",
        "CI's Secret kept, not the placeholder"
    );
    let (ok, image) = kubectl(
        &[
            "-n",
            &ns,
            "get",
            "deployment",
            "backend",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ],
        None,
    );
    assert!(
        ok && image == "registry.example.com/team/sample-backend:feedbeef0123",
        "{image}"
    );
    for r in &e.rollouts {
        let (ok, out) = kubectl(&["-n", &ns, "get", r, "-o", "name"], None);
        assert!(ok, "{r}: {out}");
    }
}
