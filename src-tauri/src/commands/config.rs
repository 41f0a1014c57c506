//! The Deployments page's Configuration panel: a project's values per environment (`all`,
//! `test`, `local` and its own environments) over the repository's defaults, secrets kept in the
//! keychain only, and the move of the secrets a repository commits into the keychain.

use slipway_app::config::ConfigInput;
use slipway_app::Slipway;
use slipway_core::pipeline::config::ConfigView;
use slipway_core::UserError;
use std::sync::Arc;
use tauri::State;

type App<'a> = State<'a, Arc<Slipway>>;

#[tauri::command]
pub async fn env_config(app: App<'_>, project: Option<String>, environment: Option<String>) -> Result<ConfigView, UserError> {
    app.config(project.as_deref(), environment.as_deref()).await
}

#[tauri::command]
pub async fn env_config_set(app: App<'_>, project: Option<String>, environment: String, name: String, input: ConfigInput) -> Result<ConfigView, UserError> {
    app.config_set(project.as_deref(), &environment, &name, input).await
}

#[tauri::command]
pub async fn env_config_unset(app: App<'_>, project: Option<String>, environment: String, name: String) -> Result<ConfigView, UserError> {
    app.config_unset(project.as_deref(), &environment, &name).await
}

#[tauri::command]
pub async fn move_committed_secrets(app: App<'_>, project: Option<String>) -> Result<Vec<String>, UserError> {
    app.move_committed_secrets(project.as_deref()).await
}
