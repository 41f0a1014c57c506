//! `slipway env`, `deploy`, `redeploy`, `rollback`, `status`, `deploy-logs` and `teardown` as a
//! user types them, against the test environment's real Kubernetes control plane and dockerd:
//! live per-pod progress, `--json`, merged logs (also followed while a redeploy replaces the
//! pods), and bad input refused with what / why / next.

mod common;
use common::*;

use slipway_testkit::env;
use std::io::Read;
use std::process::Command as Cmd;
use std::time::{Duration, Instant};

fn web_repo() -> tempfile::TempDir {
    slipway_testkit::git_repo(&[
        (
            "web/Dockerfile",
            "FROM slipway/busybox:latest\nEXPOSE 8080\nCMD [\"sh\", \"-c\", \"echo started $HOSTNAME; mkdir -p /www && echo \\\"web on $HOSTNAME, database $DB_USER@$DB_HOST\\\" > /www/index.html && exec httpd -f -vv -p 8080 -h /www\"]\n",
        ),
        (
            "docker-compose.yml",
            "services:\n  db:\n    image: mariadb:10.11\n    environment:\n      MARIADB_DATABASE: shop\n      MARIADB_USER: shop\n  web:\n    build: ./web\n    ports: [\"8080\"]\n    depends_on: [db]\n",
        ),
        ("slipway.toml", "[services.web]\ntests = false\nhealth_path = \"/\"\n\n[deploy]\nreplicas = 2\n"),
    ])
}

