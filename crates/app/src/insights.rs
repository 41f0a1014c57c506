//! Delivery insights and the audit trail as the front ends see them: the four DORA measures of
//! each environment (computed by `core::insights` from the store's revisions and the commit
//! times of its runs), the audit trail filtered and exported, and the Launch page's one line.

use std::collections::HashMap;

use slipway_core::audit::{AuditDraft, AuditEntry, AuditFilter};
use slipway_core::insights::{self, EnvironmentInsights, Insights};
use slipway_core::{now_ms, UserError};

use crate::Slipway;

/// How the audit trail is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum AuditFormat {
    Csv,
    Json,
}

impl Slipway {
    /// The four measures over the last `days` (30 when None) for every environment of a project
    /// (of every project when None), or of the one named.
    pub async fn insights(&self, project: Option<&str>, env: Option<&str>, days: Option<u32>) -> Result<Insights, UserError> {
        let days = insights::check_days(days.unwrap_or(30))?;
        let projects: Vec<String> = match project {
            Some(id) => vec![self.project(id).await?.id],
            None => self.store.projects().await?.into_iter().map(|p| p.id).collect(),
        };
        let now = now_ms();
        let mut environments = vec![];
        for p in &projects {
            let envs = self.store.environments(Some(p)).await?;
            if let Some(name) = env {
                if project.is_some() && !envs.iter().any(|e| e.name == name) {
                    let names: Vec<&str> = envs.iter().map(|e| e.name.as_str()).collect();
                    return Err(UserError::new(
                        "Environment not found",
                        format!("{p} has no environment \"{name}\" (it has {})", if names.is_empty() { "none".to_string() } else { names.join(", ") }),
                        "Name one of its environments, or leave --env out for all of them",
                    ));
                }
            }
            let commit_times: HashMap<String, i64> = self
                .store
                .runs(Some(p), 100_000)
                .await?
                .into_iter()
                .filter_map(|r| Some((r.commit?, r.commit_time?)))
                .collect();
            for e in envs.iter().filter(|e| env.is_none_or(|n| n == e.name)) {
                let revisions = self.store.revisions(p, &e.name, u32::MAX).await?;
                environments.push(insights::compute(p, &e.name, &revisions, &commit_times, now, days));
            }
        }
        Ok(Insights { days, generated_at: now, environments })
    }

    /// "3 deploys this week, lead time 12 min" for a project's busiest environment of the last
    /// 7 days; None before its first deploy in that time.
    pub async fn delivery_line(&self, project: &str) -> Result<Option<String>, UserError> {
        let week = self.insights(Some(project), None, Some(7)).await?;
        let busiest: Option<&EnvironmentInsights> = week.environments.iter().max_by_key(|e| e.deployment_frequency.deploys);
        Ok(busiest.and_then(insights::summary_line))
    }

    /// The audit trail, oldest first, filtered.
    pub async fn audit(&self, filter: AuditFilter) -> Result<Vec<AuditEntry>, UserError> {
        filter.validate()?;
        let entries = self.store.audit(filter.project.as_deref().filter(|p| !p.trim().is_empty())).await?;
        Ok(filter.apply(entries))
    }

    /// The filtered audit trail as CSV or JSON text.
    pub async fn audit_export(&self, filter: AuditFilter, format: AuditFormat) -> Result<String, UserError> {
        let entries = self.audit(filter).await?;
        Ok(match format {
            AuditFormat::Csv => slipway_core::audit::to_csv(&entries),
            AuditFormat::Json => slipway_core::audit::to_json(&entries),
        })
    }

    /// Records an entry the journal cannot see (connect, disconnect, plan). A failure is logged:
    /// the action itself went through.
    pub(crate) async fn record_audit(&self, draft: AuditDraft) {
        if let Err(e) = self.store.append_audit(draft).await {
            tracing::warn!(error = %e, "could not record an audit entry");
        }
    }
}
