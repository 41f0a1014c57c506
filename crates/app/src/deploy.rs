//! Deployments as the front ends see them: a project's environments (the local Docker engine or
//! a Kubernetes context and namespace), deploying a run's images, a rolling restart
//! (redeploy), rollback to any earlier revision's image set with a reason, the status of an
//! environment, and the merged logs of its replicas. Every deploy, redeploy and rollback is a
//! numbered revision in the store, with the objects it applied (never a Secret), when and why;
//! its live progress goes out as `deployProgress` events and its lines to a log file
//! (`<data>/deploys/<project>/<environment>/<n>.log`) and, in a pipeline run, the Deploy stage's
//! log. A rollout that fails after the apply rolls back to the revision that served before, and
//! the error says so (or says what is left in the cluster when there was none).
//!
//! Pipeline runs deploy to the project's environment marked `runs` (the local Docker engine when
//! there is none), through [`KubeRunTarget`].

use async_trait::async_trait;
use serde_json::Value;
use slipway_core::connections::ConnectionKind;
use slipway_core::deploy::*;
use slipway_core::events::Event;
use slipway_core::pipeline::engine::{ContainerEngine, RegistryAuth};
use slipway_core::pipeline::local::LocalDocker;
use slipway_core::pipeline::logs::StepLog;
use slipway_core::pipeline::project::Project;
use slipway_core::pipeline::run::{ImageArtifact, Run};
use slipway_core::pipeline::runner::{short_sha, DeployOutcome, DeployRequest, DeployTarget};
use slipway_core::secrets::{random_hex, Secret, SecretRef};
use slipway_core::{now_ms, UserError};
use slipway_kube::cluster::{Cluster, Release};
use slipway_kube::manifests::{self, DbConnection, DbPlan, RenderInput};
use slipway_kube::rollout::{self, RolloutOptions, RolloutSpec};
use slipway_kube::status::{self, LogOptions};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
/// The cancellation the long calls here take (`deploy_logs` with follow).
pub use tokio_util::sync::CancellationToken;

use crate::Slipway;

/// A blueprint's RDS database as deploys and exports see it.
pub(crate) struct RdsDatabase {
    /// The blueprint's project, and the resource's logical id.
    pub project: String,
    pub id: String,
    pub user: String,
    pub database: String,
    /// What apply recorded of it; None before it exists.
    pub observed: Option<slipway_core::provision::Observed>,
}

/// Deploys under way in this process (one per environment at a time).
#[derive(Default)]
pub struct Deploys {
    busy: Mutex<BTreeSet<(String, String)>>,
}

struct Busy<'a> {
    set: &'a Mutex<BTreeSet<(String, String)>>,
    key: (String, String),
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.set.lock().expect("deploys lock").remove(&self.key);
    }
}

impl Deploys {
    fn acquire(&self, project: &str, env: &str) -> Result<Busy<'_>, UserError> {
        let key = (project.to_string(), env.to_string());
        if !self.busy.lock().expect("deploys lock").insert(key.clone()) {
            return Err(UserError::new(
                format!("A deploy to {env} is under way"),
                format!("project {project} is being deployed to {env} by this Slipway already"),
                "Wait for it to finish (its progress is on the Deployments page), then try again",
            ));
        }
        Ok(Busy {
            set: &self.busy,
            key,
        })
    }
}

/// Why and from what a revision is made.
struct Meta {
    run: Option<String>,
    commit: Option<String>,
    rollback_to: Option<u32>,
    reason: String,
}

/// Everything an apply needs besides the objects.
struct Ctx {
    project: Project,
    env: Environment,
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    namespace: String,
    db: Option<DbConnection>,
    in_cluster_db: bool,
    pull: Option<RegistryAuth>,
    progress_deadline: Option<u32>,
}

/// A failed apply: the error, and whether anything reached the cluster.
struct Failed {
    error: UserError,
    applied: bool,
}

fn kube_target(env: &Environment) -> Result<&KubeTarget, UserError> {
    match &env.target {
        EnvironmentTarget::Kubernetes(k) => Ok(k),
        EnvironmentTarget::Local => Err(UserError::new(
            format!("{} is the local Docker engine", env.name),
            "redeploy, rollback, status and logs are for Kubernetes environments",
            "Run the pipeline again to deploy locally, or add a Kubernetes environment (`slipway env set NAME --context CTX`)",
        )),
    }
}

/// The revision serving now: the newest that succeeded.
fn current(revisions: &[Revision]) -> Option<&Revision> {
    revisions
        .iter()
        .filter(|r| r.status == RevisionStatus::Succeeded)
        .max_by_key(|r| r.number)
}

fn same_images(a: &Revision, b: &Revision) -> bool {
    let set = |r: &Revision| {
        r.images
            .iter()
            .map(|i| (i.workload.clone(), i.container.clone(), i.image.clone()))
            .collect::<BTreeSet<_>>()
    };
    set(a) == set(b)
}

fn namespace_of(objects: &[Value]) -> Option<String> {
    objects
        .iter()
        .find_map(|o| o["metadata"]["namespace"].as_str().map(str::to_string))
}

impl Slipway {
    // ----- environments ------------------------------------------------------------------

    /// A project's environments (every project's when None).
    pub async fn environments(&self, project: Option<&str>) -> Result<Vec<Environment>, UserError> {
        Ok(self.store.environments(project).await?)
    }

