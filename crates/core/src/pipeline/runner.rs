//! The pipeline runner: Checkout, Build, Test, Push and Deploy for one run, over the
//! [`ContainerEngine`], a [`SourceProvider`] and a [`DeployTarget`]. A failed stage skips every
//! later one, so nothing is pushed or deployed after a failed test. Everything the run creates
//! carries the label `slipway.run=<run id>`, and whatever ends the run (success, failure,
//! cancel) removes the run's build and test containers and networks.

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::config::{self, DbConn, EnvInputs};
use super::dburl::DbEngine;
use super::engine::{BuildRequest, ContainerEngine, ContainerSpec, Health, HealthCheck, Labels, LogSink, RegistryAuth};
use super::logs::{step_path, StepLog, SLIPWAY_STEP};
use super::project::{self as project_mod, DatabaseSpec, Project, ServiceSpec, Source};
use super::run::{parse_cobertura, parse_junit, Coverage, ImageArtifact, Run, StageName, Status, StepRun, TestReport};
use super::testing;
use crate::secrets::{random_hex, Secret};
use crate::UserError;

/// The commit a checkout landed on.
#[derive(Debug, Clone)]
pub struct Commit {
    pub sha: String,
    pub message: String,
    /// The committer date (ms since the epoch), when the source knows it.
    pub time: Option<i64>,
}

/// The connected Git host's token and the host it belongs to (`github.com`, or a GitHub
/// Enterprise host): a checkout sends it to that host only, and only over HTTPS.
#[derive(Debug, Clone)]
pub struct GitToken {
    pub host: String,
    pub token: Secret,
}

#[async_trait]
pub trait SourceProvider: Send + Sync {
    /// Clones (or fetches into an existing clone) `source` into `dir` and checks out `git_ref`:
    /// a branch, a tag, a commit, or "HEAD" for the default branch. Progress goes to `out`.
    async fn checkout(&self, source: &Source, git_ref: &str, dir: &Path, token: Option<&GitToken>, out: &dyn LogSink) -> Result<Commit, UserError>;
}

/// What a deploy target is given.
pub struct DeployRequest<'a> {
    pub project: &'a Project,
    pub run_id: &'a str,
    pub commit: &'a str,
    /// The images built (and pushed, when a registry is connected) by this run.
    pub images: &'a [ImageArtifact],
    /// The checked-out repository (for the database schema and manifests).
    pub repo: &'a Path,
    /// The deployment database's password (kept in the keychain by the app).
    pub db_password: Secret,
    /// The deploy environment's own configuration values (secrets from the keychain).
    pub settings: BTreeMap<String, Secret>,
}

impl DeployRequest<'_> {
    /// The settings as plain values (for building a container's environment only).
    pub fn plain_settings(&self) -> BTreeMap<String, String> {
        self.settings.iter().map(|(k, v)| (k.clone(), v.expose().to_string())).collect()
    }
}

#[derive(Debug, Clone)]
pub struct DeployOutcome {
    pub url: String,
}

