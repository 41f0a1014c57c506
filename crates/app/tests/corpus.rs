//! The real-world corpus (`tests/fixtures/repos/`): small repositories written the way public
//! ones are (compose with `.env` and env files, images with an ENTRYPOINT, database URLs,
//! schema folders, manifests in odd folders with their own NGINX, Node and PostgreSQL), each
//! committed into a fresh Git repository and run through the service layer as a user would:
//! detection (every fact with its source), the pipeline on the test environment's dockerd (the
//! JUnit counts of each suite), the local deployment answering through NGINX, and the same
//! images deployed to the test Kubernetes cluster answering through its NGINX. Bad input stops
//! with the file and line and runs nothing. No repository has a slipway.toml that makes it
//! work (two have one for an override: a coverage threshold, a test timeout).
//!
//! Every test removes its local deployment and its namespace, passed or not. The Python
//! repositories share one `requirements.txt` (byte for byte), so their `pip install` layer is
//! built once.

use slipway_app::pipeline::ProjectInput;
use slipway_app::{Options, Slipway};
use slipway_core::connections::{ConnectionState, RegistryConnectInput};
use slipway_core::deploy::{Environment, EnvironmentTarget, KubeTarget, RevisionStatus};
use slipway_core::pipeline::dburl::DbEngine;
use slipway_core::pipeline::engine::{ContainerEngine, Labels};
use slipway_core::pipeline::project::{Project, Source};
use slipway_core::pipeline::run::{Run, StageName, Status, Trigger};
use slipway_core::secrets::Secret;
use slipway_testkit::env;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn open(dir: &Path) -> Arc<Slipway> {
    env("DBUS_SESSION_BUS_ADDRESS");
    env("DOCKER_HOST");
    Slipway::open(Options { data_dir: Some(dir.to_path_buf()), ..Default::default() }).await.unwrap()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", slipway_core::secrets::random_hex(3))
}

use slipway_testkit::copy_dir;

/// A corpus repository committed into a fresh Git repository, in a folder of its own name (a
/// repository without a compose file names its service after its folder).
fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path().join(name);
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/repos").join(name), &repo);
    slipway_testkit::commit_all(&repo, "first");
    (d, repo)
}

async fn detect(app: &Slipway, repo: &Path, id: &str) -> Result<Project, slipway_core::UserError> {
    app.detect_project(ProjectInput { source: Source::Path { path: repo.to_string_lossy().into() }, id: Some(id.into()) }).await
}

/// Detects and saves the project with one replica per service (as a user would set it on the
/// Project page, to keep the suite light).
async fn add(app: &Slipway, repo: &Path, id: &str) -> Project {
    let mut p = detect(app, repo, id).await.unwrap();
    p.deploy.replicas = 1;
    app.save_project(p).await.unwrap()
}

fn fact(p: &Project, topic: &str, text: &str, source: &str) {
    assert!(
        p.facts.iter().any(|f| f.topic == topic && f.text.contains(text) && f.source.contains(source)),
        "no {topic} fact \"{text}\" from \"{source}\" in:\n{}",
        p.facts.iter().map(|f| format!("  [{}] {} ({}): {}", f.topic, f.subject, f.source, f.text)).collect::<Vec<_>>().join("\n")
    );
}

async fn run(app: &Arc<Slipway>, project: &str, until: Option<StageName>) -> Run {
    let (_, h) = app.start_run(project, None, until, Trigger::Manual).await.unwrap();
    tokio::time::timeout(Duration::from_secs(900), h).await.expect("the run ended").unwrap()
}

fn statuses(r: &Run) -> Vec<(StageName, Status)> {
    r.stages.iter().map(|s| (s.name, s.status)).collect()
}

fn succeeded(r: &Run) {
    assert_eq!(r.status, Status::Succeeded, "{:?}\n{:#?}", statuses(r), r.error);
}

/// (passed, failed, errors, skipped) of a service's JUnit report.
fn counts(r: &Run, service: &str) -> (u32, u32, u32, u32) {
    let t = r.artifacts.tests.iter().find(|t| t.service == service).unwrap_or_else(|| panic!("no report for {service}: {:?}", r.artifacts.tests));
    (t.passed, t.failed, t.errors, t.skipped)
}

