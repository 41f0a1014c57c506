//! `slipway github ...` (repositories, branches, commits, Actions runs, watching a branch or
//! receiving its webhook to start runs) and `slipway jenkins ...` (connect, jobs, builds,
//! stages, log, build).

use clap::Subcommand;
use slipway_app::integrations::CommitWatch;
use slipway_app::Slipway;
use slipway_core::integrations::*;
use slipway_core::secrets::Secret;
use slipway_core::UserError;
use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Subcommand)]
pub enum GithubCmd {
    /// Repositories the token can see (yours and your organisations'); --search filters all pages.
    Repos {
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 1)]
        page: u32,
    },
    /// A repository's branches.
    Branches { repo: String },
    /// A branch's recent commits.
    Commits {
        repo: String,
        #[arg(long, default_value = "main")]
        branch: String,
        #[arg(long, default_value_t = 10)]
        limit: u32,
    },
    /// GitHub Actions workflow runs; with --run, that run's jobs and steps; with --job, its log.
    Actions {
        repo: String,
        #[arg(long)]
        run: Option<u64>,
        #[arg(long)]
        job: Option<u64>,
    },
    /// Start a run of PROJECT on each new commit of the branch: by polling with ETags, or with
    /// --webhook-port through a webhook receiver on 127.0.0.1 that checks the signature.
    Watch {
        repo: String,
        #[arg(long, default_value = "main")]
        branch: String,
        #[arg(long)]
        project: String,
        /// Seconds between polls (slower by itself when the quota runs low).
        #[arg(long, default_value_t = 30)]
        every: u64,
        /// Receive GitHub's push webhook on this port instead of polling (0 picks one).
        #[arg(long)]
        webhook_port: Option<u16>,
        /// Do not report runs back to GitHub as commit statuses.
        #[arg(long)]
        no_status: bool,
        /// Link each status to <URL>/runs/<run id>.
        #[arg(long)]
        link_base: Option<String>,
    },
    /// The webhook secret to paste into GitHub's webhook form (--rotate makes a new one).
    WebhookSecret {
        #[arg(long)]
        rotate: bool,
    },
}

#[derive(Subcommand)]
pub enum JenkinsCmd {
    /// Check a Jenkins server with a user and API token (stdin or SLIPWAY_JENKINS_TOKEN) and keep it.
    Connect {
        #[arg(long)]
        url: String,
        #[arg(long)]
        user: String,
        #[arg(long)]
        token_stdin: bool,
    },
    /// Jobs (in a folder with --folder).
    Jobs {
        #[arg(long)]
        folder: Option<String>,
    },
    /// A job's recent builds (folders as folder/job).
    Builds {
        job: String,
        #[arg(long, default_value_t = 10)]
        limit: u32,
    },
    /// The stage view of a Pipeline build.
    Stages { job: String, number: u32 },
    /// A build's console log; --follow streams it until the build ends.
    Log {
        job: String,
        number: u32,
        #[arg(long)]
        follow: bool,
    },
    /// Start a build (with the CSRF crumb).
    Build { job: String },
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<(), UserError> {
    outln!("{}", serde_json::to_string_pretty(v).expect("json"));
    Ok(())
}

fn quota(rate: &Option<RateLimit>) {
    if let Some(r) = rate {
        eprintln!(
            "GitHub quota: {} of {} left ({})",
            r.remaining, r.limit, r.resource
        );
    }
}

fn read_secret(prompt: &str) -> Result<Secret, UserError> {
    let bad = |e: std::io::Error| {
        UserError::new(
            "Invalid command",
            format!("could not read the secret: {e}"),
            "Pipe it on stdin",
        )
    };
    let v = if std::io::stdin().is_terminal() {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let mut s = String::new();
        std::io::stdin().read_line(&mut s).map_err(bad)?;
        s
    } else {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(bad)?;
        s
    };
    Ok(Secret::new(
        v.lines().next().unwrap_or("").trim().to_string(),
    ))
}

fn ctrl_c() -> CancellationToken {
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        c.cancel();
    });
    cancel
}

