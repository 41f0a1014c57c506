//! GitHub and Jenkins beside Slipway's own runs (issue #7): thin calls into slipway-app.
//! Tokens and the webhook secret go to the keychain inside slipway-app and never come back
//! through these commands, except `github_webhook_secret`, which the user asks to see.

use slipway_app::integrations::CommitWatch;
use slipway_app::Slipway;
use slipway_core::integrations::*;
use slipway_core::UserError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tauri::ipc::Channel;
use tauri::State;
use slipway_app::deploy::CancellationToken;

type App<'a> = State<'a, Arc<Slipway>>;

/// Watches under way (poller or webhook receiver), by `repo@branch`.
fn watches() -> &'static Mutex<HashMap<String, CancellationToken>> {
    static W: OnceLock<Mutex<HashMap<String, CancellationToken>>> = OnceLock::new();
    W.get_or_init(Default::default)
}

#[tauri::command]
pub async fn github_repos(app: App<'_>, query: Option<String>, page: Option<u32>) -> Result<Page<GhRepo>, UserError> {
    app.github_repos(query.as_deref(), page.unwrap_or(1)).await
}

#[tauri::command]
pub async fn github_branches(app: App<'_>, repo: String, page: Option<u32>) -> Result<Page<GhBranch>, UserError> {
    app.github_branches(&repo, page.unwrap_or(1)).await
}

#[tauri::command]
pub async fn github_commits(app: App<'_>, repo: String, branch: String, limit: Option<u32>) -> Result<Page<GhCommit>, UserError> {
    app.github_commits(&repo, &branch, limit.unwrap_or(20)).await
}

#[tauri::command]
pub async fn github_workflow_runs(app: App<'_>, repo: String, page: Option<u32>) -> Result<Page<WorkflowRun>, UserError> {
    app.github_workflow_runs(&repo, page.unwrap_or(1)).await
}

#[tauri::command]
pub async fn github_workflow_jobs(app: App<'_>, repo: String, run_id: u64) -> Result<Vec<WorkflowJob>, UserError> {
    app.github_workflow_jobs(&repo, run_id).await
}

#[tauri::command]
pub async fn github_job_log(app: App<'_>, repo: String, job_id: u64) -> Result<String, UserError> {
    app.github_job_log(&repo, job_id).await
}

#[tauri::command]
pub fn github_webhook_secret(app: App<'_>, rotate: bool) -> Result<String, UserError> {
    Ok(app.github_webhook_secret(rotate)?.expose().to_string())
}

/// Starts watching a branch: polling, or with `webhook_port` the webhook receiver on
/// 127.0.0.1. Returns the receiver's address (None when polling). Runs it starts arrive as
/// `runUpdated` events; errors as `progress` events of task `github`.
#[tauri::command]
pub async fn github_watch_start(app: App<'_>, watch: CommitWatch, every_secs: Option<u64>, webhook_port: Option<u16>) -> Result<Option<String>, UserError> {
    let app = app.inner().clone();
    let key = format!("{}@{}", watch.repo, watch.branch);
    let cancel = CancellationToken::new();
    if let Some(old) = watches().lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone(), cancel.clone()) {
        old.cancel();
    }
    match webhook_port {
        Some(port) => Ok(Some(app.serve_github_webhook(watch, port, cancel).await?.to_string())),
        None => {
            let every = Duration::from_secs(every_secs.unwrap_or(30).max(5));
            tokio::spawn(async move {
                let _ = app.watch_github(watch, every, cancel).await;
                watches().lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
            });
            Ok(None)
        }
    }
}

#[tauri::command]
pub fn github_watch_stop(repo: String, branch: String) -> bool {
    match watches().lock().unwrap_or_else(|e| e.into_inner()).remove(&format!("{repo}@{branch}")) {
        Some(t) => {
            t.cancel();
            true
        }
        None => false,
    }
}

#[tauri::command]
pub async fn connect_jenkins(app: App<'_>, input: JenkinsConnectInput) -> Result<JenkinsServer, UserError> {
    app.connect_jenkins(input).await
}

#[tauri::command]
pub async fn jenkins_jobs(app: App<'_>, folder: Option<String>) -> Result<Vec<JenkinsJob>, UserError> {
    app.jenkins_jobs(folder.as_deref()).await
}

#[tauri::command]
pub async fn jenkins_builds(app: App<'_>, job: String, limit: Option<u32>) -> Result<Vec<JenkinsBuild>, UserError> {
    app.jenkins_builds(&job, limit.unwrap_or(20)).await
}

#[tauri::command]
pub async fn jenkins_stages(app: App<'_>, job: String, number: u32) -> Result<JenkinsStageView, UserError> {
    app.jenkins_stages(&job, number).await
}

#[tauri::command]
pub async fn jenkins_build(app: App<'_>, job: String) -> Result<Option<String>, UserError> {
    app.jenkins_build(&job).await
}

/// Streams a build's console log from `offset` into the channel until the build ends or the UI
/// drops the channel; the last chunk has `more: false`. Returns the final offset.
#[tauri::command]
pub async fn follow_jenkins_log(app: App<'_>, job: String, number: u32, offset: u64, on_chunk: Channel<ConsoleChunk>) -> Result<u64, UserError> {
    let app = app.inner().clone();
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    app.follow_jenkins_log(&job, number, offset, &cancel, &mut |chunk| {
        if on_chunk.send(chunk.clone()).is_err() {
            c.cancel();
        }
    })
    .await
}
