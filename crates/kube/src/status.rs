//! What an environment runs: its Deployments (desired, updated, ready and available replicas,
//! images, revisions), its pods (phase, readiness, restarts, reason), how its Services are
//! reached (a load balancer's address, else a node port on a node's address: 127.0.0.1 when the
//! node is this machine), and the merged logs of every replica, each line with its pod's name,
//! read once or followed (pods that start later are followed too).

use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use kube::api::{Api, ListParams, LogParams};
use kube::runtime::watcher::{self, watcher};
use slipway_core::deploy::{DeployLogLine, Endpoint, PodInfo, WorkloadRole, WorkloadStatus, ANNOTATION_REVISION, LABEL_ROLE};
use slipway_core::UserError;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cluster::{selector, Cluster};
use crate::rollout::{pod_info, workload_of};
use crate::to_user_error;

/// An environment's objects in the cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterStatus {
    /// False when the namespace does not exist (nothing deployed, or torn down).
    pub namespace_exists: bool,
    /// The namespace is being deleted (a teardown): it serves nothing any more.
    pub terminating: bool,
    pub workloads: Vec<WorkloadStatus>,
    pub pods: Vec<PodInfo>,
    pub endpoints: Vec<Endpoint>,
    pub url: Option<String>,
}

fn role_of(labels: Option<&BTreeMap<String, String>>) -> WorkloadRole {
    match labels.and_then(|l| l.get(LABEL_ROLE)).map(String::as_str) {
        Some("database") => WorkloadRole::Database,
        Some("proxy") => WorkloadRole::Proxy,
        _ => WorkloadRole::App,
    }
}

/// True when `ip` is an address of this machine (a node that is this machine: kind with host
/// networking, this test cluster), so its node ports answer on 127.0.0.1.
fn is_local_address(ip: &str) -> bool {
    ip.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback() || std::net::UdpSocket::bind((a, 0)).is_ok())
}

/// The address node ports are reached on: 127.0.0.1 for a node that is this machine, else the
/// first node's external address, else its internal one.
async fn node_address(cluster: &Cluster) -> Option<String> {
    let nodes = Api::<Node>::all(cluster.client.clone()).list(&ListParams::default().limit(5)).await.ok()?;
    let addrs: Vec<(String, String)> = nodes
        .items
        .iter()
        .flat_map(|n| n.status.as_ref().and_then(|s| s.addresses.clone()).unwrap_or_default())
        .map(|a| (a.type_, a.address))
        .collect();
    if addrs.iter().any(|(t, a)| t == "InternalIP" && is_local_address(a)) {
        return Some("127.0.0.1".into());
    }
    addrs.iter().find(|(t, _)| t == "ExternalIP").or_else(|| addrs.iter().find(|(t, _)| t == "InternalIP")).map(|(_, a)| a.clone())
}

/// How each Service is reached.
pub fn endpoints(services: &[Service], node: Option<&str>) -> Vec<Endpoint> {
    let mut out = vec![];
    for s in services {
        let name = s.metadata.name.clone().unwrap_or_default();
        let ns = s.metadata.namespace.clone().unwrap_or_default();
        let spec = s.spec.clone().unwrap_or_default();
        let ty = spec.type_.clone().unwrap_or_else(|| "ClusterIP".into());
        let ingress = s.status.as_ref().and_then(|st| st.load_balancer.as_ref()).and_then(|lb| lb.ingress.as_ref()).and_then(|i| i.first()).and_then(|i| i.hostname.clone().or(i.ip.clone()));
        for p in spec.ports.iter().flatten() {
            let port = p.port as u16;
            let node_port = p.node_port.map(|n| n as u16);
            let (url, note) = match (ty.as_str(), &ingress, node_port) {
                ("LoadBalancer", Some(host), _) => (Some(format!("http://{host}{}/", if port == 80 { String::new() } else { format!(":{port}") })), None),
                ("LoadBalancer", None, Some(np)) => (
                    node.map(|a| format!("http://{a}:{np}/")),
                    Some(format!("the load balancer has no external address (yet): reachable on node port {np}{}", node.map(|a| format!(" of {a}")).unwrap_or_default())),
                ),
                ("NodePort", _, Some(np)) => (node.map(|a| format!("http://{a}:{np}/")), Some(format!("node port {np}"))),
                // The protocol is not known (a database is not HTTP): the address only.
                _ => (None, Some(format!("inside the cluster at {name}.{ns}:{port}"))),
            };
            out.push(Endpoint { service: name.clone(), service_type: ty.clone(), port, node_port, url, note });
        }
    }
    out
}

