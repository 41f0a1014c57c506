//! Provisioning as the front ends see it: the project's blueprint, plan, apply, destroy,
//! refresh and cancel, over the AWS driver and the core executor.

use slipway_aws::provision::AwsDriver;
use slipway_core::connections::{AwsSource, ConnectionKind};
use slipway_core::provision::executor::{ApplyReport, DestroyReport, Drift, ExecOptions, Executor};
use slipway_core::provision::plan::Plan;
use slipway_core::provision::Blueprint;
use slipway_core::UserError;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::Slipway;

/// The project used when none is named.
pub const DEFAULT_PROJECT: &str = "slipway";

impl Slipway {
    /// Whose infrastructure a call is about: the project named; else the only project; else,
    /// before any project exists, the default blueprint (`slipway`). A project owns its blueprint
    /// (named and tagged with the project's id), its environments, its runs and its board.
    pub async fn infra_project(&self, project: Option<&str>) -> Result<String, UserError> {
        if let Some(p) = project {
            return Ok(p.to_string());
        }
        let all = self.store.projects().await?;
        match all.len() {
            0 => Ok(DEFAULT_PROJECT.to_string()),
            1 => Ok(all[0].id.clone()),
            _ => Err(UserError::new(
                "Which project?",
                format!("there are {} projects: {}", all.len(), all.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")),
                "Name one with --project (or pick it on the page)",
            )),
        }
    }

    /// The project's blueprint: the saved one, or the defaults in the AWS connection's region.
    pub async fn blueprint(&self, project: Option<&str>) -> Result<Blueprint, UserError> {
        let project = self.infra_project(project).await?;
        let project = project.as_str();
        if let Some(b) = self.store.blueprint(project).await? {
            return Ok(b);
        }
        let (region, emulator) = match self.store.connection(ConnectionKind::Aws).await? {
            Some(c) => (
                c.config["region"]
                    .as_str()
                    .unwrap_or("us-east-1")
                    .to_string(),
                c.config["source"] == "sandbox"
                    || c.config["endpoint"].as_str().is_some_and(|e| !e.is_empty()),
            ),
            None => (self.settings().await?.default_region, false),
        };
        // The user's own address (127.0.0.1/32 in the sandbox); unset when it cannot be
        // detected, and the plan asks for it.
        let admin_cidr = slipway_aws::public_ip::default_admin_cidr(emulator)
            .await
            .unwrap_or_default();
        // One ECR repository per service of the pipeline project of the same name (the one
        // project owns its infrastructure and its runs); the services it does not build are
        // not pushed.
        let mut services: Vec<String> = match self.store.projects().await?.into_iter().find(|p| p.id == project) {
            Some(p) => p.services.iter().map(|s| s.name.clone()).collect(),
            None => vec![],
        };
        services.sort();
        services.dedup();
        let bp = Blueprint {
            project: project.into(),
            azs: vec![format!("{region}a"), format!("{region}b")],
            region,
            admin_cidr,
            services,
            ..Blueprint::default()
        };
        if bp.validate(None).is_err() {
            // A service name ECR refuses: the repositories are left for the user to name on
            // the Architecture page (saving says which name and why).
            return Ok(Blueprint { services: vec![], ..bp });
        }
        Ok(bp)
    }

    /// Validates (everything that needs no AWS call) and saves a blueprint.
    pub async fn save_blueprint(&self, bp: Blueprint) -> Result<Blueprint, UserError> {
        bp.validate(None)?;
        self.store.save_blueprint(&bp).await?;
        Ok(bp)
    }

    async fn executor(&self, bp: &Blueprint) -> Result<Executor, UserError> {
        let mut target = self.aws_target().await?;
        target.region = bp.region.clone();
        let local = matches!(target.source, AwsSource::Sandbox) || target.endpoint.is_some();
        let mut driver = AwsDriver::new(&target).await?;
        // Tests give each run its own emulator account; never used against AWS itself.
        if let (true, Ok(account)) = (local, std::env::var("SLIPWAY_MOTO_ACCOUNT_ID")) {
            driver = driver.with_moto_account(&account);
        }
        let opts = if local {
            // An emulator answers at once: poll and back off on a millisecond scale.
            ExecOptions {
                time_scale: 0.01,
                min_poll: Duration::from_millis(50),
                max_poll: Duration::from_millis(250),
                retry_base: Duration::from_millis(50),
                retry_cap: Duration::from_secs(1),
                max_attempts: 10,
                delete_timeout: Duration::from_secs(60),
                ..ExecOptions::default()
            }
        } else {
            ExecOptions::default()
        };
        Ok(Executor::new(
            Arc::new(driver),
            self.journal.clone(),
            self.secrets.clone(),
            opts,
        ))
    }

    pub(crate) fn begin(&self) -> Result<CancellationToken, UserError> {
        let mut guard = self.provisioning.lock().expect("provisioning lock");
        if guard.as_ref().is_some_and(|t| !t.is_cancelled()) {
            return Err(UserError::new(
                "Another apply or destroy is running",
                "one provisioning operation runs at a time",
                "Wait for it to finish, or cancel it first",
            ));
        }
        let t = CancellationToken::new();
        *guard = Some(t.clone());
        Ok(t)
    }

    pub(crate) fn end(&self) {
        *self.provisioning.lock().expect("provisioning lock") = None;
    }

    /// Cancels the apply or destroy under way; false when none is running.
    pub fn cancel_provisioning(&self) -> bool {
        match self
            .provisioning
            .lock()
            .expect("provisioning lock")
            .as_ref()
        {
            Some(t) => {
                t.cancel();
                true
            }
            None => false,
        }
    }

    /// The plan; the board gets the provisioning epic and a card per resource group.
    pub async fn plan(&self, project: Option<&str>) -> Result<Plan, UserError> {
        let bp = self.blueprint(project).await?;
        let plan = self.executor(&bp).await?.plan(&bp).await?;
        self.record_audit(
            slipway_core::audit::AuditDraft::new(slipway_core::audit::AuditAction::Plan, format!("blueprint {}", bp.project), "succeeded", plan.summary())
                .project(&bp.project)
                .via(slipway_core::connections::ConnectionKind::Aws),
        )
        .await;
        self.board_after_plan(&bp.project, &bp.resources(), &plan)
            .await;
        Ok(plan)
    }

    /// Applies the blueprint; the board's provisioning cards move as resources come up.
    pub async fn apply(&self, project: Option<&str>) -> Result<ApplyReport, UserError> {
        let cancel = self.begin()?;
        let r = self.apply_begun(project, cancel).await;
        self.end();
        r
    }

    /// Apply, once [`Self::begin`] made it the one provisioning operation of this process (the
    /// Launch page begins before it returns, so the page never offers Apply twice).
    pub(crate) async fn apply_begun(&self, project: Option<&str>, cancel: CancellationToken) -> Result<ApplyReport, UserError> {
        let bp = self.blueprint(project).await?;
        let exec = self.executor(&bp).await?;
        // Apply keeps generated secrets (the key pair, the database passwords): a keychain
        // that cannot keep them must stop it before the first resource, not at the key pair.
        self.check_secrets()?;
        let on_sandbox = matches!(self.aws_target().await?.source, AwsSource::Sandbox);
        // The sandbox runs EKS on a local cluster: it must answer before anything is created.
        let local = self.sandbox_preflight(&bp).await?;
        let r = self
            .with_board_tracking(&bp.project, &bp.resources(), exec.apply(&bp, cancel))
            .await;
        // The cluster becomes a kubeconfig context and the project's environments.
        let r = match r {
            Ok(report) => self.join_flow(&bp, local).await.map(|_| report).map_err(|e| {
                UserError::new(
                    "The infrastructure is up, but its environments could not be set up",
                    format!("{}: {}", e.what, e.why),
                    format!("{} Then apply again: nothing is created twice", e.fix),
                )
            }),
            Err(e) => Err(e),
        };
        // Whatever the outcome, what exists now lives there (a partial apply resumes).
        self.record_provisioned(&bp.project, on_sandbox, r.as_ref().err()).await;
        r
    }

    pub async fn destroy(&self, project: Option<&str>) -> Result<DestroyReport, UserError> {
        let bp = self.blueprint(project).await?;
        let exec = self.executor(&bp).await?;
        let cancel = self.begin()?;
        let r = exec.destroy(&bp.project, cancel).await;
        self.end();
        r
    }

    pub async fn refresh(&self, project: Option<&str>) -> Result<Vec<Drift>, UserError> {
        let bp = self.blueprint(project).await?;
        self.executor(&bp).await?.refresh(&bp).await
    }

    /// What the store recorded for the project (the last known state of each resource).
    pub async fn resources(
        &self,
        project: Option<&str>,
    ) -> Result<Vec<slipway_core::provision::Observed>, UserError> {
        let project = self.infra_project(project).await?;
        Ok(self.store.resources(&project).await?)
    }
}

impl Slipway {
    /// The ExecCredential JSON `kubectl` asks the `slipway eks-token` plugin for: a token for
    /// `cluster` signed with the connected AWS credentials (no `aws` binary needed).
    pub async fn eks_token(
        &self,
        cluster: &str,
        region: Option<&str>,
    ) -> Result<String, UserError> {
        let mut target = self.aws_target().await?;
        if let Some(r) = region {
            target.region = r.to_string();
        }
        let token = slipway_aws::eks_token::eks_token_for(&target, cluster).await?;
        Ok(slipway_aws::eks_token::exec_credential_json(&token))
    }

