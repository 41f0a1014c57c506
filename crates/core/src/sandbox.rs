//! The sandbox: the local AWS emulator Slipway runs so the whole app works with no account.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum SandboxStatus {
    Stopped,
    Installing,
    Starting,
    Running,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SandboxState {
    pub status: SandboxStatus,
    /// http://127.0.0.1:PORT while running.
    pub endpoint: Option<String>,
    pub pid: Option<u32>,
    /// What went wrong, when `status` is `failed`.
    pub error: Option<crate::UserError>,
    /// A random id made when this emulator process started (the same when a later Slipway adopts
    /// it). Resources recorded under another id are gone: that emulator kept them in memory.
    #[serde(default)]
    pub instance: Option<String>,
}

impl SandboxState {
    pub fn stopped() -> Self {
        Self { status: SandboxStatus::Stopped, endpoint: None, pid: None, error: None, instance: None }
    }
}

/// A local Kubernetes distribution the sandbox can map EKS to, recognised by its context name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum LocalClusterKind {
    Kind,
    K3d,
    Minikube,
    DockerDesktop,
    RancherDesktop,
    /// Any other context, used because the user picked it.
    Other,
}

impl LocalClusterKind {
    pub fn label(self) -> &'static str {
        match self {
            LocalClusterKind::Kind => "kind",
            LocalClusterKind::K3d => "k3d",
            LocalClusterKind::Minikube => "minikube",
            LocalClusterKind::DockerDesktop => "Docker Desktop",
            LocalClusterKind::RancherDesktop => "Rancher Desktop",
            LocalClusterKind::Other => "a cluster you picked",
        }
    }

    /// Recognises the context names the local distributions write (`kind-<name>`,
    /// `k3d-<name>`, `minikube`, `docker-desktop`, `rancher-desktop`), with the cluster's own name
    /// where its image loader needs it.
    pub fn of_context(context: &str) -> Option<(LocalClusterKind, String)> {
        if let Some(n) = context.strip_prefix("kind-").filter(|n| !n.is_empty()) {
            return Some((LocalClusterKind::Kind, n.to_string()));
        }
        if let Some(n) = context.strip_prefix("k3d-").filter(|n| !n.is_empty()) {
            return Some((LocalClusterKind::K3d, n.to_string()));
        }
        match context {
            "minikube" => Some((LocalClusterKind::Minikube, "minikube".into())),
            "docker-desktop" | "docker-for-desktop" => Some((LocalClusterKind::DockerDesktop, context.into())),
            "rancher-desktop" => Some((LocalClusterKind::RancherDesktop, context.into())),
            _ => None,
        }
    }
}

/// How images built on the local Docker engine reach the local cluster's nodes (what ECR is in
/// the sandbox).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum ImageRoute {
    /// The cluster's nodes run on this Docker engine: the images are already there.
    SharedEngine,
    /// `kind load docker-image IMAGE --name CLUSTER`.
    #[serde(rename_all = "camelCase")]
    KindLoad { cluster: String },
    /// `k3d image import IMAGE -c CLUSTER`.
    #[serde(rename_all = "camelCase")]
    K3dImport { cluster: String },
    /// `minikube image load IMAGE -p PROFILE`.
    #[serde(rename_all = "camelCase")]
    MinikubeLoad { profile: String },
    /// Through the connected container registry (the cluster pulls from it).
    Registry,
}

impl ImageRoute {
    pub fn describe(&self) -> String {
        match self {
            ImageRoute::SharedEngine => "the local Docker engine's images (the cluster runs on the same engine)".into(),
            ImageRoute::KindLoad { cluster } => format!("images loaded into kind cluster {cluster} (`kind load docker-image`)"),
            ImageRoute::K3dImport { cluster } => format!("images imported into k3d cluster {cluster} (`k3d image import`)"),
            ImageRoute::MinikubeLoad { profile } => format!("images loaded into minikube profile {profile} (`minikube image load`)"),
            ImageRoute::Registry => "the connected container registry (the cluster pulls from it)".into(),
        }
    }
}

/// The local cluster the sandbox maps EKS to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct LocalCluster {
    pub context: String,
    /// The kubeconfig file holding the context (None: KUBECONFIG, else ~/.kube/config).
    pub kubeconfig: Option<String>,
    pub kind: LocalClusterKind,
    pub server: Option<String>,
    pub images: ImageRoute,
}

/// One part of the architecture the emulator cannot run, and the real local part standing in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SandboxMapping {
    /// The blueprint's part: "EKS", "ECR", "RDS".
    pub part: String,
    /// What stands in for it, in words ("kind cluster kind-dev (context kind-dev)").
    pub maps_to: String,
    /// None when the part is ready; else what is missing and how to get it.
    pub error: Option<crate::UserError>,
}