    /// Validates and saves an environment (new or edited). The project must exist.
    pub async fn save_environment(&self, env: Environment) -> Result<Environment, UserError> {
        env.validate()?;
        self.project(&env.project).await?;
        if let EnvironmentTarget::Kubernetes(k) = &env.target {
            // The kubeconfig and the context must exist (the cluster need not answer now).
            let kc = self.kube_access(k).await?;
            let cfg = slipway_kube::load_kubeconfig(&kc.0)?;
            if let Some(ctx) = &kc.1 {
                if !cfg.contexts.iter().any(|c| &c.name == ctx) {
                    let names: Vec<&str> = cfg.contexts.iter().map(|c| c.name.as_str()).collect();
                    return Err(UserError::new(
                        "Unknown Kubernetes context",
                        format!(
                            "'{ctx}' is not in the kubeconfig (it has: {})",
                            names.join(", ")
                        ),
                        "Pick one of the contexts listed",
                    ));
                }
            }
        }
        self.store.save_environment(&env).await?;
        Ok(env)
    }

    /// Forgets an environment and its revision history (the cluster is not touched: tear it
    /// down first to remove what it runs).
    pub async fn delete_environment(&self, project: &str, name: &str) -> Result<(), UserError> {
        self.find_environment(project, Some(name)).await?;
        Ok(self.store.delete_environment(project, name).await?)
    }

    /// The contexts of a kubeconfig (None: the connected one, else KUBECONFIG, else
    /// ~/.kube/config), for choosing an environment's cluster.
    pub async fn kube_contexts(
        &self,
        kubeconfig: Option<String>,
    ) -> Result<Vec<KubeContextInfo>, UserError> {
        let (path, _) = self
            .kube_access(&KubeTarget {
                kubeconfig,
                ..Default::default()
            })
            .await?;
        let kc = slipway_kube::load_kubeconfig(&path)?;
        Ok(kc
            .contexts
            .iter()
            .map(|c| {
                let ctx = c.context.clone().unwrap_or_default();
                let cluster = kc
                    .clusters
                    .iter()
                    .find(|x| x.name == ctx.cluster)
                    .and_then(|x| x.cluster.clone());
                let user = ctx.user.clone();
                let exec = kc
                    .auth_infos
                    .iter()
                    .find(|a| Some(&a.name) == user.as_ref())
                    .and_then(|a| a.auth_info.as_ref())
                    .and_then(|a| a.exec.as_ref())
                    .map(|e| {
                        format!(
                            "{} {}",
                            e.command.clone().unwrap_or_default(),
                            e.args.clone().unwrap_or_default().join(" ")
                        )
                        .trim()
                        .to_string()
                    });
                KubeContextInfo {
                    name: c.name.clone(),
                    cluster: ctx.cluster.clone(),
                    server: cluster.and_then(|x| x.server),
                    user,
                    namespace: ctx.namespace.clone(),
                    current: kc.current_context.as_deref() == Some(c.name.as_str()),
                    exec,
                }
            })
            .collect())
    }

    /// The kubeconfig and context of a target: its own, else the connected Kubernetes
    /// connection's, else the kubeconfig's current context.
    async fn kube_access(
        &self,
        t: &KubeTarget,
    ) -> Result<(Option<PathBuf>, Option<String>), UserError> {
        let saved = self.store.connection(ConnectionKind::Kubernetes).await?;
        let cfg = saved.map(|s| s.config).unwrap_or_default();
        let kubeconfig = t
            .kubeconfig
            .clone()
            .or_else(|| cfg["kubeconfig"].as_str().map(str::to_string))
            .map(PathBuf::from);
        let context = t.context.clone().or_else(|| {
            if t.kubeconfig.is_none() {
                cfg["context"].as_str().map(str::to_string)
            } else {
                None
            }
        });
        Ok((kubeconfig, context))
    }

    /// A project and one of its environments: the named one, else the one runs deploy to,
    /// else the only one.
    async fn find_environment(
        &self,
        project: &str,
        name: Option<&str>,
    ) -> Result<Environment, UserError> {
        let all = self.store.environments(Some(project)).await?;
        let names = || {
            all.iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            Some(n) => all.iter().find(|e| e.name == n).cloned().ok_or_else(|| {
                UserError::new(
                    "Environment not found",
                    format!(
                        "project {project} has no environment \"{n}\"{}",
                        if all.is_empty() {
                            String::new()
                        } else {
                            format!(" (it has: {})", names())
                        }
                    ),
                    "Add it on the Deployments page, or with `slipway env set NAME --context CTX`",
                )
            }),
            None => {
                if let Some(e) = all.iter().find(|e| e.runs) {
                    return Ok(e.clone());
                }
                match all.len() {
                    1 => Ok(all[0].clone()),
                    0 => Err(UserError::new(
                        "No environment",
                        format!("project {project} has no environment to deploy to"),
                        "Add one: `slipway env set NAME --context CTX` (a Kubernetes context from your kubeconfig), or on the Deployments page",
                    )),
                    _ => Err(UserError::new("Which environment?", format!("project {project} has {}: {}", all.len(), names()), "Name one with --env")),
                }
            }
        }
    }

    async fn project_and_env(
        &self,
        project: Option<&str>,
        env: Option<&str>,
    ) -> Result<(Project, Environment), UserError> {
        let p = match project {
            Some(id) => self.project(id).await?,
            None => self.default_project().await?,
        };
        let e = self.find_environment(&p.id, env).await?;
        Ok((p, e))
    }

    /// The in-cluster database's password for an environment: made once, kept in the keychain
    /// (the database keeps the password it started with, so it must not change).
    fn kube_db_password(&self, project: &str, env: &str) -> Result<Secret, UserError> {
        let r = SecretRef::for_connection(
            self.store.instance_id(),
            &format!("db-kube-{project}-{env}"),
        );
        if let Some(s) = self.secrets.get(&r)? {
            return Ok(s);
        }
        let s = Secret::new(random_hex(16));
        self.secrets.put(&r, &s)?;
        Ok(s)
    }

