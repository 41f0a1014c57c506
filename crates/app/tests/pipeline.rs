//! Pipelines through the service layer, on the test environment's real dockerd and registry
//! (htpasswd auth), with the real keychain: the sample app end to end, the test gate, cancel,
//! byte-exact logs, a lost engine, bad input, and the concurrency limit. Each test runs in its
//! own process (nextest), so a test may point DOCKER_HOST somewhere else.

use slipway_app::pipeline::ProjectInput;
use slipway_app::{Options, Slipway};
use slipway_core::connections::{ConnectionState, RegistryConnectInput};
use slipway_core::events::Event;
use slipway_core::pipeline::engine::{ContainerEngine, Labels};
use slipway_core::pipeline::logs::step_path;
use slipway_core::pipeline::project::Source;
use slipway_core::pipeline::run::{Run, StageName, Status, Trigger};
use slipway_core::secrets::Secret;
use slipway_testkit::env;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn open(dir: &Path) -> Arc<Slipway> {
    env("DBUS_SESSION_BUS_ADDRESS");
    env("DOCKER_HOST");
    Slipway::open(Options {
        data_dir: Some(dir.to_path_buf()),
        ..Default::default()
    })
    .await
    .unwrap()
}

use slipway_testkit::{
    git, git_head as head, git_repo as repo, sample_app_repo as sample_repo, write_files,
};

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", slipway_core::secrets::random_hex(3))
}

async fn add(app: &Slipway, repo: &Path, id: &str) {
    let p = app
        .detect_project(ProjectInput {
            source: Source::Path {
                path: repo.to_string_lossy().into(),
            },
            id: Some(id.into()),
        })
        .await
        .unwrap();
    app.save_project(p).await.unwrap();
}

async fn connect_registry(app: &Slipway) {
    let st = app
        .connect_registry(RegistryConnectInput {
            registry: env("SLIPWAY_TEST_REGISTRY"),
            username: env("SLIPWAY_TEST_REGISTRY_USER"),
            password: Some(Secret::new(env("SLIPWAY_TEST_REGISTRY_PASSWORD"))),
        })
        .await
        .unwrap();
    assert_eq!(st.state, ConnectionState::Connected);
}

async fn registry_tags(repo: &str) -> Vec<String> {
    let r = reqwest::Client::new()
        .get(format!(
            "http://{}/v2/{repo}/tags/list",
            env("SLIPWAY_TEST_REGISTRY")
        ))
        .basic_auth(
            env("SLIPWAY_TEST_REGISTRY_USER"),
            Some(env("SLIPWAY_TEST_REGISTRY_PASSWORD")),
        )
        .send()
        .await
        .unwrap();
    if r.status() == 404 {
        return vec![];
    }
    let v: serde_json::Value = r.json().await.unwrap();
    v["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn engine() -> slipway_docker::engine::DockerEngine {
    slipway_docker::engine::DockerEngine::connect()
        .await
        .unwrap()
}

async fn containers_of_run(run: &str) -> Vec<String> {
    let mut l = Labels::new();
    l.insert("slipway.run".into(), run.into());
    engine()
        .await
        .list(&l)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect()
}

/// Removes a project's local deployment when the test ends, passed or not.
struct RemoveDeployment(String);
impl Drop for RemoveDeployment {
    fn drop(&mut self) {
        let p = self.0.clone();
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(async move {
                    let e: Arc<dyn ContainerEngine> = Arc::new(engine().await);
                    slipway_core::pipeline::local::LocalDocker::new(e)
                        .remove(&p)
                        .await
                        .ok();
                })
        })
        .join()
        .ok();
    }
}

async fn run_to_end(
    app: &Arc<Slipway>,
    project: &str,
    git_ref: Option<&str>,
    until: Option<StageName>,
) -> Run {
    let (_, h) = app
        .start_run(project, git_ref.map(str::to_string), until, Trigger::Manual)
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(600), h)
        .await
        .expect("the run ended")
        .unwrap()
}

fn statuses(r: &Run) -> Vec<(StageName, Status)> {
    r.stages.iter().map(|s| (s.name, s.status)).collect()
}

