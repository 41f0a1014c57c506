//! Other CI systems as the front ends see them (issue #7): the connected GitHub account's
//! repositories, branches, commits and GitHub Actions runs; runs started on new commits (a
//! poller with ETags, or the signed webhook receiver) and reported back as commit statuses; and
//! a Jenkins server (connect, jobs, builds, stage view, console log, start a build).
//! Secrets (the GitHub token, the Jenkins API token, the webhook secret) live only in the
//! keychain; the store keeps the Jenkins address and user.

use async_trait::async_trait;
use slipway_ci::Jenkins;
use slipway_core::connections::ConnectionKind;
use slipway_core::events::Event;
use slipway_core::integrations::*;
use slipway_core::pipeline::run::Trigger;
use slipway_core::secrets::{random_hex, Secret, SecretRef};
use slipway_core::UserError;
use slipway_git_host::api::GitHubApi;
use slipway_git_host::watch::{self, BranchWatch, CommitTrigger, WebhookVerifier};
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::Slipway;

/// Where runs started by commits are watched from and reported to.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CommitWatch {
    /// The Slipway project whose pipeline runs.
    pub project: String,
    /// `owner/name` on GitHub.
    pub repo: String,
    /// The branch whose new commits start runs.
    pub branch: String,
    /// Report each run as a commit status (needs the repo:status scope).
    pub report_status: bool,
    /// A page for the status's link, `<link_base>/runs/<run id>`; None sends no link.
    pub link_base: Option<String>,
}

/// A watch as the user set it up: polling every `every_secs`, or with `webhook_port` the signed
/// webhook receiver on 127.0.0.1. Kept in the store and started again when Slipway opens.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct WatchSetting {
    pub watch: CommitWatch,
    /// Seconds between polls (at least 5; GitHub's ETags make an unchanged poll free).
    #[ts(type = "number | null")]
    pub every_secs: Option<u64>,
    /// Receive pushes on this loopback port instead of polling (0 picks a free one).
    pub webhook_port: Option<u16>,
}

/// A watch and how it is doing.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct WatchInfo {
    pub setting: WatchSetting,
    /// True while it polls or listens.
    pub active: bool,
    /// The webhook receiver's address (`127.0.0.1:port`), when it listens.
    pub address: Option<String>,
    /// Why it stopped (a revoked token, a branch that went away...); it stays saved, and
    /// starting it again retries.
    pub error: Option<String>,
}

struct WatchEntry {
    info: WatchInfo,
    cancel: CancellationToken,
}

/// The watches of this process, by `owner/name@branch` (the repository in lower case), and the
/// webhook receivers' verifiers, which a rotated secret reaches at once.
#[derive(Default)]
pub(crate) struct Watches {
    map: std::sync::Mutex<std::collections::BTreeMap<String, WatchEntry>>,
    verifiers: std::sync::Mutex<Vec<Weak<WebhookVerifier>>>,
}

impl Watches {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, WatchEntry>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn verifiers(&self) -> std::sync::MutexGuard<'_, Vec<Weak<WebhookVerifier>>> {
        self.verifiers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn watch_key(repo: &str, branch: &str) -> String {
    format!("{}@{}", repo.to_ascii_lowercase(), branch)
}

const WATCHES: &str = "github-watches";

fn not_connected() -> UserError {
    UserError::new(
        "GitHub not connected",
        "there is no GitHub connection",
        "Connect GitHub first (slipway connect github, or the Connect page)",
    )
}

fn jenkins_not_connected() -> UserError {
    UserError::new(
        "Jenkins not connected",
        "no Jenkins server has been connected",
        "Run `slipway jenkins connect --url <url> --user <user>` first",
    )
}

/// The Jenkins server Slipway keeps (its token is in the keychain).
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct JenkinsConnection {
    pub url: String,
    pub user: String,
}

/// Starts a run for each new commit of the watched repository and branch.
struct RunOnCommit {
    app: Weak<Slipway>,
    w: CommitWatch,
}

#[async_trait]
impl CommitTrigger for RunOnCommit {
    async fn new_commit(&self, repo: &str, branch: &str, sha: &str) -> Result<(), UserError> {
        if !repo.eq_ignore_ascii_case(&self.w.repo) || branch != self.w.branch {
            return Err(UserError::new(
                "Push ignored",
                format!(
                    "the push was to {repo} {branch}, and Slipway watches {} {}",
                    self.w.repo, self.w.branch
                ),
                "Point the webhook at the repository and branch being watched",
            ));
        }
        let app = self.app.upgrade().ok_or_else(|| {
            UserError::new("Run not started", "Slipway is shutting down", "Try again")
        })?;
        app.run_for_commit(&self.w, sha).await
    }
}

impl Slipway {
    /// A GitHub API client with the connected token.
    pub async fn github_api(&self) -> Result<GitHubApi, UserError> {
        let saved = self
            .store
            .connection(ConnectionKind::Github)
            .await?
            .ok_or_else(not_connected)?;
        let base = saved.config["baseUrl"]
            .as_str()
            .unwrap_or(slipway_git_host::GITHUB_API)
            .to_string();
        let token = self.github_token(&saved).await?;
        GitHubApi::new(&base, &token)
    }

