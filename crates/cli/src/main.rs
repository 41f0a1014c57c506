//! `slipway`: the command line. A thin adapter over slipway-app: it parses arguments, reads
//! secrets from stdin (never from arguments), calls the service layer, and prints the result
//! for people or, with `--json`, for programs.

/// `println!` for the CLI's output: a closed pipe (`slipway doctor --json | head -c1`) ends
/// the process quietly, as `ls | head` does, instead of a panic with a backtrace.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($t)*) {
            $crate::closed_output(e);
        }
    }};
}

/// `print!` with the same rule as [`outln!`].
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout().lock(), $($t)*) {
            $crate::closed_output(e);
        }
    }};
}

/// The reader of our output has gone (a closed pipe): nothing more can be said, so exit at
/// once and quietly. Any other write error is reported once on stderr.
pub(crate) fn closed_output(e: std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("error: cannot write the output: {e}\n"));
    std::process::exit(1);
}

use clap::{Args, Parser, Subcommand};
use slipway_app::{Options, Slipway};
use slipway_core::connections::*;
use slipway_core::secrets::Secret;
use slipway_core::UserError;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "slipway", version, about = "From an empty AWS account to a tested, running deployment.")]
struct Cli {
    /// Where Slipway keeps its store and sandbox (default: the OS data folder).
    #[arg(long, global = true, env = "SLIPWAY_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check every connection live and report its state.
    Doctor,
    /// The whole journey, headless: connect (the sandbox unless AWS is connected), the project
    /// (SOURCE: a folder in a Git repository, or a Git URL), plan with its cost, apply with the
    /// first run alongside, deploy to live, and the app's address once it answers.
    Launch {
        source: Option<String>,
        /// The new project's id (default: from the folder or repository name).
        #[arg(long)]
        id: Option<String>,
        /// An existing project to launch.
        #[arg(long, conflicts_with = "source")]
        project: Option<String>,
    },
    /// Connect an account (checked live before anything is saved).
    #[command(subcommand)]
    Connect(ConnectCmd),
    /// Forget a connection (its secret leaves the keychain).
    Disconnect { kind: String },
    /// List the AWS profiles found in ~/.aws/config and ~/.aws/credentials.
    Profiles,
    /// List the regions of the connected AWS account, or switch to one with --set.
    Regions {
        #[arg(long)]
        set: Option<String>,
    },
    /// The local AWS emulator.
    #[command(subcommand)]
    Sandbox(SandboxCmd),
    /// Show or change settings (`slipway settings set default-region eu-west-1`).
    Settings {
        #[command(subcommand)]
        cmd: Option<SettingsCmd>,
    },
    /// Show or edit the project's blueprint (`--set nodeCount=3`, keys as in `--json`). The
    /// opt-in parts are off until set: `--set ciVm=true` (a CI VM running Jenkins),
    /// `--set testVm=true` (a test VM beside the test database); `slipway plan` says what each is for.
    Blueprint {
        #[arg(long)]
        project: Option<String>,
        /// KEY=VALUE (a JSON value, or a plain string); repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Every create, change and delete the blueprint needs, with the monthly cost.
    Plan {
        #[arg(long)]
        project: Option<String>,
    },
    /// Create or change everything in the blueprint, in parallel, with live progress.
    Apply {
        #[arg(long)]
        project: Option<String>,
    },
    /// Remove everything tagged with the project (even when local state is lost).
    Destroy {
        #[arg(long)]
        project: Option<String>,
    },
    /// Compare the cloud with the blueprint and the records: what changed outside Slipway.
    Refresh {
        #[arg(long)]
        project: Option<String>,
    },
    /// Write a kubeconfig context for the project's EKS cluster (like `aws eks update-kubeconfig`).
    Kubeconfig {
        #[arg(long)]
        project: Option<String>,
        /// The kubeconfig to merge into (default: KUBECONFIG's first file, or ~/.kube/config).
        #[arg(long)]
        path: Option<PathBuf>,
    },
    /// The kubectl credential plugin: prints an ExecCredential with a signed EKS token.
    EksToken {
        #[arg(long)]
        cluster: String,
        #[arg(long)]
        region: Option<String>,
    },
    /// Projects: a repository's services, detected and saved.
    #[command(subcommand)]
    Project(pipeline_cmd::ProjectCmd),
    /// Run the pipeline (checkout, build, test, push, deploy) and show it live; Ctrl-C cancels.
    Run {
        #[arg(long)]
        project: Option<String>,
        /// Branch, tag or commit (default: the project's).
        #[arg(long = "ref")]
        git_ref: Option<String>,
        /// Stop after this stage (checkout, build, test, push).
        #[arg(long)]
        until: Option<String>,
    },
    /// Run an earlier run's commit again.
    Rerun { run: String },
    /// The runs, newest first.
    Runs {
        #[arg(long)]
        project: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// One run in full: stages, tests, coverage, images, URL.
    ShowRun { run: String },
    /// A run's logs, as the containers wrote them; --follow keeps reading while it runs.
    Logs {
        run: String,
        #[arg(long)]
        stage: Option<String>,
        #[arg(long)]
        step: Option<String>,
        #[arg(long, short)]
        follow: bool,
    },
    /// Deployment environments: a Kubernetes context and namespace (or the local engine).
    #[command(subcommand)]
    Env(deploy_cmd::EnvCmd),
    /// Deploy a run's images (default: the newest run that built images) to an environment,
    /// and watch every rollout to its end.
    Deploy {
        #[command(flatten)]
        which: deploy_cmd::Which,
        #[arg(long)]
        run: Option<String>,
    },
    /// Rolling restart of what serves now (new pods, same images).
    Redeploy {
        #[command(flatten)]
        which: deploy_cmd::Which,
    },
    /// Go back to an earlier revision's images (default: the newest earlier one with other
    /// images), with the reason kept in the history.
    Rollback {
        #[command(flatten)]
        which: deploy_cmd::Which,
        /// The revision to go back to.
        #[arg(long)]
        to: Option<u32>,
        #[arg(long)]
        reason: String,
    },
    /// An environment: workloads, pods, the app's address, revision history.
    Status {
        #[command(flatten)]
        which: deploy_cmd::Which,
    },
    /// The merged logs of every replica, each line with its pod; --follow keeps reading.
    DeployLogs {
        #[command(flatten)]
        which: deploy_cmd::Which,
        #[arg(long, short)]
        follow: bool,
        /// The last N lines of each container.
        #[arg(long)]
        tail: Option<i64>,
    },
    /// Delete an environment's namespace and everything in it (its history stays).
    Teardown {
        #[command(flatten)]
        which: deploy_cmd::Which,
    },
    /// Export as files other tools read: terraform (the blueprint), k8s (a deployment's
    /// objects), jenkinsfile or github-actions (the pipeline). Printed, or written with -o.
    Export(export_cmd::ExportArgs),
    /// The project's Kanban board: columns with their cards (key, title, points, epic,
    /// assignee); cards, epics, sprints, burndown, export/import and automation below it.
    Board(board_cmd::BoardArgs),
    /// GitHub: repositories, branches, commits, Actions runs; `watch` starts runs on new commits.
    #[command(subcommand)]
    Github(integrations_cmd::GithubCmd),
    /// Jenkins: connect, jobs, builds, stage view, console log, start a build.
    #[command(subcommand)]
    Jenkins(integrations_cmd::JenkinsCmd),
    /// The four DORA measures of each environment over a window (deployment frequency, lead
    /// time for changes, change failure rate, time to restore), with their bands and by week.
    Insights(insights_cmd::InsightsArgs),
    /// The audit trail: who (OS user, connection identity) did what, when and why.
    Audit(insights_cmd::AuditArgs),
    /// The newest entries of the event log.
    Events {
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Subcommand)]
enum ConnectCmd {
    /// AWS: --sandbox, --profile NAME, --access-key-id ID (secret on stdin), or --env.
    Aws(AwsArgs),
    /// GitHub: a token on stdin (--token-stdin), or the gh CLI's token (--gh).
    Github {
        #[arg(long, conflicts_with = "gh")]
        token_stdin: bool,
        #[arg(long)]
        gh: bool,
        /// GitHub Enterprise API URL (default https://api.github.com).
        #[arg(long)]
        base_url: Option<String>,
    },
    /// A container registry: REGISTRY (docker.io, ghcr.io, host:port), --username, and the
    /// password on stdin (--password-stdin) or from ~/.docker/config.json (--from-docker-config).
    Registry {
        registry: String,
        #[arg(long, short)]
        username: Option<String>,
        #[arg(long, conflicts_with = "from_docker_config")]
        password_stdin: bool,
        #[arg(long)]
        from_docker_config: bool,
    },
}

#[derive(Args)]
struct AwsArgs {
    #[arg(long, conflicts_with_all = ["profile", "access_key_id", "env"])]
    sandbox: bool,
    #[arg(long, conflicts_with_all = ["access_key_id", "env"])]
    profile: Option<String>,
    /// Static keys: the secret access key is read from stdin (one line), or
    /// SLIPWAY_AWS_SECRET_ACCESS_KEY; a session token from SLIPWAY_AWS_SESSION_TOKEN.
    #[arg(long, conflicts_with = "env")]
    access_key_id: Option<String>,
    /// Use the credentials the environment provides (AWS_* variables, instance role...).
    #[arg(long)]
    env: bool,
    #[arg(long)]
    region: Option<String>,
    /// A custom endpoint for static keys (an emulator, a VPC endpoint).
    #[arg(long, requires = "access_key_id")]
    endpoint: Option<String>,
}

#[derive(Subcommand)]
enum SandboxCmd {
    /// Install (first time) and start the emulator; it keeps running after this command.
    Up,
    /// Stop the emulator.
    Down,
    /// Is it running, and where.
    Status,
}

#[derive(Subcommand)]
enum SettingsCmd {
    /// Set one setting: default-region, sandbox-auto-start, sandbox-port, run-log-retention-days.
    Set { key: String, value: String },
}

mod config_cmd;
mod board_cmd;
mod deploy_cmd;
mod export_cmd;
mod insights_cmd;
mod integrations_cmd;
mod launch_cmd;
mod pipeline_cmd;
mod progress;

/// A failure the CLI prints: what failed, why, what to do.
struct Failure(UserError);

impl From<UserError> for Failure {
    fn from(e: UserError) -> Self {
        Failure(e)
    }
}

fn usage(why: impl Into<String>, fix: impl Into<String>) -> Failure {
    Failure(UserError::new("Invalid command", why, fix))
}

/// Reads a secret from stdin: one line (trailing newline removed). On a terminal, prompts
/// without echo.
fn read_secret(prompt: &str) -> Result<Secret, Failure> {
    let value = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).map_err(|e| usage(format!("could not read the secret: {e}"), "Pipe it on stdin instead"))?
    } else {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| usage(format!("could not read stdin: {e}"), "Pipe the secret on stdin"))?;
        s.lines().next().unwrap_or("").to_string()
    };
    Ok(Secret::new(value))
}

