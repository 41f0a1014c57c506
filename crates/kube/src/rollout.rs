//! Watching rollouts to their end, driven by watches (no polling, no fixed sleeps): the
//! Deployments and the pods of an environment are watched together; every change updates a
//! snapshot of each Deployment (desired, updated, ready, available) and each pod (phase,
//! readiness, restarts, reason), which is reported as progress and as log lines.
//!
//! A rollout is complete as `kubectl rollout status` decides (the new generation observed, every
//! replica updated, no old replica left, every updated replica available). It fails when its
//! Deployment passes its progress deadline (the controller's ProgressDeadlineExceeded), or at
//! once when a pod of the new revision cannot get there: its image cannot be pulled
//! (ErrImageNeverPull, InvalidImageName, ImagePullBackOff), its container cannot be created
//! (CreateContainerConfigError, CreateContainerError), or it keeps crashing (CrashLoopBackOff
//! after `crash_restarts` restarts). The error names the pod and the reason; for a deadline it
//! names the pod that held it up: unschedulable (with the scheduler's message), readiness probe
//! failing (with the kubelet's message), or still pulling.

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event as KubeEvent, Pod};
use kube::api::{Api, ListParams};
use kube::runtime::watcher::{self, watcher};
use kube::runtime::WatchStreamExt;
use slipway_core::deploy::{DeployOperation, PodInfo, RolloutPhase, RolloutProgress, WorkloadProgress, ANNOTATION_REVISION};
use slipway_core::UserError;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::cluster::Cluster;
use crate::to_user_error;

#[derive(Debug, Clone)]
pub struct RolloutOptions {
    /// A new pod in CrashLoopBackOff fails the rollout once it has restarted this many times.
    pub crash_restarts: u32,
    /// How long the watch may keep failing (the cluster gone) before the rollout is given up.
    pub lost_after: Duration,
    /// Added to the longest progress deadline: the watch's own limit, in case the controller
    /// never reports the deadline.
    pub slack: Duration,
}

impl Default for RolloutOptions {
    fn default() -> Self {
        Self { crash_restarts: 2, lost_after: Duration::from_secs(30), slack: Duration::from_secs(30) }
    }
}

/// What to watch.
pub struct RolloutSpec<'a> {
    pub namespace: &'a str,
    /// Label selector of the environment's objects (and pods).
    pub selector: String,
    pub project: &'a str,
    pub environment: &'a str,
    pub revision: u32,
    pub operation: DeployOperation,
    /// Deployment name -> the generation the apply produced.
    pub deployments: &'a BTreeMap<String, i64>,
    /// Deployment name -> its progressDeadlineSeconds.
    pub deadlines: &'a BTreeMap<String, u32>,
}

/// Why a rollout failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub workload: String,
    pub pod: Option<String>,
    pub reason: String,
    pub message: String,
    pub image: Option<String>,
    /// The progress deadline passed (else a pod failed in a way that does not heal).
    pub deadline: bool,
}

impl Failure {
    pub fn to_user_error(&self) -> UserError {
        let what = format!("The rollout of {} failed", self.workload);
        let at = match &self.pod {
            Some(p) => format!("pod {p}: "),
            None => String::new(),
        };
        let msg = if self.message.is_empty() { String::new() } else { format!(": {}", self.message) };
        let when = if self.deadline { " (its progress deadline passed)" } else { "" };
        let why = format!("{at}{}{msg}{when}", self.reason);
        let image = self.image.as_deref().unwrap_or("the image");
        let fix = match self.reason.as_str() {
            "ErrImageNeverPull" => format!("{image} is not on the node and its pull policy forbids pulling: build it on the node's engine, or push it to a registry and use imagePullPolicy IfNotPresent"),
            "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" => {
                format!("Check that {image} exists in its registry and that the cluster may pull it (registry credentials, image name and tag), then deploy again")
            }
            "CrashLoopBackOff" | "Error" | "OOMKilled" => "Read its logs (`slipway deploy-logs`), fix why it exits, and deploy again".to_string(),
            "Unschedulable" => "The cluster has no node that fits the pod: lower its resource requests, or add nodes, then deploy again".to_string(),
            "readiness probe failing" | "not ready" => "Check that the readiness probe's path answers 200 on its port once the app has started (and that the app's dependencies answer), then deploy again".to_string(),
            "CreateContainerConfigError" => "A Secret or ConfigMap the pod reads is missing, or lacks a key: create it, then deploy again".to_string(),
            _ => "Look at the pod (`slipway status`, `slipway deploy-logs`), fix the cause, and deploy again".to_string(),
        };
        UserError::new(what, why, fix)
    }
}

