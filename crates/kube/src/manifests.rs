//! The Kubernetes objects of a deployment, as JSON values: the repository's manifests when the
//! project has them, otherwise ones generated from the detected services. Either way they are put
//! in one namespace, labelled as Slipway's, their service images replaced by the ones the run
//! built (and pushed), and completed with the sandbox database when it runs in the cluster.
//! Nothing here talks to a cluster, and nothing here holds a secret: the Secrets (database
//! connection, database server, registry pull secret) are made at apply time by [`secrets_for`]
//! from values the caller passes in.

use serde_json::{json, Map, Value};
use slipway_core::deploy::{is_dns_label, LABEL_ENVIRONMENT, LABEL_MANAGED_BY, LABEL_PROJECT, LABEL_ROLE};
use slipway_core::pipeline::config::{self, DbConn};
use slipway_core::pipeline::dburl::{self, DbEngine};
use slipway_core::pipeline::detect::{self, match_image, ImageMatch};
use slipway_core::pipeline::engine::RegistryAuth;
use slipway_core::pipeline::project::{DatabaseSpec, Project};
use slipway_core::pipeline::run::ImageArtifact;
use slipway_core::pipeline::runner::{database_container_env, database_env};
use slipway_core::pipeline::testing::placed_name;
use slipway_core::secrets::Secret;
use slipway_core::UserError;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The name of the registry pull Secret Slipway makes when the images are in a registry that
/// needs credentials.
pub const PULL_SECRET: &str = "slipway-registry";
/// The proxy's Deployment, Service and ConfigMap in generated manifests.
pub const PROXY_NAME: &str = "slipway-proxy";
/// progressDeadlineSeconds of generated Deployments (unless the environment sets one).
pub const GENERATED_PROGRESS_DEADLINE: u32 = 180;

/// Where the app's database is, as the deployment sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbPlan {
    /// No database (the project has none).
    None,
    /// The sandbox database in the namespace: a MariaDB Deployment + Service, loaded with the
    /// project's schema on first start.
    InCluster,
    /// A database outside the cluster (the live RDS instance).
    External { host: String, port: u16, user: String, database: String },
}

/// What [`render`] needs.
pub struct RenderInput<'a> {
    pub project: &'a Project,
    pub environment: &'a str,
    /// The project's folder in the checked-out repository: manifests and the schema are read
    /// from here.
    pub repo: &'a Path,
    pub images: &'a [ImageArtifact],
    /// The environment's namespace; None: the manifests' own, else the project id.
    pub namespace: Option<&'a str>,
    pub database: &'a DbPlan,
    /// The NGINX image of generated manifests (`nginx:stable`).
    pub proxy_image: &'a str,
    pub progress_deadline_secs: Option<u32>,
    /// Pods get `imagePullSecrets: [slipway-registry]` (the images are in a registry that needs
    /// credentials).
    pub pull_secret: bool,
    /// The environment's own configuration values (secrets from the keychain), by name.
    pub settings: &'a BTreeMap<String, Secret>,
    /// Each service's environment for this environment (secrets included), when the caller
    /// deploys: its secret values go to the `<project>-config` Secret. None for an export.
    pub envs: Option<&'a BTreeMap<String, BTreeMap<String, String>>>,
    /// The database the services reach (committed Secrets and literal URLs are pointed at it).
    pub db: Option<&'a DbConnection>,
}

/// The objects of a deployment (never a Secret made by Slipway).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub namespace: String,
    pub objects: Vec<Value>,
    /// What was done, for the deploy log: "backend: sample-backend:latest -> ...".
    pub notes: Vec<String>,
    /// Secrets Slipway makes in place of values: the `<project>-config` Secret (secret
    /// settings), and the repository's committed Secrets filled from the keychain. Applied,
    /// never stored.
    pub secrets: Vec<SecretSpec>,
}

/// The Secret holding a project's secret settings (`<service>.<NAME>` keys).
pub fn config_secret(project: &Project) -> String {
    format!("{}-config", project.id)
}

/// A key of the config Secret: `<service or workload>.<NAME>`.
fn config_key(owner: &str, name: &str) -> String {
    format!("{owner}.{name}")
}

fn invalid(why: impl Into<String>, fix: impl Into<String>) -> UserError {
    UserError::new("The Kubernetes manifests cannot be used", why, fix)
}

/// Kinds that are not namespaced (everything else is put in the deployment's namespace).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "Node",
];

pub fn is_namespaced(kind: &str) -> bool {
    !CLUSTER_SCOPED.contains(&kind)
}

/// Kinds whose `spec.template` is a pod template.
const WORKLOADS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"];

pub fn kind(o: &Value) -> &str {
    o["kind"].as_str().unwrap_or_default()
}

pub fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or_default()
}

/// `Kind/name`, as logs and errors name an object.
pub fn describe(o: &Value) -> String {
    format!("{}/{}", kind(o), name(o))
}

/// Reads the manifests' YAML documents (several per file, `kind: List` unpacked).
pub fn load(repo: &Path, files: &[String]) -> Result<Vec<Value>, UserError> {
    Ok(load_docs(repo, files)?.into_iter().map(|d| d.object).collect())
}

/// Reads the manifests' documents with the file and line each starts on.
pub fn load_docs(repo: &Path, files: &[String]) -> Result<Vec<detect::ManifestDoc>, UserError> {
    let mut out = vec![];
    for f in files {
        let path = slipway_core::pipeline::confine::inside(repo, "the manifest", f)?;
        let text = std::fs::read_to_string(&path).map_err(|e| invalid(format!("{f}: {e}"), "Fix the manifest paths on the Project page (they are relative to the project folder)"))?;
        let docs = detect::kube_documents(&text, f).map_err(|e| invalid(format!("{f} is not valid YAML: {e}"), format!("Fix {f}; nothing was applied")))?;
        for d in &docs {
            check_shape(&d.object, f)?;
        }
        out.extend(docs);
    }
    for d in &out {
        let o = &d.object;
        if !o.is_object() || kind(o).is_empty() || o["apiVersion"].as_str().is_none() || name(o).is_empty() {
            let shown: String = o.to_string().chars().take(120).collect();
            return Err(invalid(format!("{} line {}: a document has no apiVersion, kind or metadata.name: {shown}", d.file, d.line), "Give every document apiVersion, kind and metadata.name"));
        }
    }
    Ok(out)
}

