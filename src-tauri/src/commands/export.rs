use slipway_app::Slipway;
use slipway_core::export::{Export, ExportKind};
use slipway_core::UserError;
use std::sync::Arc;
use tauri::State;

type App<'a> = State<'a, Arc<Slipway>>;

/// Terraform (the blueprint of `project`), k8s, jenkinsfile or github-actions (the pipeline
/// project `project` deployed to `environment`), as text the UI shows and saves.
#[tauri::command]
pub async fn export(
    app: App<'_>,
    kind: ExportKind,
    project: Option<String>,
    environment: Option<String>,
) -> Result<Export, UserError> {
    app.export(kind, project.as_deref(), environment.as_deref())
        .await
}
