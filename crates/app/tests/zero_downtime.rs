//! Zero downtime, measured: a steady stream of requests through NGINX (50 a second, each on a
//! new connection, bounded in number and time, loopback only) while the app is redeployed and
//! while it is rolled back, on the test environment's Kubernetes cluster and on the local Docker
//! engine. Every request must be answered 200: the figures are printed.

use slipway_app::pipeline::ProjectInput;
use slipway_app::{Options, Slipway};
use slipway_core::deploy::*;
use slipway_core::pipeline::project::Source;
use slipway_core::pipeline::run::{Run, StageName, Status, Trigger};
use slipway_testkit::env;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const RATE_PER_SEC: u64 = 50;
const MAX_REQUESTS: u64 = 12_000;
const MAX_TIME: Duration = Duration::from_secs(240);

async fn open(dir: &Path) -> Arc<Slipway> {
    env("DBUS_SESSION_BUS_ADDRESS");
    env("DOCKER_HOST");
    Slipway::open(Options { data_dir: Some(dir.to_path_buf()), ..Default::default() }).await.unwrap()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", slipway_core::secrets::random_hex(3))
}

/// A web service (busybox httpd, 3 replicas) that says which release it is, behind NGINX.
fn repo(release: &str) -> tempfile::TempDir {
    slipway_testkit::git_repo(&[
        (
            "web/Dockerfile",
            &format!("FROM slipway/busybox:latest\nEXPOSE 8080\nCMD [\"sh\", \"-c\", \"mkdir -p /www && echo 'release {release} on '$HOSTNAME > /www/index.html && exec httpd -f -p 8080 -h /www\"]\n"),
        ),
        ("slipway.toml", "[services.web]\ntests = false\nport = 8080\nhealth_path = \"/\"\n\n[deploy]\nreplicas = 3\n"),
    ])
}

fn next_release(repo: &Path, release: &str) {
    let f = repo.join("web/Dockerfile");
    let text = std::fs::read_to_string(&f).unwrap();
    let text = text.split("release ").next().unwrap().to_string() + &format!("release {release} on '$HOSTNAME > /www/index.html && exec httpd -f -p 8080 -h /www\"]\n");
    std::fs::write(f, text).unwrap();
    slipway_testkit::git(repo, &["commit", "-qam", &format!("release {release}")]);
}

async fn add(app: &Slipway, repo: &Path, id: &str) {
    let p = app
        .detect_project(ProjectInput { source: Source::Path { path: repo.to_string_lossy().into() }, id: Some(id.into()) })
        .await
        .unwrap();
    app.save_project(p).await.unwrap();
}

async fn build(app: &Arc<Slipway>, project: &str) -> Run {
    let (_, h) = app.start_run(project, None, Some(StageName::Build), Trigger::Manual).await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(280), h).await.expect("the run ended").unwrap();
    assert_eq!(r.status, Status::Succeeded, "{:#?}", r.error);
    r
}

/// What a stream of requests saw.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
    failures: Mutex<Vec<String>>,
    releases: Mutex<std::collections::BTreeSet<String>>,
}

/// Sends GET `url` 50 times a second, each on a new connection (as many clients would), until
/// `stop` (at most MAX_REQUESTS, MAX_TIME). Loopback only.
async fn stream(url: String, stop: CancellationToken) -> Arc<Tally> {
    let u = url::Url::parse(&url).unwrap();
    assert!(matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")), "the load goes to loopback only: {url}");
    let tally = Arc::new(Tally::default());
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(5)).no_proxy().build().unwrap();
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / RATE_PER_SEC));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut inflight = tokio::task::JoinSet::new();
    let mut sent = 0u64;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        if sent >= MAX_REQUESTS || start.elapsed() > MAX_TIME {
            break;
        }
        sent += 1;
        let (client, url, tally) = (client.clone(), url.clone(), tally.clone());
        let at = start.elapsed();
        inflight.spawn(async move {
            let r = client.get(&url).header("connection", "close").send().await;
            let failure = match r {
                Ok(r) if r.status() == 200 => match r.text().await {
                    Ok(body) if body.starts_with("release ") => {
                        tally.releases.lock().unwrap().insert(body.split_whitespace().nth(1).unwrap_or("").to_string());
                        None
                    }
                    Ok(body) => Some(format!("200 with {body:?}")),
                    Err(e) => Some(format!("body: {e}")),
                },
                Ok(r) => Some(format!("HTTP {}", r.status())),
                Err(e) => Some(slipway_core::error_chain(&e)),
            };
            match failure {
                None => tally.ok.fetch_add(1, Ordering::Relaxed),
                Some(f) => {
                    tally.failures.lock().unwrap().push(format!("{:.2}s: {f}", at.as_secs_f64()));
                    tally.failed.fetch_add(1, Ordering::Relaxed)
                }
            };
        });
    }
    while inflight.join_next().await.is_some() {}
    tally
}

