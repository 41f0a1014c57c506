//! The executor: applies a blueprint as a dependency graph with bounded parallelism, waits for
//! each resource with adaptive polling, retries throttling and 5xx with backoff and jitter,
//! records every resource the moment it exists, resumes after a crash without duplicates (it
//! looks resources up by tag before creating), and destroys everything tagged with the project,
//! even without local state. Everything is cancellable.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use futures::stream::{FuturesUnordered, StreamExt};
use std::pin::Pin;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::blueprint::Blueprint;
use super::cost::PriceTable;
use super::model::*;
use super::plan::{diff, differences, Action, Plan};
use crate::events::{Event, Journal};
use crate::secrets::{Secret, SecretRef, SecretStore};
use crate::UserError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum Operation {
    Plan,
    Apply,
    Destroy,
    Refresh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum Phase {
    /// Waiting for its dependencies.
    Pending,
    /// Looking for it by tag (resume after a crash).
    Looking,
    Creating,
    Updating,
    Replacing,
    /// Created; waiting until the cloud says it is ready.
    Waiting,
    Ready,
    Unchanged,
    Deleting,
    Deleted,
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ResourceProgress {
    pub op: Operation,
    pub project: String,
    pub id: String,
    pub kind: ResourceKind,
    pub name: String,
    pub phase: Phase,
    /// The state the cloud reports, in its own words.
    pub cloud_state: Option<String>,
    pub physical_id: Option<String>,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    #[ts(type = "number")]
    pub expected_ms: u64,
    /// Resources finished so far, of `total`.
    pub done: u32,
    pub total: u32,
    pub error: Option<UserError>,
}

#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Resources worked on at once.
    pub parallelism: usize,
    /// Expected times are multiplied by this (1.0 = real AWS; the benchmark scales minutes to seconds).
    pub time_scale: f64,
    pub min_poll: Duration,
    pub max_poll: Duration,
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Attempts for throttled or failed (5xx) calls.
    pub max_attempts: u32,
    /// How long a delete may keep meeting "still in use" before it fails.
    pub delete_timeout: Duration,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            parallelism: 8,
            time_scale: 1.0,
            min_poll: Duration::from_secs(2),
            max_poll: Duration::from_secs(30),
            retry_base: Duration::from_millis(500),
            retry_cap: Duration::from_secs(20),
            max_attempts: 8,
            delete_timeout: Duration::from_secs(30 * 60),
        }
    }
}

