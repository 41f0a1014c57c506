//! `slipway project`, `run`, `runs`, `rerun` and `logs`: projects and pipeline runs.

use clap::Subcommand;
use slipway_app::pipeline::ProjectInput;
use slipway_app::Slipway;
use slipway_core::events::Event;
use slipway_core::pipeline::project::{Project, Source};
use slipway_core::pipeline::run::{Run, StageName, Status, Trigger};
use slipway_core::UserError;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum ProjectCmd {
    /// Detect the services of a repository (a folder or a Git URL) and save the project.
    Add {
        source: String,
        /// The project id (default: from the folder or repository name).
        #[arg(long)]
        id: Option<String>,
    },
    /// Show what detection finds in a repository, without saving anything.
    Detect { source: String },
    /// Show a project (the only one when none is named).
    Show { id: Option<String> },
    /// List the projects.
    List,
}

pub fn source_of(arg: &str) -> Source {
    if arg.contains("://") || arg.starts_with("git@") {
        Source::Git { url: arg.to_string() }
    } else {
        let p = std::path::Path::new(arg);
        let abs = p.canonicalize().unwrap_or_else(|_| std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf()));
        Source::Path { path: abs.to_string_lossy().into_owned() }
    }
}

pub fn parse_stage(s: &str) -> Result<StageName, UserError> {
    StageName::parse(s).ok_or_else(|| UserError::new("Invalid command", format!("'{s}' is not a stage"), "Use checkout, build, test, push or deploy"))
}

fn print_project(json: bool, p: &Project) {
    if json {
        outln!("{}", serde_json::to_string_pretty(p).expect("json"));
        return;
    }
    let folder = if p.subdir.is_empty() { String::new() } else { format!(", folder {}", p.subdir) };
    outln!("project {} ({}{folder}) at {}", p.id, p.source.display(), p.git_ref);
    for s in &p.services {
        let test = match (&s.test_command, s.tests) {
            (_, false) => "no tests (tests = false)".to_string(),
            (Some(c), true) => c.join(" "),
            (None, true) => "NO TEST COMMAND".to_string(),
        };
        outln!(
            "  service {:<12} {:<18} port {:<6} depends on [{}]  test: {test}",
            s.name,
            format!("{}/{}", s.context, s.dockerfile),
            s.port.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
            s.depends_on.join(", ")
        );
    }
    if let Some(db) = &p.database {
        let scripts = db.scripts();
        outln!("  database {} ({} {}) database {} user {} schema {}", db.name, db.engine.as_str(), db.image, db.database, db.user, if scripts.is_empty() { "-".to_string() } else { scripts.join(", ") });
    }
    if !p.manifests.is_empty() {
        outln!("  manifests: {}", p.manifests.join(", "));
    }
    if !p.env_vars.is_empty() {
        outln!("  environment: {}", p.env_vars.join(", "));
    }
    outln!(
        "  deploy: {} replicas, entry {}{}; concurrency {}",
        p.deploy.replicas,
        p.entry_service().map(|s| s.name.as_str()).unwrap_or("-"),
        p.deploy.entry_reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default(),
        p.concurrency
    );
    outln!("  detected from: {}", p.detected_from.join(", "));
    for c in &p.committed_secrets {
        outln!("  ! {}", c.message());
    }
    if !p.facts.is_empty() {
        outln!("  facts:");
        for f in &p.facts {
            let from = if f.source.is_empty() { String::new() } else { format!("  (from {})", f.source) };
            outln!("    [{}] {}: {}{from}", f.topic, f.subject, f.text);
        }
    }
}

pub async fn project(app: &Arc<Slipway>, json: bool, cmd: ProjectCmd) -> Result<(), UserError> {
    match cmd {
        ProjectCmd::Add { source, id } => {
            let p = app.detect_project(ProjectInput { source: source_of(&source), id }).await?;
            let p = app.save_project(p).await?;
            print_project(json, &p);
        }
        ProjectCmd::Detect { source } => print_project(json, &app.detect_project(ProjectInput { source: source_of(&source), id: None }).await?),
        ProjectCmd::Show { id } => {
            let p = match id {
                Some(id) => app.project(&id).await?,
                None => app.default_project().await?,
            };
            print_project(json, &p);
        }
        ProjectCmd::List => {
            let ps = app.projects().await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&ps).expect("json"));
            } else if ps.is_empty() {
                outln!("No projects yet: `slipway project add PATH`.");
            } else {
                for p in ps {
                    outln!("{:<20} {} services  {}", p.id, p.services.len(), p.source.display());
                }
            }
        }
    }
    Ok(())
}

fn secs(from: Option<i64>, to: Option<i64>) -> String {
    match (from, to) {
        (Some(a), Some(b)) => format!("{:.1} s", (b - a) as f64 / 1000.0),
        _ => "-".into(),
    }
}

