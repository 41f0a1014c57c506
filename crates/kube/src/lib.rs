//! Kubernetes through kube-rs: loads a kubeconfig, picks a context, and proves the cluster
//! answers and lets us in. Implements [`ClusterProvider`]. The deploy target is in
//! [`manifests`] (what to apply), [`cluster`] (preflight, server-side apply, prune),
//! [`rollout`] (watching every rollout to its end) and [`status`] (what runs, and its logs).

pub mod cluster;
pub mod export;
pub mod kubeconfig;
pub mod local;
pub mod manifests;
pub mod rollout;
pub mod status;

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use slipway_core::connections::Identity;
use slipway_core::providers::ClusterProvider;
use slipway_core::UserError;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Default, Clone)]
pub struct Kube;

pub(crate) fn describe_path(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => p.display().to_string(),
        None => std::env::var("KUBECONFIG").unwrap_or_else(|_| "~/.kube/config".into()),
    }
}

/// Loads the kubeconfig at `path` (else KUBECONFIG, else ~/.kube/config).
pub fn load_kubeconfig(path: &Option<PathBuf>) -> Result<Kubeconfig, UserError> {
    let res = match path {
        Some(p) => Kubeconfig::read_from(p),
        None => Kubeconfig::read(),
    };
    res.map_err(|e| {
        UserError::new(
            "No usable kubeconfig",
            format!("{}: {e}", describe_path(path)),
            "Create a cluster (the Architecture page creates EKS) or point KUBECONFIG at your cluster's kubeconfig",
        )
    })
}

/// The client configuration for `context` (the current context when None), and the context
/// and server used. Requests time out after 15 s of silence (see [`client`]); long streams
/// (watches, log follows) use a copy without a read timeout.
pub async fn config(path: Option<PathBuf>, context: Option<String>) -> Result<(kube::Config, String, String), UserError> {
    let kc = load_kubeconfig(&path)?;
    let ctx = context.clone().or_else(|| kc.current_context.clone()).filter(|c| !c.is_empty()).ok_or_else(|| {
        UserError::new("No Kubernetes context", format!("{} has no current-context", describe_path(&path)), "Pick a context (`kubectl config use-context NAME`)")
    })?;
    if !kc.contexts.iter().any(|c| c.name == ctx) {
        let names: Vec<_> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
        return Err(UserError::new(
            "Unknown Kubernetes context",
            format!("'{ctx}' is not in {} (it has: {})", describe_path(&path), names.join(", ")),
            "Pick one of the contexts listed",
        ));
    }
    let opts = KubeConfigOptions { context: Some(ctx.clone()), ..Default::default() };
    let mut cfg = kube::Config::from_custom_kubeconfig(kc, &opts).await.map_err(|e| {
        UserError::new("Kubeconfig not usable", format!("context '{ctx}': {e}"), "Check the context's cluster and user entries (certificates, token or exec plugin)")
    })?;
    cfg.connect_timeout = Some(Duration::from_secs(5));
    cfg.read_timeout = Some(Duration::from_secs(15));
    let server = cfg.cluster_url.to_string();
    Ok((cfg, ctx, server))
}

/// A client for `context` (the current context when None), and the context and server used.
pub async fn client(path: Option<PathBuf>, context: Option<String>) -> Result<(kube::Client, String, String), UserError> {
    let (cfg, ctx, server) = config(path, context).await?;
    let client = build_client(cfg, &ctx)?;
    Ok((client, ctx, server))
}

/// A client from a configuration; building it runs an exec credential plugin (EKS's
/// `slipway eks-token`), so a failure here is usually the credentials'.
pub fn build_client(cfg: kube::Config, ctx: &str) -> Result<kube::Client, UserError> {
    let exec = cfg.auth_info.exec.as_ref().and_then(|e| e.command.clone());
    kube::Client::try_from(cfg).map_err(|e| {
        let chain = slipway_core::error_chain(&e);
        match exec {
            Some(cmd) => UserError::new(
                "Kubernetes credentials not available",
                format!("context '{ctx}' gets its credentials from `{cmd}`, which failed: {chain}"),
                "For an EKS context, reconnect AWS (`slipway connect aws`) so `slipway eks-token` can sign a token; otherwise check that the exec plugin is on PATH and works",
            ),
            None => UserError::new("Kubeconfig not usable", format!("context '{ctx}': {chain}"), "Check the context's certificate authority and client certificate data"),
        }
    })
}

