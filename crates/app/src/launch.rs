//! The journey across the pages, as one service: the sandbox's stand-ins for what the emulator
//! cannot run (EKS on a local cluster, ECR as the route images take to it, RDS as a MariaDB in the
//! cluster), what apply hands to the rest of the flow (a kubeconfig context and the project's
//! live and test environments), and the Launch steps with their actions. The Launch page and
//! `slipway launch` both call these; the state is computed from the store, so it resumes after a
//! restart.

use serde_json::{json, Value};
use slipway_core::connections::{ConnectionKind, ConnectionState};
use slipway_core::deploy::{Environment, EnvironmentTarget, KubeDatabase, KubeTarget, Revision, RevisionStatus};
use slipway_core::launch::{self, LaunchFacts, LaunchState};
use slipway_core::pipeline::logs::StepLog;
use slipway_core::pipeline::project::Project;
use slipway_core::pipeline::run::{ImageArtifact, Run, StageName, Status, Trigger};
use slipway_core::provision::{Blueprint, ResourceKind};
use slipway_core::sandbox::{ImageRoute, LocalCluster, SandboxMapping};
use slipway_core::UserError;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::pipeline::ProjectInput;
use crate::Slipway;

/// The environment the app is deployed to for users, and the one runs deploy to.
pub const LIVE: &str = "live";
pub const TEST: &str = "test";

/// The work Apply on the Launch page starts: the apply, and the first run when none passed yet.
pub struct LaunchWork {
    pub run: Option<Run>,
    pub run_handle: Option<tokio::task::JoinHandle<Run>>,
    pub apply: tokio::task::JoinHandle<Result<slipway_core::provision::executor::ApplyReport, UserError>>,
}

fn launch_key(project: &str) -> String {
    format!("launch:{project}")
}

/// The store key of the local cluster apply mapped the sandbox's EKS to.
const SANDBOX_CLUSTER_KEY: &str = "sandbox:cluster";

impl Slipway {
    // ----- the sandbox's stand-ins -----------------------------------------------------------

    /// Whether AWS is connected to the sandbox.
    pub async fn on_sandbox(&self) -> bool {
        matches!(
            self.store.connection(ConnectionKind::Aws).await,
            Ok(Some(c)) if c.config["source"].as_str() == Some("sandbox")
        )
    }

    /// The local cluster the sandbox maps EKS to: the context picked in Settings (or
    /// `SLIPWAY_SANDBOX_CONTEXT`), else the first context kind, k3d, minikube, Docker Desktop or
    /// Rancher Desktop wrote. It must answer; none at all says how to get one.
    pub async fn sandbox_cluster(&self) -> Result<LocalCluster, UserError> {
        let s = self.settings().await?;
        let picked = std::env::var("SLIPWAY_SANDBOX_CONTEXT").ok().filter(|v| !v.trim().is_empty()).or(s.sandbox_context.clone());
        let kubeconfig = std::env::var("SLIPWAY_SANDBOX_KUBECONFIG").ok().filter(|v| !v.trim().is_empty()).or(s.sandbox_kubeconfig.clone()).map(PathBuf::from);
        slipway_kube::local::find(kubeconfig, picked).await
    }

    /// What stands in for EKS, ECR and RDS in the sandbox, each with what is missing (empty on
    /// real AWS).
    pub async fn sandbox_mappings(&self) -> Vec<SandboxMapping> {
        if !self.on_sandbox().await {
            return vec![];
        }
        let cluster = self.sandbox_cluster().await;
        let registry = self.store.connection(ConnectionKind::Registry).await.ok().flatten().is_some();
        let (eks, ecr) = match &cluster {
            Ok(c) => {
                let eks = SandboxMapping {
                    part: "EKS".into(),
                    maps_to: format!("{} (context {}{})", c.kind.label(), c.context, c.server.as_ref().map(|s| format!(" at {s}")).unwrap_or_default()),
                    error: None,
                };
                let ecr = SandboxMapping {
                    part: "ECR".into(),
                    maps_to: c.images.describe(),
                    error: (c.images == ImageRoute::Registry && !registry).then(|| no_route_error(&c.context)),
                };
                (eks, ecr)
            }
            Err(e) => (
                SandboxMapping { part: "EKS".into(), maps_to: "a local Kubernetes cluster".into(), error: Some(e.clone()) },
                SandboxMapping { part: "ECR".into(), maps_to: "the route images take to the local cluster".into(), error: None },
            ),
        };
        let rds = SandboxMapping {
            part: "RDS".into(),
            maps_to: "MariaDB in the cluster, in each environment's namespace, loaded with the project's schema".into(),
            error: None,
        };
        vec![eks, ecr, rds]
    }

