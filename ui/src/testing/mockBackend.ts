// A believable stand-in for the Rust side, for tests only (Vitest and the Chromium suite through
// mock.html). It answers the same commands with the same generated types, keeps state between
// calls, rejects with UserError objects like the real commands, and pushes event batches through
// the subscribe_events channel using Tauri's channel protocol ({index, message}).
//
// Nothing here is shipped: the production build (index.html -> src/main.tsx) never imports it.

import type { InvokeArgs } from "@tauri-apps/api/core";

import type { CommandName } from "../commands.generated";

import type { AwsConnectInput } from "../bindings/AwsConnectInput";
import type { AwsProfile } from "../bindings/AwsProfile";
import type { ConnectionKind } from "../bindings/ConnectionKind";
import type { ConnectionStatus } from "../bindings/ConnectionStatus";
import type { DockerConfigEntry } from "../bindings/DockerConfigEntry";
import type { DoctorReport } from "../bindings/DoctorReport";
import type { Event } from "../bindings/Event";
import type { EventEnvelope } from "../bindings/EventEnvelope";
import type { GithubConnectInput } from "../bindings/GithubConnectInput";
import type { Identity } from "../bindings/Identity";
import type { RegistryConnectInput } from "../bindings/RegistryConnectInput";
import type { SandboxState } from "../bindings/SandboxState";
import type { Settings } from "../bindings/Settings";
import type { UserError } from "../bindings/UserError";
import type { ApplyReport } from "../bindings/ApplyReport";
import type { Blueprint } from "../bindings/Blueprint";
import type { DestroyReport } from "../bindings/DestroyReport";
import type { Observed } from "../bindings/Observed";
import type { Operation } from "../bindings/Operation";
import type { Phase } from "../bindings/Phase";
import type { ResourceSpec } from "../bindings/ResourceSpec";
import {
  WAIT_STATE,
  defaultBlueprint,
  mockDrift,
  mockPlan,
  mockResources,
  observedFor,
  physicalIdFor,
  validateBlueprint,
} from "./mockProvision";
import { MockDeploy } from "./mockDeploy";
import { MockPipeline } from "./mockPipeline";
import { MockBoard } from "./mockBoard";
import { MockExport } from "./mockExport";
import { MockGithub, type IntegrationEnv } from "./mockGithub";
import { MockJenkins } from "./mockJenkins";
import type { BoardFormat } from "../bindings/BoardFormat";
import type { CardInput } from "../bindings/CardInput";
import type { Column } from "../bindings/Column";
import type { EpicInput } from "../bindings/EpicInput";
import type { SprintInput } from "../bindings/SprintInput";
import type { Environment } from "../bindings/Environment";
import type { Project } from "../bindings/Project";
import type { ProjectInput } from "../bindings/ProjectInput";
import type { StageName } from "../bindings/StageName";

export const SANDBOX_ACCOUNT = "123456789012";
export const SANDBOX_PORT = 45500;

export const MOCK_REGIONS = [
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2",
  "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
  "ap-southeast-1", "ap-southeast-2", "sa-east-1",
];

export type Scenario = "default" | "fresh";

export type MockOptions = {
  /** Delay of each check, so progress states are visible (ms). */
  delayMs?: number;
  /** Pause between provisioning progress batches (ms); default: 30 when delayMs > 0 (apply ~2 s), else 0. */
  stepMs?: number;
  /** "fresh": a machine with nothing set up (no profiles, no docker logins, no gh, no docker). */
  scenario?: Scenario;
  /** Time of one simulated step of a pipeline run (ms; a run is about 14); default 500 when delayMs > 0, else 0. */
  runStepMs?: number;
  /** Time of one step of a simulated rollout (ms; a redeploy is about 12); default 250 when delayMs > 0, else 5. */
  rolloutStepMs?: number;
  /** How often a followed deploy log gets a new request line (ms); default 1000 when delayMs > 0, else 20. */
  logStepMs?: number;
};

type ChannelLike = { id: number };
type Args = InvokeArgs | undefined;

const REGION_RE = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

function ue(what: string, why: string, fix: string): UserError {
  return { what, why, fix };
}

function emptyStatus(kind: ConnectionKind): ConnectionStatus {
  return { kind, state: "notConfigured", identity: null, error: null, checkedAt: null };
}

export class MockBackend {
  readonly delayMs: number;
  readonly scenario: Scenario;
  now: () => number = () => Date.now();

  connections: Record<ConnectionKind, ConnectionStatus>;
  sandbox: SandboxState = { status: "stopped", endpoint: null, pid: null, error: null };
  settings: Settings = {
    defaultRegion: "us-east-1",
    sandboxAutoStart: true,
    sandboxPort: null,
    runLogRetentionDays: 30,
    secretStore: "keychain",
    sandboxContext: null,
    sandboxKubeconfig: null,
  };
  profiles: AwsProfile[];
  dockerConfig: DockerConfigEntry[];
  ghCliLoggedIn: boolean;
  dockerRunning: boolean;
  kubeReachable = false;

