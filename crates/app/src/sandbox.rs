//! The sandbox as the front ends see it: start, stop and watch the local AWS emulator, and keep
//! the store and the emulator in agreement. The emulator outlives the app (a later Slipway adopts
//! it), but it keeps its state in memory: when a new emulator process starts (after a reboot, or a
//! stop) while the store records resources provisioned on an earlier one, those resources are
//! gone. Slipway says so and recreates them from the blueprint it recorded, so the store and the
//! sandbox never disagree without the user being told.

use serde_json::json;
use slipway_core::connections::ConnectionKind;
use slipway_core::events::Event;
use slipway_core::sandbox::{SandboxState, SandboxStatus};
use slipway_core::UserError;
use std::sync::Arc;

use crate::Slipway;

/// The store key recording where a project's resources were provisioned.
fn provisioned_key(project: &str) -> String {
    format!("provisioned:{project}")
}

impl Slipway {

    pub fn sandbox_status(&self) -> SandboxState {
        self.sandbox.status()
    }

    pub async fn sandbox_start(&self) -> Result<SandboxState, UserError> {
        let before = self.sandbox.status();
        if before.status == SandboxStatus::Running {
            return self.sandbox.start(&|_| {}).await;
        }
        self.emit(Event::SandboxChanged {
            state: SandboxState {
                status: SandboxStatus::Starting,
                ..SandboxState::stopped()
            },
        })
        .await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let report = move |m: String| {
            let _ = tx.send(m);
        };
        let start = self.sandbox.start(&report);
        tokio::pin!(start);
        let result = loop {
            tokio::select! {
                r = &mut start => break r,
                Some(m) = rx.recv() => self.progress("sandbox", m).await,
            }
        };
        while let Ok(m) = rx.try_recv() {
            self.progress("sandbox", m).await;
        }
        match result {
            Ok(st) => {
                self.emit(Event::SandboxChanged { state: st.clone() }).await;
                self.reconcile_sandbox(&st).await;
                Ok(st)
            }
            Err(e) => {
                let st = SandboxState {
                    status: SandboxStatus::Failed,
                    endpoint: None,
                    pid: None,
                    error: Some(e.clone()),
                    instance: None,
                };
                self.emit(Event::SandboxChanged { state: st }).await;
                Err(e)
            }
        }
    }

    pub async fn sandbox_stop(&self) -> Result<SandboxState, UserError> {
        let st = self.sandbox.stop().await?;
        self.emit(Event::SandboxChanged { state: st.clone() }).await;
        Ok(st)
    }

