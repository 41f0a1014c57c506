//! Other CI systems beside Slipway's own runs (issue #7): a GitHub repository (its branches,
//! commits, commit statuses, GitHub Actions workflow runs, push webhooks) and a Jenkins server
//! (jobs, builds, a pipeline's stage view, console logs). These are the shapes both front ends
//! see; the HTTP lives in slipway-git-host (GitHub) and slipway-ci (Jenkins). None of them
//! carries a secret.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::secrets::Secret;

/// GitHub's rate limit as its `x-ratelimit-*` headers last said it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RateLimit {
    pub limit: u32,
    pub remaining: u32,
    /// When the window resets, Unix seconds.
    #[ts(type = "number")]
    pub reset: i64,
    pub used: u32,
    /// `core`, `search`, `graphql`...
    pub resource: String,
}

/// One page of a list GitHub pages through with `Link` headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The page after this one (from `rel="next"`), None on the last page.
    pub next_page: Option<u32>,
    /// The last page number (from `rel="last"`), when GitHub says it.
    pub last_page: Option<u32>,
    pub rate: Option<RateLimit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct GhRepo {
    /// `owner/name`.
    pub full_name: String,
    pub owner: String,
    pub name: String,
    pub private: bool,
    pub default_branch: String,
    pub html_url: String,
    pub clone_url: String,
    pub description: Option<String>,
    pub pushed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct GhBranch {
    pub name: String,
    pub sha: String,
    pub protected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct GhCommit {
    pub sha: String,
    /// The first line of the message.
    pub message: String,
    pub author: String,
    pub date: Option<String>,
    pub html_url: String,
}

/// A commit status as GitHub shows it beside a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum CommitState {
    Pending,
    Success,
    Failure,
    Error,
}

impl CommitState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Error => "error",
        }
    }

    /// The state a Slipway run reports: running or queued is pending, succeeded is success,
    /// failed is failure, cancelled is error.
    pub fn of_run(status: crate::pipeline::run::Status) -> Self {
        use crate::pipeline::run::Status;
        match status {
            Status::Queued | Status::Running => Self::Pending,
            Status::Succeeded | Status::Skipped => Self::Success,
            Status::Failed => Self::Failure,
            Status::Cancelled => Self::Error,
        }
    }
}

/// A GitHub Actions workflow run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct WorkflowRun {
    #[ts(type = "number")]
    pub id: u64,
    pub name: String,
    pub run_number: u32,
    pub event: String,
    pub head_branch: Option<String>,
    pub head_sha: String,
    /// queued, in_progress, completed...
    pub status: String,
    /// success, failure, cancelled... once completed.
    pub conclusion: Option<String>,
    pub html_url: String,
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct WorkflowStep {
    pub number: u32,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct WorkflowJob {
    #[ts(type = "number")]
    pub id: u64,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub html_url: String,
    pub steps: Vec<WorkflowStep>,
}

/// A push GitHub announced through the webhook, after its signature was verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PushEvent {
    pub delivery: String,
    /// `owner/name`.
    pub repo: String,
    /// The branch (refs/heads/ stripped); None for a tag push.
    pub branch: Option<String>,
    /// The new head commit; all zeroes when the branch was deleted.
    pub after: String,
    pub pusher: Option<String>,
}

/// What `slipway jenkins connect` and the form send. The token goes only to the keychain.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct JenkinsConnectInput {
    pub url: String,
    pub user: String,
    pub token: Secret,
}

/// Who Jenkins says we are and which Jenkins it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct JenkinsServer {
    pub url: String,
    pub user: String,
    /// The `X-Jenkins` header.
    pub version: Option<String>,
    pub jobs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct JenkinsJob {
    pub name: String,
    pub url: String,
    /// Jenkins' ball colour: blue, red, notbuilt, blue_anime (building)...
    pub color: Option<String>,
    pub last_build: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct JenkinsBuild {
    pub number: u32,
    /// SUCCESS, FAILURE, ABORTED, UNSTABLE; None while building.
    pub result: Option<String>,
    pub building: bool,
    #[ts(type = "number")]
    pub timestamp: i64,
    #[ts(type = "number")]
    pub duration_ms: i64,
    pub url: String,
}

/// One stage of a Pipeline run as the stage view shows it (wfapi).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct JenkinsStage {
    pub id: String,
    pub name: String,
    /// SUCCESS, FAILED, IN_PROGRESS, NOT_EXECUTED, PAUSED_PENDING_INPUT...
    pub status: String,
    #[ts(type = "number")]
    pub start_time_ms: i64,
    #[ts(type = "number")]
    pub duration_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct JenkinsStageView {
    pub id: String,
    pub name: String,
    pub status: String,
    pub stages: Vec<JenkinsStage>,
}

/// A piece of a console log read from an offset (`progressiveText`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConsoleChunk {
    pub text: String,
    /// Where the next read starts (`X-Text-Size`).
    #[ts(type = "number")]
    pub next_offset: u64,
    /// True while the build is still writing (`X-More-Data: true`).
    pub more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::run::Status;

    #[test]
    fn run_status_maps_to_commit_state() {
        assert_eq!(CommitState::of_run(Status::Running), CommitState::Pending);
        assert_eq!(CommitState::of_run(Status::Succeeded), CommitState::Success);
        assert_eq!(CommitState::of_run(Status::Failed), CommitState::Failure);
        assert_eq!(CommitState::of_run(Status::Cancelled), CommitState::Error);
        assert_eq!(
            serde_json::to_string(&CommitState::Failure).unwrap(),
            "\"failure\""
        );
    }

    #[test]
    fn jenkins_input_never_prints_the_token() {
        let i = JenkinsConnectInput {
            url: "http://j".into(),
            user: "u".into(),
            token: Secret::new("11abcdef"),
        };
        assert!(!format!("{i:?}").contains("11abcdef"));
        assert!(!serde_json::to_string(&i).unwrap().contains("11abcdef"));
    }
}
