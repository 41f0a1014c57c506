//! The deployment as Kubernetes YAML: what a deploy of the project to an environment applies
//! (the objects [`manifests::render`] makes, normalized as for a server-side apply), preceded by
//! the namespace and the database Secrets. No real secret is in it: the Secrets hold the
//! placeholder [`PLACEHOLDER_PASSWORD`] and carry the label [`LABEL_PLACEHOLDER`], so a CI can
//! apply the file without them and create them from its credentials. Also the facts the CI
//! exports need to deploy this file: the Secrets as CI creates them, each service's image name
//! in it, and the workloads to wait for.

use serde_json::{json, Map, Value};
use slipway_core::deploy::{LABEL_ENVIRONMENT, LABEL_MANAGED_BY, LABEL_PROJECT};
use slipway_core::export::ci::{CiSecret, K8S_EXPORT_PATH};
use slipway_core::export::{LABEL_PLACEHOLDER, PASSWORD_MARK, PLACEHOLDER_PASSWORD};
use slipway_core::pipeline::project::Project;
use slipway_core::pipeline::run::ImageArtifact;
use slipway_core::secrets::Secret;
use slipway_core::UserError;
use std::collections::BTreeMap;
use std::path::Path;

use crate::manifests::{self, DbConnection, DbPlan, RenderInput};

/// What [`export`] needs.
pub struct ExportInput<'a> {
    pub project: &'a Project,
    pub environment: &'a str,
    /// The project's folder in a checkout of the repository (manifests, schema).
    pub repo: &'a Path,
    pub images: &'a [ImageArtifact],
    pub namespace: Option<&'a str>,
    pub database: &'a DbPlan,
    pub progress_deadline_secs: Option<u32>,
}

/// The export: the objects in apply order, and what the CI exports need.
#[derive(Debug, Clone)]
pub struct KubeExport {
    pub project: String,
    pub environment: String,
    pub namespace: String,
    pub objects: Vec<Value>,
    pub notes: Vec<String>,
    /// The database Secrets as the CI creates them ([`PASSWORD_MARK`] where the password goes).
    pub ci_secrets: Vec<CiSecret>,
    /// Each service's image name (without tag) in the objects.
    pub manifest_images: BTreeMap<String, String>,
    /// `deployment/<name>` of every workload a deploy waits for.
    pub rollouts: Vec<String>,
}

/// An image reference without its tag or digest: `reg:5000/team/app:v1@sha256:..` gives
/// `reg:5000/team/app`.
pub fn image_name(reference: &str) -> &str {
    let no_digest = reference.split('@').next().unwrap_or(reference);
    let last_slash = no_digest.rfind('/').map(|i| i + 1).unwrap_or(0);
    match no_digest[last_slash..].find(':') {
        Some(i) => &no_digest[..last_slash + i],
        None => no_digest,
    }
}