#[async_trait]
pub trait DeployTarget: Send + Sync {
    /// Shown in logs and on the Deployments page: "local Docker engine", "kubernetes (ctx)".
    fn name(&self) -> String;
    /// Checks, right after Checkout and before anything is built, what would make the deploy
    /// fail for sure (a manifest whose image matches no service). Nothing runs if it fails.
    async fn preflight(&self, _project: &Project, _repo: &Path) -> Result<(), UserError> {
        Ok(())
    }
    /// Deploys, waits until healthy, and returns the app's URL. On cancel, removes what it
    /// started for this run and leaves the previous deployment serving.
    async fn deploy(&self, req: &DeployRequest<'_>, log: &StepLog, cancel: &CancellationToken) -> Result<DeployOutcome, UserError>;
}

/// Where images are pushed.
#[derive(Debug, Clone)]
pub struct RegistryTarget {
    /// `host[:port]`, e.g. `127.0.0.1:45510` or `docker.io`.
    pub server: String,
    /// Repository namespace (Docker Hub user or organisation); None pushes to the root.
    pub namespace: Option<String>,
    pub auth: Option<RegistryAuth>,
}

/// Everything a run needs besides the project.
pub struct Pipeline {
    pub engine: Arc<dyn ContainerEngine>,
    pub source: Arc<dyn SourceProvider>,
    pub target: Option<Arc<dyn DeployTarget>>,
    pub registry: Option<RegistryTarget>,
    /// Token for cloning over HTTPS from the connected GitHub host.
    pub git_token: Option<GitToken>,
    /// Logs: `<runs_dir>/<run id>/<stage>/<step>.log`.
    pub runs_dir: PathBuf,
    /// Checkouts: `<work_dir>/<project>/<run id>`.
    pub work_dir: PathBuf,
    pub db_password: Secret,
    /// How long a started dependency (database, service) may take to become ready.
    pub ready_timeout: Duration,
    /// How long a step (a build, a test suite, a push) may take unless its service sets its
    /// own `timeout` in slipway.toml.
    pub step_timeout: Duration,
    /// The configuration values of the Test stage's environment (`test`, over `all`).
    pub test_settings: BTreeMap<String, Secret>,
    /// The configuration values of the environment the Deploy stage deploys to.
    pub deploy_settings: BTreeMap<String, Secret>,
}

/// The default of [`Pipeline::step_timeout`].
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The test database's container, started while the images build, and its password.
struct EarlyDb {
    id: String,
    password: String,
}

/// What the early start of the test database runs.
struct EarlyDbSpec {
    spec: ContainerSpec,
    password: String,
    net: String,
    labels: Labels,
}

/// The services the testers call, dependencies first (compose's start order).
fn test_start_order(project: &Project) -> Vec<&ServiceSpec> {
    let mut needed: Vec<&ServiceSpec> = vec![];
    for t in project.services.iter().filter(|s| s.tests) {
        for d in project.dependencies(t) {
            if !needed.iter().any(|x| x.name == d.name) {
                needed.push(d);
            }
        }
    }
    project.start_order().into_iter().filter(|s| needed.iter().any(|n| n.name == s.name)).collect()
}

/// The database the Test stage starts: the project's, when a tested service or one it calls
/// uses it.
fn test_database(project: &Project) -> Option<&DatabaseSpec> {
    let order = test_start_order(project);
    let wants = project.services.iter().filter(|s| s.tests).chain(order.iter().copied()).any(|s| project.uses_db(s));
    project.database.as_ref().filter(|_| wants)
}

/// The test database's container: the schema loaded at its first start, reachable on the run's
/// test network by its name and aliases, healthy once it answers.
fn test_db_spec(run_id: &str, db: &DatabaseSpec, repo: &Path, net: &str, labels: &Labels, password: &str) -> Result<ContainerSpec, UserError> {
    Ok(ContainerSpec {
        name: Some(format!("slipway-{run_id}-{}", db.name)),
        image: db.image.clone(),
        env: database_container_env(db, &random_hex(12), password),
        network: Some(net.to_string()),
        aliases: std::iter::once(db.name.clone()).chain(db.aliases.iter().cloned()).collect(),
        labels: labels.clone(),
        files: schema_files(repo, db)?,
        healthcheck: Some(database_healthcheck(db.engine)),
        ..Default::default()
    })
}

/// Why a stage ended early.
enum Stop {
    Failed(UserError),
    Cancelled,
}

impl From<UserError> for Stop {
    fn from(e: UserError) -> Self {
        Stop::Failed(e)
    }
}

type Report<'a> = &'a (dyn Fn(&Run) + Send + Sync);

/// What one test suite left: its report, coverage, lines for the stage log, and the verdict.
struct SuiteResult {
    service: String,
    lines: Vec<String>,
    report: Option<super::run::TestReport>,
    coverage: Option<super::run::Coverage>,
    outcome: Result<(), UserError>,
}

fn stage_error(what: impl Into<String>, why: impl Into<String>, fix: impl Into<String>) -> Stop {
    Stop::Failed(UserError::new(what, why, fix))
}

pub fn short_sha(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// The local image name of a service: `<project>-<service>:<short sha>`.
pub fn image_name(project: &str, service: &str, sha: &str) -> String {
    format!("{project}-{service}:{}", short_sha(sha))
}

/// The environment a service gets for the database: DB_HOST, DB_PORT, DB_USER, DB_PASSWORD,
/// DB_NAME and DATABASE_URL (the engine's scheme).
pub fn database_env(db: &DatabaseSpec, host: &str, password: &str) -> BTreeMap<String, String> {
    config::connection_env(&DbConn { host: host.into(), ..DbConn::provided(db, password) })
}

/// The database container's environment (the official images' names for its engine).
pub fn database_container_env(db: &DatabaseSpec, root_password: &str, password: &str) -> BTreeMap<String, String> {
    config::database_container_env(db, root_password, password)
}

/// The database container's health check: it answers over TCP.
pub fn database_healthcheck(engine: DbEngine) -> HealthCheck {
    HealthCheck { test: vec!["CMD-SHELL".into(), config::database_ping(engine).into()], interval_ms: 500, retries: 240, ..Default::default() }
}

/// The database's scripts, as files for /docker-entrypoint-initdb.d (named so they run in the
/// project's order). A script that cannot be read is an error naming it.
pub fn schema_files(repo: &Path, db: &DatabaseSpec) -> Result<Vec<(String, Vec<u8>)>, UserError> {
    let mut out = vec![];
    for (i, f) in db.scripts().iter().enumerate() {
        let bytes = std::fs::read(super::confine::inside(repo, "the database schema", f)?).map_err(|e| {
            UserError::new("The database schema could not be read", format!("{f}: {e}"), "Fix the schema path in the compose file or slipway.toml")
        })?;
        out.push((format!("/docker-entrypoint-initdb.d/{}", testing::placed_name(i, f)), bytes));
    }
    Ok(out)
}

/// The error of a database that stopped while loading its schema: the failing script's file
/// and line in the repository when the log names them.
pub fn database_start_error(e: UserError, db: &DatabaseSpec, log_path: &Path) -> UserError {
    let log = std::fs::read(log_path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    match testing::schema_error(&log, &db.scripts()) {
        Some(at) => UserError::new(
            format!("The schema of the database {} has an error", db.name),
            at,
            "Fix the SQL at that line, commit, and run again; nothing else was started",
        ),
        None => e,
    }
}

/// A container's health check from a service's compose healthcheck.
pub fn service_healthcheck(svc: &ServiceSpec) -> Option<HealthCheck> {
    svc.healthcheck.as_ref().map(|h| HealthCheck {
        test: h.test.clone(),
        interval_ms: (h.interval_ms as u64).clamp(200, 5_000),
        retries: h.retries.max(1),
        timeout_ms: h.timeout_ms as u64,
        start_period_ms: h.start_period_ms as u64,
    })
}

/// How long a step of this service may take.
pub fn step_timeout(svc: &ServiceSpec, default: Duration) -> Duration {
    svc.timeout_secs.map(|s| Duration::from_secs(s as u64)).unwrap_or(default)
}

/// The error of a step that ran out of time: its name, its limit and its last log lines.
pub fn timeout_error(step: &str, limit: Duration, log_path: &Path, fix: &str) -> UserError {
    UserError::new(format!("{step} timed out"), format!("it ran longer than {} s; its last lines: {}", limit.as_secs(), log_tail(log_path, 8)), fix)
}

/// Waits until a container is healthy (its health check) or, without one, until `probe` passes.
/// A container that exits is an error carrying its last log lines.
pub async fn wait_ready(
    engine: &dyn ContainerEngine,
    id: &str,
    what: &str,
    log_path: &Path,
    timeout: Duration,
    cancel: &CancellationToken,
    probe: Option<(u16, Option<String>)>,
) -> Result<(), UserError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(100);
    loop {
        let st = engine.inspect(id).await?;
        if !st.running {
            return Err(UserError::new(
                format!("{what} stopped while starting"),
                format!("it exited with code {}{}: {}", st.exit_code.unwrap_or(-1), if st.oom_killed { " (out of memory)" } else { "" }, log_tail(log_path, 8)),
                "Read its log in this stage, fix the cause, and run again",
            ));
        }
        let ready = match (&st.health, &probe) {
            (Health::Healthy, _) => true,
            (Health::Unhealthy, _) => {
                return Err(UserError::new(format!("{what} is unhealthy"), format!("its health check failed: {}", log_tail(log_path, 8)), "Read its log in this stage"))
            }
            (Health::Starting, _) => false,
            (Health::None, Some((port, path))) => match st.ports.iter().find(|(c, _)| c == port) {
                Some((_, host)) => http_ok(*host, path.as_deref()).await,
                None => false,
            },
            (Health::None, None) => true,
        };
        if ready {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(UserError::new(
                format!("{what} did not become ready"),
                format!("not ready after {} s: {}", timeout.as_secs(), log_tail(log_path, 8)),
                "Check that it listens on the configured port (and its health path answers 200), then run again",
            ));
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(UserError::new("Cancelled", "the run was cancelled", "")),
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 3 / 2).min(Duration::from_millis(250));
    }
}

/// GET http://127.0.0.1:port/path (or only a TCP connect without a path): true on 2xx or 3xx.
pub async fn http_ok(port: u16, path: Option<&str>) -> bool {
    http_get(port, path.unwrap_or("/")).await.map(|(code, _)| (200..400).contains(&code)).unwrap_or(false) || (path.is_none() && tcp_open(port).await)
}

async fn tcp_open(port: u16) -> bool {
    tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(("127.0.0.1", port))).await.map(|r| r.is_ok()).unwrap_or(false)
}

/// A plain HTTP/1.0 GET on loopback: (status code, body). Enough for health checks without an
/// HTTP client in the domain.
pub async fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fut = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
        let mut buf = vec![];
        s.read_to_end(&mut buf).await?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let code = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        Ok::<_, std::io::Error>((code, body))
    };
    tokio::time::timeout(Duration::from_secs(5), fut).await.map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in 5 s"))?
}

