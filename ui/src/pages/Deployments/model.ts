// Pure helpers of the Deployments page: wording, the fold of revisionUpdated and deployProgress
// events into the history and the live rollout, which revisions can be rolled back to, the
// environment form (to and from the generated Environment type), the bounded buffer of merged
// log lines, and the colour of each pod's prefix. No React here, so it is easy to test.

import type { DeployLogLine } from "../../bindings/DeployLogLine";
import type { DeployOperation } from "../../bindings/DeployOperation";
import type { Environment } from "../../bindings/Environment";
import type { EventEnvelope } from "../../bindings/EventEnvelope";
import type { KubeDatabase } from "../../bindings/KubeDatabase";
import type { PodInfo } from "../../bindings/PodInfo";
import type { Revision } from "../../bindings/Revision";
import type { RevisionStatus } from "../../bindings/RevisionStatus";
import type { RolloutPhase } from "../../bindings/RolloutPhase";
import type { RolloutProgress } from "../../bindings/RolloutProgress";
import type { UserError } from "../../bindings/UserError";

/** deploy_status is read again this often while the page is visible. */
export const POLL_MS = 5_000;
/** The log view keeps at most this many lines (the oldest go first). */
export const LOG_CAP = 5_000;
/** Lines of each container the log view starts with. */
export const DEFAULT_TAIL = 200;

export const OPERATION_LABEL: Record<DeployOperation, string> = {
  deploy: "Deploy",
  redeploy: "Redeploy",
  rollback: "Rollback",
};

export const REVISION_STATUS_LABEL: Record<RevisionStatus, string> = {
  inProgress: "in progress",
  succeeded: "succeeded",
  failed: "failed",
};

export const PHASE_LABEL: Record<RolloutPhase, string> = {
  applying: "Applying",
  rollingOut: "Rolling out",
  succeeded: "Rolled out",
  failed: "Failed",
};

/** The `status-*` class (shared with the Pipelines page's pills) of a revision or a rollout phase. */
export function statusClass(s: RevisionStatus | RolloutPhase): "running" | "succeeded" | "failed" {
  if (s === "succeeded" || s === "failed") return s;
  return "running";
}

/** Where an environment deploys, in a line. */
export function targetLabel(env: Environment): string {
  const t = env.target;
  if (t.kind === "local") return "the local Docker engine";
  const parts = [`context ${t.context ?? "(current)"}`, `namespace ${t.namespace ?? "(from the manifests)"}`];
  parts.push(t.database.kind === "rds" ? `database: RDS ${t.database.instance ?? "db-live"}` : "database in the cluster");
  return `Kubernetes · ${parts.join(" · ")}`;
}

export const isKube = (env: Environment) => env.target.kind === "kubernetes";

// ---- revisions -----------------------------------------------------------------------------

/** A revision only moves from in progress to an end; of two snapshots the ended one is the later. */
const STATUS_RANK: Record<RevisionStatus, number> = { inProgress: 0, succeeded: 1, failed: 1 };

/** Adds or updates one revision in a list (newest first), never replacing an ended snapshot with an in-progress one. */
export function mergeRevision(list: Revision[], rev: Revision): Revision[] {
  const i = list.findIndex((r) => r.number === rev.number);
  if (i === -1) return [...list, rev].sort((a, b) => b.number - a.number);
  if (STATUS_RANK[rev.status] < STATUS_RANK[list[i].status]) return list;
  const next = [...list];
  next[i] = rev;
  return next;
}

/** Merges a fetched history into what the page shows (events may already be ahead of it). */
export function mergeRevisions(list: Revision[], fetched: Revision[]): Revision[] {
  return fetched.reduce(mergeRevision, list);
}

/** The revisions of one environment carried by a batch of events, in order. */
export function revisionsFromEvents(batch: EventEnvelope[], project: string, environment: string): Revision[] {
  const out: Revision[] = [];
  for (const { event: e } of batch) {
    if (e.type === "revisionUpdated" && e.revision.project === project && e.revision.environment === environment) out.push(e.revision);
  }
  return out;
}

