//! One cluster, as the deploy target uses it: connect (and prove it answers), check before
//! touching anything (the namespace is Slipway's or free, the identity may do every write, the
//! Secrets the manifests need exist, and a server-side dry run of every object passes), apply
//! with server-side apply (field manager `slipway`), prune what an earlier revision applied and
//! this one does not, and tear an environment down. A failure names what was applied before it.

use futures::future::join_all;
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::{Namespace, Secret as KubeSecret};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Scope};
use serde_json::{json, Value};
use slipway_core::deploy::{FIELD_MANAGER, LABEL_ENVIRONMENT, LABEL_MANAGED_BY, LABEL_PROJECT};
use slipway_core::UserError;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::manifests::{self, describe, is_namespaced, kind, name, SecretSpec};
use crate::{status_code, to_user_error};

/// A connected cluster.
#[derive(Clone)]
pub struct Cluster {
    /// Requests that answer at once (15 s read timeout).
    pub client: kube::Client,
    /// Long streams: watches and log follows (no read timeout).
    pub stream: kube::Client,
    pub context: String,
    pub server: String,
    /// The API server's version (`v1.20.2`).
    pub version: String,
}

/// Everything one revision applies.
pub struct Release {
    pub project: String,
    pub environment: String,
    pub namespace: String,
    /// Slipway's revision number, stamped on the pod templates.
    pub revision: u32,
    /// The objects (never a Secret Slipway makes), unstamped.
    pub objects: Vec<Value>,
    /// The Secrets Slipway makes (database connection, database server, registry).
    pub secrets: Vec<SecretSpec>,
    /// Secrets the manifests reference and that must already be in the namespace.
    pub required_secrets: Vec<String>,
}

impl Release {
    /// The label selector of everything this environment applied.
    pub fn selector(&self) -> String {
        selector(&self.project, &self.environment)
    }

    /// The objects as applied: stamped with the revision, Secrets first.
    pub fn apply_objects(&self) -> Vec<Value> {
        let mut objs: Vec<Value> = self.secrets.iter().map(|s| s.to_object(&self.namespace, &self.project, &self.environment)).collect();
        let mut rest = self.objects.clone();
        rest.iter_mut().for_each(manifests::normalize);
        manifests::stamp_revision(&mut rest, self.revision);
        objs.extend(rest);
        objs.sort_by_key(|o| manifests::apply_rank(kind(o)));
        objs
    }
}

pub fn selector(project: &str, environment: &str) -> String {
    format!("{LABEL_PROJECT}={project},{LABEL_ENVIRONMENT}={environment}")
}

/// What apply did.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// `Kind/name` of every object applied, in order.
    pub applied: Vec<String>,
    /// The Deployments and the generation each apply produced (what the rollout waits for).
    pub deployments: BTreeMap<String, i64>,
    /// progressDeadlineSeconds of each Deployment.
    pub deadlines: BTreeMap<String, u32>,
    /// Workloads applied whose rollout is not watched (StatefulSets, DaemonSets, Jobs).
    pub unwatched: Vec<String>,
}

/// An apply that stopped part way: what went in before the error.
#[derive(Debug, Clone)]
pub struct ApplyFailure {
    pub error: UserError,
    pub applied: Vec<String>,
    pub not_applied: Vec<String>,
}

/// The known kinds' plural names (the rest are looked up through discovery).
fn plural(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "ConfigMap" => "configmaps",
        "Secret" => "secrets",
        "Service" => "services",
        "ServiceAccount" => "serviceaccounts",
        "PersistentVolumeClaim" => "persistentvolumeclaims",
        "Namespace" => "namespaces",
        "Deployment" => "deployments",
        "StatefulSet" => "statefulsets",
        "DaemonSet" => "daemonsets",
        "ReplicaSet" => "replicasets",
        "Job" => "jobs",
        "CronJob" => "cronjobs",
        "Ingress" => "ingresses",
        "NetworkPolicy" => "networkpolicies",
        "Role" => "roles",
        "RoleBinding" => "rolebindings",
        "ClusterRole" => "clusterroles",
        "ClusterRoleBinding" => "clusterrolebindings",
        "HorizontalPodAutoscaler" => "horizontalpodautoscalers",
        "PodDisruptionBudget" => "poddisruptionbudgets",
        _ => return None,
    })
}