    /// Before an apply on the sandbox: the local cluster that will stand in for EKS must answer,
    /// so nothing is created when it cannot be used.
    pub(crate) async fn sandbox_preflight(&self, bp: &Blueprint) -> Result<Option<LocalCluster>, UserError> {
        let has_eks = bp.resources().iter().any(|r| r.kind == ResourceKind::EksCluster);
        if !has_eks || !self.on_sandbox().await {
            return Ok(None);
        }
        self.sandbox_cluster().await.map(Some)
    }

    /// After an apply whose EKS cluster is active: its kubeconfig context (real AWS; the sandbox
    /// uses the local cluster's own), and the project's live and test environments with the
    /// cluster, the databases (RDS, or MariaDB in the cluster) and the registry. An environment of
    /// the same name that a person made is left alone.
    pub(crate) async fn join_flow(&self, bp: &Blueprint, local: Option<LocalCluster>) -> Result<Vec<Environment>, UserError> {
        let eks_active = self
            .store
            .resources(&bp.project)
            .await?
            .iter()
            .any(|o| o.logical_id.as_deref() == Some("eks") && o.state.eq_ignore_ascii_case("active"));
        if !eks_active {
            return Ok(vec![]);
        }
        // The project that owns this blueprint (a blueprint made before projects owned their
        // infrastructure has none: it gets the context, not environments).
        let project = self.store.projects().await?.into_iter().find(|p| p.id == bp.project);
        let (context, kubeconfig, sandbox) = match &local {
            Some(c) => {
                self.store.save_integration(SANDBOX_CLUSTER_KEY, Some(&serde_json::to_value(c).expect("cluster json"))).await?;
                (c.context.clone(), c.kubeconfig.clone(), true)
            }
            None => {
                let path = self.write_kubeconfig(Some(&bp.project), None).await?;
                (format!("slipway-{}", bp.project), Some(path.display().to_string()), false)
            }
        };
        let Some(project) = project else { return Ok(vec![]) };
        // Only what is missing is made: an environment that exists (made by an earlier apply and
        // perhaps edited since, or made by a person) is never overwritten.
        let existing = self.store.environments(Some(&project.id)).await?;
        let mut made = vec![];
        for (name, namespace, db, runs) in [
            (LIVE, project.id.clone(), "db-live", false),
            (TEST, format!("{}-test", project.id), "db-test", true),
        ] {
            if existing.iter().any(|e| e.name == name) {
                continue;
            }
            let database = if sandbox { KubeDatabase::InCluster } else { KubeDatabase::Rds { blueprint: Some(bp.project.clone()), instance: Some(db.into()) } };
            // Runs deploy to test, unless a person already chose another environment for runs.
            let runs = runs && !existing.iter().any(|e| e.runs);
            let env = Environment {
                project: project.id.clone(),
                name: name.into(),
                target: EnvironmentTarget::Kubernetes(KubeTarget {
                    context: Some(context.clone()),
                    kubeconfig: kubeconfig.clone(),
                    namespace: Some(namespace),
                    database,
                    progress_deadline_secs: None,
                }),
                runs,
            };
            env.validate()?;
            self.store.save_environment(&env).await?;
            made.push(env);
        }
        if !made.is_empty() {
            self.progress(
                "apply",
                format!("{}: environment {} on {context}", project.id, made.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(" and ")),
            )
            .await;
        }
        Ok(made)
    }

    /// Before a deploy to the sandbox's cluster: images built here reach its nodes the way the
    /// mapping says (kind load, k3d import, minikube load; nothing for a shared engine). A cluster
    /// that can only pull from a registry, with none connected, is refused before anything is
    /// applied.
    pub(crate) async fn deliver_to_sandbox_cluster(&self, t: &KubeTarget, images: &[ImageArtifact], log: Option<&StepLog>) -> Result<(), UserError> {
        let Some(v) = self.store.integration(SANDBOX_CLUSTER_KEY).await? else { return Ok(()) };
        let Ok(cluster) = serde_json::from_value::<LocalCluster>(v) else { return Ok(()) };
        if t.context.as_deref() != Some(cluster.context.as_str()) {
            return Ok(());
        }
        let local: Vec<String> = images.iter().filter(|i| i.pushed.is_none()).map(|i| i.image.clone()).collect();
        if cluster.images == ImageRoute::Registry && !local.is_empty() {
            return Err(no_route_error(&cluster.context));
        }
        slipway_kube::local::deliver(&cluster.images, &local, log).await
    }

