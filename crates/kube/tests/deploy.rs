//! The deploy target's cluster side against the test environment's real control plane (a real
//! kubelet running pods on the local dockerd): preflight, server-side apply, rollouts watched to
//! their end, new ReplicaSets on every revision, prune, status, merged logs, and every failure
//! named with its pod and reason. Each test works in its own namespace and removes it.

use serde_json::{json, Value};
use slipway_core::deploy::{DeployOperation, RolloutProgress, LABEL_ENVIRONMENT, LABEL_MANAGED_BY, LABEL_PROJECT};
use slipway_core::UserError;
use slipway_kube::cluster::{Cluster, Release};
use slipway_kube::rollout::{self, RolloutOptions, RolloutSpec};
use slipway_kube::status::{self, LogOptions};
use slipway_testkit::env;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const PROJECT: &str = "kt";
const ENV: &str = "test";
const BUSYBOX: &str = "slipway/busybox:latest";

fn admin() -> PathBuf {
    env("SLIPWAY_TEST_KUBECONFIG").into()
}

async fn cluster() -> Cluster {
    Cluster::connect(Some(admin()), None).await.unwrap()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", slipway_core::secrets::random_hex(3))
}

/// Deletes the test's namespace when the test ends, passed or not.
struct Cleanup(String);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let ns = self.0.clone();
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async move {
                let c = cluster().await;
                let api = kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(c.client);
                let _ = api.delete(&ns, &kube::api::DeleteParams::background()).await;
            })
        })
        .join()
        .ok();
    }
}

/// A busybox web server: writes a line to its log, serves `/` (readiness) on 8080.
fn web(name: &str, replicas: u32, edit: impl FnOnce(&mut Value)) -> Value {
    let labels = json!({"app": name});
    let mut d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "progressDeadlineSeconds": 60,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [{
                    "name": "web", "image": BUSYBOX, "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", "echo started $HOSTNAME; mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"],
                    "ports": [{"containerPort": 8080}],
                    "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1}
                }]
            }}
        }
    });
    edit(&mut d);
    d
}

