//! Live progress of apply and destroy: a bar with "X of Y" and a line per finished resource
//! (or, with --json, one JSON event per line), and Ctrl-C to cancel cleanly.

use indicatif::{ProgressBar, ProgressStyle};
use slipway_app::Slipway;
use slipway_core::events::Event;
use slipway_core::provision::executor::Phase;
use slipway_core::provision::plan::{Action, Plan};
use slipway_core::UserError;
use std::future::Future;
use std::sync::Arc;

pub fn print_plan(plan: &Plan) {
    for c in &plan.changes {
        let sign = match c.action {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::NoChange => " ",
        };
        let cost = c.monthly_cost.map(|m| format!("${m:>8.2}/mo")).unwrap_or_else(|| "  no price".into());
        outln!(
            "{sign:>3} {:<18} {:<20} {:<24} {cost}{}",
            c.id,
            c.kind.label(),
            c.name,
            c.reason.as_ref().map(|r| format!("  ({r})")).unwrap_or_default()
        );
    }
    outln!("\nPlan: {}.", plan.summary());
    outln!(
        "Estimated cost: ${:.2} per month ({} on-demand prices of {}{}).",
        plan.monthly_total,
        plan.prices.region,
        plan.prices.date,
        plan.prices.note.as_ref().map(|n| format!("; {n}")).unwrap_or_default()
    );
    if !plan.opt_ins.is_empty() {
        outln!("\nOpt-in parts (turn one on or off with `slipway blueprint --set <name>=true|false`):");
        for o in &plan.opt_ins {
            outln!("  [{}] {} ({}): {}", if o.enabled { "on " } else { "off" }, o.label, o.field, o.purpose);
        }
    }
}

/// Runs `work` while showing its events; Ctrl-C cancels it (it then stops cleanly and reports).
pub async fn follow<T>(app: &Arc<Slipway>, json: bool, work: impl Future<Output = Result<T, UserError>>) -> Result<T, UserError> {
    let mut rx = app.subscribe();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bar = if json || !tty { ProgressBar::hidden() } else { ProgressBar::new(0) };
    // Without a terminal the bar is hidden and its lines would be too: print them plainly.
    let line = {
        let bar = bar.clone();
        move |m: String| if tty { bar.println(m) } else { outln!("{m}") }
    };
    bar.set_style(ProgressStyle::with_template("{spinner} [{pos:>2}/{len:2}] {wide_msg} {elapsed}").expect("template"));
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let printer = {
        let bar = bar.clone();
        let line = line.clone();
        tokio::spawn(async move {
            while let Ok(env) = rx.recv().await {
                let Event::ResourceProgress(p) = &env.event else { continue };
                if json {
                    outln!("{}", serde_json::to_string(&env).expect("event json"));
                    continue;
                }
                bar.set_length(p.total as u64);
                bar.set_position(p.done as u64);
                let state = p.cloud_state.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
                let timing = format!("{:.1}s of ~{:.0}s", p.elapsed_ms as f64 / 1000.0, p.expected_ms as f64 / 1000.0);
                match p.phase {
                    Phase::Ready | Phase::Unchanged | Phase::Deleted => line(format!(
                        "  {:<10} {:<18} {:<20} {}{state}  {timing}",
                        format!("{:?}", p.phase).to_lowercase(),
                        p.id,
                        p.kind.label(),
                        p.physical_id.clone().unwrap_or_default()
                    )),
                    Phase::Failed => line(format!(
                        "  failed     {:<18} {}",
                        p.id,
                        p.error.as_ref().map(|e| e.to_string()).unwrap_or_default()
                    )),
                    Phase::Pending => {}
                    other => bar.set_message(format!("{} {}: {:?}{state} {timing}", p.kind.label(), p.id, other).to_lowercase()),
                }
            }
        })
    };
    tokio::pin!(work);
    let result = loop {
        tokio::select! {
            r = &mut work => break r,
            _ = tokio::signal::ctrl_c() => {
                line("Cancelling: finishing the calls under way, then stopping...".into());
                app.cancel_provisioning();
            }
        }
    };
    // Let the printer drain what is already queued.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    printer.abort();
    bar.finish_and_clear();
    result
}
