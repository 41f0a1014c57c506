// Pure helpers of the GitHub views (the GitHub Actions tab, the repository picker, the watches):
// which repository a project's Git URL names, a run's or job's state in Slipway's words, the quota
// line, GitHub's job logs split into lines, and the merge of a refreshed first page of runs.

import type { RateLimit } from "../../bindings/RateLimit";
import type { WorkflowRun } from "../../bindings/WorkflowRun";

/** `owner/name` of a github.com Git URL (https, ssh or git@), else null. */
export function githubRepoOf(url: string): string | null {
  const u = url.trim();
  const m =
    /^https?:\/\/(?:[^@/]+@)?(?:www\.)?github\.com\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/i.exec(u) ??
    /^ssh:\/\/git@github\.com(?::\d+)?\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/i.exec(u) ??
    /^git@github\.com:([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?$/i.exec(u);
  return m ? `${m[1]}/${m[2]}` : null;
}

/** The state words the rest of the app uses in `data-status` (TESTIDS.md). */
export type GhState = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "skipped";

/** A run's, job's or step's GitHub status and conclusion as one of Slipway's states. */
export function ghState(status: string, conclusion: string | null): GhState {
  if (status !== "completed") return status === "in_progress" ? "running" : "queued";
  switch (conclusion) {
    case "success":
      return "succeeded";
    case "failure":
    case "timed_out":
    case "startup_failure":
      return "failed";
    case "cancelled":
      return "cancelled";
    case "action_required":
      return "queued";
    default:
      // skipped, neutral, stale
      return "skipped";
  }
}

const WORDS: Record<string, string> = {
  queued: "Queued",
  in_progress: "In progress",
  waiting: "Waiting",
  requested: "Requested",
  pending: "Pending",
  success: "Success",
  failure: "Failure",
  cancelled: "Cancelled",
  skipped: "Skipped",
  timed_out: "Timed out",
  action_required: "Action required",
  neutral: "Neutral",
  stale: "Stale",
  startup_failure: "Startup failure",
};

/** GitHub's own word for the state: the conclusion once completed, else the status. */
export function ghStateLabel(status: string, conclusion: string | null): string {
  const key = status === "completed" ? (conclusion ?? "completed") : status;
  return WORDS[key] ?? key.replace(/_/g, " ");
}

/** Queued, waiting or running: its page should look again. */
export function ghActive(status: string): boolean {
  return status !== "completed";
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

/** Below 10% of the limit left. */
export function quotaLow(rate: RateLimit): boolean {
  return rate.limit > 0 && rate.remaining < rate.limit * 0.1;
}

/** "GitHub API: 4,987 of 5,000 requests left, resets at 14:05". */
export function quotaText(rate: RateLimit): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const what = rate.resource && rate.resource !== "core" ? `GitHub API (${rate.resource})` : "GitHub API";
  return `${what}: ${n(rate.remaining)} of ${n(rate.limit)} requests left, resets at ${clock(rate.reset)}`;
}

/** "14:05" of a Unix time in seconds. */
export function clock(unixSecs: number): string {
  return new Date(unixSecs * 1000).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/** The reset time a rate-limit refusal names ("... (unix time 1714650000)"), else null. */
export function resetOf(why: string): number | null {
  const m = /unix time (\d+)/.exec(why);
  return m ? Number(m[1]) : null;
}

/**
 * A refreshed first page folded into the runs shown: the first page's runs replace theirs (and
 * come first, newest first), the older pages already loaded stay after them.
 */
export function mergeFirstPage(shown: WorkflowRun[], first: WorkflowRun[]): WorkflowRun[] {
  const ids = new Set(first.map((r) => r.id));
  return [...first, ...shown.filter((r) => !ids.has(r.id))];
}

/** A later page appended (a run already shown, moved down by new ones, is not repeated). */
export function appendPage(shown: WorkflowRun[], next: WorkflowRun[]): WorkflowRun[] {
  const ids = new Set(shown.map((r) => r.id));
  return [...shown, ...next.filter((r) => !ids.has(r.id))];
}

export type LogLine = {
  /** 1-based. */
  n: number;
  /** GitHub's timestamp prefix, when the line has one. */
  time: string | null;
  text: string;
  kind: "group" | "endgroup" | "error" | "warning" | "command" | "plain";
};

const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) ?/;

/** A job's log (GitHub prefixes every line with its time; ##[group] and ##[error] are markers). */
export function parseLog(raw: string): LogLine[] {
  const text = raw.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n").replace(/\n$/, "");
  if (text === "") return [];
  return text.split("\n").map((line, i) => {
    const m = STAMP.exec(line);
    let rest = m ? line.slice(m[0].length) : line;
    let kind: LogLine["kind"] = "plain";
    const marker = /^##\[(group|endgroup|error|warning|command)\]/.exec(rest);
    if (marker) {
      kind = marker[1] as LogLine["kind"];
      rest = rest.slice(marker[0].length);
    }
    return { n: i + 1, time: m ? m[1] : null, text: rest, kind };
  });
}

/** "10:11:12" of a log timestamp (the local time). */
export function logClock(stamp: string): string {
  const d = new Date(stamp);
  return Number.isNaN(d.getTime()) ? stamp : d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

/** The lines whose text holds `query` (any case). */
export function matchingLines(lines: LogLine[], query: string): number[] {
  const q = query.trim().toLowerCase();
  if (q === "") return [];
  return lines.filter((l) => l.text.toLowerCase().includes(q)).map((l) => l.n);
}

/** The file name a downloaded job log gets. */
export function jobLogFileName(repo: string, jobId: number, jobName: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "");
  return `${safe(repo.split("/").pop() ?? repo)}-${safe(jobName) || "job"}-${jobId}.log`;
}

/** An ISO time as the app shows times (today: the time, else the day and time). */
export function ghTime(isoTime: string | null, now: number = Date.now()): string {
  if (!isoTime) return "";
  const d = new Date(isoTime);
  if (Number.isNaN(d.getTime())) return isoTime;
  const sameDay = new Date(now).toDateString() === d.toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}