    /// Where the app's database is for this environment, and how to reach it.
    async fn db_plan(
        &self,
        p: &Project,
        env: &Environment,
        t: &KubeTarget,
    ) -> Result<(DbPlan, Option<DbConnection>), UserError> {
        let Some(db) = &p.database else {
            return Ok((DbPlan::None, None));
        };
        match &t.database {
            KubeDatabase::InCluster => Ok((
                DbPlan::InCluster,
                Some(DbConnection {
                    engine: db.engine,
                    host: db.name.clone(),
                    port: db.port(),
                    user: db.user.clone(),
                    database: db.database.clone(),
                    password: self.kube_db_password(&p.id, &env.name)?,
                }),
            )),
            KubeDatabase::Rds {
                blueprint,
                instance,
            } => {
                if db.engine != slipway_core::pipeline::dburl::DbEngine::Mysql {
                    return Err(UserError::new(
                        "The RDS database is MySQL",
                        format!("project {} uses {}, and the blueprint's RDS instance runs MySQL", p.id, db.engine.as_str()),
                        "Use the in-cluster database for this environment (`slipway env set NAME --database in-cluster`)",
                    ));
                }
                let rds = self
                    .rds_database(blueprint.as_deref(), instance.as_deref())
                    .await?;
                let (project, id) = (&rds.project, &rds.id);
                let obs = rds.observed.as_ref().ok_or_else(|| {
                    UserError::new("The RDS database does not exist yet", format!("project {project} has no {id} recorded"), "Create it with `slipway apply` (or Apply on the Architecture page), then deploy again")
                })?;
                let host = obs.attrs["endpoint"]
                    .as_str()
                    .filter(|h| !h.is_empty())
                    .ok_or_else(|| {
                        UserError::new(
                            "The RDS database has no endpoint yet",
                            format!("{} is {}", obs.physical_id, obs.state),
                            "Wait until it is available (`slipway refresh`), then deploy again",
                        )
                    })?;
                let port = obs.attrs["port"].as_u64().unwrap_or(3306) as u16;
                let r =
                    SecretRef::for_connection(self.store.instance_id(), &format!("{project}/{id}"));
                let password = self.secrets.get(&r)?.ok_or_else(|| {
                    UserError::new("The RDS master password is missing", "it is no longer in the keychain", "Reset the master password in the RDS console and create the environment's database Secret by hand")
                })?;
                Ok((
                    DbPlan::External {
                        host: host.into(),
                        port,
                        user: rds.user.clone(),
                        database: rds.database.clone(),
                    },
                    Some(DbConnection {
                        engine: db.engine,
                        host: host.into(),
                        port,
                        user: rds.user,
                        database: rds.database,
                        password,
                    }),
                ))
            }
        }
    }