fn env_secret(name: &str) -> Option<Secret> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).map(Secret::new)
}

fn print_status(json: bool, st: &ConnectionStatus) {
    if json {
        outln!("{}", serde_json::to_string_pretty(st).expect("status json"));
        return;
    }
    let mark = match st.state {
        ConnectionState::Connected => "ok  ",
        ConnectionState::Failed => "FAIL",
        ConnectionState::NotConfigured => " -- ",
    };
    let detail = st.identity.as_ref().map(|i| i.summary()).unwrap_or_else(|| "not configured".into());
    outln!("[{mark}] {:<19} {detail}", st.kind.label());
    if let Some(e) = &st.error {
        outln!("       {}: {}", e.what, e.why);
        outln!("       next: {}", e.fix);
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let app: Arc<Slipway> = Slipway::open(Options { data_dir: cli.data_dir.clone(), ..Default::default() }).await?;
    let json = cli.json;
    match cli.cmd {
        Cmd::Doctor => {
            let report = app.doctor().await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&report).expect("report json"));
            } else {
                for c in &report.connections {
                    print_status(false, c);
                }
                let sb = &report.sandbox;
                outln!(
                    "sandbox: {:?}{}",
                    sb.status,
                    sb.endpoint.as_ref().map(|e| format!(" at {e}")).unwrap_or_default()
                );
                outln!("data folder: {} (store schema v{})", report.data_dir, report.store_schema_version);
                let sec = &report.secrets;
                let kind = sec.kind.map(|k| k.as_str()).unwrap_or("other");
                outln!("[{}] secrets             {kind} store: {}", if sec.ok { "ok  " } else { "FAIL" }, sec.location);
                if let Some(e) = &sec.error {
                    outln!("       {}: {}", e.what, e.why);
                    outln!("       next: {}", e.fix);
                }
                if let Some(w) = &sec.warning {
                    outln!("       note: {w}");
                }
                for n in &report.notices {
                    outln!("[note] {}: {}", n.what, n.why);
                    outln!("       next: {}", n.fix);
                }
            }
            let failed = report.connections.iter().any(|c| c.state == ConnectionState::Failed) || !report.secrets.ok;
            return Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS });
        }
        Cmd::Connect(ConnectCmd::Aws(a)) => {
            let input = if a.sandbox {
                AwsConnectInput::Sandbox { region: a.region }
            } else if let Some(name) = a.profile {
                AwsConnectInput::Profile { name, region: a.region }
            } else if let Some(id) = a.access_key_id {
                let secret = match env_secret("SLIPWAY_AWS_SECRET_ACCESS_KEY") {
                    Some(s) => s,
                    None => read_secret("AWS secret access key: ")?,
                };
                AwsConnectInput::StaticKeys {
                    access_key_id: id,
                    secret_access_key: secret,
                    session_token: env_secret("SLIPWAY_AWS_SESSION_TOKEN"),
                    region: a.region,
                    endpoint: a.endpoint,
                }
            } else if a.env {
                AwsConnectInput::Environment { region: a.region }
            } else {
                return Err(usage("choose where the AWS credentials come from", "Use --sandbox, --profile NAME, --access-key-id ID or --env"));
            };
            print_status(json, &app.connect_aws(input).await?);
        }
        Cmd::Connect(ConnectCmd::Github { token_stdin, gh, base_url }) => {
            let token = if gh {
                None
            } else if token_stdin {
                Some(read_secret("GitHub token: ")?)
            } else if let Some(t) = env_secret("SLIPWAY_GITHUB_TOKEN") {
                Some(t)
            } else {
                return Err(usage("no GitHub token given", "Pipe a token with --token-stdin, set SLIPWAY_GITHUB_TOKEN, or use --gh for the gh CLI's token"));
            };
            print_status(json, &app.connect_github(GithubConnectInput { token, base_url }).await?);
        }
        Cmd::Connect(ConnectCmd::Registry { registry, username, password_stdin, from_docker_config }) => {
            let password = if from_docker_config {
                None
            } else if password_stdin {
                Some(read_secret("Registry password: ")?)
            } else if let Some(p) = env_secret("SLIPWAY_REGISTRY_PASSWORD") {
                Some(p)
            } else {
                return Err(usage("no registry password given", "Pipe it with --password-stdin, set SLIPWAY_REGISTRY_PASSWORD, or use --from-docker-config"));
            };
            let username = match (&password, username) {
                (Some(_), None) => return Err(usage("--username is required with a password", "Add --username NAME")),
                (_, u) => u.unwrap_or_default(),
            };
            print_status(json, &app.connect_registry(RegistryConnectInput { registry, username, password }).await?);
        }
        Cmd::Disconnect { kind } => {
            let k = ConnectionKind::parse(&kind)
                .ok_or_else(|| usage(format!("'{kind}' is not a connection"), "Use one of: aws, github, registry, docker, kubernetes"))?;
            print_status(json, &app.disconnect(k).await?);
        }
        Cmd::Profiles => {
            let ps = app.aws_profiles()?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&ps).expect("json"));
            } else if ps.is_empty() {
                outln!("No AWS profiles in ~/.aws/config or ~/.aws/credentials.");
            } else {
                for p in ps {
                    outln!("{:<24} {:<18} {}", p.name, format!("{:?}", p.kind), p.region.unwrap_or_default());
                }
            }
        }
        Cmd::Regions { set } => match set {
            Some(r) => print_status(json, &app.set_aws_region(r).await?),
            None => {
                let rs = app.aws_regions().await?;
                if json {
                    outln!("{}", serde_json::to_string(&rs).expect("json"));
                } else {
                    outln!("{}", rs.join("\n"));
                }
            }
        },
        Cmd::Sandbox(c) => {
            let st = match c {
                SandboxCmd::Up => {
                    // Progress lines go to stderr while the emulator installs and starts.
                    let mut rx = app.subscribe();
                    let printer = tokio::spawn(async move {
                        while let Ok(e) = rx.recv().await {
                            if let slipway_core::events::Event::Progress { message, .. } = e.event {
                                eprintln!("{message}");
                            }
                        }
                    });
                    let r = app.sandbox_start().await;
                    printer.abort();
                    r?
                }
                SandboxCmd::Down => app.sandbox_stop().await?,
                SandboxCmd::Status => app.sandbox_status(),
            };
            // What stands in for the parts the emulator cannot run (EKS, ECR, RDS).
            let mappings = if st.status == slipway_core::sandbox::SandboxStatus::Running { app.sandbox_mappings().await } else { vec![] };
            if json {
                outln!("{}", serde_json::to_string_pretty(&serde_json::json!({ "state": st, "mappings": mappings })).expect("json"));
            } else {
                outln!("sandbox: {:?}{}", st.status, st.endpoint.map(|e| format!(" at {e}")).unwrap_or_default());
                for m in &mappings {
                    outln!("  {:<4} -> {}", m.part, m.maps_to);
                    if let Some(e) = &m.error {
                        outln!("          {}: {}\n          next: {}", e.what, e.why, e.fix);
                    }
                }
            }
        }
        Cmd::Launch { source, id, project } => return Ok(launch_cmd::launch(&app, json, source, id, project).await?),
        Cmd::Settings { cmd } => {
            let mut s = app.settings().await?;
            if let Some(SettingsCmd::Set { key, value }) = cmd {
                match key.as_str() {
                    "default-region" => s.default_region = value,
                    "sandbox-auto-start" => {
                        s.sandbox_auto_start = value.parse().map_err(|_| usage(format!("'{value}' is not true or false"), "Use true or false"))?
                    }
                    "sandbox-port" => {
                        s.sandbox_port = if value.is_empty() || value == "auto" {
                            None
                        } else {
                            Some(value.parse().map_err(|_| usage(format!("'{value}' is not a port number"), "Use a number from 1024 to 65535, or auto"))?)
                        }
                    }
                    "run-log-retention-days" => {
                        s.run_log_retention_days = value.parse().map_err(|_| usage(format!("'{value}' is not a number of days"), "Use a number of days, or 0 to keep run logs forever"))?
                    }
                    "secret-store" => {
                        s.secret_store = slipway_core::secrets::SecretStoreKind::parse(&value)
                            .ok_or_else(|| usage(format!("'{value}' is not a secret store"), "Use keychain (the OS keychain) or file (a file only you can read, for machines without a keychain)"))?
                    }
                    "sandbox-context" => s.sandbox_context = Some(value).filter(|v| !v.is_empty() && v != "auto"),
                    "sandbox-kubeconfig" => s.sandbox_kubeconfig = Some(value).filter(|v| !v.is_empty() && v != "auto"),
                    "notifications" => {
                        s.notifications = serde_json::from_value(serde_json::Value::String(value.clone()))
                            .map_err(|_| usage(format!("'{value}' is not a notification choice"), "Use background (while the window is not focused), always or never"))?
                    }
                    other => {
                        return Err(usage(
                            format!("unknown setting '{other}'"),
                            "Use default-region, sandbox-auto-start, sandbox-port, run-log-retention-days, secret-store, sandbox-context, sandbox-kubeconfig or notifications",
                        ))
                    }
                }
                s = app.save_settings(s).await?;
            }
            outln!("{}", serde_json::to_string_pretty(&s).expect("json"));
        }
        Cmd::Blueprint { project, set } => {
            let mut bp = app.blueprint(project.as_deref()).await?;
            if !set.is_empty() {
                let mut v = serde_json::to_value(&bp).expect("blueprint json");
                for kv in &set {
                    let (k, val) = kv.split_once('=').ok_or_else(|| usage(format!("'{kv}' is not KEY=VALUE"), "Write it like --set nodeCount=3"))?;
                    if v.get(k).is_none() {
                        let keys: Vec<_> = v.as_object().expect("object").keys().cloned().collect();
                        return Err(usage(format!("the blueprint has no '{k}'"), format!("Use one of: {}", keys.join(", "))));
                    }
                    v[k] = serde_json::from_str(val).unwrap_or_else(|_| serde_json::Value::String(val.to_string()));
                }
                bp = serde_json::from_value(v).map_err(|e| usage(format!("a value does not fit: {e}"), "Check the value's type (numbers, strings, lists like [\"a\",\"b\"])"))?;
                bp = app.save_blueprint(bp).await?;
            }
            outln!("{}", serde_json::to_string_pretty(&bp).expect("json"));
        }
        Cmd::Project(c) => pipeline_cmd::project(&app, json, c).await?,
        Cmd::Run { project, git_ref, until } => {
            let project = match project {
                Some(p) => p,
                None => app.default_project().await?.id,
            };
            let until = until.map(|u| pipeline_cmd::parse_stage(&u)).transpose()?;
            return Ok(pipeline_cmd::run(&app, json, app.start_run(&project, git_ref, until, slipway_core::pipeline::run::Trigger::Manual)).await?);
        }
        Cmd::Rerun { run } => return Ok(pipeline_cmd::run(&app, json, app.rerun(&run)).await?),
        Cmd::Runs { project, limit } => pipeline_cmd::runs(&app, json, project, limit).await?,
        Cmd::ShowRun { run } => {
            let r = app.run(&run).await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&r).expect("json"));
            } else {
                pipeline_cmd::print_run(&r);
            }
        }
        Cmd::Logs { run, stage, step, follow } => pipeline_cmd::logs(&app, &run, stage, step, follow).await?,
        Cmd::Plan { project } => {
            let plan = app.plan(project.as_deref()).await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&plan).expect("json"));
            } else {
                progress::print_plan(&plan);
            }
        }
        Cmd::Apply { project } => {
            let r = progress::follow(&app, json, app.apply(project.as_deref())).await?;
            if json {
                outln!("{}", serde_json::to_string(&r).expect("json"));
            } else {
                outln!("Apply finished in {:.1} s: {}", r.duration_ms as f64 / 1000.0, r.summary);
            }
        }
        Cmd::Destroy { project } => {
            let r = progress::follow(&app, json, app.destroy(project.as_deref())).await?;
            if json {
                outln!("{}", serde_json::to_string(&r).expect("json"));
            } else {
                for o in &r.removed {
                    outln!("removed {:<22} {}{}", o.kind.label(), o.physical_id, o.logical_id.as_ref().map(|l| format!(" ({l})")).unwrap_or_default());
                }
                outln!("Destroy finished in {:.1} s: {} resources removed", r.duration_ms as f64 / 1000.0, r.removed.len());
            }
        }
        Cmd::Refresh { project } => {
            let drift = app.refresh(project.as_deref()).await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&drift).expect("json"));
            } else {
                for d in &drift {
                    outln!("{:<12} {:<18} {:<22} {}", format!("{:?}", d.status), d.id, d.physical_id.clone().unwrap_or_default(), d.details.join("; "));
                }
            }
        }
        Cmd::Kubeconfig { project, path } => {
            let p = app.write_kubeconfig(project.as_deref(), path).await?;
            outln!("Context slipway-{} written to {}", project.as_deref().unwrap_or("slipway"), p.display());
        }
        Cmd::EksToken { cluster, region } => {
            outln!("{}", app.eks_token(&cluster, region.as_deref()).await?);
        }
        Cmd::Env(c) => deploy_cmd::env(&app, json, c).await?,
        Cmd::Deploy { which, run } => deploy_cmd::follow(&app, json, app.deploy(which.project.as_deref(), which.env.as_deref(), run.as_deref())).await?,
        Cmd::Redeploy { which } => deploy_cmd::follow(&app, json, app.redeploy(which.project.as_deref(), which.env.as_deref())).await?,
        Cmd::Rollback { which, to, reason } => deploy_cmd::follow(&app, json, app.rollback(which.project.as_deref(), which.env.as_deref(), to, &reason)).await?,
        Cmd::Status { which } => {
            let st = app.deploy_status(which.project.as_deref(), which.env.as_deref()).await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&st).expect("json"));
            } else {
                deploy_cmd::print_status(&st);
            }
        }
        Cmd::DeployLogs { which, follow, tail } => deploy_cmd::logs(&app, which, follow, tail, json).await?,
        Cmd::Teardown { which } => {
            let gone = app.teardown(which.project.as_deref(), which.env.as_deref()).await?;
            if json {
                outln!("{}", serde_json::json!({"deleted": gone}));
            } else {
                outln!("{}", if gone { "The namespace is being deleted (with everything in it)." } else { "Nothing to delete: the namespace does not exist." });
            }
        }
        Cmd::Export(a) => export_cmd::export(&app, json, a).await?,
        Cmd::Board(a) => board_cmd::board(&app, json, a).await?,
        Cmd::Github(c) => integrations_cmd::github(&app, json, c).await?,
        Cmd::Jenkins(c) => integrations_cmd::jenkins(&app, json, c).await?,
        Cmd::Insights(a) => insights_cmd::insights(&app, json, a).await?,
        Cmd::Audit(a) => insights_cmd::audit(&app, json, a).await?,
        Cmd::Events { limit } => {
            for e in app.recent_events(limit).await? {
                outln!("{e}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    // Output written by libraries (clap's help, a panic elsewhere) to a closed pipe: quiet too.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.payload().downcast_ref::<String>().map(String::as_str).or_else(|| info.payload().downcast_ref::<&str>().copied()).unwrap_or("");
        if msg.contains("Broken pipe") && msg.contains("failed printing to") {
            std::process::exit(0);
        }
        default_hook(info);
    }));
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let json = cli.json;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(Failure(e)) => {
            if json {
                outln!("{}", serde_json::json!({ "error": e }));
            }
            eprintln!("error: {}\n  why: {}\n  next: {}", e.what, e.why, e.fix);
            ExitCode::from(1)
        }
    }
}
