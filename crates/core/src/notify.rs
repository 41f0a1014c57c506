//! Desktop notifications: the events that end long work (an apply or destroy, a pipeline run, a
//! deploy, redeploy or rollback) and the words a notification shows. The desktop shell shows
//! them while its window is in the background (or always, or never: [`NotifyWhen`]); what is
//! said, and that each ending is said once, is decided here.

use crate::deploy::{Revision, RevisionStatus};
use crate::events::Event;
use crate::pipeline::run::{Run, Status};
use crate::provision::executor::Operation;
use crate::UserError;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use ts_rs::TS;

/// When the desktop app notifies the end of long work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum NotifyWhen {
    /// While the window is not focused (the default).
    #[default]
    Background,
    /// Every time, focused or not.
    Always,
    Never,
}

impl NotifyWhen {
    /// Whether a notice is shown, given whether a window of the app has the focus.
    pub fn shows(self, focused: bool) -> bool {
        match self {
            NotifyWhen::Background => !focused,
            NotifyWhen::Always => true,
            NotifyWhen::Never => false,
        }
    }
}

/// One desktop notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
    /// The work failed (shown with a higher urgency).
    pub failed: bool,
}

/// Turns events into notices, each ending once: a run's or a revision's later updates (its
/// artifacts, a board move) say nothing more.
#[derive(Debug, Default)]
pub struct Notifier {
    said: HashSet<String>,
}

fn error_text(e: &Option<UserError>) -> String {
    match e {
        Some(e) => format!("{}: {}", e.what, e.why),
        None => String::new(),
    }
}

impl Notifier {
    /// The notice an event deserves, if it ends long work not yet notified.
    pub fn notice(&mut self, event: &Event) -> Option<Notice> {
        let (key, notice) = match event {
            Event::ProvisionFinished { op, project, ok, summary, error, .. } => {
                let verb = match op {
                    Operation::Apply => "Apply",
                    Operation::Destroy => "Destroy",
                    // Plan and refresh take seconds: nothing to tell.
                    Operation::Plan | Operation::Refresh => return None,
                };
                let n = if *ok {
                    Notice { title: format!("{verb} of {project} finished"), body: summary.clone(), failed: false }
                } else {
                    Notice { title: format!("{verb} of {project} failed"), body: error_text(error), failed: true }
                };
                // Each apply ends once; a later one is new work.
                return Some(n);
            }
            Event::RunUpdated { run } => (format!("run/{}", run.id), run_notice(run)?),
            Event::RevisionUpdated { revision } => (format!("rev/{}/{}/{}", revision.project, revision.environment, revision.number), revision_notice(revision)?),
            _ => return None,
        };
        self.said.insert(key).then_some(notice)
    }
}

fn run_notice(run: &Run) -> Option<Notice> {
    let name = format!("Run {} of {}", run.number, run.project);
    Some(match run.status {
        Status::Succeeded => Notice { title: format!("{name} passed"), body: format!("{} at {}", run.git_ref, run.commit.as_deref().map(|c| &c[..c.len().min(8)]).unwrap_or("?")), failed: false },
        Status::Failed => Notice { title: format!("{name} failed"), body: error_text(&run.error), failed: true },
        Status::Cancelled => Notice { title: format!("{name} was cancelled"), body: String::new(), failed: true },
        Status::Queued | Status::Running | Status::Skipped => return None,
    })
}

