// Pure helpers of the Jenkins tab: what Jenkins' ball colours, build results and stage statuses
// mean, job paths inside folders, console search and file names.

import type { JenkinsBuild } from "../../bindings/JenkinsBuild";
import type { JenkinsJob } from "../../bindings/JenkinsJob";

/** How often the tab asks Jenkins again (ms). Tests shorten them. */
export const jenkinsTiming = {
  /** The stage view of a building build. */
  stagesMs: 2000,
  /** The builds list while one builds. */
  buildsMs: 3000,
  /** The builds list while a queued build has not started yet. */
  queueMs: 1000,
};

/** A job's or build's state as the tab shows it (`data-status`). */
export type JobStatus = "success" | "failed" | "unstable" | "aborted" | "notbuilt" | "disabled" | "folder" | "unknown";

/**
 * Jenkins' ball colour (`blue`, `red`, `yellow`, `notbuilt`, `disabled`, `aborted`, `grey`,
 * with `_anime` while a build runs). A job without a colour is a folder (Jenkins' JSON has none
 * for folders and multibranch projects).
 */
export function jobStatus(job: Pick<JenkinsJob, "color">): { status: JobStatus; building: boolean } {
  const c = job.color;
  if (c === null) return { status: "folder", building: false };
  const building = c.endsWith("_anime");
  const base = building ? c.slice(0, -"_anime".length) : c;
  const status: JobStatus =
    base === "blue" || base === "green"
      ? "success"
      : base === "red"
        ? "failed"
        : base === "yellow"
          ? "unstable"
          : base === "aborted"
            ? "aborted"
            : base === "notbuilt" || base === "grey"
              ? "notbuilt"
              : base === "disabled"
                ? "disabled"
                : "unknown";
  return { status, building };
}

export const JOB_STATUS_LABEL: Record<JobStatus, string> = {
  success: "Success",
  failed: "Failed",
  unstable: "Unstable",
  aborted: "Aborted",
  notbuilt: "Not built",
  disabled: "Disabled",
  folder: "Folder",
  unknown: "Unknown",
};

/** A build's state (`data-status`): building, or its result in lower case. */
export function buildStatus(b: Pick<JenkinsBuild, "building" | "result">): string {
  if (b.building) return "building";
  return (b.result ?? "unknown").toLowerCase();
}

export function buildLabel(b: Pick<JenkinsBuild, "building" | "result">): string {
  if (b.building) return "Building";
  switch (b.result) {
    case "SUCCESS":
      return "Success";
    case "FAILURE":
      return "Failed";
    case "UNSTABLE":
      return "Unstable";
    case "ABORTED":
      return "Aborted";
    case "NOT_BUILT":
      return "Not built";
    default:
      return b.result ?? "Unknown";
  }
}

/** A stage's status from wfapi (`SUCCESS`, `FAILED`, `IN_PROGRESS`, ...) as a CSS/data value. */
export function stageStatus(s: string): string {
  return s.toLowerCase().replace(/_/g, "-");
}

export const STAGE_STATUS_LABEL: Record<string, string> = {
  SUCCESS: "Success",
  FAILED: "Failed",
  IN_PROGRESS: "In progress",
  NOT_EXECUTED: "Not run",
  PAUSED_PENDING_INPUT: "Waiting for input",
  ABORTED: "Aborted",
  UNSTABLE: "Unstable",
};

/** Whether a stage view (or a stage) is still going on. */
export function stageViewLive(status: string): boolean {
  return status === "IN_PROGRESS" || status === "PAUSED_PENDING_INPUT";
}

/** The full name of a job in a folder: ("team", "api") is "team/api". */
export function jobPath(folder: string, name: string): string {
  return folder === "" ? name : `${folder}/${name}`;
}

/** A folder path typed by a person: trimmed, no leading or trailing slashes. */
export function cleanFolder(path: string): string {
  return path.trim().replace(/^\/+|\/+$/g, "").replace(/\/{2,}/g, "/");
}

/** The breadcrumb of a folder path: [["team", "team"], ["svc", "team/svc"]]. */
export function folderCrumbs(folder: string): { name: string; path: string }[] {
  if (folder === "") return [];
  const parts = folder.split("/");
  return parts.map((name, i) => ({ name, path: parts.slice(0, i + 1).join("/") }));
}

/** A console's file name: team/api #7 is `team-api-7.log`. */
export function consoleFileName(job: string, number: number): string {
  return `${job.replace(/[^A-Za-z0-9._-]+/g, "-")}-${number}.log`;
}

/** Where `query` occurs in `text`, case-insensitively (start offsets). */
export function findMatches(text: string, query: string, max = 10_000): number[] {
  if (query === "") return [];
  const hay = text.toLowerCase();
  const needle = query.toLowerCase();
  const out: number[] = [];
  for (let i = hay.indexOf(needle); i !== -1 && out.length < max; i = hay.indexOf(needle, i + needle.length)) out.push(i);
  return out;
}

/** The most of a console the view keeps: about 4 MB of text (the newest lines). */
export const CONSOLE_KEEP = 4_000_000;

/** The first line of a console whose beginning the view no longer keeps. */
export const CONSOLE_CUT_NOTE = "[Slipway: earlier lines of this console are not kept here; the whole log is on Jenkins]\n";

/**
 * A console's text with a new chunk added, kept to `keep` characters: when it grows past them,
 * the oldest whole lines go and the text starts with {@link CONSOLE_CUT_NOTE}.
 */
export function appendConsole(text: string, chunk: string, keep = CONSOLE_KEEP): string {
  const body = text.startsWith(CONSOLE_CUT_NOTE) ? text.slice(CONSOLE_CUT_NOTE.length) : text;
  const all = body + chunk;
  if (all.length <= keep && body === text) return all;
  if (all.length <= keep) return CONSOLE_CUT_NOTE + all;
  let from = all.length - keep;
  const nl = all.indexOf("\n", from);
  if (nl !== -1 && nl < all.length - 1) from = nl + 1;
  return CONSOLE_CUT_NOTE + all.slice(from);
}

/** The newest build number in a list (0 when none). */
export function newestNumber(builds: Pick<JenkinsBuild, "number">[]): number {
  return builds.reduce((m, b) => Math.max(m, b.number), 0);
}