  blueprint: Blueprint = defaultBlueprint();
  /** What "exists" in the cloud, by logical id. */
  cloud = new Map<string, Observed>();
  readonly stepMs: number;
  private provisioning: Operation | null = null;
  private cancelRequested = false;

  /** Every command received, in order (arguments as sent, secrets included: tests check them). */
  calls: { cmd: string; args: Args }[] = [];
  firstPaintCalls = 0;

  private channels: { channel: ChannelLike; index: number }[] = [];
  private seq = 0;
  /** Next message index of every other channel (follow_log), by channel id. */
  private channelIndex = new Map<number, number>();

  /** Projects, runs and their logs. */
  pipeline: MockPipeline;
  /** Environments, revisions, the simulated cluster and its logs. */
  deploy: MockDeploy;
  /** Boards: cards, epics, sprints and their history (a port of crates/core/src/board). */
  board: MockBoard;
  /** GitHub as the connected token sees it: repositories, branches, commits, Actions runs, watches. */
  github: MockGithub;
  /** One Jenkins server: jobs, builds, stage views, consoles that grow while a build runs. */
  jenkins: MockJenkins;
  /** Export files made from the mock's blueprint and projects. */
  exports: MockExport;

  constructor(opts: MockOptions = {}) {
    this.delayMs = opts.delayMs ?? 0;
    this.scenario = opts.scenario ?? "default";
    this.stepMs = opts.stepMs ?? (this.delayMs > 0 ? 30 : 0);
    const fresh = this.scenario === "fresh";
    this.profiles = fresh
      ? []
      : [
          { name: "default", region: "eu-west-1", kind: "staticKeys", files: ["~/.aws/credentials", "~/.aws/config"] },
          { name: "work-sso", region: "eu-central-1", kind: "sso", files: ["~/.aws/config"] },
          { name: "ci", region: null, kind: "credentialProcess", files: ["~/.aws/config"] },
          { name: "admin", region: "us-east-2", kind: "assumeRole", files: ["~/.aws/config"] },
        ];
    this.dockerConfig = fresh
      ? []
      : [
          { registry: "127.0.0.1:45000", username: "slipway", helper: null },
          { registry: "ghcr.io", username: null, helper: "secretservice" },
        ];
    this.ghCliLoggedIn = !fresh;
    this.dockerRunning = !fresh;
    this.connections = {
      aws: emptyStatus("aws"),
      github: emptyStatus("github"),
      registry: emptyStatus("registry"),
      docker: this.dockerRunning
        ? { kind: "docker", state: "connected", identity: this.dockerIdentity(), error: null, checkedAt: this.now() }
        : {
            kind: "docker",
            state: "failed",
            identity: null,
            error: this.dockerDown(),
            checkedAt: this.now(),
          },
      kubernetes: {
        kind: "kubernetes",
        state: "failed",
        identity: null,
        error: ue(
          "Kubernetes check failed",
          "connection refused at https://127.0.0.1:6443 (context slipway-test)",
          "Start the cluster (scripts/testenv.sh start) or pick another context with kubectl config use-context",
        ),
        checkedAt: this.now(),
      },
    };
    this.pipeline = new MockPipeline(
      {
        now: () => this.now(),
        emit: (events) => this.emit(events),
        dockerUp: () => this.dockerRunning,
        dockerDown: () => this.dockerDown(),
        registryConnected: () => this.connections.registry.state === "connected",
        send: (channel, message) => this.send(channel, message),
        end: (channel) => {
          this.send(channel, null, true);
        },
      },
      { stepMs: opts.runStepMs ?? (this.delayMs > 0 ? 500 : 0), seed: !fresh },
    );
    this.deploy = new MockDeploy(
      {
        now: () => this.now(),
        emit: (events) => this.emit(events),
        send: (channel, message) => this.send(channel, message),
        end: (channel) => {
          this.send(channel, null, true);
        },
        project: (id) => {
          const p = this.pipeline.projects.find((x) => x.id === id);
          if (!p) throw ue("Project not found", `there is no project "${id}"`, "Add it first (Project page, or `slipway project add PATH`)");
          return p;
        },
        runs: (project) => this.pipeline.listRuns(project, 200),
      },
      {
        stepMs: opts.rolloutStepMs ?? (this.delayMs > 0 ? 250 : 5),
        logMs: opts.logStepMs ?? (this.delayMs > 0 ? 1000 : 20),
        seed: !fresh,
      },
    );
    this.board = new MockBoard(
      { now: () => this.now(), emit: (events) => this.emit(events), projects: () => this.pipeline.projects.map((p) => p.id) },
      { seed: !fresh },
    );
    const integrations: IntegrationEnv = {
      now: () => this.now(),
      emit: (events) => this.emit(events),
      send: (channel, message) => this.send(channel, message),
      end: (channel) => {
        this.send(channel, null, true);
      },
      github: () => this.connections.github,
      projects: () => this.pipeline.projects,
      blueprint: () => this.blueprint,
    };
    this.github = new MockGithub(integrations, { seed: !fresh });
    this.jenkins = new MockJenkins(integrations, { seed: !fresh });
    this.exports = new MockExport(
      {
        ...integrations,
        environments: (project) => this.deploy.listEnvironments(project),
        runs: (project) => this.pipeline.listRuns(project, 200),
        registry: () => {
          const id = this.connections.registry.identity;
          if (this.connections.registry.state !== "connected" || id?.kind !== "registry") return null;
          return id.registry.endsWith("docker.io") ? `docker.io/${id.username || "REPLACE_WITH_NAMESPACE"}` : id.registry;
        },
      },
      { seed: !fresh },
    );
  }