#[tokio::test]
async fn the_sample_app_goes_green_and_answers_through_nginx_with_rows_from_mysql() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    connect_registry(&app).await;
    let repo = sample_repo();
    let id = unique("green");
    let _cleanup = RemoveDeployment(id.clone());
    add(&app, repo.path(), &id).await;
    let mut events = app.subscribe();

    let r = run_to_end(&app, &id, None, None).await;
    assert_eq!(r.status, Status::Succeeded, "{:#?}", r);
    assert!(
        r.stages.iter().all(|s| s.status == Status::Succeeded),
        "{:?}",
        statuses(&r)
    );
    let sha = head(repo.path());
    assert_eq!(r.commit.as_deref(), Some(sha.as_str()));
    // The two images built at once, and the test database was started while they built.
    let build = r.stages.iter().find(|s| s.name == StageName::Build).unwrap();
    let [a, b] = &build.steps[..] else { panic!("{:?}", build.steps) };
    assert!(a.started_at <= b.finished_at && b.started_at <= a.finished_at, "the builds did not overlap: {:?}", build.steps);
    let test_log = std::fs::read_to_string(step_path(&app.runs_dir(), &r.id, StageName::Test, slipway_core::pipeline::logs::SLIPWAY_STEP)).unwrap();
    assert!(test_log.contains("The test database db was started while the images were built"), "{test_log}");
    // Test reports and coverage were collected from the containers.
    let backend = r
        .artifacts
        .tests
        .iter()
        .find(|t| t.service == "backend")
        .unwrap();
    assert!(backend.passed >= 5 && backend.failed == 0, "{backend:?}");
    assert!(r
        .artifacts
        .tests
        .iter()
        .any(|t| t.service == "frontend" && t.passed > 0));
    assert!(
        r.artifacts
            .coverage
            .iter()
            .all(|c| c.line_rate > 0.5 && c.lines_valid > 0),
        "{:?}",
        r.artifacts.coverage
    );
    // Both images were pushed; the registry has the commit's tag and the digests match.
    for img in &r.artifacts.images {
        let digest = img.digest.clone().expect("digest recorded");
        assert!(digest.starts_with("sha256:"), "{digest}");
        let repo_name = format!("{id}-{}", img.service);
        assert!(
            registry_tags(&repo_name)
                .await
                .contains(&sha[..12].to_string()),
            "{repo_name}"
        );
    }
    // The app answers through NGINX with the rows the schema put in MySQL.
    let url = r.artifacts.url.clone().expect("the deployed URL");
    let page = reqwest::get(&url).await.unwrap();
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    for row in ["anchor", "buoy", "capstan"] {
        assert!(body.contains(row), "{row} missing from {body}");
    }
    // Three replicas of each service are running; nothing of the build or test is left.
    let mut l = Labels::new();
    l.insert("slipway.deploy".into(), id.clone());
    l.insert("slipway.role".into(), "service".into());
    let replicas: Vec<_> = engine()
        .await
        .list(&l)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.running)
        .collect();
    assert_eq!(
        replicas.len(),
        6,
        "{:?}",
        replicas.iter().map(|c| &c.name).collect::<Vec<_>>()
    );
    assert!(containers_of_run(&r.id).await.is_empty());
    // The stages were reported live, in order.
    let mut order = vec![];
    while let Ok(e) = events.try_recv() {
        if let Event::RunUpdated { run } = e.event {
            for s in run.stages.iter().filter(|s| s.status == Status::Running) {
                if order.last() != Some(&s.name) {
                    order.push(s.name);
                }
            }
        }
    }
    assert_eq!(order, StageName::ALL.to_vec());
    // The run is in the store with its logs on disk.
    let stored = app.run(&r.id).await.unwrap();
    assert_eq!(stored.status, Status::Succeeded);
    assert!(
        step_path(&app.runs_dir(), &r.id, StageName::Build, "backend")
            .metadata()
            .unwrap()
            .len()
            > 0
    );

    // A re-run deploys a new revision and removes the old one; the URL stays the same.
    let (_, h) = app.rerun(&r.id).await.unwrap();
    let r2 = h.await.unwrap();
    assert_eq!(r2.status, Status::Succeeded, "{:?}", r2.error);
    assert_eq!(r2.trigger, Trigger::Rerun { of: r.id.clone() });
    assert_eq!(r2.artifacts.url.as_deref(), Some(url.as_str()));
    let names: Vec<String> = engine()
        .await
        .list(&l)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names.len(), 6);
    assert!(
        names.iter().all(|n| n.contains(&r2.id)),
        "only the new revision is left: {names:?}"
    );
    assert!(reqwest::get(&url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("anchor"));
}

