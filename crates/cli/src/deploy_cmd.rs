//! `slipway env`, `deploy`, `redeploy`, `rollback`, `status`, `deploy-logs` and `teardown`:
//! environments and deployments to Kubernetes, with live per-pod progress.

use clap::{Args, Subcommand};
use slipway_app::Slipway;
use slipway_core::deploy::*;
use slipway_core::events::Event;
use slipway_core::UserError;
use std::io::Write;
use std::sync::Arc;

#[derive(Args, Clone)]
pub struct Which {
    /// The project (default: the only one).
    #[arg(long)]
    pub project: Option<String>,
    /// The environment (default: the one runs deploy to, or the only one).
    #[arg(long = "env")]
    pub env: Option<String>,
}

#[derive(Subcommand)]
pub enum EnvCmd {
    /// The project's environments.
    List {
        #[arg(long)]
        project: Option<String>,
    },
    /// Add or change an environment: a Kubernetes context and namespace (or --local).
    Set {
        name: String,
        #[arg(long)]
        project: Option<String>,
        /// The kubeconfig context (default: the connected one, else the current one).
        #[arg(long)]
        context: Option<String>,
        /// The kubeconfig file (default: the connected one, else KUBECONFIG or ~/.kube/config).
        #[arg(long)]
        kubeconfig: Option<String>,
        /// The namespace (default: the manifests' own, else the project id).
        #[arg(long)]
        namespace: Option<String>,
        /// in-cluster (a MariaDB in the namespace, loaded with the schema) or rds (the live
        /// RDS instance `slipway apply` made).
        #[arg(long, default_value = "in-cluster")]
        database: String,
        /// With --database rds: the blueprint's database (db-live or db-test).
        #[arg(long)]
        rds_instance: Option<String>,
        /// Sets every Deployment's progress deadline, in seconds.
        #[arg(long)]
        progress_deadline: Option<u32>,
        /// Pipeline runs of the project deploy here.
        #[arg(long)]
        runs: bool,
        /// The local Docker engine instead of a cluster.
        #[arg(long, conflicts_with_all = ["context", "kubeconfig", "namespace", "eks"])]
        local: bool,
        /// Slipway's EKS cluster: writes its context into the kubeconfig (like
        /// `aws eks update-kubeconfig`, with `slipway eks-token`) and uses it.
        #[arg(long, conflicts_with = "context")]
        eks: bool,
        /// With --eks: the blueprint's project (default: slipway).
        #[arg(long, requires = "eks")]
        blueprint: Option<String>,
    },
    /// Forget an environment and its history (tear it down first to remove what it runs).
    Remove {
        name: String,
        #[arg(long)]
        project: Option<String>,
    },
    /// The contexts of a kubeconfig.
    Contexts {
        #[arg(long)]
        kubeconfig: Option<String>,
    },
    /// Configuration per environment: list, set, unset, move-secrets.
    Config {
        #[arg(long)]
        project: Option<String>,
        /// all (the default for every environment), test, local, or an environment's name.
        #[arg(long = "env")]
        env: Option<String>,
        #[command(subcommand)]
        action: Option<crate::config_cmd::ConfigCmd>,
    },
}