pub fn print_run(r: &Run) {
    outln!(
        "run {} {}  {}  commit {}  trigger {}",
        r.id,
        r.status.as_str(),
        secs(r.started_at, r.finished_at),
        r.commit.as_deref().map(|c| &c[..c.len().min(12)]).unwrap_or("-"),
        match &r.trigger {
            Trigger::Manual => "manual".to_string(),
            Trigger::Rerun { of } => format!("re-run of {of}"),
            Trigger::Commit { sha } => format!("commit {}", &sha[..sha.len().min(12)]),
        }
    );
    for s in &r.stages {
        outln!("  {:<9} {:<10} {}", s.name.as_str(), s.status.as_str(), secs(s.started_at, s.finished_at));
        if let Some(e) = &s.error {
            outln!("            {}: {}", e.what, e.why);
            outln!("            next: {}", e.fix);
        }
    }
    for t in &r.artifacts.tests {
        outln!("  tests {:<10} {} passed, {} failed, {} errors, {} skipped", t.service, t.passed, t.failed, t.errors, t.skipped);
    }
    for c in &r.artifacts.coverage {
        outln!("  coverage {:<7} {:.1}%", c.service, c.line_rate * 100.0);
    }
    for i in &r.artifacts.images {
        outln!("  image {:<10} {}{}", i.service, i.image, i.pushed.as_ref().map(|p| format!(" -> {p}@{}", i.digest.as_deref().unwrap_or("?"))).unwrap_or_default());
    }
    if let Some(u) = &r.artifacts.url {
        outln!("  app: {u}");
    }
}

/// Starts a run (or re-runs one) and shows its stages as they go; Ctrl-C cancels it.
pub async fn run(app: &Arc<Slipway>, json: bool, start: impl std::future::Future<Output = Result<(Run, tokio::task::JoinHandle<Run>), UserError>>) -> Result<ExitCode, UserError> {
    let mut rx = app.subscribe();
    let (queued, handle) = start.await?;
    let id = queued.id.clone();
    if !json {
        outln!("run {} queued ({} at {})", id, queued.project, queued.git_ref);
    }
    let printer = {
        let id = id.clone();
        tokio::spawn(async move {
            let mut seen: Vec<(StageName, Status)> = vec![];
            while let Ok(e) = rx.recv().await {
                let Event::RunUpdated { run } = e.event else { continue };
                if run.id != id {
                    continue;
                }
                if json {
                    outln!("{}", serde_json::to_string(&serde_json::json!({"type": "runUpdated", "status": run.status, "stages": run.stages})).expect("json"));
                    continue;
                }
                for s in &run.stages {
                    if matches!(s.status, Status::Queued) || seen.contains(&(s.name, s.status)) {
                        continue;
                    }
                    seen.push((s.name, s.status));
                    let extra = s.error.as_ref().map(|e| format!(": {}: {}", e.what, e.why)).unwrap_or_default();
                    outln!("  {:<9} {}{extra}", s.name.as_str(), s.status.as_str());
                }
                let _ = std::io::stdout().flush();
            }
        })
    };
    let cancel = {
        let (app, id) = (app.clone(), id.clone());
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("Cancelling run {id} (its containers are being removed)...");
                let _ = app.cancel_run(&id).await;
            }
        })
    };
    let done = handle.await.map_err(|e| UserError::new("The run stopped", e.to_string(), "Run again"))?;
    // Let the printer drain the last updates.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    printer.abort();
    cancel.abort();
    if json {
        outln!("{}", serde_json::to_string(&done).expect("json"));
    } else {
        print_run(&done);
    }
    Ok(if done.status == Status::Succeeded { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub async fn runs(app: &Arc<Slipway>, json: bool, project: Option<String>, limit: u32) -> Result<(), UserError> {
    // A run whose process died (a killed terminal, a crash) is shown as interrupted, not running.
    app.recover_runs().await?;
    let runs = app.runs(project.as_deref(), limit).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&runs).expect("json"));
        return Ok(());
    }
    if runs.is_empty() {
        outln!("No runs yet: `slipway run`.");
    }
    for r in runs {
        let stages: String = r
            .stages
            .iter()
            .map(|s| match s.status {
                Status::Succeeded => '+',
                Status::Failed => 'x',
                Status::Running => '>',
                Status::Cancelled => 'c',
                Status::Skipped => '-',
                Status::Queued => '.',
            })
            .collect();
        outln!(
            "{:<16} {:<10} [{stages}] {:>8}  {}  {}",
            r.id,
            r.status.as_str(),
            secs(r.started_at, r.finished_at),
            r.commit.as_deref().map(|c| &c[..c.len().min(12)]).unwrap_or("-"),
            r.error.as_ref().map(|e| format!("{}: {}", e.what, e.why)).unwrap_or_default()
        );
    }
    Ok(())
}

/// Prints a run's logs: every step of every stage (or one stage, or one step), raw bytes as
/// the containers wrote them; --follow keeps reading until the steps end.
pub async fn logs(app: &Arc<Slipway>, run_id: &str, stage: Option<String>, step: Option<String>, follow: bool) -> Result<(), UserError> {
    let run = app.run(run_id).await?;
    let stages: Vec<StageName> = match &stage {
        Some(s) => vec![parse_stage(s)?],
        None => StageName::ALL.to_vec(),
    };
    let mut out = std::io::stdout();
    for st in stages {
        // Steps appear as the stage goes; when following, wait for the stage to start.
        let mut steps: Vec<String>;
        loop {
            steps = app.log_steps(run_id, st);
            let r = app.run(run_id).await?;
            let there = match &step {
                Some(only) => steps.contains(only),
                None => !steps.is_empty(),
            };
            if !follow || there || r.stage(st).status.is_final() || r.status.is_final() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        if let Some(only) = &step {
            steps.retain(|s| s == only);
        }
        for name in steps {
            if step.is_none() {
                let _ = writeln!(out, "==> {} / {} <==", st.as_str(), name);
            }
            let mut failed: Option<std::io::Error> = None;
            app.follow_log(&run.id, st, &name, 0, follow, &mut |chunk| match out.write_all(chunk.text.as_bytes()) {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            })
            .await?;
            if let Some(e) = failed {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(());
                }
            }
            let _ = out.flush();
        }
    }
    Ok(())
}