fn kubectl(args: &[&str]) -> String {
    let out = Cmd::new(env("SLIPWAY_TEST_KUBECTL")).arg("--kubeconfig").arg(env("SLIPWAY_TEST_KUBECONFIG")).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct DeleteNamespace(String);
impl Drop for DeleteNamespace {
    fn drop(&mut self) {
        kubectl(&["delete", "namespace", &self.0, "--wait=false", "--ignore-not-found"]);
    }
}

fn ok(o: &std::process::Output) -> String {
    let t = text(o);
    assert!(o.status.success(), "{t}");
    t
}

#[test]
fn deploy_status_redeploy_rollback_logs_and_teardown() {
    env("DOCKER_HOST");
    let data = slipway_testkit::data_dir();
    let d = data.path();
    let repo = web_repo();
    let id = format!("kcli-{}", slipway_core::secrets::random_hex(3));
    let ns = id.clone();
    let _ns = DeleteNamespace(ns.clone());
    ok(&slipway(d, &["project", "add", repo.path().to_str().unwrap(), "--id", &id], None));
    ok(&slipway(d, &["run", "--until", "build"], None));
    let kc = env("SLIPWAY_TEST_KUBECONFIG");
    let out = ok(&slipway(d, &["env", "set", "cluster", "--kubeconfig", &kc, "--namespace", &ns, "--progress-deadline", "90"], None));
    assert!(out.contains(&format!("environment cluster of {id} saved: kubernetes: context (connected/current), namespace {ns}")), "{out}");
    let out = ok(&slipway(d, &["env", "list"], None));
    assert!(out.contains("cluster") && out.contains(&ns), "{out}");
    let out = ok(&slipway(d, &["env", "contexts", "--kubeconfig", &kc], None));
    assert!(out.contains("* slipway-test"), "{out}");

    // Deploy: live lines per pod and per Deployment, then the revision and the address.
    let out = ok(&slipway(d, &["deploy"], None));
    for needle in [
        "Namespace ".to_string() + &ns + " created",
        "Applied Secret/".to_string() + &id + "-db (database connection)",
        "Applied Deployment/web".into(),
        "web: 2 of 2 ready, 2 updated, 2 available - rollout complete".into(),
        format!("revision 1 of {id} / cluster: succeeded"),
        "the app: http://127.0.0.1:".into(),
    ] {
        assert!(out.contains(&needle), "{needle} missing:\n{out}");
    }
    assert!(out.lines().any(|l| l.trim_start().starts_with("pod web-") && l.ends_with("Running, ready")), "{out}");

    // Status, for people and for programs.
    let out = ok(&slipway(d, &["status"], None));
    for needle in ["serving: revision 1", "WORKLOAD", "2/2", "slipway-proxy", "REVISIONS", "#1", "<- serving", "node port"] {
        assert!(out.contains(needle), "{needle} missing:\n{out}");
    }
    let o = slipway(d, &["status", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["current"], 1);
    let web = v["workloads"].as_array().unwrap().iter().find(|w| w["name"] == "web").unwrap();
    assert_eq!((web["ready"].as_u64(), web["desired"].as_u64()), (Some(2), Some(2)));
    let url = v["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    // The merged logs: each line with its pod.
    let out = ok(&slipway(d, &["deploy-logs", "--tail", "20"], None));
    let pods: Vec<&str> = out.lines().filter_map(|l| l.split_once(" | ")).filter(|(_, t)| t.starts_with("started ")).map(|(p, _)| p.trim()).collect();
    assert!(pods.iter().filter(|p| p.starts_with("web-")).count() == 2, "{out}");
    assert!(pods.iter().any(|p| p.starts_with("slipway-proxy-")) || out.contains("slipway-proxy-"), "{out}");

    // Follow the logs from another process while a redeploy replaces every pod.
    let mut follower = command(d, &["deploy-logs", "--follow", "--tail", "1"]).spawn().unwrap();
    let mut follower_out = follower.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = follower_out.read_to_string(&mut s);
        s
    });
    std::thread::sleep(Duration::from_secs(2));
    let out = ok(&slipway(d, &["redeploy"], None));
    assert!(out.contains(&format!("revision 2 of {id} / cluster: succeeded (rolling restart of revision 1)")), "{out}");
    assert!(out.contains("previous revision"), "old pods reported on their way out:\n{out}");
    let new_pods: Vec<String> = serde_json::from_slice::<serde_json::Value>(&slipway(d, &["status", "--json"], None).stdout).unwrap()["pods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["workload"] == "web" && p["current"] == true && p["phase"] == "Running")
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(new_pods.len(), 2);
    std::thread::sleep(Duration::from_secs(3));
    follower.kill().unwrap();
    follower.wait().unwrap();
    let followed = reader.join().unwrap();
    // The sandbox database's readiness checks leave no warnings in its log.
    assert!(!followed.contains("Access denied") && !followed.contains("Aborted connection"), "{followed}");
    // Lines are `<pod, padded to the widest so far> | <text>`.
    let followed_lines: Vec<(&str, &str)> = followed.lines().filter_map(|l| l.split_once(" | ")).map(|(p, t)| (p.trim_end(), t)).collect();
    for p in &new_pods {
        assert!(followed_lines.contains(&(p.as_str(), format!("started {p}").as_str())), "{p} missing from the followed logs:\n{followed}");
    }

    // Rollback: a reason is required; with one image set there is nothing earlier to go to.
    let o = slipway(d, &["rollback"], None);
    assert_eq!(o.status.code(), Some(2), "clap wants --reason: {}", text(&o));
    let o = slipway(d, &["rollback", "--reason", "just because"], None);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("error: No earlier revision") && t.contains("why:") && t.contains("next: Deploy another run instead"), "{t}");
    let o = slipway(d, &["rollback", "--to", "1", "--reason", "back to the first pods", "--json"], None);
    let t = ok(&o);
    let last: serde_json::Value = serde_json::from_str(t.lines().rfind(|l| l.starts_with('{')).unwrap()).unwrap();
    assert_eq!((last["number"].as_u64(), last["operation"].as_str(), last["rollbackTo"].as_u64()), (Some(3), Some("rollback"), Some(1)));
    assert_eq!(last["reason"], "rollback to revision 1: back to the first pods");
    assert!(t.lines().any(|l| l.contains("\"type\":\"deployProgress\"")), "--json streams the progress events: {t}");

    // The database password is in the cluster's Secret, nowhere in the data folder.
    let pw = kubectl(&["-n", &ns, "get", "secret", &format!("{id}-db"), "-o", "jsonpath={.data.DB_PASSWORD}"]);
    let pw = {
        let mut c = Cmd::new("base64").arg("-d").stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
        std::io::Write::write_all(c.stdin.as_mut().unwrap(), pw.trim().as_bytes()).unwrap();
        drop(c.stdin.take());
        String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap()
    };
    assert!(pw.len() >= 16, "{pw:?}");
    let mut stack = vec![d.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let b = std::fs::read(&p).unwrap_or_default();
                assert!(!b.windows(pw.len()).any(|w| w == pw.as_bytes()), "the password is in {}", p.display());
            }
        }
    }

    // Teardown deletes the namespace; status then shows nothing running, the history stays.
    let out = ok(&slipway(d, &["teardown"], None));
    assert!(out.contains("being deleted"), "{out}");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !kubectl(&["get", "namespace", &ns, "--ignore-not-found", "-o", "name"]).trim().is_empty() {
        assert!(Instant::now() < deadline, "the namespace is still there");
        std::thread::sleep(Duration::from_millis(500));
    }
    let out = ok(&slipway(d, &["status"], None));
    assert!(out.contains("#3") && !out.contains("WORKLOAD"), "{out}");
}