/// GET `url` until it answers 200 (endpoints and DNS catch up within seconds); the body.
async fn page(url: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last: String;
    loop {
        match reqwest::Client::new().get(url).timeout(Duration::from_secs(10)).send().await {
            Ok(r) if r.status() == 200 => return r.text().await.unwrap(),
            Ok(r) => last = format!("{} {}", r.status(), r.text().await.unwrap_or_default()),
            Err(e) => last = e.to_string(),
        }
        assert!(Instant::now() < deadline, "{url} did not answer 200: {last}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn engine() -> slipway_docker::engine::DockerEngine {
    slipway_docker::engine::DockerEngine::connect().await.unwrap()
}

/// Removes a project's local deployment and a namespace when the test ends, passed or not.
struct Cleanup {
    project: String,
    namespace: Option<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(ns) = &self.namespace {
            let _ = Command::new(env("SLIPWAY_TEST_KUBECTL"))
                .args(["--kubeconfig", &env("SLIPWAY_TEST_KUBECONFIG"), "delete", "namespace", ns, "--wait=false", "--ignore-not-found"])
                .output();
        }
        let p = self.project.clone();
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async move {
                let e: Arc<dyn ContainerEngine> = Arc::new(engine().await);
                slipway_core::pipeline::local::LocalDocker::new(e).remove(&p).await.ok();
            })
        })
        .join()
        .ok();
    }
}

fn kube_env(project: &str, ns: &str, runs: bool) -> Environment {
    Environment {
        project: project.into(),
        name: "cluster".into(),
        target: EnvironmentTarget::Kubernetes(KubeTarget { kubeconfig: Some(env("SLIPWAY_TEST_KUBECONFIG")), namespace: Some(ns.into()), progress_deadline_secs: Some(180), ..Default::default() }),
        runs,
    }
}

/// Deploys a run's images to a fresh namespace of the test cluster; the app's answer through
/// the NGINX the deployment runs there.
async fn on_kubernetes(app: &Arc<Slipway>, id: &str, ns: &str, run: &Run) -> String {
    app.save_environment(kube_env(id, ns, false)).await.unwrap();
    let rev = app.deploy(Some(id), Some("cluster"), Some(&run.id)).await.unwrap_or_else(|e| panic!("deploy to Kubernetes: {e}"));
    assert_eq!(rev.status, RevisionStatus::Succeeded, "{:?}", rev.error);
    let url = rev.url.clone().expect("the app's URL in the cluster");
    page(&url).await
}

/// Runs the whole pipeline (deploying to the local engine), then the same images to
/// Kubernetes: (run, local answer, Kubernetes answer).
async fn everywhere(app: &Arc<Slipway>, id: &str, ns: &str) -> (Run, String, String) {
    let r = run(app, id, None).await;
    succeeded(&r);
    let local = page(r.artifacts.url.as_deref().expect("the local URL")).await;
    let kube = on_kubernetes(app, id, ns, &r).await;
    (r, local, kube)
}