    // ----- the Launch steps ------------------------------------------------------------------

    /// The project the journey is about: the one named, else the one Launch added last, else the
    /// only one (None before any project exists).
    async fn launch_project(&self, project: Option<&str>) -> Result<Option<Project>, UserError> {
        if let Some(id) = project {
            return self.project(id).await.map(Some);
        }
        let all = self.store.projects().await?;
        let last = self.store.integration("launch:last").await?.and_then(|v| v["project"].as_str().map(str::to_string));
        Ok(last.and_then(|id| all.iter().find(|p| p.id == id).cloned()).or_else(|| all.first().cloned()))
    }

    async fn launch_project_required(&self, project: Option<&str>) -> Result<Project, UserError> {
        self.launch_project(project).await?.ok_or_else(|| {
            UserError::new("No project yet", "the journey needs a project first", "Add one: a folder or a GitHub repository (Launch page, or `slipway launch PATH`)")
        })
    }

    /// The journey's state now.
    pub async fn launch_state(&self, project: Option<&str>) -> Result<LaunchState, UserError> {
        let mut f = LaunchFacts::default();
        let aws = self.status(ConnectionKind::Aws).await?;
        match aws.state {
            ConnectionState::Connected => {
                let sandbox = self.on_sandbox().await;
                f.aws_sandbox = Some(sandbox);
                f.aws_summary = aws.identity.as_ref().map(|i| i.summary());
            }
            ConnectionState::Failed => f.aws_error = aws.error.clone(),
            ConnectionState::NotConfigured => {}
        }
        let p = self.launch_project(project).await?;
        let mut url = None;
        if let Some(p) = &p {
            f.project = Some(p.id.clone());
            f.services = p.services.iter().map(|s| s.name.clone()).collect();
            let bp = self.blueprint(Some(&p.id)).await?;
            f.resources_total = bp.resources().len() as u32;
            f.resources = self.store.resources(&bp.project).await?.len() as u32;
            f.provisioning = self.provisioning.lock().expect("provisioning lock").as_ref().is_some_and(|t| !t.is_cancelled());
            let rec = self.store.integration(&launch_key(&p.id)).await?.unwrap_or(Value::Null);
            f.planned = rec["planned"].as_bool().unwrap_or(false);
            f.monthly_cost = rec["monthlyCost"].as_f64();
            let prov = self.store.integration(&format!("provisioned:{}", bp.project)).await?.unwrap_or(Value::Null);
            f.apply_error = serde_json::from_value(prov["error"].clone()).ok().flatten();
            let envs = self.store.environments(Some(&p.id)).await?;
            if let Some(live) = envs.iter().find(|e| e.name == LIVE) {
                f.live_environment = true;
                if let EnvironmentTarget::Kubernetes(k) = &live.target {
                    f.cluster = k.context.clone();
                }
            }
            if let Some(run) = self.store.runs(Some(&p.id), 1).await?.into_iter().next() {
                f.run = Some(run.id.clone());
                f.run_active = matches!(run.status, Status::Queued | Status::Running);
                f.run_passed = passed(&run);
                f.run_error = if run.status == Status::Failed || run.status == Status::Cancelled { run.error.clone().or_else(|| Some(UserError::new("The run did not finish", format!("it ended {}", run.status.as_str()), "Run it again"))) } else { None };
            }
            if let Some(rev) = self.store.revisions(&p.id, LIVE, 1).await?.into_iter().next() {
                f.deploying = rev.status == RevisionStatus::InProgress;
                match rev.status {
                    RevisionStatus::Succeeded => {
                        f.live_revision = Some(rev.number);
                        url = rev.url.clone();
                    }
                    RevisionStatus::Failed => {
                        f.deploy_error = rev.error.clone();
                        // An earlier revision may still be serving.
                        let all = self.store.revisions(&p.id, LIVE, 50).await?;
                        if let Some(ok) = all.iter().find(|r| r.status == RevisionStatus::Succeeded) {
                            f.live_revision = Some(ok.number);
                            url = ok.url.clone();
                        }
                    }
                    RevisionStatus::InProgress => {}
                }
            }
            f.url = url.clone();
            if let Some(u) = &url {
                f.answers = answers(u).await;
            }
        }
        Ok(LaunchState { project: f.project.clone(), steps: launch::steps(&f), mappings: self.sandbox_mappings().await, url, facts: f })
    }

    /// The Project step: detect the repository's services and save the project.
    pub async fn launch_add_project(&self, input: ProjectInput) -> Result<Project, UserError> {
        let p = self.detect_project(input).await?;
        let p = self.save_project(p).await?;
        self.store.save_integration("launch:last", Some(&json!({ "project": p.id }))).await?;
        Ok(p)
    }

