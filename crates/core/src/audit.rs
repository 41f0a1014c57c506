//! The audit trail: one chronological list of who did what, when and why. Each entry names the
//! OS user of the process that did it and the identity of the connection it went through (the
//! AWS account and ARN of an apply, the Kubernetes context of a deploy...), and whether a person
//! or Slipway's automation did it.
//!
//! Entries come from what the engine already announces: [`from_event`] turns an applied or
//! destroyed blueprint, a run queued or ended, a deploy revision begun or ended, and a board
//! change into entries (the `Journal` records them as it records the event); connect,
//! disconnect and plan are recorded by the service layer where they happen. The store keeps
//! them in the `audit` table, append-only: SQLite triggers refuse every UPDATE and DELETE, and
//! the event log's retention never touches it. Nothing in an entry is a secret: events carry
//! none, identities carry none, and an entry is made of their words only.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::board::Actor;
use crate::connections::ConnectionKind;
use crate::deploy::{DeployOperation, RevisionStatus};
use crate::events::Event;
use crate::pipeline::run::{Status, Trigger};
use crate::provision::executor::Operation;
use crate::UserError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum AuditAction {
    Connect,
    Disconnect,
    Plan,
    Apply,
    Destroy,
    Run,
    Deploy,
    Redeploy,
    Rollback,
    BoardMove,
}

impl AuditAction {
    pub const ALL: [AuditAction; 10] = [
        Self::Connect,
        Self::Disconnect,
        Self::Plan,
        Self::Apply,
        Self::Destroy,
        Self::Run,
        Self::Deploy,
        Self::Redeploy,
        Self::Rollback,
        Self::BoardMove,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Disconnect => "disconnect",
            Self::Plan => "plan",
            Self::Apply => "apply",
            Self::Destroy => "destroy",
            Self::Run => "run",
            Self::Deploy => "deploy",
            Self::Redeploy => "redeploy",
            Self::Rollback => "rollback",
            Self::BoardMove => "boardMove",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase().replace(['-', '_', ' '], "");
        Self::ALL.into_iter().find(|a| a.as_str().to_ascii_lowercase() == s)
    }
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AuditEntry {
    /// Its place in the trail (from 1, in the order things were recorded).
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub at: i64,
    /// The OS user of the process that recorded it.
    pub os_user: String,
    /// The identity of the connection it went through, in words (None: no connection involved,
    /// or none connected).
    pub identity: Option<String>,
    /// A person, or Slipway's automation (a run started by a commit, a board card moved by the
    /// work, an automatic rollback).
    pub by: Actor,
    pub action: AuditAction,
    pub project: Option<String>,
    pub environment: Option<String>,
    /// What it acted on: `aws`, `run shop-4`, `revision 3`, `SLP-12`.
    pub subject: String,
    /// `started`, `queued`, `succeeded`, `failed`, `cancelled`, `moved`...
    pub outcome: String,
    /// Counts and facts: "3 to create, 0 to update, ...", the images, the columns.
    pub detail: String,
    /// Why, when someone said so (a rollback's reason, an automation's note).
    pub reason: Option<String>,
}

/// An entry before the store gives it its id and the process its OS user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    pub at: i64,
    pub by: Actor,
    pub action: AuditAction,
    pub project: Option<String>,
    pub environment: Option<String>,
    pub subject: String,
    pub outcome: String,
    pub detail: String,
    pub reason: Option<String>,
    /// The identity, when the caller knows it (a disconnect: the one being forgotten).
    pub identity: Option<String>,
    /// Else the store fills it from this connection's saved identity.
    pub identity_of: Option<ConnectionKind>,
    /// Recorded once: a second draft with the same key is ignored (an event announced twice).
    pub key: Option<String>,
}