/// Maps a kube error for `what` on `server` to a UserError.
pub fn to_user_error(what: &str, server: &str, e: kube::Error) -> UserError {
    match e {
        kube::Error::Api(status) if status.code == 401 => UserError::new(
            what,
            format!("{server} rejected the credentials (401 {})", status.message),
            "Refresh the kubeconfig's credentials: the token or certificate may have expired (for EKS, reconnect AWS: its token is signed with those credentials)",
        ),
        kube::Error::Api(status) if status.code == 403 => UserError::new(
            what,
            format!("forbidden by RBAC: {}", status.message),
            "Ask the cluster admin for a role that allows this, or use a context with more rights",
        ),
        kube::Error::Api(status) => UserError::new(what, format!("{server} answered {}: {}", status.code, status.message), "Check the cluster's state and try again"),
        other => {
            let chain = slipway_core::error_chain(&other);
            if matches!(other, kube::Error::Auth(_)) || chain.contains("auth error") {
                UserError::new(
                    what,
                    format!("the kubeconfig's credentials could not be obtained: {chain}"),
                    "For an EKS context, reconnect AWS (`slipway connect aws`) so `slipway eks-token` can sign a token; otherwise refresh the kubeconfig's user entry (its exec plugin must be on PATH and work)",
                )
            } else if chain.contains("certificate") || chain.contains("InvalidCertificate") || chain.contains("expired") {
                UserError::new(
                    what,
                    format!("the TLS handshake with {server} failed: {chain}"),
                    "The cluster's or the client's certificate is not accepted (expired, or not signed by the kubeconfig's certificate authority): refresh the kubeconfig",
                )
            } else {
                UserError::new(
                    what,
                    format!("cannot reach {server}: {chain}"),
                    "Check that the cluster is running and reachable from here (VPN, firewall), then try again",
                )
            }
        }
    }
}

/// The HTTP status of a kube error (None when the cluster did not answer).
pub fn status_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

#[async_trait]
impl ClusterProvider for Kube {
    async fn check(&self, path: Option<PathBuf>, context: Option<String>) -> Result<Identity, UserError> {
        let (client, ctx, server) = client(path, context).await?;
        let info = client.apiserver_version().await.map_err(|e| to_user_error("Kubernetes check failed", &server, e))?;
        // /version is open to everyone; listing namespaces proves the identity has rights.
        Api::<Namespace>::all(client)
            .list_metadata(&ListParams::default().limit(1))
            .await
            .map_err(|e| to_user_error("Kubernetes check failed", &server, e))?;
        Ok(Identity::Kubernetes { context: ctx, server, version: info.git_version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn missing_kubeconfig_is_a_clear_error() {
        let e = Kube.check(Some(PathBuf::from("/nonexistent/kubeconfig")), None).await.unwrap_err();
        assert_eq!(e.what, "No usable kubeconfig");
        assert!(e.why.contains("/nonexistent/kubeconfig"), "{e}");
    }

    #[tokio::test]
    async fn unknown_context_lists_the_known_ones() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("kc");
        std::fs::write(
            &p,
            "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: a\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: x\n",
        )
        .unwrap();
        let e = Kube.check(Some(p.clone()), Some("nope".into())).await.unwrap_err();
        assert!(e.why.contains("it has: a"), "{e}");
        // The known context points at a closed port: unreachable, said plainly.
        let e = Kube.check(Some(p), None).await.unwrap_err();
        assert!(e.why.contains("cannot reach https://127.0.0.1:1"), "{e}");
    }
}