/// A service's environment without secrets from the repository (for exports): its own values,
/// plus the database's connection when it uses the database.
pub fn service_env(project: &Project, svc: &ServiceSpec, db_host: &str, db_password: &str) -> BTreeMap<String, String> {
    let mut env = svc.env.clone();
    if let Some(db) = &project.database {
        if project.uses_db(svc) {
            env.extend(database_env(db, db_host, db_password));
            for u in db.urls.iter().filter(|u| u.service == svc.name) {
                let c = DbConn { host: db_host.into(), ..DbConn::provided(db, db_password) };
                env.insert(u.name.clone(), super::dburl::write(&u.scheme, &u.query, &c.target()));
            }
        }
    }
    env
}

/// The environment of every service for one environment, resolved before anything starts: the
/// repository's secrets at this commit (`${VAR?message}` unset is an error naming the file and
/// line), the environment's settings, the database's connection.
pub fn resolve_envs(repo: &Path, project: &Project, settings: &BTreeMap<String, Secret>, db: Option<&DbConn>, environment: &str) -> Result<BTreeMap<String, BTreeMap<String, String>>, UserError> {
    let plain: BTreeMap<String, String> = settings.iter().map(|(k, v)| (k.clone(), v.expose().to_string())).collect();
    let committed = project_mod::secret_values(repo, project, &plain)?;
    let mut out = BTreeMap::new();
    for s in &project.services {
        let inputs = EnvInputs { project, committed: &committed, settings: &plain, db, test_db: db, environment };
        out.insert(s.name.clone(), config::service_env(s, &inputs)?);
    }
    Ok(out)
}

pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let v: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = v[v.len().saturating_sub(lines)..].join(" | ");
    if tail.is_empty() {
        "(no output)".into()
    } else {
        tail
    }
}

/// Follows a container's output into a step log on a background task.
pub fn spawn_follow(engine: Arc<dyn ContainerEngine>, id: String, log: Arc<StepLog>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = engine.follow_logs(&id, log.as_ref()).await {
            tracing::debug!(error = %e, "log follow ended");
        }
        log.flush();
    })
}

impl Pipeline {
    fn labels(&self, run: &Run, stage: StageName) -> Labels {
        let mut l = Labels::new();
        l.insert("slipway.project".into(), run.project.clone());
        l.insert("slipway.run".into(), run.id.clone());
        l.insert("slipway.stage".into(), stage.as_str().into());
        l
    }

