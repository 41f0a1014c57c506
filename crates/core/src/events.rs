//! Typed events: everything the engine reports while it works. The same stream feeds the CLI's
//! progress output and the desktop app's channels. Events never carry a secret: every type in
//! them either has no secret field or holds a [`crate::secrets::Secret`], which serializes redacted.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::connections::ConnectionStatus;
use crate::sandbox::SandboxState;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
#[ts(export)]
pub enum Event {
    /// A connection was checked (passed or failed).
    #[serde(rename_all = "camelCase")]
    ConnectionChecked { status: ConnectionStatus },
    /// The local AWS emulator changed state.
    #[serde(rename_all = "camelCase")]
    SandboxChanged { state: SandboxState },
    /// A progress line from long work (installing the emulator, waiting for a port...).
    #[serde(rename_all = "camelCase")]
    Progress { task: String, message: String },
    /// Settings were changed.
    SettingsChanged,
    /// One resource's progress during plan, apply, destroy or refresh.
    ResourceProgress(crate::provision::executor::ResourceProgress),
    /// An apply or destroy ended (finished, failed or cancelled).
    #[serde(rename_all = "camelCase")]
    ProvisionFinished {
        op: crate::provision::executor::Operation,
        project: String,
        ok: bool,
        summary: String,
        error: Option<crate::UserError>,
    },
    /// A pipeline run changed: queued, a stage or step started or ended, artifacts arrived, or
    /// the run ended. Carries the whole run (the UI replaces its copy).
    #[serde(rename_all = "camelCase")]
    RunUpdated { run: crate::pipeline::run::Run },
    /// Live progress of a deploy, redeploy or rollback on Kubernetes: each workload's replicas
    /// and each pod's phase, readiness, restarts and reason.
    DeployProgress(crate::deploy::RolloutProgress),
    /// A deploy revision was recorded or ended (the Deployments page's history).
    #[serde(rename_all = "camelCase")]
    RevisionUpdated { revision: crate::deploy::Revision },
    /// A board changed: cards created, edited, moved or deleted, epics, sprints, columns or
    /// settings (`cards` names the cards touched, empty for board-wide changes). The UI
    /// fetches the board again.
    #[serde(rename_all = "camelCase")]
    BoardChanged { project: String, cards: Vec<String>, by: crate::board::Actor },
}

/// An event with its sequence number (per process, from 1) and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EventEnvelope {
    #[ts(type = "number")]
    pub seq: u64,
    #[ts(type = "number")]
    pub at: i64,
    pub event: Event,
}

/// A broadcast bus. Slow subscribers lose the oldest events (and are told how many) rather
/// than slowing the engine down.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<EventEnvelope>,
    seq: Arc<AtomicU64>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(4096)
    }
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Self { tx, seq: Arc::new(AtomicU64::new(0)) }
    }

    pub fn emit(&self, event: Event) -> EventEnvelope {
        let env = EventEnvelope { seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1, at: crate::now_ms(), event };
        tracing::debug!(seq = env.seq, event = ?env.event, "event");
        // No subscriber is fine: events are also returned to the caller.
        let _ = self.tx.send(env.clone());
        env
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EventEnvelope> {
        self.tx.subscribe()
    }
}

/// The bus plus the store's event log: every event emitted through a journal is both sent to
/// subscribers and recorded, and what it means for the audit trail is added to it.
#[derive(Clone)]
pub struct Journal {
    pub bus: EventBus,
    pub store: crate::store::Store,
}

impl Journal {
    pub async fn emit(&self, event: Event) -> EventEnvelope {
        let env = self.bus.emit(event);
        if let Err(e) = self.store.append_events(vec![env.clone()]).await {
            tracing::warn!(error = %e, "could not record event");
        }
        self.audit(&env.event).await;
        env
    }

    /// Adds what an event means to the audit trail (also for events that only go to the bus,
    /// like a run's updates). A failure is logged: the work that announced it goes on.
    pub async fn audit(&self, event: &Event) {
        let r = match event {
            Event::BoardChanged { project, cards, .. } => self.store.append_board_moves(project, cards, crate::now_ms() - 60_000).await.map(|_| ()),
            _ => match crate::audit::from_event(event) {
                Some(d) => self.store.append_audit(d).await.map(|_| ()),
                None => Ok(()),
            },
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not record an audit entry");
        }
    }
}

/// Collects events into batches: waits for the first, then takes whatever else arrives within
/// `window`, up to `max`. Returns None when the bus is closed. This is what keeps a UI channel
/// from being flooded: one message per batch, not per event.
pub async fn next_batch(
    rx: &mut broadcast::Receiver<EventEnvelope>,
    max: usize,
    window: Duration,
) -> Option<Vec<EventEnvelope>> {
    let first = loop {
        match rx.recv().await {
            Ok(e) => break e,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(skipped = n, "event subscriber lagged");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    };
    let mut batch = vec![first];
    let deadline = tokio::time::Instant::now() + window;
    while batch.len() < max {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(e)) => batch.push(e),
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => break,
        }
    }
    Some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_collect_bursts_and_keep_order() {
        let bus = EventBus::new(1024);
        let mut rx = bus.subscribe();
        for i in 0..250 {
            bus.emit(Event::Progress { task: "t".into(), message: format!("{i}") });
        }
        let b1 = next_batch(&mut rx, 100, Duration::from_millis(20)).await.unwrap();
        let b2 = next_batch(&mut rx, 100, Duration::from_millis(20)).await.unwrap();
        let b3 = next_batch(&mut rx, 100, Duration::from_millis(20)).await.unwrap();
        assert_eq!((b1.len(), b2.len(), b3.len()), (100, 100, 50));
        let seqs: Vec<u64> = b1.iter().chain(&b2).chain(&b3).map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=250).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn batch_returns_none_when_the_bus_is_gone() {
        let bus = EventBus::new(8);
        let mut rx = bus.subscribe();
        drop(bus);
        assert!(next_batch(&mut rx, 10, Duration::from_millis(5)).await.is_none());
    }

    #[test]
    fn events_serialize_with_a_type_tag() {
        let v = serde_json::to_value(Event::Progress { task: "sandbox".into(), message: "hi".into() }).unwrap();
        assert_eq!(v["type"], "progress");
        assert_eq!(v["task"], "sandbox");
    }
}
