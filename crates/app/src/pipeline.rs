//! Projects and pipeline runs as the front ends see them: detect and save a project, start,
//! cancel and re-run runs (with a concurrency limit per project), list them, and follow their
//! logs. Runs execute on the core runner with the Docker engine, git2 checkout, the connected
//! registry, and the local Docker deploy target.

use slipway_core::connections::ConnectionKind;
use slipway_core::events::Event;
use slipway_core::pipeline::engine::{ContainerEngine, RegistryAuth};
use slipway_core::pipeline::logs::{self, LogChunk};
use slipway_core::pipeline::project::{self, Project, Source};
use slipway_core::pipeline::run::{Run, StageName, Status, Trigger};
use slipway_core::pipeline::runner::{GitToken, Pipeline, RegistryTarget, SourceProvider};
use slipway_core::secrets::{random_hex, Secret, SecretRef};
use slipway_core::UserError;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::Slipway;

/// The store key of the runs whose containers are left to remove (the engine was away).
const PENDING_CLEANUPS: &str = "pending-cleanups";

/// Runs under way in this process, and each project's concurrency slots.
#[derive(Default)]
pub struct Runs {
    active: Mutex<HashMap<String, CancellationToken>>,
    slots: Mutex<HashMap<String, (u32, Arc<Semaphore>)>>,
}

/// What the Project page or `slipway project add` gives.
#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProjectInput {
    pub source: Source,
    /// The project id; None derives it from the folder or repository name.
    pub id: Option<String>,
}

fn not_found(what: &str, id: &str, fix: &str) -> UserError {
    UserError::new(
        format!("{what} not found"),
        format!("there is no {} \"{id}\"", what.to_lowercase()),
        fix,
    )
}

/// Does a process with this id exist? (Signal 0 on Unix, which macOS has without /proc; on
/// Windows, `tasklist`.)
fn pid_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = i32::try_from(pid) else { return false };
        // SAFETY: signal 0 only checks that the process exists; EPERM means it does.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(windows)]
    {
        std::process::Command::new("tasklist")
            .args(["/FI", &format!("PID eq {pid}"), "/NH", "/FO", "CSV"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("\"{pid}\"")))
            .unwrap_or(false)
    }
}

impl Slipway {
    pub fn runs_dir(&self) -> PathBuf {
        self.data_dir.join("runs")
    }

    fn work_dir(&self) -> PathBuf {
        self.data_dir.join("work")
    }

    /// Detects a project from a local repository folder (its working tree) or a Git URL (a
    /// shallow look through a fresh clone). Nothing is saved.
    pub async fn detect_project(&self, input: ProjectInput) -> Result<Project, UserError> {
        let (root, _tmp) = match &input.source {
            Source::Path { path } => {
                let p = PathBuf::from(path);
                if !p.is_dir() {
                    return Err(UserError::new(
                        "Project detection failed",
                        format!("{path} is not a folder"),
                        "Check the repository path",
                    ));
                }
                (p, None)
            }
            Source::Git { url } => {
                if let Some(why) = slipway_core::pipeline::confine::git_url_problem(url) {
                    return Err(UserError::new(
                        "Project detection failed",
                        why,
                        "Use the repository's https:// (or ssh://) URL without credentials; the connected GitHub token is used to clone",
                    ));
                }
                let dir = self.work_dir().join(format!("detect-{}", random_hex(6)));
                let token = self.git_token_if_connected().await;
                slipway_git_host::checkout::Git
                    .checkout(
                        &input.source,
                        "HEAD",
                        &dir,
                        token.as_ref(),
                        &slipway_core::pipeline::engine::NoLog,
                    )
                    .await?;
                (dir.clone(), Some(TempDir(dir)))
            }
        };
        let id = match input.id.filter(|s| !s.trim().is_empty()) {
            Some(id) => id.trim().to_string(),
            None => {
                let name = match &input.source {
                    Source::Path { path } => PathBuf::from(path)
                        .canonicalize()
                        .ok()
                        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                        .unwrap_or_default(),
                    Source::Git { url } => url
                        .trim_end_matches('/')
                        .rsplit(['/', ':'])
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                };
                project::id_from_name(&name)
            }
        };
        let mut p = project::detect(&root, &id, input.source.clone())?;
        // A folder inside a repository (like examples/sample-app here): the run clones the
        // repository and works in that folder.
        if let Source::Path { path } = &input.source {
            let abs = PathBuf::from(path)
                .canonicalize()
                .unwrap_or_else(|_| PathBuf::from(path));
            if let Some(root) = slipway_git_host::checkout::repo_root(&abs) {
                if let Ok(rel) = abs.strip_prefix(&root) {
                    p.subdir = rel.to_string_lossy().replace('\\', "/");
                    p.source = Source::Path {
                        path: root.to_string_lossy().into_owned(),
                    };
                }
            }
        }
        p.validate()?;
        Ok(p)
    }