    fn run_labels(run: &Run) -> Labels {
        let mut l = Labels::new();
        l.insert("slipway.run".into(), run.id.clone());
        l
    }

    fn log(&self, run: &Run, stage: StageName, step: &str) -> Result<Arc<StepLog>, UserError> {
        StepLog::create(step_path(&self.runs_dir, &run.id, stage, step)).map_err(|e| {
            UserError::new("The run's log could not be written", format!("{}: {e}", self.runs_dir.display()), "Check the data folder's free space and permissions")
        })
    }

    /// Checkout folder of a run.
    pub fn checkout_dir(&self, run: &Run) -> PathBuf {
        self.work_dir.join(&run.project).join(&run.id)
    }

    /// Runs every stage of `run` (which must be Queued), reporting each change through
    /// `report`. Returns when the run has ended; `run.status` says how.
    pub async fn execute(&self, project: &Project, run: &mut Run, cancel: &CancellationToken, report: Report<'_>) {
        run.status = Status::Running;
        run.started_at = Some(crate::now_ms());
        report(run);
        let mut ended: Option<Status> = None;
        // The test database, started while the images build (it needs none of them).
        let mut early_db: Option<EarlyDb> = None;
        for stage in StageName::ALL {
            if let Some(end) = ended {
                let st = run.stage_mut(stage);
                st.status = if end == Status::Cancelled { Status::Cancelled } else { Status::Skipped };
                continue;
            }
            if run.until.is_some_and(|u| stage > u) {
                run.stage_mut(stage).status = Status::Skipped;
                continue;
            }
            if cancel.is_cancelled() {
                ended = Some(Status::Cancelled);
                run.stage_mut(stage).status = Status::Cancelled;
                continue;
            }
            {
                let st = run.stage_mut(stage);
                st.status = Status::Running;
                st.started_at = Some(crate::now_ms());
            }
            report(run);
            let result = match self.log(run, stage, SLIPWAY_STEP) {
                Err(e) => Err(Stop::Failed(e)),
                Ok(slog) => {
                    let early = if stage == StageName::Build { self.early_db_spec(project, run) } else { None };
                    let db_now = if stage == StageName::Test { early_db.take() } else { None };
                    let work = async {
                        let (r, db) = tokio::join!(self.stage(stage, project, run, &slog, cancel, report, db_now), self.start_early_db(early));
                        if db.is_some() {
                            early_db = db;
                        }
                        r
                    };
                    let r = tokio::select! {
                        r = work => r,
                        _ = cancel.cancelled(), if stage != StageName::Deploy => Err(Stop::Cancelled),
                    };
                    match &r {
                        Ok(status) => slog.line(format!("{} {}", stage.as_str(), status.as_str())),
                        Err(Stop::Failed(e)) => slog.line(format!("{} failed: {}: {}. {}", stage.as_str(), e.what, e.why, e.fix)),
                        Err(Stop::Cancelled) => slog.line(format!("{} cancelled", stage.as_str())),
                    }
                    r
                }
            };
            let now = crate::now_ms();
            let st = run.stage_mut(stage);
            st.finished_at = Some(now);
            match result {
                Ok(status) => st.status = status,
                Err(Stop::Failed(e)) => {
                    st.status = Status::Failed;
                    st.error = Some(e.clone());
                    run.error = Some(e);
                    ended = Some(Status::Failed);
                }
                Err(Stop::Cancelled) => {
                    st.status = Status::Cancelled;
                    ended = Some(Status::Cancelled);
                }
            }
            for step in &mut run.stage_mut(stage).steps {
                if !step.status.is_final() {
                    step.status = if ended == Some(Status::Cancelled) { Status::Cancelled } else { Status::Failed };
                    step.finished_at = Some(now);
                }
            }
            report(run);
        }
        // Whatever happened: the run's scratch containers and networks go.
        if let Err(e) = self.cleanup(run).await {
            tracing::warn!(run = %run.id, error = %e, "could not remove the run's containers");
            if run.error.is_none() && ended.is_none() {
                run.error = Some(e);
            }
        }
        run.status = ended.unwrap_or(Status::Succeeded);
        run.finished_at = Some(crate::now_ms());
        report(run);
    }

    /// Removes the build and test containers and networks of a run (never a deployment's).
    pub async fn cleanup(&self, run: &Run) -> Result<Vec<String>, UserError> {
        let mut removed = vec![];
        for stage in [StageName::Build, StageName::Test] {
            let mut l = Self::run_labels(run);
            l.insert("slipway.stage".into(), stage.as_str().into());
            removed.extend(self.engine.remove_labelled(&l).await?);
        }
        Ok(removed)
    }

    #[allow(clippy::too_many_arguments)]
    async fn stage(&self, stage: StageName, project: &Project, run: &mut Run, slog: &Arc<StepLog>, cancel: &CancellationToken, report: Report<'_>, early_db: Option<EarlyDb>) -> Result<Status, Stop> {
        match stage {
            StageName::Checkout => self.checkout(project, run, slog).await,
            StageName::Build => self.build(project, run, slog, report).await,
            StageName::Test => self.test(project, run, slog, cancel, report, early_db).await,
            StageName::Push => self.push(project, run, slog, report).await,
            StageName::Deploy => self.deploy(project, run, slog, cancel).await,
        }
    }

    fn step_start(run: &mut Run, stage: StageName, name: &str, report: Report<'_>) {
        let st = run.stage_mut(stage);
        st.steps.push(StepRun { name: name.into(), status: Status::Running, started_at: Some(crate::now_ms()), finished_at: None });
        report(run);
    }

