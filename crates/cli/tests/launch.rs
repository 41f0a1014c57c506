//! `slipway launch`: the Launch page's journey headless, on the real parts. A small web app (busybox
//! httpd, its test writing a JUnit report) goes from a fresh data folder to answering through
//! NGINX on the test environment's cluster (the sandbox's EKS): the sandbox connected, the project
//! added, plan, apply with the first run alongside, deploy to live. With --json every step's
//! status arrives as one JSON object per line, and the last line has the app's address. A second
//! launch finds everything done and changes nothing.

use serde_json::Value;
use slipway_testkit::env;
use std::path::Path;
use std::process::Command;

mod common;
use common::{slipway, text};

const JUNIT_OK: &str = "mkdir -p /reports && echo '<testsuite name=\"s\" tests=\"1\"><testcase name=\"t\"/></testsuite>' > /reports/junit.xml";

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@slipway.invalid", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Removes what the journey left: the sandbox, the namespaces and the images.
struct Cleanup<'a> {
    data: &'a Path,
    id: String,
}
impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        slipway(self.data, &["sandbox", "down"], None);
        for ns in [self.id.clone(), format!("{}-test", self.id)] {
            let _ = Command::new(env("SLIPWAY_TEST_KUBECTL"))
                .args(["--kubeconfig", &env("SLIPWAY_TEST_KUBECONFIG"), "delete", "namespace", &ns, "--ignore-not-found", "--wait=false"])
                .output();
        }
        if let Ok(out) = Command::new("docker").args(["image", "ls", "-q", "--filter", &format!("label=slipway.image.project={}", self.id)]).output() {
            let ids: std::collections::BTreeSet<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
            if !ids.is_empty() {
                let _ = Command::new("docker").args(["image", "rm", "-f"]).args(&ids).output();
            }
        }
    }
}

#[test]
fn launch_takes_a_repository_to_an_app_answering_through_nginx_on_the_cluster() {
    let data = slipway_testkit::data_dir();
    let repo = tempfile::tempdir().unwrap();
    let id = format!("launch-{}", slipway_core::secrets::random_hex(3));
    let marker = format!("hello from {id}");
    std::fs::create_dir_all(repo.path().join("web/www")).unwrap();
    std::fs::write(repo.path().join("web/www/index.html"), format!("<h1>{marker}</h1>\n")).unwrap();
    std::fs::write(
        repo.path().join("web/Dockerfile"),
        "FROM slipway/busybox:latest\nCOPY www /www\nEXPOSE 8080\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
    )
    .unwrap();
    std::fs::write(repo.path().join("slipway.toml"), format!("[services.web]\ntest = {JUNIT_OK:?}\n\n[deploy]\nreplicas = 2\n")).unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "a small web app"]);
    let _cleanup = Cleanup { data: data.path(), id: id.clone() };

    let o = slipway(data.path(), &["launch", &repo.path().display().to_string(), "--id", &id, "--json"], None);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout).lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    // Every step reported done, in the journey's order.
    let done: Vec<&str> = lines.iter().filter(|l| l["status"] == "done").filter_map(|l| l["step"].as_str()).collect();
    for step in ["connect", "project", "infrastructure", "run", "deploy", "open"] {
        assert!(done.contains(&step), "{step} never done:\n{out}");
    }
    // The first run was under way before the infrastructure was done (the work overlaps).
    let first = |step: &str, status: &str| lines.iter().position(|l| l["step"] == step && l["status"] == status);
    let run_started = first("run", "running").or(first("run", "done")).unwrap();
    assert!(run_started < first("infrastructure", "done").unwrap(), "the build starts while the infrastructure is applied:\n{out}");
    // The sandbox's stand-ins were named.
    assert!(lines.iter().any(|l| l["mapping"]["part"] == "EKS" && l["mapping"]["mapsTo"].as_str().unwrap_or("").contains("slipway-test")), "{out}");
    let end = lines.last().unwrap();
    assert_eq!(end["answers"], true, "{out}");
    let url = end["url"].as_str().unwrap().to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, server, body) = rt.block_on(async {
        let r = reqwest::get(&url).await.unwrap();
        let server = r.headers().get("server").map(|v| v.to_str().unwrap_or("").to_string()).unwrap_or_default();
        (r.status().as_u16(), server, r.text().await.unwrap())
    });
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&marker), "the app's own page: {body}");
    assert!(server.to_lowercase().contains("nginx"), "served through NGINX: {server}");

    // Launching again finds every step done: nothing is created, built or deployed again.
    let o = slipway(data.path(), &["launch", "--project", &id], None);
    let again = text(&o);
    assert!(o.status.success(), "{again}");
    assert!(again.contains(&format!("The app answers at {url}")), "{again}");
    assert!(!again.contains("...."), "nothing ran again:\n{again}");
    let runs = slipway(data.path(), &["runs", "--project", &id, "--json"], None);
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs.as_array().map(|a| a.len()), Some(1), "one run: {runs}");
}

#[test]
fn launch_without_a_repository_says_what_to_give() {
    let data = slipway_testkit::data_dir();
    let _cleanup = Cleanup { data: data.path(), id: "none".into() };
    let o = slipway(data.path(), &["launch"], None);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(out.contains("No project") && out.contains("slipway launch PATH"), "{out}");
}