fn service(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
           "spec": {"type": "NodePort", "selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}})
}

/// What `manifests::render` does to every object: the namespace and Slipway's labels.
fn own(ns: &str, mut objects: Vec<Value>) -> Vec<Value> {
    for o in &mut objects {
        o["metadata"]["namespace"] = json!(ns);
        o["metadata"]["labels"] = json!({LABEL_MANAGED_BY: "slipway", LABEL_PROJECT: PROJECT, LABEL_ENVIRONMENT: ENV});
        if o["kind"] == "Deployment" {
            o["spec"]["template"]["metadata"]["labels"][LABEL_PROJECT] = json!(PROJECT);
            o["spec"]["template"]["metadata"]["labels"][LABEL_ENVIRONMENT] = json!(ENV);
        }
    }
    objects
}

fn release(ns: &str, revision: u32, objects: Vec<Value>) -> Release {
    Release { project: PROJECT.into(), environment: ENV.into(), namespace: ns.into(), revision, objects: own(ns, objects), secrets: vec![], required_secrets: vec![] }
}

#[derive(Default)]
struct Seen {
    lines: Mutex<Vec<String>>,
    progress: Mutex<Vec<RolloutProgress>>,
}

/// Preflight, apply and watch, as the deploy target does them.
async fn deploy(c: &Cluster, r: &Release, seen: &Arc<Seen>) -> Result<(), UserError> {
    let s = seen.clone();
    let log = move |l: String| s.lines.lock().unwrap().push(l);
    c.preflight(r, &log).await?;
    let applied = c.apply(r, &log).await.map_err(|f| f.error)?;
    let spec = RolloutSpec {
        namespace: &r.namespace,
        selector: r.selector(),
        project: PROJECT,
        environment: ENV,
        revision: r.revision,
        operation: DeployOperation::Deploy,
        deployments: &applied.deployments,
        deadlines: &applied.deadlines,
    };
    let s = seen.clone();
    let progress = move |p: RolloutProgress| s.progress.lock().unwrap().push(p);
    rollout::watch(c, &spec, &RolloutOptions::default(), &progress, &log, &CancellationToken::new()).await?;
    Ok(())
}

async fn replica_sets(c: &Cluster, ns: &str, app: &str) -> Vec<(String, i32, i32)> {
    let api = kube::Api::<k8s_openapi::api::apps::v1::ReplicaSet>::namespaced(c.client.clone(), ns);
    let mut v: Vec<(String, i32, i32)> = api
        .list(&kube::api::ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|rs| (rs.metadata.name.unwrap(), rs.spec.and_then(|s| s.replicas).unwrap_or(0), rs.status.and_then(|s| s.ready_replicas).unwrap_or(0)))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn apply_watch_a_new_replica_set_per_revision_status_logs_and_prune() {
    let c = cluster().await;
    let ns = unique("kt-roll");
    let _cleanup = Cleanup(ns.clone());
    let seen = Arc::new(Seen::default());

    // Revision 1: the namespace is made (with Slipway's labels), both objects applied, the
    // rollout watched until both replicas are available.
    let started = Instant::now();
    let r1 = release(&ns, 1, vec![service("web"), web("web", 2, |_| {})]);
    deploy(&c, &r1, &seen).await.unwrap();
    println!("revision 1 available in {:.1} s", started.elapsed().as_secs_f64());
    let lines = seen.lines.lock().unwrap().clone();
    assert!(lines.iter().any(|l| l.starts_with(&format!("Namespace {ns} created"))), "{lines:?}");
    assert!(lines.iter().any(|l| *l == format!("Dry run passed for 2 objects in {ns}")), "{lines:?}");
    assert!(lines.iter().any(|l| l == "web: 2 of 2 ready, 2 updated, 2 available - rollout complete"), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("pod web-") && l.ends_with("Running, ready")), "per-pod lines: {lines:?}");
    let last = seen.progress.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.phase, slipway_core::deploy::RolloutPhase::Succeeded);
    assert_eq!(last.pods.iter().filter(|p| p.ready && p.current).count(), 2, "{last:?}");
    let ns_obj = kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(c.client.clone()).get(&ns).await.unwrap();
    assert_eq!(ns_obj.metadata.labels.unwrap()[LABEL_PROJECT], PROJECT);
    // Server-side apply, by field manager slipway.
    let d = kube::Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(c.client.clone(), &ns).get("web").await.unwrap();
    let managers: Vec<(String, String)> = d.metadata.managed_fields.unwrap().into_iter().map(|m| (m.manager.unwrap_or_default(), m.operation.unwrap_or_default())).collect();
    assert!(managers.contains(&("slipway".into(), "Apply".into())), "{managers:?}");
    assert_eq!(replica_sets(&c, &ns, "web").await.len(), 1);

    // Revision 2 of the same objects: a new ReplicaSet takes over, the old one goes to 0.
    seen.lines.lock().unwrap().clear();
    let r2 = release(&ns, 2, vec![service("web"), web("web", 2, |_| {})]);
    let started = Instant::now();
    deploy(&c, &r2, &seen).await.unwrap();
    println!("revision 2 (rolling restart) available in {:.1} s", started.elapsed().as_secs_f64());
    let rs = replica_sets(&c, &ns, "web").await;
    assert_eq!(rs.len(), 2, "{rs:?}");
    assert_eq!(rs.iter().map(|r| (r.1, r.2)).filter(|x| *x == (2, 2)).count(), 1, "one ReplicaSet serves: {rs:?}");
    assert_eq!(rs.iter().filter(|r| r.1 == 0).count(), 1, "the old one is scaled to 0: {rs:?}");
    let lines = seen.lines.lock().unwrap().clone();
    assert!(lines.iter().any(|l| l.contains("previous revision")), "old pods reported on their way out: {lines:?}");

    // Status: the workload, its pods, the node port on this machine.
    let st = status::status(&c, &ns, PROJECT, ENV).await.unwrap();
    assert!(st.namespace_exists);
    let w = &st.workloads[0];
    assert_eq!((w.name.as_str(), w.desired, w.ready, w.revision), ("web", 2, 2, Some(2)));
    assert_eq!(w.images, [BUSYBOX]);
    assert_eq!(st.pods.iter().filter(|p| p.current && p.ready && p.phase == "Running").count(), 2, "{:?}", st.pods);
    let url = st.url.clone().expect("a node port URL");
    assert!(url.starts_with("http://127.0.0.1:3"), "{url}");
    let port: u16 = url.trim_start_matches("http://127.0.0.1:").trim_end_matches('/').parse().unwrap();
    let (code, body) = slipway_core::pipeline::runner::http_get(port, "/").await.unwrap();
    assert_eq!((code, body.trim()), (200, "ok"));

    // Merged logs: every pod's line, with its pod's name.
    let mut got = vec![];
    status::logs(&c, &ns, PROJECT, ENV, LogOptions { follow: false, tail: None }, &CancellationToken::new(), &mut |b| {
        got.extend(b);
        true
    })
    .await
    .unwrap();
    let current: Vec<String> = st.pods.iter().filter(|p| p.current).map(|p| p.name.clone()).collect();
    for p in &current {
        assert!(got.iter().any(|l| &l.pod == p && l.text == format!("started {p}")), "{p} missing from {got:?}");
    }

    // Follow mode picks up the pods a later revision starts.
    let cancel = CancellationToken::new();
    let followed = Arc::new(Mutex::new(vec![]));
    let follower = {
        let (c, ns, cancel, followed) = (c.clone(), ns.clone(), cancel.clone(), followed.clone());
        tokio::spawn(async move {
            status::logs(&c, &ns, PROJECT, ENV, LogOptions { follow: true, tail: Some(10) }, &cancel, &mut |b| {
                followed.lock().unwrap().extend(b);
                true
            })
            .await
        })
    };
    // Revision 3 drops the Service: it is pruned once the rollout is done.
    let r3 = release(&ns, 3, vec![web("web", 2, |_| {})]);
    deploy(&c, &r3, &seen).await.unwrap();
    assert_eq!(c.prune(&r3).await.unwrap(), ["Service/web"]);
    let new_pods: Vec<String> = status::status(&c, &ns, PROJECT, ENV).await.unwrap().pods.into_iter().filter(|p| p.current && p.phase == "Running").map(|p| p.name).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let have = followed.lock().unwrap().clone();
        if new_pods.iter().all(|p| have.iter().any(|l| &l.pod == p)) {
            break;
        }
        assert!(Instant::now() < deadline, "follow did not pick up {new_pods:?}: {have:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cancel.cancel();
    follower.await.unwrap().unwrap();

    // Tear down: only the environment's own namespace goes, and from then on (while the
    // namespace controller still deletes it) no address is offered for the app.
    assert!(c.teardown(&ns, PROJECT, ENV).await.unwrap());
    let st = status::status(&c, &ns, PROJECT, ENV).await.unwrap();
    assert_eq!(st.url, None, "{:?}", st.endpoints);
}

async fn failing(edit: impl FnOnce(&mut Value), deadline: u32) -> (UserError, Duration, Arc<Seen>) {
    let c = cluster().await;
    let ns = unique("kt-fail");
    let _cleanup = Cleanup(ns.clone());
    let seen = Arc::new(Seen::default());
    let r = release(&ns, 1, vec![web("web", 2, |d| {
        d["spec"]["progressDeadlineSeconds"] = json!(deadline);
        edit(d)
    })]);
    let started = Instant::now();
    let e = deploy(&c, &r, &seen).await.unwrap_err();
    (e, started.elapsed(), seen)
}

#[tokio::test]
async fn an_image_that_cannot_be_pulled_is_named_with_the_pod_and_its_reason() {
    // Not on the node, and the policy forbids pulling: fails at once.
    let (e, took, seen) = failing(|d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("slipway/not-built:v1");
        d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = json!("Never");
    }, 60)
    .await;
    assert_eq!(e.what, "The rollout of web failed");
    assert!(e.why.starts_with("pod web-") && e.why.contains("ErrImageNeverPull"), "{e}");
    assert!(e.fix.contains("slipway/not-built:v1"), "{e}");
    assert!(took < Duration::from_secs(60), "reported before the deadline: {took:?}");
    let last = seen.progress.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.phase, slipway_core::deploy::RolloutPhase::Failed);
    assert!(last.pods.iter().any(|p| p.reason.as_deref() == Some("ErrImageNeverPull")), "{last:?}");

    // Missing from the registry: the pull fails, kubelet backs off, the rollout fails with the
    // registry's answer.
    let registry = env("SLIPWAY_TEST_REGISTRY");
    let image = format!("{registry}/slipway-never-pushed:v1");
    let (e, took, _) = failing(|d| d["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image), 60).await;
    assert!(e.why.contains("ImagePullBackOff") || e.why.contains("ErrImagePull"), "{e}");
    assert!(e.why.contains("slipway-never-pushed"), "the kubelet's message names the image: {e}");
    assert!(took < Duration::from_secs(60), "{took:?}");
}

#[tokio::test]
async fn a_crash_loop_is_named_with_its_restarts() {
    let (e, _, _) = failing(|d| d["spec"]["template"]["spec"]["containers"][0]["command"] = json!(["sh", "-c", "echo boom; exit 3"]), 120).await;
    assert!(e.why.contains("CrashLoopBackOff") && e.why.contains("restarts"), "{e}");
    assert!(e.fix.contains("deploy-logs"), "{e}");
}

#[tokio::test]
async fn an_unschedulable_pod_is_named_at_the_progress_deadline() {
    let (e, took, _) = failing(|d| d["spec"]["template"]["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "500"}}), 10).await;
    assert!(e.why.contains("Unschedulable") && e.why.contains("Insufficient cpu"), "{e}");
    assert!(e.why.contains("progress deadline passed"), "{e}");
    assert!(took >= Duration::from_secs(10) && took < Duration::from_secs(45), "{took:?}");
}

#[tokio::test]
async fn a_failing_readiness_probe_is_named_at_the_progress_deadline() {
    let (e, _, _) = failing(|d| d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = json!(9999), 10).await;
    assert!(e.why.contains("readiness probe failing") && e.why.contains("Readiness probe failed"), "{e}");
}

#[tokio::test]
async fn a_namespace_made_by_something_else_is_refused_and_nothing_is_applied() {
    let c = cluster().await;
    let ns = unique("kt-foreign");
    let _cleanup = Cleanup(ns.clone());
    let api = kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(c.client.clone());
    api.create(&Default::default(), &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap()).await.unwrap();
    let r = release(&ns, 1, vec![web("web", 1, |_| {})]);
    let e = c.preflight(&r, &|_| {}).await.unwrap_err();
    assert_eq!(e.what, format!("Namespace {ns} is not this environment's"));
    assert!(e.why.contains("no slipway.dev/project label"), "{e}");
    assert!(e.fix.contains(&format!("kubectl label namespace {ns}")) && e.fix.contains("Nothing was applied"), "{e}");
    let deps = kube::Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(c.client.clone(), &ns).list(&Default::default()).await.unwrap();
    assert!(deps.items.is_empty());
    // Another environment's namespace is refused too.
    let mut other = release(&ns, 1, vec![]);
    other.environment = "prod".into();
    let mut labels = std::collections::BTreeMap::new();
    labels.insert(LABEL_PROJECT.to_string(), PROJECT.to_string());
    labels.insert(LABEL_ENVIRONMENT.to_string(), ENV.to_string());
    let mut n = api.get(&ns).await.unwrap();
    n.metadata.labels = Some(labels);
    n.metadata.managed_fields = None;
    api.replace(&ns, &Default::default(), &n).await.unwrap();
    let e = c.preflight(&other, &|_| {}).await.unwrap_err();
    assert!(e.why.contains(&format!("belongs to Slipway project {PROJECT}, environment {ENV}")), "{e}");
    // A Secret the manifests read that nobody makes is named before anything is applied.
    let mut r = release(&ns, 1, vec![web("web", 1, |_| {})]);
    r.required_secrets = vec!["app-keys".into()];
    let e = c.preflight(&r, &|_| {}).await.unwrap_err();
    assert!(e.why.contains("app-keys") && e.fix.contains("nothing was applied"), "{e}");
}

#[tokio::test]
async fn a_refused_dry_run_leaves_no_namespace_behind() {
    let c = cluster().await;
    let ns = unique("kt-dry");
    let _cleanup = Cleanup(ns.clone());
    // A Deployment whose selector does not match its template's labels.
    let r = release(&ns, 1, vec![web("web", 1, |d| d["spec"]["selector"]["matchLabels"] = json!({"app": "other"}))]);
    let lines = Mutex::new(vec![]);
    let e = c.preflight(&r, &|l| lines.lock().unwrap().push(l)).await.unwrap_err();
    assert_eq!(e.what, "The cluster refused the manifests");
    assert!(e.why.starts_with("Deployment/web:") && e.why.contains("selector"), "{e}");
    assert!(lines.lock().unwrap().iter().any(|l| l.contains("removed again")));
    let ns_obj = kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(c.client.clone()).get_opt(&ns).await.unwrap();
    assert!(ns_obj.is_none_or(|n| n.metadata.deletion_timestamp.is_some()), "the namespace made for the dry run is gone");
}

fn write_kubeconfig(dir: &std::path::Path, user: &str) -> PathBuf {
    let admin = std::fs::read_to_string(admin()).unwrap();
    let ca = admin.lines().find_map(|l| l.trim().strip_prefix("certificate-authority-data: ")).unwrap().to_string();
    let p = dir.join("kubeconfig");
    std::fs::write(
        &p,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\ncontexts:\n- name: t\n  context: {{cluster: c, user: u}}\nusers:\n- name: u\n  user:\n{user}",
            env("SLIPWAY_TEST_K8S_URL")
        ),
    )
    .unwrap();
    p
}

#[tokio::test]
async fn bad_kubeconfigs_and_identities_are_named() {
    let d = tempfile::tempdir().unwrap();
    // Missing.
    let e = Cluster::connect(Some(d.path().join("nope")), None).await.err().unwrap();
    assert_eq!(e.what, "No usable kubeconfig");
    // Expired or revoked credentials: the API server answers 401.
    let p = write_kubeconfig(d.path(), "    token: expired-or-revoked-token\n");
    let e = Cluster::connect(Some(p), None).await.err().unwrap();
    assert!(e.why.contains("rejected the credentials (401"), "{e}");
    assert!(e.fix.contains("expired"), "{e}");
    // An exec credential plugin (what EKS contexts use) that fails.
    let p = write_kubeconfig(d.path(), "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: sh\n      args: [\"-c\", \"echo token expired >&2; exit 1\"]\n");
    let e = Cluster::connect(Some(p), None).await.err().unwrap();
    assert!(e.why.contains("gets its credentials from `sh`") && e.fix.contains("eks-token"), "{e}");
    // An exec plugin that works (here it hands out the admin's certificate) is used.
    let admin_text = std::fs::read_to_string(admin()).unwrap();
    let field = |k: &str| admin_text.lines().find_map(|l| l.trim().strip_prefix(&format!("{k}: ")).map(str::to_string)).unwrap();
    let pem = |b64: String| String::from_utf8(base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap()).unwrap();
    let cred = json!({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                      "status": {"clientCertificateData": pem(field("client-certificate-data")), "clientKeyData": pem(field("client-key-data"))}});
    std::fs::write(d.path().join("cred.json"), cred.to_string()).unwrap();
    let p = write_kubeconfig(
        d.path(),
        &format!("    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: cat\n      args: [\"{}\"]\n", d.path().join("cred.json").display()),
    );
    let c = Cluster::connect(Some(p), None).await.unwrap();
    assert!(c.version.starts_with("v1."), "{}", c.version);
    // A cluster that does not answer.
    let url = env("SLIPWAY_TEST_K8S_URL");
    let closed = format!("https://127.0.0.1:{}", slipway_testkit::closed_port());
    std::fs::write(d.path().join("down"), admin_text.replace(&url, &closed)).unwrap();
    let started = Instant::now();
    let e = Cluster::connect(Some(d.path().join("down")), None).await.err().unwrap();
    assert!(e.why.contains(&format!("cannot reach {closed}")), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_forbidden_identity_is_refused_before_anything_is_applied() {
    let c = Cluster::connect(Some(env("SLIPWAY_TEST_KUBECONFIG_FORBIDDEN").into()), None).await.unwrap();
    let ns = unique("kt-forbidden");
    let _cleanup = Cleanup(ns.clone());
    let r = release(&ns, 1, vec![web("web", 1, |_| {})]);
    let e = c.preflight(&r, &|_| {}).await.unwrap_err();
    assert!(e.why.contains("forbidden by RBAC"), "{e}");
    assert!(e.fix.contains("cluster admin"), "{e}");
    let admin = cluster().await;
    let ns_obj = kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(admin.client).get_opt(&ns).await.unwrap();
    assert!(ns_obj.is_none(), "nothing was created");
}

#[tokio::test]
async fn missing_rights_are_listed_before_anything_is_applied() {
    // A service account that may read namespaces but not write anything in its namespace.
    let c = cluster().await;
    let ns = unique("kt-rbac");
    let _cleanup = Cleanup(ns.clone());
    let r = release(&ns, 1, vec![service("web"), web("web", 1, |_| {})]);
    c.preflight(&r, &|_| {}).await.unwrap(); // makes the namespace (Slipway's)
    let apply = |o: Value| {
        let c = c.clone();
        async move {
            let gvk = o["apiVersion"].as_str().unwrap().to_string();
            let (group, version) = gvk.split_once('/').unwrap_or(("", &gvk));
            let kind = o["kind"].as_str().unwrap();
            let ar = kube::discovery::ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk(group, version, kind));
            let api: kube::Api<kube::api::DynamicObject> = match o["metadata"]["namespace"].as_str() {
                Some(n) => kube::Api::namespaced_with(c.client.clone(), n, &ar),
                None => kube::Api::all_with(c.client.clone(), &ar),
            };
            api.patch(o["metadata"]["name"].as_str().unwrap(), &kube::api::PatchParams::apply("test").force(), &kube::api::Patch::Apply(&o)).await.unwrap();
        }
    };
    let sa = format!("{ns}-reader");
    apply(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns}})).await;
    apply(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": sa},
                 "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}]})).await;
    apply(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": sa},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": sa},
                 "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]})).await;
    apply(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "read", "namespace": ns},
                 "rules": [{"apiGroups": ["", "apps"], "resources": ["pods", "deployments", "services"], "verbs": ["get", "list", "watch"]}]})).await;
    apply(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "read", "namespace": ns},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read"},
                 "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]})).await;
    // Its token (made by the token controller).
    let secrets = kube::Api::<k8s_openapi::api::core::v1::Secret>::namespaced(c.client.clone(), &ns);
    let deadline = Instant::now() + Duration::from_secs(30);
    let token = loop {
        let list = secrets.list(&Default::default()).await.unwrap();
        if let Some(t) = list.items.iter().find(|s| s.type_.as_deref() == Some("kubernetes.io/service-account-token") && s.metadata.annotations.as_ref().is_some_and(|a| a.get("kubernetes.io/service-account.name") == Some(&sa))) {
            break String::from_utf8(t.data.as_ref().unwrap()["token"].0.clone()).unwrap();
        }
        assert!(Instant::now() < deadline, "no service account token");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let d = tempfile::tempdir().unwrap();
    let p = write_kubeconfig(d.path(), &format!("    token: {token}\n"));
    let reader = Cluster::connect(Some(p), None).await.unwrap();
    let e = reader.preflight(&r, &|_| {}).await.unwrap_err();
    assert_eq!(e.what, format!("Not allowed to deploy to namespace {ns}"));
    for needed in [format!("create deployments.apps in {ns}"), format!("patch deployments.apps in {ns}"), format!("patch services in {ns}")] {
        assert!(e.why.contains(&needed), "{needed} missing: {e}");
    }
    assert!(!e.why.contains("list pods"), "what it may do is not listed: {e}");
    let deps = kube::Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(c.client.clone(), &ns).list(&Default::default()).await.unwrap();
    assert!(deps.items.is_empty(), "nothing was applied");
    // Cluster-wide objects of this test.
    let crb = kube::Api::<k8s_openapi::api::rbac::v1::ClusterRoleBinding>::all(c.client.clone());
    let _ = crb.delete(&sa, &Default::default()).await;
    let cr = kube::Api::<k8s_openapi::api::rbac::v1::ClusterRole>::all(c.client.clone());
    let _ = cr.delete(&sa, &Default::default()).await;
}