/// Builds the export of a project's deployment to an environment.
pub fn export(input: &ExportInput) -> Result<KubeExport, UserError> {
    let p = input.project;
    let rendered = manifests::render(&RenderInput {
        project: p,
        environment: input.environment,
        repo: input.repo,
        images: input.images,
        namespace: input.namespace,
        database: input.database,
        proxy_image: "nginx:stable",
        progress_deadline_secs: input.progress_deadline_secs,
        pull_secret: false,
        settings: &BTreeMap::new(),
        envs: None,
        db: None,
    })?;
    let ns = rendered.namespace.clone();
    let mut notes = rendered.notes.clone();
    let conn = match (input.database, &p.database) {
        (DbPlan::InCluster, Some(db)) => Some(DbConnection {
            engine: db.engine,
            host: db.name.clone(),
            port: db.port(),
            user: db.user.clone(),
            database: db.database.clone(),
            password: Secret::new(PASSWORD_MARK),
        }),
        (
            DbPlan::External {
                host,
                port,
                user,
                database,
            },
            Some(db),
        ) => Some(DbConnection {
            engine: db.engine,
            host: host.clone(),
            port: *port,
            user: user.clone(),
            database: database.clone(),
            password: Secret::new(PASSWORD_MARK),
        }),
        _ => None,
    };
    let (secrets, required) = manifests::secrets_for(
        p,
        &rendered.objects,
        conn.as_ref(),
        *input.database == DbPlan::InCluster,
        None,
        &rendered.secrets,
    )?;
    for s in &rendered.secrets {
        notes.push(format!("The Secret {} ({}) is not in this export: create it in namespace {ns} before applying", s.name, s.purpose));
    }
    for r in &required {
        notes.push(format!("The manifests read the Secret {r}, which is not in this export: create it in namespace {ns} before applying"));
    }
    let labels = |placeholder: bool| {
        let mut l = Map::new();
        l.insert(LABEL_MANAGED_BY.into(), json!("slipway"));
        l.insert(LABEL_PROJECT.into(), json!(p.id));
        l.insert(LABEL_ENVIRONMENT.into(), json!(input.environment));
        if placeholder {
            l.insert(LABEL_PLACEHOLDER.into(), json!("true"));
        }
        Value::Object(l)
    };
    let mut objects = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels(false)}}),
    ];
    let mut ci_secrets = vec![];
    for s in &secrets {
        let data: BTreeMap<String, String> = s
            .data
            .iter()
            .map(|(k, v)| (k.clone(), v.expose().to_string()))
            .collect();
        let shown: Map<String, Value> = data
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    json!(v.replace(PASSWORD_MARK, PLACEHOLDER_PASSWORD)),
                )
            })
            .collect();
        objects.push(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": s.name, "namespace": ns, "labels": labels(true)},
            "type": s.secret_type,
            "stringData": shown
        }));
        ci_secrets.push(CiSecret {
            name: s.name.clone(),
            data,
        });
    }
    if !secrets.is_empty() {
        notes.push(format!(
            "The Secrets {} hold {PLACEHOLDER_PASSWORD} where the database password goes: put it in before applying this file by hand",
            secrets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let mut manifest_images = BTreeMap::new();
    let used: Vec<String> = manifests::images(&rendered.objects)
        .into_iter()
        .map(|(_, _, image)| image)
        .collect();
    for a in input.images {
        let r = manifests::image_ref(a);
        if used.contains(&r) {
            manifest_images.insert(a.service.clone(), image_name(&r).to_string());
        }
    }
    let mut rollouts = vec![];
    for mut o in rendered.objects {
        manifests::normalize(&mut o);
        if let ("Deployment" | "StatefulSet" | "DaemonSet", name) =
            (manifests::kind(&o), manifests::name(&o))
        {
            rollouts.push(format!(
                "{}/{name}",
                manifests::kind(&o).to_ascii_lowercase()
            ));
        }
        objects.push(o);
    }
    Ok(KubeExport {
        project: p.id.clone(),
        environment: input.environment.to_string(),
        namespace: ns,
        objects,
        notes,
        ci_secrets,
        manifest_images,
        rollouts,
    })
}

impl KubeExport {
    /// The objects as multi-document YAML, with a header saying what it is.
    pub fn yaml(&self, source: &str) -> Result<String, UserError> {
        let body = serde_saphyr::to_string_multiple(&self.objects).map_err(|e| {
            UserError::new(
                "The Kubernetes export failed",
                format!("the objects could not be written as YAML: {e}"),
                "Report this as a bug",
            )
        })?;
        let mut out = format!(
            "# Kubernetes objects of project {p}, environment {env} (namespace {ns}), written by\n\
             # `slipway export k8s`: what a deploy applies, with {source}.\n\
             # Secrets labelled {LABEL_PLACEHOLDER}=true hold {PLACEHOLDER_PASSWORD}: put the real value in\n\
             # before `kubectl apply --server-side --field-manager slipway -f FILE`. The CI exports apply this\n\
             # file from {K8S_EXPORT_PATH} without them and create them from their credentials.\n",
            p = self.project,
            env = self.environment,
            ns = self.namespace,
        );
        if !body.starts_with("---") {
            out.push_str("---\n");
        }
        out.push_str(&body);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_lose_tag_and_digest_but_keep_the_registry_port() {
        assert_eq!(
            image_name("reg:5000/team/app:v1@sha256:00"),
            "reg:5000/team/app"
        );
        assert_eq!(image_name("reg:5000/app"), "reg:5000/app");
        assert_eq!(image_name("sample-backend:abc"), "sample-backend");
        assert_eq!(image_name("nginx"), "nginx");
    }
}
