use slipway_app::Slipway;
use slipway_core::connections::SecretsStatus;
use slipway_core::settings::Settings;
use slipway_core::UserError;
use std::sync::Arc;
use tauri::State;

#[tauri::command]
pub async fn get_settings(app: State<'_, Arc<Slipway>>) -> Result<Settings, UserError> {
    app.settings().await
}

#[tauri::command]
pub async fn save_settings(
    app: State<'_, Arc<Slipway>>,
    settings: Settings,
) -> Result<Settings, UserError> {
    app.save_settings(settings).await
}

/// Where secrets are kept, and whether that store works now.
#[tauri::command]
pub async fn secrets_status(app: State<'_, Arc<Slipway>>) -> Result<SecretsStatus, UserError> {
    Ok(app.secrets_status())
}
