//! "dockerd dies mid-run", with the real dockerd of the test environment: it is stopped while a
//! run's test container runs and started again. The run fails at once naming the engine, and
//! when dockerd is back the run's containers and network are removed without anyone asking.
//!
//! It stops the engine every other suite uses, so it is ignored by default: scripts/test.sh runs
//! it alone, after the other suites, with SLIPWAY_TEST_RESTART_DOCKERD=1, and brings back what
//! depends on dockerd (the Kubernetes kubelet runs its pods there). SLIPWAY_TEST_DOCKERD_STOP and
//! SLIPWAY_TEST_DOCKERD_START replace the two commands (to try it on a private dockerd).

use slipway_app::pipeline::ProjectInput;
use slipway_app::{Options, Slipway};
use slipway_core::pipeline::project::Source;
use slipway_core::pipeline::run::{Status, Trigger};
use slipway_core::secrets::MemorySecretStore;
use slipway_testkit::env;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn testenv() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/testenv.sh").to_string()
}

fn sh(cmd: &str) {
    let o = Command::new("bash").arg("-c").arg(cmd).output().unwrap();
    assert!(o.status.success(), "{cmd}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
}

fn docker(args: &[&str]) -> Option<String> {
    let o = Command::new("docker").args(args).env("DOCKER_HOST", env("DOCKER_HOST")).output().ok()?;
    o.status.success().then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// Starts dockerd (and what depends on it) again however the test ends.
struct StartAgain(String);
impl Drop for StartAgain {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg("-c").arg(&self.0).status();
    }
}

#[tokio::test]
#[ignore = "restarts the shared dockerd: scripts/test.sh runs it alone with SLIPWAY_TEST_RESTART_DOCKERD=1"]
async fn dockerd_dies_mid_run_and_the_runs_containers_go_when_it_returns() {
    assert_eq!(
        std::env::var("SLIPWAY_TEST_RESTART_DOCKERD").as_deref(),
        Ok("1"),
        "this test stops the test environment's dockerd: run it alone, as scripts/test.sh does"
    );
    // SIGTERM straight to dockerd, as a crash or a service manager would stop it: its API goes
    // at once, under the running container (`testenv.sh down docker` would stop the
    // containers first, and the run would only see its test exit).
    let testenv_dir = std::env::var("TESTENV_DIR").unwrap_or_else(|_| "/tmp/slipway-testenv".into());
    let stop = std::env::var("SLIPWAY_TEST_DOCKERD_STOP").unwrap_or_else(|_| {
        format!(
            "pid=$(cat '{testenv_dir}/dockerd.pid') && kill -TERM \"$pid\" && \
             for _ in $(seq 1 300); do [ \"$(awk '{{print $3}}' /proc/$pid/stat 2>/dev/null || echo Z)\" = Z ] && exit 0; sleep 0.1; done; exit 1"
        )
    });
    let start = std::env::var("SLIPWAY_TEST_DOCKERD_START").unwrap_or_else(|_| format!("'{}' up docker k8s", testenv()));
    let data = slipway_testkit::data_dir();
    let app = Slipway::open(Options { data_dir: Some(data.path().to_path_buf()), secrets: Arc::new(MemorySecretStore::default()), ..Default::default() })
        .await
        .unwrap();
    let repo = slipway_testkit::git_repo(&[
        ("svc/Dockerfile", "FROM slipway/busybox:latest\n"),
        ("slipway.toml", "[services.svc]\ntest = \"sleep 120\"\n"),
    ]);
    let id = format!("dockerd-{}", slipway_core::secrets::random_hex(3));
    let p = app.detect_project(ProjectInput { source: Source::Path { path: repo.path().to_string_lossy().into() }, id: Some(id.clone()) }).await.unwrap();
    app.save_project(p).await.unwrap();
    let (run, handle) = app.start_run(&id, None, None, Trigger::Manual).await.unwrap();
    let label = format!("label=slipway.run={}", run.id);
    let deadline = Instant::now() + Duration::from_secs(120);
    while docker(&["ps", "-q", "--filter", &label, "--filter", "label=slipway.stage=test"]).unwrap_or_default().is_empty() {
        assert!(Instant::now() < deadline, "the test container never started");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!docker(&["network", "ls", "-q", "--filter", &label]).unwrap_or_default().is_empty(), "the run has its network");

    // dockerd stops under the running test.
    let _again = StartAgain(start.clone());
    let t = Instant::now();
    sh(&stop);
    assert!(docker(&["version"]).is_none(), "dockerd is down");
    let r = tokio::time::timeout(Duration::from_secs(60), handle).await.expect("the run ends instead of hanging").unwrap();
    let ended = t.elapsed();
    assert_eq!(r.status, Status::Failed, "{:?}", r.error);
    let e = r.stages.iter().find_map(|s| s.error.clone()).or(r.error.clone()).expect("an error");
    assert!(e.to_string().contains("Docker engine"), "{e}");

    // dockerd comes back (and with it the kubelet's pods): the run's leftovers go by themselves.
    sh(&start);
    let back = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let containers = docker(&["ps", "-aq", "--filter", &label]);
        let networks = docker(&["network", "ls", "-q", "--filter", &label]);
        if containers.as_deref() == Some("") && networks.as_deref() == Some("") {
            break;
        }
        assert!(Instant::now() < deadline, "left after dockerd came back: containers {containers:?}, networks {networks:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let cleaned = back.elapsed();
    // The Kubernetes node that runs its pods on this dockerd is Ready again.
    if let (Ok(kubectl), Ok(kc)) = (std::env::var("SLIPWAY_TEST_KUBECTL"), std::env::var("SLIPWAY_TEST_KUBECONFIG")) {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let o = Command::new(&kubectl).args(["--kubeconfig", &kc, "get", "nodes", "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Ready\")].status}"]).output().unwrap();
            if String::from_utf8_lossy(&o.stdout).trim() == "True" {
                break;
            }
            assert!(Instant::now() < deadline, "the Kubernetes node is not Ready again: {}", String::from_utf8_lossy(&o.stdout));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    // A new run works on the engine that came back.
    let (_, h) = app.start_run(&id, None, Some(slipway_core::pipeline::run::StageName::Build), Trigger::Manual).await.unwrap();
    assert_eq!(h.await.unwrap().status, Status::Succeeded);
    println!("dockerd stopped mid-run: the run failed after {ended:?} naming the engine; its containers and network were removed {cleaned:?} after dockerd came back");
}
