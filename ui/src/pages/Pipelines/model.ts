// Pure helpers of the Pipelines page: wording of stages, statuses and triggers, durations, the
// fold of runUpdated events into the list of runs, the stage graph's view of a run, and which
// stage and step to show by default. No React here, so it is easy to test.

import type { EventEnvelope } from "../../bindings/EventEnvelope";
import type { Run } from "../../bindings/Run";
import type { StageName } from "../../bindings/StageName";
import type { StageRun } from "../../bindings/StageRun";
import type { Status } from "../../bindings/Status";
import type { Trigger } from "../../bindings/Trigger";
import type { UserError } from "../../bindings/UserError";

export const STAGES: readonly StageName[] = ["checkout", "build", "test", "push", "deploy"];

export const STAGE_LABEL: Record<StageName, string> = {
  checkout: "Checkout",
  build: "Build",
  test: "Test",
  push: "Push",
  deploy: "Deploy",
};

export const STATUS_LABEL: Record<Status, string> = {
  queued: "queued",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  skipped: "skipped",
  cancelled: "cancelled",
};

/** The stages a run can be stopped after (the "Stop after" choice; Rust's `until`). */
export const UNTIL_CHOICES: readonly (StageName | null)[] = [null, "checkout", "build", "test"];

/** Queued or running: more will happen. */
export function isActive(s: Status): boolean {
  return s === "queued" || s === "running";
}

export function isFinal(s: Status): boolean {
  return !isActive(s);
}

/**
 * "0.7s" under ten seconds, "42s" under a minute, "3m 07s" under an hour, then "1h 02m".
 * Negative spans (clock skew) count as zero.
 */