impl AuditDraft {
    pub fn new(action: AuditAction, subject: impl Into<String>, outcome: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            at: crate::now_ms(),
            by: Actor::User,
            action,
            project: None,
            environment: None,
            subject: subject.into(),
            outcome: outcome.into(),
            detail: detail.into(),
            reason: None,
            identity: None,
            identity_of: None,
            key: None,
        }
    }

    pub fn project(mut self, p: &str) -> Self {
        self.project = Some(p.to_string());
        self
    }

    pub fn via(mut self, kind: ConnectionKind) -> Self {
        self.identity_of = Some(kind);
        self
    }

    pub fn into_entry(self, id: i64, os_user: String, identity: Option<String>) -> AuditEntry {
        AuditEntry {
            id,
            at: self.at,
            os_user,
            identity: self.identity.or(identity),
            by: self.by,
            action: self.action,
            project: self.project,
            environment: self.environment,
            subject: self.subject,
            outcome: self.outcome,
            detail: self.detail,
            reason: self.reason,
        }
    }
}

/// The OS user of this process: `USER`, else `LOGNAME`, else `USERNAME`, else `uid N`.
pub fn os_user() -> String {
    static USER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    USER.get_or_init(|| {
        ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
            .or_else(|| {
                let status = std::fs::read_to_string("/proc/self/status").ok()?;
                let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.to_string();
                Some(format!("uid {uid}"))
            })
            .unwrap_or_else(|| "unknown".into())
    })
    .clone()
}