#[tokio::test]
async fn flask_mysql_shop_entrypoint_images_database_folder_and_own_manifests_run_and_deploy() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let (_tmp, repo) = fixture("flask-mysql-shop");
    let id = unique("shop");
    let ns = unique("shop");
    let _c = Cleanup { project: id.clone(), namespace: Some(ns.clone()) };
    let p = add(&app, &repo, &id).await;

    // Detection, with the sources a person would point at.
    let names: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["backend", "frontend"], "the database's Dockerfile is not a service");
    let db = p.database.clone().expect("a database");
    assert_eq!((db.name.as_str(), db.image.as_str(), db.engine, db.database.as_str(), db.user.as_str()), ("mysql", "mysql:5.7", DbEngine::Mysql, "flaskdb", "root"));
    assert_eq!(db.scripts(), ["database/Create.sql"]);
    let urls: Vec<(&str, &str, bool)> = db.urls.iter().map(|u| (u.name.as_str(), u.scheme.as_str(), u.test)).collect();
    assert_eq!(urls, [("DATABASE_URI", "mysql+pymysql", false), ("TEST_DATABASE_URI", "mysql+pymysql", true)]);
    assert_eq!(p.deploy.entry.as_deref(), Some("frontend"));
    assert_eq!(p.deploy.entry_reason.as_deref(), Some("kubernetes-manifests/nginx.yaml line 10 proxies to it (frontend)"));
    assert_eq!(p.manifests, ["kubernetes-manifests/backend.yaml", "kubernetes-manifests/frontend.yaml", "kubernetes-manifests/nginx.yaml", "kubernetes-manifests/secrets.yaml"]);
    fact(&p, "database", "schema loaded from database/Create.sql", "database/Dockerfile line 3");
    fact(&p, "database", "DATABASE_URI is a MySQL URL (mysql+pymysql)", ".env line 2");
    fact(&p, "test", "ENTRYPOINT is [\"python3\",\"app.py\"]: its tests run with the entrypoint replaced", "backend/Dockerfile line 9");
    fact(&p, "test", "Python tests (flask_testing), run by pytest", "backend/test_app.py");
    fact(&p, "test", "pytest is not in backend/requirements.txt", "backend/requirements.txt");
    fact(&p, "service", "depends on mysql (service_healthy)", "docker-compose.yml services.backend.depends_on");
    fact(&p, "manifest", "Deployment/backend runs backend", "kubernetes-manifests/backend.yaml line 17");
    let secrets: Vec<String> = p.committed_secrets.iter().map(|c| c.message()).collect();
    for s in [
        "this repository commits a database password in .env line 1 (MYSQL_ROOT_PASSWORD)",
        "this repository commits a database URL with its password in .env line 2 (DATABASE_URI)",
        "this repository commits a secret key in .env line 4 (SECRET_KEY)",
        "this repository commits a Kubernetes Secret value in kubernetes-manifests/secrets.yaml line 7 (Secret/backend-secrets.DATABASE_URI)",
    ] {
        assert!(secrets.contains(&s.to_string()), "{s} not in {secrets:#?}");
    }
    let stored = serde_json::to_string(&p).unwrap();
    assert!(!stored.contains("shop-root-2024") && !stored.contains("change-me-in-production"), "no secret value in the project");
    // The board has a card about them.
    let board = app.board(Some(&id)).await.unwrap();
    let card = board.cards.iter().find(|c| c.title.contains("secrets")).expect("a card about the committed secrets");
    assert!(card.description.contains(".env line 1"), "{}", card.description);

    // The pipeline: tests run with the entrypoint replaced (pytest installed into the test
    // containers), the frontend's tests call the backend by its compose name, the database
    // is up with Create.sql loaded.
    let (r, local, kube) = everywhere(&app, &id, &ns).await;
    assert_eq!(counts(&r, "backend"), (3, 0, 0, 0));
    assert_eq!(counts(&r, "frontend"), (2, 0, 0, 0));
    for body in [&local, &kube] {
        assert!(body.contains("Anchor: 45.00") && body.contains("Lantern: 19.99"), "{body}");
    }
    let log = std::fs::read_to_string(d.path().join("runs").join(&r.id).join("test").join("backend.log")).unwrap();
    assert!(log.contains("installing them into this test container"), "pytest was not in the image: {log}");

    // The committed secrets move to the keychain once the user says so; the card is done and
    // the configuration says where each value comes from.
    let moved = app.move_committed_secrets(Some(&id)).await.unwrap();
    for n in ["MYSQL_ROOT_PASSWORD", "DATABASE_URI", "SECRET_KEY"] {
        assert!(moved.contains(&n.to_string()), "{moved:?}");
    }
    let view = app.config(Some(&id), Some("cluster")).await.unwrap();
    let key = view.rows.iter().find(|r| r.name == "SECRET_KEY").unwrap();
    assert_eq!((key.value.as_deref(), key.secret, key.from.as_str(), key.committed.as_deref()), (None, true, "set for all environments (keychain)", None));
    let board = app.board(Some(&id)).await.unwrap();
    let card = board.cards.iter().find(|c| c.title.contains("secrets")).unwrap();
    let done = board.board.columns.iter().find(|c| c.id == card.column).unwrap();
    assert_eq!(done.category, slipway_core::board::ColumnCategory::Done, "{:?}", done);
}