    /// Watches the sandbox and reports when it stops without being asked to (the desktop app
    /// runs this for as long as it lives).
    pub async fn watch_sandbox(self: Arc<Self>) {
        loop {
            if self.sandbox.status().status == SandboxStatus::Running {
                self.sandbox.wait_stopped().await;
                let st = SandboxState {
                    status: SandboxStatus::Failed,
                    endpoint: None,
                    pid: None,
                    instance: None,
                    error: Some(UserError::new(
                        "The sandbox stopped",
                        "the local AWS emulator exited",
                        format!(
                            "Start it again on the Connect page; its log is {}",
                            self.data_dir.join("sandbox/moto.log").display()
                        ),
                    )),
                };
                self.emit(Event::SandboxChanged { state: st }).await;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }

    /// What the desktop app does at start: [`Self::mark_interrupted_runs`], then
    /// [`Self::start_services`] (the desktop waits for its first frame between the two).
    pub async fn startup(&self) -> Result<(), UserError> {
        self.mark_interrupted_runs().await?;
        self.start_services().await
    }

    /// The runs an earlier exit left unfinished, marked failed and logged.
    pub async fn mark_interrupted_runs(&self) -> Result<(), UserError> {
        let orphans = self.recover_runs().await?;
        if !orphans.is_empty() {
            tracing::info!(runs = ?orphans, "runs interrupted by an earlier exit marked failed");
        }
        Ok(())
    }

    /// The rest of start-up: the containers of runs the engine lost removed, old run logs pruned,
    /// and the sandbox started when it is the AWS connection (or no AWS connection exists) and
    /// auto start is on.
    pub async fn start_services(&self) -> Result<(), UserError> {
        let settings = self.settings().await?;
        let aws = self.store.connection(ConnectionKind::Aws).await?;
        let uses_sandbox = match &aws {
            None => true,
            Some(s) => s.config["source"].as_str() == Some("sandbox"),
        };
        let cleaned = self.sweep_pending_cleanups().await;
        if !cleaned.is_empty() {
            tracing::info!(runs = ?cleaned, "containers of runs the engine lost were removed");
        }
        if let Err(e) = self.prune_run_logs().await {
            tracing::warn!(what = %e.what, why = %e.why, "run-log retention");
        }
        if settings.sandbox_auto_start && uses_sandbox {
            self.sandbox_start().await?;
        }
        Ok(())
    }

    /// Records where a project's resources were just provisioned (apply calls it): on the
    /// sandbox, the emulator instance that holds them.
    pub(crate) async fn record_provisioned(&self, project: &str, on_sandbox: bool, error: Option<&UserError>) {
        let v = if on_sandbox {
            json!({ "source": "sandbox", "instance": self.sandbox.status().instance, "error": error })
        } else {
            json!({ "source": "aws", "error": error })
        };
        if let Err(e) = self.store.save_integration(&provisioned_key(project), Some(&v)).await {
            tracing::warn!(project, error = %e, "could not record where the project was provisioned");
        }
    }

    /// Projects whose recorded resources lived on another emulator than `st`'s: they are gone.
    /// Each one is told to the user, its stale records are dropped, and the blueprint is applied
    /// again (when AWS is still the sandbox).
    pub(crate) async fn reconcile_sandbox(&self, st: &SandboxState) {
        let Some(instance) = st.instance.clone() else { return };
        let Ok(projects) = self.store.projects_with_resources().await else { return };
        let uses_sandbox = matches!(
            self.store.connection(ConnectionKind::Aws).await,
            Ok(Some(c)) if c.config["source"].as_str() == Some("sandbox")
        );
        for project in projects {
            let rec = self.store.integration(&provisioned_key(&project)).await.ok().flatten();
            let on_sandbox = rec.as_ref().is_some_and(|r| r["source"] == "sandbox");
            let same = rec.as_ref().and_then(|r| r["instance"].as_str()) == Some(instance.as_str());
            if !on_sandbox || same {
                continue;
            }
            let gone = self.store.resources(&project).await.map(|r| r.len()).unwrap_or(0);
            self.progress(
                "sandbox",
                format!("The sandbox restarted empty: the {gone} resources of {project} it held are gone. Recreating them from the blueprint"),
            )
            .await;
            if let Err(e) = self.store.delete_resources(&project).await {
                tracing::warn!(project, error = %e, "could not drop the stale resource records");
                continue;
            }
            if !uses_sandbox {
                let _ = self.store.save_integration(&provisioned_key(&project), None).await;
                continue;
            }
            // Boxed: apply can start the sandbox, which reconciles (a cycle the compiler must size).
            match Box::pin(self.apply(Some(&project))).await {
                Ok(r) => self.progress("sandbox", format!("{project} recreated in the sandbox: {}", r.summary)).await,
                Err(e) => {
                    self.emit(Event::SandboxChanged {
                        state: SandboxState {
                            error: Some(UserError::new(
                                format!("The sandbox lost {project}'s resources and could not recreate them"),
                                format!("{}: {}", e.what, e.why),
                                format!("{} Then apply again on the Architecture page (or `slipway apply --project {project}`)", e.fix),
                            )),
                            ..st.clone()
                        },
                    })
                    .await
                }
            }
        }
    }
}