#[tokio::test]
async fn the_load_balancer_host_name_is_the_apps_url() {
    // No cloud here gives a LoadBalancer Service an address: the test sets its status as the
    // AWS load balancer controller does on EKS, and the status reads it back as the app's URL.
    use k8s_openapi::api::core::v1::{Namespace, Service};
    use kube::api::{Api, Patch, PatchParams, PostParams};
    let c = cluster().await;
    let ns = unique("lb");
    let _cleanup = Cleanup(ns.clone());
    let namespaces = Api::<Namespace>::all(c.client.clone());
    namespaces.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap()).await.unwrap();
    let services = Api::<Service>::namespaced(c.client.clone(), &ns);
    let labels = json!({LABEL_PROJECT: PROJECT, LABEL_ENVIRONMENT: ENV, LABEL_MANAGED_BY: "slipway"});
    for (name, ty) in [("debug", "NodePort"), ("nginx", "LoadBalancer")] {
        let svc = json!({"metadata": {"name": name, "labels": labels},
                         "spec": {"type": ty, "selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}});
        services.create(&PostParams::default(), &serde_json::from_value(svc).unwrap()).await.unwrap();
    }
    let host = "a1b2c3-123456789.us-east-1.elb.amazonaws.com";
    let before = status::status(&c, &ns, PROJECT, ENV).await.unwrap();
    assert!(before.url.as_deref().is_some_and(|u| u.contains(":3")), "a node port until the load balancer has an address: {:?}", before.url);
    services
        .patch_status("nginx", &PatchParams::default(), &Patch::Merge(json!({"status": {"loadBalancer": {"ingress": [{"hostname": host}]}}})))
        .await
        .unwrap();
    let st = status::status(&c, &ns, PROJECT, ENV).await.unwrap();
    assert_eq!(st.url.as_deref(), Some(&*format!("http://{host}/")));
    let nginx = st.endpoints.iter().find(|e| e.service == "nginx").unwrap();
    assert_eq!((nginx.service_type.as_str(), nginx.note.as_deref()), ("LoadBalancer", None));
}