/// Runs `change` while the stream goes on (and 5 s more, while old replicas finish); the tally.
async fn measured<F: std::future::Future<Output = Revision>>(url: &str, change: F) -> (Revision, Arc<Tally>) {
    let stop = CancellationToken::new();
    let load = tokio::spawn(stream(url.to_string(), stop.clone()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rev = change.await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.cancel();
    (rev, load.await.unwrap())
}

fn report(what: &str, t: &Tally) -> (u64, u64) {
    let (ok, failed) = (t.ok.load(Ordering::Relaxed), t.failed.load(Ordering::Relaxed));
    let first: Vec<String> = t.failures.lock().unwrap().iter().take(10).cloned().collect();
    println!("{what}: {} requests, {failed} failed, releases answering {:?}{}", ok + failed, t.releases.lock().unwrap(), if first.is_empty() { String::new() } else { format!(", first failures {first:?}") });
    (ok, failed)
}

/// Deletes a namespace when the test ends, passed or not.
struct DeleteNamespace(String);
impl Drop for DeleteNamespace {
    fn drop(&mut self) {
        let _ = Command::new(env("SLIPWAY_TEST_KUBECTL"))
            .args(["--kubeconfig", &env("SLIPWAY_TEST_KUBECONFIG"), "delete", "namespace", &self.0, "--wait=false", "--ignore-not-found"])
            .output();
    }
}

async fn wait_serving(url: &str, release: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(r) = reqwest::Client::new().get(url).timeout(Duration::from_secs(5)).send().await {
            if r.text().await.unwrap_or_default().starts_with(&format!("release {release} ")) {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{url} never served release {release}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn no_request_fails_through_nginx_while_kubernetes_redeploys_and_rolls_back() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let r = repo("A");
    let id = unique("zdk");
    let ns = unique("zdk");
    let _ns = DeleteNamespace(ns.clone());
    add(&app, r.path(), &id).await;
    app.save_environment(Environment {
        project: id.clone(),
        name: "cluster".into(),
        target: EnvironmentTarget::Kubernetes(KubeTarget {
            kubeconfig: Some(env("SLIPWAY_TEST_KUBECONFIG")),
            namespace: Some(ns.clone()),
            progress_deadline_secs: Some(180),
            ..Default::default()
        }),
        runs: false,
    })
    .await
    .unwrap();
    build(&app, &id).await;
    let rev1 = app.deploy(Some(&id), None, None).await.unwrap();
    let url = rev1.url.clone().expect("the app's URL");
    wait_serving(&url, "A").await;

    let (rev2, redeploy) = measured(&url, async { app.redeploy(Some(&id), None).await.unwrap() }).await;
    assert_eq!((rev2.operation, rev2.status), (DeployOperation::Redeploy, RevisionStatus::Succeeded));
    let (_, redeploy_failed) = report("Kubernetes redeploy (rolling restart of 3 web replicas and NGINX)", &redeploy);

    next_release(r.path(), "B");
    let b = build(&app, &id).await;
    let rev3 = app.deploy(Some(&id), None, Some(&b.id)).await.unwrap();
    assert_eq!(rev3.status, RevisionStatus::Succeeded);
    wait_serving(&url, "B").await;

    let (rev4, rollback) = measured(&url, async { app.rollback(Some(&id), None, None, "zero-downtime test").await.unwrap() }).await;
    assert_eq!((rev4.operation, rev4.rollback_to), (DeployOperation::Rollback, Some(2)));
    wait_serving(&url, "A").await;
    let (_, rollback_failed) = report("Kubernetes rollback (release B -> A)", &rollback);
    assert!(rollback.releases.lock().unwrap().contains("A") && rollback.releases.lock().unwrap().contains("B"), "the stream saw the change");
    assert_eq!((redeploy_failed, rollback_failed), (0, 0), "requests failed during the redeploy and the rollback");
}

#[tokio::test]
async fn no_request_fails_through_nginx_while_the_local_engine_redeploys_and_rolls_back() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let r = repo("A");
    let id = unique("zdl");
    add(&app, r.path(), &id).await;
    app.save_environment(Environment { project: id.clone(), name: "local".into(), target: EnvironmentTarget::Local, runs: false }).await.unwrap();
    let cleanup = Teardown(id.clone());
    let a = build(&app, &id).await;
    let rev1 = app.deploy(Some(&id), Some("local"), Some(&a.id)).await.unwrap();
    let url = rev1.url.clone().expect("the app's URL");
    wait_serving(&url, "A").await;

    // Redeploy: the same images again, as new containers; NGINX switches to them by a reload.
    let (rev2, redeploy) = measured(&url, async { app.deploy(Some(&id), Some("local"), Some(&a.id)).await.unwrap() }).await;
    assert_eq!(rev2.status, RevisionStatus::Succeeded);
    let (_, redeploy_failed) = report("local Docker redeploy (3 new web containers, NGINX reloaded)", &redeploy);

    next_release(r.path(), "B");
    let b = build(&app, &id).await;
    app.deploy(Some(&id), Some("local"), Some(&b.id)).await.unwrap();
    wait_serving(&url, "B").await;

    // Rollback: release A's run deployed again.
    let (_, rollback) = measured(&url, async { app.deploy(Some(&id), Some("local"), Some(&a.id)).await.unwrap() }).await;
    wait_serving(&url, "A").await;
    let (_, rollback_failed) = report("local Docker rollback (release B -> A)", &rollback);
    assert!(rollback.releases.lock().unwrap().contains("B"), "the stream saw B before the switch");
    drop(cleanup);
    assert_eq!((redeploy_failed, rollback_failed), (0, 0), "requests failed during the redeploy and the rollback");
}

/// Removes the local deployment (its containers and network, by the labels the local target
/// gives them) when the test ends. The service layer's `teardown` is for Kubernetes only.
struct Teardown(String);
impl Drop for Teardown {
    fn drop(&mut self) {
        let docker = |args: &[&str]| Command::new("docker").args(args).env("DOCKER_HOST", env("DOCKER_HOST")).output();
        if let Ok(o) = docker(&["ps", "-aq", "--filter", &format!("label=slipway.deploy={}", self.0)]) {
            let ids: Vec<String> = String::from_utf8_lossy(&o.stdout).split_whitespace().map(str::to_string).collect();
            if !ids.is_empty() {
                let _ = docker(&[&["rm", "-f"][..], &ids.iter().map(String::as_str).collect::<Vec<_>>()].concat());
            }
        }
        let _ = docker(&["network", "rm", &format!("slipway-{}-local", self.0)]);
    }
}
