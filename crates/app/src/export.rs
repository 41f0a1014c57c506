//! Exports as the front ends see them: the blueprint as Terraform, a project's deployment as
//! Kubernetes YAML, and its pipeline as a Jenkinsfile or a GitHub Actions workflow. This module
//! gathers the inputs (the blueprint; the project, its environment, the newest run's images,
//! the repository's manifests, the connected registry) and calls the pure exports in
//! `slipway_core::export` and `slipway_kube::export`. It reads no secret: every password in an
//! export is a variable, a CI credential or a placeholder.

use slipway_core::connections::ConnectionKind;
use slipway_core::deploy::{Environment, EnvironmentTarget, KubeDatabase, KubeTarget};
use slipway_core::export::ci::CiInput;
use slipway_core::export::{self as exp, Export, ExportFile, ExportKind};
use slipway_core::pipeline::project::{Project, Source};
use slipway_core::pipeline::run::ImageArtifact;
use slipway_core::pipeline::runner::short_sha;
use slipway_core::secrets::random_hex;
use slipway_core::UserError;
use slipway_kube::export::{ExportInput, KubeExport};
use slipway_kube::manifests::DbPlan;
use std::path::{Path, PathBuf};

use crate::Slipway;

/// The environment name of an export when the project has none.
pub const DEFAULT_ENVIRONMENT: &str = "default";

impl Slipway {
    /// An export's text. `project` is the blueprint's project for Terraform (default
    /// `slipway`), else the pipeline project (default: the only one); `environment` picks the
    /// deployment environment (default: the one runs deploy to, else the only one).
    pub async fn export(
        &self,
        kind: ExportKind,
        project: Option<&str>,
        environment: Option<&str>,
    ) -> Result<Export, UserError> {
        match kind {
            ExportKind::Terraform => {
                let bp = self.blueprint(project).await?;
                let mut notes = vec![];
                if self.store.blueprint(&bp.project).await?.is_none() {
                    notes.push(format!("No blueprint is saved for project {}: these are the default values (edit them with `slipway blueprint --set` or on the Architecture page)", bp.project));
                }
                Ok(Export {
                    kind,
                    files: exp::terraform::terraform(&bp)?,
                    notes,
                })
            }
            ExportKind::Kubernetes | ExportKind::Jenkinsfile | ExportKind::GithubActions => {
                let p = match project {
                    Some(id) => self.project(id).await?,
                    None => self.default_project().await?,
                };
                let env = self.export_environment(&p, environment).await?;
                let (k, source, mut notes) = self.kube_export(&p, env.as_ref()).await?;
                let env_name = env
                    .as_ref()
                    .map(|e| e.name.clone())
                    .unwrap_or_else(|| DEFAULT_ENVIRONMENT.into());
                let file = |content: String| {
                    vec![ExportFile {
                        path: kind
                            .default_path()
                            .rsplit('/')
                            .next()
                            .unwrap_or_default()
                            .to_string(),
                        content,
                    }]
                };
                if kind == ExportKind::Kubernetes {
                    notes.extend(k.notes.iter().cloned());
                    return Ok(Export {
                        kind,
                        files: file(k.yaml(&source)?),
                        notes,
                    });
                }
                let registry = self.export_registry().await?;
                if registry.is_none() {
                    notes.push("No container registry is connected: the file pushes to registry.example.com/REPLACE_WITH_NAMESPACE (connect one and export again, or edit REGISTRY)".into());
                }
                let input = CiInput {
                    project: &p,
                    registry,
                    environment: env_name,
                    namespace: k.namespace.clone(),
                    manifest_images: k.manifest_images.clone(),
                    rollouts: k.rollouts.clone(),
                    secrets: k.ci_secrets.clone(),
                };
                notes.push(format!(
                    "The deploy applies {}: write it with `slipway export k8s -o {}` and commit it",
                    exp::ci::K8S_EXPORT_PATH,
                    exp::ci::K8S_EXPORT_PATH
                ));
                let text = if kind == ExportKind::Jenkinsfile {
                    exp::jenkinsfile::jenkinsfile(&input)
                } else {
                    exp::github_actions::workflow(&input)
                };
                Ok(Export {
                    kind,
                    files: file(text),
                    notes,
                })
            }
        }
    }