    /// The repositories the token can see (its own and its organisations'), one page; with a
    /// query, every page filtered by name or description.
    pub async fn github_repos(
        &self,
        query: Option<&str>,
        page: u32,
    ) -> Result<Page<GhRepo>, UserError> {
        let api = self.github_api().await?;
        match query.map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => api.search_repos(q, 10).await,
            None => api.repos(page, 50).await,
        }
    }

    pub async fn github_branches(
        &self,
        repo: &str,
        page: u32,
    ) -> Result<Page<GhBranch>, UserError> {
        self.github_api().await?.branches(repo, page).await
    }

    pub async fn github_commits(
        &self,
        repo: &str,
        branch: &str,
        limit: u32,
    ) -> Result<Page<GhCommit>, UserError> {
        self.github_api().await?.commits(repo, branch, limit).await
    }

    pub async fn github_workflow_runs(
        &self,
        repo: &str,
        page: u32,
    ) -> Result<Page<WorkflowRun>, UserError> {
        self.github_api().await?.workflow_runs(repo, page, 30).await
    }

    pub async fn github_workflow_jobs(
        &self,
        repo: &str,
        run_id: u64,
    ) -> Result<Vec<WorkflowJob>, UserError> {
        self.github_api().await?.workflow_jobs(repo, run_id).await
    }

    pub async fn github_job_log(&self, repo: &str, job_id: u64) -> Result<String, UserError> {
        self.github_api().await?.job_log(repo, job_id).await
    }

    /// Starts a run of the project at `sha` and, when asked, reports it to GitHub: pending now,
    /// then success, failure or error when it ends.
    async fn run_for_commit(self: &Arc<Self>, w: &CommitWatch, sha: &str) -> Result<(), UserError> {
        let (run, handle) = self
            .start_run(
                &w.project,
                Some(sha.to_string()),
                None,
                Trigger::Commit {
                    sha: sha.to_string(),
                },
            )
            .await?;
        self.progress(
            "github",
            format!(
                "new commit {} on {} {}: run {} started",
                &sha[..sha.len().min(7)],
                w.repo,
                w.branch,
                run.id
            ),
        )
        .await;
        if !w.report_status {
            return Ok(());
        }
        let api = self.github_api().await?;
        let link = w
            .link_base
            .as_deref()
            .map(|b| format!("{}/runs/{}", b.trim_end_matches('/'), run.id));
        let report = |state: CommitState, desc: String| {
            let (api, repo, sha, link) = (&api, w.repo.clone(), sha.to_string(), link.clone());
            async move {
                if let Err(e) = api
                    .set_status(&repo, &sha, state, link.as_deref(), &desc, "slipway")
                    .await
                {
                    tracing::warn!(why = %e.why, "could not report the run to GitHub");
                }
            }
        };
        report(
            CommitState::Pending,
            format!("Slipway run {} started", run.id),
        )
        .await;
        let me = self.clone();
        let (w, sha) = (w.clone(), sha.to_string());
        tokio::spawn(async move {
            let Ok(done) = handle.await else { return };
            let state = CommitState::of_run(done.status);
            let Ok(api) = me.github_api().await else {
                return;
            };
            let link = w
                .link_base
                .as_deref()
                .map(|b| format!("{}/runs/{}", b.trim_end_matches('/'), done.id));
            if let Err(e) = api
                .set_status(
                    &w.repo,
                    &sha,
                    state,
                    link.as_deref(),
                    &format!("Slipway run {} {}", done.id, done.status.as_str()),
                    "slipway",
                )
                .await
            {
                me.progress(
                    "github",
                    format!("could not report run {} to GitHub: {}", done.id, e.why),
                )
                .await;
            }
        });
        Ok(())
    }

