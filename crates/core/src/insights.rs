//! Delivery insights: the four DORA measures of one project's environment over a window,
//! computed from what Slipway already records (deploy revisions, and the commit time of the run
//! each deployed commit came from). Pure: the service layer gathers the history, this module
//! counts.
//!
//! What counts, per environment (a revision's moment is when its outcome was known: its
//! `finished_at`, never before its `started_at`; revisions are ordered by their number, which
//! the store hands out atomically, so a clock that jumps back does not reorder them):
//! - **Deployment frequency**: deploys (operation `deploy`, not a restart or a rollback) whose
//!   rollout became ready in the window.
//! - **Lead time for changes**: for each commit whose *first* ready deploy in the environment
//!   falls in the window, from the commit's time (committer date) to that moment. A deploy with
//!   no known commit time is left out (and counted); a commit dated after its deploy (a skewed
//!   clock) counts as 0 (and is counted). Median, and the 90th percentile by nearest rank.
//! - **Change failure rate**: of the deploys that ended in the window, those whose rollout
//!   failed or that a later rollback undid. A rollback to revision `k` undoes every deploy
//!   numbered between `k` and itself, so a rollback past several deploys fails them all; a
//!   deploy that a later rollback returns to counts as good again.
//! - **Time to restore**: from a failed rollout (its start) or an undone deploy (when it went
//!   live) to the next ready deploy or rollback that is not itself undone; consecutive failures
//!   are one outage. A restart (redeploy) changes no image, so it ends an outage only when the
//!   images serving are good (after a failed rollout). Counted in the window where service came
//!   back; an outage not over is `open_since`.
//!
//! The bands are DORA's, from the Accelerate State of DevOps Report 2023 (DORA / Google
//! Cloud), table "Software delivery performance" by cluster:
//!
//! | band   | deployment frequency                  | lead time             | change failure rate | recovery time          |
//! |--------|---------------------------------------|-----------------------|---------------------|------------------------|
//! | elite  | on demand (multiple deploys per day)  | less than one day     | 5%                  | less than one hour     |
//! | high   | between once per day and once a week  | one day to one week   | 10%                 | less than one day      |
//! | medium | between once a week and once a month  | one week to one month | 15%                 | one day to one week    |
//! | low    | less often                            | longer                | more                | longer                 |
//!
//! The report's low cluster shares medium's throughput ranges, so low here is "worse than
//! medium"; the change failure rates are the clusters' values, read as upper bounds. As
//! thresholds: deploys per week ≥ 7 / ≥ 1 / ≥ 7⁄30; lead time < 1 d / < 7 d / < 30 d; failure
//! rate ≤ 5% / ≤ 10% / ≤ 15%; restore < 1 h / < 1 d / < 7 d. A measure with nothing to measure
//! (no deploy, no change, no restore) has no band.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use ts_rs::TS;

use crate::board::dates::{format_date, DAY_MS};
use crate::deploy::{DeployOperation, Revision, RevisionStatus};
use crate::UserError;

const HOUR_MS: i64 = 3_600_000;
const WEEK_MS: i64 = 7 * DAY_MS;

/// The windows the front ends offer; any from 1 to 365 days is accepted.
pub const WINDOWS: [u32; 3] = [7, 30, 90];