/// The fields Slipway writes into (labels, annotations, the pod template, containers, their
/// ports and env, image pull secrets, a Service's ports) must be mappings and lists where
/// Kubernetes has them: a repository's `spec: "x"` or a string among the containers is refused
/// here, naming the file and the field, instead of failing (or panicking) halfway through.
fn check_shape(o: &Value, file: &str) -> Result<(), UserError> {
    if !o.is_object() {
        return Ok(()); // `load` refuses it with its own message
    }
    let what = |at: &str, found: &Value, want: &str| {
        let found = match found {
            Value::String(s) => format!("the string {:?}", s.chars().take(40).collect::<String>()),
            Value::Number(n) => format!("the number {n}"),
            Value::Bool(b) => format!("{b}"),
            Value::Array(_) => "a list".into(),
            Value::Object(_) => "a mapping".into(),
            Value::Null => "empty".into(),
        };
        invalid(
            format!("{file}: {} {}: {at} is {found}, where Kubernetes expects {want}", kind(o), name(o)),
            format!("Fix {file} (kubectl apply would refuse it too); nothing was applied"),
        )
    };
    let map = |v: &Value, at: &str| if v.is_null() || v.is_object() { Ok(()) } else { Err(what(at, v, "a mapping")) };
    let maps = |v: &Value, at: &str| -> Result<(), UserError> {
        match v {
            Value::Null => Ok(()),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_object() {
                        return Err(what(&format!("{at}[{i}]"), item, "a mapping"));
                    }
                }
                Ok(())
            }
            other => Err(what(at, other, "a list")),
        }
    };
    map(&o["metadata"], "metadata")?;
    map(&o["metadata"]["labels"], "metadata.labels")?;
    map(&o["metadata"]["annotations"], "metadata.annotations")?;
    map(&o["spec"], "spec")?;
    if kind(o) == "Service" {
        maps(&o["spec"]["ports"], "spec.ports")?;
    }
    if WORKLOADS.contains(&kind(o)) {
        let t = &o["spec"]["template"];
        map(t, "spec.template")?;
        map(&t["metadata"], "spec.template.metadata")?;
        map(&t["metadata"]["labels"], "spec.template.metadata.labels")?;
        map(&t["metadata"]["annotations"], "spec.template.metadata.annotations")?;
        let ps = &t["spec"];
        map(ps, "spec.template.spec")?;
        maps(&ps["imagePullSecrets"], "spec.template.spec.imagePullSecrets")?;
        for key in ["initContainers", "containers"] {
            maps(&ps[key], &format!("spec.template.spec.{key}"))?;
            for (i, c) in ps[key].as_array().into_iter().flatten().enumerate() {
                for field in ["ports", "env", "envFrom"] {
                    maps(&c[field], &format!("spec.template.spec.{key}[{i}].{field}"))?;
                }
            }
        }
    }
    Ok(())
}

/// The line of a container's `image:` in its manifest file.
fn image_line(repo: &Path, file: &str, from: usize, image: &str) -> usize {
    let text = std::fs::read_to_string(repo.join(file)).unwrap_or_default();
    slipway_core::pipeline::compose::find_line(&text, from, &format!("image: {image}"))
        .or_else(|| slipway_core::pipeline::compose::find_line(&text, from, image))
        .unwrap_or(from)
}

/// Checks the manifests before anything is built: every container image is a service's, a
/// database's or a public one. A repository image that matches no service is an error naming
/// the file and line.
pub fn check_images(p: &Project, repo: &Path) -> Result<(), UserError> {
    if p.manifests.is_empty() {
        return Ok(());
    }
    for d in load_docs(repo, &p.manifests)? {
        let Some(spec) = pod_spec(&d.object) else { continue };
        for c in containers(spec) {
            let image = c["image"].as_str().unwrap_or_default();
            if match_image(p, name(&d.object), c["name"].as_str().unwrap_or_default(), image) == ImageMatch::Unknown {
                let line = image_line(repo, &d.file, d.line, image);
                return Err(unmatched(p, &d.file, line, &describe(&d.object), image));
            }
        }
    }
    Ok(())
}

fn unmatched(p: &Project, file: &str, line: usize, what: &str, image: &str) -> UserError {
    UserError::new(
        "The Kubernetes manifests cannot be used",
        format!("{file} line {line}: {what} runs the image {image}, which matches no service ({})", p.services.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")),
        format!("Name the image after its service, or set `image = \"{}\"` under [services.<name>] in slipway.toml; nothing was built or applied", detect::image_repo(image)),
    )
}

/// The namespace the manifests name (a Namespace object, else the first metadata.namespace).
pub fn manifests_namespace(objects: &[Value]) -> Option<String> {
    objects
        .iter()
        .find(|o| kind(o) == "Namespace")
        .map(|o| name(o).to_string())
        .or_else(|| objects.iter().find_map(|o| o["metadata"]["namespace"].as_str().map(str::to_string)))
}

/// The repository's part of an image reference: `reg:5000/team/sample-backend:v1@sha..` gives
/// `sample-backend`.
fn image_base(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split(':').next().unwrap_or(last)
}

/// The project service a container runs (see [`match_image`]).
fn service_of<'a>(project: &'a Project, workload: &str, container: &Value) -> Option<&'a str> {
    match match_image(project, workload, container["name"].as_str().unwrap_or_default(), container["image"].as_str().unwrap_or_default()) {
        ImageMatch::Service(s) => project.services.iter().find(|x| x.name == s).map(|x| x.name.as_str()),
        _ => None,
    }
}

/// The image reference the cluster should run for an artifact: the pushed one when there is
/// one (a cluster elsewhere pulls it), else the local tag (a local cluster on this engine).
pub fn image_ref(a: &ImageArtifact) -> String {
    a.pushed.clone().unwrap_or_else(|| a.image.clone())
}

fn containers_mut(pod_spec: &mut Value) -> Vec<&mut Value> {
    let Some(spec) = pod_spec.as_object_mut() else { return vec![] };
    spec.iter_mut()
        .filter(|(k, _)| k.as_str() == "initContainers" || k.as_str() == "containers")
        .filter_map(|(_, v)| v.as_array_mut())
        .flat_map(|cs| cs.iter_mut())
        .collect()
}

fn containers(pod_spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers"].iter().flat_map(|k| pod_spec[k].as_array().into_iter().flatten()).collect()
}

/// The pod spec of a workload (None for other kinds).
pub fn pod_spec(o: &Value) -> Option<&Value> {
    WORKLOADS.contains(&kind(o)).then(|| &o["spec"]["template"]["spec"]).filter(|s| s.is_object())
}

fn labels_mut(meta: &mut Value) -> &mut Map<String, Value> {
    if !meta["labels"].is_object() {
        meta["labels"] = json!({});
    }
    meta["labels"].as_object_mut().expect("object")
}

/// The role label of a workload.
pub fn role(o: &Value) -> &str {
    o["metadata"]["labels"][LABEL_ROLE].as_str().unwrap_or("app")
}

/// Every Secret the workloads reference by name (envFrom, env valueFrom, volumes,
/// imagePullSecrets), each with the workloads that use it and the keys they read.
pub fn secret_references(objects: &[Value]) -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let mut refs: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for o in objects {
        let Some(spec) = pod_spec(o) else { continue };
        let w = name(o).to_string();
        let mut add = |n: Option<&str>, key: Option<&str>| {
            if let Some(n) = n {
                let e = refs.entry(n.to_string()).or_default();
                e.0.insert(w.clone());
                if let Some(k) = key {
                    e.1.insert(k.to_string());
                }
            }
        };
        for c in containers(spec) {
            for f in c["envFrom"].as_array().into_iter().flatten() {
                add(f["secretRef"]["name"].as_str(), None);
            }
            for e in c["env"].as_array().into_iter().flatten() {
                let r = &e["valueFrom"]["secretKeyRef"];
                add(r["name"].as_str(), r["key"].as_str());
            }
        }
        for v in spec["volumes"].as_array().into_iter().flatten() {
            add(v["secret"]["secretName"].as_str(), None);
        }
        for p in spec["imagePullSecrets"].as_array().into_iter().flatten() {
            add(p["name"].as_str(), None);
        }
    }
    refs
}

/// The DB connection keys every service that needs the database gets.
pub const DB_KEYS: &[&str] = &["DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME", "DATABASE_URL"];

fn db_server_secret(project: &Project) -> String {
    format!("{}-db-server", project.id)
}