#[tokio::test]
async fn a_failing_test_stops_before_push_and_nothing_new_reaches_the_registry() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    connect_registry(&app).await;
    let repo = sample_repo();
    let test_file = repo.path().join("backend/tests/test_api.py");
    let text = std::fs::read_to_string(&test_file).unwrap();
    std::fs::write(
        &test_file,
        format!("{text}\n\ndef test_this_one_fails():\n    assert 1 + 1 == 3\n"),
    )
    .unwrap();
    git(repo.path(), &["commit", "-qam", "a failing test"]);
    let id = unique("red");
    let _cleanup = RemoveDeployment(id.clone());
    add(&app, repo.path(), &id).await;

    let r = run_to_end(&app, &id, None, None).await;
    assert_eq!(r.status, Status::Failed);
    assert_eq!(
        statuses(&r),
        vec![
            (StageName::Checkout, Status::Succeeded),
            (StageName::Build, Status::Succeeded),
            (StageName::Test, Status::Failed),
            (StageName::Push, Status::Skipped),
            (StageName::Deploy, Status::Skipped)
        ]
    );
    let e = r.stage(StageName::Test).error.clone().unwrap();
    assert!(e.why.contains("test_this_one_fails"), "{e}");
    let backend = r
        .artifacts
        .tests
        .iter()
        .find(|t| t.service == "backend")
        .unwrap();
    assert_eq!(backend.failed, 1);
    let case = backend
        .cases
        .iter()
        .find(|c| c.name == "test_this_one_fails")
        .unwrap();
    assert!(
        case.message.as_deref().unwrap_or("").contains("assert"),
        "{case:?}"
    );
    for svc in ["backend", "frontend"] {
        assert!(
            registry_tags(&format!("{id}-{svc}")).await.is_empty(),
            "nothing pushed for {svc}"
        );
    }
    assert!(r
        .artifacts
        .images
        .iter()
        .all(|i| i.pushed.is_none() && i.digest.is_none()));
    assert!(r.artifacts.url.is_none());
    assert!(containers_of_run(&r.id).await.is_empty());
}

fn busybox_service(dockerfile: &str, test: &str) -> Vec<(String, String)> {
    vec![
        ("app/Dockerfile".into(), dockerfile.into()),
        (
            "slipway.toml".into(),
            format!("[services.app]\ntest = {test:?}\n"),
        ),
    ]
}

fn files(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

const JUNIT_OK: &str = "mkdir -p /reports && echo '<testsuite name=\"s\" tests=\"1\"><testcase name=\"t\"/></testsuite>' > /reports/junit.xml";

#[tokio::test]
async fn the_stored_log_equals_what_the_container_wrote_byte_for_byte() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    // 20,000 lines, stderr, then tabs, CR and multi-byte UTF-8 in a last line without a newline. (Docker's
    // json-file log driver itself turns invalid UTF-8 into U+FFFD, so only valid text can
    // round-trip byte for byte.)
    let script = format!("seq 1 20000; sleep 0.3; echo to-stderr >&2; sleep 0.3; {JUNIT_OK}; printf 'tab\\tcr\\r \\342\\202\\254 \\303\\274 and no newline'");
    let f = busybox_service("FROM slipway/busybox:latest\nCMD [\"true\"]\n", &script);
    let repo = repo(&files(&f));
    let id = unique("bytes");
    add(&app, repo.path(), &id).await;
    let r = run_to_end(&app, &id, None, Some(StageName::Test)).await;
    assert_eq!(r.status, Status::Succeeded, "{:?}", r.error);
    assert_eq!(r.stage(StageName::Push).status, Status::Skipped);
    let mut expected: Vec<u8> = (1..=20000)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect();
    expected.extend_from_slice(b"to-stderr\n");
    expected.extend_from_slice("tab\tcr\r € ü and no newline".as_bytes());
    let stored = std::fs::read(step_path(&app.runs_dir(), &r.id, StageName::Test, "app")).unwrap();
    assert_eq!(stored.len(), expected.len());
    if stored != expected {
        let at = stored
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(stored.len().min(expected.len()));
        let show = |b: &[u8]| {
            String::from_utf8_lossy(&b[at.saturating_sub(40)..(at + 40).min(b.len())]).into_owned()
        };
        panic!(
            "the stored log differs at byte {at}: stored {:?} expected {:?}",
            show(&stored),
            show(&expected)
        );
    }
    // A follower reads the same text back, in order.
    let mut text = String::new();
    app.follow_log(&r.id, StageName::Test, "app", 0, true, &mut |c| {
        text.push_str(&c.text);
        true
    })
    .await
    .unwrap();
    assert_eq!(text, String::from_utf8_lossy(&expected));
}