  /**
   * One message on a channel, with Tauri's {index, message} protocol ({index, end} closes it).
   * False when the page's side of the channel is gone (reloaded, or another test's mock).
   */
  private send(channel: ChannelLike, message: unknown, end = false): boolean {
    const internals = (
      window as unknown as {
        __TAURI_INTERNALS__?: { runCallback?: (id: number, data: unknown) => void; callbacks?: Map<number, unknown> };
      }
    ).__TAURI_INTERNALS__;
    if (!internals?.runCallback || (internals.callbacks && !internals.callbacks.has(channel.id))) return false;
    const index = this.channelIndex.get(channel.id) ?? 0;
    this.channelIndex.set(channel.id, index + 1);
    internals.runCallback(channel.id, end ? { index, end: true } : { index, message: structuredClone(message) });
    return true;
  }

  /** The mockIPC callback. */
  handle = async (cmd: string, args?: Args): Promise<unknown> => {
    this.calls.push({ cmd, args });
    const a = (args ?? {}) as Record<string, unknown>;
    // Routed by the generated command names: a command renamed or removed in Rust fails the
    // typecheck here, and one added there fails it at `default` until the mock answers it.
    const command = cmd as CommandName;
    switch (command) {
      case "doctor":
        return this.doctor();
      case "aws_profiles":
        return structuredClone(this.profiles);
      case "connect_aws":
        return this.connectAws(a.input as AwsConnectInput);
      case "aws_regions":
        return this.awsRegions();
      case "set_aws_region":
        return this.setAwsRegion(a.region as string);
      case "connect_github":
        return this.connectGithub(a.input as GithubConnectInput);
      case "github_cli_token_available":
        return this.ghCliLoggedIn && (a.baseUrl == null || String(a.baseUrl).includes("api.github.com"));
      case "connect_registry":
        return this.connectRegistry(a.input as RegistryConnectInput);
      case "docker_config_entries":
        return structuredClone(this.dockerConfig);
      case "check_connection":
        return this.checkConnection(a.kind as ConnectionKind);
      case "disconnect":
        return this.disconnect(a.kind as ConnectionKind);
      case "connections":
        return structuredClone(Object.values(this.connections));
      case "sandbox_start":
        return this.sandboxStart();
      case "sandbox_stop":
        return this.sandboxStop();
      case "sandbox_status":
        return structuredClone(this.sandbox);
      case "get_settings":
        return structuredClone(this.settings);
      case "save_settings":
        return this.saveSettings(a.settings as Settings);
      case "get_blueprint":
        return structuredClone(this.blueprint);
      case "save_blueprint":
        return this.saveBlueprint(a.blueprint as Blueprint);
      case "blueprint_resources":
        return mockResources(this.blueprint);
      case "plan":
        await this.pause(0.5);
        return mockPlan(this.blueprint, this.cloud);
      case "apply":
        return this.apply();
      case "destroy":
        return this.destroy();
      case "refresh":
        await this.pause(0.5);
        return mockDrift(this.blueprint, this.cloud);
      case "cancel_provisioning":
        if (this.provisioning === null) return false;
        this.cancelRequested = true;
        return true;
      case "project_resources":
        return [...this.cloud.values()].map((o) => structuredClone(o));
      case "detect_project":
        await this.pause();
        return this.pipeline.detectProject(a.input as ProjectInput);
      case "save_project":
        await this.pause(0.3);
        return this.pipeline.saveProject(a.project as Project);
      case "projects":
        return this.pipeline.listProjects();
      case "start_run":
        return this.pipeline.startRun(a.project as string, (a.gitRef as string | null) ?? null, (a.until as StageName | null) ?? null);
      case "rerun":
        return this.pipeline.rerun(a.run as string);
      case "cancel_run":
        return this.pipeline.cancelRun(a.run as string);
      case "runs":
        return this.pipeline.listRuns((a.project as string | null) ?? null, (a.limit as number | null) ?? null);
      case "get_run":
        return this.pipeline.getRun(a.run as string);
      case "log_steps":
        return this.pipeline.logSteps(a.run as string, a.stage as StageName);
      case "follow_log":
        return this.pipeline.followLog(a.run as string, a.stage as StageName, a.step as string, a.offset as number, a.onChunk as ChannelLike);
      case "environments":
        return this.deploy.listEnvironments((a.project as string | null) ?? null);
      case "save_environment":
        await this.pause(0.3);
        return this.deploy.saveEnvironment(a.environment as Environment);
      case "delete_environment":
        return this.deploy.deleteEnvironment(a.project as string, a.name as string);
      case "kube_contexts":
        await this.pause(0.3);
        return this.deploy.kubeContexts((a.kubeconfig as string | null) ?? null);
      case "deploy":
        return this.deploy.deploy(a.project as string, a.environment as string, (a.run as string | null) ?? null);
      case "redeploy":
        return this.deploy.redeploy(a.project as string, a.environment as string);
      case "rollback":
        return this.deploy.rollback(a.project as string, a.environment as string, (a.to as number | null) ?? null, a.reason as string);
      case "deploy_status":
        await this.pause(0.3);
        return this.deploy.status(a.project as string, a.environment as string);
      case "revisions":
        return this.deploy.listRevisions(a.project as string, a.environment as string, (a.limit as number | null) ?? null);
      case "teardown":
        await this.pause(0.5);
        return this.deploy.teardown(a.project as string, a.environment as string);
      case "stop_stream":
        // A followed Jenkins console (mockJenkins.ts) or a followed deploy log.
        return this.jenkins.stopStream(a.channel as number) || this.deploy.stopStream(a.channel as number);
      case "follow_deploy_logs":
        return this.deploy.followLogs(a.project as string, a.environment as string, a.follow as boolean, (a.tail as number | null) ?? null, a.onChunk as ChannelLike);
      // The Board page (src-tauri/src/commands/board.rs): `project` null is the only board.
      case "board_projects":
        return this.board.projects();
      case "get_board":
        return this.board.data((a.project as string | null) ?? null);
      case "board_history":
        return this.board.history((a.project as string | null) ?? null, (a.card as string | null) ?? null);
      case "create_card":
        await this.pause(0.2);
        return this.board.createCard((a.project as string | null) ?? null, a.input as CardInput);
      case "update_card":
        await this.pause(0.2);
        return this.board.updateCard((a.project as string | null) ?? null, a.card as string, a.input as CardInput);
      case "move_card":
        await this.pause(0.2);
        return this.board.moveCard((a.project as string | null) ?? null, a.card as string, a.column as string, (a.position as number | null) ?? null);
      case "delete_card":
        return this.board.deleteCard((a.project as string | null) ?? null, a.card as string);
      case "create_epic":
        return this.board.createEpic((a.project as string | null) ?? null, a.input as EpicInput);
      case "update_epic":
        return this.board.updateEpic((a.project as string | null) ?? null, a.epic as string, a.input as EpicInput);
      case "delete_epic":
        return this.board.deleteEpic((a.project as string | null) ?? null, a.epic as string);
      case "create_sprint":
        return this.board.createSprint((a.project as string | null) ?? null, a.input as SprintInput);
      case "update_sprint":
        return this.board.updateSprint((a.project as string | null) ?? null, a.sprint as number, a.input as SprintInput);
      case "start_sprint":
        return this.board.startSprint((a.project as string | null) ?? null, (a.sprint as number | null) ?? null, (a.start as string | null) ?? null, (a.end as string | null) ?? null);
      case "close_sprint":
        return this.board.closeSprint((a.project as string | null) ?? null, (a.sprint as number | null) ?? null, (a.carryTo as number | null) ?? null);
      case "delete_sprint":
        return this.board.deleteSprint((a.project as string | null) ?? null, a.sprint as number);
      case "set_board_columns":
        return this.board.setColumns((a.project as string | null) ?? null, a.columns as Column[]);
      case "set_board_automation":
        return this.board.setAutomation((a.project as string | null) ?? null, a.on as boolean);
      case "burndown":
        return this.board.burndown((a.project as string | null) ?? null, (a.sprint as number | null) ?? null);
      case "velocity":
        return this.board.velocity((a.project as string | null) ?? null);
      case "export_board":
        return this.board.exportBoard((a.project as string | null) ?? null, a.format as BoardFormat);
      case "import_board":
        await this.pause(0.3);
        return this.board.importBoard((a.project as string | null) ?? null, a.format as BoardFormat, a.text as string);
      // GitHub, Jenkins and exports (issue #7): src/testing/mockGithub.ts, mockJenkins.ts, mockExport.ts.
      case "github_repos":
      case "github_branches":
      case "github_commits":
      case "github_workflow_runs":
      case "github_workflow_jobs":
      case "github_job_log":
      case "github_webhook_secret":
      case "github_watch_start":
      case "github_watch_stop":
      case "github_watches":
        await this.pause(0.2);
        return this.github.handle(cmd, a);
      case "connect_jenkins":
      case "jenkins_connection":
      case "disconnect_jenkins":
      case "jenkins_jobs":
      case "jenkins_builds":
      case "jenkins_stages":
      case "jenkins_build":
      case "follow_jenkins_log":
        await this.pause(0.2);
        return this.jenkins.handle(cmd, a);
      case "export":
        await this.pause(0.2);
        return this.exports.handle(cmd, a);
      case "subscribe_events":
        this.channels.push({ channel: a.onEvents as ChannelLike, index: 0 });
        return null;
      case "first_paint":
        this.firstPaintCalls += 1;
        return null;
      case "secrets_status":
        return { kind: this.settings.secretStore, location: "the Secret Service (D-Bus)", ok: true, error: null, warning: null };
      case "sandbox_mappings":
        return [];
      // The Launch page is tested against the real service layer (the desktop e2e), not here.
      case "launch_state":
      case "launch_add_project":
      case "launch_plan":
      case "launch_apply":
      case "launch_run":
      case "launch_deploy":
        throw ue(`${command} is not in the mock backend`, "the Launch journey runs on the real service layer only", "Test it through the desktop app (tests/e2e/launch.test.mjs)");
      default: {
        const unhandled: never = command;
        throw ue(`Unknown command ${String(unhandled)}`, "the mock backend does not implement it", "Add it to src/testing/mockBackend.ts");
      }
    }
  };