/// The app's URL: a load balancer's address (on EKS the NGINX Service's ELB host name, from
/// `status.loadBalancer.ingress[0]`) before any node port.
pub fn app_url(endpoints: &[Endpoint]) -> Option<String> {
    endpoints
        .iter()
        .filter(|e| e.url.is_some())
        .min_by_key(|e| match (e.service_type.as_str(), e.note.is_none()) {
            ("LoadBalancer", true) => 0,
            ("LoadBalancer", false) => 1,
            _ => 2,
        })
        .and_then(|e| e.url.clone())
}

/// The environment's Deployments, pods and Services.
pub async fn status(cluster: &Cluster, namespace: &str, project: &str, environment: &str) -> Result<ClusterStatus, UserError> {
    let what = format!("Reading namespace {namespace} failed");
    let err = |e| to_user_error(&what, &cluster.server, e);
    let ns = Api::<k8s_openapi::api::core::v1::Namespace>::all(cluster.client.clone()).get_opt(namespace).await.map_err(err)?;
    let Some(ns) = ns else {
        return Ok(ClusterStatus::default());
    };
    // A namespace being deleted (a teardown) serves nothing any more, even while its Services
    // wait for the namespace controller: no address is offered for it.
    let terminating = ns.metadata.deletion_timestamp.is_some() || ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating");
    let lp = ListParams::default().labels(&selector(project, environment));
    let (dapi, papi, sapi) = (
        Api::<Deployment>::namespaced(cluster.client.clone(), namespace),
        Api::<Pod>::namespaced(cluster.client.clone(), namespace),
        Api::<Service>::namespaced(cluster.client.clone(), namespace),
    );
    let (deps, pods, svcs) = futures::try_join!(dapi.list(&lp), papi.list(&lp), sapi.list(&lp))
    .map_err(err)?;
    let mut revisions: BTreeMap<String, Option<u32>> = BTreeMap::new();
    let workloads: Vec<WorkloadStatus> = deps
        .items
        .iter()
        .map(|d| {
            let spec = d.spec.clone().unwrap_or_default();
            let st = d.status.clone().unwrap_or_default();
            let name = d.metadata.name.clone().unwrap_or_default();
            let revision = spec.template.metadata.as_ref().and_then(|m| m.annotations.as_ref()).and_then(|a| a.get(ANNOTATION_REVISION)).and_then(|r| r.parse().ok());
            revisions.insert(name.clone(), revision);
            WorkloadStatus {
                name,
                role: role_of(d.metadata.labels.as_ref()),
                desired: spec.replicas.unwrap_or(1).max(0) as u32,
                updated: st.updated_replicas.unwrap_or(0).max(0) as u32,
                ready: st.ready_replicas.unwrap_or(0).max(0) as u32,
                available: st.available_replicas.unwrap_or(0).max(0) as u32,
                images: spec.template.spec.as_ref().map(|s| s.containers.iter().filter_map(|c| c.image.clone()).collect()).unwrap_or_default(),
                kube_revision: d.metadata.annotations.as_ref().and_then(|a| a.get("deployment.kubernetes.io/revision")).cloned(),
                revision,
            }
        })
        .collect();
    let pods: Vec<PodInfo> = pods.items.iter().map(|p| pod_info(p, revisions.get(&workload_of(p)).copied().flatten())).collect();
    let node = if svcs.items.iter().any(|s| s.spec.as_ref().and_then(|x| x.type_.as_deref()).is_some_and(|t| t != "ClusterIP")) { node_address(cluster).await } else { None };
    let endpoints = endpoints(&svcs.items, node.as_deref());
    let url = if terminating { None } else { app_url(&endpoints) };
    Ok(ClusterStatus { namespace_exists: true, terminating, workloads, pods, endpoints, url })
}

/// The app's address (load balancer, else node port), once the rollouts are done.
pub async fn url(cluster: &Cluster, namespace: &str, project: &str, environment: &str) -> Option<String> {
    status(cluster, namespace, project, environment).await.ok().and_then(|s| s.url)
}

/// RFC 3339 timestamp kubelet puts before each line with `timestamps=true`, and the rest.
fn split_timestamp(line: &str) -> (&str, &str) {
    match line.split_once(' ') {
        Some((ts, rest)) if ts.len() >= 20 && ts.as_bytes().get(4) == Some(&b'-') && ts.contains('T') => (ts, rest),
        _ => ("", line),
    }
}

