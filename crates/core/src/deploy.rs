//! Deployments to Kubernetes as the front ends see them: environments (where a project deploys),
//! revisions (what was deployed, when and why, with the image set to roll back to), the live
//! progress of a rollout (per workload and per pod), the status of an environment, and the lines
//! of its merged logs. The cluster work itself lives in `slipway-kube`; the service layer keeps
//! environments and revisions in the store. No type here carries a secret: the database password
//! reaches the cluster as a Kubernetes Secret built at apply time and is never recorded.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::pipeline::project::is_id;
use crate::UserError;

/// The label every object Slipway applies carries, with the project id.
pub const LABEL_PROJECT: &str = "slipway.dev/project";
/// The label every object Slipway applies carries, with the environment name.
pub const LABEL_ENVIRONMENT: &str = "slipway.dev/environment";
/// `app.kubernetes.io/managed-by: slipway`.
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// What a workload is for: `app`, `proxy` or `database`.
pub const LABEL_ROLE: &str = "slipway.dev/role";
/// The pod template annotation with Slipway's revision number: every deploy, redeploy and
/// rollback changes it, so each one rolls out a new ReplicaSet.
pub const ANNOTATION_REVISION: &str = "slipway.dev/revision";
/// The field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "slipway";

/// Where the deployed app's database comes from on Kubernetes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum KubeDatabase {
    /// The sandbox database: a MariaDB Deployment and Service in the namespace, loaded with the
    /// project's schema on first start (its data lives as long as its pod). For local clusters.
    #[default]
    InCluster,
    /// The live RDS instance Slipway created (`slipway apply`): its endpoint, user and database,
    /// and the master password from the keychain.
    #[serde(rename_all = "camelCase")]
    Rds {
        /// The blueprint's project (default `slipway`).
        blueprint: Option<String>,
        /// The blueprint's database resource (default `db-live`).
        instance: Option<String>,
    },
}

/// A Kubernetes cluster and namespace to deploy to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct KubeTarget {
    /// The kubeconfig context; None: the connected Kubernetes context, else the kubeconfig's
    /// current context. Any context works: kind, minikube, k3d, or the EKS cluster Slipway
    /// created (its context runs `slipway eks-token`).
    pub context: Option<String>,
    /// The kubeconfig file; None: the connected one, else KUBECONFIG, else ~/.kube/config.
    pub kubeconfig: Option<String>,
    /// The namespace; None: the one the repository's manifests name, else the project id.
    /// Slipway creates it and refuses one that exists without its ownership label.
    pub namespace: Option<String>,
    #[serde(default)]
    pub database: KubeDatabase,
    /// Sets every Deployment's progressDeadlineSeconds (None: the manifests' own, 600 s when
    /// unset; 180 s for generated manifests).
    pub progress_deadline_secs: Option<u32>,
}

/// Where an environment deploys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum EnvironmentTarget {
    /// The local Docker engine (replicas behind an NGINX on a loopback port).
    Local,
    /// A Kubernetes cluster.
    Kubernetes(KubeTarget),
}

/// A named place a project deploys to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Environment {
    pub project: String,
    /// Short name: lowercase letters, digits and dashes (`staging`, `kind`, `eks`).
    pub name: String,
    pub target: EnvironmentTarget,
    /// Pipeline runs of the project deploy here (at most one environment per project; with
    /// none, runs deploy to the local Docker engine).
    pub runs: bool,
}

impl Environment {
    /// Checks what a person typed.
    pub fn validate(&self) -> Result<(), UserError> {
        let bad = |why: String, fix: &str| Err(UserError::new("Environment settings are not valid", why, fix));
        if !is_id(&self.name) {
            return bad(format!("\"{}\" is not a short name", self.name), "Use lowercase letters, digits and dashes (up to 40), starting with a letter");
        }
        if let EnvironmentTarget::Kubernetes(k) = &self.target {
            if let Some(ns) = &k.namespace {
                if !is_dns_label(ns) {
                    return bad(
                        format!("\"{ns}\" is not a Kubernetes namespace name"),
                        "Use up to 63 lowercase letters, digits and dashes, starting and ending with a letter or digit",
                    );
                }
            }
            if k.context.as_deref().is_some_and(|c| c.trim().is_empty()) {
                return bad("the context is empty".into(), "Pick a context from the kubeconfig, or leave it unset for the current one");
            }
            if k.kubeconfig.as_deref().is_some_and(|c| c.trim().is_empty()) {
                return bad("the kubeconfig path is empty".into(), "Give the kubeconfig's path, or leave it unset for the default");
            }
            if let Some(s) = k.progress_deadline_secs {
                if !(10..=3600).contains(&s) {
                    return bad(format!("a progress deadline of {s} s"), "Use 10 to 3600 seconds");
                }
            }
        }
        Ok(())
    }
}