#[tokio::test]
async fn cancel_during_build_and_during_test_leaves_no_container_behind() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let marker = slipway_core::secrets::random_hex(4);
    // Cancel during Build: a build step that would take a minute.
    let f = busybox_service(
        &format!("FROM slipway/busybox:latest\nRUN echo {marker} && sleep 60\n"),
        JUNIT_OK,
    );
    let slow_build = repo(&files(&f));
    let id = unique("cancel-build");
    add(&app, slow_build.path(), &id).await;
    let mut events = app.subscribe();
    let (run, h) = app
        .start_run(&id, None, None, Trigger::Manual)
        .await
        .unwrap();
    wait_for_stage(&mut events, &run.id, StageName::Build).await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // the RUN step is under way
    let t = Instant::now();
    app.cancel_run(&run.id).await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(30), h)
        .await
        .expect("cancel ends the run")
        .unwrap();
    assert_eq!(r.status, Status::Cancelled);
    assert_eq!(r.stage(StageName::Build).status, Status::Cancelled);
    assert_eq!(r.stage(StageName::Deploy).status, Status::Cancelled);
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    // The engine drops the build's intermediate container once the client is gone.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = Command::new("docker")
            .args(["ps", "-a", "--no-trunc", "--format", "{{.Command}}"])
            .output()
            .unwrap();
        if !String::from_utf8_lossy(&out.stdout).contains(&marker) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the build's container is still there"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(containers_of_run(&r.id).await.is_empty());
    assert_eq!(app.run(&r.id).await.unwrap().status, Status::Cancelled);
    let e = app.cancel_run(&r.id).await.unwrap_err();
    assert_eq!(e.what, "Nothing to cancel");

    // Cancel during Test: the test container sleeps.
    let f = busybox_service("FROM slipway/busybox:latest\n", "sleep 120");
    let slow_test = repo(&files(&f));
    let id = unique("cancel-test");
    add(&app, slow_test.path(), &id).await;
    let (run, h) = app
        .start_run(&id, None, None, Trigger::Manual)
        .await
        .unwrap();
    wait_for_stage(&mut events, &run.id, StageName::Test).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while containers_of_run(&run.id).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the test container never started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.cancel_run(&run.id).await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(30), h)
        .await
        .expect("cancel ends the run")
        .unwrap();
    assert_eq!(r.status, Status::Cancelled);
    assert_eq!(r.stage(StageName::Test).status, Status::Cancelled);
    assert!(
        containers_of_run(&r.id).await.is_empty(),
        "{:?}",
        containers_of_run(&r.id).await
    );
}

async fn wait_for_stage(
    events: &mut tokio::sync::broadcast::Receiver<slipway_core::events::EventEnvelope>,
    run: &str,
    stage: StageName,
) {
    tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            if let Ok(e) = events.recv().await {
                if let Event::RunUpdated { run: r } = e.event {
                    if r.id == run && r.stage(stage).status == Status::Running {
                        return;
                    }
                }
            }
        }
    })
    .await
    .expect("the stage started");
}

