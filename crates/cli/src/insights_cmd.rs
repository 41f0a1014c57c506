//! `slipway insights` (the four DORA measures per environment) and `slipway audit` (the audit
//! trail, filtered, as text, CSV or JSON).

use clap::Args;
use slipway_app::insights::AuditFormat;
use slipway_app::Slipway;
use slipway_core::audit::{AuditAction, AuditFilter};
use slipway_core::board::dates::{format_date, format_timestamp, parse_timestamp, DAY_MS};
use slipway_core::board::Actor;
use slipway_core::insights::{human_duration, Band};
use slipway_core::UserError;

#[derive(Args)]
pub struct InsightsArgs {
    #[arg(long)]
    project: Option<String>,
    /// One environment (default: every environment of the project, or of every project).
    #[arg(long)]
    env: Option<String>,
    /// The window, in days (7, 30 or 90; up to 365).
    #[arg(long, default_value_t = 30)]
    days: u32,
}

#[derive(Args)]
pub struct AuditArgs {
    #[arg(long)]
    project: Option<String>,
    #[arg(long)]
    env: Option<String>,
    /// connect, disconnect, plan, apply, destroy, run, deploy, redeploy, rollback, board-move.
    #[arg(long)]
    action: Option<String>,
    /// person or automation.
    #[arg(long)]
    by: Option<String>,
    /// Words to find in the entries.
    #[arg(long)]
    text: Option<String>,
    /// From this time (YYYY-MM-DD or YYYY-MM-DD HH:MM, UTC).
    #[arg(long)]
    since: Option<String>,
    /// The newest N entries (default 1000).
    #[arg(long)]
    limit: Option<u32>,
    /// Print CSV (spreadsheets; formulas guarded) instead of text; --json prints a JSON array.
    #[arg(long)]
    csv: bool,
}

fn band(b: Option<Band>) -> &'static str {
    b.map_or("-", Band::as_str)
}

pub async fn insights(app: &Slipway, json: bool, a: InsightsArgs) -> Result<(), UserError> {
    let i = app.insights(a.project.as_deref(), a.env.as_deref(), Some(a.days)).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&i).expect("insights json"));
        return Ok(());
    }
    if i.environments.is_empty() {
        outln!("No environment yet: add one with `slipway env add`, then deploy.");
        return Ok(());
    }
    for e in &i.environments {
        outln!(
            "{} / {}: the last {} days ({} to {})",
            e.project,
            e.environment,
            e.days,
            format_date(e.from.div_euclid(DAY_MS)),
            format_date(e.to.div_euclid(DAY_MS))
        );
        let f = &e.deployment_frequency;
        outln!("  Deployment frequency  {:<44} {}", format!("{} deploys ({:.1} a week)", f.deploys, f.per_week), band(f.band));
        let l = &e.lead_time;
        let lead = match (l.median_ms, l.p90_ms) {
            (Some(m), Some(p)) => format!("median {}, p90 {} ({} changes)", human_duration(m), human_duration(p), l.changes),
            _ => "no change deployed".into(),
        };
        outln!("  Lead time             {lead:<44} {}", band(l.band));
        let c = &e.change_failure_rate;
        let cfr = match c.rate {
            Some(r) => format!("{:.0}% ({} of {} deploys)", r * 100.0, c.failed, c.deploys),
            None => "no deploy".into(),
        };
        outln!("  Change failure rate   {cfr:<44} {}", band(c.band));
        let t = &e.time_to_restore;
        let ttr = match t.median_ms {
            Some(m) => format!("median {} ({} restores)", human_duration(m), t.restores),
            None => "nothing to restore".into(),
        };
        outln!("  Time to restore       {ttr:<44} {}", band(t.band));
        for w in &e.weeks {
            let mut s = format!("    week of {}: {} deploys", w.week, w.deploys);
            if let Some(m) = w.lead_time_median_ms {
                s.push_str(&format!(", lead time {}", human_duration(m)));
            }
            if w.ended > 0 {
                s.push_str(&format!(", {} of {} failed", w.failed, w.ended));
            }
            if let Some(m) = w.restore_median_ms {
                s.push_str(&format!(", restored in {}", human_duration(m)));
            }
            outln!("{s}");
        }
        for n in &e.notes {
            outln!("  note: {n}");
        }
    }
    Ok(())
}

fn filter(a: &AuditArgs) -> Result<AuditFilter, UserError> {
    let action = match &a.action {
        Some(s) => Some(AuditAction::parse(s).ok_or_else(|| {
            UserError::new(
                "Unknown audit action",
                format!("\"{s}\" is not an action the trail records"),
                "Use connect, disconnect, plan, apply, destroy, run, deploy, redeploy, rollback or board-move",
            )
        })?),
        None => None,
    };
    let by = match a.by.as_deref().map(str::trim) {
        Some("person" | "user") => Some(Actor::User),
        Some("automation") => Some(Actor::Automation),
        Some(other) => return Err(UserError::new("Unknown actor", format!("\"{other}\" is neither person nor automation"), "Use --by person or --by automation")),
        None => None,
    };
    let since = match &a.since {
        Some(s) => Some(parse_timestamp(s).ok_or_else(|| UserError::new("The start time is not valid", format!("\"{s}\" is not a date"), "Use YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC)"))?),
        None => None,
    };
    Ok(AuditFilter { project: a.project.clone(), environment: a.env.clone(), action, by, text: a.text.clone(), since, until: None, limit: a.limit })
}

pub async fn audit(app: &Slipway, json: bool, a: AuditArgs) -> Result<(), UserError> {
    let f = filter(&a)?;
    if a.csv || json {
        let format = if a.csv { AuditFormat::Csv } else { AuditFormat::Json };
        let text = app.audit_export(f, format).await?;
        out!("{text}");
        if !text.ends_with('\n') {
            outln!();
        }
        return Ok(());
    }
    let entries = app.audit(f).await?;
    if entries.is_empty() {
        outln!("The audit trail has no entry that matches.");
    }
    for e in entries {
        let mut s = format!("{}  {}", format_timestamp(e.at), e.os_user);
        if let Some(i) = &e.identity {
            s.push_str(&format!(" ({i})"));
        }
        if e.by == Actor::Automation {
            s.push_str(" [automation]");
        }
        s.push_str(&format!("  {} {}", e.action.as_str(), e.subject));
        if let Some(p) = &e.project {
            s.push_str(&format!(" of {p}"));
            if let Some(env) = &e.environment {
                s.push_str(&format!("/{env}"));
            }
        }
        s.push_str(&format!(": {}", e.outcome));
        if !e.detail.is_empty() {
            s.push_str(&format!(", {}", e.detail));
        }
        if let Some(r) = &e.reason {
            s.push_str(&format!(" (why: {r})"));
        }
        outln!("{s}");
    }
    Ok(())
}