    /// Polls the branch (ETags; slower as the quota runs low) and starts a run for each new
    /// commit until `cancel`. Errors and the remaining quota are announced as progress.
    pub async fn watch_github(
        self: &Arc<Self>,
        w: CommitWatch,
        every: Duration,
        cancel: CancellationToken,
    ) -> Result<(), UserError> {
        self.project(&w.project).await?;
        let api = self.github_api().await?;
        // Fail fast on a wrong repository or branch.
        api.head(&w.repo, &w.branch, None).await?;
        if let Some(r) = api.rate() {
            self.progress(
                "github",
                format!(
                    "watching {} {}; GitHub quota {} of {} left",
                    w.repo, w.branch, r.remaining, r.limit
                ),
            )
            .await;
        }
        let trigger = RunOnCommit {
            app: Arc::downgrade(self),
            w: w.clone(),
        };
        let bus = self.journal.bus.clone();
        let on_error = move |e: &UserError| {
            bus.emit(Event::Progress {
                task: "github".into(),
                message: e.to_string(),
            });
        };
        watch::watch_branch(
            &api,
            BranchWatch::new(&w.repo, &w.branch),
            every,
            &trigger,
            &cancel,
            &on_error,
        )
        .await
    }

    /// Starts watching a branch (replacing a watch of the same repository and branch) and saves
    /// it, so it starts again when Slipway opens. The project, the connection, the repository
    /// and the branch are checked first: a wrong one is refused and nothing is saved. Returns
    /// the webhook receiver's address when there is one.
    pub async fn start_watch(
        self: &Arc<Self>,
        setting: WatchSetting,
    ) -> Result<WatchInfo, UserError> {
        let w = &setting.watch;
        self.project(&w.project).await?;
        // Polling needs GitHub; a webhook receiver only the secret. When GitHub is connected,
        // the repository and branch are checked either way.
        match self.github_api().await {
            Ok(api) => {
                api.head(&w.repo, &w.branch, None).await?;
            }
            Err(e) if setting.webhook_port.is_none() || w.report_status => return Err(e),
            Err(_) => {}
        }
        let info = self.launch_watch(setting.clone()).await?;
        self.save_watches().await?;
        Ok(info)
    }

