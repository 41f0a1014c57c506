//! Pipeline benchmark (run by `scripts/bench.sh pipeline`, not a test). Needs the test
//! environment's dockerd, registry and base images (`scripts/testenv.sh up docker registry images`).
//!
//! 1. Overhead: Slipway's run of the sample app (checkout, build, test, push) against the same
//!    work scripted with the docker CLI (scripts/bench/pipeline-by-hand.sh), on the same commit
//!    with a warm layer cache, alternating the two, median of SLIPWAY_BENCH_RUNS (default 3).
//! 2. Log streaming: a container writes 1,000,000 lines; a consumer reading the run's log the way
//!    the UI channel does checks that every line arrives once and in order. Prints lines per
//!    second, beside the engine's own rate for the same container followed with no Slipway in
//!    between, and the process's peak memory growth.

use slipway_app::pipeline::ProjectInput;
use slipway_app::{Options, Slipway};
use slipway_core::connections::RegistryConnectInput;
use slipway_core::pipeline::engine::{ContainerEngine, ContainerSpec, Labels, LogSink};
use slipway_core::pipeline::project::Source;
use slipway_core::pipeline::run::{StageName, Status, Trigger};
use slipway_core::secrets::{MemorySecretStore, Secret};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: source $TESTENV_DIR/env (scripts/bench.sh does)")
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