    /// Validates and saves a project (new, or edited on the Project page).
    pub async fn save_project(&self, p: Project) -> Result<Project, UserError> {
        p.validate()?;
        self.store.save_project(&p).await?;
        if !p.committed_secrets.is_empty() {
            self.board_committed_secrets(&p.id, &p.committed_secrets, false).await;
        }
        Ok(p)
    }

    pub async fn projects(&self) -> Result<Vec<Project>, UserError> {
        Ok(self.store.projects().await?)
    }

    pub async fn project(&self, id: &str) -> Result<Project, UserError> {
        self.store
            .projects()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| {
                not_found(
                    "Project",
                    id,
                    "Add it first (Project page, or `slipway project add PATH`)",
                )
            })
    }

    /// The project to use when none is named: the only one there is.
    pub async fn default_project(&self) -> Result<Project, UserError> {
        let mut all = self.store.projects().await?;
        match all.len() {
            1 => Ok(all.remove(0)),
            0 => Err(UserError::new(
                "No project",
                "no project has been added yet",
                "Add one: `slipway project add PATH` or the Project page",
            )),
            _ => Err(UserError::new(
                "Which project?",
                format!(
                    "there are {} projects: {}",
                    all.len(),
                    all.iter()
                        .map(|p| p.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "Name one with --project",
            )),
        }
    }

    pub async fn runs(&self, project: Option<&str>, limit: u32) -> Result<Vec<Run>, UserError> {
        Ok(self.store.runs(project, limit).await?)
    }

    pub async fn run(&self, id: &str) -> Result<Run, UserError> {
        self.store.run(id).await?.ok_or_else(|| {
            not_found(
                "Run",
                id,
                "List the runs with `slipway runs` or on the Pipelines page",
            )
        })
    }

    /// The connected GitHub token and its host (github.com, or the Enterprise host): a
    /// checkout sends it there only, over HTTPS.
    pub(crate) async fn git_token_if_connected(&self) -> Option<GitToken> {
        let saved = self.store.connection(ConnectionKind::Github).await.ok()??;
        let base = saved.config["baseUrl"]
            .as_str()
            .unwrap_or(slipway_git_host::GITHUB_API)
            .to_string();
        let token = self.github_token(&saved).await.ok()?;
        Some(GitToken {
            host: slipway_git_host::gh_host(&base),
            token,
        })
    }

    /// The build and test containers and networks of a run, removed (labels `slipway.run`,
    /// `slipway.stage`).
    async fn remove_run_leftovers(&self, run_id: &str) -> Result<Vec<String>, UserError> {
        let engine = slipway_docker::engine::DockerEngine::connect().await?;
        let mut removed = vec![];
        for stage in [StageName::Build, StageName::Test] {
            let mut l = slipway_core::pipeline::engine::Labels::new();
            l.insert("slipway.run".into(), run_id.to_string());
            l.insert("slipway.stage".into(), stage.as_str().into());
            removed.extend(engine.remove_labelled(&l).await?);
        }
        Ok(removed)
    }

    async fn pending_cleanups(&self) -> Vec<String> {
        self.store
            .integration(PENDING_CLEANUPS)
            .await
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    }

    async fn set_pending_cleanup(&self, run_id: &str, pending: bool) {
        let mut all = self.pending_cleanups().await;
        all.retain(|r| r != run_id);
        if pending {
            all.push(run_id.to_string());
        }
        let v = (!all.is_empty()).then(|| serde_json::json!(all));
        if let Err(e) = self.store.save_integration(PENDING_CLEANUPS, v.as_ref()).await {
            tracing::warn!(error = %e, "could not record the runs left to clean up");
        }
    }

    /// After a run: its leftovers go now, or (the engine being away) are remembered and removed
    /// in the background as soon as the engine answers again (and at the next start otherwise).
    pub(crate) async fn cleanup_or_retry_later(self: &Arc<Self>, run_id: &str) {
        if self.remove_run_leftovers(run_id).await.is_ok() {
            return;
        }
        self.set_pending_cleanup(run_id, true).await;
        tracing::warn!(run = run_id, "the Docker engine is away: the run's containers are removed when it is back");
        let (me, id) = (self.clone(), run_id.to_string());
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30 * 60);
            let mut delay = Duration::from_millis(500);
            while tokio::time::Instant::now() < deadline {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                if let Ok(removed) = me.remove_run_leftovers(&id).await {
                    me.set_pending_cleanup(&id, false).await;
                    tracing::info!(run = %id, removed = ?removed, "the engine is back: the run's containers were removed");
                    me.progress("pipeline", format!("run {id}: its containers were removed now that the Docker engine is back")).await;
                    return;
                }
            }
        });
    }

    /// Removes what runs left behind while the engine was away (called when a run starts and
    /// when Slipway starts). Returns the runs cleaned.
    pub async fn sweep_pending_cleanups(&self) -> Vec<String> {
        let mut cleaned = vec![];
        for id in self.pending_cleanups().await {
            if self.remove_run_leftovers(&id).await.is_ok() {
                self.set_pending_cleanup(&id, false).await;
                cleaned.push(id);
            }
        }
        cleaned
    }

    /// Removes the logs and kept checkouts of runs that ended more than the run-log retention
    /// setting's days ago (the runs stay listed; `slipway logs` then says the log is gone).
    /// Returns how many runs' files were removed.
    pub async fn prune_run_logs(&self) -> Result<u32, UserError> {
        let days = self.settings().await?.run_log_retention_days;
        if days == 0 {
            return Ok(0);
        }
        let cutoff = slipway_core::now_ms() - i64::from(days) * 86_400_000;
        let mut removed = 0;
        for r in self.store.runs_created_before(cutoff).await? {
            if !r.status.is_final() || r.finished_at.unwrap_or(r.created_at) >= cutoff {
                continue;
            }
            let mut any = false;
            for dir in [self.runs_dir().join(&r.id), self.work_dir().join(&r.project).join(&r.id)] {
                if dir.exists() {
                    match std::fs::remove_dir_all(&dir) {
                        Ok(()) => any = true,
                        Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "could not remove an old run's files"),
                    }
                }
            }
            if any {
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(runs = removed, days, "old run logs removed (run-log retention)");
        }
        Ok(removed)
    }

    async fn registry_target(&self) -> Result<Option<RegistryTarget>, UserError> {
        let Some(saved) = self.store.connection(ConnectionKind::Registry).await? else {
            return Ok(None);
        };
        let (server, username, password) = self.registry_credentials(&saved)?;
        let (server, namespace) = if server == "docker.io" || server.ends_with("docker.io") {
            ("docker.io".to_string(), Some(username.clone()))
        } else {
            (server, None)
        };
        Ok(Some(RegistryTarget {
            auth: Some(RegistryAuth {
                server: server.clone(),
                username,
                password,
            }),
            server,
            namespace,
        }))
    }

    /// The local deployment's database password: made once per project, kept in the keychain.
    pub(crate) fn local_db_password(&self, project: &str) -> Result<Secret, UserError> {
        let r = SecretRef::for_connection(self.store.instance_id(), &format!("db-local-{project}"));
        if let Some(s) = self.secrets.get(&r)? {
            return Ok(s);
        }
        let s = Secret::new(random_hex(16));
        self.secrets.put(&r, &s)?;
        Ok(s)
    }

    fn slot(&self, project: &Project) -> Arc<Semaphore> {
        let mut slots = self.runs.slots.lock().expect("slots lock");
        let entry = slots.entry(project.id.clone()).or_insert_with(|| {
            (
                project.concurrency,
                Arc::new(Semaphore::new(project.concurrency as usize)),
            )
        });
        if entry.0 != project.concurrency {
            // The limit was edited: new runs use a semaphore of the new size.
            *entry = (
                project.concurrency,
                Arc::new(Semaphore::new(project.concurrency as usize)),
            );
        }
        entry.1.clone()
    }

    /// Queues a run of a project and starts it when a slot is free. Returns the queued run and
    /// a handle that resolves to the finished run.
    pub async fn start_run(
        self: &Arc<Self>,
        project_id: &str,
        git_ref: Option<String>,
        until: Option<StageName>,
        trigger: Trigger,
    ) -> Result<(Run, tokio::task::JoinHandle<Run>), UserError> {
        let project = self.project(project_id).await?;
        let git_ref = git_ref
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| project.git_ref.clone());
        let engine: Arc<dyn ContainerEngine> =
            Arc::new(slipway_docker::engine::DockerEngine::connect().await?);
        self.sweep_pending_cleanups().await;
        let run_env = self
            .store
            .environments(Some(&project.id))
            .await?
            .into_iter()
            .find(|e| e.runs)
            .map(|e| e.name)
            .unwrap_or_else(|| slipway_core::pipeline::config::LOCAL_ENV.to_string());
        let pipeline = Pipeline {
            engine: engine.clone(),
            source: Arc::new(slipway_git_host::checkout::Git),
            target: Some(self.run_target(&project, engine).await?),
            // On AWS, once the blueprint's repositories exist, pushes go to ECR (a fresh login,
            // in memory only); otherwise to the connected registry, if any.
            registry: match self.ecr_registry_target(&project.id).await? {
                Some(ecr) => Some(ecr),
                None => self.registry_target().await?,
            },
            git_token: self.git_token_if_connected().await,
            runs_dir: self.runs_dir(),
            work_dir: self.work_dir(),
            db_password: self.local_db_password(&project.id)?,
            ready_timeout: Duration::from_secs(120),
            step_timeout: slipway_core::pipeline::runner::DEFAULT_STEP_TIMEOUT,
            test_settings: self
                .env_settings(&project.id, slipway_core::pipeline::config::TEST_ENV)
                .await?,
            deploy_settings: self.env_settings(&project.id, &run_env).await?,
        };
        // Where the Deploy stage goes: a Kubernetes environment records revisions (and moves
        // the board through them); the local engine does not, so the run itself does.
        let local_deploy = !self
            .store
            .environments(Some(&project.id))
            .await?
            .iter()
            .any(|e| {
                e.runs
                    && matches!(
                        e.target,
                        slipway_core::deploy::EnvironmentTarget::Kubernetes(_)
                    )
            });
        let (pid, gr, tr) = (project.id.clone(), git_ref.clone(), trigger.clone());
        let run = self
            .store
            .create_run(&project.id, move |n| Run::new(&pid, n, tr, &gr, until))
            .await?;
        let cancel = CancellationToken::new();
        self.runs
            .active
            .lock()
            .expect("runs lock")
            .insert(run.id.clone(), cancel.clone());
        self.emit_run(&run).await;
        let me = self.clone();
        let slot = self.slot(&project);
        let mut r = run.clone();
        let handle = tokio::spawn(async move {
            // Every change is saved and announced in order by one writer task.
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Run>();
            let writer = {
                let me = me.clone();
                tokio::spawn(async move {
                    while let Some(run) = rx.recv().await {
                        if let Err(e) = me.store.save_run(&run).await {
                            tracing::warn!(run = %run.id, error = %e, "could not save the run");
                        }
                        let event = Event::RunUpdated { run };
                        me.journal.audit(&event).await;
                        me.journal.bus.emit(event);
                    }
                })
            };
            let report = move |run: &Run| {
                let _ = tx.send(run.clone());
            };
            let permit = tokio::select! {
                p = slot.acquire_owned() => p.ok(),
                _ = cancel.cancelled() => None,
            };
            if permit.is_none() {
                r.status = Status::Cancelled;
                r.finished_at = Some(slipway_core::now_ms());
                for s in &mut r.stages {
                    s.status = Status::Cancelled;
                }
                report(&r);
            } else {
                pipeline.execute(&project, &mut r, &cancel, &report).await;
            }
            drop(permit);
            drop(report);
            let _ = writer.await;
            // The runner removed the run's containers; if the engine was away then (dockerd
            // died mid-run), they are removed when it answers again.
            me.cleanup_or_retry_later(&r.id).await;
            me.board_after_run(&r, local_deploy).await;
            me.runs.active.lock().expect("runs lock").remove(&r.id);
            if let Err(e) = me.prune_run_logs().await {
                tracing::warn!(what = %e.what, why = %e.why, "run-log retention");
            }
            let summary = format!("run {} {}", r.id, r.status.as_str());
            me.emit(Event::Progress {
                task: "pipeline".into(),
                message: summary,
            })
            .await;
            r
        });
        Ok((run, handle))
    }

    async fn emit_run(&self, run: &Run) {
        let event = Event::RunUpdated { run: run.clone() };
        self.journal.audit(&event).await;
        self.journal.bus.emit(event);
    }

    /// Cancels a queued or running run of this process: its containers are stopped and removed
    /// and it ends as cancelled.
    pub async fn cancel_run(&self, id: &str) -> Result<Run, UserError> {
        let run = self.run(id).await?;
        if run.status.is_final() {
            return Err(UserError::new(
                "Nothing to cancel",
                format!("run {id} has already ended ({})", run.status.as_str()),
                "Start a new run instead",
            ));
        }
        let token = self.runs.active.lock().expect("runs lock").get(id).cloned();
        match token {
            Some(t) => {
                t.cancel();
                Ok(run)
            }
            None => Err(UserError::new(
                "Run is not in this process",
                format!(
                    "run {id} is being run by another Slipway process (pid {})",
                    run.owner_pid
                        .map(|p| p.to_string())
                        .unwrap_or_else(|| "unknown".into())
                ),
                "Cancel it from the window or terminal that started it",
            )),
        }
    }

    /// Runs an earlier run's commit again.
    pub async fn rerun(
        self: &Arc<Self>,
        id: &str,
    ) -> Result<(Run, tokio::task::JoinHandle<Run>), UserError> {
        let old = self.run(id).await?;
        let git_ref = old.commit.clone().unwrap_or(old.git_ref.clone());
        self.start_run(
            &old.project,
            Some(git_ref),
            old.until,
            Trigger::Rerun { of: old.id.clone() },
        )
        .await
    }

    /// Marks runs left queued or running by a Slipway process that is gone as failed.
    pub async fn recover_runs(&self) -> Result<Vec<String>, UserError> {
        let mut marked = vec![];
        for mut run in self.store.unfinished_runs().await? {
            if run
                .owner_pid
                .is_some_and(|p| p != std::process::id() && pid_alive(p))
            {
                continue;
            }
            if run.owner_pid == Some(std::process::id())
                && self
                    .runs
                    .active
                    .lock()
                    .expect("runs lock")
                    .contains_key(&run.id)
            {
                continue;
            }
            run.status = Status::Failed;
            run.finished_at = Some(slipway_core::now_ms());
            run.error = Some(UserError::new(
                "Run interrupted",
                "Slipway stopped while this run was under way",
                "Start it again with Re-run",
            ));
            for s in &mut run.stages {
                if !s.status.is_final() {
                    s.status = if s.status == Status::Running {
                        Status::Failed
                    } else {
                        Status::Skipped
                    };
                }
            }
            self.store.save_run(&run).await?;
            // Its build and test containers outlived it: remove them (best effort; a later
            // call tries again while the engine is away).
            if let Ok(engine) = slipway_docker::engine::DockerEngine::connect().await {
                for stage in [StageName::Build, StageName::Test] {
                    let mut l = slipway_core::pipeline::engine::Labels::new();
                    l.insert("slipway.run".into(), run.id.clone());
                    l.insert("slipway.stage".into(), stage.as_str().into());
                    if let Err(e) = engine.remove_labelled(&l).await {
                        tracing::warn!(run = %run.id, error = %e, "could not remove an interrupted run's containers");
                    }
                }
            }
            marked.push(run.id);
        }
        Ok(marked)
    }

    /// Follows one step's log from `offset`, handing chunks to `emit` until the step has ended
    /// and its file is read to the end (`follow = false` reads what is there and stops).
    pub async fn follow_log(
        &self,
        run_id: &str,
        stage: StageName,
        step: &str,
        offset: u64,
        follow: bool,
        emit: &mut (dyn FnMut(LogChunk) -> bool + Send),
    ) -> Result<u64, UserError> {
        let run = self.run(run_id).await?;
        let days = self.settings().await?.run_log_retention_days;
        let ended = run.finished_at.unwrap_or(run.created_at);
        if run.status.is_final() && days > 0 && ended < slipway_core::now_ms() - i64::from(days) * 86_400_000 && !self.runs_dir().join(run_id).exists() {
            return Err(UserError::new(
                "The run's logs were removed",
                format!("run {run_id} ended more than {days} days ago, and run logs are kept {days} days"),
                "Keep run logs longer in Settings (`slipway settings set run-log-retention-days N`, 0 for ever) for runs to come",
            ));
        }
        let path = logs::step_path(&self.runs_dir(), run_id, stage, step);
        let finished = Arc::new(AtomicBool::new(!follow || run.status.is_final()));
        let watcher = {
            let (store, id, f, step) = (
                self.store.clone(),
                run_id.to_string(),
                finished.clone(),
                step.to_string(),
            );
            tokio::spawn(async move {
                while !f.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if let Ok(Some(r)) = store.run(&id).await {
                        let st = r.stage(stage);
                        let step_done = st
                            .steps
                            .iter()
                            .rev()
                            .find(|s| s.name == step)
                            .map(|s| s.status.is_final())
                            .unwrap_or(false);
                        if r.status.is_final() || st.status.is_final() || step_done {
                            f.store(true, Ordering::SeqCst);
                        }
                    }
                }
            })
        };
        let (rid, sname) = (run_id.to_string(), step.to_string());
        let done_flag = finished.clone();
        let result = logs::follow(
            &path,
            offset,
            256 * 1024,
            Duration::from_millis(50),
            None,
            &move || done_flag.load(Ordering::SeqCst),
            &mut |text, off, done| {
                emit(LogChunk {
                    run: rid.clone(),
                    stage,
                    step: sname.clone(),
                    offset: off,
                    text,
                    done,
                })
            },
        )
        .await;
        finished.store(true, Ordering::SeqCst);
        watcher.abort();
        result.map_err(|e| {
            UserError::new(
                "The log could not be read",
                format!("{}: {e}", path.display()),
                "Check the data folder",
            )
        })
    }

    /// The steps that have logs for a stage of a run (Slipway's own first).
    pub fn log_steps(&self, run_id: &str, stage: StageName) -> Vec<String> {
        let dir = self.runs_dir().join(run_id).join(stage.as_str());
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| {
                        e.file_name()
                            .to_str()
                            .and_then(|n| n.strip_suffix(".log"))
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by_key(|s| (s != logs::SLIPWAY_STEP, s.clone()));
        v
    }
}

/// Removes a temporary folder when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