#[test]
fn bad_input_is_refused_with_what_why_and_next() {
    let data = slipway_testkit::data_dir();
    let d = data.path();
    let o = slipway(d, &["status"], None);
    assert!(text(&o).contains("No project"), "{}", text(&o));
    let repo = web_repo();
    ok(&slipway(d, &["project", "add", repo.path().to_str().unwrap(), "--id", "kbadcli"], None));
    let o = slipway(d, &["deploy"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("error: No environment") && text(&o).contains("next: Add one: `slipway env set NAME --context CTX`"), "{}", text(&o));
    let o = slipway(d, &["env", "set", "x", "--kubeconfig", "/nonexistent/kubeconfig"], None);
    assert!(text(&o).contains("error: No usable kubeconfig") && text(&o).contains("/nonexistent/kubeconfig"), "{}", text(&o));
    let o = slipway(d, &["env", "set", "x", "--kubeconfig", &env("SLIPWAY_TEST_KUBECONFIG"), "--namespace", "Not_A_Name"], None);
    assert!(text(&o).contains("is not a Kubernetes namespace name"), "{}", text(&o));
    let o = slipway(d, &["env", "set", "x", "--database", "postgres", "--kubeconfig", &env("SLIPWAY_TEST_KUBECONFIG")], None);
    assert!(text(&o).contains("'postgres' is not a database choice"), "{}", text(&o));

    // A forbidden identity: refused, with the RBAC reason, and nothing made.
    let ns = format!("kbadcli-{}", slipway_core::secrets::random_hex(3));
    let _ns = DeleteNamespace(ns.clone());
    ok(&slipway(d, &["env", "set", "forbidden", "--kubeconfig", &env("SLIPWAY_TEST_KUBECONFIG_FORBIDDEN"), "--namespace", &ns], None));
    ok(&slipway(d, &["run", "--until", "build"], None));
    let o = slipway(d, &["deploy", "--env", "forbidden", "--json"], None);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("forbidden by RBAC") && t.contains("Nothing was applied"), "{t}");
    let err: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap();
    assert!(err["error"]["why"].as_str().unwrap().contains("forbidden by RBAC"), "{err}");
    assert!(kubectl(&["get", "namespace", &ns, "--ignore-not-found", "-o", "name"]).trim().is_empty());
    let o = slipway(d, &["redeploy", "--env", "forbidden"], None);
    assert!(text(&o).contains("error: Nothing to redeploy"), "{}", text(&o));
    let o = slipway(d, &["status", "--env", "forbidden"], None);
    assert!(text(&o).contains("#1") && text(&o).contains("failed"), "the refused deploy is in the history: {}", text(&o));
}
