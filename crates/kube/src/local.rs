//! Local clusters for the sandbox: the emulator cannot run EKS, so the sandbox maps it to a real
//! local Kubernetes (kind, k3d, minikube, Docker Desktop, Rancher Desktop, or a context the user
//! picks), the way LocalStack maps EKS to k3s. This module finds those contexts in a kubeconfig,
//! works out how images built on the local Docker engine reach the cluster's nodes (the sandbox's
//! ECR), and delivers them.

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};
use slipway_core::pipeline::logs::StepLog;
use slipway_core::sandbox::{ImageRoute, LocalCluster, LocalClusterKind};
use slipway_core::UserError;
use std::path::PathBuf;

/// What to tell a person who has no local cluster: how to get one, per distribution.
pub const HOW_TO_GET_ONE: &str = "Create a local cluster, then try again: `kind create cluster` (https://kind.sigs.k8s.io), `k3d cluster create`, `minikube start`, or turn on Kubernetes in Docker Desktop or Rancher Desktop. A cluster of your own works too: pick its context in Settings (Sandbox cluster)";

/// The contexts of a kubeconfig that a local distribution wrote, in the file's order, the
/// current context first.
pub fn local_contexts(path: &Option<PathBuf>) -> Vec<(String, LocalClusterKind, Option<String>)> {
    let Ok(kc) = crate::load_kubeconfig(path) else { return vec![] };
    let server_of = |ctx: &str| {
        let cluster = kc.contexts.iter().find(|c| c.name == ctx).and_then(|c| c.context.as_ref()).map(|c| c.cluster.clone())?;
        kc.clusters.iter().find(|c| c.name == cluster).and_then(|c| c.cluster.as_ref()).and_then(|c| c.server.clone())
    };
    let mut out: Vec<(String, LocalClusterKind, Option<String>)> = kc
        .contexts
        .iter()
        .filter_map(|c| LocalClusterKind::of_context(&c.name).map(|(k, _)| (c.name.clone(), k, server_of(&c.name))))
        .collect();
    if let Some(cur) = &kc.current_context {
        if let Some(i) = out.iter().position(|(n, _, _)| n == cur) {
            let c = out.remove(i);
            out.insert(0, c);
        }
    }
    out
}

