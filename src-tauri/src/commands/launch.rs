//! The Launch page: the journey's state and the one action of each step.

use slipway_app::pipeline::ProjectInput;
use slipway_app::Slipway;
use slipway_core::deploy::Revision;
use slipway_core::launch::LaunchState;
use slipway_core::pipeline::project::Project;
use slipway_core::pipeline::run::Run;
use slipway_core::provision::plan::Plan;
use slipway_core::sandbox::SandboxMapping;
use slipway_core::UserError;
use std::sync::Arc;
use tauri::State;

type App<'a> = State<'a, Arc<Slipway>>;

#[tauri::command]
pub async fn launch_state(app: App<'_>, project: Option<String>) -> Result<LaunchState, UserError> {
    app.launch_state(project.as_deref()).await
}

#[tauri::command]
pub async fn launch_add_project(app: App<'_>, input: ProjectInput) -> Result<Project, UserError> {
    app.launch_add_project(input).await
}

#[tauri::command]
pub async fn launch_plan(app: App<'_>, project: Option<String>) -> Result<Plan, UserError> {
    app.launch_plan(project.as_deref()).await
}

/// Starts the apply and the first run and returns at once with the run (None when a run had
/// already passed); progress arrives on the event channel.
#[tauri::command]
pub async fn launch_apply(app: App<'_>, project: Option<String>) -> Result<Option<Run>, UserError> {
    Ok(app.inner().launch_apply(project.as_deref()).await?.run)
}

#[tauri::command]
pub async fn launch_run(app: App<'_>, project: Option<String>) -> Result<Run, UserError> {
    app.inner().launch_run(project.as_deref()).await
}

#[tauri::command]
pub async fn launch_deploy(app: App<'_>, project: Option<String>) -> Result<Revision, UserError> {
    app.launch_deploy(project.as_deref()).await
}

#[tauri::command]
pub async fn sandbox_mappings(app: App<'_>) -> Result<Vec<SandboxMapping>, UserError> {
    Ok(app.sandbox_mappings().await)
}
