use slipway_app::Slipway;
use slipway_core::sandbox::SandboxState;
use slipway_core::UserError;
use std::sync::Arc;
use tauri::State;

#[tauri::command]
pub async fn sandbox_start(app: State<'_, Arc<Slipway>>) -> Result<SandboxState, UserError> {
    app.sandbox_start().await
}

#[tauri::command]
pub async fn sandbox_stop(app: State<'_, Arc<Slipway>>) -> Result<SandboxState, UserError> {
    app.sandbox_stop().await
}

#[tauri::command]
pub fn sandbox_status(app: State<'_, Arc<Slipway>>) -> SandboxState {
    app.sandbox_status()
}