/// This machine's id, as the kubelet reports it for a node running here.
fn machine_id() -> Option<String> {
    ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Whether the Docker engine Slipway builds on is on this machine (DOCKER_HOST unset or a unix
/// socket).
fn engine_is_local() -> bool {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.trim().is_empty() => h.starts_with("unix://") || h.starts_with("npipe://"),
        _ => true,
    }
}

/// How the local Docker engine's images reach the cluster's nodes. Known distributions have
/// their loaders; for any other cluster, a node that runs on this machine with the Docker
/// runtime (the kubelet's dockershim) sees the engine's images as they are; otherwise images go
/// through the connected registry.
pub async fn image_route(client: &kube::Client, kind: LocalClusterKind, context: &str) -> ImageRoute {
    let name = LocalClusterKind::of_context(context).map(|(_, n)| n).unwrap_or_else(|| context.to_string());
    match kind {
        LocalClusterKind::Kind => return ImageRoute::KindLoad { cluster: name },
        LocalClusterKind::K3d => return ImageRoute::K3dImport { cluster: name },
        LocalClusterKind::Minikube => return ImageRoute::MinikubeLoad { profile: name },
        LocalClusterKind::DockerDesktop | LocalClusterKind::RancherDesktop => return ImageRoute::SharedEngine,
        LocalClusterKind::Other => {}
    }
    let Ok(nodes) = Api::<Node>::all(client.clone()).list(&ListParams::default()).await else { return ImageRoute::Registry };
    let here = machine_id();
    let shared = engine_is_local()
        && nodes.items.iter().any(|n| {
            let info = n.status.as_ref().and_then(|s| s.node_info.as_ref());
            info.is_some_and(|i| i.container_runtime_version.starts_with("docker://") && here.as_deref() == Some(i.machine_id.as_str()))
        });
    if shared {
        ImageRoute::SharedEngine
    } else {
        ImageRoute::Registry
    }
}

/// Finds the local cluster the sandbox uses: `picked` (a context the user chose) when given,
/// else the first context a local distribution wrote. It must answer: a cluster that is down is
/// an error naming it, and no local cluster at all says how to get one.
pub async fn find(path: Option<PathBuf>, picked: Option<String>) -> Result<LocalCluster, UserError> {
    let (context, kind) = match picked {
        Some(ctx) => {
            let kind = LocalClusterKind::of_context(&ctx).map(|(k, _)| k).unwrap_or(LocalClusterKind::Other);
            (ctx, kind)
        }
        None => match local_contexts(&path).into_iter().next() {
            Some((ctx, kind, _)) => (ctx, kind),
            None => {
                return Err(UserError::new(
                    "No local Kubernetes cluster for the sandbox",
                    format!(
                        "the sandbox runs EKS on a local cluster, and {} has no context of kind, k3d, minikube, Docker Desktop or Rancher Desktop",
                        crate::describe_path(&path)
                    ),
                    HOW_TO_GET_ONE,
                ))
            }
        },
    };
    let (client, ctx, server) = crate::client(path.clone(), Some(context.clone())).await.map_err(|e| {
        UserError::new(format!("The sandbox's cluster {context} cannot be used"), format!("{}: {}", e.what, e.why), e.fix)
    })?;
    client.apiserver_version().await.map_err(|e| {
        let e = crate::to_user_error(&format!("The sandbox's cluster {ctx} does not answer"), &server, e);
        UserError::new(e.what, e.why, format!("Start the cluster ({} context {ctx}), then try again. {}", kind.label(), HOW_TO_GET_ONE))
    })?;
    let images = image_route(&client, kind, &ctx).await;
    Ok(LocalCluster { context: ctx, kubeconfig: path.map(|p| p.display().to_string()), kind, server: Some(server), images })
}

/// Makes `images` (local engine tags) available to the cluster's nodes along `route`. The
/// shared engine and the registry need nothing here (the Push stage pushed to the registry).
pub async fn deliver(route: &ImageRoute, images: &[String], log: Option<&StepLog>) -> Result<(), UserError> {
    // The loader, and its arguments around the image's name.
    let (tool, before, after): (&str, Vec<String>, Vec<String>) = match route {
        ImageRoute::SharedEngine | ImageRoute::Registry => return Ok(()),
        ImageRoute::KindLoad { cluster } => ("kind", vec!["load".into(), "docker-image".into()], vec!["--name".into(), cluster.clone()]),
        ImageRoute::K3dImport { cluster } => ("k3d", vec!["image".into(), "import".into()], vec!["-c".into(), cluster.clone()]),
        ImageRoute::MinikubeLoad { profile } => ("minikube", vec!["image".into(), "load".into()], vec!["-p".into(), profile.clone()]),
    };
    for img in images {
        let a: Vec<String> = before.iter().cloned().chain([img.clone()]).chain(after.iter().cloned()).collect();
        if let Some(l) = log {
            l.line(format!("{tool} {}", a.join(" ")));
        }
        let out = tokio::process::Command::new(tool).args(&a).output().await.map_err(|e| {
            UserError::new(
                format!("Could not hand {img} to the local cluster"),
                format!("`{tool}` could not be run: {e}"),
                format!("Install {tool} and put it on PATH (the sandbox's cluster needs it to receive images), or connect a container registry the cluster can pull from"),
            )
        })?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(UserError::new(
                format!("Could not hand {img} to the local cluster"),
                format!("`{tool} {}` failed: {}", a.join(" "), err.trim()),
                "Check that the cluster is running, then try again",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_contexts_are_recognised_by_name_and_the_current_one_comes_first() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("config");
        std::fs::write(
            &path,
            r#"apiVersion: v1
kind: Config
current-context: minikube
clusters:
- name: kind-dev
  cluster: {server: "https://127.0.0.1:40123"}
- name: minikube
  cluster: {server: "https://192.168.49.2:8443"}
- name: prod
  cluster: {server: "https://prod.example.com"}
contexts:
- name: kind-dev
  context: {cluster: kind-dev, user: u}
- name: prod
  context: {cluster: prod, user: u}
- name: minikube
  context: {cluster: minikube, user: u}
users:
- name: u
  user: {token: x}
"#,
        )
        .unwrap();
        let found = local_contexts(&Some(path));
        let names: Vec<_> = found.iter().map(|(n, k, _)| (n.as_str(), *k)).collect();
        assert_eq!(names, [("minikube", LocalClusterKind::Minikube), ("kind-dev", LocalClusterKind::Kind)], "prod is not local");
        assert_eq!(found[1].2.as_deref(), Some("https://127.0.0.1:40123"));
    }

    #[tokio::test]
    async fn no_local_cluster_says_how_to_get_one() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("config");
        std::fs::write(&path, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n").unwrap();
        let e = find(Some(path), None).await.unwrap_err();
        assert_eq!(e.what, "No local Kubernetes cluster for the sandbox");
        assert!(e.fix.contains("kind create cluster") && e.fix.contains("minikube start"), "{e}");
    }

    #[tokio::test]
    async fn a_cluster_that_does_not_answer_is_named() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("config");
        // A kind context whose API server port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: kind-gone\nclusters:\n- name: kind-gone\n  cluster: {{server: \"https://127.0.0.1:{port}\", insecure-skip-tls-verify: true}}\ncontexts:\n- name: kind-gone\n  context: {{cluster: kind-gone, user: u}}\nusers:\n- name: u\n  user: {{token: x}}\n"
            ),
        )
        .unwrap();
        let e = find(Some(path), None).await.unwrap_err();
        assert!(e.what.contains("kind-gone") && e.what.contains("does not answer"), "{e}");
        assert!(e.why.contains(&format!("127.0.0.1:{port}")), "{e}");
        assert!(e.fix.contains("Start the cluster (kind context kind-gone)"), "{e}");
    }

    #[tokio::test]
    async fn a_missing_loader_is_a_clear_error() {
        let route = ImageRoute::KindLoad { cluster: "dev".into() };
        std::env::set_var("PATH", "/nonexistent");
        let e = deliver(&route, &["shop-web:abc".into()], None).await.unwrap_err();
        assert!(e.why.contains("`kind` could not be run") && e.fix.contains("Install kind"), "{e}");
    }
}