struct Count(AtomicU64);
impl LogSink for Count {
    fn write(&self, b: &[u8]) {
        self.0.fetch_add(
            b.iter().filter(|c| **c == b'\n').count() as u64,
            Ordering::Relaxed,
        );
    }
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("SLIPWAY_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let tmp = tempfile::tempdir().unwrap();
    let app = Slipway::open(Options {
        data_dir: Some(tmp.path().join("data")),
        secrets: Arc::new(MemorySecretStore::default()),
        ..Default::default()
    })
    .await
    .unwrap();
    let registry = env("SLIPWAY_TEST_REGISTRY");
    app.connect_registry(RegistryConnectInput {
        registry: registry.clone(),
        username: env("SLIPWAY_TEST_REGISTRY_USER"),
        password: Some(Secret::new(env("SLIPWAY_TEST_REGISTRY_PASSWORD"))),
    })
    .await
    .unwrap();

    // ---- 1. overhead against the same docker commands by hand ---------------------------------
    let sample = slipway_testkit::sample_app_repo();
    let repo = sample.path().to_path_buf();
    let commit = slipway_testkit::git_head(&repo);
    let p = app
        .detect_project(ProjectInput {
            source: Source::Path {
                path: repo.to_string_lossy().into(),
            },
            id: Some("bench".into()),
        })
        .await
        .unwrap();
    app.save_project(p).await.unwrap();
    let docker_config = tmp.path().join("docker-config");
    std::fs::create_dir_all(&docker_config).unwrap();
    let mut login = Command::new("docker")
        .args([
            "login",
            "-u",
            &env("SLIPWAY_TEST_REGISTRY_USER"),
            "--password-stdin",
            &registry,
        ])
        .env("DOCKER_CONFIG", &docker_config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        login.stdin.as_mut().unwrap(),
        env("SLIPWAY_TEST_REGISTRY_PASSWORD").as_bytes(),
    )
    .unwrap();
    drop(login.stdin.take());
    assert!(login.wait().unwrap().success(), "docker login");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench/pipeline-by-hand.sh");
    let by_hand = || {
        let t = Instant::now();
        let st = Command::new(&script)
            .args([
                repo.to_str().unwrap(),
                &commit,
                &registry,
                tmp.path().join("by-hand").to_str().unwrap(),
            ])
            .env("DOCKER_CONFIG", &docker_config)
            .status()
            .unwrap();
        assert!(st.success(), "the scripted pipeline failed");
        t.elapsed().as_secs_f64()
    };
    let slipway = || async {
        let t = Instant::now();
        let (_, h) = app
            .start_run("bench", None, Some(StageName::Push), Trigger::Manual)
            .await
            .unwrap();
        let r = h.await.unwrap();
        assert_eq!(r.status, Status::Succeeded, "{:?}", r.error);
        (t.elapsed().as_secs_f64(), r)
    };
    eprintln!("warming the layer cache (one run of each)...");
    slipway().await;
    by_hand();
    let (mut ours, mut theirs) = (vec![], vec![]);
    let mut stage_totals = std::collections::BTreeMap::<&str, Vec<f64>>::new();
    for i in 0..runs {
        let (s, r) = slipway().await;
        let h = by_hand();
        eprintln!("  pass {}: slipway {s:.2} s, by hand {h:.2} s", i + 1);
        for st in &r.stages {
            if let (Some(a), Some(b)) = (st.started_at, st.finished_at) {
                stage_totals
                    .entry(st.name.as_str())
                    .or_default()
                    .push((b - a) as f64 / 1000.0);
            }
        }
        ours.push(s);
        theirs.push(h);
    }
    let (mo, mt) = (median(ours), median(theirs));
    println!(
        "Pipeline overhead (sample app: checkout, build, test, push; warm cache; median of {runs})"
    );
    println!("  slipway run --until push    {mo:>7.2} s");
    println!("  the same docker commands    {mt:>7.2} s");
    println!(
        "  ratio                       {:>7.3}   (target <= 0.90: {})",
        mo / mt,
        if mo / mt <= 0.90 { "ok" } else { "MISSED" }
    );
    let stages: Vec<String> = stage_totals
        .iter()
        .map(|(k, v)| format!("{k} {:.2} s", median(v.clone())))
        .collect();
    println!("  slipway's stages (median)   {}", stages.join(", "));

    // ---- 2. log streaming -----------------------------------------------------------------------
    const LINES: u64 = 1_000_000;
    let logs_repo = tmp.path().join("logs");
    std::fs::create_dir_all(logs_repo.join("app")).unwrap();
    std::fs::write(
        logs_repo.join("app/Dockerfile"),
        "FROM slipway/busybox:latest\n",
    )
    .unwrap();
    std::fs::write(
        logs_repo.join("slipway.toml"),
        format!("[services.app]\ntest = \"seq 1 {LINES}; mkdir -p /reports; echo '<testsuite name=\\\"s\\\"><testcase name=\\\"t\\\"/></testsuite>' > /reports/junit.xml\"\n"),
    )
    .unwrap();
    slipway_testkit::commit_all(&logs_repo, "logs");
    let p = app
        .detect_project(ProjectInput {
            source: Source::Path {
                path: logs_repo.to_string_lossy().into(),
            },
            id: Some("logs".into()),
        })
        .await
        .unwrap();
    app.save_project(p).await.unwrap();
    // The engine's own rate: the same container followed straight from the engine.
    let engine = slipway_docker::engine::DockerEngine::connect()
        .await
        .unwrap();
    let mut labels = Labels::new();
    labels.insert("slipway.bench".into(), "logs".into());
    let spec = ContainerSpec {
        image: "slipway/busybox:latest".into(),
        cmd: Some(vec!["seq".into(), "1".into(), LINES.to_string()]),
        labels: labels.clone(),
        ..Default::default()
    };
    let t = Instant::now();
    let id = engine.run(&spec).await.unwrap();
    let count = Count(AtomicU64::new(0));
    engine.follow_logs(&id, &count).await.unwrap();
    let engine_secs = t.elapsed().as_secs_f64();
    assert_eq!(count.0.load(Ordering::Relaxed), LINES);
    engine.remove_labelled(&labels).await.unwrap();

    let base_rss = rss_kib();
    let (run, h) = app
        .start_run("logs", None, Some(StageName::Test), Trigger::Manual)
        .await
        .unwrap();
    // Wait for the test step to start, then consume its log the way the UI channel does.
    let t = Instant::now();
    loop {
        let r = app.run(&run.id).await.unwrap();
        if r.stage(StageName::Test)
            .steps
            .iter()
            .any(|s| s.name == "app")
            || r.status.is_final()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (mut next, mut partial, mut peak) = (1u64, String::new(), base_rss);
    let mut first: Option<Instant> = None;
    let mut chunks = 0u64;
    app.follow_log(&run.id, StageName::Test, "app", 0, true, &mut |c| {
        first.get_or_insert_with(Instant::now);
        chunks += 1;
        partial.push_str(&c.text);
        let complete = partial.rfind('\n').map(|i| i + 1).unwrap_or(0);
        for line in partial[..complete].lines() {
            assert_eq!(line, next.to_string(), "lines arrive once and in order");
            next += 1;
        }
        partial.drain(..complete);
        if chunks.is_multiple_of(16) {
            peak = peak.max(rss_kib());
        }
        true
    })
    .await
    .unwrap();
    let secs = t.elapsed().as_secs_f64();
    peak = peak.max(rss_kib());
    let r = h.await.unwrap();
    assert_eq!(r.status, Status::Succeeded, "{:?}", r.error);
    assert_eq!(next - 1, LINES, "every line arrived");
    let ours = LINES as f64 / secs;
    let engine_rate = LINES as f64 / engine_secs;
    println!("\nLog streaming (a container writes {LINES} lines; the consumer checks order)");
    println!("  through Slipway to the consumer   {:>9.0} lines/s  ({secs:.2} s, {chunks} chunks)   (target >= 200000)", ours);
    println!(
        "  the engine alone (docker logs -f) {:>9.0} lines/s  ({engine_secs:.2} s)",
        engine_rate
    );
    println!(
        "  ratio slipway / engine            {:>9.3}",
        ours / engine_rate
    );
    // Slipway's own path with no engine in front: a writer feeding a step log as the engine
    // does (one write per line), and a follower reading it as the UI channel does.
    let path = tmp.path().join("alone.log");
    let log = slipway_core::pipeline::logs::StepLog::create(path.clone()).unwrap();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (writer_log, writer_done) = (log.clone(), done.clone());
    let t = Instant::now();
    let writer = tokio::spawn(async move {
        for i in 1..=LINES {
            writer_log.write(format!("{i}\n").as_bytes());
            if i % 4096 == 0 {
                tokio::task::yield_now().await;
            }
        }
        writer_log.flush();
        writer_done.store(true, Ordering::SeqCst);
    });
    let (mut next_alone, mut partial) = (1u64, String::new());
    slipway_core::pipeline::logs::follow(
        &path,
        0,
        256 * 1024,
        Duration::from_millis(50),
        Some(log.subscribe()),
        &|| done.load(Ordering::SeqCst),
        &mut |text, _, _| {
            partial.push_str(&text);
            let complete = partial.rfind('\n').map(|i| i + 1).unwrap_or(0);
            for line in partial[..complete].lines() {
                assert_eq!(line, next_alone.to_string());
                next_alone += 1;
            }
            partial.drain(..complete);
            true
        },
    )
    .await
    .unwrap();
    writer.await.unwrap();
    assert_eq!(next_alone - 1, LINES);
    let alone = LINES as f64 / t.elapsed().as_secs_f64();
    println!("  Slipway's log path alone          {:>9.0} lines/s  (writer and follower in one process, no engine)", alone);
    println!("  memory: RSS {} MiB before, peak {} MiB while streaming ({:+} MiB; the log is {} MiB on disk)", base_rss / 1024, peak / 1024, (peak as i64 - base_rss as i64) / 1024, std::fs::metadata(slipway_core::pipeline::logs::step_path(&app.runs_dir(), &run.id, StageName::Test, "app")).map(|m| m.len() / 1_048_576).unwrap_or(0));
}