fn db_connection_secret(project: &Project) -> String {
    format!("{}-db", project.id)
}

/// Builds the objects of a deployment.
pub fn render(input: &RenderInput) -> Result<Rendered, UserError> {
    let p = input.project;
    let mut notes = vec![];
    let mut secrets: Vec<SecretSpec> = vec![];
    let mut config: BTreeMap<String, Secret> = BTreeMap::new();
    let from_repo = !p.manifests.is_empty();
    let mut objects = if from_repo {
        let docs = load_docs(input.repo, &p.manifests)?;
        notes.push(format!("Using the repository's manifests: {}", p.manifests.join(", ")));
        // Images that match no service stop here, with their file and line.
        for d in &docs {
            let Some(spec) = pod_spec(&d.object) else { continue };
            for c in containers(spec) {
                let image = c["image"].as_str().unwrap_or_default();
                if match_image(p, name(&d.object), c["name"].as_str().unwrap_or_default(), image) == ImageMatch::Unknown {
                    let line = image_line(input.repo, &d.file, d.line, image);
                    return Err(unmatched(p, &d.file, line, &describe(&d.object), image));
                }
            }
        }
        let mut objs = vec![];
        for d in docs {
            if kind(&d.object) == "Secret" {
                secrets.push(committed_secret(input, &d, &mut notes));
                continue;
            }
            objs.push(d.object);
        }
        for o in objs.iter_mut() {
            literal_env(input, o, &mut config, &mut notes);
        }
        objs
    } else {
        notes.push(format!("The repository has no Kubernetes manifests: generating them for {}", p.services.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")));
        let objs = generate(input)?;
        if let Some(envs) = input.envs {
            for s in &p.services {
                for k in secret_keys(p, s) {
                    if let Some(v) = envs.get(&s.name).and_then(|e| e.get(&k)) {
                        config.insert(config_key(&s.name, &k), Secret::new(v.clone()));
                    }
                }
            }
        }
        objs
    };
    if !config.is_empty() {
        notes.push(format!("Secret values reach the pods from the Secret {} ({} keys), never from the manifests", config_secret(p), config.len()));
        secrets.push(SecretSpec { name: config_secret(p), secret_type: "Opaque".into(), data: config, purpose: "the project's secret settings".into() });
    }
    let namespace = input.namespace.map(str::to_string).or_else(|| manifests_namespace(&objects)).unwrap_or_else(|| p.id.clone());
    if !is_dns_label(&namespace) {
        return Err(invalid(format!("\"{namespace}\" is not a namespace name"), "Set a namespace for the environment (lowercase letters, digits and dashes)"));
    }
    // Slipway makes the namespace itself (with its ownership labels).
    objects.retain(|o| kind(o) != "Namespace");
    let mut seen = BTreeSet::new();
    for o in &objects {
        if !seen.insert((kind(o).to_string(), name(o).to_string())) {
            return Err(invalid(format!("{} is defined twice", describe(o)), "Remove one of the two definitions"));
        }
    }
    let own_db = objects.iter().any(|o| pod_spec(o).is_some_and(|s| containers(s).iter().any(|c| DbEngine::of_image(c["image"].as_str().unwrap_or_default()).is_some())));
    if own_db && from_repo {
        notes.push("The manifests run their own database: Slipway leaves it as written and adds none".into());
    }
    if let (DbPlan::InCluster, Some(db), false) = (input.database, &p.database, own_db) {
        let db_objects = database_objects(p, db, input.repo)?;
        for o in &db_objects {
            if seen.contains(&(kind(o).to_string(), name(o).to_string())) {
                return Err(invalid(
                    format!("{} is in the manifests, and Slipway would create the sandbox database under that name", describe(o)),
                    "Rename it, or use a database outside the cluster for this environment",
                ));
            }
        }
        notes.push(format!("The sandbox database {} ({} {}) runs in the namespace, loaded with {}", db.name, db.engine.as_str(), db.image, if db.scripts().is_empty() { "no schema".to_string() } else { db.scripts().join(", ") }));
        objects.extend(db_objects);
    }
    let used = BTreeSet::new();
    let mut used: BTreeSet<String> = used;
    for o in objects.iter_mut() {
        let k = kind(o).to_string();
        if is_namespaced(&k) {
            o["metadata"]["namespace"] = json!(namespace);
        }
        let labels = labels_mut(&mut o["metadata"]);
        labels.insert(LABEL_MANAGED_BY.into(), json!("slipway"));
        labels.insert(LABEL_PROJECT.into(), json!(p.id));
        labels.insert(LABEL_ENVIRONMENT.into(), json!(input.environment));
        if !WORKLOADS.contains(&k.as_str()) {
            continue;
        }
        let wname = name(o).to_string();
        let is_db = role(o) == "database";
        // The images the run built, for the containers that run a project service.
        let mut matched_any = false;
        let mut changes = vec![];
        for c in containers_mut(&mut o["spec"]["template"]["spec"]) {
            let Some(svc) = (if is_db { None } else { service_of(p, &wname, c) }) else { continue };
            let Some(art) = input.images.iter().find(|a| a.service == svc) else {
                return Err(invalid(
                    format!("{k} {wname} runs the service {svc}, and no image was built for it"),
                    "Run the pipeline (Build, then Push) before deploying",
                ));
            };
            matched_any = true;
            used.insert(svc.to_string());
            let new = image_ref(art);
            let old = c["image"].as_str().unwrap_or_default().to_string();
            if old != new {
                changes.push(format!("{wname}/{}: {old} -> {new}", c["name"].as_str().unwrap_or_default()));
            }
            c["image"] = json!(new);
            c["imagePullPolicy"] = json!("IfNotPresent");
        }
        notes.extend(changes);
        let role = if is_db {
            "database"
        } else if matched_any {
            "app"
        } else {
            // A workload of none of the project's services in front of them (NGINX in the
            // sample) is the proxy; anything else counts as part of the app.
            let images: Vec<String> = pod_spec(o).map(|s| containers(s).iter().filter_map(|c| c["image"].as_str().map(image_base).map(str::to_string)).collect()).unwrap_or_default();
            if images.iter().any(|i| i.contains("nginx") || i.contains("haproxy") || i.contains("envoy") || i.contains("traefik")) {
                "proxy"
            } else {
                "app"
            }
        };
        o["metadata"]["labels"][LABEL_ROLE] = json!(role);
        let tmeta = &mut o["spec"]["template"]["metadata"];
        if !tmeta.is_object() {
            *tmeta = json!({});
        }
        let tl = labels_mut(tmeta);
        tl.insert(LABEL_PROJECT.into(), json!(p.id));
        tl.insert(LABEL_ENVIRONMENT.into(), json!(input.environment));
        tl.insert(LABEL_ROLE.into(), json!(role));
        if k == "Deployment" {
            if let Some(s) = input.progress_deadline_secs {
                o["spec"]["progressDeadlineSeconds"] = json!(s);
            }
        }
        if input.pull_secret && !is_db {
            let ps = &mut o["spec"]["template"]["spec"]["imagePullSecrets"];
            if !ps.is_array() {
                *ps = json!([]);
            }
            let arr = ps.as_array_mut().expect("array");
            if !arr.iter().any(|x| x["name"] == PULL_SECRET) {
                arr.push(json!({"name": PULL_SECRET}));
            }
        }
    }
    for s in &p.services {
        if !used.contains(&s.name) && input.images.iter().any(|a| a.service == s.name) {
            notes.push(format!("No workload in the manifests runs the service {} (its image is not deployed)", s.name));
        }
    }
    // Apply order: config before the workloads that read it, Services before their clients.
    objects.sort_by_key(|o| apply_rank(kind(o)));
    Ok(Rendered { namespace, objects, notes, secrets })
}

/// The variables of a service whose values are secret (they reach its pods from the config
/// Secret): its secret settings and its database URLs, not the connection keys the database
/// Secret gives.
fn secret_keys(p: &Project, s: &slipway_core::pipeline::project::ServiceSpec) -> Vec<String> {
    let mut v: Vec<String> = s.secret_env.iter().filter(|k| !DB_KEYS.contains(&k.as_str())).cloned().collect();
    if let Some(db) = &p.database {
        for u in db.urls.iter().filter(|u| u.service == s.name) {
            if !v.contains(&u.name) && !DB_KEYS.contains(&u.name.as_str()) {
                v.push(u.name.clone());
            }
        }
    }
    v
}

/// The DbConn of a connection (for pointing values at it).
fn conn_of(c: &DbConnection) -> DbConn {
    DbConn { engine: c.engine, host: c.host.clone(), port: c.port, user: c.user.clone(), password: c.password.expose().to_string(), database: c.database.clone() }
}

/// A Secret the repository commits in its manifests: made by Slipway instead, each key from the
/// environment's settings (keychain) when set, else the committed value, with database URLs
/// and settings pointed at the database Slipway provides.
fn committed_secret(input: &RenderInput, d: &detect::ManifestDoc, notes: &mut Vec<String>) -> SecretSpec {
    let o = &d.object;
    let mut data: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in o["data"].as_object().into_iter().flatten() {
        let raw = v.as_str().unwrap_or_default();
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, raw.trim()).unwrap_or_default();
        data.insert(k.clone(), String::from_utf8_lossy(&bytes).into_owned());
    }
    for (k, v) in o["stringData"].as_object().into_iter().flatten() {
        data.insert(k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
    }
    let mut from_keychain = vec![];
    for (k, v) in data.iter_mut() {
        if let Some(s) = input.settings.get(k) {
            *v = s.expose().to_string();
            from_keychain.push(k.clone());
        }
    }
    if let Some(c) = input.db {
        let aliases: Vec<String> = input.project.database.iter().flat_map(|d| std::iter::once(d.name.clone()).chain(d.aliases.iter().cloned())).collect();
        config::point_at_db(&mut data, &conn_of(c), None, &aliases, &[]);
    }
    let kept: Vec<&String> = data.keys().filter(|k| !from_keychain.contains(k)).collect();
    notes.push(format!(
        "Secret/{} is committed in {} line {}: Slipway makes it instead{}{}",
        name(o),
        d.file,
        d.line,
        if from_keychain.is_empty() { String::new() } else { format!(", {} from the keychain", from_keychain.join(", ")) },
        if kept.is_empty() { String::new() } else { format!(", {} as committed (move them to the keychain with `slipway env config move-secrets`)", kept.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")) },
    ));
    SecretSpec {
        name: name(o).to_string(),
        secret_type: o["type"].as_str().unwrap_or("Opaque").to_string(),
        data: data.into_iter().map(|(k, v)| (k, Secret::new(v))).collect(),
        purpose: format!("committed in {} line {}, filled by Slipway", d.file, d.line),
    }
}

/// A workload of the repository's manifests: literal environment values that are secret (or
/// that the environment sets as secret) move to the config Secret; database URLs and the
/// environment's other settings are written in.
fn literal_env(input: &RenderInput, o: &mut Value, config: &mut BTreeMap<String, Secret>, notes: &mut Vec<String>) {
    if pod_spec(o).is_none() {
        return;
    }
    let w = name(o).to_string();
    let p = input.project;
    let secret_name = config_secret(p);
    let conn = input.db.map(conn_of);
    let aliases: Vec<String> = p.database.iter().flat_map(|d| std::iter::once(d.name.clone()).chain(d.aliases.iter().cloned())).collect();
    for c in containers_mut(&mut o["spec"]["template"]["spec"]) {
        let Some(env) = c.get_mut("env").and_then(Value::as_array_mut) else { continue };
        for e in env.iter_mut() {
            let (Some(n), Some(v)) = (e["name"].as_str().map(str::to_string), e["value"].as_str().map(str::to_string)) else { continue };
            let mut one = BTreeMap::from([(n.clone(), v.clone())]);
            let set = input.settings.get(&n);
            if let Some(s) = set {
                one.insert(n.clone(), s.expose().to_string());
            } else if let Some(c) = &conn {
                if dburl::parse(&v).is_some() {
                    config::point_at_db(&mut one, c, None, &aliases, &[]);
                }
            }
            let value = one.remove(&n).unwrap_or(v.clone());
            let secret = detect::secret_kind(&n, &value).is_some() || detect::secret_kind(&n, &v).is_some();
            if secret {
                let key = config_key(&w, &n);
                config.insert(key.clone(), Secret::new(value));
                *e = json!({"name": n, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": key}}});
                notes.push(format!("{w}: {n} comes from the Secret {secret_name} ({})", if set.is_some() { "the environment's value" } else { "the manifest's value" }));
            } else if value != v {
                e["value"] = json!(value);
                notes.push(format!("{w}: {n} set to the environment's value"));
            }
        }
    }
}

/// Where an object comes in the apply order.
pub fn apply_rank(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "ServiceAccount" | "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => 2,
        "Secret" | "ConfigMap" | "PersistentVolumeClaim" => 3,
        "Service" => 4,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "CronJob" => 5,
        _ => 6,
    }
}

fn probe(port: Option<u16>, path: Option<&str>) -> Option<Value> {
    let port = port?;
    let mut p = match path {
        Some(path) => json!({"httpGet": {"path": path, "port": port}}),
        None => json!({"tcpSocket": {"port": port}}),
    };
    p["periodSeconds"] = json!(2);
    p["failureThreshold"] = json!(3);
    Some(p)
}

/// Seconds a serving pod keeps answering after it is told to stop: Kubernetes takes it out of
/// its Services' endpoints at the same time as it stops it, and kube-proxy and NGINX need a
/// moment to see that; without the wait, requests reach a pod that is gone (measured by
/// `crates/app/tests/zero_downtime.rs`).
pub const DRAIN_SECS: u32 = 5;

/// The `preStop` hook that waits DRAIN_SECS (an image without `sh` skips it: Kubernetes stops
/// the container as usual when the hook fails).
fn drain() -> Value {
    json!({"preStop": {"exec": {"command": ["sh", "-c", format!("sleep {DRAIN_SECS}")]}}})
}

/// A rolling update that never has fewer ready pods than asked for: a new pod is ready before
/// an old one goes.
fn rolling() -> Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}})
}

/// Manifests for a project without its own: a Deployment per service (the project's replicas,
/// readiness probes), a ClusterIP Service per service with a port, and an NGINX proxy
/// (ConfigMap, Deployment, LoadBalancer Service) in front of the entry service.
pub fn generate(input: &RenderInput) -> Result<Vec<Value>, UserError> {
    let p = input.project;
    let deadline = input.progress_deadline_secs.unwrap_or(GENERATED_PROGRESS_DEADLINE);
    let mut out = vec![];
    for s in &p.services {
        let needs_db = p.uses_db(s) && *input.database != DbPlan::None;
        let labels = json!({"app.kubernetes.io/name": s.name, "app.kubernetes.io/part-of": p.id});
        let secret = secret_keys(p, s);
        let resolved = input.envs.and_then(|e| e.get(&s.name));
        let mut names: Vec<&String> = s.env.keys().collect();
        if let Some(r) = resolved {
            // Values the environment adds (settings that no service had).
            names.extend(r.keys().filter(|k| !s.env.contains_key(*k) && !secret.contains(k) && !s.secret_env.contains(k)));
        }
        let mut env: Vec<Value> = names
            .into_iter()
            .filter(|k| !(secret.contains(k) || needs_db && DB_KEYS.contains(&k.as_str())))
            .map(|k| json!({"name": k, "value": resolved.and_then(|r| r.get(k)).or_else(|| s.env.get(k)).cloned().unwrap_or_default()}))
            .collect();
        for k in &secret {
            env.push(json!({"name": k, "valueFrom": {"secretKeyRef": {"name": config_secret(p), "key": config_key(&s.name, k)}}}));
        }
        let mut c = json!({"name": s.name, "image": format!("{}-{}", p.id, s.name), "imagePullPolicy": "IfNotPresent"});
        if let Some(port) = s.port {
            c["ports"] = json!([{"name": "http", "containerPort": port}]);
        }
        if !env.is_empty() {
            c["env"] = json!(env);
        }
        if needs_db {
            c["envFrom"] = json!([{"secretRef": {"name": db_connection_secret(p)}}]);
        }
        // Compose's command and entrypoint (args and command in Kubernetes' words).
        if let Some(cmd) = &s.command {
            c["args"] = json!(cmd);
        }
        if let Some(ep) = &s.entrypoint {
            c["command"] = json!(ep);
        }
        // Compose's health check is the readiness probe when it runs a command.
        let compose_probe = s.healthcheck.as_ref().and_then(|h| {
            let cmd: Vec<String> = match h.test.first().map(String::as_str) {
                Some("CMD") => h.test[1..].to_vec(),
                Some("CMD-SHELL") => vec!["sh".into(), "-c".into(), h.test[1..].join(" ")],
                _ => return None,
            };
            Some(json!({"exec": {"command": cmd}, "periodSeconds": (h.interval_ms / 1000).clamp(1, 30), "timeoutSeconds": (h.timeout_ms / 1000).clamp(1, 30), "failureThreshold": h.retries.max(1)}))
        });
        if let Some(pr) = compose_probe.or_else(|| probe(s.port, s.health_path.as_deref())) {
            c["readinessProbe"] = pr;
        }
        if s.port.is_some() {
            c["lifecycle"] = drain();
        }
        out.push(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": s.name, "labels": labels},
            "spec": {
                "replicas": p.deploy.replicas,
                "progressDeadlineSeconds": deadline,
                "strategy": rolling(),
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [c]}}
            }
        }));
        if let Some(port) = s.port {
            // A Service under every name other services use (compose's container_name too).
            for n in s.names().iter().filter(|n| is_dns_label(n)) {
                out.push(json!({
                    "apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": n, "labels": labels},
                    "spec": {"type": "ClusterIP", "selector": labels, "ports": [{"name": "http", "port": port, "targetPort": port}]}
                }));
            }
        }
    }
    if let Some(entry) = p.entry_service().filter(|e| e.port.is_some()) {
        let labels = json!({"app.kubernetes.io/name": PROXY_NAME, "app.kubernetes.io/part-of": p.id});
        let conf = slipway_core::pipeline::local::nginx_config(&[format!("{}:{}", entry.name, entry.port.unwrap_or(80))]);
        out.push(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": PROXY_NAME, "labels": labels},
            "data": {"default.conf": conf}
        }));
        out.push(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": PROXY_NAME, "labels": labels},
            "spec": {
                "replicas": 1,
                "progressDeadlineSeconds": deadline,
                "strategy": rolling(),
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {
                    "containers": [{
                        "name": "nginx", "image": input.proxy_image, "imagePullPolicy": "IfNotPresent",
                        "ports": [{"name": "http", "containerPort": 80}],
                        "volumeMounts": [{"name": "conf", "mountPath": "/etc/nginx/conf.d", "readOnly": true}],
                        "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 2},
                        "lifecycle": drain()
                    }],
                    "volumes": [{"name": "conf", "configMap": {"name": PROXY_NAME}}]
                }}
            }
        }));
        out.push(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": PROXY_NAME, "labels": labels},
            "spec": {"type": "LoadBalancer", "selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": 80}]}
        }));
    }
    Ok(out)
}