  /** Sends one batch to every subscriber, as the Rust side does after its batching window. */
  emit(events: Event[]): EventEnvelope[] {
    const batch = events.map((event) => ({ seq: ++this.seq, at: this.now(), event }));
    const internals = (
      window as unknown as {
        __TAURI_INTERNALS__?: { runCallback?: (id: number, data: unknown) => void; callbacks?: Map<number, unknown> };
      }
    ).__TAURI_INTERNALS__;
    for (const sub of this.channels) {
      // A page that is gone (reloaded, or a finished test) has no callback for its channel any more.
      if (internals?.callbacks && !internals.callbacks.has(sub.channel.id)) continue;
      internals?.runCallback?.(sub.channel.id, { index: sub.index++, message: structuredClone(batch) });
    }
    return batch;
  }

  get subscriberCount(): number {
    return this.channels.length;
  }

  private async pause(factor = 1): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs * factor));
  }

  private doctor(): DoctorReport {
    return {
      connections: structuredClone(Object.values(this.connections)),
      sandbox: structuredClone(this.sandbox),
      dataDir: "/root/.local/share/slipway",
      storeSchemaVersion: 1,
    };
  }

  private setStatus(kind: ConnectionKind, next: Omit<ConnectionStatus, "kind" | "checkedAt">): ConnectionStatus {
    const prev = this.connections[kind];
    const status: ConnectionStatus = {
      kind,
      state: next.state,
      // Like the real store: a failed check keeps the last confirmed identity.
      identity: next.state === "failed" ? (next.identity ?? prev.identity) : next.identity,
      error: next.error,
      checkedAt: next.state === "notConfigured" ? null : this.now(),
    };
    this.connections[kind] = status;
    this.emit([{ type: "connectionChecked", status: structuredClone(status) }]);
    return structuredClone(status);
  }

  private fail(kind: ConnectionKind, error: UserError): never {
    this.setStatus(kind, { state: "failed", identity: null, error });
    throw error;
  }

  private setSandbox(state: SandboxState): SandboxState {
    this.sandbox = state;
    this.emit([{ type: "sandboxChanged", state: structuredClone(state) }]);
    return structuredClone(state);
  }

  private sandboxEndpoint(): string {
    return `http://127.0.0.1:${this.settings.sandboxPort ?? SANDBOX_PORT}`;
  }

  private async sandboxStart(): Promise<SandboxState> {
    if (this.sandbox.status === "running") return structuredClone(this.sandbox);
    this.setSandbox({ status: "starting", endpoint: null, pid: null, error: null });
    this.emit([{ type: "progress", task: "sandbox", message: `starting the AWS emulator on ${this.sandboxEndpoint()}` }]);
    await this.pause();
    return this.setSandbox({ status: "running", endpoint: this.sandboxEndpoint(), pid: 4242, error: null });
  }

  private async sandboxStop(): Promise<SandboxState> {
    await this.pause(0.5);
    const state = this.setSandbox({ status: "stopped", endpoint: null, pid: null, error: null });
    const aws = this.connections.aws;
    if (aws.identity?.kind === "aws" && aws.identity.source.source === "sandbox") {
      this.setStatus("aws", {
        state: "failed",
        identity: null,
        error: ue(
          "AWS sign-in check failed",
          `nothing answers at ${aws.identity.endpoint} (the sandbox is stopped)`,
          "Start the sandbox, or connect with a profile or access keys",
        ),
      });
    }
    return state;
  }

  private awsIdentity(input: AwsConnectInput, account: string, arn: string, endpoint: string | null, region: string): Identity {
    const source =
      input.source === "sandbox"
        ? ({ source: "sandbox" } as const)
        : input.source === "profile"
          ? ({ source: "profile", name: input.name } as const)
          : input.source === "staticKeys"
            ? ({ source: "staticKeys", accessKeyId: input.accessKeyId } as const)
            : ({ source: "environment" } as const);
    return { kind: "aws", account, arn, userId: "AIDAEXAMPLEUSERID0001", region, endpoint, source };
  }

  private async connectAws(input: AwsConnectInput): Promise<ConnectionStatus> {
    const region = input.region ?? this.settings.defaultRegion;
    if (input.source === "sandbox") {
      await this.sandboxStart();
      await this.pause(0.5);
      return this.setStatus("aws", {
        state: "connected",
        identity: this.awsIdentity(input, SANDBOX_ACCOUNT, `arn:aws:sts::${SANDBOX_ACCOUNT}:user/moto`, this.sandboxEndpoint(), region),
        error: null,
      });
    }
    await this.pause();
    if (input.source === "profile") {
      const p = this.profiles.find((x) => x.name === input.name);
      if (!p) {
        this.fail("aws", ue("AWS sign-in check failed", `there is no profile named '${input.name}'`, "Pick a profile from the list"));
      }
      if (p.kind === "sso") {
        this.fail(
          "aws",
          ue(
            "AWS sign-in check failed",
            `the SSO session for profile '${p.name}' has expired`,
            `Run aws sso login --profile ${p.name}, then connect again`,
          ),
        );
      }
      return this.setStatus("aws", {
        state: "connected",
        identity: this.awsIdentity(input, "210987654321", `arn:aws:iam::210987654321:user/${p.name}`, null, input.region ?? p.region ?? region),
        error: null,
      });
    }
    if (input.source === "staticKeys") {
      if (!/^(AKIA|ASIA)[A-Z0-9]{12,}$/.test(input.accessKeyId) || input.secretAccessKey.length < 8) {
        this.fail(
          "aws",
          ue(
            "AWS sign-in check failed",
            "The security token included in the request is invalid",
            "Check the access key id and secret access key, or pick another profile",
          ),
        );
      }
      return this.setStatus("aws", {
        state: "connected",
        identity: this.awsIdentity(input, "345678901234", "arn:aws:iam::345678901234:user/deployer", input.endpoint, region),
        error: null,
      });
    }
    this.fail("aws", ue("AWS sign-in check failed", "no AWS credentials in the environment", "Set AWS_ACCESS_KEY_ID or pick another source"));
  }

  private awsRegions(): string[] {
    if (this.connections.aws.state !== "connected") {
      throw ue("Listing AWS regions failed", "AWS is not connected", "Connect AWS first (sandbox, profile or access keys)");
    }
    return [...MOCK_REGIONS];
  }

  private async setAwsRegion(region: string): Promise<ConnectionStatus> {
    const aws = this.connections.aws;
    if (aws.state !== "connected" || aws.identity?.kind !== "aws") {
      throw ue("Changing the AWS region failed", "AWS is not connected", "Connect AWS first");
    }
    if (!MOCK_REGIONS.includes(region)) {
      throw ue("Changing the AWS region failed", `'${region}' is not a region this account can use`, "Pick a region from the list");
    }
    await this.pause(0.5);
    return this.setStatus("aws", { state: "connected", identity: { ...aws.identity, region }, error: null });
  }

  private async connectGithub(input: GithubConnectInput): Promise<ConnectionStatus> {
    await this.pause();
    const baseUrl = input.baseUrl ?? "https://api.github.com";
    if (input.token === null) {
      if (!this.ghCliLoggedIn) {
        this.fail("github", ue("GitHub sign-in check failed", "the gh CLI has no login for this host", "Run gh auth login, or paste a token"));
      }
      return this.setStatus("github", {
        state: "connected",
        identity: { kind: "github", login: "octo-dev", name: "Octo Dev", scopes: ["gist", "read:org", "repo", "workflow"], baseUrl },
        error: null,
      });
    }
    if (input.token === "bad" || input.token.length < 8) {
      this.fail(
        "github",
        ue(
          "GitHub sign-in check failed",
          "GitHub answered 401 Bad credentials: the token is wrong, expired or revoked",
          "Create a new token at https://github.com/settings/tokens with the repo and workflow scopes, then paste it here",
        ),
      );
    }
    return this.setStatus("github", {
      state: "connected",
      identity: { kind: "github", login: "octo-dev", name: "Octo Dev", scopes: ["repo", "workflow"], baseUrl },
      error: null,
    });
  }

  private async connectRegistry(input: RegistryConnectInput): Promise<ConnectionStatus> {
    await this.pause();
    const registry = input.registry.replace(/^https?:\/\//, "").replace(/\/+$/, "");
    if (input.password === null) {
      const entry = this.dockerConfig.find((e) => e.registry === input.registry);
      if (!entry) {
        this.fail(
          "registry",
          ue("Registry sign-in check failed", `~/.docker/config.json has no login for ${registry}`, `Run docker login ${registry}, or enter a user name and password`),
        );
      }
      if (entry.helper) {
        this.fail(
          "registry",
          ue(
            "Registry sign-in check failed",
            `the docker-credential-${entry.helper} helper is not installed`,
            `Install docker-credential-${entry.helper}, or enter a user name and password`,
          ),
        );
      }
      return this.setStatus("registry", {
        state: "connected",
        identity: { kind: "registry", registry, username: entry.username ?? "", fromDockerConfig: true },
        error: null,
      });
    }
    if (input.password === "bad") {
      this.fail(
        "registry",
        ue("Registry sign-in check failed", `${registry} answered 401 unauthorized: incorrect username or password`, "Check the user name and password (or access token)"),
      );
    }
    return this.setStatus("registry", {
      state: "connected",
      identity: { kind: "registry", registry, username: input.username, fromDockerConfig: false },
      error: null,
    });
  }

  private dockerIdentity(): Identity {
    return { kind: "docker", host: "unix:///var/run/docker.sock", version: "20.10.24+dfsg1", apiVersion: "1.41", os: "linux" };
  }

  private dockerDown(): UserError {
    return ue(
      "Docker engine check failed",
      "cannot connect to unix:///var/run/docker.sock: no such file or directory",
      "Start the Docker engine (dockerd), or set DOCKER_HOST to where it listens",
    );
  }

  private async checkConnection(kind: ConnectionKind): Promise<ConnectionStatus> {
    await this.pause();
    const prev = this.connections[kind];
    switch (kind) {
      case "docker":
        if (!this.dockerRunning) this.fail("docker", this.dockerDown());
        return this.setStatus("docker", { state: "connected", identity: this.dockerIdentity(), error: null });
      case "kubernetes":
        // The second check finds the cluster up (as if it was started in between).
        if (!this.kubeReachable) {
          this.kubeReachable = true;
          this.fail("kubernetes", prev.error ?? ue("Kubernetes check failed", "connection refused", "Start the cluster"));
        }
        return this.setStatus("kubernetes", {
          state: "connected",
          identity: { kind: "kubernetes", context: "slipway-test", server: "https://127.0.0.1:6443", version: "v1.20.2" },
          error: null,
        });
      default:
        if (prev.state === "notConfigured") return structuredClone(prev);
        if (kind === "aws" && prev.identity?.kind === "aws" && prev.identity.source.source === "sandbox" && this.sandbox.status !== "running") {
          this.fail(
            "aws",
            ue("AWS sign-in check failed", "the sandbox is not running", "Start the sandbox, or connect with a profile or access keys"),
          );
        }
        return this.setStatus(kind, { state: "connected", identity: prev.identity, error: null });
    }
  }

  private async disconnect(kind: ConnectionKind): Promise<ConnectionStatus> {
    await this.pause(0.3);
    return this.setStatus(kind, { state: "notConfigured", identity: null, error: null });
  }

  private saveSettings(s: Settings): Settings {
    if (!REGION_RE.test(s.defaultRegion)) {
      throw ue("Settings not saved", `'${s.defaultRegion}' is not an AWS region name`, "Use a region code such as us-east-1 or eu-west-2");
    }
    if (s.sandboxPort !== null && s.sandboxPort < 1024) {
      throw ue(
        "Settings not saved",
        `port ${s.sandboxPort} is a privileged port`,
        "Pick a port from 1024 to 65535, or leave it empty to pick a free one",
      );
    }
    if (s.runLogRetentionDays > 3650) {
      throw ue("Settings not saved", `${s.runLogRetentionDays} days is more than 3650`, "Keep run logs up to 3650 days, or 0 to keep them forever");
    }
    this.settings = structuredClone(s);
    this.emit([{ type: "settingsChanged" }]);
    return structuredClone(this.settings);
  }

  // ---- provisioning ----------------------------------------------------------------------

  private saveBlueprint(bp: Blueprint): Blueprint {
    const error = validateBlueprint(bp);
    if (error) throw error;
    this.blueprint = structuredClone(bp);
    return structuredClone(this.blueprint);
  }

  private busy(op: Operation): UserError {
    return ue(
      op === "apply" ? "Apply not started" : "Destroy not started",
      `a ${this.provisioning} of project ${this.blueprint.project} is still running`,
      "Wait for it to finish, or cancel it",
    );
  }

  private step(): Promise<void> {
    return new Promise((r) => setTimeout(r, this.stepMs));
  }

  private progress(op: Operation, spec: ResourceSpec, phase: Phase, cloudState: string | null, physicalId: string | null, elapsedMs: number, done: number, total: number, error: UserError | null = null): Event {
    return {
      type: "resourceProgress", op, project: this.blueprint.project, id: spec.id, kind: spec.kind, name: spec.name, phase,
      cloudState, physicalId, elapsedMs, expectedMs: spec.expectedSecs * 1000, done, total, error,
    };
  }

  private finish(op: Operation, ok: boolean, summary: string, error: UserError | null) {
    this.provisioning = null;
    this.cancelRequested = false;
    this.emit([{ type: "provisionFinished", op, project: this.blueprint.project, ok, summary, error }]);
  }

  private async apply(): Promise<ApplyReport> {
    if (this.provisioning) throw this.busy("apply");
    this.provisioning = "apply";
    const started = this.now();
    const plan = mockPlan(this.blueprint, this.cloud);
    const specs = mockResources(this.blueprint);
    const total = specs.length;
    let done = 0;
    const counts = { created: 0, updated: 0, replaced: 0, unchanged: 0 };
    this.emit(specs.map((s) => this.progress("apply", s, "pending", null, this.cloud.get(s.id)?.physicalId ?? null, 0, 0, total)));
    for (const spec of specs) {
      if (this.cancelRequested) {
        const error = ue("Apply cancelled", `stopped after ${done} of ${total} resources`, "Run Apply again to finish; what was created is kept");
        this.emit(specs.slice(done).map((s) => this.progress("apply", s, "cancelled", null, null, 0, done, total)));
        this.finish("apply", false, `cancelled after ${done} of ${total}`, error);
        throw error;
      }
      const change = plan.changes.find((c) => c.id === spec.id)!;
      const existing = this.cloud.get(spec.id);
      if (change.action === "noChange") {
        done += 1;
        counts.unchanged += 1;
        this.emit([this.progress("apply", spec, "unchanged", existing?.state ?? null, existing?.physicalId ?? null, 0, done, total)]);
        continue;
      }
      const phase: Phase = change.action === "create" ? "creating" : change.action === "replace" ? "replacing" : "updating";
      const expected = spec.expectedSecs * 1000;
      const physicalId = change.action === "update" && existing ? existing.physicalId : physicalIdFor(spec);
      this.emit([this.progress("apply", spec, phase, null, null, 0, done, total)]);
      await this.step();
      this.emit([this.progress("apply", spec, "waiting", WAIT_STATE[spec.kind] ?? "pending", physicalId, Math.round(expected * 0.6), done, total)]);
      await this.step();
      this.cloud.set(spec.id, observedFor(spec, physicalId));
      done += 1;
      counts[change.action === "create" ? "created" : change.action === "replace" ? "replaced" : "updated"] += 1;
      this.emit([this.progress("apply", spec, "ready", this.cloud.get(spec.id)!.state, physicalId, Math.round(expected * 0.9), done, total)]);
    }
    const summary = `${counts.created} created, ${counts.updated} updated, ${counts.replaced} replaced, ${counts.unchanged} unchanged`;
    this.finish("apply", true, summary, null);
    return {
      project: this.blueprint.project, summary, ...counts, deleted: 0, durationMs: this.now() - started,
      resources: [...this.cloud.values()].map((o) => structuredClone(o)),
    };
  }

  private async destroy(): Promise<DestroyReport> {
    if (this.provisioning) throw this.busy("destroy");
    this.provisioning = "destroy";
    const started = this.now();
    const specs = mockResources(this.blueprint).reverse().filter((s) => this.cloud.has(s.id));
    const total = specs.length;
    const removed: Observed[] = [];
    for (const spec of specs) {
      if (this.cancelRequested) {
        const error = ue("Destroy cancelled", `stopped after ${removed.length} of ${total} resources`, "Run Destroy again to remove the rest");
        this.finish("destroy", false, `cancelled after ${removed.length} of ${total}`, error);
        throw error;
      }
      const o = this.cloud.get(spec.id)!;
      this.emit([this.progress("destroy", spec, "deleting", "deleting", o.physicalId, 0, removed.length, total)]);
      await this.step();
      this.cloud.delete(spec.id);
      removed.push(o);
      this.emit([this.progress("destroy", spec, "deleted", null, o.physicalId, Math.round(spec.expectedSecs * 500), removed.length, total)]);
    }
    this.finish("destroy", true, `${removed.length} removed`, null);
    return { project: this.blueprint.project, removed, durationMs: this.now() - started };
  }
}