    fn step_end(run: &mut Run, stage: StageName, name: &str, status: Status, report: Report<'_>) {
        if let Some(s) = run.stage_mut(stage).steps.iter_mut().rev().find(|s| s.name == name) {
            s.status = status;
            s.finished_at = Some(crate::now_ms());
        }
        report(run);
    }

    async fn checkout(&self, project: &Project, run: &mut Run, slog: &Arc<StepLog>) -> Result<Status, Stop> {
        let dir = self.checkout_dir(run);
        slog.line(format!("Checking out {} at {} into {}", project.source.display(), run.git_ref, dir.display()));
        let c = self.source.checkout(&project.source, &run.git_ref, &dir, self.git_token.as_ref(), slog.as_ref()).await?;
        slog.line(format!("At commit {} {}", c.sha, c.message.lines().next().unwrap_or("")));
        run.commit = Some(c.sha);
        run.commit_message = Some(c.message);
        run.commit_time = c.time;
        // What would make the deploy fail for sure is found now, before anything is built.
        if let Some(t) = &self.target {
            if run.until.is_none_or(|u| u >= StageName::Deploy) {
                t.preflight(project, &dir.join(&project.subdir)).await?;
            }
        }
        Ok(Status::Succeeded)
    }

    fn commit(run: &Run) -> Result<String, Stop> {
        run.commit.clone().ok_or_else(|| stage_error("No commit", "Checkout did not record a commit", "Run again"))
    }

    async fn build(&self, project: &Project, run: &mut Run, slog: &Arc<StepLog>, report: Report<'_>) -> Result<Status, Stop> {
        let sha = Self::commit(run)?;
        let repo = self.checkout_dir(run).join(&project.subdir);
        self.engine.ping().await?;
        // Every build context is checked before any build starts.
        let mut requests = vec![];
        for svc in &project.services {
            let context = super::confine::inside(&repo, &format!("service {}'s build context", svc.name), &svc.context)?;
            let dockerfile = super::confine::inside(&context, &format!("service {}'s Dockerfile", svc.name), &svc.dockerfile)?;
            if !dockerfile.is_file() {
                return Err(stage_error(
                    format!("No Dockerfile for {}", svc.name),
                    format!("{}/{} does not exist at commit {}", svc.context, svc.dockerfile, short_sha(&sha)),
                    "Add the Dockerfile, or fix the service's context and dockerfile on the Project page",
                ));
            }
            requests.push((svc, context));
        }
        // The images build at once (no service's image depends on another's), each with its own
        // log and time limit; the first failure ends the stage.
        let mut builds = futures::stream::FuturesUnordered::new();
        for (svc, context) in requests {
            let image = image_name(&project.id, &svc.name, &sha);
            slog.line(format!("Building {} from {}/{}", image, svc.context, svc.dockerfile));
            Self::step_start(run, StageName::Build, &svc.name, report);
            let log = self.log(run, StageName::Build, &svc.name)?;
            // Image labels are inherited by every container made from the image, so they must
            // not be the run's container labels (cleanup would then remove the deployment).
            let mut labels = Labels::new();
            labels.insert("slipway.image.project".into(), project.id.clone());
            labels.insert("slipway.image.run".into(), run.id.clone());
            labels.insert("slipway.image.commit".into(), sha.clone());
            let req = BuildRequest { context, dockerfile: svc.dockerfile.clone(), tags: vec![image.clone()], build_args: svc.build_args.clone(), labels };
            let limit = step_timeout(svc, self.step_timeout);
            builds.push(async move {
                let built = tokio::time::timeout(limit, self.engine.build(req, log.as_ref())).await;
                log.flush();
                (svc, image, limit, log, built)
            });
        }
        while let Some((svc, image, limit, log, built)) = futures::StreamExt::next(&mut builds).await {
            match built {
                Ok(Ok(id)) => {
                    slog.line(format!("Built {image} ({id})"));
                    Self::step_end(run, StageName::Build, &svc.name, Status::Succeeded, report);
                    run.artifacts.images.retain(|i| i.service != svc.name);
                    run.artifacts.images.push(ImageArtifact { service: svc.name.clone(), image, pushed: None, digest: None });
                }
                Ok(Err(e)) => {
                    Self::step_end(run, StageName::Build, &svc.name, Status::Failed, report);
                    return Err(Stop::Failed(UserError::new(format!("Building {} failed", svc.name), e.why, e.fix)));
                }
                Err(_) => {
                    Self::step_end(run, StageName::Build, &svc.name, Status::Failed, report);
                    return Err(Stop::Failed(timeout_error(
                        &format!("Building {} (step build/{})", svc.name, svc.name),
                        limit,
                        log.path(),
                        &format!("Look at the step's log for the command that hangs, or give {} more time: `timeout = {}` under [services.{}] in slipway.toml", svc.name, limit.as_secs() * 2, svc.name),
                    )));
                }
            }
        }
        // Images in the services' order, whatever order their builds ended in.
        run.artifacts.images.sort_by_key(|i| project.services.iter().position(|s| s.name == i.service));
        Ok(Status::Succeeded)
    }

    fn image_of(run: &Run, service: &str) -> Result<String, Stop> {
        run.artifacts.images.iter().find(|i| i.service == service).map(|i| i.image.clone()).ok_or_else(|| {
            stage_error(format!("No image for {service}"), "the Build stage did not produce one", "Run the whole pipeline again")
        })
    }