/// Streams one container's log lines into `tx` (with their timestamps) until it ends.
async fn stream_container(api: Api<Pod>, pod: String, container: String, follow: bool, tail: Option<i64>, tx: mpsc::Sender<(String, DeployLogLine)>) {
    let lp = LogParams { container: Some(container.clone()), follow, tail_lines: tail, timestamps: true, ..Default::default() };
    let reader = match api.log_stream(&pod, &lp).await {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(pod, container, error = %e, "log stream not available");
            return;
        }
    };
    let mut lines = reader.lines();
    while let Ok(Some(l)) = lines.try_next().await {
        let (ts, text) = split_timestamp(&l);
        let line = DeployLogLine { pod: pod.clone(), container: container.clone(), text: text.trim_end_matches('\r').to_string() };
        if tx.send((ts.to_string(), line)).await.is_err() {
            return;
        }
    }
}

fn started_containers(p: &Pod) -> Vec<String> {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().filter(|c| c.state.as_ref().is_some_and(|s| s.running.is_some() || s.terminated.is_some()) || c.restart_count > 0).map(|c| c.name.clone()).collect())
        .unwrap_or_default()
}

/// How [`logs`] reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogOptions {
    /// Keep reading (and follow pods that start later) until cancelled.
    pub follow: bool,
    /// The last lines of each container (None: all).
    pub tail: Option<i64>,
}