    /// The Infrastructure step's first half: the plan, with its cost remembered for the page.
    pub async fn launch_plan(&self, project: Option<&str>) -> Result<slipway_core::provision::plan::Plan, UserError> {
        let p = self.launch_project_required(project).await?;
        let plan = self.plan(Some(&p.id)).await?;
        let mut rec = self.store.integration(&launch_key(&p.id)).await?.unwrap_or_else(|| json!({}));
        rec["planned"] = json!(true);
        rec["monthlyCost"] = json!(plan.monthly_total);
        self.store.save_integration(&launch_key(&p.id), Some(&rec)).await?;
        Ok(plan)
    }

    /// The Infrastructure step's second half: apply, with the first build started at the same
    /// time (it needs the project, not the cluster). Returns once both are under way, with their
    /// handles (the CLI waits on them; the desktop app follows the events and the Launch state).
    pub async fn launch_apply(self: &Arc<Self>, project: Option<&str>) -> Result<LaunchWork, UserError> {
        let p = self.launch_project_required(project).await?;
        // What would stop the apply at once is found now, not in the background.
        self.check_secrets()?;
        let bp = self.blueprint(Some(&p.id)).await?;
        self.sandbox_preflight(&bp).await?;
        let cancel = self.begin()?;
        let run = match self.store.runs(Some(&p.id), 1).await?.into_iter().next() {
            Some(r) if passed(&r) || matches!(r.status, Status::Queued | Status::Running) => None,
            _ => match self.start_run(&p.id, None, Some(StageName::Push), Trigger::Manual).await {
                Ok((run, handle)) => Some((run, handle)),
                Err(e) => {
                    self.end();
                    return Err(e);
                }
            },
        };
        let me = self.clone();
        let id = p.id.clone();
        let apply = tokio::spawn(async move {
            let r = me.apply_begun(Some(&id), cancel).await;
            me.end();
            if let Err(e) = &r {
                tracing::warn!(project = %id, what = %e.what, why = %e.why, "launch: apply failed");
            }
            r
        });
        let (run, run_handle) = match run {
            Some((r, h)) => (Some(r), Some(h)),
            None => (None, None),
        };
        Ok(LaunchWork { run, run_handle, apply })
    }

    /// The first run: checkout, build, test and push (deploying is the next step's).
    pub async fn launch_run(self: &Arc<Self>, project: Option<&str>) -> Result<Run, UserError> {
        let p = self.launch_project_required(project).await?;
        let (run, _handle) = self.start_run(&p.id, None, Some(StageName::Push), Trigger::Manual).await?;
        Ok(run)
    }

    /// Deploy to live: the newest run whose tests passed, to the live environment.
    pub async fn launch_deploy(&self, project: Option<&str>) -> Result<Revision, UserError> {
        let p = self.launch_project_required(project).await?;
        let run = self.store.runs(Some(&p.id), 50).await?.into_iter().find(passed).ok_or_else(|| {
            UserError::new("Nothing tested to deploy", format!("{} has no run whose tests passed", p.id), "Run the pipeline first, and fix its tests if they fail")
        })?;
        if !self.store.environments(Some(&p.id)).await?.iter().any(|e| e.name == LIVE) {
            return Err(UserError::new(
                "No live environment yet",
                format!("{}'s infrastructure has not finished (apply makes the live environment when the cluster is active)", p.id),
                "Apply on the Launch or Architecture page, and deploy when it is done",
            ));
        }
        self.deploy(Some(&p.id), Some(LIVE), Some(&run.id)).await
    }
}

/// A run that passed its tests and, where it ran them, push and deploy.
fn passed(run: &Run) -> bool {
    run.status == Status::Succeeded && run.stages.iter().any(|s| s.name == StageName::Test && s.status == Status::Succeeded)
}

fn no_route_error(context: &str) -> UserError {
    UserError::new(
        "The local cluster cannot get the images built here",
        format!("the nodes of {context} do not run on this Docker engine, and no container registry is connected"),
        "Connect a registry the cluster can pull from (Connect page, or `slipway connect registry`), or use kind, k3d, minikube or Docker Desktop, whose images Slipway loads itself",
    )
}

/// Whether the app answers at `url` (2xx or 3xx within 3 s).
async fn answers(url: &str) -> bool {
    let Ok(client) = reqwest::Client::builder().timeout(Duration::from_secs(3)).build() else { return false };
    matches!(client.get(url).send().await, Ok(r) if r.status().is_success() || r.status().is_redirection())
}
