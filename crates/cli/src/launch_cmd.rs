//! `slipway launch [SOURCE]`: the Launch page's journey, headless. Connect (the sandbox unless
//! AWS is connected), the project, plan with its cost, apply with the first run alongside,
//! deploy to live, and the app's address once it answers. Each step is a line (with --json, one
//! JSON object per line: the step, its status, its detail, seconds since the start), printed from
//! the same Launch state the desktop page shows. Ctrl-C cancels the apply and the run.

use slipway_app::pipeline::ProjectInput;
use slipway_app::Slipway;
use slipway_core::connections::AwsConnectInput;
use slipway_core::events::Event;
use slipway_core::launch::{LaunchState, LaunchStepId, LaunchStepStatus};
use slipway_core::pipeline::project::Source;
use slipway_core::UserError;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Prints each step when its status or detail changes.
struct Printer {
    json: bool,
    started: Instant,
    seen: HashMap<LaunchStepId, (LaunchStepStatus, String)>,
}

impl Printer {
    fn show(&mut self, st: &LaunchState) {
        for s in &st.steps {
            let now = (s.status, s.detail.clone());
            if self.seen.get(&s.id) == Some(&now) {
                continue;
            }
            self.seen.insert(s.id, now);
            let secs = self.started.elapsed().as_secs_f64();
            if self.json {
                let line = serde_json::json!({ "step": s.id, "status": s.status, "detail": s.detail, "error": s.error, "seconds": (secs * 10.0).round() / 10.0 });
                outln!("{line}");
            } else {
                let mark = match s.status {
                    LaunchStepStatus::Done => "done",
                    LaunchStepStatus::Current => "next",
                    LaunchStepStatus::Running => "....",
                    LaunchStepStatus::Failed => "FAIL",
                    LaunchStepStatus::Blocked => "wait",
                };
                outln!("[{mark}] {:<20} {}  ({secs:.1}s)", s.title, s.detail);
                if let Some(e) = &s.error {
                    outln!("       {}: {}\n       next: {}", e.what, e.why, e.fix);
                }
            }
        }
    }
}

fn source_of(arg: &str) -> Source {
    let looks_remote = arg.starts_with("https://") || arg.starts_with("http://") || arg.starts_with("ssh://") || arg.starts_with("git@") || arg.starts_with("file://");
    if looks_remote {
        Source::Git { url: arg.to_string() }
    } else {
        let abs = std::fs::canonicalize(arg).map(|p| p.display().to_string()).unwrap_or_else(|_| arg.to_string());
        Source::Path { path: abs }
    }
}

fn step(st: &LaunchState, id: LaunchStepId) -> LaunchStepStatus {
    st.steps.iter().find(|s| s.id == id).map(|s| s.status).unwrap_or(LaunchStepStatus::Blocked)
}

fn failed(st: &LaunchState, id: LaunchStepId) -> Option<UserError> {
    st.steps.iter().find(|s| s.id == id && s.status == LaunchStepStatus::Failed).and_then(|s| s.error.clone())
}