    /// Writes an export to `dest` (a folder for Terraform, else a file); on an error nothing is
    /// written. Returns the export (for its notes) and the files written.
    pub async fn export_to(
        &self,
        kind: ExportKind,
        project: Option<&str>,
        environment: Option<&str>,
        dest: &Path,
    ) -> Result<(Export, Vec<PathBuf>), UserError> {
        let e = self.export(kind, project, environment).await?;
        let written = exp::write(&e, dest)?;
        Ok((e, written))
    }

    /// The environment an export is for: the named one, else the one runs deploy to, else the
    /// only one; None when the project has none.
    async fn export_environment(
        &self,
        p: &Project,
        name: Option<&str>,
    ) -> Result<Option<Environment>, UserError> {
        let all = self.environments(Some(&p.id)).await?;
        let names = || {
            all.iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            Some(n) => all.iter().find(|e| e.name == n).cloned().map(Some).ok_or_else(|| {
                UserError::new(
                    "Environment not found",
                    format!("project {} has no environment \"{n}\"{}", p.id, if all.is_empty() { String::new() } else { format!(" (it has: {})", names()) }),
                    "Leave --env out for the defaults, or add it with `slipway env set NAME --context CTX`",
                )
            }),
            None => match all.iter().find(|e| e.runs) {
                Some(e) => Ok(Some(e.clone())),
                None if all.len() <= 1 => Ok(all.first().cloned()),
                None => Err(UserError::new("Which environment?", format!("project {} has {}: {}", p.id, all.len(), names()), "Name one with --env")),
            },
        }
    }

    /// The images to export: the newest run's that built them (pushed references first), else
    /// `<project>-<service>:latest`; and how to describe them.
    async fn export_images(
        &self,
        p: &Project,
    ) -> Result<(Vec<ImageArtifact>, String, Option<String>), UserError> {
        let runs = self.store.runs(Some(&p.id), 200).await?;
        if let Some(r) = runs
            .into_iter()
            .find(|r| !r.artifacts.images.is_empty() && r.commit.is_some())
        {
            let mut images = r.artifacts.images.clone();
            for s in &p.services {
                if !images.iter().any(|i| i.service == s.name) {
                    images.push(ImageArtifact {
                        service: s.name.clone(),
                        image: format!("{}-{}:latest", p.id, s.name),
                        pushed: None,
                        digest: None,
                    });
                }
            }
            let commit = r.commit.clone().unwrap_or_default();
            return Ok((
                images,
                format!("the images of run {} (commit {})", r.id, short_sha(&commit)),
                Some(r.id),
            ));
        }
        let images = p
            .services
            .iter()
            .map(|s| ImageArtifact {
                service: s.name.clone(),
                image: format!("{}-{}:latest", p.id, s.name),
                pushed: None,
                digest: None,
            })
            .collect();
        Ok((
            images,
            format!(
                "the images {}-<service>:latest (no run has built images yet)",
                p.id
            ),
            None,
        ))
    }