#[tokio::test]
async fn the_engine_stopping_mid_run_fails_the_run_within_seconds() {
    let real = env("DOCKER_HOST");
    let cut = slipway_testkit::EngineCut::start(real.trim_start_matches("unix://"));
    // This test runs in its own process: the app reaches the engine through the cut socket.
    std::env::set_var("DOCKER_HOST", cut.docker_host());
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let f = busybox_service("FROM slipway/busybox:latest\nRUN sleep 20\n", JUNIT_OK);
    let repo = repo(&files(&f));
    let id = unique("engine-gone");
    add(&app, repo.path(), &id).await;
    let mut events = app.subscribe();
    let (run, h) = app
        .start_run(&id, None, None, Trigger::Manual)
        .await
        .unwrap();
    wait_for_stage(&mut events, &run.id, StageName::Build).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let t = Instant::now();
    cut.cut();
    let r = tokio::time::timeout(Duration::from_secs(30), h)
        .await
        .expect("the run ends instead of hanging")
        .unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(r.status, Status::Failed);
    assert_eq!(r.stage(StageName::Build).status, Status::Failed);
    assert_eq!(r.stage(StageName::Test).status, Status::Skipped);
    let e = r.stage(StageName::Build).error.clone().unwrap();
    let text = format!("{e}");
    assert!(
        text.contains("Docker engine") || text.contains(&cut.docker_host()),
        "{text}"
    );
    assert!(!e.fix.is_empty());
    // Starting a run while the engine is gone is refused at once with the same reason.
    let e = app
        .start_run(&id, None, None, Trigger::Manual)
        .await
        .unwrap_err();
    assert_eq!(e.what, "Docker engine not available");
}

#[tokio::test]
async fn bad_input_fails_its_stage_with_the_reason_and_skips_the_rest() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let f = busybox_service(
        "FROM slipway/busybox:latest\nRUN echo about to fail && false\n",
        JUNIT_OK,
    );
    let repo = repo(&files(&f));
    let id = unique("bad");
    add(&app, repo.path(), &id).await;

    // A Dockerfile that fails: the engine's message.
    let r = run_to_end(&app, &id, None, None).await;
    assert_eq!(r.stage(StageName::Build).status, Status::Failed);
    let e = r.stage(StageName::Build).error.clone().unwrap();
    assert!(
        e.what.contains("Building app failed") && e.why.contains("non-zero code"),
        "{e}"
    );
    assert_eq!(r.stage(StageName::Test).status, Status::Skipped);
    let build_log =
        std::fs::read_to_string(step_path(&app.runs_dir(), &r.id, StageName::Build, "app"))
            .unwrap();
    assert!(build_log.contains("about to fail"), "{build_log}");
    // The board got a card for the failed stage, linked to the run.
    let board = app.board(Some(&id)).await.unwrap();
    let card = board
        .cards
        .iter()
        .find(|c| c.automation_key.as_deref() == Some(format!("pipeline:{id}:build").as_str()))
        .expect("a card for the failed Build stage");
    assert!(
        card.title == format!("Build stage fails on {id}")
            && card.links.iter().any(|l| l.target == r.id),
        "{card:?}"
    );

    // A commit that does not exist.
    let r = run_to_end(&app, &id, Some("no-such-branch"), None).await;
    assert_eq!(r.stage(StageName::Checkout).status, Status::Failed);
    assert!(r
        .stage(StageName::Checkout)
        .error
        .as_ref()
        .unwrap()
        .why
        .contains("\"no-such-branch\" does not exist"));
    assert!(r.stages[1..].iter().all(|s| s.status == Status::Skipped));

    // No Dockerfile at that commit.
    std::fs::remove_file(repo.path().join("app/Dockerfile")).unwrap();
    write_files(repo.path(), &[("app/README", "no Dockerfile here\n")]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "drop the Dockerfile"]);
    let r = run_to_end(&app, &id, None, None).await;
    let e = r.stage(StageName::Build).error.clone().unwrap();
    assert_eq!(e.what, "No Dockerfile for app");
    assert!(e.why.contains("app/Dockerfile does not exist"), "{e}");

    // Tests that leave no report fail the gate even when the command exits 0.
    let f = busybox_service("FROM slipway/busybox:latest\n", "echo all good, honest");
    let repo2 = self::repo(&files(&f));
    let id2 = unique("noreport");
    add(&app, repo2.path(), &id2).await;
    let r = run_to_end(&app, &id2, None, None).await;
    let e = r.stage(StageName::Test).error.clone().unwrap();
    assert!(
        e.what.contains("left no report") && e.fix.contains("junit"),
        "{e}"
    );
    assert_eq!(r.stage(StageName::Push).status, Status::Skipped);

    // A repository that is not there.
    let mut p = app.project(&id2).await.unwrap();
    p.source = Source::Path {
        path: "/nonexistent/repository".into(),
    };
    app.save_project(p).await.unwrap();
    let r = run_to_end(&app, &id2, None, None).await;
    assert_eq!(
        r.stage(StageName::Checkout).error.as_ref().unwrap().what,
        "Repository not found"
    );
}