/// The sandbox database's readiness check (the root password comes from the container's own
/// environment, never from the pod spec).
const DB_PING: &str = "export MYSQL_PWD=\"$MARIADB_ROOT_PASSWORD\"; mariadb-admin ping -h 127.0.0.1 --protocol=tcp -uroot --silent || mysqladmin ping -h 127.0.0.1 --protocol=tcp -uroot --silent";
/// PostgreSQL's: it accepts connections over TCP.
const PG_PING: &str = "pg_isready -h 127.0.0.1 -p 5432 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\"";

/// The sandbox database in the namespace: its schema as a ConfigMap, a one-replica MariaDB
/// Deployment (Recreate; data in an emptyDir) reading its passwords from a Secret, and a
/// Service under the database's compose name (so `DB_HOST=db` works as in compose).
pub fn database_objects(p: &Project, db: &DatabaseSpec, repo: &Path) -> Result<Vec<Value>, UserError> {
    let labels = json!({"app.kubernetes.io/name": db.name, "app.kubernetes.io/part-of": p.id, LABEL_ROLE: "database"});
    let mut out = vec![];
    let mut mounts = vec![json!({"name": "data", "mountPath": config::database_data_dir(db.engine)})];
    let mut volumes = vec![json!({"name": "data", "emptyDir": {}})];
    let scripts = db.scripts();
    if !scripts.is_empty() {
        let mut data = Map::new();
        for (i, f) in scripts.iter().enumerate() {
            let text = std::fs::read_to_string(slipway_core::pipeline::confine::inside(repo, "the database schema", f)?)
                .map_err(|e| UserError::new("The database schema could not be read", format!("{f}: {e}"), "Fix the schema path in the compose file or slipway.toml"))?;
            data.insert(placed_name(i, f), json!(text));
        }
        let cm = format!("{}-schema", db.name);
        out.push(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": cm, "labels": labels},
            "data": data
        }));
        mounts.push(json!({"name": "schema", "mountPath": "/docker-entrypoint-initdb.d", "readOnly": true}));
        volumes.push(json!({"name": "schema", "configMap": {"name": cm}}));
    }
    let (port_name, port, ping) = match db.engine {
        DbEngine::Mysql => ("mysql", 3306, DB_PING),
        DbEngine::Postgres => ("postgres", 5432, PG_PING),
    };
    out.push(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": db.name, "labels": labels},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"app.kubernetes.io/name": db.name, "app.kubernetes.io/part-of": p.id}},
            "template": {"metadata": {"labels": labels}, "spec": {
                "containers": [{
                    "name": "database", "image": db.image, "imagePullPolicy": "IfNotPresent",
                    "ports": [{"name": port_name, "containerPort": port}],
                    "envFrom": [{"secretRef": {"name": db_server_secret(p)}}],
                    "volumeMounts": mounts,
                    // An authenticated ping over TCP: the images' first-start init server does
                    // not listen on the network, so it passes once the real server runs; a bare
                    // TCP probe or a ping without the password logs a warning every period.
                    "readinessProbe": {"exec": {"command": ["sh", "-c", ping]}, "periodSeconds": 2, "timeoutSeconds": 5}
                }],
                "volumes": volumes
            }}
        }
    }));
    // The database under every name the services use for it.
    for n in std::iter::once(&db.name).chain(db.aliases.iter().filter(|a| is_dns_label(a) && p.service(a).is_none())) {
        out.push(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": n, "labels": labels},
            "spec": {"type": "ClusterIP", "selector": {"app.kubernetes.io/name": db.name, "app.kubernetes.io/part-of": p.id}, "ports": [{"name": port_name, "port": port, "targetPort": port}]}
        }));
    }
    Ok(out)
}