/** The rollout snapshots of one environment carried by a batch of events, in order. */
export function progressFromEvents(batch: EventEnvelope[], project: string, environment: string): RolloutProgress[] {
  const out: RolloutProgress[] = [];
  for (const { event: e } of batch) {
    if (e.type === "deployProgress" && e.project === project && e.environment === environment) {
      const { type: _type, ...p } = e;
      out.push(p);
    }
  }
  return out;
}

/**
 * The live view of a rollout after one more snapshot. "Applying" and the final "failed" line
 * of a revision carry no workloads or pods: the view keeps the ones it showed for that revision,
 * so the pod that failed stays on screen beside the error.
 */
export function foldProgress(prev: RolloutProgress | null, next: RolloutProgress): RolloutProgress {
  if (prev && prev.revision === next.revision && next.workloads.length === 0 && next.pods.length === 0) {
    return { ...next, workloads: prev.workloads, pods: prev.pods };
  }
  return next;
}

/** The revision serving now: the newest that succeeded (like the Rust side's `current`). */
export function currentRevision(revisions: Revision[]): number | null {
  let best: number | null = null;
  for (const r of revisions) if (r.status === "succeeded" && (best === null || r.number > best)) best = r.number;
  return best;
}

/** Whether a revision gets "Roll back to this": it succeeded and is older than the one serving. */
export function canRollBackTo(rev: Revision, current: number | null): boolean {
  return current !== null && rev.status === "succeeded" && rev.number < current;
}

function sameImages(a: Revision, b: Revision): boolean {
  const set = (r: Revision) => r.images.map((i) => `${i.workload}\n${i.container}\n${i.image}`).sort().join("\n\n");
  return set(a) === set(b);
}

/**
 * What Rollback (with no revision named) goes back to, as the Rust side picks it: the newest
 * earlier revision that succeeded with other images than the one serving.
 */
export function defaultRollbackTarget(revisions: Revision[], current: number | null): Revision | null {
  const cur = revisions.find((r) => r.number === current);
  if (!cur) return null;
  const older = revisions.filter((r) => canRollBackTo(r, current) && !sameImages(r, cur));
  return older.reduce<Revision | null>((best, r) => (best === null || r.number > best.number ? r : best), null);
}

/** A revision's images in a line ("backend sample-app-backend:4f2a…, frontend …"). */
export function imagesLabel(rev: Revision): string {
  return rev.images.map((i) => `${i.workload} ${i.image}`).join(", ");
}

/** The pod's state as one word for styling: ready, starting, failing, terminating. */
export function podState(p: PodInfo): "ready" | "starting" | "failing" | "terminating" {
  if (p.phase === "Terminating") return "terminating";
  if (p.ready) return "ready";
  if (p.phase === "Failed" || (p.reason !== null && /BackOff|Err|Error|Unschedulable|OOMKilled|CreateContainer/.test(p.reason))) return "failing";
  return "starting";
}

/** The rollback reason a person typed, or the error the Rust side would give for an empty one. */
export function checkReason(reason: string): UserError | null {
  if (reason.trim() !== "") return null;
  return {
    what: "A rollback needs a reason",
    why: "no reason was given",
    fix: 'Say why (it is kept in the history), e.g. "checkout page returns 500"',
  };
}

// ---- the environment form ------------------------------------------------------------------

export type EnvForm = {
  name: string;
  kind: "local" | "kubernetes";
  kubeconfig: string;
  /** "" = the connected or current context. */
  context: string;
  namespace: string;
  database: KubeDatabase["kind"];
  rdsBlueprint: string;
  rdsInstance: string;
  /** Seconds as typed; "" = the manifests' own. */
  deadline: string;
  runs: boolean;
};

export function emptyForm(): EnvForm {
  return { name: "", kind: "kubernetes", kubeconfig: "", context: "", namespace: "", database: "inCluster", rdsBlueprint: "", rdsInstance: "", deadline: "", runs: false };
}