fn gvk_of(o: &Value) -> GroupVersionKind {
    let av = o["apiVersion"].as_str().unwrap_or("v1");
    let (group, version) = av.split_once('/').unwrap_or(("", av));
    GroupVersionKind::gvk(group, version, kind(o))
}

fn short(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => slipway_core::error_chain(other),
    }
}

impl Cluster {
    /// Connects to `context` of the kubeconfig at `path` (None: KUBECONFIG or ~/.kube/config)
    /// and proves the API server answers with these credentials.
    pub async fn connect(path: Option<PathBuf>, context: Option<String>) -> Result<Self, UserError> {
        let (cfg, context, server) = crate::config(path, context).await?;
        let mut stream_cfg = cfg.clone();
        stream_cfg.read_timeout = None;
        let client = crate::build_client(cfg, &context)?;
        let stream = crate::build_client(stream_cfg, &context)?;
        let info = client.apiserver_version().await.map_err(|e| to_user_error("Cannot connect to the Kubernetes cluster", &server, e))?;
        Ok(Self { client, stream, context, server, version: info.git_version })
    }

    /// The resource of `o`'s kind, and whether it is namespaced.
    async fn resource(&self, cache: &mut BTreeMap<String, (ApiResource, bool)>, o: &Value) -> Result<(ApiResource, bool), UserError> {
        let gvk = gvk_of(o);
        let key = format!("{}/{}/{}", gvk.group, gvk.version, gvk.kind);
        if let Some(hit) = cache.get(&key) {
            return Ok(hit.clone());
        }
        let entry = match plural(&gvk.kind) {
            Some(p) => (ApiResource::from_gvk_with_plural(&gvk, p), is_namespaced(&gvk.kind)),
            None => {
                let (ar, caps) = kube::discovery::pinned_kind(&self.client, &gvk).await.map_err(|e| {
                    UserError::new(
                        "The Kubernetes manifests cannot be used",
                        format!("{} ({}): the cluster does not serve this kind ({})", describe(o), o["apiVersion"].as_str().unwrap_or(""), short(&e)),
                        format!("Install what provides it (a CRD) or use an apiVersion this cluster ({}) serves; nothing was applied", self.version),
                    )
                })?;
                (ar, caps.scope == Scope::Namespaced)
            }
        };
        cache.insert(key, entry.clone());
        Ok(entry)
    }

    /// The API of `o`'s kind (in `namespace` when it is namespaced).
    async fn api_for(&self, cache: &mut BTreeMap<String, (ApiResource, bool)>, o: &Value, namespace: &str) -> Result<Api<DynamicObject>, UserError> {
        let (ar, namespaced) = self.resource(cache, o).await?;
        Ok(if namespaced { Api::namespaced_with(self.client.clone(), namespace, &ar) } else { Api::all_with(self.client.clone(), &ar) })
    }