impl ExecOptions {
    /// Fast settings for tests against the emulator.
    pub fn fast() -> Self {
        Self {
            parallelism: 8,
            time_scale: 0.01,
            min_poll: Duration::from_millis(10),
            max_poll: Duration::from_millis(200),
            retry_base: Duration::from_millis(10),
            retry_cap: Duration::from_millis(200),
            max_attempts: 10,
            delete_timeout: Duration::from_secs(20),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ApplyReport {
    pub project: String,
    pub summary: String,
    pub created: u32,
    pub updated: u32,
    pub replaced: u32,
    pub deleted: u32,
    pub unchanged: u32,
    #[ts(type = "number")]
    pub duration_ms: u64,
    /// Resources by logical id as they ended up.
    pub resources: Vec<Observed>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DestroyReport {
    pub project: String,
    /// What was removed: kind, physical id, logical id.
    pub removed: Vec<Observed>,
    #[ts(type = "number")]
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum DriftStatus {
    InSync,
    /// Changed outside Slipway.
    Changed,
    /// Slipway created it; it is gone now.
    Deleted,
    /// In the blueprint, never created.
    NotCreated,
    /// Tagged for the project but not in the blueprint.
    Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Drift {
    pub id: String,
    pub kind: ResourceKind,
    pub name: String,
    pub status: DriftStatus,
    pub physical_id: Option<String>,
    pub details: Vec<String>,
}

/// A random number for jitter, without a random-number crate.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

pub struct Executor {
    driver: Arc<dyn CloudDriver>,
    journal: Journal,
    secrets: Arc<dyn SecretStore>,
    instance: String,
    opts: ExecOptions,
    prices: PriceTable,
}

/// Shared state of one apply run.
struct Run {
    project: String,
    total: u32,
    done: std::sync::atomic::AtomicU32,
    deps: Mutex<Deps>,
    cancel: CancellationToken,
}

fn user_error(spec_kind: ResourceKind, name: &str, e: &ProvisionError) -> UserError {
    let fix = match e {
        ProvisionError::Retryable(_) => "AWS kept refusing (throttling or errors); wait a few minutes and apply again: it resumes where it stopped".to_string(),
        ProvisionError::NotYet(_) => "Something still uses it; apply or destroy again in a few minutes".to_string(),
        ProvisionError::Fatal(_) => "Fix the cause named above (permissions, quotas or parameters), then apply again: finished resources are kept".to_string(),
        ProvisionError::Quota { fix, .. } => format!("{fix}; then apply again: finished resources are kept"),
    };
    UserError::new(format!("{} {name} failed", spec_kind.label()), e.to_string(), fix)
}

impl Executor {
    pub fn new(driver: Arc<dyn CloudDriver>, journal: Journal, secrets: Arc<dyn SecretStore>, opts: ExecOptions) -> Self {
        let instance = journal.store.instance_id().to_string();
        Self { driver, journal, secrets, instance, opts, prices: PriceTable::bundled() }
    }

    fn secret_ref(&self, project: &str, id: &str) -> SecretRef {
        SecretRef::for_connection(&self.instance, &format!("{project}/{id}"))
    }

    /// The keychain reference of a resource's secret (a DB password, the key pair's private key).
    pub fn resource_secret(&self, project: &str, id: &str) -> Result<Option<Secret>, UserError> {
        self.secrets.get(&self.secret_ref(project, id))
    }

    fn scaled(&self, secs: u32) -> Duration {
        Duration::from_secs_f64(secs as f64 * self.opts.time_scale)
    }

    /// Runs `f` again on throttling and 5xx (full-jitter exponential backoff) and on "not yet"
    /// (until `not_yet_deadline`). Cancellation stops the waiting.
    async fn retry<T, F, Fut>(&self, cancel: &CancellationToken, not_yet_deadline: Option<Instant>, mut f: F) -> Result<T, ProvisionError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, ProvisionError>>,
    {
        let mut attempt = 0u32;
        loop {
            match f(attempt).await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let again = match &e {
                        ProvisionError::Retryable(_) => attempt + 1 < self.opts.max_attempts,
                        ProvisionError::NotYet(_) => not_yet_deadline.is_some_and(|d| Instant::now() < d) || attempt + 1 < self.opts.max_attempts,
                        ProvisionError::Fatal(_) | ProvisionError::Quota { .. } => false,
                    };
                    if !again {
                        return Err(e);
                    }
                    let cap = self.opts.retry_cap.min(self.opts.retry_base.saturating_mul(1u32 << attempt.min(16)));
                    let wait = Duration::from_nanos(random_u64() % (cap.as_nanos() as u64).max(1));
                    tracing::debug!(attempt, error = %e, ?wait, "retrying");
                    tokio::select! {
                        _ = cancel.cancelled() => return Err(ProvisionError::Fatal("cancelled".into())),
                        _ = tokio::time::sleep(wait) => {}
                    }
                    attempt += 1;
                }
            }
        }
    }

    /// Validates the blueprint (AZs read from the region; nothing is created) and lists what
    /// the cloud has for the project.
    async fn actual(&self, bp: &Blueprint, cancel: &CancellationToken) -> Result<Vec<Observed>, UserError> {
        bp.validate(None)?;
        // Both reads at once (the listing only reads, so it need not wait for the zones' check).
        let (azs, listed) = futures::join!(
            self.retry(cancel, None, |_| self.driver.availability_zones()),
            self.retry(cancel, None, |_| self.driver.list_tagged(&bp.project))
        );
        let azs = azs.map_err(|e| UserError::new("Could not read the region's availability zones", e.to_string(), "Check the AWS connection (slipway doctor) and try again"))?;
        bp.validate(Some(&azs))?;
        listed.map_err(|e| UserError::new("Could not list the project's resources", e.to_string(), "Check the AWS connection (slipway doctor) and try again"))
    }

    pub async fn plan(&self, bp: &Blueprint) -> Result<Plan, UserError> {
        let actual = self.actual(bp, &CancellationToken::new()).await?;
        let plan = diff(&bp.project, &bp.region, &bp.resources(), &actual, &self.prices);
        Ok(Plan { opt_ins: bp.opt_ins(), ..plan })
    }

    /// Applies the blueprint. On a failure, work not yet started is not started, waits are
    /// stopped, and the error names the resource; what exists is recorded, so apply resumes.
    pub async fn apply(&self, bp: &Blueprint, cancel: CancellationToken) -> Result<ApplyReport, UserError> {
        let started = Instant::now();
        let result = self.apply_inner(bp, cancel.clone(), started).await;
        let (ok, summary, error) = match &result {
            Ok(r) => (true, r.summary.clone(), None),
            Err(e) => (false, e.to_string(), Some(e.clone())),
        };
        self.journal.emit(Event::ProvisionFinished { op: Operation::Apply, project: bp.project.clone(), ok, summary, error }).await;
        result
    }

    async fn apply_inner(&self, bp: &Blueprint, cancel: CancellationToken, started: Instant) -> Result<ApplyReport, UserError> {
        let actual = self.actual(bp, &cancel).await?;
        let specs = bp.resources();
        let plan = diff(&bp.project, &bp.region, &specs, &actual, &self.prices);
        self.journal.store.save_blueprint(bp).await?;
        let by_id: HashMap<&str, &ResourceSpec> = specs.iter().map(|s| (s.id.as_str(), s)).collect();
        let action: HashMap<String, Action> = plan.changes.iter().map(|c| (c.id.clone(), c.action)).collect();
        let current: HashMap<String, Observed> = actual
            .iter()
            .filter(|o| plan.changes.iter().any(|c| c.action != Action::Delete && c.physical_id.as_deref() == Some(o.physical_id.as_str())))
            .filter_map(|o| o.logical_id.clone().map(|id| (id, o.clone())))
            .collect();
        let deletes: Vec<Observed> = plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Delete)
            .filter_map(|c| actual.iter().find(|o| Some(o.physical_id.as_str()) == c.physical_id.as_deref()).cloned())
            .collect();
        let run = Arc::new(Run {
            project: bp.project.clone(),
            total: specs.len() as u32 + deletes.len() as u32,
            done: 0.into(),
            deps: Mutex::new(HashMap::new()),
            cancel: cancel.child_token(),
        });
        for s in &specs {
            self.emit_one(Operation::Apply, &run, s, Phase::Pending, None, Instant::now(), None).await;
        }

        // The graph: how many unfinished dependencies each resource has, and who waits on it.
        let mut waiting: HashMap<&str, usize> = specs.iter().map(|s| (s.id.as_str(), s.depends_on.len())).collect();
        let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
        for s in &specs {
            for d in &s.depends_on {
                dependents.entry(d.as_str()).or_default().push(s.id.as_str());
            }
        }
        let mut ready: Vec<&str> = specs.iter().filter(|s| s.depends_on.is_empty()).map(|s| s.id.as_str()).collect();
        let sem = Arc::new(tokio::sync::Semaphore::new(self.opts.parallelism.max(1)));
        let mut failure: Option<UserError> = None;
        let mut counts: HashMap<Action, u32> = HashMap::new();
        let mut ended: HashMap<String, Observed> = HashMap::new();
        let mut tasks = Tasks::new();
        loop {
            while failure.is_none() && !run.cancel.is_cancelled() {
                let Some(id) = ready.pop() else { break };
                let spec = (*by_id.get(id).expect("graph ids come from specs")).clone();
                let act = action.get(id).copied().unwrap_or(Action::Create);
                let cur = current.get(id).cloned();
                let run = run.clone();
                let sem = sem.clone();
                tasks.push(Box::pin(async move {
                    let _permit = sem.acquire_owned().await.expect("semaphore open");
                    let r = self.apply_one(&run, &spec, act, cur).await;
                    (spec.id.clone(), act, r)
                }));
            }
            let Some((id, act, r)) = tasks.next().await else { break };
            match r {
                Ok(obs) => {
                    *counts.entry(act).or_default() += 1;
                    run.deps.lock().await.insert(id.clone(), obs.clone());
                    ended.insert(id.clone(), obs);
                    for d in dependents.get(id.as_str()).into_iter().flatten() {
                        let w = waiting.get_mut(d).expect("dependent is a spec");
                        *w -= 1;
                        if *w == 0 {
                            ready.push(d);
                        }
                    }
                }
                Err(e) => {
                    if failure.is_none() {
                        failure = Some(e);
                        run.cancel.cancel();
                    }
                }
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        if cancel.is_cancelled() {
            return Err(UserError::new("Apply cancelled", format!("{} of {} resources finished before the cancel", ended.len(), specs.len()), "Apply again to finish: it resumes where it stopped"));
        }
        // Resources no longer in the blueprint (or duplicates) go last.
        let removed = self.delete_all(Operation::Apply, &run, deletes).await?;
        counts.insert(Action::Delete, removed.len() as u32);
        let mut resources: Vec<Observed> = specs.iter().filter_map(|s| ended.remove(&s.id)).collect();
        resources.sort_by_key(|o| specs.iter().position(|s| Some(&s.id) == o.logical_id.as_ref()));
        let c = |a| counts.get(&a).copied().unwrap_or(0);
        Ok(ApplyReport {
            project: bp.project.clone(),
            summary: format!(
                "{} created, {} updated, {} replaced, {} deleted, {} unchanged",
                c(Action::Create), c(Action::Update), c(Action::Replace), c(Action::Delete), c(Action::NoChange)
            ),
            created: c(Action::Create),
            updated: c(Action::Update),
            replaced: c(Action::Replace),
            deleted: c(Action::Delete),
            unchanged: c(Action::NoChange),
            duration_ms: started.elapsed().as_millis() as u64,
            resources,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn emit_one(&self, op: Operation, run: &Run, spec: &ResourceSpec, phase: Phase, obs: Option<&Observed>, since: Instant, error: Option<UserError>) {
        let done = run.done.load(std::sync::atomic::Ordering::SeqCst);
        self.journal
            .emit(Event::ResourceProgress(ResourceProgress {
                op,
                project: run.project.clone(),
                id: spec.id.clone(),
                kind: spec.kind,
                name: spec.name.clone(),
                phase,
                cloud_state: obs.map(|o| o.state.clone()),
                physical_id: obs.map(|o| o.physical_id.clone()),
                elapsed_ms: since.elapsed().as_millis() as u64,
                expected_ms: self.scaled(spec.expected_secs).as_millis() as u64,
                done,
                total: run.total,
                error,
            }))
            .await;
    }

    async fn finish(&self, op: Operation, run: &Run, spec: &ResourceSpec, phase: Phase, obs: &Observed, since: Instant) {
        run.done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.emit_one(op, run, spec, phase, Some(obs), since, None).await;
    }

    async fn apply_one(&self, run: &Run, spec: &ResourceSpec, act: Action, current: Option<Observed>) -> Result<Observed, UserError> {
        let since = Instant::now();
        let r = self.apply_one_inner(run, spec, act, current, since).await;
        if let Err(e) = &r {
            let phase = if run.cancel.is_cancelled() && e.why == "cancelled" { Phase::Cancelled } else { Phase::Failed };
            self.emit_one(Operation::Apply, run, spec, phase, None, since, Some(e.clone())).await;
        }
        r
    }

    async fn apply_one_inner(&self, run: &Run, spec: &ResourceSpec, act: Action, current: Option<Observed>, since: Instant) -> Result<Observed, UserError> {
        let fail = |e: ProvisionError| user_error(spec.kind, &spec.name, &e);
        let project = run.project.as_str();
        match (act, current) {
            // Unchanged only when the driver calls it finished: one still being created (a crash
            // or a cancel mid-apply) or left half-made (a follow-up step failed) takes the create
            // path, which waits for it or finishes it before its dependents start.
            (Action::NoChange, Some(obs)) if obs.ready => {
                let found = self.retry(&run.cancel, None, |_| self.driver.find(project, spec)).await.map_err(|e| user_error(spec.kind, &spec.name, &e))?;
                match found {
                    Some(obs) if obs.ready => {
                        self.journal.store.save_resource(project, &obs).await?;
                        self.finish(Operation::Apply, run, spec, Phase::Unchanged, &obs, since).await;
                        Ok(obs)
                    }
                    _ => self.create(run, spec, since).await,
                }
            }
            (Action::Update, Some(obs)) => {
                self.emit_one(Operation::Apply, run, spec, Phase::Updating, Some(&obs), since, None).await;
                let deps = run.deps.lock().await.clone();
                let secret = self.resource_secret(project, &spec.id)?;
                let ctx = CreateCtx { project, deps: &deps, secret: secret.as_ref() };
                let updated = self.retry(&run.cancel, None, |_| self.driver.update(spec, &obs, &ctx)).await.map_err(fail)?;
                let obs = self.wait_ready(run, spec, &updated, since).await?;
                self.finish(Operation::Apply, run, spec, Phase::Ready, &obs, since).await;
                Ok(obs)
            }
            (Action::Replace, Some(obs)) => {
                self.emit_one(Operation::Apply, run, spec, Phase::Replacing, Some(&obs), since, None).await;
                self.delete_and_wait(run, spec, &obs).await?;
                self.create(run, spec, since).await
            }
            _ => self.create(run, spec, since).await,
        }
    }

    async fn create(&self, run: &Run, spec: &ResourceSpec, since: Instant) -> Result<Observed, UserError> {
        let fail = |e: ProvisionError| user_error(spec.kind, &spec.name, &e);
        let project = run.project.as_str();
        self.emit_one(Operation::Apply, run, spec, Phase::Looking, None, since, None).await;
        // Resume: it may exist already (a crash after the create, before the record).
        let found = self.retry(&run.cancel, None, |_| self.driver.find(project, spec)).await.map_err(fail)?;
        let obs = match found {
            Some(obs) => obs,
            None => {
                let secret = match spec.kind {
                    ResourceKind::DbInstance => Some(self.db_password(project, &spec.id)?),
                    _ => None,
                };
                let deps = run.deps.lock().await.clone();
                let ctx = CreateCtx { project, deps: &deps, secret: secret.as_ref() };
                self.emit_one(Operation::Apply, run, spec, Phase::Creating, None, since, None).await;
                // A retried create first looks again: the failed attempt may have created it.
                let created = self
                    .retry(&run.cancel, None, |attempt| {
                        let ctx = &ctx;
                        async move {
                        if attempt > 0 {
                            if let Some(obs) = self.driver.find(project, spec).await? {
                                return Ok(Created { observed: obs, secret: None });
                            }
                        }
                        self.driver.create(spec, ctx).await
                    }})
                    .await
                    .map_err(fail)?;
                if let Some(s) = &created.secret {
                    self.secrets.put(&self.secret_ref(project, &spec.id), s).map_err(|e| {
                        UserError::new(e.what, format!("{} {} was created, but its secret could not be kept: {}", spec.kind.label(), spec.name, e.why), e.fix)
                    })?;
                }
                created.observed
            }
        };
        self.journal.store.save_resource(project, &obs).await?;
        let obs = self.wait_ready(run, spec, &obs, since).await?;
        self.finish(Operation::Apply, run, spec, Phase::Ready, &obs, since).await;
        Ok(obs)
    }

    /// The generated master password of a database, made once and kept in the keychain.
    fn db_password(&self, project: &str, id: &str) -> Result<Secret, UserError> {
        let r = self.secret_ref(project, id);
        if let Some(s) = self.secrets.get(&r)? {
            return Ok(s);
        }
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        let mut pw = String::new();
        for _ in 0..28 {
            pw.push(ALPHABET[(random_u64() % ALPHABET.len() as u64) as usize] as char);
        }
        let s = Secret::new(pw);
        self.secrets.put(&r, &s)?;
        Ok(s)
    }

    /// Polls until ready: often near the expected end, rarely before.
    async fn wait_ready(&self, run: &Run, spec: &ResourceSpec, first: &Observed, since: Instant) -> Result<Observed, UserError> {
        let expected = self.scaled(spec.expected_secs);
        let mut obs = first.clone();
        let mut missing = 0;
        let mut polls = 0u32;
        loop {
            if obs.failed {
                return Err(UserError::new(
                    format!("{} {} failed", spec.kind.label(), spec.name),
                    format!("AWS reports it as {}", obs.state),
                    "Look at it in the AWS console for the reason, then destroy and apply again",
                ));
            }
            if obs.ready {
                self.journal.store.save_resource(&run.project, &obs).await?;
                return Ok(obs);
            }
            self.emit_one(Operation::Apply, run, spec, Phase::Waiting, Some(&obs), since, None).await;
            // First look right away (the state AWS reports); then rarely while far from the
            // expected end, often near it, and backing off again once it is late.
            let elapsed = since.elapsed();
            let interval = if polls == 0 {
                self.opts.min_poll
            } else if elapsed < expected {
                (expected - elapsed) / 4
            } else {
                (elapsed - expected) / 4
            };
            let interval = interval.clamp(self.opts.min_poll, self.opts.max_poll);
            polls += 1;
            tokio::select! {
                _ = run.cancel.cancelled() => return Err(UserError::new(format!("{} {}", spec.kind.label(), spec.name), "cancelled", "Apply again to finish")),
                _ = tokio::time::sleep(interval) => {}
            }
            let pid = obs.physical_id.clone();
            match self.retry(&run.cancel, None, |_| self.driver.describe(spec.kind, &pid)).await.map_err(|e| user_error(spec.kind, &spec.name, &e))? {
                Some(o) => {
                    missing = 0;
                    obs = Observed { logical_id: o.logical_id.clone().or(obs.logical_id.clone()), ..o };
                }
                None => {
                    missing += 1;
                    if missing > 5 {
                        return Err(UserError::new(
                            format!("{} {} failed", spec.kind.label(), spec.name),
                            format!("{pid} disappeared while Slipway waited for it"),
                            "Someone may have deleted it; apply again to recreate it",
                        ));
                    }
                }
            }
        }
    }

    async fn delete_and_wait(&self, run: &Run, spec: &ResourceSpec, obs: &Observed) -> Result<(), UserError> {
        let fail = |e: ProvisionError| user_error(obs.kind, &obs.physical_id, &e);
        let deadline = Instant::now() + self.opts.delete_timeout;
        self.retry(&run.cancel, Some(deadline), |_| self.driver.delete(obs)).await.map_err(fail)?;
        let mut interval = self.opts.min_poll;
        loop {
            let gone = match self.retry(&run.cancel, None, |_| self.driver.describe(obs.kind, &obs.physical_id)).await.map_err(fail)? {
                None => true,
                Some(o) => matches!(o.state.to_ascii_lowercase().as_str(), "terminated" | "deleted"),
            };
            if gone {
                self.journal.store.delete_resource(&run.project, &obs.physical_id).await?;
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(UserError::new(
                    format!("{} {} was not deleted", spec.kind.label(), obs.physical_id),
                    format!("it is still there after {} s", self.opts.delete_timeout.as_secs()),
                    "Look at it in the AWS console, then destroy again",
                ));
            }
            tokio::select! {
                _ = run.cancel.cancelled() => return Err(UserError::new(format!("{} {}", spec.kind.label(), obs.physical_id), "cancelled", "Destroy again to finish")),
                _ = tokio::time::sleep(interval) => {}
            }
            interval = (interval * 2).min(self.opts.max_poll);
        }
    }

    /// Deletes resources in waves by kind (dependents first), in parallel within a wave.
    async fn delete_all(&self, op: Operation, run: &Arc<Run>, mut items: Vec<Observed>) -> Result<Vec<Observed>, UserError> {
        items.sort_by_key(|o| o.kind.destroy_rank());
        let mut removed = vec![];
        let mut first_error = None;
        let ranks: Vec<u8> = {
            let mut r: Vec<u8> = items.iter().map(|o| o.kind.destroy_rank()).collect();
            r.dedup();
            r
        };
        for rank in ranks {
            if first_error.is_some() {
                break;
            }
            let wave: Vec<Observed> = items.iter().filter(|o| o.kind.destroy_rank() == rank).cloned().collect();
            let mut tasks = Tasks::new();
            for obs in wave {
                let run = run.clone();
                tasks.push(Box::pin(async move {
                    let spec = ResourceSpec {
                        id: obs.logical_id.clone().unwrap_or_else(|| obs.physical_id.clone()),
                        kind: obs.kind,
                        name: obs.physical_id.clone(),
                        depends_on: vec![],
                        props: serde_json::Value::Null,
                        expected_secs: 5,
                    };
                    let since = Instant::now();
                    self.emit_one(op, &run, &spec, Phase::Deleting, Some(&obs), since, None).await;
                    let r = self.delete_and_wait(&run, &spec, &obs).await;
                    match &r {
                        Ok(()) => {
                            run.done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            let gone = Observed { state: "deleted".into(), ready: false, ..obs.clone() };
                            self.emit_one(op, &run, &spec, Phase::Deleted, Some(&gone), since, None).await;
                        }
                        Err(e) => self.emit_one(op, &run, &spec, Phase::Failed, Some(&obs), since, Some(e.clone())).await,
                    }
                    (obs, r)
                }));
            }
            while let Some((obs, r)) = tasks.next().await {
                match r {
                    Ok(()) => removed.push(obs),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(removed),
        }
    }

    /// Removes every resource tagged with the project (found by tags and in the store), in
    /// reverse dependency order, and the project's secrets. Never touches untagged resources.
    pub async fn destroy(&self, project: &str, cancel: CancellationToken) -> Result<DestroyReport, UserError> {
        let started = Instant::now();
        let result = self.destroy_inner(project, cancel, started).await;
        let (ok, summary, error) = match &result {
            Ok(r) => (true, format!("{} resources removed", r.removed.len()), None),
            Err(e) => (false, e.to_string(), Some(e.clone())),
        };
        self.journal.emit(Event::ProvisionFinished { op: Operation::Destroy, project: project.into(), ok, summary, error }).await;
        result
    }

    async fn destroy_inner(&self, project: &str, cancel: CancellationToken, started: Instant) -> Result<DestroyReport, UserError> {
        let listed = self
            .retry(&cancel, None, |_| self.driver.list_tagged(project))
            .await
            .map_err(|e| UserError::new("Could not list the project's resources", e.to_string(), "Check the AWS connection (slipway doctor) and try again"))?;
        let mut seen: HashSet<String> = listed.iter().map(|o| o.physical_id.clone()).collect();
        let mut items = listed;
        // Recorded resources the tag listing missed (and that still exist) go too.
        for rec in self.journal.store.resources(project).await? {
            if seen.contains(&rec.physical_id) {
                continue;
            }
            match self.retry(&cancel, None, |_| self.driver.describe(rec.kind, &rec.physical_id)).await {
                Ok(Some(o)) if !matches!(o.state.to_ascii_lowercase().as_str(), "terminated" | "deleted") => {
                    seen.insert(o.physical_id.clone());
                    items.push(Observed { logical_id: o.logical_id.clone().or(rec.logical_id.clone()), ..o });
                }
                _ => self.journal.store.delete_resource(project, &rec.physical_id).await?,
            }
        }
        let run = Arc::new(Run { project: project.into(), total: items.len() as u32, done: 0.into(), deps: Mutex::new(HashMap::new()), cancel: cancel.child_token() });
        let removed = self.delete_all(Operation::Destroy, &run, items).await?;
        for id in ["keypair", "db-test", "db-live"] {
            let _ = self.secrets.delete(&self.secret_ref(project, id));
        }
        Ok(DestroyReport { project: project.into(), removed, duration_ms: started.elapsed().as_millis() as u64 })
    }

    /// What changed outside Slipway: compares the blueprint and the store's records with what
    /// the cloud reports, and refreshes the records.
    pub async fn refresh(&self, bp: &Blueprint) -> Result<Vec<Drift>, UserError> {
        let cancel = CancellationToken::new();
        let cloud = self.actual(bp, &cancel).await?;
        let records = self.journal.store.resources(&bp.project).await?;
        let mut out = vec![];
        for spec in bp.resources() {
            let live = cloud.iter().find(|o| o.logical_id.as_deref() == Some(spec.id.as_str()) && !o.failed);
            let rec = records.iter().find(|o| o.logical_id.as_deref() == Some(spec.id.as_str()));
            let (status, physical_id, details) = match (live, rec) {
                (Some(o), _) => {
                    self.journal.store.save_resource(&bp.project, o).await?;
                    let (upd, rep) = differences(&spec, o);
                    let details: Vec<String> = upd.into_iter().chain(rep).collect();
                    (if details.is_empty() { DriftStatus::InSync } else { DriftStatus::Changed }, Some(o.physical_id.clone()), details)
                }
                (None, Some(r)) => {
                    self.journal.store.delete_resource(&bp.project, &r.physical_id).await?;
                    (DriftStatus::Deleted, Some(r.physical_id.clone()), vec![format!("{} was deleted outside Slipway", r.physical_id)])
                }
                (None, None) => (DriftStatus::NotCreated, None, vec![]),
            };
            out.push(Drift { id: spec.id.clone(), kind: spec.kind, name: spec.name.clone(), status, physical_id, details });
        }
        let specs = bp.resources();
        for o in cloud.iter().filter(|o| !specs.iter().any(|s| o.logical_id.as_deref() == Some(s.id.as_str()))) {
            out.push(Drift {
                id: o.logical_id.clone().unwrap_or_else(|| o.physical_id.clone()),
                kind: o.kind,
                name: o.physical_id.clone(),
                status: DriftStatus::Extra,
                physical_id: Some(o.physical_id.clone()),
                details: vec!["tagged for this project but not in the blueprint".into()],
            });
        }
        Ok(out)
    }
}

/// Futures polled together; they borrow the executor, so they need not be `'static`.
type Tasks<'a, T> = FuturesUnordered<Pin<Box<dyn Future<Output = T> + Send + 'a>>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventBus;
    use crate::provision::fake::FakeCloud;
    use crate::secrets::MemorySecretStore;
    use crate::store::Store;

    struct Setup {
        _dir: tempfile::TempDir,
        cloud: Arc<FakeCloud>,
        exec: Executor,
        bus: EventBus,
        secrets: Arc<MemorySecretStore>,
    }

    fn setup_with(cloud: Arc<FakeCloud>, dir: Option<tempfile::TempDir>) -> Setup {
        let dir = dir.unwrap_or_else(|| tempfile::tempdir().unwrap());
        let store = Store::open(dir.path()).unwrap();
        let bus = EventBus::new(100_000);
        let secrets = Arc::new(MemorySecretStore::default());
        let exec = Executor::new(cloud.clone(), Journal { bus: bus.clone(), store }, secrets.clone(), ExecOptions::fast());
        Setup { _dir: dir, cloud, exec, bus, secrets }
    }

    fn setup() -> Setup {
        setup_with(Arc::new(FakeCloud::default()), None)
    }

    /// The blueprint with both opt-in VMs (every kind of resource, 22 in all).
    fn bp() -> Blueprint {
        Blueprint { project: "shop".into(), admin_cidr: "203.0.113.7/32".into(), ci_vm: true, test_vm: true, ..Blueprint::default() }
    }

    #[tokio::test]
    async fn the_plan_states_the_opt_ins_and_its_cost_follows_them() {
        let s = setup();
        let off = Blueprint { ci_vm: false, test_vm: false, ..bp() };
        let plan_off = s.exec.plan(&off).await.unwrap();
        assert_eq!(plan_off.changes.len(), 17);
        assert!(!plan_off.changes.iter().any(|c| c.kind == ResourceKind::Instance || c.kind == ResourceKind::KeyPair));
        assert_eq!(plan_off.opt_ins.iter().map(|o| (o.field.as_str(), o.enabled)).collect::<Vec<_>>(), [("ciVm", false), ("testVm", false)]);
        assert!(plan_off.opt_ins.iter().all(|o| !o.purpose.is_empty()));
        let plan_on = s.exec.plan(&bp()).await.unwrap();
        assert_eq!(plan_on.changes.len(), 22);
        assert!(plan_on.opt_ins.iter().all(|o| o.enabled));
        // The difference is what the two VMs cost (their security groups and key pair are free).
        let cost = |id: &str| plan_on.changes.iter().find(|c| c.id == id).unwrap().monthly_cost.unwrap();
        assert!(cost("vm-ci") > 0.0 && cost("vm-test") > 0.0);
        let vms = cost("vm-ci") + cost("vm-test");
        assert!((plan_on.monthly_total - plan_off.monthly_total - vms).abs() < 0.01, "{} - {} != {vms}", plan_on.monthly_total, plan_off.monthly_total);
        // Only the CI VM: its cost alone.
        let ci = s.exec.plan(&Blueprint { test_vm: false, ..bp() }).await.unwrap();
        assert!((ci.monthly_total - plan_off.monthly_total - cost("vm-ci")).abs() < 0.01);
        assert_eq!(ci.changes.len(), 20);
    }

    #[tokio::test]
    async fn apply_creates_in_dependency_order_then_a_second_apply_changes_nothing() {
        let s = setup();
        s.cloud.state.lock().unwrap().polls_until_ready = 2;
        let r = s.exec.apply(&bp(), CancellationToken::new()).await.unwrap();
        assert_eq!(r.created, 22);
        assert_eq!(r.resources.len(), 22);
        assert!(s.cloud.state.lock().unwrap().violations.is_empty(), "{:?}", s.cloud.state.lock().unwrap().violations);
        assert_eq!(s.cloud.total("shop"), 22);
        // The key pair's private key and the DB passwords went to the keychain.
        assert!(s.exec.resource_secret("shop", "keypair").unwrap().unwrap().expose().contains("PRIVATE KEY"));
        assert_eq!(s.exec.resource_secret("shop", "db-test").unwrap().unwrap().expose().len(), 28);
        let before = s.cloud.state.lock().unwrap().mutating_calls;
        let r = s.exec.apply(&bp(), CancellationToken::new()).await.unwrap();
        assert_eq!(r.unchanged, 22);
        assert_eq!(s.cloud.state.lock().unwrap().mutating_calls, before, "a second apply must make no mutating call");
        let plan = s.exec.plan(&bp()).await.unwrap();
        assert!(plan.is_empty(), "{}", plan.summary());
    }

    #[tokio::test]
    async fn progress_reports_cloud_states_elapsed_and_x_of_y() {
        let s = setup();
        s.cloud.state.lock().unwrap().polls_until_ready = 3;
        let mut rx = s.bus.subscribe();
        s.exec.apply(&bp(), CancellationToken::new()).await.unwrap();
        let mut waiting = 0;
        let mut last_done = 0;
        let mut finished = false;
        while let Ok(e) = rx.try_recv() {
            match e.event {
                Event::ResourceProgress(p) => {
                    assert_eq!(p.total, 22);
                    if p.phase == Phase::Waiting {
                        waiting += 1;
                        assert_eq!(p.cloud_state.as_deref(), Some("creating"));
                        assert!(p.expected_ms > 0);
                    }
                    if p.phase == Phase::Ready {
                        assert!(p.done >= last_done);
                        last_done = p.done;
                    }
                }
                Event::ProvisionFinished { ok, .. } => finished = ok,
                _ => {}
            }
        }
        assert!(waiting >= 22, "every resource was polled while creating ({waiting})");
        assert_eq!(last_done, 22);
        assert!(finished);
    }

    #[tokio::test]
    async fn a_crash_mid_apply_then_apply_again_has_no_duplicates_even_without_local_state() {
        for cut in [1, 5, 12, 19] {
            let cloud = Arc::new(FakeCloud::default());
            cloud.state.lock().unwrap().polls_until_ready = 1;
            let s = setup_with(cloud.clone(), None);
            let cancel = CancellationToken::new();
            let mut rx = s.bus.subscribe();
            let c2 = cancel.clone();
            let watcher = tokio::spawn(async move {
                let mut ready = 0;
                while let Ok(e) = rx.recv().await {
                    if let Event::ResourceProgress(p) = e.event {
                        if p.phase == Phase::Creating {
                            ready += 1;
                            if ready == cut {
                                c2.cancel(); // the "kill": in-flight work stops where it is
                                return;
                            }
                        }
                    }
                }
            });
            let e = s.exec.apply(&bp(), cancel).await.unwrap_err();
            watcher.await.unwrap();
            assert!(e.what.contains("cancelled") || e.why.contains("cancelled"), "{e}");
            // A new process with a lost data folder: only the tags tell what exists.
            let s2 = setup_with(cloud.clone(), None);
            s2.exec.apply(&bp(), CancellationToken::new()).await.unwrap();
            for spec in bp().resources() {
                assert_eq!(cloud.count("shop", &spec.id), 1, "cut {cut}: {} duplicated or missing", spec.id);
            }
            let v = cloud.state.lock().unwrap().violations.clone();
            assert!(v.is_empty(), "cut {cut}: a resume built on a resource still being created: {v:?}");
        }
    }

    #[tokio::test]
    async fn a_half_made_resource_is_finished_by_the_next_apply_without_a_copy() {
        let s = setup();
        s.exec.apply(&bp(), CancellationToken::new()).await.unwrap();
        s.cloud.state.lock().unwrap().half_made.push("igw".into());
        let r = s.exec.apply(&bp(), CancellationToken::new()).await.unwrap();
        assert_eq!(r.unchanged, 22, "{}", r.summary);
        assert!(s.cloud.state.lock().unwrap().half_made.is_empty(), "the half-made gateway was not finished");
        assert_eq!(s.cloud.count("shop", "igw"), 1);
        let before = s.cloud.state.lock().unwrap().mutating_calls;
        s.exec.apply(&bp(), CancellationToken::new()).await.unwrap();
        assert_eq!(s.cloud.state.lock().unwrap().mutating_calls, before);
    }

    #[tokio::test]
    async fn throttling_on_one_call_in_five_reaches_the_same_end_state() {
        let s = setup();
        s.cloud.state.lock().unwrap().throttle_every = 5;
        s.exec.apply(&bp(), CancellationToken::new()).await.unwrap();
        for spec in bp().resources() {
            assert_eq!(s.cloud.count("shop", &spec.id), 1, "{}", spec.id);
        }
        let r = s.exec.destroy("shop", CancellationToken::new()).await.unwrap();
        assert_eq!(r.removed.len(), 22);
        assert_eq!(s.cloud.total("shop"), 0);
    }

    #[tokio::test]
    async fn a_permanent_failure_names_the_resource_stops_the_rest_and_destroy_still_cleans_up() {
        let s = setup();
        s.cloud.state.lock().unwrap().fail_create = Some("subnet-private-b".into());
        let e = s.exec.apply(&bp(), CancellationToken::new()).await.unwrap_err();
        assert_eq!(e.what, "Subnet shop-private-b failed");
        assert!(e.why.contains("InsufficientInstanceCapacity"), "{e}");
        let created = s.cloud.state.lock().unwrap().created.clone();
        for never in ["eks", "nodes", "db-test", "db-live", "db-subnets"] {
            assert!(!created.contains(&never.to_string()), "{never} was started after the failure");
        }
        s.cloud.add_untagged(ResourceKind::Vpc, "vpc-not-ours");
        let r = s.exec.destroy("shop", CancellationToken::new()).await.unwrap();
        assert_eq!(r.removed.len(), created.len());
        assert_eq!(s.cloud.total("shop"), 0);
        assert!(s.cloud.state.lock().unwrap().resources.iter().any(|(o, _, _)| o.physical_id == "vpc-not-ours"), "an untagged resource was touched");
    }

    #[tokio::test]
    async fn a_quota_refusal_is_not_retried_and_says_which_quota_and_what_to_do() {
        use crate::provision::blueprint::NodeSubnets;
        let s = setup();
        s.cloud.state.lock().unwrap().quota_create = Some("nat".into());
        let b = Blueprint { node_subnets: NodeSubnets::PrivateNat, ..bp() };
        let e = s.exec.apply(&b, CancellationToken::new()).await.unwrap_err();
        assert_eq!(e.what, "NAT gateway shop-nat failed");
        assert!(e.why.contains("NatGatewayLimitExceeded"), "{e}");
        assert!(e.fix.starts_with("Delete an unused NAT gateway, or ask for more; then apply again"), "{e}");
        let created = s.cloud.state.lock().unwrap().created.clone();
        assert_eq!(created.iter().filter(|c| *c == "nat").count(), 0);
        assert!(!created.contains(&"rt-private".to_string()) && !created.contains(&"nodes".to_string()));
        // What was made before stays.
        assert!(created.contains(&"eip-nat".to_string()) && s.cloud.count("shop", "eip-nat") == 1);
    }

    #[tokio::test]
    async fn destroy_without_local_state_uses_the_tags_and_forgets_the_secrets() {
        let cloud = Arc::new(FakeCloud::default());
        let s = setup_with(cloud.clone(), None);
        s.exec.apply(&bp(), CancellationToken::new()).await.unwrap();
        let s2 = setup_with(cloud.clone(), None);
        let r = s2.exec.destroy("shop", CancellationToken::new()).await.unwrap();
        assert_eq!(r.removed.len(), 22);
        // Dependents went before what they depend on.
        let pos = |id: &str| r.removed.iter().position(|o| o.logical_id.as_deref() == Some(id)).unwrap();
        assert!(pos("nodes") < pos("eks"));
        assert!(pos("eks") < pos("vpc"));
        assert!(pos("vm-ci") < pos("subnet-public-a"));
        assert!(s.secrets.get(&s.exec.secret_ref("shop", "keypair")).unwrap().is_some(), "the first store's keychain is separate");
        assert!(s2.exec.resource_secret("shop", "db-test").unwrap().is_none());
    }

    #[tokio::test]
    async fn the_nat_layout_and_repositories_are_applied_and_destroyed_in_dependency_order() {
        use crate::provision::blueprint::NodeSubnets;
        let cloud = Arc::new(FakeCloud::default());
        let s = setup_with(cloud.clone(), None);
        let b = Blueprint { node_subnets: NodeSubnets::PrivateNat, services: vec!["web".into(), "api".into()], ..bp() };
        let r = s.exec.apply(&b, CancellationToken::new()).await.unwrap();
        assert_eq!(r.created, 27, "{}", r.summary);
        assert!(cloud.state.lock().unwrap().violations.is_empty(), "{:?}", cloud.state.lock().unwrap().violations);
        // Destroy without local state: the kind waves alone give the order.
        let s2 = setup_with(cloud.clone(), None);
        let r = s2.exec.destroy("shop", CancellationToken::new()).await.unwrap();
        assert_eq!(r.removed.len(), 27);
        let pos = |id: &str| r.removed.iter().position(|o| o.logical_id.as_deref() == Some(id)).unwrap_or_else(|| panic!("{id} not removed"));
        assert!(pos("nodes") < pos("lt-nodes"));
        assert!(pos("rt-private") < pos("nat"), "the route goes before its NAT gateway");
        assert!(pos("nat") < pos("eip-nat"), "the address is released after its NAT gateway");
        assert!(pos("nat") < pos("subnet-public-a"));
        assert!(pos("eip-nat") < pos("igw"), "AWS refuses to detach the gateway while addresses are mapped");
        assert!(pos("ecr-web") < pos("vpc") && pos("ecr-api") < pos("vpc"));
        assert_eq!(cloud.total("shop"), 0);
    }

    #[tokio::test]
    async fn refresh_shows_drift_and_plan_shows_the_fix() {
        let s = setup();
        s.exec.apply(&bp(), CancellationToken::new()).await.unwrap();
        s.cloud.remove("shop", "vm-test");
        s.cloud.set_attr("shop", "nodes", "desiredSize", serde_json::json!(7));
        let drift = s.exec.refresh(&bp()).await.unwrap();
        let by = |id: &str| drift.iter().find(|d| d.id == id).unwrap().clone();
        assert_eq!(by("vm-test").status, DriftStatus::Deleted);
        assert_eq!(by("nodes").status, DriftStatus::Changed);
        assert_eq!(by("nodes").details, vec!["desiredSize 7 -> 2"]);
        assert_eq!(by("vpc").status, DriftStatus::InSync);
        let plan = s.exec.plan(&bp()).await.unwrap();
        assert_eq!(plan.summary(), "1 to create, 1 to update, 0 to replace, 0 to delete, 20 unchanged");
        let r = s.exec.apply(&bp(), CancellationToken::new()).await.unwrap();
        assert_eq!((r.created, r.updated, r.unchanged), (1, 1, 20));
    }

    #[tokio::test]
    async fn bad_parameters_are_refused_before_any_call() {
        let s = setup();
        let bad = Blueprint { vpc_cidr: "10.0.0.0/8".into(), ..bp() };
        let e = s.exec.apply(&bad, CancellationToken::new()).await.unwrap_err();
        assert_eq!(e.what, "Blueprint not valid");
        assert_eq!(s.cloud.state.lock().unwrap().calls, 0, "no call may reach the cloud");
        let bad = Blueprint { azs: vec!["us-east-1a".into(), "us-east-1q".into()], ..bp() };
        let e = s.exec.apply(&bad, CancellationToken::new()).await.unwrap_err();
        assert!(e.why.contains("us-east-1q"), "{e}");
        assert_eq!(s.cloud.state.lock().unwrap().mutating_calls, 0);
    }
}