fn revision_notice(r: &Revision) -> Option<Notice> {
    let what = format!("{} {} of {} to {}", r.operation.as_str(), r.number, r.project, r.environment);
    let mut first = what.chars();
    let what = first.next().map(|c| c.to_uppercase().chain(first).collect::<String>()).unwrap_or_default();
    Some(match r.status {
        RevisionStatus::Succeeded => Notice { title: format!("{what} succeeded"), body: r.url.clone().map(|u| format!("The app answers at {u}")).unwrap_or_default(), failed: false },
        RevisionStatus::Failed => Notice { title: format!("{what} failed"), body: error_text(&r.error), failed: true },
        RevisionStatus::InProgress => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::DeployOperation;
    use crate::pipeline::run::Trigger;

    fn finished(op: Operation, ok: bool) -> Event {
        Event::ProvisionFinished {
            op,
            project: "shop".into(),
            ok,
            summary: "22 created, 0 failed".into(),
            error: (!ok).then(|| UserError::new("Apply failed", "the NAT gateway quota is reached", "Ask AWS for more")),
        }
    }

    fn revision(status: RevisionStatus) -> Revision {
        Revision {
            project: "shop".into(),
            environment: "live".into(),
            number: 3,
            operation: DeployOperation::Deploy,
            run: None,
            commit: None,
            rollback_to: None,
            reason: String::new(),
            images: vec![],
            context: None,
            namespace: None,
            status,
            started_at: 1,
            finished_at: None,
            error: (status == RevisionStatus::Failed).then(|| UserError::new("Rollout failed", "web: ImagePullBackOff", "Check the registry")),
            url: Some("http://127.0.0.1:31080".into()),
            note: None,
        }
    }

    #[test]
    fn an_apply_or_destroy_ending_is_notified_with_its_summary_or_error_and_plan_is_not() {
        let mut n = Notifier::default();
        assert_eq!(
            n.notice(&finished(Operation::Apply, true)),
            Some(Notice { title: "Apply of shop finished".into(), body: "22 created, 0 failed".into(), failed: false })
        );
        let failed = n.notice(&finished(Operation::Destroy, false)).unwrap();
        assert_eq!((failed.title.as_str(), failed.body.as_str(), failed.failed), ("Destroy of shop failed", "Apply failed: the NAT gateway quota is reached", true));
        // A second apply is new work: said again.
        assert!(n.notice(&finished(Operation::Apply, true)).is_some());
        assert_eq!(n.notice(&finished(Operation::Plan, true)), None);
        assert_eq!(n.notice(&finished(Operation::Refresh, false)), None);
    }

    #[test]
    fn a_run_is_notified_once_when_it_ends_never_while_it_runs() {
        let mut n = Notifier::default();
        let mut run = Run::new("shop", 4, Trigger::Manual, "main", None);
        assert_eq!(n.notice(&Event::RunUpdated { run: run.clone() }), None);
        run.status = Status::Running;
        assert_eq!(n.notice(&Event::RunUpdated { run: run.clone() }), None);
        run.status = Status::Failed;
        run.error = Some(UserError::new("Test failed", "2 of 10 cases failed", "Open the run"));
        let said = n.notice(&Event::RunUpdated { run: run.clone() }).unwrap();
        assert_eq!((said.title.as_str(), said.body.as_str(), said.failed), ("Run 4 of shop failed", "Test failed: 2 of 10 cases failed", true));
        // Later updates of the ended run (artifacts, a rerun's link) say nothing more.
        assert_eq!(n.notice(&Event::RunUpdated { run: run.clone() }), None);
        let mut passed = Run::new("shop", 5, Trigger::Manual, "main", None);
        passed.status = Status::Succeeded;
        passed.commit = Some("0123456789abcdef".into());
        assert_eq!(n.notice(&Event::RunUpdated { run: passed }).unwrap().title, "Run 5 of shop passed");
    }

    #[test]
    fn a_deploy_is_notified_when_its_revision_ends_with_the_url_or_the_error() {
        let mut n = Notifier::default();
        assert_eq!(n.notice(&Event::RevisionUpdated { revision: revision(RevisionStatus::InProgress) }), None);
        let ok = n.notice(&Event::RevisionUpdated { revision: revision(RevisionStatus::Succeeded) }).unwrap();
        assert_eq!((ok.title.as_str(), ok.body.as_str(), ok.failed), ("Deploy 3 of shop to live succeeded", "The app answers at http://127.0.0.1:31080", false));
        assert_eq!(n.notice(&Event::RevisionUpdated { revision: revision(RevisionStatus::Succeeded) }), None);
        let failed = n.notice(&Event::RevisionUpdated { revision: Revision { number: 4, ..revision(RevisionStatus::Failed) } }).unwrap();
        assert_eq!((failed.title.as_str(), failed.body.as_str()), ("Deploy 4 of shop to live failed", "Rollout failed: web: ImagePullBackOff"));
    }

    #[test]
    fn the_setting_decides_with_the_focus() {
        assert!(NotifyWhen::Background.shows(false));
        assert!(!NotifyWhen::Background.shows(true));
        assert!(NotifyWhen::Always.shows(true));
        assert!(!NotifyWhen::Never.shows(false));
        assert_eq!(NotifyWhen::default(), NotifyWhen::Background);
    }

    #[test]
    fn other_events_are_not_notified() {
        let mut n = Notifier::default();
        assert_eq!(n.notice(&Event::SettingsChanged), None);
        assert_eq!(n.notice(&Event::Progress { task: "apply".into(), message: "vpc created".into() }), None);
    }
}