/// The entry an event makes, if any. Board changes are not here: their moves are read from the
/// board's history by the store (see `Store::append_board_moves`).
pub fn from_event(event: &Event) -> Option<AuditDraft> {
    match event {
        Event::ProvisionFinished { op, project, ok, summary, .. } => {
            let action = match op {
                Operation::Apply => AuditAction::Apply,
                Operation::Destroy => AuditAction::Destroy,
                _ => return None,
            };
            Some(AuditDraft::new(action, format!("blueprint {project}"), if *ok { "succeeded" } else { "failed" }, summary.clone()).project(project).via(ConnectionKind::Aws))
        }
        Event::RunUpdated { run } => {
            let outcome = match run.status {
                Status::Queued => "queued",
                s if s.is_final() => s.as_str(),
                _ => return None,
            };
            let mut detail = format!("{} {}", run.git_ref, match &run.trigger {
                Trigger::Manual => "started by hand".to_string(),
                Trigger::Rerun { of } => format!("again from {of}"),
                Trigger::Commit { sha } => format!("started by commit {}", short(sha)),
            });
            if let Some(c) = &run.commit {
                detail.push_str(&format!(", at commit {}", short(c)));
                if let Some(m) = run.commit_message.as_deref().and_then(|m| m.lines().next()) {
                    detail.push_str(&format!(" \"{m}\""));
                }
            }
            if run.status.is_final() {
                let stages: Vec<String> = run.stages.iter().map(|s| format!("{} {}", s.name.as_str(), s.status.as_str())).collect();
                detail.push_str(&format!("; {}", stages.join(", ")));
                if let (Some(a), Some(b)) = (run.started_at, run.finished_at) {
                    detail.push_str(&format!("; {}", crate::insights::human_duration((b - a).max(0))));
                }
            }
            let mut d = AuditDraft::new(AuditAction::Run, format!("run {}", run.id), outcome, detail).project(&run.project);
            d.at = if run.status.is_final() { run.finished_at.unwrap_or(run.created_at) } else { run.created_at };
            d.by = if matches!(run.trigger, Trigger::Commit { .. }) { Actor::Automation } else { Actor::User };
            d.reason = run.error.as_ref().map(|e| format!("{}: {}", e.what, e.why));
            d.key = Some(format!("run:{}:{}", run.id, outcome));
            if matches!(run.trigger, Trigger::Commit { .. }) {
                d.identity_of = Some(ConnectionKind::Github);
            }
            Some(d)
        }
        Event::RevisionUpdated { revision: r } => {
            let action = match r.operation {
                DeployOperation::Deploy => AuditAction::Deploy,
                DeployOperation::Redeploy => AuditAction::Redeploy,
                DeployOperation::Rollback => AuditAction::Rollback,
            };
            let outcome = match r.status {
                RevisionStatus::InProgress => "started",
                s => s.as_str(),
            };
            let images: Vec<String> = r.images.iter().map(|i| format!("{}={}", i.workload, i.image)).collect();
            let mut detail = match (r.operation, r.rollback_to) {
                (DeployOperation::Rollback, Some(to)) => format!("back to revision {to}"),
                _ => String::new(),
            };
            let mut add = |s: String| {
                if !detail.is_empty() {
                    detail.push_str("; ");
                }
                detail.push_str(&s);
            };
            if let Some(c) = &r.commit {
                add(format!("commit {}", short(c)));
            }
            if !images.is_empty() {
                add(images.join(", "));
            }
            if let Some(e) = &r.error {
                add(format!("{}: {}", e.what, e.why));
            }
            if let Some(n) = &r.note {
                add(n.clone());
            }
            let mut d = AuditDraft::new(action, format!("revision {}", r.number), outcome, detail).project(&r.project);
            d.environment = Some(r.environment.clone());
            d.at = if r.status == RevisionStatus::InProgress { r.started_at } else { r.finished_at.unwrap_or(r.started_at) };
            d.reason = Some(r.reason.clone()).filter(|s| !s.is_empty());
            d.by = if r.reason.starts_with("automatic ") { Actor::Automation } else { Actor::User };
            d.key = Some(format!("revision:{}:{}:{}:{outcome}", r.project, r.environment, r.number));
            // Where it was applied: the Kubernetes context and namespace, else the local engine.
            d.identity = match (&r.context, &r.namespace) {
                (Some(ctx), Some(ns)) => Some(format!("kubernetes context {ctx}, namespace {ns}")),
                (Some(ctx), None) => Some(format!("kubernetes context {ctx}")),
                (None, Some(ns)) => Some(format!("kubernetes namespace {ns}")),
                (None, None) => None,
            };
            if d.identity.is_none() {
                d.identity_of = Some(ConnectionKind::Docker);
            }
            Some(d)
        }
        _ => None,
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// What the audit list shows: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct AuditFilter {
    pub project: Option<String>,
    pub environment: Option<String>,
    pub action: Option<AuditAction>,
    pub by: Option<Actor>,
    /// Words found (case-insensitive) in the user, identity, subject, outcome, detail or reason.
    pub text: Option<String>,
    #[ts(type = "number | null")]
    pub since: Option<i64>,
    #[ts(type = "number | null")]
    pub until: Option<i64>,
    /// The newest this many (after filtering); None: 1000.
    pub limit: Option<u32>,
}

impl AuditFilter {
    pub fn validate(&self) -> Result<(), UserError> {
        if let (Some(a), Some(b)) = (self.since, self.until) {
            if a > b {
                return Err(UserError::new("The audit filter is not valid", "its start is after its end", "Give a start before the end, or leave one out"));
            }
        }
        if self.limit == Some(0) {
            return Err(UserError::new("The audit filter is not valid", "a limit of 0 shows nothing", "Give a limit of 1 or more, or leave it out for the newest 1000"));
        }
        Ok(())
    }

    pub fn matches(&self, e: &AuditEntry) -> bool {
        let eq = |want: &Option<String>, have: &Option<String>| want.as_ref().is_none_or(|w| w.trim().is_empty() || have.as_deref() == Some(w.as_str()));
        eq(&self.project, &e.project)
            && eq(&self.environment, &e.environment)
            && self.action.is_none_or(|a| a == e.action)
            && self.by.is_none_or(|b| b == e.by)
            && self.since.is_none_or(|s| e.at >= s)
            && self.until.is_none_or(|u| e.at <= u)
            && self.text.as_deref().map(str::trim).filter(|t| !t.is_empty()).is_none_or(|t| {
                let t = t.to_lowercase();
                [Some(&e.os_user), e.identity.as_ref(), Some(&e.subject), Some(&e.outcome), Some(&e.detail), e.reason.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|f| f.to_lowercase().contains(&t))
            })
    }

    /// The entries that match, oldest first, at most `limit` (the newest).
    pub fn apply(&self, entries: Vec<AuditEntry>) -> Vec<AuditEntry> {
        let mut v: Vec<AuditEntry> = entries.into_iter().filter(|e| self.matches(e)).collect();
        let limit = self.limit.unwrap_or(1000) as usize;
        if v.len() > limit {
            v.drain(..v.len() - limit);
        }
        v
    }
}

pub const CSV_HEADER: [&str; 12] = ["id", "time (UTC)", "OS user", "identity", "by", "action", "project", "environment", "subject", "outcome", "detail", "reason"];

/// The entries as CSV (one header row), with the board export's guard against cells a
/// spreadsheet would run as formulas.
pub fn to_csv(entries: &[AuditEntry]) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(vec![]);
    let guard = |s: &str| crate::board::exchange::guard(s).into_owned();
    w.write_record(CSV_HEADER).expect("writing to memory");
    for e in entries {
        let row = [
            e.id.to_string(),
            crate::board::dates::format_timestamp_secs(e.at),
            e.os_user.clone(),
            e.identity.clone().unwrap_or_default(),
            e.by.as_str().to_string(),
            e.action.as_str().to_string(),
            e.project.clone().unwrap_or_default(),
            e.environment.clone().unwrap_or_default(),
            e.subject.clone(),
            e.outcome.clone(),
            e.detail.clone(),
            e.reason.clone().unwrap_or_default(),
        ];
        w.write_record(row.iter().map(|c| guard(c))).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("flushing to memory")).expect("CSV of UTF-8 strings")
}