#[tokio::test]
async fn a_registry_that_refuses_the_push_fails_push_and_nothing_is_deployed() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    connect_registry(&app).await;
    // The password changed at the registry after connecting: the keychain now holds a stale one.
    let keychain = slipway_app::keychain::Keychain;
    slipway_core::secrets::SecretStore::put(
        &keychain,
        &app.secret_ref(slipway_core::connections::ConnectionKind::Registry),
        &Secret::new("stale"),
    )
    .unwrap();
    let f = busybox_service(
        "FROM slipway/busybox:latest\nCMD [\"sleep\", \"600\"]\n",
        JUNIT_OK,
    );
    let repo = repo(&files(&f));
    let id = unique("refused");
    let _cleanup = RemoveDeployment(id.clone());
    add(&app, repo.path(), &id).await;
    let r = run_to_end(&app, &id, None, None).await;
    assert_eq!(r.stage(StageName::Test).status, Status::Succeeded);
    assert_eq!(r.stage(StageName::Push).status, Status::Failed);
    assert_eq!(r.stage(StageName::Deploy).status, Status::Skipped);
    let e = r.stage(StageName::Push).error.clone().unwrap();
    assert!(
        e.why.contains(&env("SLIPWAY_TEST_REGISTRY")),
        "names the registry: {e}"
    );
    assert!(registry_tags(&format!("{id}-app")).await.is_empty());
    let mut l = Labels::new();
    l.insert("slipway.deploy".into(), id.clone());
    assert!(
        engine().await.list(&l).await.unwrap().is_empty(),
        "nothing deployed"
    );
}

#[tokio::test]
async fn runs_beyond_the_concurrency_limit_wait_in_the_queue() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let f = busybox_service(
        "FROM slipway/busybox:latest\n",
        &format!("sleep 2; {JUNIT_OK}"),
    );
    let repo = repo(&files(&f));
    let id = unique("queue");
    add(&app, repo.path(), &id).await;
    assert_eq!(app.project(&id).await.unwrap().concurrency, 1);
    let (_, h1) = app
        .start_run(&id, None, Some(StageName::Test), Trigger::Manual)
        .await
        .unwrap();
    let (second, h2) = app
        .start_run(&id, None, Some(StageName::Test), Trigger::Manual)
        .await
        .unwrap();
    assert_eq!(second.status, Status::Queued);
    let (r1, r2) = (h1.await.unwrap(), h2.await.unwrap());
    assert_eq!(
        (r1.status, r2.status),
        (Status::Succeeded, Status::Succeeded),
        "{:?} {:?}",
        r1.error,
        r2.error
    );
    assert!(
        r2.started_at.unwrap() >= r1.finished_at.unwrap(),
        "the second waited for the first"
    );
    let listed: Vec<String> = app
        .runs(Some(&id), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, vec![r2.id.clone(), r1.id.clone()]);
}

#[tokio::test]
async fn a_project_detected_from_a_git_url_runs_from_that_url() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let f = busybox_service("FROM slipway/busybox:latest\n", JUNIT_OK);
    let repo = repo(&files(&f));
    let url = format!("file://{}", repo.path().display());
    let p = app
        .detect_project(ProjectInput {
            source: Source::Git { url: url.clone() },
            id: None,
        })
        .await
        .unwrap();
    assert_eq!(
        p.services
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["app"]
    );
    assert_eq!(p.source, Source::Git { url: url.clone() });
    let name = repo
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        p.id,
        slipway_core::pipeline::project::id_from_name(&name),
        "the id comes from the URL's last segment"
    );
    assert!(
        std::fs::read_dir(d.path().join("work"))
            .map(|mut r| r.next().is_none())
            .unwrap_or(true),
        "the detection clone is gone"
    );
    let p = app.save_project(p).await.unwrap();
    let r = run_to_end(&app, &p.id, None, Some(StageName::Test)).await;
    assert_eq!(r.status, Status::Succeeded, "{:?}", r.error);
    assert_eq!(r.commit.as_deref(), Some(head(repo.path()).as_str()));
    let e = app
        .detect_project(ProjectInput {
            source: Source::Git {
                url: "file:///nonexistent/repo.git".into(),
            },
            id: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.what, "Checkout failed");
}
