//! The Kubernetes objects of a deployment, as JSON values: the repository's manifests when the
//! project has them, otherwise ones generated from the detected services. Either way they are put
//! in one namespace, labelled as Slipway's, their service images replaced by the ones the run
//! built (and pushed), and completed with the sandbox database when it runs in the cluster.
//! Nothing here talks to a cluster, and nothing here holds a secret: the Secrets (database
//! connection, database server, registry pull secret) are made at apply time by [`secrets_for`]
//! from values the caller passes in.

use serde_json::{json, Map, Value};
use slipway_core::deploy::{is_dns_label, LABEL_ENVIRONMENT, LABEL_MANAGED_BY, LABEL_PROJECT, LABEL_ROLE};
use slipway_core::pipeline::engine::RegistryAuth;
use slipway_core::pipeline::project::{DatabaseSpec, Project};
use slipway_core::pipeline::run::ImageArtifact;
use slipway_core::pipeline::runner::{database_container_env, database_env};
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
}

/// The objects of a deployment (never a Secret made by Slipway).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub namespace: String,
    pub objects: Vec<Value>,
    /// What was done, for the deploy log: "backend: sample-backend:latest -> ...".
    pub notes: Vec<String>,
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
    let mut out = vec![];
    for f in files {
        let path = slipway_core::pipeline::confine::inside(repo, "the manifest", f)?;
        let text = std::fs::read_to_string(&path).map_err(|e| invalid(format!("{f}: {e}"), "Fix the manifest paths on the Project page (they are relative to the project folder)"))?;
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).map_err(|e| invalid(format!("{f} is not valid YAML: {e}"), format!("Fix {f}; nothing was applied")))?;
        for d in docs {
            if d.is_null() {
                continue;
            }
            let objs = if kind(&d) == "List" { d["items"].as_array().cloned().unwrap_or_default() } else { vec![d] };
            for o in &objs {
                check_shape(o, f)?;
            }
            out.extend(objs);
        }
    }
    for o in &out {
        if !o.is_object() || kind(o).is_empty() || o["apiVersion"].as_str().is_none() || name(o).is_empty() {
            let shown: String = o.to_string().chars().take(120).collect();
            return Err(invalid(format!("a document has no apiVersion, kind or metadata.name: {shown}"), "Give every document apiVersion, kind and metadata.name"));
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

/// The project service a container runs: the container's name, else the workload's, else the
/// image's repository (`<service>` or `<anything>-<service>`).
fn service_of<'a>(project: &'a Project, workload: &str, container: &Value) -> Option<&'a str> {
    let cname = container["name"].as_str().unwrap_or_default();
    let image = container["image"].as_str().unwrap_or_default();
    let base = image_base(image);
    let svc = |n: &str| project.services.iter().find(|s| s.name == n).map(|s| s.name.as_str());
    svc(cname).or_else(|| svc(workload)).or_else(|| {
        project.services.iter().find(|s| base == s.name || base.ends_with(&format!("-{}", s.name))).map(|s| s.name.as_str())
    })
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
    let from_repo = !p.manifests.is_empty();
    let mut objects = if from_repo {
        let objs = load(input.repo, &p.manifests)?;
        notes.push(format!("Using the repository's manifests: {}", p.manifests.join(", ")));
        objs
    } else {
        notes.push(format!("The repository has no Kubernetes manifests: generating them for {}", p.services.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")));
        generate(input)?
    };
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
    if let (DbPlan::InCluster, Some(db)) = (input.database, &p.database) {
        let db_objects = database_objects(p, db, input.repo)?;
        for o in &db_objects {
            if seen.contains(&(kind(o).to_string(), name(o).to_string())) {
                return Err(invalid(
                    format!("{} is in the manifests, and Slipway would create the sandbox database under that name", describe(o)),
                    "Rename it, or use a database outside the cluster for this environment",
                ));
            }
        }
        notes.push(format!("The sandbox database {} ({}) runs in the namespace, loaded with {}", db.name, db.image, db.schema.as_deref().unwrap_or("no schema")));
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
    Ok(Rendered { namespace, objects, notes })
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

/// Manifests for a project without its own: a Deployment per service (the project's replicas,
/// readiness probes), a ClusterIP Service per service with a port, and an NGINX proxy
/// (ConfigMap, Deployment, LoadBalancer Service) in front of the entry service.
pub fn generate(input: &RenderInput) -> Result<Vec<Value>, UserError> {
    let p = input.project;
    let deadline = input.progress_deadline_secs.unwrap_or(GENERATED_PROGRESS_DEADLINE);
    let mut out = vec![];
    for s in &p.services {
        let needs_db = p.database.as_ref().is_some_and(|db| s.depends_on.contains(&db.name)) && *input.database != DbPlan::None;
        let labels = json!({"app.kubernetes.io/name": s.name, "app.kubernetes.io/part-of": p.id});
        let env: Vec<Value> = s
            .env
            .iter()
            .filter(|(k, _)| !(needs_db && DB_KEYS.contains(&k.as_str())))
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect();
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
        if let Some(pr) = probe(s.port, s.health_path.as_deref()) {
            c["readinessProbe"] = pr;
        }
        out.push(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": s.name, "labels": labels},
            "spec": {
                "replicas": p.deploy.replicas,
                "progressDeadlineSeconds": deadline,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [c]}}
            }
        }));
        if let Some(port) = s.port {
            out.push(json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": s.name, "labels": labels},
                "spec": {"type": "ClusterIP", "selector": labels, "ports": [{"name": "http", "port": port, "targetPort": port}]}
            }));
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
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {
                    "containers": [{
                        "name": "nginx", "image": input.proxy_image, "imagePullPolicy": "IfNotPresent",
                        "ports": [{"name": "http", "containerPort": 80}],
                        "volumeMounts": [{"name": "conf", "mountPath": "/etc/nginx/conf.d", "readOnly": true}],
                        "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 2}
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

/// The sandbox database in the namespace: its schema as a ConfigMap, a one-replica MariaDB
/// Deployment (Recreate; data in an emptyDir) reading its passwords from a Secret, and a
/// Service under the database's compose name (so `DB_HOST=db` works as in compose).
pub fn database_objects(p: &Project, db: &DatabaseSpec, repo: &Path) -> Result<Vec<Value>, UserError> {
    let labels = json!({"app.kubernetes.io/name": db.name, "app.kubernetes.io/part-of": p.id, LABEL_ROLE: "database"});
    let mut out = vec![];
    let mut mounts = vec![json!({"name": "data", "mountPath": "/var/lib/mysql"})];
    let mut volumes = vec![json!({"name": "data", "emptyDir": {}})];
    if let Some(schema) = &db.schema {
        let text = std::fs::read_to_string(slipway_core::pipeline::confine::inside(repo, "the database schema", schema)?)
            .map_err(|e| UserError::new("The database schema could not be read", format!("{schema}: {e}"), "Fix the schema path in the compose file or slipway.toml"))?;
        let cm = format!("{}-schema", db.name);
        out.push(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": cm, "labels": labels},
            "data": {"schema.sql": text}
        }));
        mounts.push(json!({"name": "schema", "mountPath": "/docker-entrypoint-initdb.d", "readOnly": true}));
        volumes.push(json!({"name": "schema", "configMap": {"name": cm}}));
    }
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
                    "ports": [{"name": "mysql", "containerPort": 3306}],
                    "envFrom": [{"secretRef": {"name": db_server_secret(p)}}],
                    "volumeMounts": mounts,
                    // An authenticated ping over TCP: the images' first-start init server does
                    // not listen on the network, so it passes once the real server runs; a bare
                    // TCP probe or a ping without the password logs a warning every period.
                    "readinessProbe": {"exec": {"command": ["sh", "-c", DB_PING]}, "periodSeconds": 2, "timeoutSeconds": 5}
                }],
                "volumes": volumes
            }}
        }
    }));
    out.push(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": db.name, "labels": labels},
        "spec": {"type": "ClusterIP", "selector": {"app.kubernetes.io/name": db.name, "app.kubernetes.io/part-of": p.id}, "ports": [{"name": "mysql", "port": 3306, "targetPort": 3306}]}
    }));
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
pub fn secrets_for(p: &Project, objects: &[Value], db: Option<&DbConnection>, in_cluster_db: bool, pull: Option<&RegistryAuth>) -> Result<(Vec<SecretSpec>, Vec<String>), UserError> {
    let defined: BTreeSet<&str> = objects.iter().filter(|o| kind(o) == "Secret").map(name).collect();
    let refs = secret_references(objects);
    let mut out = vec![];
    let mut required = vec![];
    let db_users: BTreeSet<String> = match &p.database {
        Some(d) => p.services.iter().filter(|s| s.depends_on.contains(&d.name)).map(|s| s.name.clone()).collect(),
        None => BTreeSet::new(),
    };
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
        let spec = DatabaseSpec { name: c.host.clone(), image: String::new(), schema: None, database: c.database.clone(), user: c.user.clone() };
        let mut env = database_env(&spec, &c.host, c.password.expose());
        env.insert("DB_PORT".into(), c.port.to_string());
        env.insert("DATABASE_URL".into(), format!("mysql://{}:{}@{}:{}/{}", c.user, c.password.expose(), c.host, c.port, c.database));
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
        }
    }

    fn project(manifests: &[&str]) -> Project {
        Project {
            id: "sample".into(),
            source: Source::Path { path: "/x".into() },
            subdir: String::new(),
            git_ref: "HEAD".into(),
            services: vec![svc("backend", 8000, &["db"]), svc("frontend", 8080, &["backend"])],
            database: Some(DatabaseSpec { name: "db".into(), image: "mariadb:10.11".into(), schema: Some("db/schema.sql".into()), database: "sample".into(), user: "sample".into() }),
            manifests: manifests.iter().map(|s| s.to_string()).collect(),
            env_vars: vec![],
            deploy: DeploySpec { replicas: 3, entry: Some("frontend".into()), proxy_port: 0 },
            concurrency: 1,
            detected_from: vec![],
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
        RenderInput { project: p, environment: "dev", repo, images: imgs, namespace: ns, database: db, proxy_image: "nginx:stable", progress_deadline_secs: None, pull_secret: false }
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
        assert!(find(&r.objects, "ConfigMap", "db-schema")["data"]["schema.sql"].as_str().unwrap().contains("CREATE TABLE"));
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
        let conn = DbConnection { host: "db".into(), port: 3306, user: "sample".into(), database: "sample".into(), password: Secret::new("pw-123") };
        let (secrets, required) = secrets_for(&p, &r.objects, Some(&conn), true, None).unwrap();
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
        let (secrets, required) = secrets_for(&p, &without.objects, None, false, None).unwrap();
        assert!(secrets.is_empty());
        assert_eq!(required, ["sample-db"]);

        // A key Slipway does not fill is refused before anything is applied.
        let mut objs = r.objects.clone();
        let b = objs.iter_mut().find(|o| kind(o) == "Deployment" && name(o) == "backend").unwrap();
        b["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "sample-db", "key": "password"}}}]);
        let e = secrets_for(&p, &objs, Some(&conn), true, None).unwrap_err();
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
