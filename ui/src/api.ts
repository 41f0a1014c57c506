// The one typed door to the Rust side. Every `invoke` and every channel the UI uses goes through
// this module; components never call `invoke` themselves. The command functions are generated
// from the Rust commands (./commands.generated.ts, by `cargo run -p slipway-bindgen`) and their
// types come from ./bindings (ts-rs); this file keeps only what is not generated: `call`, the
// channel and stream helpers, and the UserError guarantee.
//
// Every command rejects with a UserError {what, why, fix}. `call` makes sure that holds even when
// something else goes wrong (IPC missing, a panic turned into a string...), so the UI can always
// show what failed, why, and what to do.

import { Channel, invoke, type InvokeArgs } from "@tauri-apps/api/core";

import type { LaunchState } from "./bindings/LaunchState";
import type { StageName } from "./bindings/StageName";
import type { UserError } from "./bindings/UserError";
import {
  makeCommands,
  type CommandArgs,
  type CommandChannel,
  type CommandName,
  type CommandResult,
  type Commands,
} from "./commands.generated";

export type { CommandArgs, CommandChannel, CommandName, CommandResult } from "./commands.generated";

/** True when `e` has the UserError shape the Rust side rejects with. */
export function isUserError(e: unknown): e is UserError {
  if (typeof e !== "object" || e === null) return false;
  const o = e as Record<string, unknown>;
  return typeof o.what === "string" && typeof o.why === "string" && typeof o.fix === "string";
}

/**
 * Human wording of each command, for errors that did not come back as a UserError. Keyed by the
 * generated CommandName, so a command added, renamed or removed in Rust fails the typecheck here
 * until its wording follows.
 */
const WHAT: Record<CommandName, string> = {
  doctor: "Reading the app's status",
  aws_profiles: "Reading AWS profiles",
  connect_aws: "Connecting AWS",
  aws_regions: "Listing AWS regions",
  set_aws_region: "Changing the AWS region",
  connect_github: "Connecting GitHub",
  github_cli_token_available: "Looking for the gh CLI token",
  connect_registry: "Connecting the container registry",
  docker_config_entries: "Reading ~/.docker/config.json",
  check_connection: "Checking the connection",
  disconnect: "Disconnecting",
  connections: "Reading the connections",
  sandbox_start: "Starting the sandbox",
  sandbox_stop: "Stopping the sandbox",
  sandbox_status: "Reading the sandbox state",
  sandbox_mappings: "Reading what the sandbox runs locally",
  secrets_status: "Checking the secret store",
  launch_state: "Reading where the journey is",
  launch_add_project: "Adding the project",
  launch_plan: "Planning the infrastructure",
  launch_apply: "Applying the infrastructure",
  launch_run: "Starting the first run",
  launch_deploy: "Deploying to live",
  get_settings: "Reading settings",
  save_settings: "Saving settings",
  get_blueprint: "Reading the blueprint",
  save_blueprint: "Saving the blueprint",
  blueprint_resources: "Reading the blueprint's resources",
  plan: "Planning the changes",
  apply: "Applying the blueprint",
  destroy: "Destroying the project's resources",
  refresh: "Checking for drift",
  cancel_provisioning: "Cancelling",
  project_resources: "Reading the project's resources",
  detect_project: "Detecting the project",
  save_project: "Saving the project",
  projects: "Reading the projects",
  start_run: "Starting the run",
  rerun: "Starting the run again",
  cancel_run: "Cancelling the run",
  runs: "Reading the runs",
  get_run: "Reading the run",
  log_steps: "Listing the stage's logs",
  follow_log: "Reading the log",
  environments: "Reading the environments",
  save_environment: "Saving the environment",
  delete_environment: "Removing the environment",
  kube_contexts: "Listing the kubeconfig's contexts",
  deploy: "Deploying",
  redeploy: "Redeploying",
  rollback: "Rolling back",
  deploy_status: "Reading the environment's status",
  revisions: "Reading the revision history",
  teardown: "Tearing down the environment",
  follow_deploy_logs: "Reading the replicas' logs",
  env_config: "Reading the configuration",
  env_config_set: "Setting a configuration value",
  env_config_unset: "Removing a configuration value",
  move_committed_secrets: "Moving committed secrets to the keychain",
  stop_stream: "Stopping the log",
  insights: "Measuring delivery",
  delivery_line: "Reading the delivery summary",
  audit_trail: "Reading the audit trail",
  export_audit: "Exporting the audit trail",
  board_projects: "Listing the boards",
  get_board: "Reading the board",
  board_history: "Reading the board's history",
  create_card: "Adding the card",
  update_card: "Saving the card",
  move_card: "Moving the card",
  delete_card: "Deleting the card",
  create_epic: "Adding the epic",
  update_epic: "Saving the epic",
  delete_epic: "Deleting the epic",
  create_sprint: "Adding the sprint",
  update_sprint: "Saving the sprint",
  start_sprint: "Starting the sprint",
  close_sprint: "Closing the sprint",
  delete_sprint: "Deleting the sprint",
  set_board_columns: "Saving the columns",
  set_board_automation: "Switching the board's automation",
  burndown: "Reading the burndown",
  velocity: "Reading the velocity",
  export_board: "Exporting the board",
  import_board: "Importing into the board",
  github_repos: "Listing your GitHub repositories",
  github_branches: "Listing the repository's branches",
  github_commits: "Listing the branch's commits",
  github_workflow_runs: "Listing the GitHub Actions runs",
  github_workflow_jobs: "Reading the workflow run's jobs",
  github_job_log: "Reading the job's log",
  github_webhook_secret: "Reading the webhook secret",
  github_watch_start: "Watching the branch",
  github_watch_stop: "Stopping the watch",
  github_watches: "Listing the watched branches",
  connect_jenkins: "Connecting Jenkins",
  jenkins_connection: "Reading the Jenkins connection",
  disconnect_jenkins: "Disconnecting Jenkins",
  jenkins_jobs: "Listing the Jenkins jobs",
  jenkins_builds: "Listing the job's builds",
  jenkins_stages: "Reading the build's stages",
  jenkins_build: "Starting the Jenkins build",
  follow_jenkins_log: "Reading the build's console",
  export: "Exporting",
  subscribe_events: "Subscribing to live updates",
  first_paint: "Reporting the first paint",
  launch_interactive: "Reporting that the Launch page can be used",
};