/// A Secret Slipway applies: its values never leave this struct except into the apply call.
#[derive(Clone)]
pub struct SecretSpec {
    pub name: String,
    /// `Opaque` or `kubernetes.io/dockerconfigjson`.
    pub secret_type: String,
    pub data: BTreeMap<String, Secret>,
    /// What it is for, for the deploy log ("database connection", "database server", "registry").
    pub purpose: String,
}

impl std::fmt::Debug for SecretSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret {} ({}; keys {:?})", self.name, self.purpose, self.data.keys().collect::<Vec<_>>())
    }
}

impl SecretSpec {
    /// The Secret as an apply body (values base64 in `data`; this is what goes to the cluster
    /// and nowhere else).
    pub fn to_object(&self, namespace: &str, project: &str, environment: &str) -> Value {
        let data: Map<String, Value> = self.data.iter().map(|(k, v)| (k.clone(), json!(base64_encode(v.expose().as_bytes())))).collect();
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": self.name, "namespace": namespace, "labels": {
                LABEL_MANAGED_BY: "slipway", LABEL_PROJECT: project, LABEL_ENVIRONMENT: environment
            }},
            "type": self.secret_type,
            "data": data
        })
    }
}

/// The database as the services reach it, with its password.
#[derive(Clone)]
pub struct DbConnection {
    pub engine: DbEngine,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub database: String,
    pub password: Secret,
}