export function formFromEnvironment(env: Environment): EnvForm {
  const t = env.target;
  if (t.kind === "local") return { ...emptyForm(), name: env.name, kind: "local", runs: env.runs };
  return {
    name: env.name,
    kind: "kubernetes",
    kubeconfig: t.kubeconfig ?? "",
    context: t.context ?? "",
    namespace: t.namespace ?? "",
    database: t.database.kind,
    rdsBlueprint: t.database.kind === "rds" ? (t.database.blueprint ?? "") : "",
    rdsInstance: t.database.kind === "rds" ? (t.database.instance ?? "") : "",
    deadline: t.progressDeadlineSecs === null ? "" : String(t.progressDeadlineSecs),
    runs: env.runs,
  };
}

const orNull = (s: string) => (s.trim() === "" ? null : s.trim());

/**
 * The Environment a form describes (empty fields are null: the defaults), or an error for what
 * cannot even be sent (a deadline that is not a whole number). Everything else the Rust side
 * checks, and its error is shown as it comes.
 */
export function environmentFromForm(form: EnvForm, project: string): { environment: Environment } | { error: UserError } {
  const name = form.name.trim();
  if (form.kind === "local") return { environment: { project, name, target: { kind: "local" }, runs: form.runs } };
  const d = form.deadline.trim();
  if (d !== "" && !/^\d+$/.test(d)) {
    return { error: { what: "Environment settings are not valid", why: `"${d}" is not a whole number of seconds`, fix: "Use 10 to 3600 seconds, or leave it empty for the manifests' own" } };
  }
  const database: KubeDatabase =
    form.database === "rds" ? { kind: "rds", blueprint: orNull(form.rdsBlueprint), instance: orNull(form.rdsInstance) } : { kind: "inCluster" };
  return {
    environment: {
      project,
      name,
      target: {
        kind: "kubernetes",
        context: orNull(form.context),
        kubeconfig: orNull(form.kubeconfig),
        namespace: orNull(form.namespace),
        database,
        progressDeadlineSecs: d === "" ? null : Number(d),
      },
      runs: form.runs,
    },
  };
}

// ---- merged logs ---------------------------------------------------------------------------

export type LogEntry = DeployLogLine & { id: number };

/** The lines shown (at most `cap`, the newest), how many older ones were dropped, and the next line id. */
export type LogBuffer = { lines: LogEntry[]; dropped: number; nextId: number };

export const emptyLog = (): LogBuffer => ({ lines: [], dropped: 0, nextId: 0 });

/** Appends lines, keeping the newest `cap`; every line gets a stable id (for React keys). */
export function appendLog(buf: LogBuffer, lines: DeployLogLine[], cap: number = LOG_CAP): LogBuffer {
  if (lines.length === 0) return buf;
  let id = buf.nextId;
  const added = lines.map((l) => ({ ...l, id: id++ }));
  const all = buf.lines.concat(added);
  const over = Math.max(0, all.length - cap);
  return { lines: over > 0 ? all.slice(over) : all, dropped: buf.dropped + over, nextId: id };
}

/** How many colours pod prefixes cycle through (classes `dp-pod-0` to `dp-pod-9`). */
export const POD_COLOURS = 10;

/**
 * Gives each pod its own colour in the order pods appear; a pod keeps its colour. Past
 * POD_COLOURS pods the colours repeat, the least recently assigned first.
 */
export class PodColours {
  private byPod = new Map<string, number>();

  of(pod: string): number {
    let c = this.byPod.get(pod);
    if (c === undefined) {
      c = this.byPod.size % POD_COLOURS;
      this.byPod.set(pod, c);
    }
    return c;
  }
}

/** True when a scrolled box shows its last pixel (within `slack`). */
export function atBottom(scrollTop: number, clientHeight: number, scrollHeight: number, slack = 4): boolean {
  return scrollTop + clientHeight >= scrollHeight - slack;
}
