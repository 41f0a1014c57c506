//! The Deployments page: environments, deploy / redeploy / rollback (their live progress comes
//! as `deployProgress` and `revisionUpdated` events), status, history, merged logs.

use slipway_app::Slipway;
use slipway_core::deploy::{DeployLogChunk, DeployStatus, Environment, KubeContextInfo, Revision};
use slipway_core::UserError;
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::State;

use super::streams::Streams;

type App<'a> = State<'a, Arc<Slipway>>;

#[tauri::command]
pub async fn environments(
    app: App<'_>,
    project: Option<String>,
) -> Result<Vec<Environment>, UserError> {
    app.environments(project.as_deref()).await
}

#[tauri::command]
pub async fn save_environment(
    app: App<'_>,
    environment: Environment,
) -> Result<Environment, UserError> {
    app.save_environment(environment).await
}

#[tauri::command]
pub async fn delete_environment(
    app: App<'_>,
    project: String,
    name: String,
) -> Result<(), UserError> {
    app.delete_environment(&project, &name).await
}

#[tauri::command]
pub async fn kube_contexts(
    app: App<'_>,
    kubeconfig: Option<String>,
) -> Result<Vec<KubeContextInfo>, UserError> {
    app.kube_contexts(kubeconfig).await
}

/// Deploys a run's images (the newest run that built images when `run` is None) and returns
/// the revision once every rollout has ended.
#[tauri::command]
pub async fn deploy(
    app: App<'_>,
    project: Option<String>,
    environment: Option<String>,
    run: Option<String>,
) -> Result<Revision, UserError> {
    app.deploy(project.as_deref(), environment.as_deref(), run.as_deref())
        .await
}

#[tauri::command]
pub async fn redeploy(
    app: App<'_>,
    project: Option<String>,
    environment: Option<String>,
) -> Result<Revision, UserError> {
    app.redeploy(project.as_deref(), environment.as_deref())
        .await
}

#[tauri::command]
pub async fn rollback(
    app: App<'_>,
    project: Option<String>,
    environment: Option<String>,
    to: Option<u32>,
    reason: String,
) -> Result<Revision, UserError> {
    app.rollback(project.as_deref(), environment.as_deref(), to, &reason)
        .await
}

#[tauri::command]
pub async fn deploy_status(
    app: App<'_>,
    project: Option<String>,
    environment: Option<String>,
) -> Result<DeployStatus, UserError> {
    app.deploy_status(project.as_deref(), environment.as_deref())
        .await
}

#[tauri::command]
pub async fn revisions(
    app: App<'_>,
    project: Option<String>,
    environment: Option<String>,
    limit: Option<u32>,
) -> Result<Vec<Revision>, UserError> {
    app.revisions(
        project.as_deref(),
        environment.as_deref(),
        limit.unwrap_or(50),
    )
    .await
}

#[tauri::command]
pub async fn teardown(
    app: App<'_>,
    project: Option<String>,
    environment: Option<String>,
) -> Result<bool, UserError> {
    app.teardown(project.as_deref(), environment.as_deref())
        .await
}

/// Streams the merged logs of every replica into the channel (batches of lines, each with its
/// pod) until `stop_stream` names the channel or the UI drops it; without `follow`, what is
/// there and a last chunk with `done: true`.
#[tauri::command]
pub async fn follow_deploy_logs(
    app: App<'_>,
    streams: State<'_, Streams>,
    project: Option<String>,
    environment: Option<String>,
    follow: bool,
    tail: Option<i64>,
    on_chunk: Channel<DeployLogChunk>,
) -> Result<(), UserError> {
    let app = app.inner().clone();
    let guard = streams.start(on_chunk.id());
    let r = app
        .deploy_logs(
            project.as_deref(),
            environment.as_deref(),
            follow,
            tail,
            &guard.token,
            &mut |lines| on_chunk.send(DeployLogChunk { lines, done: false }).is_ok(),
        )
        .await;
    let _ = on_chunk.send(DeployLogChunk {
        lines: vec![],
        done: true,
    });
    r
}