    /// The blueprint's RDS instance `instance` (default `db-live`) of the blueprint `blueprint`
    /// (default: the default one): its master user and database name from the blueprint, and
    /// what is recorded of it (None before it is created). Deploys and exports both read it.
    pub(crate) async fn rds_database(
        &self,
        blueprint: Option<&str>,
        instance: Option<&str>,
    ) -> Result<RdsDatabase, UserError> {
        let bp = self.blueprint(blueprint).await?;
        let id = instance.unwrap_or("db-live").to_string();
        let spec = bp
            .resources()
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| {
                UserError::new(
                    "No such database in the blueprint",
                    format!("blueprint {} has no resource \"{id}\"", bp.project),
                    "Use db-live or db-test",
                )
            })?;
        let observed = self
            .resources(Some(&bp.project))
            .await?
            .into_iter()
            .find(|o| o.logical_id.as_deref() == Some(id.as_str()));
        let prop = |k: &str, d: &str| spec.props[k].as_str().unwrap_or(d).to_string();
        Ok(RdsDatabase {
            user: prop("masterUsername", "admin"),
            database: prop("dbName", "app"),
            project: bp.project,
            id,
            observed,
        })
    }

    /// The connected registry's credentials when an image comes from it (the cluster gets them
    /// as a pull Secret).
    async fn pull_auth<'a>(
        &self,
        mut images: impl Iterator<Item = &'a str>,
    ) -> Option<RegistryAuth> {
        let saved = self
            .store
            .connection(ConnectionKind::Registry)
            .await
            .ok()??;
        let (server, username, password) = self.registry_credentials(&saved).ok()?;
        let host = if server.ends_with("docker.io") {
            "docker.io".to_string()
        } else {
            server.clone()
        };
        images
            .any(|i| i.starts_with(&format!("{host}/")))
            .then_some(RegistryAuth {
                server: host,
                username,
                password,
            })
    }

    /// The namespace of a Kubernetes environment: its own, else the one its revisions went to,
    /// else the project id.
    async fn namespace_of_env(
        &self,
        p: &Project,
        e: &Environment,
        t: &KubeTarget,
    ) -> Result<String, UserError> {
        if let Some(ns) = &t.namespace {
            return Ok(ns.clone());
        }
        let revisions = self.store.revisions(&p.id, &e.name, 20).await?;
        Ok(revisions
            .iter()
            .find_map(|r| r.namespace.clone())
            .unwrap_or_else(|| p.id.clone()))
    }

    async fn ctx(
        &self,
        p: &Project,
        env: &Environment,
        namespace: String,
        pull: Option<RegistryAuth>,
        (plan, db): (DbPlan, Option<DbConnection>),
    ) -> Result<Ctx, UserError> {
        let t = kube_target(env)?;
        let (kubeconfig, context) = self.kube_access(t).await?;
        Ok(Ctx {
            project: p.clone(),
            env: env.clone(),
            kubeconfig,
            context,
            namespace,
            db,
            in_cluster_db: plan == DbPlan::InCluster,
            pull,
            progress_deadline: t.progress_deadline_secs,
        })
    }

    // ----- deploy, redeploy, rollback ------------------------------------------------------

    /// Deploys a run's images (the newest run that built images when None) to an
    /// environment (the one runs deploy to, or the only one, when None).
    pub async fn deploy(
        &self,
        project: Option<&str>,
        env: Option<&str>,
        run: Option<&str>,
    ) -> Result<Revision, UserError> {
        let (p, e) = self.project_and_env(project, env).await?;
        let run: Run = match run {
            Some(id) => self.run(id).await?,
            None => self
                .store
                .runs(Some(&p.id), 200)
                .await?
                .into_iter()
                .find(|r| !r.artifacts.images.is_empty() && r.commit.is_some())
                .ok_or_else(|| {
                    UserError::new(
                        "Nothing to deploy",
                        format!("no run of {} has built images yet", p.id),
                        "Run the pipeline first (`slipway run`, at least until build)",
                    )
                })?,
        };
        if run.project != p.id {
            return Err(UserError::new(
                "Run of another project",
                format!("run {} belongs to project {}", run.id, run.project),
                format!("Name a run of {}", p.id),
            ));
        }
        if run.artifacts.images.is_empty() || run.commit.is_none() {
            return Err(UserError::new(
                "Nothing to deploy",
                format!("run {} built no images", run.id),
                "Deploy a run whose Build stage succeeded",
            ));
        }
        let commit = run.commit.clone().unwrap_or_default();
        // The run's checkout (kept in the data folder), else a fresh one at its commit.
        let work = self.data_dir().join("work").join(&p.id).join(&run.id);
        let _tmp;
        let root = if work.join(".git").exists() {
            work
        } else {
            let dir = self
                .data_dir()
                .join("work")
                .join(format!("deploy-{}", random_hex(6)));
            let token = self.git_token_if_connected().await;
            use slipway_core::pipeline::runner::SourceProvider;
            slipway_git_host::checkout::Git
                .checkout(
                    &p.source,
                    &commit,
                    &dir,
                    token.as_ref(),
                    &slipway_core::pipeline::engine::NoLog,
                )
                .await?;
            _tmp = crate::pipeline::TempDir(dir.clone());
            dir
        };
        let repo = root.join(&p.subdir);
        match &e.target {
            EnvironmentTarget::Local => self.deploy_local(&p, &e, &run, &repo).await,
            EnvironmentTarget::Kubernetes(_) => {
                self.deploy_images(
                    &p,
                    &e,
                    &run.artifacts.images,
                    Some(&run.id),
                    Some(&commit),
                    run.commit_message.as_deref(),
                    &repo,
                    None,
                    &CancellationToken::new(),
                )
                .await
            }
        }
    }

    /// A run's images on the local Docker engine (the pipeline's own local target), recorded
    /// as a revision of the environment.
    async fn deploy_local(
        &self,
        p: &Project,
        e: &Environment,
        run: &Run,
        repo: &Path,
    ) -> Result<Revision, UserError> {
        let _busy = self.deploys.acquire(&p.id, &e.name)?;
        let engine: Arc<dyn ContainerEngine> =
            Arc::new(slipway_docker::engine::DockerEngine::connect().await?);
        let images: Vec<DeployedImage> = run
            .artifacts
            .images
            .iter()
            .map(|i| DeployedImage {
                workload: i.service.clone(),
                container: i.service.clone(),
                image: i.image.clone(),
            })
            .collect();
        let meta = Meta {
            run: Some(run.id.clone()),
            commit: run.commit.clone(),
            rollback_to: None,
            reason: format!("run {}", run.id),
        };
        let mut rev = self
            .begin_revision(
                p,
                &e.name,
                DeployOperation::Deploy,
                meta,
                images,
                &[],
                None,
                None,
            )
            .await?;
        let log = self.revision_log(&rev)?;
        let req = DeployRequest {
            project: p,
            run_id: &run.id,
            commit: run.commit.as_deref().unwrap_or_default(),
            images: &run.artifacts.images,
            repo,
            db_password: self.local_db_password(&p.id)?,
            settings: self.env_settings(&p.id, &e.name).await?,
        };
        let r = LocalDocker::new(engine)
            .deploy(&req, &log, &CancellationToken::new())
            .await;
        log.flush();
        match &r {
            Ok(out) => {
                rev.status = RevisionStatus::Succeeded;
                rev.url = Some(out.url.clone());
            }
            Err(e) => {
                rev.status = RevisionStatus::Failed;
                rev.error = Some(e.clone());
            }
        }
        self.finish_revision(&mut rev).await?;
        r.map(|_| rev)
    }

    /// Records a new revision (numbered in the store) as in progress, and announces it.
    #[allow(clippy::too_many_arguments)]
    async fn begin_revision(
        &self,
        p: &Project,
        env: &str,
        operation: DeployOperation,
        meta: Meta,
        images: Vec<DeployedImage>,
        objects: &[Value],
        context: Option<String>,
        namespace: Option<String>,
    ) -> Result<Revision, UserError> {
        let (project, environment) = (p.id.clone(), env.to_string());
        let rev = self
            .store
            .create_revision(&p.id, env, objects, move |number| Revision {
                project,
                environment,
                number,
                operation,
                run: meta.run,
                commit: meta.commit,
                rollback_to: meta.rollback_to,
                reason: meta.reason,
                images,
                context,
                namespace,
                status: RevisionStatus::InProgress,
                started_at: now_ms(),
                finished_at: None,
                error: None,
                url: None,
                note: None,
            })
            .await?;
        self.emit(Event::RevisionUpdated {
            revision: rev.clone(),
        })
        .await;
        self.board_on_revision(&rev).await;
        Ok(rev)
    }

    /// Stamps the end of a revision, saves it and announces it.
    async fn finish_revision(&self, rev: &mut Revision) -> Result<(), UserError> {
        rev.finished_at = Some(now_ms());
        self.store.save_revision(rev).await?;
        self.emit(Event::RevisionUpdated {
            revision: rev.clone(),
        })
        .await;
        self.board_on_revision(rev).await;
        Ok(())
    }

    /// Deploys images to a Kubernetes environment: the repository's manifests (or generated
    /// ones) with these images, applied and watched to the end. Pipeline runs come here too.
    #[allow(clippy::too_many_arguments)]
    pub async fn deploy_images(
        &self,
        p: &Project,
        env: &Environment,
        images: &[ImageArtifact],
        run: Option<&str>,
        commit: Option<&str>,
        message: Option<&str>,
        repo: &Path,
        step_log: Option<&StepLog>,
        cancel: &CancellationToken,
    ) -> Result<Revision, UserError> {
        let t = kube_target(env)?;
        // The sandbox's cluster gets the images built here its own way (kind load, ...).
        self.deliver_to_sandbox_cluster(t, images, step_log).await?;
        let pull = self
            .pull_auth(images.iter().filter_map(|i| i.pushed.as_deref()))
            .await;
        let db = self.db_plan(p, env, t).await?;
        let plan = db.0.clone();
        let settings = self.env_settings(&p.id, &env.name).await?;
        // Every service's environment for this environment (secrets included; they reach the
        // cluster only as Secrets), worked out before anything is applied.
        let conn = db.1.as_ref().map(|c| slipway_core::pipeline::config::DbConn {
            engine: c.engine,
            host: c.host.clone(),
            port: c.port,
            user: c.user.clone(),
            password: c.password.expose().to_string(),
            database: c.database.clone(),
        });
        let envs = slipway_core::pipeline::runner::resolve_envs(
            repo,
            p,
            &settings,
            conn.as_ref(),
            &env.name,
        )?;
        let rendered = manifests::render(&RenderInput {
            project: p,
            environment: &env.name,
            repo,
            images,
            namespace: t.namespace.as_deref(),
            database: &plan,
            proxy_image: "nginx:stable",
            progress_deadline_secs: t.progress_deadline_secs,
            pull_secret: pull.is_some(),
            settings: &settings,
            envs: Some(&envs),
            db: db.1.as_ref(),
        })?;
        let ctx = self
            .ctx(p, env, rendered.namespace.clone(), pull, db)
            .await?;
        let reason = match (run, commit) {
            (Some(r), Some(c)) => format!(
                "run {r}, commit {}{}",
                short_sha(c),
                message
                    .and_then(|m| m.lines().next())
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            ),
            (Some(r), None) => format!("run {r}"),
            _ => "deploy".into(),
        };
        let meta = Meta {
            run: run.map(str::to_string),
            commit: commit.map(str::to_string),
            rollback_to: None,
            reason,
        };
        self.execute(
            &ctx,
            DeployOperation::Deploy,
            rendered.objects,
            meta,
            rendered.notes,
            rendered.secrets,
            step_log,
            cancel,
        )
        .await
    }

    /// A rolling restart of the revision serving now: the same objects and images, new pods
    /// (a new ReplicaSet per Deployment; the database keeps running).
    pub async fn redeploy(
        &self,
        project: Option<&str>,
        env: Option<&str>,
    ) -> Result<Revision, UserError> {
        let (p, e) = self.project_and_env(project, env).await?;
        let t = kube_target(&e)?;
        let revisions = self.store.revisions(&p.id, &e.name, 1000).await?;
        let cur = current(&revisions).ok_or_else(|| {
            UserError::new(
                "Nothing to redeploy",
                format!("{} has no successful deploy to {} yet", p.id, e.name),
                "Deploy first (`slipway deploy`)",
            )
        })?;
        let objects = self
            .store
            .revision_objects(&p.id, &e.name, cur.number)
            .await?
            .unwrap_or_default();
        let ns = namespace_of(&objects)
            .or(cur.namespace.clone())
            .unwrap_or_else(|| p.id.clone());
        let pull = self
            .pull_auth(cur.images.iter().map(|i| i.image.as_str()))
            .await;
        let db = self.db_plan(&p, &e, t).await?;
        let ctx = self.ctx(&p, &e, ns, pull, db).await?;
        let meta = Meta {
            run: cur.run.clone(),
            commit: cur.commit.clone(),
            rollback_to: None,
            reason: format!("rolling restart of revision {}", cur.number),
        };
        self.execute(
            &ctx,
            DeployOperation::Redeploy,
            objects,
            meta,
            vec![],
            vec![],
            None,
            &CancellationToken::new(),
        )
        .await
    }

    /// Rolls back to an earlier revision (`to`; None: the newest earlier one that succeeded
    /// with other images): its objects and image set are applied again as a new revision,
    /// which records the reason.
    pub async fn rollback(
        &self,
        project: Option<&str>,
        env: Option<&str>,
        to: Option<u32>,
        reason: &str,
    ) -> Result<Revision, UserError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(UserError::new(
                "A rollback needs a reason",
                "no reason was given",
                "Say why (it is kept in the history), e.g. --reason \"checkout page returns 500\"",
            ));
        }
        let (p, e) = self.project_and_env(project, env).await?;
        let t = kube_target(&e)?;
        let revisions = self.store.revisions(&p.id, &e.name, 1000).await?;
        let cur = current(&revisions).ok_or_else(|| {
            UserError::new(
                "Nothing to roll back",
                format!("{} has no successful deploy to {} yet", p.id, e.name),
                "Deploy first (`slipway deploy`)",
            )
        })?;
        let target = match to {
            Some(n) => {
                let r = revisions.iter().find(|r| r.number == n).ok_or_else(|| {
                    UserError::new(
                        "Revision not found",
                        format!(
                            "{} has no revision {n} (it has 1 to {})",
                            e.name,
                            revisions.iter().map(|r| r.number).max().unwrap_or(0)
                        ),
                        "Pick one from `slipway status`",
                    )
                })?;
                if r.status != RevisionStatus::Succeeded {
                    return Err(UserError::new(
                        format!("Revision {n} never completed"),
                        format!("revision {n} {}", r.status.as_str()),
                        "Pick a revision that succeeded (`slipway status` lists them)",
                    ));
                }
                if n == cur.number {
                    return Err(UserError::new(
                        format!("Revision {n} is the one serving"),
                        "rolling back to it would change nothing",
                        "Use redeploy for new pods, or pick an earlier revision",
                    ));
                }
                r
            }
            None => revisions
                .iter()
                .filter(|r| {
                    r.status == RevisionStatus::Succeeded
                        && r.number < cur.number
                        && !same_images(r, cur)
                })
                .max_by_key(|r| r.number)
                .ok_or_else(|| {
                    UserError::new(
                        "No earlier revision",
                        format!(
                            "no earlier revision of {} ran other images than revision {}",
                            e.name, cur.number
                        ),
                        "Deploy another run instead",
                    )
                })?,
        };
        let n = target.number;
        let objects = self
            .store
            .revision_objects(&p.id, &e.name, n)
            .await?
            .filter(|o| !o.is_empty())
            .ok_or_else(|| {
                UserError::new(
                    format!("Revision {n} cannot be applied again"),
                    "its objects were not recorded",
                    "Deploy its run again instead",
                )
            })?;
        let ns = namespace_of(&objects)
            .or(target.namespace.clone())
            .unwrap_or_else(|| p.id.clone());
        let pull = self
            .pull_auth(target.images.iter().map(|i| i.image.as_str()))
            .await;
        let db = self.db_plan(&p, &e, t).await?;
        let ctx = self.ctx(&p, &e, ns, pull, db).await?;
        let meta = Meta {
            run: target.run.clone(),
            commit: target.commit.clone(),
            rollback_to: Some(n),
            reason: format!("rollback to revision {n}: {reason}"),
        };
        self.execute(
            &ctx,
            DeployOperation::Rollback,
            objects,
            meta,
            vec![],
            vec![],
            None,
            &CancellationToken::new(),
        )
        .await
    }

    fn revision_log(&self, rev: &Revision) -> Result<Arc<StepLog>, UserError> {
        let path = self
            .data_dir()
            .join("deploys")
            .join(&rev.project)
            .join(&rev.environment)
            .join(format!("{}.log", rev.number));
        StepLog::create(path.clone()).map_err(|e| {
            UserError::new(
                "The deploy log could not be written",
                format!("{}: {e}", path.display()),
                "Check the data folder's free space and permissions",
            )
        })
    }

    /// The log of a revision (its lines as they were written).
    pub fn revision_log_text(&self, project: &str, env: &str, number: u32) -> Option<String> {
        std::fs::read_to_string(
            self.data_dir()
                .join("deploys")
                .join(project)
                .join(env)
                .join(format!("{number}.log")),
        )
        .ok()
    }

    /// Records a revision, applies it, watches it, and finishes the record. A failure after
    /// something was applied rolls back to the revision that served before.
    #[allow(clippy::too_many_arguments)]
    async fn execute(
        &self,
        ctx: &Ctx,
        op: DeployOperation,
        objects: Vec<Value>,
        meta: Meta,
        notes: Vec<String>,
        made: Vec<manifests::SecretSpec>,
        step_log: Option<&StepLog>,
        cancel: &CancellationToken,
    ) -> Result<Revision, UserError> {
        let _busy = self.deploys.acquire(&ctx.project.id, &ctx.env.name)?;
        self.execute_locked(ctx, op, objects, meta, notes, made, step_log, cancel, true)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn execute_locked(
        &self,
        ctx: &Ctx,
        op: DeployOperation,
        objects: Vec<Value>,
        meta: Meta,
        notes: Vec<String>,
        made: Vec<manifests::SecretSpec>,
        step_log: Option<&StepLog>,
        cancel: &CancellationToken,
        roll_back_on_failure: bool,
    ) -> Result<Revision, UserError> {
        let p = &ctx.project;
        let mut objects = objects;
        if let Some(s) = ctx.progress_deadline {
            // The environment's deadline as it is now (a redeploy or rollback of an older revision too).
            for o in objects.iter_mut().filter(|o| o["kind"] == "Deployment") {
                o["spec"]["progressDeadlineSeconds"] = serde_json::json!(s);
            }
        }
        let (mut secrets, required) = manifests::secrets_for(
            p,
            &objects,
            ctx.db.as_ref(),
            ctx.in_cluster_db,
            ctx.pull.as_ref(),
            &made,
        )?;
        secrets.extend(made);
        let images: Vec<DeployedImage> = manifests::images(&objects)
            .into_iter()
            .map(|(workload, container, image)| DeployedImage {
                workload,
                container,
                image,
            })
            .collect();
        let served_before =
            current(&self.store.revisions(&p.id, &ctx.env.name, 1000).await?).cloned();
        let mut rev = self
            .begin_revision(
                p,
                &ctx.env.name,
                op,
                meta,
                images,
                &objects,
                ctx.context.clone(),
                Some(ctx.namespace.clone()),
            )
            .await?;
        let rlog = self.revision_log(&rev)?;
        let bus = self.journal.bus.clone();
        let line = |l: String| {
            rlog.line(&l);
            if let Some(s) = step_log {
                s.line(&l);
            }
            bus.emit(Event::Progress {
                task: "deploy".into(),
                message: l,
            });
        };
        let progress = |phase: RolloutPhase, message: String| {
            bus.emit(Event::DeployProgress(RolloutProgress {
                project: p.id.clone(),
                environment: ctx.env.name.clone(),
                revision: rev.number,
                operation: op,
                phase,
                workloads: vec![],
                pods: vec![],
                message,
            }));
        };
        line(format!(
            "{} revision {} of {} to {} (namespace {}): {}",
            op.as_str(),
            rev.number,
            p.id,
            ctx.env.name,
            ctx.namespace,
            rev.reason
        ));
        for n in &notes {
            line(n.clone());
        }
        progress(
            RolloutPhase::Applying,
            format!("Applying revision {}", rev.number),
        );
        let release = Release {
            project: p.id.clone(),
            environment: ctx.env.name.clone(),
            namespace: ctx.namespace.clone(),
            revision: rev.number,
            objects,
            secrets,
            required_secrets: required,
        };
        let result = self.roll(ctx, &release, op, &line, cancel).await;
        let outcome = match result {
            Ok(url) => {
                rev.status = RevisionStatus::Succeeded;
                rev.url = url.clone();
                line(format!(
                    "Revision {} serves{}",
                    rev.number,
                    url.map(|u| format!(" at {u}")).unwrap_or_default()
                ));
                Ok(())
            }
            Err(Failed { mut error, applied }) => {
                progress(RolloutPhase::Failed, error.to_string());
                line(format!("Revision {} failed: {error}", rev.number));
                let note = if !applied {
                    "Nothing was applied.".to_string()
                } else {
                    match served_before.filter(|_| roll_back_on_failure) {
                        Some(prev) => {
                            line(format!("Rolling back to revision {} (it served before)", prev.number));
                            let back = self.store.revision_objects(&p.id, &ctx.env.name, prev.number).await?.unwrap_or_default();
                            let m = Meta { run: prev.run.clone(), commit: prev.commit.clone(), rollback_to: Some(prev.number), reason: format!("automatic rollback to revision {}: revision {} failed", prev.number, rev.number) };
                            let r = Box::pin(self.execute_locked(ctx, DeployOperation::Rollback, back, m, vec![], vec![], step_log, &CancellationToken::new(), false)).await;
                            match r {
                                Ok(r) => format!("Rolled back automatically: revision {} (the images of revision {}) serves again.", r.number, prev.number),
                                Err(e2) => format!("The automatic rollback to revision {} failed too ({}: {}); namespace {} is left as it is.", prev.number, e2.what, e2.why, ctx.namespace),
                            }
                        }
                        None => format!(
                            "What was applied stays in namespace {} for inspection (`slipway status`, `slipway deploy-logs`); no earlier revision served there.",
                            ctx.namespace
                        ),
                    }
                };
                rev.status = RevisionStatus::Failed;
                error.fix = format!(
                    "{} {note}",
                    error.fix.trim_end_matches('.').to_string() + "."
                );
                rev.error = Some(error.clone());
                rev.note = Some(note);
                Err(error)
            }
        };
        rlog.flush();
        self.finish_revision(&mut rev).await?;
        outcome.map(|_| rev)
    }

    /// Connect, check, apply, watch, prune; the app's address.
    async fn roll(
        &self,
        ctx: &Ctx,
        release: &Release,
        op: DeployOperation,
        line: &(dyn Fn(String) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<Option<String>, Failed> {
        let not_applied = |error| Failed {
            error,
            applied: false,
        };
        let cluster = Cluster::connect(ctx.kubeconfig.clone(), ctx.context.clone())
            .await
            .map_err(not_applied)?;
        line(format!(
            "Cluster: context {} at {} (Kubernetes {})",
            cluster.context, cluster.server, cluster.version
        ));
        cluster
            .preflight(release, line)
            .await
            .map_err(not_applied)?;
        if cancel.is_cancelled() {
            return Err(not_applied(UserError::new(
                "Deploy cancelled",
                "it was cancelled before anything was applied",
                "Deploy again",
            )));
        }
        let applied = cluster.apply(release, line).await.map_err(|f| Failed {
            applied: !f.applied.is_empty(),
            error: f.error,
        })?;
        for w in &applied.unwatched {
            line(format!(
                "{w} was applied; its rollout is not watched (only Deployments are)"
            ));
        }
        let spec = RolloutSpec {
            namespace: &release.namespace,
            selector: release.selector(),
            project: &release.project,
            environment: &release.environment,
            revision: release.revision,
            operation: op,
            deployments: &applied.deployments,
            deadlines: &applied.deadlines,
        };
        let bus = self.journal.bus.clone();
        let progress = move |p: RolloutProgress| {
            bus.emit(Event::DeployProgress(p));
        };
        rollout::watch(
            &cluster,
            &spec,
            &RolloutOptions::default(),
            &progress,
            line,
            cancel,
        )
        .await
        .map_err(|error| Failed {
            error,
            applied: true,
        })?;
        match cluster.prune(release).await {
            Ok(pruned) if !pruned.is_empty() => line(format!(
                "Removed what an earlier revision applied and this one does not: {}",
                pruned.join(", ")
            )),
            Ok(_) => {}
            Err(e) => line(format!("Could not remove what earlier revisions left: {e}")),
        }
        Ok(status::url(
            &cluster,
            &release.namespace,
            &release.project,
            &release.environment,
        )
        .await)
    }

    // ----- status, history, logs, teardown -----------------------------------------------------

    /// The revisions of an environment, newest first.
    pub async fn revisions(
        &self,
        project: Option<&str>,
        env: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Revision>, UserError> {
        let (p, e) = self.project_and_env(project, env).await?;
        Ok(self.store.revisions(&p.id, &e.name, limit).await?)
    }

    /// An environment as the Deployments page shows it. A cluster that cannot be read is
    /// reported in `error`, beside what the store knows.
    pub async fn deploy_status(
        &self,
        project: Option<&str>,
        env: Option<&str>,
    ) -> Result<DeployStatus, UserError> {
        let (p, e) = self.project_and_env(project, env).await?;
        let revisions = self.store.revisions(&p.id, &e.name, 100).await?;
        let cur = current(&revisions).map(|r| r.number);
        let mut st = DeployStatus {
            environment: e.clone(),
            context: None,
            server: None,
            namespace: None,
            error: None,
            workloads: vec![],
            pods: vec![],
            endpoints: vec![],
            url: revisions
                .iter()
                .find(|r| Some(r.number) == cur)
                .and_then(|r| r.url.clone()),
            current: cur,
            revisions: revisions.clone(),
        };
        let t = match &e.target {
            EnvironmentTarget::Kubernetes(t) => t,
            EnvironmentTarget::Local => return Ok(st),
        };
        let ns = self.namespace_of_env(&p, &e, t).await?;
        st.namespace = Some(ns.clone());
        let (kubeconfig, context) = self.kube_access(t).await?;
        let cluster = match Cluster::connect(kubeconfig, context).await {
            Ok(c) => c,
            Err(err) => {
                st.error = Some(err);
                return Ok(st);
            }
        };
        st.context = Some(cluster.context.clone());
        st.server = Some(cluster.server.clone());
        match status::status(&cluster, &ns, &p.id, &e.name).await {
            Ok(cs) => {
                st.workloads = cs.workloads;
                st.pods = cs.pods;
                st.endpoints = cs.endpoints;
                if cs.namespace_exists && !cs.terminating {
                    st.url = cs.url.or(st.url);
                } else {
                    st.url = None;
                }
            }
            Err(err) => st.error = Some(err),
        }
        Ok(st)
    }

    /// The merged logs of the environment's pods (each line with its pod), to `emit` in
    /// batches; with `follow`, until `cancel` or `emit` returns false (pods started later by a
    /// redeploy are followed too).
    #[allow(clippy::too_many_arguments)]
    pub async fn deploy_logs(
        &self,
        project: Option<&str>,
        env: Option<&str>,
        follow: bool,
        tail: Option<i64>,
        cancel: &CancellationToken,
        emit: &mut (dyn FnMut(Vec<DeployLogLine>) -> bool + Send),
    ) -> Result<(), UserError> {
        let (p, e) = self.project_and_env(project, env).await?;
        let t = kube_target(&e)?;
        let ns = self.namespace_of_env(&p, &e, t).await?;
        let (kubeconfig, context) = self.kube_access(t).await?;
        let cluster = Cluster::connect(kubeconfig, context).await?;
        status::logs(
            &cluster,
            &ns,
            &p.id,
            &e.name,
            LogOptions { follow, tail },
            cancel,
            emit,
        )
        .await
    }

    /// Deletes the environment's namespace (only one Slipway made for it) and all in it. The
    /// revision history stays. Returns false when there was nothing to delete.
    pub async fn teardown(
        &self,
        project: Option<&str>,
        env: Option<&str>,
    ) -> Result<bool, UserError> {
        let (p, e) = self.project_and_env(project, env).await?;
        let t = kube_target(&e)?;
        let ns = self.namespace_of_env(&p, &e, t).await?;
        let (kubeconfig, context) = self.kube_access(t).await?;
        let cluster = Cluster::connect(kubeconfig, context).await?;
        let done = cluster.teardown(&ns, &p.id, &e.name).await?;
        self.progress(
            "deploy",
            if done {
                format!("Namespace {ns} of {} / {} is being deleted", p.id, e.name)
            } else {
                format!("{} / {}: namespace {ns} does not exist", p.id, e.name)
            },
        )
        .await;
        Ok(done)
    }

    /// The deploy target of a pipeline run: the project's environment marked `runs` when it is
    /// a Kubernetes one, else the local Docker engine.
    pub async fn run_target(
        self: &Arc<Self>,
        project: &Project,
        engine: Arc<dyn ContainerEngine>,
    ) -> Result<Arc<dyn DeployTarget>, UserError> {
        let env = self
            .store
            .environments(Some(&project.id))
            .await?
            .into_iter()
            .find(|e| e.runs);
        Ok(match env {
            Some(e) if matches!(e.target, EnvironmentTarget::Kubernetes(_)) => {
                Arc::new(KubeRunTarget {
                    app: self.clone(),
                    env: e,
                })
            }
            _ => Arc::new(LocalDocker::new(engine)),
        })
    }
}

/// A pipeline run's Deploy stage on a Kubernetes environment.
pub struct KubeRunTarget {
    app: Arc<Slipway>,
    env: Environment,
}

#[async_trait]
impl DeployTarget for KubeRunTarget {
    fn name(&self) -> String {
        match &self.env.target {
            EnvironmentTarget::Kubernetes(k) => format!(
                "Kubernetes environment {} (context {}, namespace {})",
                self.env.name,
                k.context.as_deref().unwrap_or("current"),
                k.namespace.as_deref().unwrap_or("from the manifests")
            ),
            EnvironmentTarget::Local => "local Docker engine".into(),
        }
    }

    async fn preflight(&self, project: &Project, repo: &Path) -> Result<(), UserError> {
        manifests::check_images(project, repo)
    }

    async fn deploy(
        &self,
        req: &DeployRequest<'_>,
        log: &StepLog,
        cancel: &CancellationToken,
    ) -> Result<DeployOutcome, UserError> {
        let message = self
            .app
            .run(req.run_id)
            .await
            .ok()
            .and_then(|r| r.commit_message);
        let rev = self
            .app
            .deploy_images(
                req.project,
                &self.env,
                req.images,
                Some(req.run_id),
                Some(req.commit),
                message.as_deref(),
                req.repo,
                Some(log),
                cancel,
            )
            .await?;
        Ok(DeployOutcome {
            url: rev.url.unwrap_or_else(|| {
                format!(
                    "namespace {} (no Service outside the cluster)",
                    rev.namespace.unwrap_or_default()
                )
            }),
        })
    }
}