/// The merged logs of every pod of the environment (the last `tail` lines of each container,
/// all when None). Lines that are there already are sorted by time; with `follow`, new lines
/// follow as they are written, and pods that start later (a redeploy) are followed too, until
/// `cancel` or `emit` returns false. Lines are handed to `emit` in batches.
pub async fn logs(
    cluster: &Cluster,
    namespace: &str,
    project: &str,
    environment: &str,
    opts: LogOptions,
    cancel: &CancellationToken,
    emit: &mut (dyn FnMut(Vec<DeployLogLine>) -> bool + Send),
) -> Result<(), UserError> {
    let LogOptions { follow, tail } = opts;
    let what = format!("Reading the logs in {namespace} failed");
    let api = Api::<Pod>::namespaced(cluster.stream.clone(), namespace);
    let sel = selector(project, environment);
    let pods = Api::<Pod>::namespaced(cluster.client.clone(), namespace)
        .list(&ListParams::default().labels(&sel))
        .await
        .map_err(|e| to_user_error(&what, &cluster.server, e))?;
    let (tx, mut rx) = mpsc::channel::<(String, DeployLogLine)>(4096);
    let mut started: BTreeSet<(String, String)> = BTreeSet::new();
    let mut tasks = tokio::task::JoinSet::new();
    // `tail` is for what ran before the call; a container that starts while following is read
    // from its first line (all of it is new), so nothing it wrote before the watch saw it is lost.
    let spawn = |tasks: &mut tokio::task::JoinSet<()>, started: &mut BTreeSet<(String, String)>, p: &Pod, tail: Option<i64>| {
        let name = p.metadata.name.clone().unwrap_or_default();
        for c in started_containers(p) {
            if started.insert((name.clone(), c.clone())) {
                tasks.spawn(stream_container(api.clone(), name.clone(), c, follow, tail, tx.clone()));
            }
        }
    };
    for p in &pods.items {
        spawn(&mut tasks, &mut started, p, tail);
    }
    let mut watch = follow.then(|| watcher(Api::<Pod>::namespaced(cluster.stream.clone(), namespace), watcher::Config::default().labels(&sel)).boxed());
    // What is there already: collected until every stream has caught up (or 1 s passed when
    // following), then sorted by time.
    let mut backlog: Vec<(String, DeployLogLine)> = vec![];
    let settle = tokio::time::sleep(Duration::from_millis(if follow { 1000 } else { 30_000 }));
    tokio::pin!(settle);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => { tasks.abort_all(); return Ok(()); }
            _ = &mut settle => break,
            r = rx.recv() => match r {
                Some(l) => backlog.push(l),
                None => break,
            },
            done = tasks.join_next(), if !tasks.is_empty() => {
                if done.is_some() && tasks.is_empty() && !follow {
                    // Every stream ended: take what is queued and stop collecting.
                    while let Ok(l) = rx.try_recv() { backlog.push(l); }
                    break;
                }
            }
        }
    }
    backlog.sort_by(|a, b| a.0.cmp(&b.0));
    for chunk in backlog.chunks(500) {
        if !emit(chunk.iter().map(|(_, l)| l.clone()).collect()) {
            tasks.abort_all();
            return Ok(());
        }
    }
    if !follow {
        tasks.abort_all();
        return Ok(());
    }
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            r = rx.recv() => match r {
                Some((_, l)) => {
                    let mut batch = vec![l];
                    while let Ok((_, l)) = rx.try_recv() {
                        batch.push(l);
                        if batch.len() >= 500 { break; }
                    }
                    if !emit(batch) { break; }
                }
                None => break,
            },
            ev = async { match watch.as_mut() { Some(w) => w.next().await, None => std::future::pending().await } } => {
                match ev {
                    Some(Ok(watcher::Event::Apply(p))) | Some(Ok(watcher::Event::InitApply(p))) => spawn(&mut tasks, &mut started, &p, None),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        if let Some(k) = crate::rollout::watch_error(&e) {
                            if matches!(crate::status_code(k), Some(401) | Some(403)) {
                                tasks.abort_all();
                                return Err(UserError::new(what.clone(), format!("the pod watch was refused: {e}"), "Use a context that may watch pods in the namespace"));
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    None => watch = None,
                }
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    tasks.abort_all();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_split_off() {
        assert_eq!(split_timestamp("2026-11-27T01:02:03.123456789Z hello world"), ("2026-11-27T01:02:03.123456789Z", "hello world"));
        assert_eq!(split_timestamp("no timestamp here"), ("", "no timestamp here"));
    }

    #[test]
    fn a_load_balancer_without_an_address_is_reached_on_its_node_port() {
        let svc: Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "nginx", "namespace": "n"},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "nodePort": 31234}]},
            "status": {"loadBalancer": {}}
        }))
        .unwrap();
        let e = &endpoints(std::slice::from_ref(&svc), Some("127.0.0.1"))[0];
        assert_eq!(e.url.as_deref(), Some("http://127.0.0.1:31234/"));
        assert!(e.note.as_deref().unwrap().contains("no external address"));
        let mut with_lb = svc;
        with_lb.status = Some(serde_json::from_value(serde_json::json!({"loadBalancer": {"ingress": [{"hostname": "a.elb.amazonaws.com"}]}})).unwrap());
        assert_eq!(endpoints(&[with_lb], None)[0].url.as_deref(), Some("http://a.elb.amazonaws.com/"));
        assert!(is_local_address("127.0.0.1"));
        assert!(!is_local_address("203.0.113.7"));
    }

    #[test]
    fn aws_requirement_the_load_balancer_hostname_is_the_apps_url() {
        // On EKS the NGINX Service of type LoadBalancer gets an ELB host name; a NodePort Service
        // beside it (and a load balancer still without an address) come after it.
        let svc = |name: &str, ty: &str, node_port: u16, status: serde_json::Value| -> Service {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": name, "namespace": "shop"},
                "spec": {"type": ty, "ports": [{"port": 80, "nodePort": node_port}]},
                "status": status
            }))
            .unwrap()
        };
        let pending = svc("other-lb", "LoadBalancer", 30001, serde_json::json!({"loadBalancer": {}}));
        let nodeport = svc("debug", "NodePort", 30002, serde_json::json!({}));
        let host = "a1b2c3-123456789.us-east-1.elb.amazonaws.com";
        let nginx = svc("nginx", "LoadBalancer", 30003, serde_json::json!({"loadBalancer": {"ingress": [{"hostname": host}]}}));
        let eps = endpoints(&[pending.clone(), nodeport.clone(), nginx], Some("10.0.0.5"));
        assert_eq!(app_url(&eps).as_deref(), Some(&*format!("http://{host}/")));
        // Some load balancers give an IP instead of a host name.
        let by_ip = svc("nginx", "LoadBalancer", 30003, serde_json::json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}));
        assert_eq!(app_url(&endpoints(&[nodeport.clone(), by_ip], None)).as_deref(), Some("http://203.0.113.10/"));
        // No address yet: the node port, said so.
        let eps = endpoints(&[pending], Some("10.0.0.5"));
        assert_eq!(app_url(&eps).as_deref(), Some("http://10.0.0.5:30001/"));
        assert!(eps[0].note.as_deref().unwrap().contains("no external address"));
    }

    #[test]
    fn a_cluster_ip_service_is_named_by_its_address_without_a_protocol() {
        let db: Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"type": "ClusterIP", "ports": [{"port": 3306}]}
        }))
        .unwrap();
        let e = &endpoints(&[db], Some("127.0.0.1"))[0];
        assert_eq!(e.url, None);
        assert_eq!(e.note.as_deref(), Some("inside the cluster at db.shop:3306"));
    }
}