#[tokio::test]
async fn greeter_env_file_interpolation_healthcheck_and_container_name_run_and_deploy() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let (_tmp, repo) = fixture("greeter-envfile");
    let id = unique("greeter");
    let ns = unique("greeter");
    let _c = Cleanup { project: id.clone(), namespace: Some(ns.clone()) };
    let p = add(&app, &repo, &id).await;
    let names: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["api", "web"], "the docs profile is left out");
    let api = p.service("api").unwrap();
    assert_eq!(api.port, Some(5001), "long ports syntax with ${{API_PORT}} from .env");
    assert_eq!(api.command.as_deref().unwrap(), ["python", "server.py", "--port", "5001"]);
    assert_eq!(api.aliases, ["greeter-api"]);
    assert_eq!(api.env.get("GREETING").map(String::as_str), Some("Ahoy"));
    assert_eq!(api.env.get("SIGNATURE").map(String::as_str), Some("-- the greeter"));
    assert!(api.healthcheck.is_some());
    assert_eq!(p.service("web").unwrap().depends_conditions.get("api").map(String::as_str), Some("service_healthy"));
    assert!(p.database.is_none());
    assert_eq!(p.deploy.entry.as_deref(), Some("web"));
    assert_eq!(p.deploy.entry_reason.as_deref(), Some("it calls api and no service calls it"));
    fact(&p, "setting", "GREETING=Ahoy", ".env line 2");
    fact(&p, "setting", "SIGNATURE=-- the greeter", "config/api.env line 2");
    fact(&p, "setting", "API_URL=http://greeter-api:5001", "config/web.env line 1");
    fact(&p, "service", "only in the profile docs", "docker-compose.yml services.docs.profiles");
    fact(&p, "service", "also reached as greeter-api (container_name)", "docker-compose.yml services.api.container_name");

    // A value for one environment only: the cluster greets differently.
    app.save_environment(kube_env(&id, &ns, false)).await.unwrap();
    app.config_set(Some(&id), "cluster", "GREETING", slipway_app::config::ConfigInput { value: Some("Ahoy there".into()), secret: None }).await.unwrap();
    let (r, local, kube) = everywhere(&app, &id, &ns).await;
    assert_eq!(counts(&r, "api"), (3, 0, 0, 0));
    assert_eq!(counts(&r, "web"), (2, 0, 0, 0));
    assert!(local.contains("<h1>Ahoy, sailor! -- the greeter</h1>"), "{local}");
    assert!(kube.contains("<h1>Ahoy there, sailor! -- the greeter</h1>"), "{kube}");
}

#[tokio::test]
async fn notes_with_a_pymysql_url_a_mysql_image_and_a_schema_folder_run_and_deploy() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let (_tmp, repo) = fixture("notes-mysql-url");
    let id = unique("notes");
    let ns = unique("notes");
    let _c = Cleanup { project: id.clone(), namespace: Some(ns.clone()) };
    let p = add(&app, &repo, &id).await;
    let names: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["notes"]);
    let db = p.database.clone().unwrap();
    assert_eq!((db.name.as_str(), db.image.as_str(), db.database.as_str(), db.user.as_str()), ("db", "mysql:8", "notes", "notes"));
    assert_eq!(db.scripts(), ["sql/schema.sql"]);
    assert_eq!(db.urls[0].scheme, "mysql+pymysql");
    assert_eq!(db.urls[0].query, "?charset=utf8mb4");
    assert_eq!(p.deploy.entry_reason.as_deref(), Some("the only service"));
    fact(&p, "database", "schema loaded from sql/schema.sql", "the sql/ folder");
    fact(&p, "database", "SQLALCHEMY_DATABASE_URI is a MySQL URL", "docker-compose.yml line 17");
    fact(&p, "test", "Python tests (unittest), run by pytest", "tests/test_notes.py");
    let (r, local, kube) = everywhere(&app, &id, &ns).await;
    assert_eq!(counts(&r, "notes"), (2, 0, 0, 0));
    for body in [&local, &kube] {
        assert!(body.contains("<li>Buy rope</li><li>Check the tide tables</li>"), "{body}");
    }
}

#[tokio::test]
async fn a_single_service_with_a_coverage_gate_runs_and_deploys() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let (_tmp, repo) = fixture("hello-single");
    let id = unique("hello");
    let ns = unique("hello");
    let _c = Cleanup { project: id.clone(), namespace: Some(ns.clone()) };
    let p = add(&app, &repo, &id).await;
    let s = &p.services[0];
    assert_eq!((s.name.as_str(), s.port, s.coverage_min, s.health_path.as_deref()), ("hello-single", Some(8080), Some(80), Some("/healthz")));
    assert!(p.compose_file.is_none() && p.manifests.is_empty() && p.database.is_none());
    fact(&p, "test", "at least 80%", "slipway.toml line 3");
    let (r, local, kube) = everywhere(&app, &id, &ns).await;
    assert_eq!(counts(&r, "hello-single"), (3, 0, 0, 0));
    let cov = r.artifacts.coverage.iter().find(|c| c.service == "hello-single").unwrap();
    assert!(cov.line_rate >= 0.8, "{cov:?}");
    for body in [&local, &kube] {
        assert_eq!(body, "HELLO FROM A SINGLE SERVICE!");
    }
}