pub async fn github(app: &Arc<Slipway>, json: bool, c: GithubCmd) -> Result<(), UserError> {
    match c {
        GithubCmd::Repos { search, page } => {
            let p = app.github_repos(search.as_deref(), page).await?;
            if json {
                return print_json(&p);
            }
            for r in &p.items {
                outln!(
                    "{:<40} {:<8} {}",
                    r.full_name,
                    if r.private { "private" } else { "public" },
                    r.default_branch
                );
            }
            if let Some(n) = p.next_page {
                outln!(
                    "(more: --page {n}{})",
                    p.last_page.map(|l| format!(" of {l}")).unwrap_or_default()
                );
            }
            quota(&p.rate);
        }
        GithubCmd::Branches { repo } => {
            let p = app.github_branches(&repo, 1).await?;
            if json {
                return print_json(&p);
            }
            for b in &p.items {
                outln!(
                    "{:<30} {} {}",
                    b.name,
                    &b.sha[..b.sha.len().min(7)],
                    if b.protected { "protected" } else { "" }
                );
            }
            quota(&p.rate);
        }
        GithubCmd::Commits {
            repo,
            branch,
            limit,
        } => {
            let p = app.github_commits(&repo, &branch, limit).await?;
            if json {
                return print_json(&p);
            }
            for c in &p.items {
                outln!(
                    "{} {:<16} {}",
                    &c.sha[..c.sha.len().min(7)],
                    c.author,
                    c.message
                );
            }
            quota(&p.rate);
        }
        GithubCmd::Actions { repo, run, job } => {
            if let Some(job) = job {
                out!("{}", app.github_job_log(&repo, job).await?);
            } else if let Some(run) = run {
                let jobs = app.github_workflow_jobs(&repo, run).await?;
                if json {
                    return print_json(&jobs);
                }
                for j in &jobs {
                    outln!(
                        "{} {} [{}] {}",
                        j.id,
                        j.name,
                        j.status,
                        j.conclusion.as_deref().unwrap_or("-")
                    );
                    for s in &j.steps {
                        outln!(
                            "    {:>2}. {:<40} {}",
                            s.number,
                            s.name,
                            s.conclusion.as_deref().unwrap_or(&s.status)
                        );
                    }
                }
            } else {
                let p = app.github_workflow_runs(&repo, 1).await?;
                if json {
                    return print_json(&p);
                }
                for r in &p.items {
                    outln!(
                        "{} {:<20} #{:<5} {:<12} {:<10} {}",
                        r.id,
                        r.name,
                        r.run_number,
                        r.status,
                        r.conclusion.as_deref().unwrap_or("-"),
                        r.head_branch.as_deref().unwrap_or("")
                    );
                }
                quota(&p.rate);
            }
        }
        GithubCmd::Watch {
            repo,
            branch,
            project,
            every,
            webhook_port,
            no_status,
            link_base,
        } => {
            let w = CommitWatch {
                project,
                repo,
                branch,
                report_status: !no_status,
                link_base,
            };
            let cancel = ctrl_c();
            let mut events = app.subscribe();
            tokio::spawn(async move {
                while let Ok(e) = events.recv().await {
                    if let Ok(v) = serde_json::to_value(&e.event) {
                        if matches!(v["type"].as_str(), Some("progress"))
                            && v["task"]
                                .as_str()
                                .is_some_and(|t| t.starts_with("github") || t == "pipeline")
                        {
                            eprintln!("{}", v["message"].as_str().unwrap_or_default());
                        }
                    }
                }
            });
            match webhook_port {
                Some(port) => {
                    let addr = app.serve_github_webhook(w, port, cancel.clone()).await?;
                    eprintln!("Receiving GitHub webhooks at http://{addr}/ (content type application/json; secret: `slipway github webhook-secret`). Ctrl-C stops.");
                    cancel.cancelled().await;
                }
                None => {
                    app.watch_github(w, Duration::from_secs(every.max(5)), cancel)
                        .await?
                }
            }
        }
        GithubCmd::WebhookSecret { rotate } => {
            let s = app.github_webhook_secret(rotate)?;
            // Shown on purpose, once asked for: it is pasted into GitHub's form.
            outln!("{}", s.expose());
        }
    }
    Ok(())
}

pub async fn jenkins(app: &Arc<Slipway>, json: bool, c: JenkinsCmd) -> Result<(), UserError> {
    match c {
        JenkinsCmd::Connect {
            url,
            user,
            token_stdin,
        } => {
            let token = match std::env::var("SLIPWAY_JENKINS_TOKEN")
                .ok()
                .filter(|v| !v.is_empty())
            {
                Some(t) if !token_stdin => Secret::new(t),
                _ => read_secret("Jenkins API token: ")?,
            };
            let s = app
                .connect_jenkins(JenkinsConnectInput { url, user, token })
                .await?;
            if json {
                return print_json(&s);
            }
            outln!(
                "[ok  ] Jenkins {} at {} as {} ({} jobs)",
                s.version.as_deref().unwrap_or("?"),
                s.url,
                s.user,
                s.jobs
            );
        }
        JenkinsCmd::Jobs { folder } => {
            let jobs = app.jenkins_jobs(folder.as_deref()).await?;
            if json {
                return print_json(&jobs);
            }
            for j in &jobs {
                outln!(
                    "{:<40} {:<12} {}",
                    j.name,
                    j.color.as_deref().unwrap_or("-"),
                    j.last_build.map(|n| format!("#{n}")).unwrap_or_default()
                );
            }
        }
        JenkinsCmd::Builds { job, limit } => {
            let b = app.jenkins_builds(&job, limit).await?;
            if json {
                return print_json(&b);
            }
            for b in &b {
                let state = if b.building {
                    "BUILDING"
                } else {
                    b.result.as_deref().unwrap_or("-")
                };
                outln!(
                    "#{:<6} {:<10} {:>6}s {}",
                    b.number,
                    state,
                    b.duration_ms / 1000,
                    b.url
                );
            }
        }
        JenkinsCmd::Stages { job, number } => {
            let v = app.jenkins_stages(&job, number).await?;
            if json {
                return print_json(&v);
            }
            outln!("{} {}", v.name, v.status);
            for s in &v.stages {
                outln!(
                    "  {:<30} {:<14} {:>6}s",
                    s.name,
                    s.status,
                    s.duration_ms / 1000
                );
            }
        }
        JenkinsCmd::Log {
            job,
            number,
            follow,
        } => {
            if follow {
                let cancel = ctrl_c();
                let mut out = std::io::stdout();
                app.follow_jenkins_log(&job, number, 0, &cancel, &mut |c| {
                    if let Err(e) = out.write_all(c.text.as_bytes()).and_then(|_| out.flush()) {
                        crate::closed_output(e);
                    }
                })
                .await?;
            } else {
                app.read_jenkins_log(&job, number, 0, &mut |c| out!("{}", c.text)).await?;
            }
        }
        JenkinsCmd::Build { job } => {
            let q = app.jenkins_build(&job).await?;
            if json {
                return print_json(&serde_json::json!({"queued": q}));
            }
            outln!(
                "Build of {job} queued{}",
                q.map(|u| format!(": {u}")).unwrap_or_default()
            );
        }
    }
    Ok(())
}