/// The Secrets a deployment needs, and the ones it references that it must find in the cluster:
/// the database connection (for every Secret a database-using workload references that the
/// manifests do not define; `<project>-db` in generated manifests), the sandbox database's
/// server passwords, and the registry pull secret.
pub fn secrets_for(p: &Project, objects: &[Value], db: Option<&DbConnection>, in_cluster_db: bool, pull: Option<&RegistryAuth>, made: &[SecretSpec]) -> Result<(Vec<SecretSpec>, Vec<String>), UserError> {
    let defined: BTreeSet<&str> = objects.iter().filter(|o| kind(o) == "Secret").map(name).chain(made.iter().map(|s| s.name.as_str())).collect();
    let refs = secret_references(objects);
    let mut out = vec![];
    let mut required = vec![];
    let db_users: BTreeSet<String> = p.services.iter().filter(|s| p.uses_db(s)).map(|s| s.name.clone()).collect();
    // The workloads that run a database-using service (by their role labels' services).
    let db_workloads: BTreeSet<String> = objects
        .iter()
        .filter(|o| pod_spec(o).is_some())
        .filter(|o| {
            let w = name(o);
            db_users.contains(w) || pod_spec(o).map(|s| containers(s).iter().any(|c| service_of(p, w, c).is_some_and(|svc| db_users.contains(svc)))).unwrap_or(false)
        })
        .map(|o| name(o).to_string())
        .collect();
    let conn_data = |c: &DbConnection| -> BTreeMap<String, Secret> {
        let spec = DatabaseSpec { name: c.host.clone(), database: c.database.clone(), user: c.user.clone(), engine: c.engine, ..Default::default() };
        let mut env = database_env(&spec, &c.host, c.password.expose());
        env.insert("DB_PORT".into(), c.port.to_string());
        env.insert("DATABASE_URL".into(), dburl::write(c.engine.default_scheme(), "", &conn_of(c).target()));
        env.into_iter().map(|(k, v)| (k, Secret::new(v))).collect()
    };
    for (secret, (workloads, keys)) in &refs {
        if defined.contains(secret.as_str()) {
            continue;
        }
        if secret == PULL_SECRET && pull.is_some() {
            continue;
        }
        if in_cluster_db && *secret == db_server_secret(p) {
            continue;
        }
        let for_db = workloads.iter().any(|w| db_workloads.contains(w));
        match (db, for_db) {
            (Some(c), true) => {
                let unknown: Vec<&String> = keys.iter().filter(|k| !DB_KEYS.contains(&k.as_str())).collect();
                if !unknown.is_empty() {
                    return Err(invalid(
                        format!("{} read{} the key {} of Secret {secret}, which Slipway fills with the database connection", workloads.iter().cloned().collect::<Vec<_>>().join(", "), if workloads.len() == 1 { "s" } else { "" }, unknown.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")),
                        format!("Read the keys {} (or the whole Secret with envFrom)", DB_KEYS.join(", ")),
                    ));
                }
                out.push(SecretSpec { name: secret.clone(), secret_type: "Opaque".into(), data: conn_data(c), purpose: "database connection".into() });
            }
            _ => required.push(secret.clone()),
        }
    }
    if in_cluster_db {
        if let (Some(dbspec), Some(c)) = (&p.database, db) {
            let env = database_container_env(dbspec, c.password.expose(), c.password.expose());
            out.push(SecretSpec {
                name: db_server_secret(p),
                secret_type: "Opaque".into(),
                data: env.into_iter().map(|(k, v)| (k, Secret::new(v))).collect(),
                purpose: "sandbox database server".into(),
            });
        }
    }
    if let Some(auth) = pull {
        let b64 = |s: &str| base64_encode(s.as_bytes());
        let cfg = json!({"auths": {auth.server.clone(): {
            "username": auth.username, "password": auth.password.expose(),
            "auth": b64(&format!("{}:{}", auth.username, auth.password.expose()))
        }}});
        let mut data = BTreeMap::new();
        data.insert(".dockerconfigjson".to_string(), Secret::new(cfg.to_string()));
        out.push(SecretSpec { name: PULL_SECRET.into(), secret_type: "kubernetes.io/dockerconfigjson".into(), data, purpose: format!("registry {}", auth.server) });
    }
    Ok((out, required))
}

fn base64_encode(b: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b)
}

/// The images of the workloads: (workload, container, image).
pub fn images(objects: &[Value]) -> Vec<(String, String, String)> {
    let mut v = vec![];
    for o in objects {
        let Some(spec) = pod_spec(o) else { continue };
        for c in containers(spec) {
            v.push((name(o).to_string(), c["name"].as_str().unwrap_or_default().to_string(), c["image"].as_str().unwrap_or_default().to_string()));
        }
    }
    v
}

/// Fills in what the API server defaults but server-side apply needs explicitly on older
/// servers (1.20 refuses a port list entry without `protocol`, a key of those lists).
pub fn normalize(o: &mut Value) {
    let fill = |ports: &mut Value| {
        for p in ports.as_array_mut().into_iter().flatten() {
            if p.is_object() && p.get("protocol").is_none() {
                p["protocol"] = json!("TCP");
            }
        }
    };
    if kind(o) == "Service" {
        if let Some(ports) = o.pointer_mut("/spec/ports") {
            fill(ports);
        }
    }
    if pod_spec(o).is_some() {
        for c in containers_mut(&mut o["spec"]["template"]["spec"]) {
            if c.get("ports").is_some() {
                fill(&mut c["ports"]);
            }
        }
    }
}

