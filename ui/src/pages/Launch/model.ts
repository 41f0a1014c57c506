// Pure helpers of the Launch page: what an action is called, which events move the journey, how a
// typed source becomes a Source.

import type { EventEnvelope } from "../../bindings/EventEnvelope";
import type { LaunchAction } from "../../bindings/LaunchAction";
import type { LaunchStepStatus } from "../../bindings/LaunchStepStatus";
import type { Source } from "../../bindings/Source";

export function actionLabel(a: LaunchAction): string {
  switch (a) {
    case "useSandbox":
      return "Use the sandbox";
    case "addProject":
      return "Add project";
    case "plan":
      return "Plan and show the cost";
    case "apply":
      return "Apply (and start the first build)";
    case "startRun":
      return "Run the pipeline";
    case "deployLive":
      return "Deploy to live";
    case "openApp":
      return "Open the app";
  }
}

export function stepMark(s: LaunchStepStatus): string {
  switch (s) {
    case "done":
      return "✓";
    case "current":
      return "→";
    case "running":
      return "…";
    case "failed":
      return "!";
    case "blocked":
      return "·";
  }
}

/** The events after which the journey may have moved. */
export function relevant(e: EventEnvelope): boolean {
  switch (e.event.type) {
    case "connectionChecked":
    case "sandboxChanged":
    case "provisionFinished":
    case "runUpdated":
    case "revisionUpdated":
      return true;
    case "resourceProgress":
      return e.event.phase === "ready" || e.event.phase === "failed";
    case "progress":
      return e.event.task === "apply";
    default:
      return false;
  }
}

/** A URL is a Git source; anything else is a folder on this machine. */
export function sourceOf(text: string): Source {
  const t = text.trim();
  return /^(https?|ssh|file):\/\/|^git@/.test(t) ? { kind: "git", url: t } : { kind: "path", path: t };
}