    /// Writes (or merges) a context for the project's EKS cluster into a kubeconfig, like
    /// `aws eks update-kubeconfig`: `path`, else the first KUBECONFIG entry, else ~/.kube/config.
    pub async fn write_kubeconfig(
        &self,
        project: Option<&str>,
        path: Option<std::path::PathBuf>,
    ) -> Result<std::path::PathBuf, UserError> {
        let bp = self.blueprint(project).await?;
        let eks = self
            .resources(Some(&bp.project))
            .await?
            .into_iter()
            .find(|o| o.logical_id.as_deref() == Some("eks"))
            .ok_or_else(|| {
                UserError::new(
                    "No EKS cluster",
                    format!("project {} has no cluster recorded", bp.project),
                    "Run `slipway apply` (or Apply on the Architecture page) first",
                )
            })?;
        let s = |k: &str| eks.attrs[k].as_str().unwrap_or_default().to_string();
        let path = path.unwrap_or_else(|| {
            std::env::var_os("KUBECONFIG")
                .and_then(|v| std::env::split_paths(&v).next())
                .unwrap_or_else(|| {
                    std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                        .join(".kube/config")
                })
        });
        let ctx = slipway_kube::kubeconfig::EksContext {
            context_name: format!("slipway-{}", bp.project),
            cluster_name: eks.physical_id.clone(),
            server: s("endpoint"),
            certificate_authority_data: s("certificateAuthority"),
            region: bp.region.clone(),
            // This very binary (the CLI, or the desktop app, which answers `eks-token` without a
            // window): nothing needs to be on PATH.
            user: slipway_kube::kubeconfig::EksUser::this_binary(&self.data_dir),
            set_current: true,
        };
        slipway_kube::kubeconfig::merge_eks_context(&path, &ctx)?;
        Ok(path)
    }
}
