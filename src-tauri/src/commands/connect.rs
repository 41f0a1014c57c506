use slipway_app::Slipway;
use slipway_core::connections::*;
use slipway_core::UserError;
use std::sync::Arc;
use tauri::State;

type App<'a> = State<'a, Arc<Slipway>>;

#[tauri::command]
pub async fn doctor(app: App<'_>) -> Result<DoctorReport, UserError> {
    app.doctor().await
}

#[tauri::command]
pub async fn connections(app: App<'_>) -> Result<Vec<ConnectionStatus>, UserError> {
    app.connections().await
}

#[tauri::command]
pub fn aws_profiles(app: App<'_>) -> Result<Vec<AwsProfile>, UserError> {
    app.aws_profiles()
}

#[tauri::command]
pub async fn connect_aws(
    app: App<'_>,
    input: AwsConnectInput,
) -> Result<ConnectionStatus, UserError> {
    app.connect_aws(input).await
}

#[tauri::command]
pub async fn aws_regions(app: App<'_>) -> Result<Vec<String>, UserError> {
    app.aws_regions().await
}

#[tauri::command]
pub async fn set_aws_region(app: App<'_>, region: String) -> Result<ConnectionStatus, UserError> {
    app.set_aws_region(region).await
}

#[tauri::command]
pub async fn connect_github(
    app: App<'_>,
    input: GithubConnectInput,
) -> Result<ConnectionStatus, UserError> {
    app.connect_github(input).await
}

#[tauri::command]
pub fn github_cli_token_available(app: App<'_>, base_url: Option<String>) -> bool {
    app.github_cli_token_available(base_url.as_deref())
}

#[tauri::command]
pub async fn connect_registry(
    app: App<'_>,
    input: RegistryConnectInput,
) -> Result<ConnectionStatus, UserError> {
    app.connect_registry(input).await
}

#[tauri::command]
pub fn docker_config_entries(app: App<'_>) -> Result<Vec<DockerConfigEntry>, UserError> {
    app.docker_config_entries()
}

#[tauri::command]
pub async fn check_connection(
    app: App<'_>,
    kind: ConnectionKind,
) -> Result<ConnectionStatus, UserError> {
    app.check_connection(kind).await
}

#[tauri::command]
pub async fn disconnect(app: App<'_>, kind: ConnectionKind) -> Result<ConnectionStatus, UserError> {
    app.disconnect(kind).await
}