    /// Starts one service for the tests that call it, as compose starts it: its command,
    /// entrypoint, environment, health check and every name it is reached by; then waits until
    /// it is ready (its health check, else its port, within its timeout).
    #[allow(clippy::too_many_arguments)]
    async fn start_service(&self, run: &mut Run, svc: &ServiceSpec, env: BTreeMap<String, String>, net: &str, labels: &Labels, cancel: &CancellationToken, report: Report<'_>, slog: &Arc<StepLog>) -> Result<(), Stop> {
        let step = format!("{}-service", svc.name);
        slog.line(format!("Starting {} for the tests that call it", svc.name));
        Self::step_start(run, StageName::Test, &step, report);
        let log = self.log(run, StageName::Test, &step)?;
        let spec = ContainerSpec {
            name: Some(format!("slipway-{}-{}", run.id, svc.name)),
            image: Self::image_of(run, &svc.name)?,
            cmd: svc.command.clone(),
            entrypoint: svc.entrypoint.clone(),
            env,
            network: Some(net.to_string()),
            aliases: svc.names(),
            publish: svc.port.map(|p| vec![(p, 0)]).unwrap_or_default(),
            labels: labels.clone(),
            healthcheck: service_healthcheck(svc),
            ..Default::default()
        };
        let id = self.engine.run(&spec).await?;
        spawn_follow(self.engine.clone(), id.clone(), log.clone());
        let probe = if svc.healthcheck.is_some() { None } else { svc.port.map(|p| (p, svc.health_path.clone())) };
        let limit = step_timeout(svc, self.ready_timeout);
        wait_ready(self.engine.as_ref(), &id, &format!("Service {} (step test/{step})", svc.name), log.path(), limit, cancel, probe).await.map_err(|e| {
            Self::step_end(run, StageName::Test, &step, Status::Failed, report);
            Stop::Failed(e)
        })?;
        slog.line(format!("{} is ready", svc.name));
        Self::step_end(run, StageName::Test, &step, Status::Succeeded, report);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn test(&self, project: &Project, run: &mut Run, slog: &Arc<StepLog>, cancel: &CancellationToken, report: Report<'_>, early_db: Option<EarlyDb>) -> Result<Status, Stop> {
        let testers: Vec<&ServiceSpec> = project.services.iter().filter(|s| s.tests).collect();
        if testers.is_empty() {
            slog.line("No service has tests (tests = false for every one)");
            return Ok(Status::Skipped);
        }
        if let Some(s) = testers.iter().find(|s| s.test_command.is_none()) {
            return Err(stage_error(
                format!("{} has no test command", s.name),
                "no test command was detected or set, and a run without tests cannot pass the test gate",
                format!("Set `test = \"...\"` for {} in slipway.toml or on the Project page, or `tests = false` to skip it knowingly", s.name),
            ));
        }
        let repo = self.checkout_dir(run).join(&project.subdir);
        // Everything the containers get is worked out before any starts: a missing value or
        // an unset `${VAR?message}` stops here, with nothing running.
        let db_password = early_db.as_ref().map(|e| e.password.clone()).unwrap_or_else(|| random_hex(12));
        let conn = project.database.as_ref().map(|db| DbConn::provided(db, &db_password));
        let envs = resolve_envs(&repo, project, &self.test_settings, conn.as_ref(), config::TEST_ENV)?;
        let labels = self.labels(run, StageName::Test);
        let net = format!("slipway-{}-test", run.id);
        self.engine.create_network(&net, &labels).await?;
        let order = test_start_order(project);
        // The database, when anything started here uses it, with its schema loaded.
        if let Some(db) = test_database(project) {
            slog.line(format!("Starting the test database {} ({} {}), loading {}", db.name, db.engine.as_str(), db.image, if db.scripts().is_empty() { "no schema".to_string() } else { db.scripts().join(", ") }));
            Self::step_start(run, StageName::Test, &db.name, report);
            let log = self.log(run, StageName::Test, &db.name)?;
            let id = match early_db {
                Some(e) => {
                    slog.line(format!("The test database {} was started while the images were built", db.name));
                    e.id
                }
                None => self.engine.run(&test_db_spec(&run.id, db, &repo, &net, &labels, &db_password)?).await?,
            };
            let follower = spawn_follow(self.engine.clone(), id.clone(), log.clone());
            if let Err(e) = wait_ready(self.engine.as_ref(), &id, &format!("The test database {} (step test/{})", db.name, db.name), log.path(), self.ready_timeout, cancel, None).await {
                let _ = tokio::time::timeout(Duration::from_secs(2), follower).await;
                Self::step_end(run, StageName::Test, &db.name, Status::Failed, report);
                return Err(Stop::Failed(database_start_error(e, db, log.path())));
            }
            slog.line(format!("Database {} is ready", db.name));
            Self::step_end(run, StageName::Test, &db.name, Status::Succeeded, report);
        }
        for dep in order {
            let env = envs.get(&dep.name).cloned().unwrap_or_default();
            self.start_service(run, dep, env, &net, &labels, cancel, report, slog).await?;
        }
        // The test suites, all at once (each in its own one-off container with the entrypoint
        // replaced by the test command, each with its own log and reports folder).
        let mut suites = vec![];
        for svc in testers {
            let cmd = svc.test_command.clone().unwrap_or_default();
            slog.line(format!("Testing {}: {}", svc.name, cmd.join(" ")));
            let log = self.log(run, StageName::Test, &svc.name)?;
            let reports = self.runs_dir.join(&run.id).join(StageName::Test.as_str()).join(format!("{}.reports", svc.name));
            std::fs::create_dir_all(&reports).and_then(|_| {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&reports, std::fs::Permissions::from_mode(0o777))
            }).map_err(|e| UserError::new("The test reports folder could not be made", format!("{}: {e}", reports.display()), "Check the data folder's free space and permissions"))?;
            let mut env = envs.get(&svc.name).cloned().unwrap_or_default();
            env.insert("CI".into(), "true".into());
            let spec = ContainerSpec {
                name: Some(format!("slipway-{}-test-{}", run.id, svc.name)),
                image: Self::image_of(run, &svc.name)?,
                entrypoint: Some(cmd),
                cmd: None,
                env,
                network: Some(net.clone()),
                mounts: vec![(reports.to_string_lossy().into_owned(), "/reports".into())],
                labels: {
                    let mut l = labels.clone();
                    l.insert("slipway.step".into(), svc.name.clone());
                    l
                },
                ..Default::default()
            };
            Self::step_start(run, StageName::Test, &svc.name, report);
            suites.push(self.test_suite(svc, spec, log, reports));
        }
        let mut pending: futures::stream::FuturesUnordered<_> = suites.into_iter().collect();
        let mut failures = vec![];
        while let Some(done) = futures::StreamExt::next(&mut pending).await {
            let SuiteResult { service, lines, report: tests, coverage, outcome } = done?;
            for l in lines {
                slog.line(l);
            }
            if let Some(c) = coverage {
                run.artifacts.coverage.push(c);
            }
            if let Some(t) = tests {
                run.artifacts.tests.push(t);
            }
            match outcome {
                Ok(()) => Self::step_end(run, StageName::Test, &service, Status::Succeeded, report),
                Err(e) => {
                    Self::step_end(run, StageName::Test, &service, Status::Failed, report);
                    failures.push(e);
                }
            }
        }
        let mut l = Self::run_labels(run);
        l.insert("slipway.stage".into(), StageName::Test.as_str().into());
        self.engine.remove_labelled(&l).await?;
        match failures.len() {
            0 => Ok(Status::Succeeded),
            1 => Err(Stop::Failed(failures.remove(0))),
            _ => Err(Stop::Failed(UserError::new(
                "Tests failed",
                failures.iter().map(|e| format!("{}: {}", e.what, e.why)).collect::<Vec<_>>().join("; "),
                failures[0].fix.clone(),
            ))),
        }
    }