/// A DORA performance band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Elite => "elite",
            Band::High => "high",
            Band::Medium => "medium",
            Band::Low => "low",
        }
    }

    /// From deploys per week.
    pub fn of_frequency(per_week: f64) -> Band {
        if per_week >= 7.0 {
            Band::Elite
        } else if per_week >= 1.0 {
            Band::High
        } else if per_week >= 7.0 / 30.0 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// From a lead time in milliseconds.
    pub fn of_lead_time(ms: i64) -> Band {
        if ms < DAY_MS {
            Band::Elite
        } else if ms < WEEK_MS {
            Band::High
        } else if ms < 30 * DAY_MS {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// From a change failure rate (0 to 1).
    pub fn of_failure_rate(rate: f64) -> Band {
        // Compared in whole permille, so 1 of 20 (5%) is elite despite floating point.
        let pm = (rate * 1000.0).round() as i64;
        if pm <= 50 {
            Band::Elite
        } else if pm <= 100 {
            Band::High
        } else if pm <= 150 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// From a time to restore in milliseconds.
    pub fn of_restore(ms: i64) -> Band {
        if ms < HOUR_MS {
            Band::Elite
        } else if ms < DAY_MS {
            Band::High
        } else if ms < WEEK_MS {
            Band::Medium
        } else {
            Band::Low
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DeploymentFrequency {
    /// Deploys whose rollout became ready in the window.
    pub deploys: u32,
    /// Deploys per week over the window.
    pub per_week: f64,
    /// None when the window has no deploy at all (not even a failed one).
    pub band: Option<Band>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct LeadTime {
    /// Commits first ready in the window with a known commit time.
    pub changes: u32,
    #[ts(type = "number | null")]
    pub median_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub p90_ms: Option<i64>,
    /// Commits first ready in the window whose commit time is unknown (left out).
    pub without_commit_time: u32,
    /// Commits dated after their deploy (a skewed clock): counted as 0.
    pub skewed: u32,
    /// From the median.
    pub band: Option<Band>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChangeFailureRate {
    /// Deploys that ended (ready or failed) in the window.
    pub deploys: u32,
    /// Of those, the ones whose rollout failed or that a later rollback undid.
    pub failed: u32,
    /// `failed / deploys`, 0 to 1; None with no deploy.
    pub rate: Option<f64>,
    pub band: Option<Band>,
    /// The failed deploys' revision numbers.
    pub failed_revisions: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TimeToRestore {
    /// Outages that ended in the window.
    pub restores: u32,
    #[ts(type = "number | null")]
    pub median_ms: Option<i64>,
    /// Restores whose ready revision is dated before the failure (a skewed clock): counted as 0.
    pub skewed: u32,
    /// The environment is broken now: since when.
    #[ts(type = "number | null")]
    pub open_since: Option<i64>,
    /// From the median.
    pub band: Option<Band>,
}

/// One calendar week (Monday to Sunday, UTC) of the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct WeekTrend {
    /// The Monday, `YYYY-MM-DD`.
    pub week: String,
    #[ts(type = "number")]
    pub start: i64,
    pub deploys: u32,
    #[ts(type = "number | null")]
    pub lead_time_median_ms: Option<i64>,
    /// Deploys that ended this week, and the failed ones among them.
    pub ended: u32,
    pub failed: u32,
    pub change_failure_rate: Option<f64>,
    pub restores: u32,
    #[ts(type = "number | null")]
    pub restore_median_ms: Option<i64>,
}

/// The four measures of one environment over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EnvironmentInsights {
    pub project: String,
    pub environment: String,
    pub days: u32,
    #[ts(type = "number")]
    pub from: i64,
    #[ts(type = "number")]
    pub to: i64,
    pub deployment_frequency: DeploymentFrequency,
    pub lead_time: LeadTime,
    pub change_failure_rate: ChangeFailureRate,
    pub time_to_restore: TimeToRestore,
    /// Oldest first.
    pub weeks: Vec<WeekTrend>,
    /// What a reader should know about the numbers ("1 deploy has no commit time ...").
    pub notes: Vec<String>,
}

/// The answer of `insights`: every environment asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Insights {
    pub days: u32,
    #[ts(type = "number")]
    pub generated_at: i64,
    pub environments: Vec<EnvironmentInsights>,
}

/// Checks a window length.
pub fn check_days(days: u32) -> Result<u32, UserError> {
    if (1..=365).contains(&days) {
        Ok(days)
    } else {
        Err(UserError::new(
            "The window is not valid",
            format!("{days} days; a window is 1 to 365 days"),
            "Use 7, 30 or 90 days (--days 30)",
        ))
    }
}

/// When a revision's outcome was known.
fn moment(r: &Revision) -> i64 {
    r.finished_at.map_or(r.started_at, |f| f.max(r.started_at))
}

fn ended(r: &Revision) -> bool {
    r.status != RevisionStatus::InProgress
}

fn ready(r: &Revision) -> bool {
    r.status == RevisionStatus::Succeeded
}

/// The median of sorted values (the mean of the middle two for an even count).
fn median(sorted: &[i64]) -> Option<i64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

/// The p-th percentile of sorted values by nearest rank: the value at rank ⌈p·n⌉.
fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (p as usize * n).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

/// Revision numbers a later rollback undid (see the module's doc).
fn undone(revs: &[&Revision]) -> BTreeSet<u32> {
    let mut out = BTreeSet::new();
    for r in revs.iter().filter(|r| r.operation == DeployOperation::Rollback) {
        let to = r.rollback_to.unwrap_or_else(|| {
            // No target recorded: the newest ready revision before it.
            revs.iter().filter(|o| o.number < r.number && ready(o) && !out.contains(&o.number)).map(|o| o.number).max().unwrap_or(0)
        });
        for o in revs.iter().filter(|o| o.number > to && o.number < r.number && o.operation == DeployOperation::Deploy && ready(o)) {
            out.insert(o.number);
        }
        out.remove(&to);
    }
    out
}

/// An outage: from `start` to `end` (None: not over).
struct Outage {
    start: i64,
    end: Option<i64>,
}

fn outages(revs: &[&Revision], undone: &BTreeSet<u32>) -> Vec<Outage> {
    let mut out: Vec<Outage> = vec![];
    let mut since: Option<i64> = None;
    // The images serving are an undone deploy's.
    let mut serving_bad = false;
    for r in revs.iter().filter(|r| ended(r)) {
        let restored = match (r.status, r.operation) {
            (RevisionStatus::Failed, _) => {
                since.get_or_insert(r.started_at);
                false
            }
            (_, DeployOperation::Redeploy) => !serving_bad,
            _ => {
                serving_bad = undone.contains(&r.number);
                if serving_bad {
                    since.get_or_insert(moment(r));
                }
                !serving_bad
            }
        };
        if restored {
            if let Some(s) = since.take() {
                out.push(Outage { start: s, end: Some(moment(r)) });
            }
        }
    }
    if let Some(s) = since {
        out.push(Outage { start: s, end: None });
    }
    out
}

/// The four measures of one environment over the `days` before `now`. `revisions` are the
/// environment's (any order; all of them, since a deploy's first appearance and a later
/// rollback can lie outside the window); `commit_times` maps a commit to its time (ms).
pub fn compute(
    project: &str,
    environment: &str,
    revisions: &[Revision],
    commit_times: &HashMap<String, i64>,
    now: i64,
    days: u32,
) -> EnvironmentInsights {
    let (from, to) = (now - days as i64 * DAY_MS, now);
    let in_window = |t: i64| t >= from && t <= to;
    let mut revs: Vec<&Revision> = revisions.iter().filter(|r| r.project == project && r.environment == environment).collect();
    revs.sort_by_key(|r| r.number);
    let undone = undone(&revs);
    let deploys: Vec<&Revision> = revs.iter().copied().filter(|r| r.operation == DeployOperation::Deploy).collect();

    // Deployment frequency.
    let ready_deploys: Vec<i64> = deploys.iter().filter(|r| ready(r)).map(|r| moment(r)).filter(|t| in_window(*t)).collect();
    let attempted = deploys.iter().any(|r| ended(r) && in_window(moment(r)));
    let per_week = ready_deploys.len() as f64 * 7.0 / days as f64;
    let deployment_frequency = DeploymentFrequency {
        deploys: ready_deploys.len() as u32,
        per_week,
        band: attempted.then(|| Band::of_frequency(per_week)),
    };

    // Lead time: each commit's first ready deploy.
    let mut first_ready: BTreeMap<&str, i64> = BTreeMap::new();
    let mut no_commit = 0u32;
    for r in deploys.iter().filter(|r| ready(r)) {
        match r.commit.as_deref() {
            Some(c) => {
                first_ready.entry(c).or_insert(moment(r));
            }
            None if in_window(moment(r)) => no_commit += 1,
            None => {}
        }
    }
    let (mut leads, mut without, mut skewed): (Vec<(i64, i64)>, u32, u32) = (vec![], no_commit, 0);
    for (commit, at) in first_ready.iter().filter(|(_, at)| in_window(**at)) {
        match commit_times.get(*commit) {
            Some(ct) => {
                let d = at - ct;
                if d < 0 {
                    skewed += 1;
                }
                leads.push((*at, d.max(0)));
            }
            None => without += 1,
        }
    }
    let mut lead_values: Vec<i64> = leads.iter().map(|l| l.1).collect();
    lead_values.sort_unstable();
    let lead_median = median(&lead_values);
    let lead_time = LeadTime {
        changes: lead_values.len() as u32,
        median_ms: lead_median,
        p90_ms: percentile(&lead_values, 90),
        without_commit_time: without,
        skewed,
        band: lead_median.map(Band::of_lead_time),
    };

    // Change failure rate.
    let ended_deploys: Vec<(i64, u32, bool)> = deploys
        .iter()
        .filter(|r| ended(r) && in_window(moment(r)))
        .map(|r| (moment(r), r.number, r.status == RevisionStatus::Failed || undone.contains(&r.number)))
        .collect();
    let failed_revisions: Vec<u32> = ended_deploys.iter().filter(|d| d.2).map(|d| d.1).collect();
    let rate = (!ended_deploys.is_empty()).then(|| failed_revisions.len() as f64 / ended_deploys.len() as f64);
    let change_failure_rate = ChangeFailureRate {
        deploys: ended_deploys.len() as u32,
        failed: failed_revisions.len() as u32,
        rate,
        band: rate.map(Band::of_failure_rate),
        failed_revisions,
    };

    // Time to restore.
    let all_outages = outages(&revs, &undone);
    let mut restores: Vec<(i64, i64)> = vec![];
    let mut restore_skewed = 0;
    for o in &all_outages {
        if let Some(end) = o.end.filter(|e| in_window(*e)) {
            if end < o.start {
                restore_skewed += 1;
            }
            restores.push((end, (end - o.start).max(0)));
        }
    }
    let mut restore_values: Vec<i64> = restores.iter().map(|r| r.1).collect();
    restore_values.sort_unstable();
    let restore_median = median(&restore_values);
    let time_to_restore = TimeToRestore {
        restores: restore_values.len() as u32,
        median_ms: restore_median,
        skewed: restore_skewed,
        open_since: all_outages.iter().find(|o| o.end.is_none()).map(|o| o.start),
        band: restore_median.map(Band::of_restore),
    };

    // The weekly trend: calendar weeks from Monday (UTC) that overlap the window.
    let monday = |t: i64| {
        let day = t.div_euclid(DAY_MS);
        (day - (day + 3).rem_euclid(7)) * DAY_MS
    };
    let mut weeks = vec![];
    let mut start = monday(from);
    while start <= to {
        let end = start + WEEK_MS;
        let inside = |t: i64| t >= start && t < end;
        let mut lt: Vec<i64> = leads.iter().filter(|l| inside(l.0)).map(|l| l.1).collect();
        lt.sort_unstable();
        let mut rt: Vec<i64> = restores.iter().filter(|r| inside(r.0)).map(|r| r.1).collect();
        rt.sort_unstable();
        let week_ended: Vec<&(i64, u32, bool)> = ended_deploys.iter().filter(|d| inside(d.0)).collect();
        let week_failed = week_ended.iter().filter(|d| d.2).count() as u32;
        weeks.push(WeekTrend {
            week: format_date(start / DAY_MS),
            start,
            deploys: ready_deploys.iter().filter(|t| inside(**t)).count() as u32,
            lead_time_median_ms: median(&lt),
            ended: week_ended.len() as u32,
            failed: week_failed,
            change_failure_rate: (!week_ended.is_empty()).then(|| week_failed as f64 / week_ended.len() as f64),
            restores: rt.len() as u32,
            restore_median_ms: median(&rt),
        });
        start = end;
    }

    let mut notes = vec![];
    let plural = |n: u32, one: &str, many: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") };
    if lead_time.without_commit_time > 0 {
        notes.push(format!(
            "{} no known commit time, so {} not in the lead time",
            plural(lead_time.without_commit_time, "deployed change has", "deployed changes have"),
            if lead_time.without_commit_time == 1 { "it is" } else { "they are" }
        ));
    }
    if lead_time.skewed > 0 {
        notes.push(format!(
            "{} dated after {} deploy (a clock was off): counted as 0",
            plural(lead_time.skewed, "commit is", "commits are"),
            if lead_time.skewed == 1 { "its" } else { "their" }
        ));
    }
    if time_to_restore.skewed > 0 {
        notes.push(format!("{} ended before {} began by the clocks: counted as 0", plural(time_to_restore.skewed, "restore", "restores"), if time_to_restore.skewed == 1 { "its failure" } else { "their failures" }));
    }
    if let Some(s) = time_to_restore.open_since {
        notes.push(format!("{environment} has been failing since {} (UTC), not restored yet", crate::board::dates::format_timestamp(s)));
    }

    EnvironmentInsights {
        project: project.into(),
        environment: environment.into(),
        days,
        from,
        to,
        deployment_frequency,
        lead_time,
        change_failure_rate,
        time_to_restore,
        weeks,
        notes,
    }
}

/// "3 deploys this week, lead time 12 min": the Launch page's line, None with no deploy in the
/// last 7 days.
pub fn summary_line(week: &EnvironmentInsights) -> Option<String> {
    let n = week.deployment_frequency.deploys;
    if n == 0 {
        return None;
    }
    let mut s = format!("{n} deploy{} this week", if n == 1 { "" } else { "s" });
    if let Some(m) = week.lead_time.median_ms {
        s.push_str(&format!(", lead time {}", human_duration(m)));
    }
    Some(s)
}

/// A duration the way the pages show it: "45 s", "12 min", "3.5 h", "2.1 d".
pub fn human_duration(ms: i64) -> String {
    let s = ms / 1000;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", (s + 30) / 60)
    } else if s < 86_400 {
        format!("{:.1} h", s as f64 / 3600.0)
    } else {
        format!("{:.1} d", s as f64 / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    /// Thursday 2024-03-07 00:00 UTC: the reference "now" of the fixtures.
    const NOW: i64 = 1_709_769_600_000;

    fn rev(number: u32, op: DeployOperation, commit: Option<&str>, status: RevisionStatus, started: i64, finished: i64) -> Revision {
        Revision {
            project: "shop".into(),
            environment: "live".into(),
            number,
            operation: op,
            run: None,
            commit: commit.map(str::to_string),
            rollback_to: None,
            reason: String::new(),
            images: vec![],
            context: None,
            namespace: None,
            status,
            started_at: started,
            finished_at: (status != RevisionStatus::InProgress).then_some(finished),
            error: None,
            url: None,
            note: None,
        }
    }

    fn deploy(n: u32, commit: Option<&str>, ok: bool, at: i64) -> Revision {
        rev(n, DeployOperation::Deploy, commit, if ok { RevisionStatus::Succeeded } else { RevisionStatus::Failed }, at - 2 * MIN, at)
    }

    fn rollback(n: u32, to: u32, at: i64) -> Revision {
        let mut r = rev(n, DeployOperation::Rollback, None, RevisionStatus::Succeeded, at - MIN, at);
        r.rollback_to = Some(to);
        r
    }

    fn times(v: &[(&str, i64)]) -> HashMap<String, i64> {
        v.iter().map(|(c, t)| (c.to_string(), *t)).collect()
    }

    fn run(revs: &[Revision], commits: &HashMap<String, i64>, days: u32) -> EnvironmentInsights {
        compute("shop", "live", revs, commits, NOW, days)
    }

    #[test]
    fn bands_follow_the_dora_thresholds() {
        assert_eq!(Band::of_frequency(7.0), Band::Elite);
        assert_eq!(Band::of_frequency(6.9), Band::High);
        assert_eq!(Band::of_frequency(1.0), Band::High);
        assert_eq!(Band::of_frequency(0.25), Band::Medium);
        assert_eq!(Band::of_frequency(0.2), Band::Low);
        assert_eq!(Band::of_lead_time(DAY_MS - 1), Band::Elite);
        assert_eq!(Band::of_lead_time(DAY_MS), Band::High);
        assert_eq!(Band::of_lead_time(WEEK_MS), Band::Medium);
        assert_eq!(Band::of_lead_time(30 * DAY_MS), Band::Low);
        assert_eq!(Band::of_failure_rate(1.0 / 20.0), Band::Elite);
        assert_eq!(Band::of_failure_rate(0.1), Band::High);
        assert_eq!(Band::of_failure_rate(0.15), Band::Medium);
        assert_eq!(Band::of_failure_rate(0.16), Band::Low);
        assert_eq!(Band::of_restore(59 * MIN), Band::Elite);
        assert_eq!(Band::of_restore(HOUR_MS), Band::High);
        assert_eq!(Band::of_restore(DAY_MS), Band::Medium);
        assert_eq!(Band::of_restore(WEEK_MS), Band::Low);
    }

    #[test]
    fn a_window_with_no_deploys_has_zeros_and_no_bands() {
        // One deploy 40 days ago: outside a 30-day window, inside a 90-day one.
        let revs = [deploy(1, Some("a"), true, NOW - 40 * DAY_MS)];
        let c = times(&[("a", NOW - 40 * DAY_MS - 30 * MIN)]);
        let i = run(&revs, &c, 30);
        assert_eq!(i.deployment_frequency, DeploymentFrequency { deploys: 0, per_week: 0.0, band: None });
        assert_eq!((i.lead_time.changes, i.lead_time.median_ms, i.lead_time.band), (0, None, None));
        assert_eq!((i.change_failure_rate.deploys, i.change_failure_rate.rate, i.change_failure_rate.band), (0, None, None));
        assert_eq!((i.time_to_restore.restores, i.time_to_restore.median_ms, i.time_to_restore.open_since), (0, None, None));
        assert!(i.notes.is_empty(), "{:?}", i.notes);
        // 30 days before Thursday 2024-03-07 is Tuesday 2024-02-06: weeks from Monday 02-05.
        let weeks: Vec<&str> = i.weeks.iter().map(|w| w.week.as_str()).collect();
        assert_eq!(weeks, ["2024-02-05", "2024-02-12", "2024-02-19", "2024-02-26", "2024-03-04"]);
        assert!(i.weeks.iter().all(|w| w.deploys == 0 && w.ended == 0 && w.change_failure_rate.is_none()));
        // Nothing at all: the same.
        let none = run(&[], &HashMap::new(), 7);
        assert_eq!(none.deployment_frequency.band, None);
        assert_eq!(none.weeks.len(), 2, "2024-02-29 (Thu) to 2024-03-07 (Thu) touches two weeks");
        // The 90-day window sees it: 1 deploy in 90 days is 0.0777/week, low; lead 30 min.
        let i = run(&revs, &c, 90);
        assert_eq!(i.deployment_frequency.deploys, 1);
        assert!((i.deployment_frequency.per_week - 7.0 / 90.0).abs() < 1e-9);
        assert_eq!(i.deployment_frequency.band, Some(Band::Low));
        assert_eq!((i.lead_time.median_ms, i.lead_time.band), (Some(30 * MIN), Some(Band::Elite)));
    }

    #[test]
    fn the_four_measures_of_a_fixed_history() {
        // Seven days, all in the week of Monday 2024-03-04 (NOW is Thursday 03-07 00:00):
        // 1 deploy a, ready 03-04 10:00, committed 09:50          -> lead 10 min
        // 2 deploy b, ready 03-05 10:00, committed 03-04 10:00    -> lead 24 h
        // 3 deploy c, rollout failed 03-05 12:00 (started 11:58)  -> failure; outage from 11:58
        // 4 rollback to 2, ready 03-05 12:30                      -> restored: 32 min
        // 5 redeploy (restart of 4), ready 03-06 09:00            -> not a deploy
        // 6 deploy d, ready 03-06 10:00, committed 03-06 08:00    -> lead 2 h
        // 7 deploy a again (same commit as 1), ready 03-06 11:00  -> a deploy, no new change
        let mon = NOW - 3 * DAY_MS;
        let revs = vec![
            deploy(1, Some("a"), true, mon + 10 * HOUR_MS),
            deploy(2, Some("b"), true, mon + DAY_MS + 10 * HOUR_MS),
            deploy(3, Some("c"), false, mon + DAY_MS + 12 * HOUR_MS),
            rollback(4, 2, mon + DAY_MS + 12 * HOUR_MS + 30 * MIN),
            rev(5, DeployOperation::Redeploy, Some("b"), RevisionStatus::Succeeded, mon + 2 * DAY_MS + 9 * HOUR_MS - MIN, mon + 2 * DAY_MS + 9 * HOUR_MS),
            deploy(6, Some("d"), true, mon + 2 * DAY_MS + 10 * HOUR_MS),
            deploy(7, Some("a"), true, mon + 2 * DAY_MS + 11 * HOUR_MS),
        ];
        let c = times(&[
            ("a", mon + 9 * HOUR_MS + 50 * MIN),
            ("b", mon + 10 * HOUR_MS),
            ("c", mon + DAY_MS + 11 * HOUR_MS),
            ("d", mon + 2 * DAY_MS + 8 * HOUR_MS),
        ]);
        let i = run(&revs, &c, 7);
        // 4 ready deploys (1, 2, 6, 7) in 7 days: 4 per week, high.
        assert_eq!(i.deployment_frequency, DeploymentFrequency { deploys: 4, per_week: 4.0, band: Some(Band::High) });
        // Changes a, b, d (c never got ready): 10 min, 2 h, 24 h -> median 2 h, p90 (rank 3) 24 h.
        assert_eq!(i.lead_time.changes, 3);
        assert_eq!(i.lead_time.median_ms, Some(2 * HOUR_MS));
        assert_eq!(i.lead_time.p90_ms, Some(DAY_MS));
        assert_eq!(i.lead_time.band, Some(Band::Elite));
        // 5 deploys ended (1, 2, 3, 6, 7), 1 failed (3): 20%, low.
        assert_eq!((i.change_failure_rate.deploys, i.change_failure_rate.failed), (5, 1));
        assert_eq!(i.change_failure_rate.failed_revisions, [3]);
        assert_eq!(i.change_failure_rate.rate, Some(0.2));
        assert_eq!(i.change_failure_rate.band, Some(Band::Low));
        // One outage: from 3's start (12:00 - 2 min) to 4 ready (12:30): 32 min, elite.
        assert_eq!((i.time_to_restore.restores, i.time_to_restore.median_ms), (1, Some(32 * MIN)));
        assert_eq!((i.time_to_restore.band, i.time_to_restore.open_since), (Some(Band::Elite), None));
        // The trend: the week of 02-26 (the window starts Thursday 02-29) is empty.
        assert_eq!(i.weeks.len(), 2);
        assert_eq!((i.weeks[0].week.as_str(), i.weeks[0].deploys), ("2024-02-26", 0));
        let w = &i.weeks[1];
        assert_eq!((w.week.as_str(), w.deploys, w.ended, w.failed, w.restores), ("2024-03-04", 4, 5, 1, 1));
        assert_eq!((w.lead_time_median_ms, w.restore_median_ms, w.change_failure_rate), (Some(2 * HOUR_MS), Some(32 * MIN), Some(0.2)));
        assert!(i.notes.is_empty(), "{:?}", i.notes);
        // Another environment's revisions are not counted.
        let mut other = revs.clone();
        for r in &mut other {
            r.environment = "test".into();
        }
        assert_eq!(run(&other, &c, 7).deployment_frequency.deploys, 0);
    }

    #[test]
    fn a_deploy_with_no_commit_time_counts_as_a_deploy_but_not_in_the_lead_time() {
        let revs = [
            deploy(1, Some("a"), true, NOW - 2 * HOUR_MS),
            deploy(2, None, true, NOW - HOUR_MS),           // images deployed by hand: no commit
            deploy(3, Some("b"), true, NOW - 30 * MIN), // a commit no run recorded a time for
        ];
        let c = times(&[("a", NOW - 3 * HOUR_MS)]);
        let i = run(&revs, &c, 7);
        assert_eq!(i.deployment_frequency.deploys, 3);
        assert_eq!((i.lead_time.changes, i.lead_time.without_commit_time), (1, 2));
        assert_eq!((i.lead_time.median_ms, i.lead_time.p90_ms), (Some(HOUR_MS), Some(HOUR_MS)));
        assert_eq!(i.notes, ["2 deployed changes have no known commit time, so they are not in the lead time"]);
        assert_eq!(i.change_failure_rate.rate, Some(0.0));
        assert_eq!(i.change_failure_rate.band, Some(Band::Elite));
    }

    #[test]
    fn a_rollback_past_several_deploys_fails_each_of_them_and_restores_once() {
        // 1 a ready (good), 2 b ready, 3 restart of 2, 4 c ready, then 5 rolls back to 1: b and
        // c were both bad. Service was bad from 2 going live until 5 was ready.
        let t0 = NOW - 10 * HOUR_MS;
        let revs = vec![
            deploy(1, Some("a"), true, t0),
            deploy(2, Some("b"), true, t0 + HOUR_MS),
            rev(3, DeployOperation::Redeploy, Some("b"), RevisionStatus::Succeeded, t0 + 2 * HOUR_MS - MIN, t0 + 2 * HOUR_MS),
            deploy(4, Some("c"), true, t0 + 3 * HOUR_MS),
            rollback(5, 1, t0 + 4 * HOUR_MS + 30 * MIN),
        ];
        let i = run(&revs, &HashMap::new(), 7);
        assert_eq!(i.change_failure_rate.failed_revisions, [2, 4]);
        assert_eq!((i.change_failure_rate.deploys, i.change_failure_rate.failed), (3, 2));
        assert!((i.change_failure_rate.rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!((i.time_to_restore.restores, i.time_to_restore.median_ms), (1, Some(3 * HOUR_MS + 30 * MIN)));
        assert_eq!(i.time_to_restore.band, Some(Band::High));
        // Rolling back to the newer of them (b was fine after all) makes b good again; c stays
        // failed. The restore of 6 ends no outage (none was open).
        let mut more = revs.clone();
        more.push(rollback(6, 2, t0 + 5 * HOUR_MS));
        let i = run(&more, &HashMap::new(), 7);
        assert_eq!(i.change_failure_rate.failed_revisions, [4]);
        // With b good again the outage runs from c going live (t0+3h) to 5 ready (t0+4h30).
        assert_eq!((i.time_to_restore.restores, i.time_to_restore.median_ms), (1, Some(90 * MIN)));
        // A rollback only to the previous revision (1, 2, rollback to 1) fails only 2.
        let simple = vec![deploy(1, Some("a"), true, t0), deploy(2, Some("b"), true, t0 + HOUR_MS), rollback(3, 1, t0 + HOUR_MS + 20 * MIN)];
        let i = run(&simple, &HashMap::new(), 7);
        assert_eq!(i.change_failure_rate.failed_revisions, [2]);
        assert_eq!(i.time_to_restore.median_ms, Some(20 * MIN));
    }

    #[test]
    fn clock_skew_is_clamped_and_said() {
        // The commit is dated 5 minutes after its deploy was ready (the developer's clock ran
        // ahead); the store's clock jumped back between revisions 2 and 3, so 3 (the restore)
        // reads earlier than 2 (the failure). Order comes from the numbers, durations are
        // clamped to 0, and both are reported.
        let revs = vec![
            deploy(1, Some("a"), true, NOW - HOUR_MS),
            deploy(2, Some("b"), false, NOW - 20 * MIN),
            rollback(3, 1, NOW - 25 * MIN),
        ];
        let c = times(&[("a", NOW - HOUR_MS + 5 * MIN), ("b", NOW - 2 * HOUR_MS)]);
        let i = run(&revs, &c, 7);
        assert_eq!((i.lead_time.changes, i.lead_time.skewed, i.lead_time.median_ms), (1, 1, Some(0)));
        // The failure started at 2's start (NOW-22 min), 3 was ready at NOW-25 min: -3 min.
        assert_eq!((i.time_to_restore.restores, i.time_to_restore.skewed, i.time_to_restore.median_ms), (1, 1, Some(0)));
        assert_eq!(
            i.notes,
            ["1 commit is dated after its deploy (a clock was off): counted as 0", "1 restore ended before its failure began by the clocks: counted as 0"]
        );
        // A finish stamped before its start counts from the start.
        let mut odd = deploy(1, Some("a"), true, NOW - HOUR_MS);
        odd.finished_at = Some(odd.started_at - 10 * MIN);
        let i = run(&[odd], &times(&[("a", NOW - 2 * HOUR_MS)]), 7);
        assert_eq!(i.lead_time.median_ms, Some(HOUR_MS - 2 * MIN));
    }

    #[test]
    fn a_failure_not_yet_restored_is_open() {
        let revs = [deploy(1, Some("a"), true, NOW - 3 * HOUR_MS), deploy(2, Some("b"), false, NOW - HOUR_MS)];
        let i = run(&revs, &times(&[("a", NOW - 4 * HOUR_MS)]), 7);
        assert_eq!(i.time_to_restore.open_since, Some(NOW - HOUR_MS - 2 * MIN));
        assert_eq!((i.time_to_restore.restores, i.time_to_restore.band), (0, None));
        assert_eq!(i.notes, ["live has been failing since 2024-03-06 22:58 (UTC), not restored yet"]);
        // A deploy only attempted (rollout failed) still gives frequency a band: low.
        let i = run(&revs[1..], &HashMap::new(), 7);
        assert_eq!((i.deployment_frequency.deploys, i.deployment_frequency.band), (0, Some(Band::Low)));
    }

    #[test]
    fn windows_are_checked_and_the_summary_line_reads_well() {
        assert!(check_days(0).unwrap_err().why.contains("1 to 365"));
        assert!(check_days(400).is_err());
        assert_eq!(check_days(30).unwrap(), 30);
        let revs = [deploy(1, Some("a"), true, NOW - HOUR_MS), deploy(2, Some("b"), true, NOW - 30 * MIN), deploy(3, Some("c"), true, NOW - 10 * MIN)];
        let c = times(&[("a", NOW - HOUR_MS - 12 * MIN), ("b", NOW - 45 * MIN), ("c", NOW - 20 * MIN)]);
        assert_eq!(summary_line(&run(&revs, &c, 7)).as_deref(), Some("3 deploys this week, lead time 12 min"));
        assert_eq!(summary_line(&run(&[], &c, 7)), None);
        assert_eq!(human_duration(45_000), "45 s");
        assert_eq!(human_duration(90 * MIN), "1.5 h");
        assert_eq!(human_duration(3 * DAY_MS), "3.0 d");
    }

    #[test]
    fn median_and_percentile_by_hand() {
        assert_eq!(median(&[1, 2, 3, 4]), Some(2));
        assert_eq!(median(&[5]), Some(5));
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 90), Some(9));
        let eleven: Vec<i64> = (1..=11).collect();
        assert_eq!(percentile(&eleven, 90), Some(10));
        assert_eq!(percentile(&[7], 90), Some(7));
    }
}