    async fn launch_watch(self: &Arc<Self>, setting: WatchSetting) -> Result<WatchInfo, UserError> {
        let key = watch_key(&setting.watch.repo, &setting.watch.branch);
        let cancel = CancellationToken::new();
        // The same watch again on the port its receiver listens on: that receiver goes first,
        // and the port is waited for (up to a second) before the new one binds it.
        if let Some(port) = setting.webhook_port.filter(|p| *p != 0) {
            let suffix = format!(":{port}");
            // The lock is let go before any await (a held std MutexGuard makes the future !Send).
            let old = {
                let mut map = self.watches.lock();
                let same = map
                    .get(&key)
                    .and_then(|e| e.info.address.as_deref())
                    .is_some_and(|a| a.ends_with(&suffix));
                if same {
                    map.remove(&key)
                } else {
                    None
                }
            };
            if let Some(old) = old {
                old.cancel.cancel();
                for _ in 0..20 {
                    if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        let address = match setting.webhook_port {
            Some(port) => Some(
                self.serve_github_webhook(setting.watch.clone(), port, cancel.clone())
                    .await?
                    .to_string(),
            ),
            None => {
                let me = self.clone();
                let (w, c, k) = (setting.watch.clone(), cancel.clone(), key.clone());
                let every = Duration::from_secs(setting.every_secs.unwrap_or(30).max(5));
                tokio::spawn(async move {
                    let ended = me.watch_github(w, every, c.clone()).await;
                    if let (Err(e), false) = (ended, c.is_cancelled()) {
                        me.progress("github", format!("watch stopped: {e}")).await;
                        if let Some(entry) = me.watches.lock().get_mut(&k) {
                            entry.info.active = false;
                            entry.info.error = Some(e.to_string());
                        }
                    }
                });
                None
            }
        };
        let info = WatchInfo {
            setting,
            active: true,
            address,
            error: None,
        };
        let old = self.watches.lock().insert(
            key,
            WatchEntry {
                info: info.clone(),
                cancel,
            },
        );
        if let Some(old) = old {
            old.cancel.cancel();
        }
        Ok(info)
    }

    /// Stops watching and forgets the watch; false when there was none.
    pub async fn stop_watch(&self, repo: &str, branch: &str) -> Result<bool, UserError> {
        let removed = self.watches.lock().remove(&watch_key(repo, branch));
        let Some(entry) = removed else {
            return Ok(false);
        };
        entry.cancel.cancel();
        self.save_watches().await?;
        Ok(true)
    }

    /// Every watch of this process, by repository and branch.
    pub fn watches(&self) -> Vec<WatchInfo> {
        self.watches
            .lock()
            .values()
            .map(|e| e.info.clone())
            .collect()
    }

    async fn save_watches(&self) -> Result<(), UserError> {
        let settings: Vec<WatchSetting> = self
            .watches
            .lock()
            .values()
            .map(|e| e.info.setting.clone())
            .collect();
        let value = serde_json::to_value(&settings)
            .map_err(|e| UserError::new("Watches not saved", e.to_string(), "Try again"))?;
        self.store.save_integration(WATCHES, Some(&value)).await?;
        Ok(())
    }

    /// Starts again the watches saved by an earlier session. One that cannot start (GitHub
    /// disconnected, a port taken...) is listed with its reason and stays saved.
    pub async fn resume_watches(self: &Arc<Self>) -> Vec<WatchInfo> {
        let saved: Vec<WatchSetting> = match self.store.integration(WATCHES).await {
            Ok(Some(v)) => serde_json::from_value(v).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the saved GitHub watches could not be read; none resumed");
                Vec::new()
            }),
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "the saved GitHub watches could not be read; none resumed");
                Vec::new()
            }
        };
        for setting in saved {
            if let Err(e) = self.launch_watch(setting.clone()).await {
                self.progress(
                    "github",
                    format!(
                        "watch of {} {} not resumed: {e}",
                        setting.watch.repo, setting.watch.branch
                    ),
                )
                .await;
                self.watches.lock().insert(
                    watch_key(&setting.watch.repo, &setting.watch.branch),
                    WatchEntry {
                        info: WatchInfo {
                            setting,
                            active: false,
                            address: None,
                            error: Some(e.to_string()),
                        },
                        cancel: CancellationToken::new(),
                    },
                );
            }
        }
        self.watches()
    }

    /// The saved Jenkins server (address and user), without asking it anything.
    pub async fn jenkins_connection(&self) -> Result<Option<JenkinsConnection>, UserError> {
        Ok(self
            .store
            .integration("jenkins")
            .await?
            .map(|cfg| JenkinsConnection {
                url: cfg["url"].as_str().unwrap_or_default().to_string(),
                user: cfg["user"].as_str().unwrap_or_default().to_string(),
            }))
    }

    fn webhook_secret_ref(&self) -> SecretRef {
        SecretRef::for_connection(self.store.instance_id(), "github-webhook")
    }

    /// The webhook secret: made (and kept in the keychain) the first time, or anew with
    /// `rotate`. Shown once to paste into GitHub's webhook form.
    pub fn github_webhook_secret(&self, rotate: bool) -> Result<Secret, UserError> {
        let r = self.webhook_secret_ref();
        if !rotate {
            if let Some(s) = self.secrets.get(&r)? {
                return Ok(s);
            }
        }
        let s = Secret::new(random_hex(32));
        self.secrets.put(&r, &s)?;
        // Receivers already listening check the next deliveries against the new secret.
        self.watches.verifiers().retain(|v| match v.upgrade() {
            Some(v) => {
                v.set_secret(s.clone());
                true
            }
            None => false,
        });
        Ok(s)
    }

    /// The webhook receiver on 127.0.0.1:`port` (0 picks one; expose it with a tunnel if you
    /// want GitHub to reach it). Only signed, new pushes to the watched branch start runs.
    pub async fn serve_github_webhook(
        self: &Arc<Self>,
        w: CommitWatch,
        port: u16,
        cancel: CancellationToken,
    ) -> Result<SocketAddr, UserError> {
        self.project(&w.project).await?;
        let secret = self.github_webhook_secret(false)?;
        let trigger = Arc::new(RunOnCommit {
            app: Arc::downgrade(self),
            w,
        });
        let bus = self.journal.bus.clone();
        let on_refused = Arc::new(move |e: &UserError| {
            bus.emit(Event::Progress {
                task: "github-webhook".into(),
                message: e.to_string(),
            });
        });
        let verifier = Arc::new(WebhookVerifier::new(secret));
        self.watches.verifiers().push(Arc::downgrade(&verifier));
        watch::serve_webhook(port, verifier, trigger, on_refused, cancel).await
    }

    // ----- Jenkins ---------------------------------------------------------------------------

    fn jenkins_secret_ref(&self) -> SecretRef {
        SecretRef::for_connection(self.store.instance_id(), "jenkins")
    }

    /// Checks the server with the user and API token, then keeps the token in the keychain and
    /// the address and user in the store.
    pub async fn connect_jenkins(
        &self,
        input: JenkinsConnectInput,
    ) -> Result<JenkinsServer, UserError> {
        let j = Jenkins::new(&input.url, &input.user, &input.token)?;
        self.progress("connect", format!("Checking Jenkins at {}", j.url()))
            .await;
        let server = j.check().await?;
        self.secrets.put(&self.jenkins_secret_ref(), &input.token)?;
        self.store
            .save_integration(
                "jenkins",
                Some(&serde_json::json!({"url": server.url, "user": server.user})),
            )
            .await?;
        Ok(server)
    }

    pub async fn disconnect_jenkins(&self) -> Result<(), UserError> {
        self.secrets.delete(&self.jenkins_secret_ref())?;
        self.store.save_integration("jenkins", None).await?;
        Ok(())
    }

    /// A client for the connected Jenkins.
    pub async fn jenkins(&self) -> Result<Jenkins, UserError> {
        let cfg = self
            .store
            .integration("jenkins")
            .await?
            .ok_or_else(jenkins_not_connected)?;
        let token = self
            .secrets
            .get(&self.jenkins_secret_ref())?
            .ok_or_else(|| {
                UserError::new(
                    "Jenkins API token missing",
                    "the token is no longer in the keychain",
                    "Run `slipway jenkins connect` again",
                )
            })?;
        Jenkins::new(
            cfg["url"].as_str().unwrap_or_default(),
            cfg["user"].as_str().unwrap_or_default(),
            &token,
        )
    }

    pub async fn jenkins_check(&self) -> Result<JenkinsServer, UserError> {
        self.jenkins().await?.check().await
    }

    pub async fn jenkins_jobs(&self, folder: Option<&str>) -> Result<Vec<JenkinsJob>, UserError> {
        self.jenkins().await?.jobs(folder).await
    }

    pub async fn jenkins_builds(
        &self,
        job: &str,
        limit: u32,
    ) -> Result<Vec<JenkinsBuild>, UserError> {
        self.jenkins().await?.builds(job, limit).await
    }

    pub async fn jenkins_stages(
        &self,
        job: &str,
        number: u32,
    ) -> Result<JenkinsStageView, UserError> {
        self.jenkins().await?.stages(job, number).await
    }

    pub async fn jenkins_log(
        &self,
        job: &str,
        number: u32,
        start: u64,
    ) -> Result<ConsoleChunk, UserError> {
        self.jenkins().await?.log(job, number, start).await
    }

    /// The console log from `start` to where it ends now, a chunk at a time (`slipway jenkins
    /// log` without --follow). Returns the offset reached.
    pub async fn read_jenkins_log(
        &self,
        job: &str,
        number: u32,
        start: u64,
        on_chunk: &mut (dyn FnMut(&ConsoleChunk) + Send),
    ) -> Result<u64, UserError> {
        self.jenkins().await?.read_log(job, number, start, on_chunk).await
    }

    /// Streams a build's console log until it ends or `cancel`.
    pub async fn follow_jenkins_log(
        &self,
        job: &str,
        number: u32,
        start: u64,
        cancel: &CancellationToken,
        on_chunk: &mut (dyn FnMut(&ConsoleChunk) + Send),
    ) -> Result<u64, UserError> {
        self.jenkins()
            .await?
            .follow_log(job, number, start, Duration::from_secs(1), cancel, on_chunk)
            .await
    }

    /// Starts a build (with the CSRF crumb); returns the queue item URL.
    pub async fn jenkins_build(&self, job: &str) -> Result<Option<String>, UserError> {
        let q = self.jenkins().await?.build(job).await?;
        self.progress("jenkins", format!("build of {job} queued"))
            .await;
        Ok(q)
    }
}