/** Turns any rejection into a UserError; a real UserError passes through untouched. */
export function toUserError(e: unknown, command?: string): UserError {
  if (isUserError(e)) return { what: e.what, why: e.why, fix: e.fix };
  const what = `${(command && WHAT[command as CommandName]) || "The request"} failed`;
  let why: string;
  if (typeof e === "string") why = e;
  else if (e instanceof Error) why = e.message;
  else {
    try {
      why = JSON.stringify(e) ?? String(e);
    } catch {
      why = String(e);
    }
  }
  const noIpc = typeof window !== "undefined" && !(window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__;
  const fix = noIpc
    ? "Open Slipway as the desktop app (the page was loaded without its Rust side)"
    : "Try again; if it keeps failing, run `slipway doctor` and check the app's log";
  return { what, why: why || "no reason was given", fix };
}

/** Invokes a command by its Rust name; rejects only with a UserError. */
export async function call<K extends CommandName>(command: K, args: CommandArgs[K]): Promise<CommandResult[K]> {
  try {
    return await invoke<CommandResult[K]>(command, args as InvokeArgs);
  } catch (e) {
    throw toUserError(e, command);
  }
}

/** The generated command functions, each through `call`. */
export const commands: Commands = makeCommands(call);

/** A command's channel argument, from the message type the generated table gives it. */
type Start<T, R> = (channel: Channel<T>) => Promise<R>;

/**
 * Starts a command that streams through a channel. `done` settles with the command's answer,
 * once the stream's last chunk (`isLast`) has been delivered too: the answer can arrive before
 * the channel's last messages (large ones come by a request of their own), and a page that took
 * the answer for the end showed a log as complete with a part still to come. A failing command
 * rejects `done` at once. `stop()` stops delivering chunks; after it, `done` may never settle.
 * A stream that never ends by itself (`endless`: a followed log) is also ended on the Rust side
 * (stop_stream); the others stop there when their stream ends.
 */
export function stream<T, R>(
  start: Start<T, R>,
  onChunk: (chunk: T) => void,
  isLast: (chunk: T) => boolean,
  endless = false,
): { done: Promise<R>; stop: () => void } {
  let active = true;
  let lastDelivered = () => {};
  const last = new Promise<void>((resolve) => (lastDelivered = resolve));
  const channel = new Channel<T>((chunk) => {
    if (!active) return;
    onChunk(chunk);
    if (isLast(chunk)) lastDelivered();
  });
  const done = start(channel).then(async (answer) => {
    await last;
    return answer;
  });
  return {
    done,
    stop: () => {
      if (!active) return;
      active = false;
      if (endless) {
        commands.stopStream(channel.id).catch((e: unknown) => console.warn("stop_stream failed", toUserError(e, "stop_stream")));
      }
    },
  };
}

/**
 * Every command (generated, named as in Rust but camelCase: `connect_aws` is `connectAws`), and
 * in place of the raw channel commands the helpers pages use: a callback per chunk and `stop()`.
 */
export const api = {
  ...commands,

  /**
   * Streams one step's log from byte `offset` until the step ends (the last chunk has
   * done=true). `done` resolves with the final offset; `stop()` stops delivering chunks (the
   * Rust side stops reading when the step ends).
   */
  followLog: (run: string, stage: StageName, step: string, offset: number, onChunk: (chunk: CommandChannel["follow_log"]) => void) =>
    stream((ch) => commands.followLog(run, stage, step, offset, ch), onChunk, (c) => c.done),

  /**
   * Streams the merged logs of every replica: the last `tail` lines of each container, then
   * (with `follow`) new lines as they come. Without follow the last chunk has done=true. `stop()`
   * stops delivering chunks (and, when following, ends the stream on the Rust side).
   */
  followDeployLogs: (
    project: string,
    environment: string,
    follow: boolean,
    tail: number | null,
    onChunk: (chunk: CommandChannel["follow_deploy_logs"]) => void,
  ) => stream((ch) => commands.followDeployLogs(project, environment, follow, tail, ch), onChunk, (c) => c.done, follow),

  /** The console from `offset`, streamed until the build ends (a last chunk with more: false) or stop(). */
  followJenkinsLog: (job: string, number: number, offset: number, onChunk: (chunk: CommandChannel["follow_jenkins_log"]) => void) =>
    stream((ch) => commands.followJenkinsLog(job, number, offset, ch), onChunk, (c) => !c.more, true),

  /**
   * Subscribes to the engine's event stream. The Rust side sends batches (one channel message
   * per batch, never per event). Returns a function that stops delivering batches.
   */
  subscribeEvents: async (onBatch: (batch: CommandChannel["subscribe_events"]) => void): Promise<() => void> => {
    let active = true;
    const channel = new Channel<CommandChannel["subscribe_events"]>((batch) => {
      if (active) onBatch(batch);
    });
    await commands.subscribeEvents(channel);
    return () => {
      active = false;
    };
  },
};

export type Api = typeof api;

// first_paint is called by public/first-paint.js, from the prerendered frame index.html carries.

/** The Launch page's state that public/first-paint.js asked for while the first frame painted,
 * once, if it has come back by now; then null. The page shows it at its first render, and asks
 * again (the journey may have moved since). */
export function takeEarlyLaunchState(): LaunchState | null {
  const w = window as { __slipwayEarlyLaunchState?: { settled: boolean; state: LaunchState | null } };
  const early = w.__slipwayEarlyLaunchState;
  delete w.__slipwayEarlyLaunchState;
  return early?.settled ? early.state : null;
}

let launchInteractiveReported = false;

/** Calls launch_interactive once per page load, after the Launch page's state is painted. */
export function reportLaunchInteractive(): void {
  if (launchInteractiveReported) return;
  launchInteractiveReported = true;
  afterNextPaint(() =>
    api.launchInteractive().catch((e: unknown) => console.warn("launch_interactive failed", toUserError(e, "launch_interactive"))),
  );
}

/** Runs `f` once the next frame is painted: the rAF callback runs before the next paint, the
 * timeout after it once that paint is done. */
function afterNextPaint(f: () => void): void {
  requestAnimationFrame(() => setTimeout(f, 0));
}