    /// May the identity `verb` `resource` (in `namespace`)?
    async fn can(&self, verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> Result<bool, kube::Error> {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(verb.into()),
                    group: Some(group.into()),
                    resource: Some(resource.into()),
                    namespace: namespace.map(str::to_string),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = Api::<SelfSubjectAccessReview>::all(self.client.clone()).create(&PostParams::default(), &review).await?;
        Ok(r.status.map(|s| s.allowed).unwrap_or(false))
    }

    /// The namespace, when it exists; refused when it is not this environment's.
    pub async fn owned_namespace(&self, ns: &str, project: &str, environment: &str) -> Result<Option<Namespace>, UserError> {
        let what = format!("Cannot deploy to namespace {ns}");
        let got = Api::<Namespace>::all(self.client.clone()).get_opt(ns).await.map_err(|e| to_user_error(&what, &self.server, e))?;
        let Some(n) = got else { return Ok(None) };
        let labels = n.metadata.labels.clone().unwrap_or_default();
        let (p, e) = (labels.get(LABEL_PROJECT), labels.get(LABEL_ENVIRONMENT));
        if p.map(String::as_str) != Some(project) || e.map(String::as_str) != Some(environment) {
            let owner = match (p, e) {
                (Some(p), Some(e)) => format!("it belongs to Slipway project {p}, environment {e}"),
                (Some(p), None) => format!("it belongs to Slipway project {p}"),
                _ => format!("it exists and has no {LABEL_PROJECT} label: something other than Slipway made it"),
            };
            return Err(UserError::new(
                format!("Namespace {ns} is not this environment's"),
                format!("{owner}; Slipway only deploys into a namespace it created for project {project}, environment {environment}"),
                format!(
                    "Choose another namespace for the environment, or, if {ns} is meant for it, label it: kubectl label namespace {ns} {LABEL_PROJECT}={project} {LABEL_ENVIRONMENT}={environment}. Nothing was applied"
                ),
            ));
        }
        if n.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating") {
            return Err(UserError::new(
                format!("Cannot deploy to namespace {ns}"),
                "the namespace is being deleted".to_string(),
                "Wait until it is gone (`kubectl get namespace`), then deploy again; nothing was applied",
            ));
        }
        Ok(Some(n))
    }

