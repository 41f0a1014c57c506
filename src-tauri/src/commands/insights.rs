//! The Insights page: the four DORA measures per environment over a window, the audit trail
//! (filtered, exported as CSV or JSON text the page saves), and the Launch page's one line.

use slipway_app::insights::AuditFormat;
use slipway_app::Slipway;
use slipway_core::audit::{AuditEntry, AuditFilter};
use slipway_core::insights::Insights;
use slipway_core::UserError;
use std::sync::Arc;
use tauri::State;

type App<'a> = State<'a, Arc<Slipway>>;

#[tauri::command]
pub async fn insights(app: App<'_>, project: Option<String>, env: Option<String>, days: Option<u32>) -> Result<Insights, UserError> {
    app.insights(project.as_deref(), env.as_deref(), days).await
}

#[tauri::command]
pub async fn delivery_line(app: App<'_>, project: String) -> Result<Option<String>, UserError> {
    app.delivery_line(&project).await
}

#[tauri::command]
pub async fn audit_trail(app: App<'_>, filter: AuditFilter) -> Result<Vec<AuditEntry>, UserError> {
    app.audit(filter).await
}

#[tauri::command]
pub async fn export_audit(app: App<'_>, filter: AuditFilter, format: AuditFormat) -> Result<String, UserError> {
    app.audit_export(filter, format).await
}
