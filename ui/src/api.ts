// The one typed door to the Rust side. Every `invoke` and every channel the UI uses goes through
// this module; components never call `invoke` themselves. All types come from ./bindings, which
// ts-rs generates from the Rust types (never redeclare one here).
//
// Every command rejects with a UserError {what, why, fix}. `call` makes sure that holds even when
// something else goes wrong (IPC missing, a panic turned into a string...), so the UI can always
// show what failed, why, and what to do.

import { Channel, invoke } from "@tauri-apps/api/core";

import type { AwsConnectInput } from "./bindings/AwsConnectInput";
import type { ApplyReport } from "./bindings/ApplyReport";
import type { AwsProfile } from "./bindings/AwsProfile";
import type { Blueprint } from "./bindings/Blueprint";
import type { ConnectionKind } from "./bindings/ConnectionKind";
import type { ConnectionStatus } from "./bindings/ConnectionStatus";
import type { DeployLogChunk } from "./bindings/DeployLogChunk";
import type { DeployStatus } from "./bindings/DeployStatus";
import type { DestroyReport } from "./bindings/DestroyReport";
import type { DockerConfigEntry } from "./bindings/DockerConfigEntry";
import type { DoctorReport } from "./bindings/DoctorReport";
import type { Drift } from "./bindings/Drift";
import type { Environment } from "./bindings/Environment";
import type { EventEnvelope } from "./bindings/EventEnvelope";
import type { GithubConnectInput } from "./bindings/GithubConnectInput";
import type { KubeContextInfo } from "./bindings/KubeContextInfo";
import type { LogChunk } from "./bindings/LogChunk";
import type { Observed } from "./bindings/Observed";
import type { Plan } from "./bindings/Plan";
import type { Project } from "./bindings/Project";
import type { ProjectInput } from "./bindings/ProjectInput";
import type { RegistryConnectInput } from "./bindings/RegistryConnectInput";
import type { ResourceSpec } from "./bindings/ResourceSpec";
import type { Revision } from "./bindings/Revision";
import type { Run } from "./bindings/Run";
import type { SandboxState } from "./bindings/SandboxState";
import type { Settings } from "./bindings/Settings";
import type { StageName } from "./bindings/StageName";
import type { UserError } from "./bindings/UserError";
// The Board page (issue #6).
import type { Board } from "./bindings/Board";
import type { BoardData } from "./bindings/BoardData";
import type { BoardFormat } from "./bindings/BoardFormat";
import type { BoardHistory } from "./bindings/BoardHistory";
import type { Burndown } from "./bindings/Burndown";
import type { Card } from "./bindings/Card";
import type { CardInput } from "./bindings/CardInput";
import type { Column } from "./bindings/Column";
import type { Epic } from "./bindings/Epic";
import type { EpicInput } from "./bindings/EpicInput";
import type { ImportReport } from "./bindings/ImportReport";
import type { Sprint } from "./bindings/Sprint";
import type { SprintInput } from "./bindings/SprintInput";
import type { Velocity } from "./bindings/Velocity";
// GitHub, Jenkins and exports (issue #7).
import type { ConsoleChunk } from "./bindings/ConsoleChunk";
import type { Export } from "./bindings/Export";
import type { ExportKind } from "./bindings/ExportKind";
import type { GhBranch } from "./bindings/GhBranch";
import type { GhCommit } from "./bindings/GhCommit";
import type { GhRepo } from "./bindings/GhRepo";
import type { JenkinsBuild } from "./bindings/JenkinsBuild";
import type { JenkinsConnectInput } from "./bindings/JenkinsConnectInput";
import type { JenkinsConnection } from "./bindings/JenkinsConnection";
import type { JenkinsJob } from "./bindings/JenkinsJob";
import type { JenkinsServer } from "./bindings/JenkinsServer";
import type { JenkinsStageView } from "./bindings/JenkinsStageView";
import type { Page } from "./bindings/Page";
import type { WatchInfo } from "./bindings/WatchInfo";
import type { WatchSetting } from "./bindings/WatchSetting";
import type { WorkflowJob } from "./bindings/WorkflowJob";
import type { WorkflowRun } from "./bindings/WorkflowRun";