    fn namespace_object(release: &Release) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": release.namespace, "labels": {
                LABEL_MANAGED_BY: "slipway", LABEL_PROJECT: release.project, LABEL_ENVIRONMENT: release.environment
            }}
        })
    }

    /// Everything that can be checked before a write: the namespace, the identity's rights,
    /// the Secrets the manifests need, and a server-side dry run of every object. Creates the
    /// namespace when it is missing (the dry run needs it) and removes it again when a check
    /// after that fails, so a refused deploy leaves nothing behind. Returns whether it created
    /// the namespace.
    pub async fn preflight(&self, release: &Release, log: &(dyn Fn(String) + Send + Sync)) -> Result<bool, UserError> {
        let ns = release.namespace.as_str();
        let exists = self.owned_namespace(ns, &release.project, &release.environment).await?.is_some();
        // Rights: every write the apply makes, and what the rollout watch reads.
        let objects = release.apply_objects();
        let mut cache = BTreeMap::new();
        let mut checks: BTreeSet<(String, String, String, bool)> = BTreeSet::new();
        if !exists {
            checks.insert(("create".into(), String::new(), "namespaces".into(), false));
        }
        for o in &objects {
            let (ar, namespaced) = self.resource(&mut cache, o).await?;
            for verb in ["create", "patch"] {
                checks.insert((verb.into(), ar.group.clone(), ar.plural.clone(), namespaced));
            }
        }
        for (verb, res) in [("list", "deployments"), ("watch", "deployments")] {
            checks.insert((verb.into(), "apps".into(), res.into(), true));
        }
        for verb in ["list", "watch"] {
            checks.insert((verb.into(), String::new(), "pods".into(), true));
        }
        let answers = join_all(checks.iter().map(|(verb, group, res, namespaced)| self.can(verb, group, res, namespaced.then_some(ns)))).await;
        let mut denied = vec![];
        for ((verb, group, res, namespaced), ok) in checks.iter().zip(answers) {
            match ok {
                Ok(true) => {}
                Ok(false) => {
                    let r = if group.is_empty() { res.clone() } else { format!("{res}.{group}") };
                    denied.push(if *namespaced { format!("{verb} {r} in {ns}") } else { format!("{verb} {r}") });
                }
                Err(e) => return Err(to_user_error(&format!("Cannot deploy to namespace {ns}"), &self.server, e)),
            }
        }
        if !denied.is_empty() {
            return Err(UserError::new(
                format!("Not allowed to deploy to namespace {ns}"),
                format!("forbidden by RBAC: the identity of context {} may not {}", self.context, denied.join(", ")),
                format!("Ask the cluster admin for a Role (and RoleBinding) in {ns} with these verbs, or use a context with more rights; nothing was applied"),
            ));
        }
        // Secrets the manifests read that Slipway does not make must be there already.
        if !release.required_secrets.is_empty() {
            let api = Api::<KubeSecret>::namespaced(self.client.clone(), ns);
            let mut missing = vec![];
            for s in &release.required_secrets {
                let found = if exists { api.get_metadata_opt(s).await.map_err(|e| to_user_error(&format!("Cannot deploy to namespace {ns}"), &self.server, e))?.is_some() } else { false };
                if !found {
                    missing.push(s.clone());
                }
            }
            if !missing.is_empty() {
                return Err(UserError::new(
                    format!("Secrets missing in namespace {ns}"),
                    format!("the manifests read the Secret{} {}, which {} neither in the manifests nor in the namespace, and Slipway only makes the database connection's", if missing.len() == 1 { "" } else { "s" }, missing.join(", "), if missing.len() == 1 { "is" } else { "are" }),
                    format!("Create {} in {ns} (kubectl -n {ns} create secret generic ...), then deploy again; nothing was applied", missing.join(", ")),
                ));
            }
        }
        let mut created = false;
        if !exists {
            self.apply_one(&mut cache, &Self::namespace_object(release), ns, false).await.map_err(|e| to_user_error(&format!("Cannot create namespace {ns}"), &self.server, e))?;
            log(format!("Namespace {ns} created (labelled {LABEL_PROJECT}={}, {LABEL_ENVIRONMENT}={})", release.project, release.environment));
            created = true;
        }
        // A server-side dry run of everything: schema, immutable fields, admission.
        for o in &objects {
            if let Err(e) = self.apply_one(&mut cache, o, ns, true).await {
                let why = match &e {
                    kube::Error::Api(s) => format!("{}: {} ({})", describe(o), s.message, s.code),
                    other => format!("{}: {}", describe(o), slipway_core::error_chain(other)),
                };
                if created {
                    self.delete_namespace(ns).await;
                    log(format!("Namespace {ns} removed again: the dry run failed"));
                }
                return Err(match status_code(&e) {
                    Some(401) | Some(403) | None => to_user_error(&format!("The dry run of {} failed", describe(o)), &self.server, e),
                    _ => UserError::new("The cluster refused the manifests", why, "Fix the object named (the dry run applied nothing), then deploy again"),
                });
            }
        }
        log(format!("Dry run passed for {} objects in {ns}", objects.len()));
        Ok(created)
    }

    async fn delete_namespace(&self, ns: &str) {
        if let Err(e) = Api::<Namespace>::all(self.client.clone()).delete(ns, &DeleteParams::background()).await {
            tracing::warn!(namespace = ns, error = %e, "could not remove the namespace");
        }
    }

    async fn apply_one(&self, cache: &mut BTreeMap<String, (ApiResource, bool)>, o: &Value, ns: &str, dry_run: bool) -> Result<DynamicObject, kube::Error> {
        // Every kind was resolved by the preflight; a kind that cannot be is a 404 here.
        let api = self.api_for(cache, o, ns).await.map_err(|e| {
            kube::Error::Api(Box::new(kube::core::Status { code: 404, message: e.why, reason: "NotFound".into(), ..Default::default() }))
        })?;
        let mut pp = PatchParams::apply(FIELD_MANAGER).force();
        if dry_run {
            pp = pp.dry_run();
        }
        api.patch(name(o), &pp, &Patch::Apply(o)).await
    }

    /// Server-side apply of the namespace, the Secrets and the objects, in that order. A
    /// failure returns what was applied before it.
    pub async fn apply(&self, release: &Release, log: &(dyn Fn(String) + Send + Sync)) -> Result<Applied, ApplyFailure> {
        let ns = release.namespace.as_str();
        let mut cache = BTreeMap::new();
        let mut out = Applied::default();
        let mut all = vec![Self::namespace_object(release)];
        all.extend(release.apply_objects());
        for (i, o) in all.iter().enumerate() {
            match self.apply_one(&mut cache, o, ns, false).await {
                Ok(applied) => {
                    let k = kind(o);
                    out.applied.push(describe(o));
                    if k == "Secret" {
                        let purpose = release.secrets.iter().find(|s| s.name == name(o)).map(|s| format!(" ({})", s.purpose)).unwrap_or_default();
                        log(format!("Applied Secret/{}{purpose}", name(o)));
                    } else if k != "Namespace" {
                        log(format!("Applied {}", describe(o)));
                    }
                    match k {
                        "Deployment" => {
                            out.deployments.insert(name(o).to_string(), applied.metadata.generation.unwrap_or(1));
                            let d = applied.data["spec"]["progressDeadlineSeconds"].as_u64().unwrap_or(600) as u32;
                            out.deadlines.insert(name(o).to_string(), d);
                        }
                        "StatefulSet" | "DaemonSet" | "Job" => out.unwatched.push(describe(o)),
                        _ => {}
                    }
                }
                Err(e) => {
                    let what = format!("Applying {} failed", describe(o));
                    let mut error = to_user_error(&what, &self.server, e);
                    let rest: Vec<String> = all[i..].iter().map(describe).collect();
                    error.why = format!("{}; applied before it: {}; not applied: {}", error.why, if out.applied.is_empty() { "nothing".into() } else { out.applied.join(", ") }, rest.join(", "));
                    return Err(ApplyFailure { error, applied: out.applied, not_applied: rest });
                }
            }
        }
        Ok(out)
    }

    /// Deletes what carries this environment's labels in its namespace but is not part of
    /// `release` (Deployments, Services, ConfigMaps, Secrets, StatefulSets an earlier revision
    /// applied). Returns `Kind/name` of each object deleted.
    pub async fn prune(&self, release: &Release) -> Result<Vec<String>, UserError> {
        let keep: BTreeSet<(String, String)> = release
            .objects
            .iter()
            .map(|o| (kind(o).to_string(), name(o).to_string()))
            .chain(release.secrets.iter().map(|s| ("Secret".to_string(), s.name.clone())))
            // Secrets the objects read that this release did not make (an earlier one may have).
            .chain(release.required_secrets.iter().map(|s| ("Secret".to_string(), s.clone())))
            .collect();
        let lp = ListParams::default().labels(&release.selector());
        let mut pruned = vec![];
        for (group, version, k) in [("apps", "v1", "Deployment"), ("apps", "v1", "StatefulSet"), ("", "v1", "Service"), ("", "v1", "ConfigMap"), ("", "v1", "Secret")] {
            let ar = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, k), plural(k).unwrap_or_default());
            let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), &release.namespace, &ar);
            let list = api.list_metadata(&lp).await.map_err(|e| to_user_error("Removing objects of earlier revisions failed", &self.server, e))?;
            for item in list.items {
                let n = item.metadata.name.clone().unwrap_or_default();
                if keep.contains(&(k.to_string(), n.clone())) {
                    continue;
                }
                api.delete(&n, &DeleteParams::background()).await.map_err(|e| to_user_error(&format!("Removing {k}/{n} failed"), &self.server, e))?;
                pruned.push(format!("{k}/{n}"));
            }
        }
        Ok(pruned)
    }

    /// Deletes the environment's namespace (only when it carries the environment's labels).
    /// Returns false when there was none.
    pub async fn teardown(&self, namespace: &str, project: &str, environment: &str) -> Result<bool, UserError> {
        if self.owned_namespace(namespace, project, environment).await?.is_none() {
            return Ok(false);
        }
        Api::<Namespace>::all(self.client.clone())
            .delete(namespace, &DeleteParams::background())
            .await
            .map_err(|e| to_user_error(&format!("Deleting namespace {namespace} failed"), &self.server, e))?;
        Ok(true)
    }
}