    /// What the test database's early start needs, worked out before the Build stage: None when
    /// this run will not test against a database (no tests, no database, or it stops before
    /// Test), or when its spec cannot be made (the Test stage then reports why).
    fn early_db_spec(&self, project: &Project, run: &Run) -> Option<EarlyDbSpec> {
        if run.until.is_some_and(|u| u < StageName::Test) {
            return None;
        }
        let db = test_database(project)?;
        let password = random_hex(12);
        let labels = self.labels(run, StageName::Test);
        let net = format!("slipway-{}-test", run.id);
        let repo = self.checkout_dir(run).join(&project.subdir);
        let spec = test_db_spec(&run.id, db, &repo, &net, &labels, &password).ok()?;
        Some(EarlyDbSpec { spec, password, net, labels })
    }

    /// Starts the test database (its network, its image pulled if missing, its container)
    /// without waiting for it to be ready. None when anything fails: the Test stage then starts
    /// it itself and reports the error where the user looks for it.
    async fn start_early_db(&self, early: Option<EarlyDbSpec>) -> Option<EarlyDb> {
        let e = early?;
        self.engine.create_network(&e.net, &e.labels).await.ok()?;
        match self.engine.run(&e.spec).await {
            Ok(id) => Some(EarlyDb { id, password: e.password }),
            Err(err) => {
                tracing::info!(error = %err, "the test database's early start failed; the Test stage starts it");
                None
            }
        }
    }