#[tokio::test]
async fn a_postgresql_app_runs_and_deploys() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let (_tmp, repo) = fixture("pg-todo");
    let id = unique("todo");
    let ns = unique("todo");
    let _c = Cleanup { project: id.clone(), namespace: Some(ns.clone()) };
    let p = add(&app, &repo, &id).await;
    let db = p.database.clone().unwrap();
    assert_eq!((db.engine, db.name.as_str(), db.image.as_str(), db.database.as_str(), db.user.as_str()), (DbEngine::Postgres, "postgres", "postgres:15", "todo", "todo"));
    assert_eq!(db.scripts(), ["db/01-schema.sql", "db/02-seed.sql"]);
    assert_eq!(db.urls[0].scheme, "postgresql");
    fact(&p, "database", "schema loaded from db/02-seed.sql", "docker-compose.yml services.postgres.volumes");
    assert!(p.committed_secrets.iter().any(|c| c.name == "POSTGRES_PASSWORD" && c.file == "docker-compose.yml" && c.line == 6), "{:?}", p.committed_secrets);
    let (r, local, kube) = everywhere(&app, &id, &ns).await;
    assert_eq!(counts(&r, "api"), (2, 0, 0, 0));
    for body in [&local, &kube] {
        assert_eq!(body, "1 of 2 todos left: Raise the sails");
    }
}

#[tokio::test]
async fn a_node_service_tested_by_jest_runs_and_deploys() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let (_tmp, repo) = fixture("node-stars");
    let id = unique("stars");
    let ns = unique("stars");
    let _c = Cleanup { project: id.clone(), namespace: Some(ns.clone()) };
    let p = add(&app, &repo, &id).await;
    let s = &p.services[0];
    assert_eq!((s.name.as_str(), s.language.as_deref(), s.port), ("node-stars", Some("node"), Some(3000)));
    fact(&p, "test", "npm test (jest: `jest`) with a JUnit reporter", "package.json scripts.test");
    let (r, local, kube) = everywhere(&app, &id, &ns).await;
    assert_eq!(counts(&r, "node-stars"), (3, 0, 0, 0));
    assert!(r.artifacts.coverage.iter().any(|c| c.service == "node-stars" && c.lines_valid > 0), "{:?}", r.artifacts.coverage);
    for body in [&local, &kube] {
        assert!(body.contains("Node stars: **** (4 of 5)"), "{body}");
    }
}

#[tokio::test]
async fn a_failing_test_stops_push_and_deploy() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let st = app
        .connect_registry(RegistryConnectInput {
            registry: env("SLIPWAY_TEST_REGISTRY"),
            username: env("SLIPWAY_TEST_REGISTRY_USER"),
            password: Some(Secret::new(env("SLIPWAY_TEST_REGISTRY_PASSWORD"))),
        })
        .await
        .unwrap();
    assert_eq!(st.state, ConnectionState::Connected);
    let (_tmp, repo) = fixture("failing-test");
    let id = unique("failing");
    let _c = Cleanup { project: id.clone(), namespace: None };
    add(&app, &repo, &id).await;
    let r = run(&app, &id, None).await;
    assert_eq!(r.status, Status::Failed);
    assert_eq!(statuses(&r), [(StageName::Checkout, Status::Succeeded), (StageName::Build, Status::Succeeded), (StageName::Test, Status::Failed), (StageName::Push, Status::Skipped), (StageName::Deploy, Status::Skipped)]);
    assert_eq!(counts(&r, "failing-test"), (2, 1, 0, 0));
    let e = r.stage(StageName::Test).error.clone().unwrap();
    assert!(e.why.contains("test_mean_keeps_the_fraction"), "{e}");
    assert!(r.artifacts.images.iter().all(|i| i.pushed.is_none()), "nothing pushed");
    let mut l = Labels::new();
    l.insert("slipway.deploy".into(), id.clone());
    assert!(engine().await.list(&l).await.unwrap().is_empty(), "nothing deployed");
}

