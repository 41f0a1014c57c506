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

impl Slipway {
    /// One project: earlier versions kept the blueprint and its board under the default project
    /// `slipway`, beside the pipeline project (the repository). When exactly one pipeline project
    /// exists (and none is called `slipway`), what the default project holds moves to it: its
    /// board (cards, epics, sprints, history; the provisioning cards keep following plans and
    /// applies) when the project has none, and its blueprint when the project has none and
    /// nothing of it was applied. Idempotent; nothing is deleted before its copy is written.
    ///
    /// What cannot move stays under `slipway`, and the returned notice says what and how to
    /// handle it: applied infrastructure (its AWS names and tags carry the id `slipway`), a
    /// board or blueprint the project already has its own of, or several projects to choose
    /// from. None: nothing was left behind (or there is nothing to move to yet).
    ///
    /// `moving` false only looks (`doctor`): data moves when the data folder is opened, never
    /// under a page that is showing it.
    pub async fn adopt_default_project(&self, moving: bool) -> Result<Option<UserError>, UserError> {
        let projects = self.store.projects().await?;
        if projects.iter().any(|p| p.id == DEFAULT_PROJECT) {
            return Ok(None); // a pipeline project of that name: the data is its own
        }
        let resources = self.store.resources(DEFAULT_PROJECT).await?;
        let mut blueprint = self.store.blueprint(DEFAULT_PROJECT).await?;
        let mut board = self.store.board(DEFAULT_PROJECT).await?;
        if resources.is_empty() && blueprint.is_none() && board.is_none() {
            return Ok(None);
        }
        let target = match projects.as_slice() {
            [] => return Ok(None), // no project yet: `slipway` is still the default's
            [one] => one,
            many => {
                let ids = many.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ");
                return Ok(Some(UserError::new(
                    "Data of the old default project is kept apart",
                    format!(
                        "an earlier version kept {} under the project id {DEFAULT_PROJECT}, and with {} projects ({ids}) Slipway cannot tell whose it is",
                        Self::held(&resources, blueprint.is_some(), board.is_some()),
                        many.len()
                    ),
                    format!("It is still there: use it with --project {DEFAULT_PROJECT} (slipway plan, apply, destroy, board). Remove the projects it does not belong to, or destroy it with `slipway destroy --project {DEFAULT_PROJECT}` when it is not needed"),
                )));
            }
        };
        let to = target.id.clone();
        let mut kept: Vec<String> = vec![];

        if let Some(old) = board.take() {
            if self.store.board(&to).await?.is_none() {
                if moving {
                    let from = crate::provision::automation_prefix(DEFAULT_PROJECT);
                    let into = crate::provision::automation_prefix(&to);
                    let (cards, target_id) = (old.cards.len(), to.clone());
                    self.store
                        .update_board(&to, move |s| {
                            *s = old;
                            s.board.project = target_id;
                            let rekey = |k: &mut Option<String>| {
                                // `provision:slipway` and `provision:slipway:<group>`, not `provision:slipway2`.
                                let rest = k.as_deref().and_then(|k| k.strip_prefix(&from)).filter(|r| r.is_empty() || r.starts_with(':')).map(str::to_string);
                                if let Some(rest) = rest {
                                    *k = Some(format!("{into}{rest}"));
                                }
                            };
                            s.cards.iter_mut().for_each(|c| rekey(&mut c.automation_key));
                            s.epics.iter_mut().for_each(|e| rekey(&mut e.automation_key));
                            Ok(())
                        })
                        .await?;
                    self.store.delete_board(DEFAULT_PROJECT).await?;
                    tracing::info!(project = %to, cards, "moved the default project's board to the project");
                }
            } else {
                kept.push(format!("its board (project {to} has a board of its own)"));
            }
        }

        if !resources.is_empty() {
            kept.push(format!(
                "its infrastructure ({} resources applied; their AWS names and tags carry the id {DEFAULT_PROJECT}, so they cannot change project)",
                resources.len()
            ));
        } else if let Some(mut bp) = blueprint.take() {
            if self.store.blueprint(&to).await?.is_none() && moving {
                bp.project = to.clone();
                if bp.services.is_empty() {
                    let mut services: Vec<String> = target.services.iter().map(|s| s.name.clone()).collect();
                    services.sort();
                    services.dedup();
                    bp.services = services;
                }
                if bp.validate(None).is_err() {
                    // A service name ECR refuses: left for the Architecture page, as for a new blueprint.
                    bp.services = vec![];
                }
                self.store.save_blueprint(&bp).await?;
                self.store.delete_blueprint(DEFAULT_PROJECT).await?;
                tracing::info!(project = %to, "moved the default project's blueprint to the project");
            } else if self.store.blueprint(&to).await?.is_some() {
                kept.push(format!("its blueprint (project {to} has a blueprint of its own)"));
            }
        }

        if kept.is_empty() {
            return Ok(None);
        }
        Ok(Some(UserError::new(
            "Data of the old default project is kept apart",
            format!("an earlier version kept data under the project id {DEFAULT_PROJECT}; what could move went to project {to}, but not {}", kept.join(", nor ")),
            format!(
                "It is still there: use it with --project {DEFAULT_PROJECT} (`slipway plan --project {DEFAULT_PROJECT}`, `slipway board --project {DEFAULT_PROJECT}`). To have the infrastructure under {to}, destroy it with `slipway destroy --project {DEFAULT_PROJECT}` and apply {to}'s blueprint"
            ),
        )))
    }

    fn held(resources: &[slipway_core::provision::Observed], blueprint: bool, board: bool) -> String {
        let mut what = vec![];
        if !resources.is_empty() {
            what.push(format!("{} applied resources", resources.len()));
        }
        if blueprint {
            what.push("a blueprint".to_string());
        }
        if board {
            what.push("a board".to_string());
        }
        what.join(", ")
    }
}

/// The start of the board automation keys of a project's provisioning (`provision:<project>`),
/// where the epic's key ends and the group cards' go on with `:<group>`.
pub(crate) fn automation_prefix(project: &str) -> String {
    slipway_core::board::automation::provision_epic_key(project)
}