/// Sets Slipway's revision on the pod templates of the app and proxy workloads (not the
/// database's, whose pod must keep its data), so every apply rolls out a new ReplicaSet.
pub fn stamp_revision(objects: &mut [Value], revision: u32) {
    for o in objects.iter_mut() {
        if pod_spec(o).is_none() || role(o) == "database" {
            continue;
        }
        let meta = &mut o["spec"]["template"]["metadata"];
        if !meta["annotations"].is_object() {
            meta["annotations"] = json!({});
        }
        meta["annotations"][slipway_core::deploy::ANNOTATION_REVISION] = json!(revision.to_string());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn manifests_of_the_wrong_shape_are_refused_naming_the_file_and_field_not_a_panic() {
        let d = tempfile::tempdir().unwrap();
        let cases = [
            ("spec-string.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: \"x\"\n", "spec is the string \"x\""),
            ("container-string.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [\"nginx\"]\n", "spec.template.spec.containers[0] is the string \"nginx\""),
            ("containers-map.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: {a: 1}\n", "spec.template.spec.containers is a mapping, where Kubernetes expects a list"),
            ("labels.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: [a]}\n", "metadata.labels is a list"),
            ("template.yaml", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec: {template: 5}\n", "spec.template is the number 5"),
            ("ports.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [80]}\n", "spec.ports[0] is the number 80"),
            ("env.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: b, env: \"X=1\"}]\n", "containers[0].env is the string \"X=1\""),
            ("pull.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec: {template: {spec: {imagePullSecrets: \"reg\", containers: []}}}\n", "imagePullSecrets is the string \"reg\""),
        ];
        for (file, text, why) in cases {
            std::fs::write(d.path().join(file), text).unwrap();
            let e = load(d.path(), &[file.to_string()]).unwrap_err();
            assert!(e.why.starts_with(&format!("{file}: ")) && e.why.contains(why), "{file}: {e}");
            assert!(e.fix.contains(file), "{e}");
        }
        println!("manifests of the wrong shape refused: {}", cases.len());
    }

    use super::*;
    use slipway_core::pipeline::project::{DeploySpec, ServiceSpec, Source};

    static NO_SETTINGS: BTreeMap<String, Secret> = BTreeMap::new();

    fn svc(name: &str, port: u16, deps: &[&str]) -> ServiceSpec {
        let mut env = BTreeMap::new();
        env.insert("GREETING".into(), "hi".into());
        env.insert("DB_PASSWORD".into(), "from-compose".into());
        ServiceSpec {
            name: name.into(),
            context: name.into(),
            dockerfile: "Dockerfile".into(),
            port: Some(port),
            env,
            depends_on: deps.iter().map(|s| s.to_string()).collect(),
            test_command: None,
            tests: false,
            build_args: BTreeMap::new(),
            language: None,
            health_path: Some("/healthz".into()),
            ..Default::default()
        }
    }

    fn project(manifests: &[&str]) -> Project {
        Project {
            id: "sample".into(),
            source: Source::Path { path: "/x".into() },
            subdir: String::new(),
            git_ref: "HEAD".into(),
            services: vec![svc("backend", 8000, &["db"]), svc("frontend", 8080, &["backend"])],
            database: Some(DatabaseSpec { name: "db".into(), image: "mariadb:10.11".into(), schema: Some("db/schema.sql".into()), database: "sample".into(), user: "sample".into(), ..Default::default() }),
            manifests: manifests.iter().map(|s| s.to_string()).collect(),
            env_vars: vec![],
            deploy: DeploySpec { replicas: 3, entry: Some("frontend".into()), proxy_port: 0, entry_reason: None },
            concurrency: 1,
            detected_from: vec![],
            ..Default::default()
        }
    }

    fn images() -> Vec<ImageArtifact> {
        vec![
            ImageArtifact { service: "backend".into(), image: "sample-backend:abc".into(), pushed: Some("reg:5000/sample-backend:abc".into()), digest: None },
            ImageArtifact { service: "frontend".into(), image: "sample-frontend:abc".into(), pushed: None, digest: None },
        ]
    }

    fn sample_repo() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-app")
    }

    fn input<'a>(p: &'a Project, imgs: &'a [ImageArtifact], repo: &'a Path, db: &'a DbPlan, ns: Option<&'a str>) -> RenderInput<'a> {
        RenderInput { project: p, environment: "dev", repo, images: imgs, namespace: ns, database: db, proxy_image: "nginx:stable", progress_deadline_secs: None, pull_secret: false, settings: &NO_SETTINGS, envs: None, db: None }
    }

    fn find<'a>(objs: &'a [Value], k: &str, n: &str) -> &'a Value {
        objs.iter().find(|o| kind(o) == k && name(o) == n).unwrap_or_else(|| panic!("{k}/{n} missing"))
    }

    #[test]
    fn the_sample_manifests_get_the_built_images_one_namespace_and_labels() {
        let p = project(&["k8s/namespace.yaml", "k8s/backend.yaml", "k8s/frontend.yaml", "k8s/nginx.yaml"]);
        let imgs = images();
        let repo = sample_repo();
        let r = render(&input(&p, &imgs, &repo, &DbPlan::InCluster, Some("team-x"))).unwrap();
        assert_eq!(r.namespace, "team-x");
        assert!(r.objects.iter().all(|o| kind(o) != "Namespace"), "the namespace is Slipway's own");
        assert!(r.objects.iter().all(|o| o["metadata"]["namespace"] == "team-x"));
        assert!(r.objects.iter().all(|o| o["metadata"]["labels"][LABEL_PROJECT] == "sample" && o["metadata"]["labels"][LABEL_MANAGED_BY] == "slipway"));
        let backend = find(&r.objects, "Deployment", "backend");
        let c = &backend["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "reg:5000/sample-backend:abc", "the pushed reference wins");
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(backend["spec"]["template"]["metadata"]["labels"][LABEL_PROJECT], "sample");
        assert_eq!(backend["spec"]["selector"]["matchLabels"], json!({"app": "sample", "component": "backend"}), "selectors are untouched");
        assert_eq!(find(&r.objects, "Deployment", "frontend")["spec"]["template"]["spec"]["containers"][0]["image"], "sample-frontend:abc");
        let nginx = find(&r.objects, "Deployment", "nginx");
        assert_eq!(nginx["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:stable", "not a project service: untouched");
        assert_eq!(role(nginx), "proxy");
        assert_eq!(role(backend), "app");
        // The sandbox database came along.
        assert_eq!(role(find(&r.objects, "Deployment", "db")), "database");
        assert!(find(&r.objects, "ConfigMap", "db-schema")["data"]["01-schema.sql"].as_str().unwrap().contains("CREATE TABLE"));
        find(&r.objects, "Service", "db");
        // Order: config, services, then workloads.
        let ranks: Vec<u8> = r.objects.iter().map(|o| apply_rank(kind(o))).collect();
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
        assert!(r.notes.iter().any(|n| n.contains("backend/backend: sample-backend:latest -> reg:5000/sample-backend:abc")), "{:?}", r.notes);

        // The manifests' namespace when the environment names none.
        let r = render(&input(&p, &imgs, &repo, &DbPlan::None, None)).unwrap();
        assert_eq!(r.namespace, "sample");
        assert!(r.objects.iter().all(|o| role(o) != "database"));
    }

    #[test]
    fn the_database_secret_the_manifests_expect_is_filled_and_others_are_required() {
        let p = project(&["k8s/backend.yaml", "k8s/frontend.yaml", "k8s/nginx.yaml"]);
        let imgs = images();
        let repo = sample_repo();
        let r = render(&input(&p, &imgs, &repo, &DbPlan::InCluster, Some("n"))).unwrap();
        let conn = DbConnection { engine: DbEngine::Mysql, host: "db".into(), port: 3306, user: "sample".into(), database: "sample".into(), password: Secret::new("pw-123") };
        let (secrets, required) = secrets_for(&p, &r.objects, Some(&conn), true, None, &[]).unwrap();
        assert!(required.is_empty(), "{required:?}");
        let names: Vec<&str> = secrets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["sample-db", "sample-db-server"]);
        let db = &secrets[0];
        assert_eq!(db.data["DB_HOST"].expose(), "db");
        assert_eq!(db.data["DB_PASSWORD"].expose(), "pw-123");
        assert_eq!(db.data["DATABASE_URL"].expose(), "mysql://sample:pw-123@db:3306/sample");
        assert_eq!(secrets[1].data["MARIADB_PASSWORD"].expose(), "pw-123");
        // Debug output never shows a value.
        assert!(!format!("{secrets:?}").contains("pw-123"));
        let obj = secrets[0].to_object("n", "sample", "dev");
        assert_eq!(obj["data"]["DB_PORT"], base64_encode(b"3306"));
        assert_eq!(obj["metadata"]["namespace"], "n");

        // Without a database plan the Secret must already be in the cluster.
        let without = render(&input(&p, &imgs, &repo, &DbPlan::None, Some("n"))).unwrap();
        let (secrets, required) = secrets_for(&p, &without.objects, None, false, None, &[]).unwrap();
        assert!(secrets.is_empty());
        assert_eq!(required, ["sample-db"]);

        // A key Slipway does not fill is refused before anything is applied.
        let mut objs = r.objects.clone();
        let b = objs.iter_mut().find(|o| kind(o) == "Deployment" && name(o) == "backend").unwrap();
        b["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "sample-db", "key": "password"}}}]);
        let e = secrets_for(&p, &objs, Some(&conn), true, None, &[]).unwrap_err();
        assert!(e.why.contains("the key password of Secret sample-db"), "{e}");
    }

    #[test]
    fn generated_manifests_have_deployments_services_and_an_nginx_proxy() {
        let p = project(&[]);
        let imgs = images();
        let repo = sample_repo();
        let mut r = render(&input(&p, &imgs, &repo, &DbPlan::InCluster, None)).unwrap();
        assert_eq!(r.namespace, "sample", "the project id");
        let b = find(&r.objects, "Deployment", "backend");
        assert_eq!(b["spec"]["replicas"], 3);
        assert_eq!(b["spec"]["progressDeadlineSeconds"], GENERATED_PROGRESS_DEADLINE);
        let c = &b["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "reg:5000/sample-backend:abc");
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/healthz");
        assert_eq!(c["envFrom"][0]["secretRef"]["name"], "sample-db");
        let env = c["env"].as_array().unwrap();
        assert!(env.iter().any(|e| e["name"] == "GREETING"));
        assert!(!env.iter().any(|e| e["name"] == "DB_PASSWORD"), "the database keys come from the Secret only: {env:?}");
        let f = find(&r.objects, "Deployment", "frontend");
        assert!(f["spec"]["template"]["spec"]["containers"][0]["envFrom"].is_null(), "the frontend does not use the database");
        assert_eq!(find(&r.objects, "Service", "backend")["spec"]["ports"][0]["port"], 8000);
        assert_eq!(find(&r.objects, "Service", PROXY_NAME)["spec"]["type"], "LoadBalancer");
        assert!(find(&r.objects, "ConfigMap", PROXY_NAME)["data"]["default.conf"].as_str().unwrap().contains("server frontend:8080"));
        assert_eq!(role(find(&r.objects, "Deployment", PROXY_NAME)), "proxy");
        // Zero downtime: a new pod is ready before an old one goes, and a serving pod keeps
        // answering while it leaves its Services' endpoints.
        for d in ["backend", "frontend", PROXY_NAME] {
            let d = find(&r.objects, "Deployment", d);
            assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0, "{d}");
            let hook = &d["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]["exec"]["command"];
            assert_eq!(hook[2], format!("sleep {DRAIN_SECS}"), "{d}");
        }

        stamp_revision(&mut r.objects, 7);
        assert_eq!(find(&r.objects, "Deployment", "backend")["spec"]["template"]["metadata"]["annotations"][slipway_core::deploy::ANNOTATION_REVISION], "7");
        assert!(find(&r.objects, "Deployment", "db")["spec"]["template"]["metadata"]["annotations"].is_null(), "the database pod keeps running");
        let imgs = super::images(&r.objects);
        assert!(imgs.contains(&("frontend".into(), "frontend".into(), "sample-frontend:abc".into())));
    }

    #[test]
    fn bad_manifests_are_refused_with_the_file() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.yaml"), "kind: Deployment\nmetadata: {name: x}\n").unwrap();
        std::fs::write(d.path().join("b.yaml"), "apiVersion: v1\nkind: [\n").unwrap();
        std::fs::write(d.path().join("c.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n").unwrap();
        std::fs::write(d.path().join("list.yaml"), "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: yy}\n---\n").unwrap();
        assert!(load(d.path(), &["a.yaml".into()]).unwrap_err().why.contains("no apiVersion"));
        assert!(load(d.path(), &["b.yaml".into()]).unwrap_err().why.contains("b.yaml is not valid YAML"));
        assert!(load(d.path(), &["missing.yaml".into()]).unwrap_err().why.contains("missing.yaml"));
        assert_eq!(load(d.path(), &["list.yaml".into()]).unwrap().len(), 1);
        let mut p = project(&["c.yaml"]);
        p.database = None;
        let imgs = images();
        let e = render(&input(&p, &imgs, d.path(), &DbPlan::None, Some("n"))).unwrap_err();
        assert!(e.why.contains("ConfigMap/x is defined twice"), "{e}");
    }

    #[test]
    fn ports_get_the_protocol_older_servers_need_for_server_side_apply() {
        let mut svc = json!({"kind": "Service", "spec": {"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}});
        normalize(&mut svc);
        assert_eq!(svc["spec"]["ports"], json!([{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]));
        let mut bare = json!({"kind": "Service", "spec": {"type": "ExternalName"}});
        normalize(&mut bare);
        assert_eq!(bare, json!({"kind": "Service", "spec": {"type": "ExternalName"}}), "nothing added where there is nothing");
        let mut d = json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 8000}]}, {"name": "b"}]}}}});
        normalize(&mut d);
        assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"], "TCP");
        assert!(d["spec"]["template"]["spec"]["containers"][1].get("ports").is_none());
    }

    #[test]
    fn image_bases_and_base64() {
        assert_eq!(image_base("reg:5000/team/sample-backend:v1@sha256:00"), "sample-backend");
        assert_eq!(image_base("nginx"), "nginx");
        assert_eq!(base64_encode(b"u:p"), "dTpw");
        assert_eq!(base64_encode(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64_encode(b"ab"), "YWI=");
    }
}
