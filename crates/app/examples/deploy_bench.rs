//! Deploy benchmark (run by `scripts/bench.sh deploy`, not a test). Needs the test
//! environment's dockerd, base images and Kubernetes control plane
//! (`scripts/testenv.sh up docker images k8s`).
//!
//! Redeploy wall time: Slipway's redeploy of the sample app (server-side apply of every object
//! with a new revision on the pod templates, then every rollout watched until complete) against
//! `kubectl rollout restart` of the same Deployments followed by `kubectl rollout status` for
//! each, on the same cluster and namespace, alternating which goes first, SLIPWAY_BENCH_RUNS
//! rounds (default 5). Prints every measurement, the medians and their ratio (target <= 0.80),
//! and how much of Slipway's time is spent before the rollouts start (connect, access
//! review, dry run, apply).

use slipway_app::pipeline::ProjectInput;
use slipway_app::{Options, Slipway};
use slipway_core::deploy::{Environment, EnvironmentTarget, KubeTarget};
use slipway_core::events::Event;
use slipway_core::pipeline::project::Source;
use slipway_core::pipeline::run::{StageName, Status, Trigger};
use slipway_core::secrets::MemorySecretStore;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: source $TESTENV_DIR/env (scripts/bench.sh does)")
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn kubectl(args: &[&str]) {
    let out = Command::new(env("SLIPWAY_TEST_KUBECTL"))
        .arg("--kubeconfig")
        .arg(env("SLIPWAY_TEST_KUBECONFIG"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Deletes the benchmark's namespace at the end, however it ends.
struct DeleteNamespace(String);
impl Drop for DeleteNamespace {
    fn drop(&mut self) {
        let _ = Command::new(env("SLIPWAY_TEST_KUBECTL"))
            .args([
                "--kubeconfig",
                &env("SLIPWAY_TEST_KUBECONFIG"),
                "delete",
                "namespace",
                &self.0,
                "--wait=false",
                "--ignore-not-found",
            ])
            .output();
    }
}

const WORKLOADS: [&str; 3] = ["backend", "frontend", "nginx"];

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("SLIPWAY_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let tmp = tempfile::tempdir().unwrap();
    let app = Slipway::open(Options {
        data_dir: Some(tmp.path().join("data")),
        secrets: Arc::new(MemorySecretStore::default()),
        ..Default::default()
    })
    .await
    .unwrap();
    let sample = slipway_testkit::sample_app_repo();
    let id = "deploybench";
    let ns = format!("slipway-bench-{}", slipway_core::secrets::random_hex(3));
    let _cleanup = DeleteNamespace(ns.clone());
    let p = app
        .detect_project(ProjectInput {
            source: Source::Path {
                path: sample.path().to_string_lossy().into(),
            },
            id: Some(id.into()),
        })
        .await
        .unwrap();
    app.save_project(p).await.unwrap();
    app.save_environment(Environment {
        project: id.into(),
        name: "bench".into(),
        target: EnvironmentTarget::Kubernetes(KubeTarget {
            kubeconfig: Some(env("SLIPWAY_TEST_KUBECONFIG")),
            namespace: Some(ns.clone()),
            ..Default::default()
        }),
        runs: false,
    })
    .await
    .unwrap();

    eprintln!("building the sample app's images (pipeline until build)...");
    let (_, h) = app
        .start_run(id, None, Some(StageName::Build), Trigger::Manual)
        .await
        .unwrap();
    let run = h.await.unwrap();
    assert_eq!(run.status, Status::Succeeded, "{:?}", run.error);
    let started = Instant::now();
    let first = app.deploy(Some(id), None, None).await.unwrap();
    eprintln!(
        "first deploy (namespace {ns}, sandbox MariaDB, 8 pods): {:.1} s, {}",
        started.elapsed().as_secs_f64(),
        first.url.clone().unwrap_or_default()
    );

    let mut slipway = vec![];
    let mut by_hand = vec![];
    let mut before_rollout = vec![];
    for round in 0..rounds {
        for which in if round % 2 == 0 {
            ["slipway", "kubectl"]
        } else {
            ["kubectl", "slipway"]
        } {
            if which == "slipway" {
                let mut rx = app.subscribe();
                let t = Instant::now();
                let start_ms = slipway_core::now_ms();
                let rev = app.redeploy(Some(id), None).await.unwrap();
                let secs = t.elapsed().as_secs_f64();
                let mut watching_at = None;
                while let Ok(e) = rx.try_recv() {
                    if let Event::Progress { task, message } = &e.event {
                        if task == "deploy"
                            && message.starts_with("Watching ")
                            && watching_at.is_none()
                        {
                            watching_at = Some(e.at);
                        }
                    }
                }
                let pre = watching_at
                    .map(|a| (a - start_ms) as f64 / 1000.0)
                    .unwrap_or(f64::NAN);
                eprintln!("round {}: slipway redeploy (revision {}) {secs:.2} s (before the rollouts: {pre:.2} s)", round + 1, rev.number);
                slipway.push(secs);
                before_rollout.push(pre);
            } else {
                let t = Instant::now();
                let mut restart = vec!["-n", ns.as_str(), "rollout", "restart"];
                let names: Vec<String> = WORKLOADS
                    .iter()
                    .map(|w| format!("deployment/{w}"))
                    .collect();
                restart.extend(names.iter().map(String::as_str));
                kubectl(&restart);
                for n in &names {
                    kubectl(&["-n", &ns, "rollout", "status", n, "--timeout=600s"]);
                }
                let secs = t.elapsed().as_secs_f64();
                eprintln!(
                    "round {}: kubectl rollout restart + rollout status {secs:.2} s",
                    round + 1
                );
                by_hand.push(secs);
            }
        }
    }
    let (s, k) = (median(slipway.clone()), median(by_hand.clone()));
    let ratio = s / k;
    println!();
    println!(
        "Slipway deploy benchmark ({rounds} rounds, {} cores, load {})",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("redeploy of the sample app: 3 Deployments (backend 3, frontend 3, nginx 1 replicas), readiness probes as in its manifests");
    println!("{:<58} {:>10} {:>24}", "", "median", "all (s)");
    let all = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "{:<58} {:>8.2} s {:>24}",
        "slipway redeploy (apply + watch every rollout)",
        s,
        all(&slipway)
    );
    println!(
        "{:<58} {:>8.2} s {:>24}",
        "kubectl rollout restart + kubectl rollout status (x3)",
        k,
        all(&by_hand)
    );
    println!(
        "{:<58} {:>8.2} s {:>24}",
        "(info) slipway before the rollouts start",
        median(before_rollout.clone()),
        all(&before_rollout)
    );
    println!(
        "ratio slipway / kubectl: {ratio:.3} (target <= 0.80): {}",
        if ratio <= 0.80 { "ok" } else { "MISSED" }
    );
}
