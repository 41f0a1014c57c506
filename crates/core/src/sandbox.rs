//! The sandbox: the local AWS emulator Slipway runs so the whole app works with no account.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum SandboxStatus {
    Stopped,
    Installing,
    Starting,
    Running,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SandboxState {
    pub status: SandboxStatus,
    /// http://127.0.0.1:PORT while running.
    pub endpoint: Option<String>,
    pub pid: Option<u32>,
    /// What went wrong, when `status` is `failed`.
    pub error: Option<crate::UserError>,
}

impl SandboxState {
    pub fn stopped() -> Self {
        Self { status: SandboxStatus::Stopped, endpoint: None, pid: None, error: None }
    }
}