fn fmt_time(ms: i64) -> String {
    // UTC, from the days since the epoch (Howard Hinnant's civil_from_days).
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn target_text(t: &EnvironmentTarget) -> String {
    match t {
        EnvironmentTarget::Local => "local Docker engine".into(),
        EnvironmentTarget::Kubernetes(k) => format!(
            "kubernetes: context {}, namespace {}, database {}{}",
            k.context.as_deref().unwrap_or("(connected/current)"),
            k.namespace.as_deref().unwrap_or("(from the manifests)"),
            match &k.database {
                KubeDatabase::InCluster => "in-cluster".to_string(),
                KubeDatabase::Rds { instance, .. } => format!("rds {}", instance.as_deref().unwrap_or("db-live")),
            },
            k.kubeconfig.as_ref().map(|p| format!(", kubeconfig {p}")).unwrap_or_default()
        ),
    }
}

pub async fn env(app: &Arc<Slipway>, json: bool, cmd: EnvCmd) -> Result<(), UserError> {
    match cmd {
        EnvCmd::List { project } => {
            let envs = app.environments(project.as_deref()).await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&envs).expect("json"));
            } else if envs.is_empty() {
                outln!("No environments yet: `slipway env set NAME --context CTX` (runs deploy to the local Docker engine until one is marked --runs).");
            } else {
                for e in envs {
                    outln!("{:<16} {:<12} {}{}", e.project, e.name, target_text(&e.target), if e.runs { "  [runs deploy here]" } else { "" });
                }
            }
        }
        EnvCmd::Set { name, project, context, kubeconfig, namespace, database, rds_instance, progress_deadline, runs, local, eks, blueprint } => {
            let project = match project {
                Some(p) => p,
                None => app.default_project().await?.id,
            };
            let target = if local {
                EnvironmentTarget::Local
            } else {
                let database = match database.as_str() {
                    "in-cluster" => KubeDatabase::InCluster,
                    "rds" => KubeDatabase::Rds { blueprint: blueprint.clone(), instance: rds_instance },
                    other => return Err(UserError::new("Invalid command", format!("'{other}' is not a database choice"), "Use --database in-cluster or --database rds")),
                };
                let context = if eks {
                    let path = app.write_kubeconfig(blueprint.as_deref(), kubeconfig.clone().map(Into::into)).await?;
                    eprintln!("EKS context written to {}", path.display());
                    Some(format!("slipway-{}", blueprint.as_deref().unwrap_or("slipway")))
                } else {
                    context
                };
                EnvironmentTarget::Kubernetes(KubeTarget { context, kubeconfig, namespace, database, progress_deadline_secs: progress_deadline })
            };
            let e = app.save_environment(Environment { project, name, target, runs }).await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&e).expect("json"));
            } else {
                outln!("environment {} of {} saved: {}{}", e.name, e.project, target_text(&e.target), if e.runs { " (runs deploy here)" } else { "" });
            }
        }
        EnvCmd::Remove { name, project } => {
            let project = match project {
                Some(p) => p,
                None => app.default_project().await?.id,
            };
            app.delete_environment(&project, &name).await?;
            if !json {
                outln!("environment {name} of {project} removed");
            }
        }
        EnvCmd::Config { project, env, action } => crate::config_cmd::config(app, json, project, env, action).await?,
        EnvCmd::Contexts { kubeconfig } => {
            let cs = app.kube_contexts(kubeconfig).await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&cs).expect("json"));
            } else {
                for c in cs {
                    outln!(
                        "{} {:<28} {:<40} {}{}",
                        if c.current { "*" } else { " " },
                        c.name,
                        c.server.unwrap_or_default(),
                        c.namespace.map(|n| format!("namespace {n}")).unwrap_or_default(),
                        c.exec.map(|e| format!("  (credentials: {e})")).unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(())
}

/// Runs a deploy, redeploy or rollback while printing its lines (or, with --json, its
/// progress events), then the revision.
pub async fn follow(app: &Arc<Slipway>, json: bool, work: impl std::future::Future<Output = Result<Revision, UserError>>) -> Result<(), UserError> {
    let mut rx = app.subscribe();
    let printer = tokio::spawn(async move {
        while let Ok(env) = rx.recv().await {
            match &env.event {
                Event::Progress { task, message } if task == "deploy" && !json => {
                    outln!("  {message}");
                    let _ = std::io::stdout().flush();
                }
                Event::DeployProgress(_) | Event::RevisionUpdated { .. } if json => {
                    outln!("{}", serde_json::to_string(&env.event).expect("json"));
                }
                _ => {}
            }
        }
    });
    let r = work.await;
    // Let the printer drain what is queued.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    printer.abort();
    let rev = r?;
    if json {
        outln!("{}", serde_json::to_string(&rev).expect("json"));
    } else {
        outln!(
            "revision {} of {} / {}: {} ({}){}",
            rev.number,
            rev.project,
            rev.environment,
            rev.status.as_str(),
            rev.reason,
            rev.url.as_ref().map(|u| format!("; the app: {u}")).unwrap_or_default()
        );
    }
    Ok(())
}

pub fn print_status(st: &DeployStatus) {
    let e = &st.environment;
    outln!("environment {} of {} ({})", e.name, e.project, target_text(&e.target));
    if let (Some(c), Some(s)) = (&st.context, &st.server) {
        outln!("cluster: context {c} at {s}; namespace {}", st.namespace.as_deref().unwrap_or("-"));
    }
    if let Some(err) = &st.error {
        outln!("cluster not readable: {}: {}", err.what, err.why);
        outln!("  next: {}", err.fix);
    }
    match st.current {
        Some(n) => outln!("serving: revision {n}"),
        None => outln!("serving: nothing yet"),
    }
    if let Some(u) = &st.url {
        outln!("app: {u}");
    }
    for ep in st.endpoints.iter().filter(|e| e.service_type != "ClusterIP") {
        outln!("  service {} ({}, port {}): {}{}", ep.service, ep.service_type, ep.port, ep.url.as_deref().unwrap_or("-"), ep.note.as_ref().map(|n| format!(" - {n}")).unwrap_or_default());
    }
    if !st.workloads.is_empty() {
        outln!("\n{:<20} {:<9} {:>7} {:>8} {:>10} {:>9}  IMAGES", "WORKLOAD", "ROLE", "READY", "UPDATED", "AVAILABLE", "REVISION");
        for w in &st.workloads {
            outln!(
                "{:<20} {:<9} {:>7} {:>8} {:>10} {:>9}  {}",
                w.name,
                format!("{:?}", w.role).to_lowercase(),
                format!("{}/{}", w.ready, w.desired),
                w.updated,
                w.available,
                w.revision.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                w.images.join(", ")
            );
        }
    }
    if !st.pods.is_empty() {
        outln!("\n{:<40} {:<12} {:<6} {:>8}  REASON", "POD", "PHASE", "READY", "RESTARTS");
        for p in &st.pods {
            outln!(
                "{:<40} {:<12} {:<6} {:>8}  {}{}",
                p.name,
                p.phase,
                if p.ready { "yes" } else { "no" },
                p.restarts,
                p.reason.as_deref().unwrap_or(""),
                if p.current { "" } else { " (previous revision)" }
            );
        }
    }
    if !st.revisions.is_empty() {
        outln!("\nREVISIONS (newest first)");
        for r in &st.revisions {
            outln!(
                "  #{:<3} {:<11} {:<9} {}  {}{}",
                r.number,
                r.status.as_str(),
                r.operation.as_str(),
                fmt_time(r.started_at),
                r.reason,
                if st.current == Some(r.number) { "  <- serving" } else { "" }
            );
            if let Some(e) = &r.error {
                outln!("        {}: {}", e.what, e.why);
            }
            if let Some(n) = &r.note {
                outln!("        {n}");
            }
        }
    }
}

/// Prints the merged logs, each line prefixed with its pod's name.
pub async fn logs(app: &Arc<Slipway>, which: Which, follow: bool, tail: Option<i64>, json: bool) -> Result<(), UserError> {
    let cancel = slipway_app::deploy::CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
    }
    let mut out = std::io::stdout();
    let width = std::sync::atomic::AtomicUsize::new(0);
    app.deploy_logs(which.project.as_deref(), which.env.as_deref(), follow, tail, &cancel, &mut |lines| {
        for l in lines {
            let r = if json {
                writeln!(out, "{}", serde_json::to_string(&l).expect("json"))
            } else {
                let w = width.fetch_max(l.pod.len(), std::sync::atomic::Ordering::Relaxed).max(l.pod.len());
                writeln!(out, "{:<w$} | {}", l.pod, l.text)
            };
            if r.is_err() {
                return false; // stdout closed (a pipe to head)
            }
        }
        out.flush().is_ok()
    })
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_utc() {
        assert_eq!(super::fmt_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::fmt_time(1_795_740_978_000), "2026-11-27 00:56:18 UTC");
        assert_eq!(super::fmt_time(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }
}