    /// The project's folder in a checkout: the run's own (kept in the data folder), else the
    /// local repository, else a fresh clone at the project's ref (removed when the guard drops).
    async fn export_repo(
        &self,
        p: &Project,
        run: Option<&str>,
    ) -> Result<(PathBuf, Option<crate::pipeline::TempDir>), UserError> {
        if let Some(run) = run {
            let work = self.data_dir().join("work").join(&p.id).join(run);
            if work.join(".git").exists() {
                return Ok((work.join(&p.subdir), None));
            }
        }
        match &p.source {
            Source::Path { path } => Ok((Path::new(path).join(&p.subdir), None)),
            Source::Git { .. } => {
                let dir = self
                    .data_dir()
                    .join("work")
                    .join(format!("export-{}", random_hex(6)));
                let guard = crate::pipeline::TempDir(dir.clone());
                let token = self.git_token_if_connected().await;
                use slipway_core::pipeline::runner::SourceProvider;
                slipway_git_host::checkout::Git
                    .checkout(
                        &p.source,
                        &p.git_ref,
                        &dir,
                        token.as_ref(),
                        &slipway_core::pipeline::engine::NoLog,
                    )
                    .await?;
                Ok((dir.join(&p.subdir), Some(guard)))
            }
        }
    }

    /// Where the environment's database is, as an export shows it (never its password).
    async fn export_db_plan(&self, p: &Project, t: &KubeTarget) -> Result<DbPlan, UserError> {
        let Some(_) = &p.database else {
            return Ok(DbPlan::None);
        };
        match &t.database {
            KubeDatabase::InCluster => Ok(DbPlan::InCluster),
            KubeDatabase::Rds {
                blueprint,
                instance,
            } => {
                let rds = self
                    .rds_database(blueprint.as_deref(), instance.as_deref())
                    .await?;
                let obs = rds.observed.as_ref();
                let host = obs
                    .and_then(|o| o.attrs["endpoint"].as_str())
                    .filter(|h| !h.is_empty())
                    .unwrap_or("REPLACE_WITH_RDS_ENDPOINT")
                    .to_string();
                let port = obs.and_then(|o| o.attrs["port"].as_u64()).unwrap_or(3306) as u16;
                Ok(DbPlan::External {
                    host,
                    port,
                    user: rds.user,
                    database: rds.database,
                })
            }
        }
    }

    /// The Kubernetes export of a project to an environment, what its images are, and notes.
    async fn kube_export(
        &self,
        p: &Project,
        env: Option<&Environment>,
    ) -> Result<(KubeExport, String, Vec<String>), UserError> {
        let mut notes = vec![];
        let target = match env.map(|e| &e.target) {
            Some(EnvironmentTarget::Kubernetes(t)) => t.clone(),
            Some(EnvironmentTarget::Local) => {
                notes.push(format!("Environment {} is the local Docker engine: this is what a Kubernetes environment with the defaults would apply", env.map(|e| e.name.as_str()).unwrap_or_default()));
                KubeTarget::default()
            }
            None => KubeTarget::default(),
        };
        let (images, source, run) = self.export_images(p).await?;
        if run.is_none() {
            notes.push(format!("No run of {} has built images yet: the images are {}-<service>:latest (run the pipeline and export again)", p.id, p.id));
        }
        let plan = self.export_db_plan(p, &target).await?;
        let (repo, _guard) = self.export_repo(p, run.as_deref()).await?;
        let env_name = env.map(|e| e.name.as_str()).unwrap_or(DEFAULT_ENVIRONMENT);
        let k = slipway_kube::export::export(&ExportInput {
            project: p,
            environment: env_name,
            repo: &repo,
            images: &images,
            namespace: target.namespace.as_deref(),
            database: &plan,
            progress_deadline_secs: target.progress_deadline_secs,
        })?;
        Ok((k, source, notes))
    }

    /// The connected registry as `host[/namespace]`, read from its record (never its password).
    async fn export_registry(&self) -> Result<Option<String>, UserError> {
        let Some(saved) = self.store.connection(ConnectionKind::Registry).await? else {
            return Ok(None);
        };
        let server = saved.config["registry"]
            .as_str()
            .unwrap_or("docker.io")
            .to_string();
        let user = saved.config["username"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        Ok(Some(if server.ends_with("docker.io") {
            format!(
                "docker.io/{}",
                if user.is_empty() {
                    "REPLACE_WITH_NAMESPACE"
                } else {
                    user.as_str()
                }
            )
        } else {
            server
        }))
    }
}