    /// Runs one service's test container to its end (or its timeout) and reads its reports
    /// from the folder mounted at /reports.
    async fn test_suite(&self, svc: &ServiceSpec, spec: ContainerSpec, log: Arc<StepLog>, reports: PathBuf) -> Result<SuiteResult, UserError> {
        let service = svc.name.clone();
        let id = self.engine.run(&spec).await?;
        let follower = spawn_follow(self.engine.clone(), id.clone(), log.clone());
        let limit = svc.test_timeout_secs.map(|s| Duration::from_secs(s as u64)).unwrap_or_else(|| step_timeout(svc, self.step_timeout));
        let code = match tokio::time::timeout(limit, self.engine.wait(&id)).await {
            Ok(code) => code?,
            Err(_) => {
                // Stop it (by its own labels): its log ends, and the step fails with its
                // last lines.
                let _ = tokio::time::timeout(Duration::from_secs(30), self.engine.remove_labelled(&spec.labels)).await;
                let _ = tokio::time::timeout(Duration::from_secs(3), follower).await;
                log.flush();
                return Ok(SuiteResult {
                    service: service.clone(),
                    lines: vec![format!("{service}: the tests ran longer than {} s and were stopped", limit.as_secs())],
                    report: None,
                    coverage: None,
                    outcome: Err(timeout_error(
                        &format!("Tests of {service} (step test/{service})"),
                        limit,
                        log.path(),
                        &format!("Find the test that hangs (its log is in this step), or give {service} more time: `test_timeout = {}` under [services.{service}] in slipway.toml", limit.as_secs() * 2),
                    )),
                });
            }
        };
        let _ = follower.await;
        let read = |name: &str| std::fs::read(reports.join(name)).ok();
        let mut lines = vec![];
        let mut coverage: Option<Coverage> = None;
        if let Some(xml) = read("coverage.xml").or_else(|| read("cobertura-coverage.xml")) {
            match parse_cobertura(&service, &xml) {
                Ok(c) => coverage = Some(c),
                Err(e) => lines.push(format!("{service}: {}: {}", e.what, e.why)),
            }
        } else if let Some(p) = read("cover.out") {
            coverage = testing::go_coverage(&service, &p);
        }
        if let Some(c) = &coverage {
            lines.push(format!("{service}: coverage {:.1}% ({} of {} lines)", c.line_rate * 100.0, c.lines_covered, c.lines_valid));
        }
        let parsed: Option<Result<TestReport, UserError>> = match (read("junit.xml"), read("go-test.json")) {
            (Some(xml), _) => Some(parse_junit(&service, &xml)),
            (None, Some(json)) => Some(testing::go_test_report(&service, &json)),
            (None, None) => None,
        };
        let mut report = None;
        let outcome = match parsed {
            None => Err(UserError::new(
                format!("Tests of {service} left no report"),
                format!("the test command exited with code {code} and wrote no /reports/junit.xml: {}", log_tail(log.path(), 5)),
                "Make the test command write JUnit XML to /reports/junit.xml (pytest: --junitxml=/reports/junit.xml); a run without a report never passes",
            )),
            Some(Err(e)) => Err(e),
            Some(Ok(r)) => {
                lines.push(format!("{service}: {} passed, {} failed, {} errors, {} skipped (exit code {code})", r.passed, r.failed, r.errors, r.skipped));
                let bad: Vec<String> = r.cases.iter().filter(|c| c.outcome == "failed" || c.outcome == "error").map(|c| c.name.clone()).collect();
                let (total, ran_none) = (r.total, r.total == 0);
                report = Some(r);
                if !bad.is_empty() {
                    Err(UserError::new(
                        format!("Tests of {service} failed"),
                        format!("{} of {} failed: {}", bad.len(), total, bad.join(", ")),
                        "Read the failures in the test results, fix them, and push a new commit",
                    ))
                } else if code != 0 {
                    Err(UserError::new(format!("Tests of {service} failed"), format!("the test command exited with code {code}: {}", log_tail(log.path(), 5)), "Read the test log of this stage"))
                } else if ran_none {
                    Err(UserError::new(format!("Tests of {service} ran nothing"), "the report lists no test", "Check the test command and that the tests are in the image"))
                } else {
                    testing::coverage_gate(&service, svc.coverage_min, coverage.as_ref())
                }
            }
        };
        Ok(SuiteResult { service, lines, report, coverage, outcome })
    }

    async fn push(&self, project: &Project, run: &mut Run, slog: &Arc<StepLog>, report: Report<'_>) -> Result<Status, Stop> {
        let Some(reg) = &self.registry else {
            slog.line("No container registry is connected: the images stay on this machine's engine (connect one on the Connect page to push)");
            return Ok(Status::Skipped);
        };
        let sha = Self::commit(run)?;
        for svc in &project.services {
            let local = Self::image_of(run, &svc.name)?;
            let repo = match &reg.namespace {
                Some(ns) => format!("{}/{ns}/{}-{}", reg.server, project.id, svc.name),
                None => format!("{}/{}-{}", reg.server, project.id, svc.name),
            };
            let target = format!("{repo}:{}", short_sha(&sha));
            slog.line(format!("Pushing {target}"));
            Self::step_start(run, StageName::Push, &svc.name, report);
            let log = self.log(run, StageName::Push, &svc.name)?;
            self.engine.tag(&local, &target).await?;
            let limit = step_timeout(svc, self.step_timeout);
            let pushed = match tokio::time::timeout(limit, self.engine.push(&target, reg.auth.as_ref(), log.as_ref())).await {
                Ok(p) => p,
                Err(_) => Err(timeout_error(&format!("Pushing {} (step push/{})", svc.name, svc.name), limit, log.path(), "Check the registry's address and the network, then run again")),
            };
            log.flush();
            match pushed {
                Ok(digest) => {
                    slog.line(format!("Pushed {target}@{digest}"));
                    if let Some(a) = run.artifacts.images.iter_mut().find(|i| i.service == svc.name) {
                        a.pushed = Some(target);
                        a.digest = Some(digest);
                    }
                    Self::step_end(run, StageName::Push, &svc.name, Status::Succeeded, report);
                }
                Err(e) => {
                    Self::step_end(run, StageName::Push, &svc.name, Status::Failed, report);
                    return Err(Stop::Failed(e));
                }
            }
        }
        Ok(Status::Succeeded)
    }

    async fn deploy(&self, project: &Project, run: &mut Run, slog: &Arc<StepLog>, cancel: &CancellationToken) -> Result<Status, Stop> {
        let Some(target) = &self.target else {
            slog.line("No deploy target is set for this project");
            return Ok(Status::Skipped);
        };
        let sha = Self::commit(run)?;
        let repo = self.checkout_dir(run).join(&project.subdir);
        slog.line(format!("Deploying to the {}", target.name()));
        let images = run.artifacts.images.clone();
        let req = DeployRequest { project, run_id: &run.id, commit: &sha, images: &images, repo: &repo, db_password: self.db_password.clone(), settings: self.deploy_settings.clone() };
        match target.deploy(&req, slog, cancel).await {
            Ok(out) => {
                slog.line(format!("The app answers at {}", out.url));
                run.artifacts.url = Some(out.url);
                Ok(Status::Succeeded)
            }
            Err(_) if cancel.is_cancelled() => Err(Stop::Cancelled),
            Err(e) => Err(Stop::Failed(e)),
        }
    }
}