/** True when `e` has the UserError shape the Rust side rejects with. */
export function isUserError(e: unknown): e is UserError {
  if (typeof e !== "object" || e === null) return false;
  const o = e as Record<string, unknown>;
  return typeof o.what === "string" && typeof o.why === "string" && typeof o.fix === "string";
}

/** Human wording of each command, for errors that did not come back as a UserError. */
const WHAT: Record<string, string> = {
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
  sandbox_start: "Starting the sandbox",
  sandbox_stop: "Stopping the sandbox",
  sandbox_status: "Reading the sandbox state",
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
  stop_stream: "Stopping the log",
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
};

/** Turns any rejection into a UserError; a real UserError passes through untouched. */
export function toUserError(e: unknown, command?: string): UserError {
  if (isUserError(e)) return { what: e.what, why: e.why, fix: e.fix };
  const what = `${(command && WHAT[command]) || "The request"} failed`;
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

/** Invokes a command; rejects only with a UserError. */
async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toUserError(e, command);
  }
}

/**
 * Invokes a command that streams through a channel (its `onChunk` argument). `done` settles with
 * the command's answer; `stop()` stops delivering chunks. A stream that never ends by itself
 * (`endless`: a followed log) is also ended on the Rust side (stop_stream); the others stop
 * there when their stream ends.
 */
function stream<T, R>(
  command: string,
  args: Record<string, unknown>,
  onChunk: (chunk: T) => void,
  endless = false,
): { done: Promise<R>; stop: () => void } {
  let active = true;
  const channel = new Channel<T>((chunk) => {
    if (active) onChunk(chunk);
  });
  const done = call<R>(command, { ...args, onChunk: channel });
  return {
    done,
    stop: () => {
      if (!active) return;
      active = false;
      if (endless) {
        call<boolean>("stop_stream", { channel: channel.id }).catch((e: unknown) =>
          console.warn("stop_stream failed", toUserError(e, "stop_stream")),
        );
      }
    },
  };
}

