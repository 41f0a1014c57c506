use slipway_app::pipeline::ProjectInput;
use slipway_app::Slipway;
use slipway_core::pipeline::logs::LogChunk;
use slipway_core::pipeline::project::Project;
use slipway_core::pipeline::run::{Run, StageName, Trigger};
use slipway_core::UserError;
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::State;

type App<'a> = State<'a, Arc<Slipway>>;

#[tauri::command]
pub async fn detect_project(app: App<'_>, input: ProjectInput) -> Result<Project, UserError> {
    app.detect_project(input).await
}

#[tauri::command]
pub async fn save_project(app: App<'_>, project: Project) -> Result<Project, UserError> {
    app.save_project(project).await
}

#[tauri::command]
pub async fn projects(app: App<'_>) -> Result<Vec<Project>, UserError> {
    app.projects().await
}

/// Queues a run and returns it at once; its progress arrives as `runUpdated` events.
#[tauri::command]
pub async fn start_run(
    app: App<'_>,
    project: String,
    git_ref: Option<String>,
    until: Option<StageName>,
) -> Result<Run, UserError> {
    Ok(app
        .start_run(&project, git_ref, until, Trigger::Manual)
        .await?
        .0)
}

#[tauri::command]
pub async fn rerun(app: App<'_>, run: String) -> Result<Run, UserError> {
    Ok(app.rerun(&run).await?.0)
}

#[tauri::command]
pub async fn cancel_run(app: App<'_>, run: String) -> Result<Run, UserError> {
    app.cancel_run(&run).await
}

#[tauri::command]
pub async fn runs(
    app: App<'_>,
    project: Option<String>,
    limit: Option<u32>,
) -> Result<Vec<Run>, UserError> {
    app.runs(project.as_deref(), limit.unwrap_or(50)).await
}

#[tauri::command]
pub async fn get_run(app: App<'_>, run: String) -> Result<Run, UserError> {
    app.run(&run).await
}

#[tauri::command]
pub fn log_steps(app: App<'_>, run: String, stage: StageName) -> Vec<String> {
    app.log_steps(&run, stage)
}

/// Streams one step's log from `offset` into the channel until the step ends or the UI drops
/// the channel. The file is read every 50 ms and whatever is there goes as one message (chunks
/// of up to 256 KiB), so a fast log arrives in few large messages; the last chunk has
/// `done: true`.
#[tauri::command]
pub async fn follow_log(
    app: App<'_>,
    run: String,
    stage: StageName,
    step: String,
    offset: u64,
    on_chunk: Channel<LogChunk>,
) -> Result<u64, UserError> {
    let app = app.inner().clone();
    app.follow_log(&run, stage, &step, offset, true, &mut |c| {
        on_chunk.send(c).is_ok()
    })
    .await
}
