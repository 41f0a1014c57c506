use slipway_app::Slipway;
use slipway_core::provision::executor::{ApplyReport, DestroyReport, Drift};
use slipway_core::provision::plan::Plan;
use slipway_core::provision::{Blueprint, Observed, ResourceSpec};
use slipway_core::UserError;
use std::sync::Arc;
use tauri::State;

type App<'a> = State<'a, Arc<Slipway>>;

#[tauri::command]
pub async fn get_blueprint(app: App<'_>, project: Option<String>) -> Result<Blueprint, UserError> {
    app.blueprint(project.as_deref()).await
}

#[tauri::command]
pub async fn save_blueprint(app: App<'_>, blueprint: Blueprint) -> Result<Blueprint, UserError> {
    app.save_blueprint(blueprint).await
}

#[tauri::command]
pub async fn blueprint_resources(
    app: App<'_>,
    project: Option<String>,
) -> Result<Vec<ResourceSpec>, UserError> {
    Ok(app.blueprint(project.as_deref()).await?.resources())
}

#[tauri::command]
pub async fn plan(app: App<'_>, project: Option<String>) -> Result<Plan, UserError> {
    app.plan(project.as_deref()).await
}

/// Progress arrives on the event channel (`resourceProgress`, then `provisionFinished`).
#[tauri::command]
pub async fn apply(app: App<'_>, project: Option<String>) -> Result<ApplyReport, UserError> {
    app.apply(project.as_deref()).await
}

#[tauri::command]
pub async fn destroy(app: App<'_>, project: Option<String>) -> Result<DestroyReport, UserError> {
    app.destroy(project.as_deref()).await
}

#[tauri::command]
pub async fn refresh(app: App<'_>, project: Option<String>) -> Result<Vec<Drift>, UserError> {
    app.refresh(project.as_deref()).await
}

#[tauri::command]
pub fn cancel_provisioning(app: App<'_>) -> bool {
    app.cancel_provisioning()
}

#[tauri::command]
pub async fn project_resources(
    app: App<'_>,
    project: Option<String>,
) -> Result<Vec<Observed>, UserError> {
    app.resources(project.as_deref()).await
}
