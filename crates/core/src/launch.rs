//! The Launch journey: from a fresh install to the app answering through NGINX on Kubernetes, as
//! six steps (Connect, Project, Infrastructure, First run, Deploy to live, Open the app). Each
//! step is done, current (its action moves it on), running, failed (with the error and the
//! action that retries) or blocked (with what it waits for). The state is computed from what the
//! store records, never kept apart, so the journey resumes where it was after a restart.
//! Independent work overlaps: the first run needs only the project, not the infrastructure.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::UserError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum LaunchStepId {
    Connect,
    Project,
    Infrastructure,
    Run,
    Deploy,
    Open,
}

impl LaunchStepId {
    pub const ALL: [LaunchStepId; 6] =
        [LaunchStepId::Connect, LaunchStepId::Project, LaunchStepId::Infrastructure, LaunchStepId::Run, LaunchStepId::Deploy, LaunchStepId::Open];

    pub fn title(self) -> &'static str {
        match self {
            LaunchStepId::Connect => "Connect",
            LaunchStepId::Project => "Project",
            LaunchStepId::Infrastructure => "Infrastructure",
            LaunchStepId::Run => "First pipeline run",
            LaunchStepId::Deploy => "Deploy to live",
            LaunchStepId::Open => "Open the app",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum LaunchStepStatus {
    Done,
    /// Its action is what to do now.
    Current,
    Running,
    Failed,
    /// Waits for an earlier step (the detail says which).
    Blocked,
}

/// The one action that moves a step on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum LaunchAction {
    /// Connect AWS to the sandbox (the local emulator; no account).
    UseSandbox,
    /// Add the project: a folder or a GitHub repository.
    AddProject,
    /// Plan the infrastructure and show its monthly cost.
    Plan,
    /// Apply it; the first build starts at the same time.
    Apply,
    /// Run the pipeline (checkout, build, test, push).
    StartRun,
    /// Deploy the tested images to the live environment.
    DeployLive,
    /// Open the app's address.
    OpenApp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct LaunchStep {
    pub id: LaunchStepId,
    pub title: String,
    pub status: LaunchStepStatus,
    /// What is done, what is under way, or what the step waits for.
    pub detail: String,
    pub action: Option<LaunchAction>,
    pub error: Option<UserError>,
}

/// What the store and the running work say, gathered by the service layer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct LaunchFacts {
    /// AWS: None when not connected; Some(true) for the sandbox.
    pub aws_sandbox: Option<bool>,
    /// Who AWS says we are ("sandbox account 123456789012", "account 1234 (us-east-1)").
    pub aws_summary: Option<String>,
    pub aws_error: Option<UserError>,
    pub project: Option<String>,
    /// The project's services, for the Project step's detail.
    pub services: Vec<String>,
    pub planned: bool,
    /// The plan's monthly estimate, when a plan was made.
    pub monthly_cost: Option<f64>,
    pub provisioning: bool,
    /// Resources recorded for the project, and how many the blueprint has.
    pub resources: u32,
    pub resources_total: u32,
    /// The live environment exists (apply made it, with the cluster, database and registry).
    pub live_environment: bool,
    /// What stands in for EKS: the cluster's context (sandbox: the local cluster).
    pub cluster: Option<String>,
    pub apply_error: Option<UserError>,
    /// The newest run of the project: id, whether it is under way, whether it passed the tests.
    pub run: Option<String>,
    pub run_active: bool,
    pub run_passed: bool,
    pub run_error: Option<UserError>,
    /// The newest revision in the live environment.
    pub deploying: bool,
    pub live_revision: Option<u32>,
    pub deploy_error: Option<UserError>,
    pub url: Option<String>,
    /// The app answered at `url` (HTTP 2xx or 3xx) when the state was read.
    pub answers: bool,
}

/// The whole journey as the Launch page and `slipway launch` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct LaunchState {
    pub project: Option<String>,
    pub steps: Vec<LaunchStep>,
    /// Where the sandbox runs what the emulator cannot (EKS, ECR, RDS); empty on real AWS.
    pub mappings: Vec<crate::sandbox::SandboxMapping>,
    pub url: Option<String>,
    pub facts: LaunchFacts,
}

fn step(id: LaunchStepId, status: LaunchStepStatus, detail: impl Into<String>, action: Option<LaunchAction>, error: Option<UserError>) -> LaunchStep {
    LaunchStep { id, title: id.title().into(), status, detail: detail.into(), action, error }
}