export const api = {
  doctor: () => call<DoctorReport>("doctor"),

  awsProfiles: () => call<AwsProfile[]>("aws_profiles"),
  connectAws: (input: AwsConnectInput) => call<ConnectionStatus>("connect_aws", { input }),
  awsRegions: () => call<string[]>("aws_regions"),
  setAwsRegion: (region: string) => call<ConnectionStatus>("set_aws_region", { region }),

  connectGithub: (input: GithubConnectInput) => call<ConnectionStatus>("connect_github", { input }),
  githubCliTokenAvailable: (baseUrl: string | null) =>
    call<boolean>("github_cli_token_available", { baseUrl }),

  connectRegistry: (input: RegistryConnectInput) => call<ConnectionStatus>("connect_registry", { input }),
  dockerConfigEntries: () => call<DockerConfigEntry[]>("docker_config_entries"),

  checkConnection: (kind: ConnectionKind) => call<ConnectionStatus>("check_connection", { kind }),
  disconnect: (kind: ConnectionKind) => call<ConnectionStatus>("disconnect", { kind }),

  sandboxStart: () => call<SandboxState>("sandbox_start"),
  sandboxStop: () => call<SandboxState>("sandbox_stop"),
  sandboxStatus: () => call<SandboxState>("sandbox_status"),

  getSettings: () => call<Settings>("get_settings"),
  saveSettings: (settings: Settings) => call<Settings>("save_settings", { settings }),

  getBlueprint: (project: string | null) => call<Blueprint>("get_blueprint", { project }),
  saveBlueprint: (blueprint: Blueprint) => call<Blueprint>("save_blueprint", { blueprint }),
  blueprintResources: (project: string | null) => call<ResourceSpec[]>("blueprint_resources", { project }),
  plan: (project: string | null) => call<Plan>("plan", { project }),
  /** Long: progress arrives as resourceProgress events, then one provisionFinished. */
  apply: (project: string | null) => call<ApplyReport>("apply", { project }),
  destroy: (project: string | null) => call<DestroyReport>("destroy", { project }),
  refresh: (project: string | null) => call<Drift[]>("refresh", { project }),
  cancelProvisioning: () => call<boolean>("cancel_provisioning"),
  projectResources: (project: string | null) => call<Observed[]>("project_resources", { project }),

  detectProject: (input: ProjectInput) => call<Project>("detect_project", { input }),
  saveProject: (project: Project) => call<Project>("save_project", { project }),
  projects: () => call<Project[]>("projects"),

  /** Queues a run and returns it at once; its progress arrives as runUpdated events. */
  startRun: (project: string, gitRef: string | null, until: StageName | null) =>
    call<Run>("start_run", { project, gitRef, until }),
  rerun: (run: string) => call<Run>("rerun", { run }),
  cancelRun: (run: string) => call<Run>("cancel_run", { run }),
  /** Newest first. */
  runs: (project: string | null, limit: number | null) => call<Run[]>("runs", { project, limit }),
  getRun: (run: string) => call<Run>("get_run", { run }),
  /** Step names that have a log in a stage ("slipway" first: Slipway's own lines). */
  logSteps: (run: string, stage: StageName) => call<string[]>("log_steps", { run, stage }),

  /**
   * Streams one step's log from byte `offset` until the step ends (the last chunk has
   * done=true). `done` resolves with the final offset; `stop()` stops delivering chunks (the
   * Rust side stops reading when the step ends).
   */
  /**
   * Streams one step's log from byte `offset` until the step ends (the last chunk has
   * done=true). `done` resolves with the final offset; `stop()` stops delivering chunks (the
   * Rust side stops reading when the step ends).
   */
  followLog: (run: string, stage: StageName, step: string, offset: number, onChunk: (chunk: LogChunk) => void) =>
    stream<LogChunk, number>("follow_log", { run, stage, step, offset }, onChunk),

  /** A project's environments (every project's when `project` is null). */
  environments: (project: string | null) => call<Environment[]>("environments", { project }),
  /** Validates (the Rust side: name, namespace, context, deadline) and saves, new or edited. */
  saveEnvironment: (environment: Environment) => call<Environment>("save_environment", { environment }),
  /** Forgets an environment and its history; the cluster is not touched. */
  deleteEnvironment: (project: string, name: string) => call<null>("delete_environment", { project, name }),
  /** The contexts of a kubeconfig (null: the connected one, else KUBECONFIG, else ~/.kube/config). */
  kubeContexts: (kubeconfig: string | null) => call<KubeContextInfo[]>("kube_contexts", { kubeconfig }),

  /**
   * Long: resolves with the revision once every rollout ended. Progress arrives as
   * revisionUpdated and deployProgress events. `run` null: the newest run that built images.
   */
  deploy: (project: string, environment: string, run: string | null) =>
    call<Revision>("deploy", { project, environment, run }),
  /** A rolling restart of the revision serving now (long, like deploy). */
  redeploy: (project: string, environment: string) => call<Revision>("redeploy", { project, environment }),
  /** Applies an earlier revision again (`to` null: the newest earlier one with other images); `reason` is required. */
  rollback: (project: string, environment: string, to: number | null, reason: string) =>
    call<Revision>("rollback", { project, environment, to, reason }),
  /** What the cluster runs now, beside the history the store keeps (a cluster error is in `error`). */
  deployStatus: (project: string, environment: string) => call<DeployStatus>("deploy_status", { project, environment }),
  /** Newest first. */
  revisions: (project: string, environment: string, limit: number | null) =>
    call<Revision[]>("revisions", { project, environment, limit }),
  /** Deletes the environment's namespace; false when there was nothing to delete. */
  teardown: (project: string, environment: string) => call<boolean>("teardown", { project, environment }),

  /**
   * Streams the merged logs of every replica: the last `tail` lines of each container, then
   * (with `follow`) new lines as they come. Without follow the last chunk has done=true. `stop()`
   * stops delivering chunks.
   */
  followDeployLogs: (
    project: string,
    environment: string,
    follow: boolean,
    tail: number | null,
    onChunk: (chunk: DeployLogChunk) => void,
  ) => stream<DeployLogChunk, null>("follow_deploy_logs", { project, environment, follow, tail }, onChunk, follow),

  // ---- the Board page (src-tauri/src/commands/board.rs): one board per project, named by the
  // project id; cards and epics by key (SHP-12), sprints by number. Every change also comes
  // back as a boardChanged event (so do automation's).

  /** Every project that has (or could have) a board. */
  boardProjects: () => call<string[]>("board_projects"),
  /**
   * The board without its history (a new, empty board when the project has none yet). `project`
   * null: the only project, else the default blueprint's project when there is none.
   */
  board: (project: string | null) => call<BoardData>("get_board", { project }),
  /** The history of one card (by key), or of the whole board when `card` is null; oldest first. */
  boardHistory: (project: string, card: string | null) => call<BoardHistory>("board_history", { project, card }),
  /** Adds a card at the bottom of its column (`input.column` null: the first column). */
  createCard: (project: string, input: CardInput) => call<Card>("create_card", { project, input }),
  /** Replaces a card's editable fields (`input.column` set: moves it too). */
  updateCard: (project: string, card: string, input: CardInput) => call<Card>("update_card", { project, card, input }),
  /** Drag and drop: to `column` (id) at `position` from the top (null: the bottom); refused above a WIP limit. */
  moveCard: (project: string, card: string, column: string, position: number | null) =>
    call<Card>("move_card", { project, card, column, position }),
  /** Resolves with the deleted card's key (its history stays). */
  deleteCard: (project: string, card: string) => call<string>("delete_card", { project, card }),
  createEpic: (project: string, input: EpicInput) => call<Epic>("create_epic", { project, input }),
  updateEpic: (project: string, epic: string, input: EpicInput) => call<Epic>("update_epic", { project, epic, input }),
  /** Its cards stay, without an epic. */
  deleteEpic: (project: string, epic: string) => call<null>("delete_epic", { project, epic }),
  /** A new, planned sprint. */
  createSprint: (project: string, input: SprintInput) => call<Sprint>("create_sprint", { project, input }),
  updateSprint: (project: string, sprint: number, input: SprintInput) => call<Sprint>("update_sprint", { project, sprint, input }),
  /** Dates given here (YYYY-MM-DD) replace the sprint's own; `sprint` null: the oldest planned one. */
  startSprint: (project: string, sprint: number | null, start: string | null, end: string | null) =>
    call<Sprint>("start_sprint", { project, sprint, start, end }),
  /** Unfinished cards go to the planned sprint `carryTo`, or to the backlog when null; `sprint` null: the active one. */
  closeSprint: (project: string, sprint: number | null, carryTo: number | null) => call<Sprint>("close_sprint", { project, sprint, carryTo }),
  /** Not the active one; its cards go to the backlog. */
  deleteSprint: (project: string, sprint: number) => call<null>("delete_sprint", { project, sprint }),
  /** Replaces the columns, in the order given (a column that still holds cards cannot go). */
  setBoardColumns: (project: string, columns: Column[]) => call<Board>("set_board_columns", { project, columns }),
  /** Plans, applies, runs and deploys create and move cards only while this is on. */
  setBoardAutomation: (project: string, on: boolean) => call<Board>("set_board_automation", { project, on }),
  /** `sprint` null: the active sprint, else the newest closed one. */
  burndown: (project: string, sprint: number | null) => call<Burndown>("burndown", { project, sprint }),
  /** Every closed sprint, by number. */
  velocity: (project: string) => call<Velocity[]>("velocity", { project }),
  /** The file's text: JSON (the whole board with its history) or CSV (issues, Jira's column names). */
  exportBoard: (project: string, format: BoardFormat) => call<string>("export_board", { project, format }),
  /** JSON replaces the board, CSV merges its issues; all or nothing: a refusal names the line and leaves the board unchanged. */
  importBoard: (project: string, format: BoardFormat, text: string) => call<ImportReport>("import_board", { project, format, text }),

  // ---- GitHub (src-tauri/src/commands/integrations.rs). Lists come a page at a time (GitHub's
  // Link headers: nextPage null on the last) with the quota GitHub last reported (`rate`).

  /** The repositories the token can see, its own and its organisations'; `query` searches by name. */
  githubRepos: (query: string | null, page: number) => call<Page<GhRepo>>("github_repos", { query, page }),
  githubBranches: (repo: string, page: number) => call<Page<GhBranch>>("github_branches", { repo, page }),
  /** The newest `limit` commits of the branch. */
  githubCommits: (repo: string, branch: string, limit: number) => call<Page<GhCommit>>("github_commits", { repo, branch, limit }),
  /** The repository's GitHub Actions workflow runs, newest first. */
  githubWorkflowRuns: (repo: string, page: number) => call<Page<WorkflowRun>>("github_workflow_runs", { repo, page }),
  /** A workflow run's jobs with their steps. */
  githubWorkflowJobs: (repo: string, runId: number) => call<WorkflowJob[]>("github_workflow_jobs", { repo, runId }),
  /** A job's whole log (GitHub gives it once the job has finished). */
  githubJobLog: (repo: string, jobId: number) => call<string>("github_job_log", { repo, jobId }),
  /** The secret to paste into GitHub's webhook form (made the first time; `rotate` makes a new one). */
  githubWebhookSecret: (rotate: boolean) => call<string>("github_webhook_secret", { rotate }),
  /** Starts watching a branch for new commits (each starts a run) and keeps the watch across restarts. */
  githubWatchStart: (setting: WatchSetting) => call<WatchInfo>("github_watch_start", { setting }),
  /** Stops and forgets the watch; false when there was none. */
  githubWatchStop: (repo: string, branch: string) => call<boolean>("github_watch_stop", { repo, branch }),
  githubWatches: () => call<WatchInfo[]>("github_watches"),

  // ---- Jenkins: one connected server; its token goes to the keychain and never comes back.
  connectJenkins: (input: JenkinsConnectInput) => call<JenkinsServer>("connect_jenkins", { input }),
  /** The saved server (address and user), or null; asks Jenkins nothing. */
  jenkinsConnection: () => call<JenkinsConnection | null>("jenkins_connection"),
  disconnectJenkins: () => call<null>("disconnect_jenkins"),
  /** Jobs at the top, or inside `folder` ("team/app"). */
  jenkinsJobs: (folder: string | null) => call<JenkinsJob[]>("jenkins_jobs", { folder }),
  jenkinsBuilds: (job: string, limit: number) => call<JenkinsBuild[]>("jenkins_builds", { job, limit }),
  /** A Pipeline build's stages as Jenkins' stage view has them (wfapi). */
  jenkinsStages: (job: string, number: number) => call<JenkinsStageView>("jenkins_stages", { job, number }),
  /** Queues a build (with the CSRF crumb); resolves with the queue item's URL. */
  jenkinsBuild: (job: string) => call<string | null>("jenkins_build", { job }),
  /** The console from `offset`, streamed until the build ends (a last chunk with more: false) or stop(). */
  followJenkinsLog: (job: string, number: number, offset: number, onChunk: (chunk: ConsoleChunk) => void) =>
    stream<ConsoleChunk, number>("follow_jenkins_log", { job, number, offset }, onChunk, true),

  // ---- Exports (src-tauri/src/commands/export.rs): the files' text, to show and save.
  /** terraform: the blueprint of `project`; the others: the pipeline of `project` deployed to `environment`. */
  exportFiles: (kind: ExportKind, project: string | null, environment: string | null) =>
    call<Export>("export", { kind, project, environment }),

  /**
   * Subscribes to the engine's event stream. The Rust side sends batches (one channel message
   * per batch, never per event). Returns a function that stops delivering batches.
   */
  subscribeEvents: async (onBatch: (batch: EventEnvelope[]) => void): Promise<() => void> => {
    let active = true;
    const channel = new Channel<EventEnvelope[]>((batch) => {
      if (active) onBatch(batch);
    });
    await call<null>("subscribe_events", { onEvents: channel });
    return () => {
      active = false;
    };
  },

  /** Tells the Rust side the first frame is on screen (the startup benchmark waits for it). */
  firstPaint: () => call<null>("first_paint"),
};

export type Api = typeof api;

let firstPaintReported = false;

/** Calls first_paint once per page load, after the browser has painted the first frame. */
export function reportFirstPaint(): void {
  if (firstPaintReported) return;
  firstPaintReported = true;
  // The rAF callback runs before the next paint; the timeout after it runs once that paint is done.
  requestAnimationFrame(() => {
    setTimeout(() => {
      api.firstPaint().catch((e: unknown) => console.warn("first_paint failed", toUserError(e, "first_paint")));
    }, 0);
  });
}
