//! User settings, kept in the store.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct Settings {
    /// The region used when a connection does not name one.
    pub default_region: String,
    /// Start the sandbox when the app starts and no AWS connection exists.
    pub sandbox_auto_start: bool,
    /// The sandbox emulator's port; None picks a free loopback port.
    pub sandbox_port: Option<u16>,
    /// Days a finished run's logs and checkout are kept (the run itself stays listed); 0 keeps
    /// them forever.
    pub run_log_retention_days: u32,
    /// Where secrets are kept: the OS keychain, or (chosen explicitly, for machines without
    /// one) a file only this user can read. `SLIPWAY_SECRET_STORE` overrides it. Takes effect
    /// the next time Slipway opens the data folder.
    pub secret_store: crate::secrets::SecretStoreKind,
    /// The kubeconfig context of the local cluster the sandbox runs EKS on (None: the first
    /// context kind, k3d, minikube, Docker Desktop or Rancher Desktop wrote).
    /// `SLIPWAY_SANDBOX_CONTEXT` overrides it.
    pub sandbox_context: Option<String>,
    /// The kubeconfig holding that context (None: KUBECONFIG, else ~/.kube/config).
    /// `SLIPWAY_SANDBOX_KUBECONFIG` overrides it.
    pub sandbox_kubeconfig: Option<String>,
    /// When the desktop app notifies the end of an apply, a run or a deploy.
    pub notifications: crate::notify::NotifyWhen,
}

/// The most days the run-log retention may be set to (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3650;

impl Default for Settings {
    fn default() -> Self {
        Self { default_region: "us-east-1".into(), sandbox_auto_start: true, sandbox_port: None, run_log_retention_days: 30, secret_store: Default::default(), sandbox_context: None, sandbox_kubeconfig: None, notifications: Default::default() }
    }
}

impl Settings {
    /// Checks a settings change before it is saved.
    pub fn validate(&self) -> Result<(), crate::UserError> {
        if !crate::providers::is_region_name(&self.default_region) {
            return Err(crate::UserError::new(
                "Settings not saved",
                format!("'{}' is not an AWS region name", self.default_region),
                "Use a region code such as us-east-1 or eu-west-2",
            ));
        }
        if self.run_log_retention_days > MAX_RETENTION_DAYS {
            return Err(crate::UserError::new(
                "Settings not saved",
                format!("{} days is more than {MAX_RETENTION_DAYS}", self.run_log_retention_days),
                "Keep run logs up to 3650 days, or 0 to keep them forever",
            ));
        }
        if self.sandbox_context.as_deref().is_some_and(|c| c.trim().is_empty() || c.chars().any(char::is_control)) {
            return Err(crate::UserError::new("Settings not saved", "the sandbox cluster's context is empty", "Pick a context from the list, or clear it to use the first local cluster found"));
        }
        if let Some(p) = self.sandbox_port {
            if p < 1024 {
                return Err(crate::UserError::new(
                    "Settings not saved",
                    format!("port {p} is a privileged port"),
                    "Pick a port from 1024 to 65535, or leave it empty to pick a free one",
                ));
            }
        }
        Ok(())
    }
}