/// The entries as pretty JSON (an array of [`AuditEntry`]).
pub fn to_json(entries: &[AuditEntry]) -> String {
    serde_json::to_string_pretty(entries).expect("entries serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::{DeployedImage, Revision};
    use crate::pipeline::run::Run;

    fn entry(id: i64, action: AuditAction, detail: &str) -> AuditEntry {
        AuditDraft::new(action, "s", "succeeded", detail).project("shop").into_entry(id, "ann".into(), None)
    }

    #[test]
    fn runs_make_an_entry_when_queued_and_when_ended_and_none_in_between() {
        let mut run = Run::new("shop", 4, Trigger::Commit { sha: "0123456789abcdef".into() }, "main", None);
        let d = from_event(&Event::RunUpdated { run: run.clone() }).unwrap();
        assert_eq!((d.action, d.outcome.as_str(), d.by, d.key.as_deref()), (AuditAction::Run, "queued", Actor::Automation, Some("run:shop-4:queued")));
        assert_eq!(d.detail, "main started by commit 0123456789ab");
        assert_eq!(d.identity_of, Some(ConnectionKind::Github));
        run.status = Status::Running;
        assert!(from_event(&Event::RunUpdated { run: run.clone() }).is_none());
        run.status = Status::Failed;
        run.commit = Some("0123456789abcdef".into());
        run.commit_message = Some("Fix the cart\n\nlong text".into());
        run.started_at = Some(1_000);
        run.finished_at = Some(126_000);
        run.error = Some(UserError::new("Test failed", "2 of 10 cases failed", "Fix them"));
        let d = from_event(&Event::RunUpdated { run }).unwrap();
        assert_eq!(d.outcome, "failed");
        assert_eq!(d.at, 126_000);
        assert!(d.detail.starts_with("main started by commit 0123456789ab, at commit 0123456789ab \"Fix the cart\"; checkout queued"), "{}", d.detail);
        assert!(d.detail.ends_with("; 2 min"), "{}", d.detail);
        assert_eq!(d.reason.as_deref(), Some("Test failed: 2 of 10 cases failed"));
    }

    #[test]
    fn revisions_make_entries_with_their_reason_and_images() {
        let r = Revision {
            project: "shop".into(),
            environment: "live".into(),
            number: 5,
            operation: DeployOperation::Rollback,
            run: Some("shop-3".into()),
            commit: Some("abc".into()),
            rollback_to: Some(2),
            reason: "rollback to revision 2: checkout returns 500".into(),
            images: vec![DeployedImage { workload: "web".into(), container: "web".into(), image: "reg/web:3".into() }],
            context: Some("kind-dev".into()),
            namespace: Some("shop".into()),
            status: RevisionStatus::Succeeded,
            started_at: 10,
            finished_at: Some(20),
            error: None,
            url: None,
            note: None,
        };
        let d = from_event(&Event::RevisionUpdated { revision: r.clone() }).unwrap();
        assert_eq!((d.action, d.subject.as_str(), d.outcome.as_str(), d.at, d.by), (AuditAction::Rollback, "revision 5", "succeeded", 20, Actor::User));
        assert_eq!(d.detail, "back to revision 2; commit abc; web=reg/web:3");
        assert_eq!(d.reason.as_deref(), Some("rollback to revision 2: checkout returns 500"));
        assert_eq!(d.identity.as_deref(), Some("kubernetes context kind-dev, namespace shop"));
        assert_eq!(d.key.as_deref(), Some("revision:shop:live:5:succeeded"));
        let auto = Revision { reason: "automatic rollback to revision 1: revision 2 failed".into(), status: RevisionStatus::InProgress, context: None, namespace: None, ..r };
        let d = from_event(&Event::RevisionUpdated { revision: auto }).unwrap();
        assert_eq!((d.by, d.outcome.as_str(), d.at, d.identity_of), (Actor::Automation, "started", 10, Some(ConnectionKind::Docker)));
    }

    #[test]
    fn filters_select_and_limit_the_newest() {
        let mut v = vec![entry(1, AuditAction::Connect, "aws"), entry(2, AuditAction::Deploy, "web=reg/web:1"), entry(3, AuditAction::Rollback, "back to revision 1")];
        v[2].reason = Some("Checkout is BROKEN".into());
        v[1].environment = Some("live".into());
        let ids = |f: &AuditFilter| f.apply(v.clone()).iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(ids(&AuditFilter::default()), [1, 2, 3]);
        assert_eq!(ids(&AuditFilter { action: Some(AuditAction::Deploy), ..Default::default() }), [2]);
        assert_eq!(ids(&AuditFilter { text: Some("broken".into()), ..Default::default() }), [3]);
        assert_eq!(ids(&AuditFilter { environment: Some("live".into()), ..Default::default() }), [2]);
        assert_eq!(ids(&AuditFilter { project: Some("other".into()), ..Default::default() }), Vec::<i64>::new());
        assert_eq!(ids(&AuditFilter { limit: Some(2), ..Default::default() }), [2, 3]);
        assert!(AuditFilter { limit: Some(0), ..Default::default() }.validate().is_err());
        assert!(AuditFilter { since: Some(5), until: Some(4), ..Default::default() }.validate().unwrap_err().why.contains("start is after"));
        assert_eq!(AuditAction::parse("board-move"), Some(AuditAction::BoardMove));
        assert_eq!(AuditAction::parse("Rollback"), Some(AuditAction::Rollback));
        assert_eq!(AuditAction::parse("reboot"), None);
    }

    #[test]
    fn csv_has_a_header_and_guards_formulas() {
        let mut e = entry(7, AuditAction::Rollback, "=HYPERLINK(\"http://x\")");
        e.at = 1_709_769_600_000;
        e.reason = Some("@SUM(A1)".into());
        let csv = to_csv(&[e]);
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), CSV_HEADER);
        let row = r.records().next().unwrap().unwrap();
        assert_eq!(&row[0], "7");
        assert_eq!(&row[1], "2024-03-07 00:00:00");
        assert_eq!(&row[5], "rollback");
        assert_eq!(&row[10], "'=HYPERLINK(\"http://x\")");
        assert_eq!(&row[11], "'@SUM(A1)");
        let back: Vec<AuditEntry> = serde_json::from_str(&to_json(&[entry(1, AuditAction::Plan, "x")])).unwrap();
        assert_eq!(back[0].action, AuditAction::Plan);
    }
}