/// Reasons a new pod never recovers from by waiting.
const FATAL: &[&str] = &["ErrImageNeverPull", "InvalidImageName", "ImagePullBackOff", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"];

fn ms(t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> i64 {
    t.0.as_millisecond()
}

/// The Deployment a pod belongs to (its ReplicaSet's name without the pod template hash).
pub fn workload_of(p: &Pod) -> String {
    let hash = p.metadata.labels.as_ref().and_then(|l| l.get("pod-template-hash")).cloned();
    let rs = p.metadata.owner_references.as_ref().and_then(|o| o.iter().find(|r| r.kind == "ReplicaSet")).map(|r| r.name.clone());
    match (rs, hash) {
        (Some(rs), Some(h)) => rs.strip_suffix(&format!("-{h}")).map(str::to_string).unwrap_or(rs),
        (Some(rs), None) => rs,
        _ => p.metadata.name.clone().unwrap_or_default(),
    }
}

/// A pod as the page shows it. `current`: its template carries `revision` (a pod of a workload
/// Slipway does not stamp, the database, is always current).
pub fn pod_info(p: &Pod, revision: Option<u32>) -> PodInfo {
    let st = p.status.clone().unwrap_or_default();
    let ready = st.conditions.iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True");
    let statuses: Vec<_> = st.init_container_statuses.iter().flatten().chain(st.container_statuses.iter().flatten()).collect();
    let restarts = statuses.iter().map(|c| c.restart_count.max(0) as u32).sum();
    let mut reason = None;
    let mut message = None;
    for c in &statuses {
        let Some(state) = &c.state else { continue };
        if let Some(w) = &state.waiting {
            if let Some(r) = &w.reason {
                reason = Some(r.clone());
                message = w.message.clone();
                break;
            }
        }
        if let Some(t) = &state.terminated {
            if st.phase.as_deref() != Some("Succeeded") && t.exit_code != 0 {
                reason = Some(t.reason.clone().unwrap_or_else(|| "Error".into()));
                message = Some(format!("exit code {}{}", t.exit_code, t.message.as_ref().map(|m| format!(": {m}")).unwrap_or_default()));
                break;
            }
        }
    }
    if reason.is_none() {
        if let Some(c) = st.conditions.iter().flatten().find(|c| c.type_ == "PodScheduled" && c.status == "False") {
            reason = c.reason.clone().or(Some("Unschedulable".into()));
            message = c.message.clone();
        }
    }
    let phase = if p.metadata.deletion_timestamp.is_some() { "Terminating".to_string() } else { st.phase.clone().unwrap_or_else(|| "Pending".into()) };
    if reason.is_none() && phase == "Running" && !ready {
        reason = Some("not ready".into());
    }
    let stamp = p.metadata.annotations.as_ref().and_then(|a| a.get(ANNOTATION_REVISION)).cloned();
    let current = match (stamp, revision) {
        (None, _) => true,
        (Some(s), Some(r)) => s == r.to_string(),
        (Some(_), None) => true,
    };
    PodInfo {
        name: p.metadata.name.clone().unwrap_or_default(),
        workload: workload_of(p),
        phase,
        ready,
        restarts,
        reason,
        message,
        current,
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
        started_at: st.start_time.as_ref().map(ms),
    }
}

/// A Deployment's rollout, as `kubectl rollout status` sees it; Some(reason) when the
/// controller reports its progress deadline passed.
pub fn workload_progress(d: &Deployment, generation: i64) -> (WorkloadProgress, Option<String>) {
    let st = d.status.clone().unwrap_or_default();
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as u32;
    let updated = st.updated_replicas.unwrap_or(0).max(0) as u32;
    let replicas = st.replicas.unwrap_or(0).max(0) as u32;
    let available = st.available_replicas.unwrap_or(0).max(0) as u32;
    let ready = st.ready_replicas.unwrap_or(0).max(0) as u32;
    let observed = st.observed_generation.unwrap_or(0) >= generation;
    let deadline = observed
        .then(|| st.conditions.iter().flatten().find(|c| c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")).map(|c| c.message.clone().unwrap_or_default()))
        .flatten();
    let done = observed && updated >= desired && replicas <= updated && available >= updated;
    (WorkloadProgress { name: d.metadata.name.clone().unwrap_or_default(), desired, updated, ready, available, done }, deadline)
}

fn image_of(p: &Pod) -> Option<String> {
    p.spec.as_ref().and_then(|s| s.containers.first()).and_then(|c| c.image.clone())
}

/// The kubelet's latest event about a pod with one of `reasons` (its message).
async fn latest_event(cluster: &Cluster, ns: &str, pod: &str, reasons: &[&str]) -> Option<String> {
    let api = Api::<KubeEvent>::namespaced(cluster.client.clone(), ns);
    let list = api.list(&ListParams::default().fields(&format!("involvedObject.name={pod}"))).await.ok()?;
    // The newest with details: kubelet follows "Failed to pull image X: <why>" with bare
    // "Error: ImagePullBackOff" events, which say less.
    list.items
        .into_iter()
        .filter(|e| e.reason.as_deref().is_some_and(|r| reasons.contains(&r)))
        .filter_map(|e| {
            let at = e.last_timestamp.as_ref().map(ms).or(e.event_time.as_ref().map(|t| t.0.as_millisecond())).unwrap_or(0);
            e.message.map(|m| (!m.starts_with("Error: "), at, m))
        })
        .max()
        .map(|(_, _, m)| m)
}

/// A reason of [`FATAL`] whose message says the kubelet is still catching up, not that anything
/// is missing: "failed to sync secret cache: timed out waiting for the condition" (seen under
/// load). The kubelet retries, and the pod starts once its cache has synced; the progress
/// deadline still ends a wait that never does.
fn transient(p: &PodInfo) -> bool {
    p.message.as_deref().is_some_and(|m| m.contains("failed to sync") && m.contains("cache"))
}

/// How bad a pod's state is, for picking the one to name (higher is worse).
fn severity(p: &PodInfo, crash_restarts: u32) -> u8 {
    match p.reason.as_deref() {
        Some(r) if FATAL.contains(&r) && !transient(p) => 6,
        Some("CrashLoopBackOff") if p.restarts >= crash_restarts => 5,
        Some("Unschedulable") => 4,
        Some("CrashLoopBackOff") | Some("Error") | Some("OOMKilled") | Some("ErrImagePull") => 3,
        Some("not ready") => 2,
        Some(_) => 1,
        None => 0,
    }
}

#[allow(clippy::large_enum_variant)] // one lives at a time, on the stack of the watch loop
enum Ev {
    D(Result<watcher::Event<Deployment>, watcher::Error>),
    P(Result<watcher::Event<Pod>, watcher::Error>),
}

/// A map kept in step with a watcher's events.
struct Mirror<K> {
    items: BTreeMap<String, K>,
    init: Option<BTreeMap<String, K>>,
    /// The first list is in.
    synced: bool,
}

impl<K: kube::Resource> Mirror<K> {
    fn new() -> Self {
        Self { items: BTreeMap::new(), init: None, synced: false }
    }
    fn key(k: &K) -> String {
        k.meta().name.clone().unwrap_or_default()
    }
    fn apply(&mut self, e: watcher::Event<K>) {
        match e {
            watcher::Event::Init => self.init = Some(BTreeMap::new()),
            watcher::Event::InitApply(k) => {
                if let Some(b) = self.init.as_mut() {
                    b.insert(Self::key(&k), k);
                }
            }
            watcher::Event::InitDone => {
                if let Some(b) = self.init.take() {
                    self.items = b;
                }
                self.synced = true;
            }
            watcher::Event::Apply(k) => {
                self.items.insert(Self::key(&k), k);
            }
            watcher::Event::Delete(k) => {
                self.items.remove(&Self::key(&k));
            }
        }
    }
}

/// The client error under a watcher error (None for a decoding problem).
pub(crate) fn watch_error(e: &watcher::Error) -> Option<&kube::Error> {
    match e {
        watcher::Error::InitialListFailed(k) | watcher::Error::WatchStartFailed(k) | watcher::Error::WatchFailed(k) => Some(k),
        _ => None,
    }
}

fn pod_line(p: &PodInfo) -> String {
    let mut s = format!("pod {} ({}{}): {}", p.name, p.workload, if p.current { "" } else { ", previous revision" }, p.phase);
    if p.ready {
        s.push_str(", ready");
    }
    if let Some(r) = &p.reason {
        s.push_str(&format!(", {r}"));
    }
    if p.restarts > 0 {
        s.push_str(&format!(", {} restart{}", p.restarts, if p.restarts == 1 { "" } else { "s" }));
    }
    s
}

fn workload_line(w: &WorkloadProgress) -> String {
    format!(
        "{}: {} of {} ready, {} updated, {} available{}",
        w.name,
        w.ready,
        w.desired,
        w.updated,
        w.available,
        if w.done { " - rollout complete" } else { "" }
    )
}

/// Watches every Deployment of `spec` until all rollouts complete (Ok, with the final state)
/// or one fails (Err names the pod and the reason). `progress` gets every changed snapshot,
/// `log` a line per change of a pod or a Deployment.
pub async fn watch(
    cluster: &Cluster,
    spec: &RolloutSpec<'_>,
    opts: &RolloutOptions,
    progress: &(dyn Fn(RolloutProgress) + Send + Sync),
    log: &(dyn Fn(String) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<Vec<WorkloadProgress>, UserError> {
    let ns = spec.namespace;
    let cfg = watcher::Config::default().labels(&spec.selector);
    let deps = watcher(Api::<Deployment>::namespaced(cluster.stream.clone(), ns), cfg.clone()).default_backoff().map(Ev::D).boxed();
    let pods = watcher(Api::<Pod>::namespaced(cluster.stream.clone(), ns), cfg).default_backoff().map(Ev::P).boxed();
    let mut events = futures::stream::select(deps, pods);
    let longest = spec.deadlines.values().copied().max().unwrap_or(600);
    let hard = Instant::now() + Duration::from_secs(longest as u64) + opts.slack;
    let mut dm: Mirror<Deployment> = Mirror::new();
    let mut pm: Mirror<Pod> = Mirror::new();
    let mut last: Option<RolloutProgress> = None;
    let mut pod_lines: BTreeMap<String, String> = BTreeMap::new();
    let mut wl_lines: BTreeMap<String, String> = BTreeMap::new();
    let mut failing_since: Option<Instant> = None;
    let mut message = format!("Watching {} rollout{}", spec.deployments.len(), if spec.deployments.len() == 1 { "" } else { "s" });
    let snapshot = |phase: RolloutPhase, workloads: Vec<WorkloadProgress>, pods: Vec<PodInfo>, message: String| RolloutProgress {
        project: spec.project.into(),
        environment: spec.environment.into(),
        revision: spec.revision,
        operation: spec.operation,
        phase,
        workloads,
        pods,
        message,
    };
    log(message.clone());
    loop {
        let ev = tokio::select! {
            _ = cancel.cancelled() => {
                return Err(UserError::new("Deploy cancelled", "the rollout watch was stopped", "Deploy again, or roll back"));
            }
            _ = tokio::time::sleep_until(hard) => None,
            ev = events.next() => Some(ev),
        };
        let mut deadline_hit = false;
        match ev {
            None => deadline_hit = true,
            Some(None) => return Err(UserError::new("Watching the rollout failed", "the watch streams ended", "Check `slipway status`, then deploy again")),
            Some(Some(Ev::D(Ok(e)))) => {
                failing_since = None;
                dm.apply(e);
            }
            Some(Some(Ev::P(Ok(e)))) => {
                failing_since = None;
                pm.apply(e);
            }
            Some(Some(Ev::D(Err(e)))) | Some(Some(Ev::P(Err(e)))) => {
                if let Some(k) = watch_error(&e) {
                    if matches!(crate::status_code(k), Some(401) | Some(403)) {
                        let k = match e {
                            watcher::Error::InitialListFailed(k) | watcher::Error::WatchStartFailed(k) | watcher::Error::WatchFailed(k) => k,
                            _ => unreachable!(),
                        };
                        return Err(to_user_error("Watching the rollout failed", &cluster.server, k));
                    }
                }
                let since = *failing_since.get_or_insert_with(Instant::now);
                tracing::debug!(error = %e, "rollout watch error (retrying)");
                if since.elapsed() > opts.lost_after {
                    return Err(UserError::new(
                        "Lost the cluster while watching the rollout",
                        format!("{} has not answered the watch for {} s: {e}", cluster.server, opts.lost_after.as_secs()),
                        "The objects were applied; check the cluster, then look at `slipway status` (and roll back if needed)",
                    ));
                }
                continue;
            }
        }
        // The state now, once both lists are in (before, every count would read 0).
        if !(deadline_hit || dm.synced && pm.synced) {
            continue;
        }
        let pods: Vec<PodInfo> = pm.items.values().map(|p| pod_info(p, Some(spec.revision))).collect();
        let mut workloads = vec![];
        let mut deadline_passed: Option<(String, String)> = None;
        for (name, generation) in spec.deployments {
            match dm.items.get(name) {
                Some(d) => {
                    let (w, dl) = workload_progress(d, *generation);
                    if let Some(m) = dl {
                        deadline_passed.get_or_insert((name.clone(), m));
                    }
                    workloads.push(w);
                }
                None => workloads.push(WorkloadProgress { name: name.clone(), desired: 0, updated: 0, ready: 0, available: 0, done: false }),
            }
        }
        for p in &pods {
            let line = pod_line(p);
            if pod_lines.get(&p.name) != Some(&line) {
                log(line.clone());
                message = line.clone();
                pod_lines.insert(p.name.clone(), line);
            }
        }
        let gone: Vec<String> = pod_lines.keys().filter(|n| !pods.iter().any(|p| &p.name == *n)).cloned().collect();
        for n in gone {
            pod_lines.remove(&n);
            let line = format!("pod {n}: removed");
            log(line.clone());
            message = line;
        }
        for w in &workloads {
            let line = workload_line(w);
            if wl_lines.get(&w.name) != Some(&line) {
                log(line.clone());
                message = line.clone();
                wl_lines.insert(w.name.clone(), line);
            }
        }
        // A new pod that will not get better fails the rollout now.
        let fatal = pods
            .iter()
            .filter(|p| p.current && p.phase != "Terminating" && spec.deployments.contains_key(&p.workload))
            .find(|p| severity(p, opts.crash_restarts) >= 5);
        let failure = if let Some(p) = fatal {
            Some(failure_for(cluster, ns, &pm, p, false).await)
        } else if deadline_passed.is_some() || deadline_hit {
            let (wname, dl_message) = deadline_passed.unwrap_or_else(|| {
                let w = workloads.iter().find(|w| !w.done).map(|w| w.name.clone()).unwrap_or_default();
                (w, "the watch's own limit passed".to_string())
            });
            let worst = pods
                .iter()
                .filter(|p| p.current && p.workload == wname && p.phase != "Terminating")
                .max_by_key(|p| severity(p, opts.crash_restarts))
                .filter(|p| severity(p, opts.crash_restarts) > 0);
            Some(match worst {
                Some(p) => failure_for(cluster, ns, &pm, p, true).await,
                None => {
                    let w = workloads.iter().find(|w| w.name == wname);
                    let replica_failure = dm.items.get(&wname).and_then(|d| {
                        d.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "ReplicaFailure" && c.status == "True").map(|c| c.message.clone().unwrap_or_default())
                    });
                    Failure {
                        workload: wname.clone(),
                        pod: None,
                        reason: if replica_failure.is_some() { "pods could not be created".into() } else { "not available".into() },
                        message: replica_failure.unwrap_or_else(|| match w {
                            Some(w) => format!("{} of {} replicas updated, {} available; {dl_message}", w.updated, w.desired, w.available),
                            None => dl_message,
                        }),
                        image: None,
                        deadline: true,
                    }
                }
            })
        } else {
            None
        };
        let all_done = workloads.iter().all(|w| w.done);
        let phase = match (&failure, all_done) {
            (Some(_), _) => RolloutPhase::Failed,
            (None, true) => RolloutPhase::Succeeded,
            _ => RolloutPhase::RollingOut,
        };
        if let Some(f) = &failure {
            message = f.to_user_error().to_string();
            log(format!("Rollout failed: {}", f.to_user_error()));
        } else if all_done {
            message = format!("All {} rollout{} complete", workloads.len(), if workloads.len() == 1 { "" } else { "s" });
            log(message.clone());
        }
        let snap = snapshot(phase, workloads.clone(), pods, message.clone());
        if last.as_ref() != Some(&snap) {
            progress(snap.clone());
            last = Some(snap);
        }
        if let Some(f) = failure {
            return Err(f.to_user_error());
        }
        if all_done {
            return Ok(workloads);
        }
    }
}

async fn failure_for(cluster: &Cluster, ns: &str, pm: &Mirror<Pod>, p: &PodInfo, deadline: bool) -> Failure {
    let pod = pm.items.get(&p.name);
    let image = pod.and_then(image_of);
    let mut reason = p.reason.clone().unwrap_or_else(|| "not ready".into());
    let mut message = p.message.clone().unwrap_or_default();
    match reason.as_str() {
        "not ready" => {
            if let Some(m) = latest_event(cluster, ns, &p.name, &["Unhealthy"]).await {
                reason = "readiness probe failing".into();
                message = m;
            }
        }
        "ImagePullBackOff" | "ErrImagePull" => {
            if let Some(m) = latest_event(cluster, ns, &p.name, &["Failed"]).await {
                message = m;
            }
        }
        "CrashLoopBackOff" => {
            message = format!("{} restarts; {message}", p.restarts);
        }
        _ => {}
    }
    Failure { workload: p.workload.clone(), pod: Some(p.name.clone()), reason, message, image, deadline }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn pods_are_read_with_their_workload_reason_and_revision() {
        let p = pod(serde_json::json!({
            "metadata": {"name": "backend-5d9f7c-abcde", "labels": {"pod-template-hash": "5d9f7c"}, "annotations": {ANNOTATION_REVISION: "3"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "backend-5d9f7c", "uid": "u"}]},
            "spec": {"containers": [{"name": "backend", "image": "nope:1"}], "nodeName": "n1"},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "backend", "image": "nope:1", "imageID": "", "ready": false, "restartCount": 0,
                       "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"nope:1\""}}}]}
        }));
        let i = pod_info(&p, Some(3));
        assert_eq!(i.workload, "backend");
        assert_eq!(i.reason.as_deref(), Some("ImagePullBackOff"));
        assert!(i.current && !i.ready);
        assert_eq!(severity(&i, 2), 6);
        assert!(!pod_info(&p, Some(4)).current, "a pod of revision 3 is not current in revision 4");

        let unsched = pod(serde_json::json!({
            "metadata": {"name": "x-1"},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/1 nodes are available: 1 Insufficient cpu."}]}
        }));
        let i = pod_info(&unsched, None);
        assert_eq!(i.reason.as_deref(), Some("Unschedulable"));
        assert!(i.message.unwrap().contains("Insufficient cpu"));

        let crash = pod(serde_json::json!({
            "metadata": {"name": "c-1"},
            "status": {"phase": "Running", "containerStatuses": [{"name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 3,
                       "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
        }));
        let i = pod_info(&crash, None);
        assert_eq!((i.restarts, severity(&i, 2), severity(&i, 5)), (3, 5, 3));

        // A Secret that is missing fails the rollout at once; a kubelet whose secret cache has
        // not synced yet (under load) is waited for, up to the progress deadline.
        let config = |message: &str| {
            pod(serde_json::json!({
                "metadata": {"name": "w-1"},
                "status": {"phase": "Pending", "containerStatuses": [{"name": "w", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                           "state": {"waiting": {"reason": "CreateContainerConfigError", "message": message}}}]}
            }))
        };
        assert_eq!(severity(&pod_info(&config("secret \"web-db\" not found"), None), 2), 6);
        assert_eq!(severity(&pod_info(&config("failed to sync secret cache: timed out waiting for the condition"), None), 2), 1);
        assert_eq!(severity(&pod_info(&config("failed to sync configmap cache: timed out waiting for the condition"), None), 2), 1);
    }

    #[test]
    fn a_rollout_is_done_as_kubectl_decides() {
        let d = |gen: i64, obs: i64, upd: i32, rep: i32, avail: i32| -> Deployment {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "w", "generation": gen},
                "spec": {"replicas": 3, "selector": {}, "template": {}},
                "status": {"observedGeneration": obs, "updatedReplicas": upd, "replicas": rep, "availableReplicas": avail, "readyReplicas": avail}
            }))
            .unwrap()
        };
        assert!(!workload_progress(&d(2, 1, 3, 3, 3), 2).0.done, "the new generation is not observed yet");
        assert!(!workload_progress(&d(2, 2, 3, 4, 3), 2).0.done, "an old replica is still there");
        assert!(!workload_progress(&d(2, 2, 3, 3, 2), 2).0.done, "one updated replica is not available");
        assert!(workload_progress(&d(2, 2, 3, 3, 3), 2).0.done);
        let mut stuck = d(2, 2, 1, 3, 2);
        stuck.status.as_mut().unwrap().conditions = Some(vec![serde_json::from_value(serde_json::json!({
            "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"w-1\" has timed out progressing."
        })).unwrap()]);
        assert!(workload_progress(&stuck, 2).1.unwrap().contains("timed out"));
        assert!(workload_progress(&stuck, 3).1.is_none(), "a deadline of an older generation does not count");
    }

    #[test]
    fn failures_name_the_pod_the_reason_and_what_to_do() {
        let f = Failure { workload: "backend".into(), pod: Some("backend-1".into()), reason: "ErrImageNeverPull".into(), message: "Container image \"x:1\" is not present with pull policy of Never".into(), image: Some("x:1".into()), deadline: false };
        let e = f.to_user_error();
        assert_eq!(e.what, "The rollout of backend failed");
        assert!(e.why.starts_with("pod backend-1: ErrImageNeverPull: Container image"), "{e}");
        assert!(e.fix.contains("x:1"), "{e}");
        let f = Failure { reason: "readiness probe failing".into(), deadline: true, ..f };
        assert!(f.to_user_error().why.contains("progress deadline passed"));
    }
}