#[tokio::test]
async fn a_test_that_hangs_times_out_naming_the_step_and_its_last_lines() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let (_tmp, repo) = fixture("hanging-test");
    let id = unique("hang");
    let _c = Cleanup { project: id.clone(), namespace: None };
    let p = add(&app, &repo, &id).await;
    assert_eq!(p.services[0].test_timeout_secs, Some(15));
    let started = Instant::now();
    let r = run(&app, &id, None).await;
    assert_eq!(statuses(&r)[2..], [(StageName::Test, Status::Failed), (StageName::Push, Status::Skipped), (StageName::Deploy, Status::Skipped)]);
    let e = r.stage(StageName::Test).error.clone().unwrap();
    assert_eq!(e.what, "Tests of hanging-test (step test/hanging-test) timed out");
    assert!(e.why.starts_with("it ran longer than 15 s; its last lines:"), "{e}");
    assert!(e.fix.contains("test_timeout = 30"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(600));
    let mut l = Labels::new();
    l.insert("slipway.run".into(), r.id.clone());
    assert!(engine().await.list(&l).await.unwrap().is_empty(), "the hung container is gone");
}

#[tokio::test]
async fn a_schema_with_an_sql_error_names_the_file_and_line_and_starts_nothing_else() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let (_tmp, repo) = fixture("bad-schema");
    let id = unique("badsql");
    let _c = Cleanup { project: id.clone(), namespace: None };
    let p = add(&app, &repo, &id).await;
    assert_eq!(p.database.as_ref().unwrap().scripts(), ["database/init.sql"]);
    let r = run(&app, &id, None).await;
    assert_eq!(r.status, Status::Failed);
    let test = r.stage(StageName::Test);
    let e = test.error.clone().unwrap();
    assert_eq!(e.what, "The schema of the database db has an error");
    assert!(e.why.starts_with("database/init.sql line 3: You have an error in your SQL syntax"), "{e}");
    let steps: Vec<&str> = test.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(steps, ["db"], "no service and no test was started");
}

#[tokio::test]
async fn a_manifest_image_that_matches_no_service_is_refused_before_anything_is_built() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let (_tmp, repo) = fixture("unmatched-manifest");
    let id = unique("unmatched");
    let ns = unique("unmatched");
    let _c = Cleanup { project: id.clone(), namespace: Some(ns.clone()) };
    let p = add(&app, &repo, &id).await;
    fact(&p, "warning", "acme/nightly-reports:2.3, which matches no service", "ops/cluster/workloads.yaml line 33");
    app.save_environment(kube_env(&id, &ns, true)).await.unwrap();
    let r = run(&app, &id, None).await;
    assert_eq!(statuses(&r), [(StageName::Checkout, Status::Failed), (StageName::Build, Status::Skipped), (StageName::Test, Status::Skipped), (StageName::Push, Status::Skipped), (StageName::Deploy, Status::Skipped)]);
    let e = r.stage(StageName::Checkout).error.clone().unwrap();
    assert_eq!(e.why, "ops/cluster/workloads.yaml line 33: Deployment/reports runs the image acme/nightly-reports:2.3, which matches no service (unmatched-manifest)");
    assert!(e.fix.contains("nothing was built or applied"), "{e}");
    assert!(r.artifacts.images.is_empty());
}

#[tokio::test]
async fn bad_repositories_are_refused_at_detection_with_the_file_and_line_and_nothing_is_saved() {
    let d = slipway_testkit::data_dir();
    let app = open(d.path()).await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("docker-compose.yml", "services:\n  web:\n    build: .\n    ports: [\"80\"\n"), ("Dockerfile", "FROM x\n")], "docker-compose.yml is not a valid compose file (line"),
        (&[("docker-compose.yml", "services:\n  web:\n    build: .\n    environment:\n      API_KEY: ${API_KEY?API_KEY must be set in .env}\n"), ("Dockerfile", "FROM x\n")], "docker-compose.yml line 5 requires the variable API_KEY: API_KEY must be set in .env"),
        (&[("docker-compose.yml", "services:\n  web:\n    build: .\n    env_file:\n      - ./config/web.env\n"), ("Dockerfile", "FROM x\n")], "docker-compose.yml line 5: services.web.env_file names ./config/web.env, which does not exist (config/web.env)"),
    ];
    for (files, why) in cases {
        let repo = slipway_testkit::git_repo(files);
        let e = detect(&app, repo.path(), "bad").await.unwrap_err();
        assert!(e.why.contains(why), "{why}\n{e}");
        assert_eq!(e.what, "Project detection failed");
    }
    assert!(app.projects().await.unwrap().is_empty(), "nothing saved");
}