/// The steps, from the facts.
pub fn steps(f: &LaunchFacts) -> Vec<LaunchStep> {
    use LaunchStepStatus::*;
    let mut out = vec![];
    let connected = f.aws_sandbox.is_some();
    out.push(match (&f.aws_sandbox, &f.aws_error) {
        (Some(true), _) => step(LaunchStepId::Connect, Done, format!("The sandbox: {}", f.aws_summary.clone().unwrap_or_else(|| "the local AWS emulator".into())), None, None),
        (Some(false), _) => step(LaunchStepId::Connect, Done, format!("AWS: {}", f.aws_summary.clone().unwrap_or_default()), None, None),
        (None, Some(e)) => step(LaunchStepId::Connect, Failed, "AWS could not be connected", Some(LaunchAction::UseSandbox), Some(e.clone())),
        (None, None) => step(LaunchStepId::Connect, Current, "Use the sandbox (no account needed), or connect AWS on the Connect page", Some(LaunchAction::UseSandbox), None),
    });
    let has_project = f.project.is_some();
    out.push(match &f.project {
        Some(p) => step(LaunchStepId::Project, Done, format!("{p}: {}", if f.services.is_empty() { "no services".into() } else { f.services.join(", ") }), None, None),
        None => step(LaunchStepId::Project, Current, "Pick a folder or a GitHub repository", Some(LaunchAction::AddProject), None),
    });
    let infra_done = f.live_environment && !f.provisioning;
    out.push(if !connected {
        step(LaunchStepId::Infrastructure, Blocked, "Waits for Connect", None, None)
    } else if !has_project {
        step(LaunchStepId::Infrastructure, Blocked, "Waits for a project", None, None)
    } else if f.provisioning {
        step(LaunchStepId::Infrastructure, Running, format!("Applying: {} of {} resources", f.resources, f.resources_total), None, None)
    } else if infra_done {
        step(LaunchStepId::Infrastructure, Done, format!("{} resources; live environment on {}", f.resources, f.cluster.clone().unwrap_or_else(|| "the cluster".into())), None, None)
    } else if let Some(e) = &f.apply_error {
        step(LaunchStepId::Infrastructure, Failed, format!("{} of {} resources exist; Apply resumes", f.resources, f.resources_total), Some(LaunchAction::Apply), Some(e.clone()))
    } else if f.planned {
        let cost = f.monthly_cost.map(|c| format!("about ${c:.0} a month")).unwrap_or_else(|| "cost shown in the plan".into());
        step(LaunchStepId::Infrastructure, Current, format!("Planned: {} resources, {cost}. Apply creates them; the first build starts at once", f.resources_total), Some(LaunchAction::Apply), None)
    } else if f.resources > 0 {
        step(LaunchStepId::Infrastructure, Current, format!("{} of {} resources exist; Apply resumes", f.resources, f.resources_total), Some(LaunchAction::Apply), None)
    } else {
        step(LaunchStepId::Infrastructure, Current, "Plan the VPC, databases, registry and cluster, and see the monthly cost", Some(LaunchAction::Plan), None)
    });
    out.push(if !has_project {
        step(LaunchStepId::Run, Blocked, "Waits for a project", None, None)
    } else if f.run_active {
        step(LaunchStepId::Run, Running, format!("{} is running", f.run.clone().unwrap_or_default()), None, None)
    } else if f.run_passed {
        step(LaunchStepId::Run, Done, format!("{} built, tested against its database, and pushed", f.run.clone().unwrap_or_default()), None, None)
    } else if let Some(e) = &f.run_error {
        step(LaunchStepId::Run, Failed, format!("{} failed", f.run.clone().unwrap_or_default()), Some(LaunchAction::StartRun), Some(e.clone()))
    } else {
        step(LaunchStepId::Run, Current, "Check out, build, test and push (Apply starts it too)", Some(LaunchAction::StartRun), None)
    });
    let live_ok = f.live_revision.is_some() && f.url.is_some() && f.deploy_error.is_none() && !f.deploying;
    out.push(if f.deploying {
        step(LaunchStepId::Deploy, Running, "Rolling out to the live environment", None, None)
    } else if live_ok {
        step(LaunchStepId::Deploy, Done, format!("Revision {} is live", f.live_revision.unwrap_or_default()), None, None)
    } else if !infra_done {
        step(LaunchStepId::Deploy, Blocked, "Waits for the infrastructure (the live environment)", None, None)
    } else if !f.run_passed {
        step(LaunchStepId::Deploy, Blocked, "Waits for a run whose tests pass", None, None)
    } else if let Some(e) = &f.deploy_error {
        step(LaunchStepId::Deploy, Failed, "The deploy failed", Some(LaunchAction::DeployLive), Some(e.clone()))
    } else {
        step(LaunchStepId::Deploy, Current, format!("Deploy {}'s images to live", f.run.clone().unwrap_or_default()), Some(LaunchAction::DeployLive), None)
    });
    out.push(match (&f.url, live_ok) {
        (Some(url), true) if f.answers => step(LaunchStepId::Open, Done, format!("The app answers at {url}"), Some(LaunchAction::OpenApp), None),
        (Some(url), true) => step(LaunchStepId::Open, Current, format!("Open {url}"), Some(LaunchAction::OpenApp), None),
        _ => step(LaunchStepId::Open, Blocked, "Waits for the deploy", None, None),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use LaunchStepStatus::*;

    fn statuses(f: &LaunchFacts) -> Vec<LaunchStepStatus> {
        steps(f).iter().map(|s| s.status).collect()
    }

    #[test]
    fn a_fresh_install_starts_at_connect_and_everything_else_waits() {
        let f = LaunchFacts::default();
        assert_eq!(statuses(&f), [Current, Current, Blocked, Blocked, Blocked, Blocked]);
        let s = steps(&f);
        assert_eq!(s[0].action, Some(LaunchAction::UseSandbox));
        assert_eq!(s[2].detail, "Waits for Connect");
    }

    #[test]
    fn the_first_run_overlaps_the_infrastructure() {
        let f = LaunchFacts { aws_sandbox: Some(true), project: Some("shop".into()), provisioning: true, resources: 7, resources_total: 21, run: Some("shop-1".into()), run_active: true, ..Default::default() };
        let s = steps(&f);
        assert_eq!(statuses(&f), [Done, Done, Running, Running, Blocked, Blocked]);
        assert_eq!(s[2].detail, "Applying: 7 of 21 resources");
        assert!(s[4].detail.contains("infrastructure"));
    }

    #[test]
    fn plan_then_apply_then_deploy_then_open() {
        let mut f = LaunchFacts { aws_sandbox: Some(true), project: Some("shop".into()), services: vec!["api".into(), "web".into()], resources_total: 21, ..Default::default() };
        assert_eq!(steps(&f)[2].action, Some(LaunchAction::Plan));
        f.planned = true;
        f.monthly_cost = Some(412.4);
        let s = steps(&f);
        assert_eq!(s[2].action, Some(LaunchAction::Apply));
        assert!(s[2].detail.contains("about $412 a month"), "{}", s[2].detail);
        f.resources = 21;
        f.live_environment = true;
        f.cluster = Some("kind-dev".into());
        f.run = Some("shop-1".into());
        f.run_passed = true;
        let s = steps(&f);
        assert_eq!(statuses(&f), [Done, Done, Done, Done, Current, Blocked]);
        assert_eq!(s[4].action, Some(LaunchAction::DeployLive));
        f.live_revision = Some(1);
        f.url = Some("http://127.0.0.1:31234/".into());
        assert_eq!(statuses(&f), [Done, Done, Done, Done, Done, Current]);
        f.answers = true;
        assert_eq!(statuses(&f)[5], Done);
    }

    #[test]
    fn failures_carry_their_error_and_the_retrying_action() {
        let e = UserError::new("Apply failed", "quota", "raise it");
        let f = LaunchFacts {
            aws_sandbox: Some(false),
            project: Some("shop".into()),
            resources: 9,
            resources_total: 21,
            apply_error: Some(e.clone()),
            run: Some("shop-2".into()),
            run_error: Some(UserError::new("Tests of api failed", "1 of 3", "fix")),
            ..Default::default()
        };
        let s = steps(&f);
        assert_eq!((s[2].status, s[2].action, s[2].error.clone()), (Failed, Some(LaunchAction::Apply), Some(e)));
        assert!(s[2].detail.contains("9 of 21") && s[2].detail.contains("resumes"));
        assert_eq!((s[3].status, s[3].action), (Failed, Some(LaunchAction::StartRun)));
        assert_eq!(s[4].status, Blocked);
    }
}
