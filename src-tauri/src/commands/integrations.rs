//! GitHub and Jenkins beside Slipway's own runs (issue #7): thin calls into slipway-app.
//! Tokens and the webhook secret go to the keychain inside slipway-app and never come back
//! through these commands, except `github_webhook_secret`, which the user asks to see.

use super::streams::Streams;
use slipway_app::integrations::{JenkinsConnection, WatchInfo, WatchSetting};
use slipway_app::Slipway;
use slipway_core::integrations::*;
use slipway_core::UserError;
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::State;

type App<'a> = State<'a, Arc<Slipway>>;

#[tauri::command]
pub async fn github_repos(
    app: App<'_>,
    query: Option<String>,
    page: Option<u32>,
) -> Result<Page<GhRepo>, UserError> {
    app.github_repos(query.as_deref(), page.unwrap_or(1)).await
}

#[tauri::command]
pub async fn github_branches(
    app: App<'_>,
    repo: String,
    page: Option<u32>,
) -> Result<Page<GhBranch>, UserError> {
    app.github_branches(&repo, page.unwrap_or(1)).await
}

#[tauri::command]
pub async fn github_commits(
    app: App<'_>,
    repo: String,
    branch: String,
    limit: Option<u32>,
) -> Result<Page<GhCommit>, UserError> {
    app.github_commits(&repo, &branch, limit.unwrap_or(20))
        .await
}

#[tauri::command]
pub async fn github_workflow_runs(
    app: App<'_>,
    repo: String,
    page: Option<u32>,
) -> Result<Page<WorkflowRun>, UserError> {
    app.github_workflow_runs(&repo, page.unwrap_or(1)).await
}

#[tauri::command]
pub async fn github_workflow_jobs(
    app: App<'_>,
    repo: String,
    run_id: u64,
) -> Result<Vec<WorkflowJob>, UserError> {
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

/// Starts watching a branch (polling, or the webhook receiver on 127.0.0.1) and keeps the
/// watch, so it starts again with the app. Runs it starts arrive as `runUpdated` events;
/// errors and the GitHub quota as `progress` events of task `github`.
#[tauri::command]
pub async fn github_watch_start(
    app: App<'_>,
    setting: WatchSetting,
) -> Result<WatchInfo, UserError> {
    app.inner().clone().start_watch(setting).await
}

/// Stops and forgets a watch; false when there was none.
#[tauri::command]
pub async fn github_watch_stop(
    app: App<'_>,
    repo: String,
    branch: String,
) -> Result<bool, UserError> {
    app.stop_watch(&repo, &branch).await
}

#[tauri::command]
pub fn github_watches(app: App<'_>) -> Vec<WatchInfo> {
    app.watches()
}

/// The saved Jenkins server, or null; asks Jenkins nothing.
#[tauri::command]
pub async fn jenkins_connection(app: App<'_>) -> Result<Option<JenkinsConnection>, UserError> {
    app.jenkins_connection().await
}

#[tauri::command]
pub async fn disconnect_jenkins(app: App<'_>) -> Result<(), UserError> {
    app.disconnect_jenkins().await
}

#[tauri::command]
pub async fn connect_jenkins(
    app: App<'_>,
    input: JenkinsConnectInput,
) -> Result<JenkinsServer, UserError> {
    app.connect_jenkins(input).await
}

#[tauri::command]
pub async fn jenkins_jobs(
    app: App<'_>,
    folder: Option<String>,
) -> Result<Vec<JenkinsJob>, UserError> {
    app.jenkins_jobs(folder.as_deref()).await
}

#[tauri::command]
pub async fn jenkins_builds(
    app: App<'_>,
    job: String,
    limit: Option<u32>,
) -> Result<Vec<JenkinsBuild>, UserError> {
    app.jenkins_builds(&job, limit.unwrap_or(20)).await
}

#[tauri::command]
pub async fn jenkins_stages(
    app: App<'_>,
    job: String,
    number: u32,
) -> Result<JenkinsStageView, UserError> {
    app.jenkins_stages(&job, number).await
}

#[tauri::command]
pub async fn jenkins_build(app: App<'_>, job: String) -> Result<Option<String>, UserError> {
    app.jenkins_build(&job).await
}

/// Streams a build's console log from `offset` into the channel until the build ends, the UI
/// drops the channel, or `stop_stream` names it; the last chunk has `more: false`. Returns the
/// offset reached.
#[tauri::command]
pub async fn follow_jenkins_log(
    app: App<'_>,
    streams: State<'_, Streams>,
    job: String,
    number: u32,
    offset: u64,
    on_chunk: Channel<ConsoleChunk>,
) -> Result<u64, UserError> {
    let app = app.inner().clone();
    let guard = streams.start(on_chunk.id());
    let cancel = guard.token.clone();
    app.follow_jenkins_log(&job, number, offset, &cancel, &mut |chunk| {
        if on_chunk.send(chunk.clone()).is_err() {
            cancel.cancel();
        }
    })
    .await
}