pub async fn launch(app: &Arc<Slipway>, json: bool, source: Option<String>, id: Option<String>, project: Option<String>) -> Result<ExitCode, UserError> {
    let mut out = Printer { json, started: Instant::now(), seen: HashMap::new() };
    let mut project = project;
    let mut st = app.launch_state(project.as_deref()).await?;
    out.show(&st);

    // 1. Connect: the sandbox unless AWS is connected.
    if step(&st, LaunchStepId::Connect) != LaunchStepStatus::Done {
        app.connect_aws(AwsConnectInput::Sandbox { region: None }).await?;
    }
    // 2. Project: the one given (added once), else the journey's.
    if let Some(src) = source {
        let source = source_of(&src);
        let existing = app.projects().await?.into_iter().find(|p| p.source == source && id.as_deref().is_none_or(|i| i == p.id));
        let p = match existing {
            Some(p) => p,
            None => app.launch_add_project(ProjectInput { source, id }).await?,
        };
        project = Some(p.id);
    }
    st = app.launch_state(project.as_deref()).await?;
    out.show(&st);
    let Some(pid) = st.project.clone() else {
        return Err(UserError::new("No project", "slipway launch needs the repository to launch", "Give it: `slipway launch PATH` (a folder in a Git repository) or `slipway launch https://github.com/OWNER/REPO`"));
    };
    for m in &st.mappings {
        if json {
            outln!("{}", serde_json::json!({ "mapping": m }));
        } else {
            outln!("       sandbox {} -> {}", m.part, m.maps_to);
        }
    }

    // 3. Infrastructure: plan (its cost), then apply with the first run alongside.
    if step(&st, LaunchStepId::Infrastructure) != LaunchStepStatus::Done {
        let plan = app.launch_plan(Some(&pid)).await?;
        if !json {
            outln!("       plan: {}; about ${:.2} a month", plan.summary(), plan.monthly_total);
        }
        st = app.launch_state(Some(&pid)).await?;
        out.show(&st);
        let mut events = app.subscribe();
        let work = app.launch_apply(Some(&pid)).await?;
        let run_id = work.run.as_ref().map(|r| r.id.clone());
        let apply = work.apply;
        let run = work.run_handle;
        tokio::pin!(apply);
        let mut apply_done = false;
        let mut run_done = run.is_none();
        let mut run = run;
        while !(apply_done && run_done) {
            tokio::select! {
                r = &mut apply, if !apply_done => { apply_done = true; let _ = r; }
                r = async { run.as_mut().expect("run handle").await }, if !run_done => { run_done = true; let _ = r; }
                e = events.recv() => {
                    // Reprint the steps on the events that move them (not on every log line).
                    if let Ok(e) = e {
                        if matches!(e.event, Event::ProvisionFinished { .. } | Event::RunUpdated { .. }) || matches!(&e.event, Event::ResourceProgress(p) if p.done % 5 == 0) {
                            st = app.launch_state(Some(&pid)).await?;
                            out.show(&st);
                        }
                    }
                }
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("Cancelling the apply and the run...");
                    app.cancel_provisioning();
                    if let Some(r) = &run_id { let _ = app.cancel_run(r).await; }
                }
            }
        }
        st = app.launch_state(Some(&pid)).await?;
        out.show(&st);
        if let Some(e) = failed(&st, LaunchStepId::Infrastructure).or_else(|| failed(&st, LaunchStepId::Run)) {
            return Err(e);
        }
    }
    // A run that failed earlier (not started again above) stops the journey here.
    if step(&st, LaunchStepId::Run) != LaunchStepStatus::Done {
        if let Some(e) = failed(&st, LaunchStepId::Run) {
            return Err(e);
        }
        let (_, handle) = app.start_run(&pid, None, Some(slipway_core::pipeline::run::StageName::Push), slipway_core::pipeline::run::Trigger::Manual).await?;
        let _ = handle.await;
        st = app.launch_state(Some(&pid)).await?;
        out.show(&st);
        if let Some(e) = failed(&st, LaunchStepId::Run) {
            return Err(e);
        }
    }

    // 4. Deploy to live.
    if step(&st, LaunchStepId::Deploy) != LaunchStepStatus::Done {
        app.launch_deploy(Some(&pid)).await?;
        st = app.launch_state(Some(&pid)).await?;
        out.show(&st);
    }
    // 5. The app answers. A ready rollout can still be a moment from answering (the node routing
    // the new endpoints, an app waiting for its database): asked again for up to 2 minutes.
    let url = st.url.clone().unwrap_or_default();
    if !url.is_empty() && !st.facts.answers {
        if !json {
            outln!("Waiting for {url} to answer...");
        }
        let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !st.facts.answers && std::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            st = app.launch_state(Some(&pid)).await?;
        }
        out.show(&st);
    }
    if json {
        outln!("{}", serde_json::json!({ "url": url, "answers": st.facts.answers, "seconds": out.started.elapsed().as_secs_f64() }));
    } else if st.facts.answers {
        outln!("The app answers at {url}");
    } else {
        outln!("Deployed, but {url} does not answer yet");
    }
    Ok(if st.facts.answers { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