/// A DNS-1123 label (namespaces, Service and Deployment names).
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// What made a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum DeployOperation {
    /// New images (a pipeline run's, or `slipway deploy`).
    Deploy,
    /// A rolling restart of the current revision: same images, new pods.
    Redeploy,
    /// The image set (and objects) of an earlier revision, applied again.
    Rollback,
}

impl DeployOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deploy => "deploy",
            Self::Redeploy => "redeploy",
            Self::Rollback => "rollback",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum RevisionStatus {
    /// Applied; rollouts under way.
    InProgress,
    /// Every rollout completed.
    Succeeded,
    /// Refused, half-applied or a rollout failed (the error says which, and what is left).
    Failed,
}

impl RevisionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in progress",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// One container image of a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DeployedImage {
    /// The Deployment (or other workload).
    pub workload: String,
    pub container: String,
    pub image: String,
}

/// One deploy, redeploy or rollback of an environment, numbered from 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Revision {
    pub project: String,
    pub environment: String,
    pub number: u32,
    pub operation: DeployOperation,
    /// The pipeline run whose images these are.
    pub run: Option<String>,
    pub commit: Option<String>,
    /// For a rollback: the revision whose image set was applied again.
    pub rollback_to: Option<u32>,
    /// Why: the run and commit, "rolling restart", or the reason given for a rollback.
    pub reason: String,
    /// Every container image, as applied.
    pub images: Vec<DeployedImage>,
    /// The kubeconfig context and namespace it was applied to.
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub status: RevisionStatus,
    #[ts(type = "number")]
    pub started_at: i64,
    #[ts(type = "number | null")]
    pub finished_at: Option<i64>,
    pub error: Option<UserError>,
    /// The app's address once the rollouts completed.
    pub url: Option<String>,
    /// What happened after a failure (an automatic rollback, or what was left in the cluster).
    pub note: Option<String>,
}

/// A pod as the Deployments page and the progress events show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PodInfo {
    pub name: String,
    /// The Deployment it belongs to.
    pub workload: String,
    /// Pending, Running, Succeeded, Failed, Unknown; "Terminating" while it is being removed.
    pub phase: String,
    pub ready: bool,
    pub restarts: u32,
    /// Why it is not ready: ImagePullBackOff, ErrImageNeverPull, CrashLoopBackOff,
    /// Unschedulable, ContainerCreating, "readiness probe failing"...
    pub reason: Option<String>,
    pub message: Option<String>,
    /// Part of the revision being rolled out (false: an older one, on its way out).
    pub current: bool,
    pub node: Option<String>,
    #[ts(type = "number | null")]
    pub started_at: Option<i64>,
}

/// One Deployment's rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct WorkloadProgress {
    pub name: String,
    pub desired: u32,
    pub updated: u32,
    pub ready: u32,
    pub available: u32,
    /// The rollout completed (as `kubectl rollout status` decides).
    pub done: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum RolloutPhase {
    /// Checking rights and the namespace, then server-side apply.
    Applying,
    /// Watching the rollouts.
    RollingOut,
    Succeeded,
    Failed,
}

/// Live progress of a deploy, redeploy or rollback (the `deployProgress` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RolloutProgress {
    pub project: String,
    pub environment: String,
    pub revision: u32,
    pub operation: DeployOperation,
    pub phase: RolloutPhase,
    pub workloads: Vec<WorkloadProgress>,
    pub pods: Vec<PodInfo>,
    /// The latest thing that happened, in words.
    pub message: String,
}