export function formatDuration(ms: number): string {
  const t = Math.max(0, ms);
  if (t < 10_000) return `${(Math.floor(t / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(t / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/**
 * Time from start to finish, or to `now` while it goes on; null before it started, and null when
 * it ended without a recorded end (a run interrupted by a crash).
 */
export function span(startedAt: number | null, finishedAt: number | null, status: Status, now: number): number | null {
  if (startedAt === null) return null;
  if (finishedAt !== null) return finishedAt - startedAt;
  return isActive(status) ? now - startedAt : null;
}

export function runDuration(run: Run, now: number): number | null {
  return span(run.startedAt, run.finishedAt, run.status, now);
}

export function stageDuration(stage: StageRun, now: number): number | null {
  return span(stage.startedAt, stage.finishedAt, stage.status, now);
}

/** The first 12 hex digits, like the image tags and the CLI. */
export function shortSha(sha: string | null): string {
  return sha ? sha.slice(0, 12) : "";
}

export function triggerLabel(t: Trigger): string {
  switch (t.kind) {
    case "manual":
      return "manual";
    case "rerun":
      return `re-run of ${t.of}`;
    case "commit":
      return `commit ${shortSha(t.sha)}`;
  }
}

// ---- runs from events ----------------------------------------------------------------------

const STATUS_RANK: Record<Status, number> = { queued: 0, running: 1, succeeded: 2, failed: 2, skipped: 2, cancelled: 2 };

/**
 * How far along a run is. Every change the runner reports only adds to it (statuses move from
 * queued to running to an end, steps and artifacts are only added), so of two snapshots of one
 * run the one with the higher score is the later. Used to keep a stale answer of runs() or
 * get_run() from overwriting what an event already showed.
 */
export function runScore(run: Run): number {
  let score = STATUS_RANK[run.status] * 10_000;
  for (const st of run.stages) {
    score += STATUS_RANK[st.status] * 100;
    for (const step of st.steps) score += 1 + STATUS_RANK[step.status];
  }
  const a = run.artifacts;
  score += a.tests.length + a.coverage.length + a.images.length + a.images.filter((i) => i.digest !== null).length;
  if (a.url !== null) score += 1;
  if (run.commit !== null) score += 1;
  return score;
}

/** Newest first: by creation time, then by number. */
export function sortRuns(runs: Run[]): Run[] {
  return [...runs].sort((a, b) => b.createdAt - a.createdAt || b.number - a.number);
}

/** Adds or updates one run in a list (newest first), never replacing a later snapshot with an earlier one. */
export function mergeRun(list: Run[], run: Run): Run[] {
  const i = list.findIndex((r) => r.id === run.id);
  if (i === -1) return sortRuns([...list, run]);
  if (runScore(run) < runScore(list[i])) return list;
  const next = [...list];
  next[i] = run;
  return next;
}

/** Merges a fetched list into what the page shows (events may already be ahead of it). */
export function mergeRuns(list: Run[], fetched: Run[]): Run[] {
  return fetched.reduce(mergeRun, list);
}

/** The runs carried by a batch of events, in order; `project` null takes every project's. */
export function runsFromEvents(batch: EventEnvelope[], project: string | null): Run[] {
  const out: Run[] = [];
  for (const env of batch) {
    const e = env.event;
    if (e.type === "runUpdated" && (project === null || e.run.project === project)) out.push(e.run);
  }
  return out;
}

// ---- the stage graph -----------------------------------------------------------------------

export type StageView = {
  name: StageName;
  label: string;
  status: Status;
  /** "12s", ticking while it runs; null when it never started. */
  duration: string | null;
  error: UserError | null;
  /** Skipped because the run stops before it ("Stop after"). */
  afterUntil: boolean;
  /** Steps so far, e.g. "2 steps". */
  steps: number;
};

export function stageViews(run: Run, now: number): StageView[] {
  const untilIndex = run.until === null ? STAGES.length - 1 : STAGES.indexOf(run.until);
  return STAGES.map((name, i) => {
    const st = run.stages.find((s) => s.name === name);
    const status: Status = st?.status ?? "queued";
    const d = st ? stageDuration(st, now) : null;
    return {
      name,
      label: STAGE_LABEL[name],
      status,
      duration: d === null ? null : formatDuration(d),
      error: st?.error ?? null,
      afterUntil: i > untilIndex,
      steps: st?.steps.length ?? 0,
    };
  });
}

export const GRAPH_NODE_W = 168;
export const GRAPH_NODE_H = 74;
const GRAPH_GAP = 46;

/** Fixed positions: the five stages left to right. */
export function graphPositions(): { id: StageName; x: number; y: number }[] {
  return STAGES.map((id, i) => ({ id, x: i * (GRAPH_NODE_W + GRAPH_GAP), y: 0 }));
}

export type GraphEdge = { id: string; source: StageName; target: StageName; animated: boolean; className: string };

/** One edge between consecutive stages; it is animated while the stage it leads to runs. */
export function graphEdges(run: Run | null): GraphEdge[] {
  const status = (n: StageName): Status => run?.stages.find((s) => s.name === n)?.status ?? "queued";
  return STAGES.slice(1).map((target, i) => {
    const source = STAGES[i];
    const s = status(source);
    const reached = s === "succeeded" && status(target) !== "skipped" && status(target) !== "cancelled";
    return {
      id: `${source}->${target}`,
      source,
      target,
      animated: status(target) === "running",
      className: `pl-edge ${reached ? "pl-edge-reached" : "pl-edge-idle"}`,
    };
  });
}

/** The stage to show when nobody picked one: the running one, else the failed one, else the last that ran. */
export function defaultStage(run: Run): StageName {
  const by = (s: Status) => run.stages.find((st) => st.status === s)?.name;
  const ran = run.stages.filter((st) => st.startedAt !== null);
  return by("running") ?? by("failed") ?? ran.at(-1)?.name ?? "checkout";
}

/** The step to show when nobody picked one: the running one, else the failed one, else Slipway's own log. */
export function defaultStep(available: string[], stage: StageRun | undefined): string | null {
  if (available.length === 0) return null;
  const steps = stage?.steps ?? [];
  const pick = (s: Status) => [...steps].reverse().find((st) => st.status === s && available.includes(st.name))?.name;
  return pick("running") ?? pick("failed") ?? (available.includes("slipway") ? "slipway" : available[0]);
}

/** What a step tab says: "Slipway" for Slipway's own lines, else the step's name. */
export function stepLabel(step: string): string {
  return step === "slipway" ? "Slipway" : step;
}

/** The status of a step tab: from the run's steps; Slipway's own log follows its stage. */
export function stepStatus(step: string, stage: StageRun | undefined): Status | null {
  if (!stage) return null;
  if (step === "slipway") return stage.status;
  return [...stage.steps].reverse().find((s) => s.name === step)?.status ?? null;
}

/** Test results: the failing cases of a report (failed or error), in report order. */
export function failingCases<T extends { outcome: string }>(cases: T[]): T[] {
  return cases.filter((c) => c.outcome === "failed" || c.outcome === "error");
}

export function percent(rate: number): string {
  return `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
}