/// What a workload is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum WorkloadRole {
    App,
    Proxy,
    Database,
}

/// A Deployment as the Deployments page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct WorkloadStatus {
    pub name: String,
    pub role: WorkloadRole,
    pub desired: u32,
    pub updated: u32,
    pub ready: u32,
    pub available: u32,
    pub images: Vec<String>,
    /// Kubernetes' own revision of the Deployment (`deployment.kubernetes.io/revision`).
    pub kube_revision: Option<String>,
    /// Slipway's revision its pod template carries.
    pub revision: Option<u32>,
}

/// How a Service is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Endpoint {
    pub service: String,
    /// ClusterIP, NodePort or LoadBalancer.
    pub service_type: String,
    pub port: u16,
    pub node_port: Option<u16>,
    /// The load balancer's address, or a node's address and the node port.
    pub url: Option<String>,
    /// E.g. "the load balancer has no external address yet: reachable on the node port".
    pub note: Option<String>,
}

/// An environment as the Deployments page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DeployStatus {
    pub environment: Environment,
    pub context: Option<String>,
    pub server: Option<String>,
    pub namespace: Option<String>,
    /// The cluster could not be read (the rest is what the store knows).
    pub error: Option<UserError>,
    pub workloads: Vec<WorkloadStatus>,
    pub pods: Vec<PodInfo>,
    pub endpoints: Vec<Endpoint>,
    /// The app's address: the load balancer's, else a node port's.
    pub url: Option<String>,
    /// The revision serving now (the newest that succeeded).
    pub current: Option<u32>,
    /// Newest first.
    pub revisions: Vec<Revision>,
}

/// A context of a kubeconfig, for choosing an environment's cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct KubeContextInfo {
    pub name: String,
    pub cluster: String,
    pub server: Option<String>,
    pub user: Option<String>,
    /// The context's default namespace.
    pub namespace: Option<String>,
    /// The kubeconfig's current context.
    pub current: bool,
    /// Its user runs an exec credential plugin (`slipway eks-token` for Slipway's EKS cluster).
    pub exec: Option<String>,
}

/// Lines of the merged logs of every replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DeployLogLine {
    pub pod: String,
    pub container: String,
    /// One line, without its line break.
    pub text: String,
}

/// A batch of log lines for the UI's channel; `done` on the last one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DeployLogChunk {
    pub lines: Vec<DeployLogLine>,
    pub done: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str, ns: Option<&str>) -> Environment {
        Environment {
            project: "p".into(),
            name: name.into(),
            target: EnvironmentTarget::Kubernetes(KubeTarget { namespace: ns.map(str::to_string), ..Default::default() }),
            runs: false,
        }
    }

    #[test]
    fn environments_are_validated() {
        env("staging", Some("team-a")).validate().unwrap();
        assert!(env("Staging", None).validate().unwrap_err().why.contains("not a short name"));
        assert!(env("s", Some("Team_A")).validate().unwrap_err().why.contains("not a Kubernetes namespace"));
        assert!(env("s", Some("-a")).validate().is_err());
        let mut e = env("s", None);
        e.target = EnvironmentTarget::Kubernetes(KubeTarget { progress_deadline_secs: Some(5), ..Default::default() });
        assert!(e.validate().unwrap_err().fix.contains("10 to 3600"));
    }

    #[test]
    fn targets_serialize_with_a_kind_tag() {
        let v = serde_json::to_value(env("s", Some("n")).target).unwrap();
        assert_eq!(v["kind"], "kubernetes");
        assert_eq!(v["namespace"], "n");
        assert_eq!(v["database"]["kind"], "inCluster");
        let back: EnvironmentTarget = serde_json::from_value(serde_json::json!({"kind": "kubernetes", "context": "kind-dev"})).unwrap();
        assert_eq!(back, EnvironmentTarget::Kubernetes(KubeTarget { context: Some("kind-dev".into()), ..Default::default() }));
        assert_eq!(serde_json::to_value(EnvironmentTarget::Local).unwrap()["kind"], "local");
    }
}
