// The mock backend's Jenkins side (issue #7): one Jenkins server as crates/ci sees it. Jobs at
// the top and in a folder (a folder has no ball colour, like Jenkins' own JSON), builds with
// results, and Pipeline builds whose stage view (wfapi/describe) and console
// (logText/progressiveText) follow a clock: a live build's stages advance and its console grows
// as time passes. "Build now" queues a build that starts after `queueMs`. Refusals are the
// UserErrors crates/ci and crates/app/src/integrations.rs give, with their wording.
//
// The seeded running build (sample-app #12) starts its clock the first time something reads it,
// so a test that opens it late still sees it in progress.

import type { ConsoleChunk } from "../bindings/ConsoleChunk";
import type { JenkinsBuild } from "../bindings/JenkinsBuild";
import type { JenkinsConnectInput } from "../bindings/JenkinsConnectInput";
import type { JenkinsConnection } from "../bindings/JenkinsConnection";
import type { JenkinsJob } from "../bindings/JenkinsJob";
import type { JenkinsServer } from "../bindings/JenkinsServer";
import type { JenkinsStage } from "../bindings/JenkinsStage";
import type { JenkinsStageView } from "../bindings/JenkinsStageView";
import type { UserError } from "../bindings/UserError";
import type { IntegrationEnv } from "./mockGithub";

type ChannelLike = { id: number };

function ue(what: string, why: string, fix: string): UserError {
  return { what, why, fix };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const JENKINS_VERSION = "2.452.3";
/** The token the mock's "dev" user has; any other token of 8+ characters is accepted too, except ones containing "bad" or "revoked". */
export const JENKINS_TOKEN = "11f2a9c0e4b7d8a3c6e1f0b2a5d4c7e9f8";

/** crates/ci's `refusal`, for the statuses the mock answers. */
export function refusal(what: string, target: string, status: number, body: string): UserError {
  const short = body.match(/<title>([^<]*)<\/title>/)?.[1].trim() ?? body.split("\n")[0].trim().slice(0, 200);
  if (status === 401) {
    return ue(what, `Jenkins rejected the user or API token (401 ${short})`, "Check the user name, and create a new API token in Jenkins (your name > Security > API Token)");
  }
  if (status === 403 && body.includes("crumb")) {
    return ue(
      what,
      "Jenkins refused the request without a valid CSRF crumb (403 No valid crumb was included in the request)",
      "Slipway asks for a crumb first; check that the crumb issuer is reachable and that a proxy keeps the session cookie",
    );
  }
  if (status === 403) return ue(what, `Jenkins refused access to ${target} (403 ${short})`, "Ask a Jenkins admin for the Job/Read (and Job/Build to start builds) permission");
  if (status === 404) return ue(what, `${target} does not exist on this Jenkins (404)`, "Check the job name (folders as folder/job) and the build number");
  return ue(what, `Jenkins answered ${status} ${short}`, "Jenkins may be restarting or overloaded; try again later");
}

/** Jetty's error page, as Jenkins sends it. */
export function errorPage(status: number, message: string): string {
  return `<html>\n<head>\n<title>Error ${status} ${message}</title>\n</head>\n<body><h2>HTTP ERROR ${status} ${message}</h2></body>\n</html>\n`;
}

/** What the Build now test injects: Jenkins answering the POST without a valid crumb. */
export function crumbRefusal(): UserError {
  return refusal("Could not start the Jenkins build", "job sample-app", 403, errorPage(403, "No valid crumb was included in the request"));
}

export function jenkinsNotConnected(): UserError {
  return ue("Jenkins not connected", "no Jenkins server has been connected", "Run `slipway jenkins connect --url <url> --user <user>` first");
}

/** crates/ci's normalize_url. */
function normalizeUrl(url: string): string {
  const u = url.trim().replace(/\/+$/, "");
  const host = u.split("://")[1];
  if (!(u.startsWith("http://") || u.startsWith("https://")) || !host || /\s/.test(host)) {
    throw ue("Jenkins address not valid", `'${url}' is not an http(s) URL`, "Enter the address you open Jenkins at, such as https://jenkins.example.com");
  }
  return u;
}

/** crates/ci's job_path check. */
function checkJobName(name: string): string[] {
  const parts = name.trim().replace(/^\/+|\/+$/g, "").split("/");
  if (parts.some((p) => p === "" || p === ".." || p === ".")) {
    throw ue("Job name not valid", `'${name}' is not a job name`, "Give the job's name, with folders as folder/job");
  }
  return parts;
}

type Outcome = "SUCCESS" | "FAILURE" | "UNSTABLE" | "ABORTED";

/** A stage of a Pipeline and what happens in it. */
type StagePlan = { name: string; lines: string[]; status: "SUCCESS" | "FAILED" | "UNSTABLE" };

type Job = {
  /** Full name: "team/api". */
  name: string;
  kind: "pipeline" | "freestyle" | "folder";
  disabled: boolean;
  builds: Build[];
  /** Builds waiting in the queue (Build now), each starting at its time. */
  queue: { startsAt: number; id: number }[];
};

type Build = {
  number: number;
  /** When it started (ms since the epoch). */
  timestamp: number;
  /** The stages (a Pipeline) or one pseudo-stage (freestyle), in order. */
  plan: StagePlan[];
  outcome: Outcome;
  /** Live builds: the clock (null until first read), progress (in stages) at that moment. */
  live: { t0: number | null; startUnits: number } | null;
  /** Finished builds: their duration. */
  durationMs: number;
};

function pipelinePlan(job: string, number: number, fail: "none" | "test" = "none"): StagePlan[] {
  const ws = `/var/jenkins_home/workspace/${job.replace(/\//g, "_")}`;
  const sha = ((number * 2654435761) >>> 0).toString(16).padStart(8, "0") + "3f9c1e7a2b40d6";
  const test: StagePlan =
    fail === "test"
      ? {
          name: "Test",
          status: "FAILED",
          lines: [
            "+ docker compose run --rm backend pytest --junitxml=reports/backend.xml",
            "============================= test session starts ==============================",
            "collected 9 items",
            "tests/test_api.py ......F..                                              [100%]",
            "FAILED tests/test_api.py::test_list_items_sorted - AssertionError",
            "========================= 1 failed, 8 passed in 2.41s ==========================",
            "Recording test results",
            "[Checks API] No suitable checks publisher found.",
            "ERROR: script returned exit code 1",
          ],
        }
      : {
          name: "Test",
          status: "SUCCESS",
          lines: [
            "+ docker compose run --rm backend pytest --junitxml=reports/backend.xml",
            "============================= test session starts ==============================",
            "collected 9 items",
            "tests/test_api.py .........                                              [100%]",
            "============================== 9 passed in 2.38s ===============================",
            "+ docker compose run --rm frontend npm test -- --reporter=junit",
            "Tests: 14 passed, 14 total",
            "Recording test results",
            "[Checks API] No suitable checks publisher found.",
          ],
        };
  return [
    {
      name: "Checkout",
      status: "SUCCESS",
      lines: [
        "The recommended git tool is: NONE",
        "using credential github-token",
        `Cloning the remote Git repository`,
        `Cloning repository https://github.com/octo-dev/${job.split("/").pop()}.git`,
        ` > git init ${ws} # timeout=10`,
        " > git fetch --tags --force --progress -- origin +refs/heads/*:refs/remotes/origin/* # timeout=10",
        `Checking out Revision ${sha.slice(0, 40)} (refs/remotes/origin/main)`,
        ` > git checkout -f ${sha.slice(0, 40)} # timeout=10`,
      ],
    },
    {
      name: "Build",
      status: "SUCCESS",
      lines: [
        "+ docker build -t registry.example.com/app/backend:" + number + " backend",
        "#1 [internal] load build definition from Dockerfile",
        "#5 [2/4] RUN pip install --no-cache-dir -r requirements.txt",
        "#8 exporting to image",
        "#8 naming to registry.example.com/app/backend:" + number + " done",
        "+ docker build -t registry.example.com/app/frontend:" + number + " frontend",
        "#6 [3/5] RUN npm ci",
        "#9 naming to registry.example.com/app/frontend:" + number + " done",
      ],
    },
    test,
    {
      name: "Push",
      status: "SUCCESS",
      lines: [
        "+ docker login -u **** --password-stdin registry.example.com",
        "Login Succeeded",
        "+ docker push registry.example.com/app/backend:" + number,
        `${number}: digest: sha256:${sha.repeat(3).slice(0, 64)} size: 2204`,
        "+ docker push registry.example.com/app/frontend:" + number,
        `${number}: digest: sha256:${sha.split("").reverse().join("").repeat(3).slice(0, 64)} size: 1987`,
      ],
    },
    {
      name: "Deploy",
      status: "SUCCESS",
      lines: [
        "+ kubectl apply --server-side --field-manager slipway -k slipway/",
        "deployment.apps/backend serverside-applied",
        "deployment.apps/frontend serverside-applied",
        "+ kubectl rollout status deployment/backend --timeout=300s",
        'deployment "backend" successfully rolled out',
        "+ kubectl rollout status deployment/frontend --timeout=300s",
        'deployment "frontend" successfully rolled out',
      ],
    },
  ];
}

function freestylePlan(): StagePlan[] {
  return [
    {
      name: "Build",
      status: "FAILED",
      lines: [
        "[nightly-backup] $ /bin/sh -xe /tmp/jenkins5312847.sh",
        "+ pg_dump --format=custom --file=/backups/nightly.dump app",
        'pg_dump: error: connection to server at "db.internal" (10.20.10.12), port 5432 failed: timeout expired',
        "Build step 'Execute shell' marked build as failure",
      ],
    },
  ];
}

const MIN = 60_000;

export class MockJenkins {
  /** The saved server (the store's `integration:jenkins`); null when not connected. */
  saved: JenkinsConnection | null = null;
  /** Time one Pipeline stage takes (ms). Tests make it short. */
  stageMs = 3000;
  /** How long a queued build waits for an executor (ms). */
  queueMs = 1500;
  /** How often a followed console is read again (the Rust side: every second). */
  pollMs = 250;
  /** Follows in progress, by channel id (stop_stream ends one). */
  readonly follows = new Set<number>();
  /** Channel ids stop_stream named, in order. */
  readonly stopped: number[] = [];
  private jobs: Job[] = [];
  private injected = new Map<string, UserError[]>();
  private queueSeq = 310;

  constructor(
    readonly env: IntegrationEnv,
    readonly opts: { seed: boolean },
  ) {
    if (opts.seed) this.seed();
  }

  /** The next call of `cmd` is refused with `error` (e.g. a 403 without a crumb). */
  failNext(cmd: string, error: UserError): void {
    this.injected.set(cmd, [...(this.injected.get(cmd) ?? []), error]);
  }

  /** Like stop_stream: ends the follow writing to `channel`; false when none does. */
  stopStream(channel: number): boolean {
    if (!this.follows.has(channel)) return false;
    this.stopped.push(channel);
    this.follows.delete(channel);
    return true;
  }

  async handle(cmd: string, a: Record<string, unknown>): Promise<unknown> {
    const injected = this.injected.get(cmd);
    if (injected?.length) {
      const e = injected.shift()!;
      throw structuredClone(e);
    }
    switch (cmd) {
      case "connect_jenkins":
        return this.connect(a.input as JenkinsConnectInput);
      case "jenkins_connection":
        return this.saved ? { ...this.saved } : null;
      case "disconnect_jenkins":
        this.saved = null;
        return null;
      case "jenkins_jobs":
        return this.listJobs((a.folder as string | null) ?? null);
      case "jenkins_builds":
        return this.listBuilds(a.job as string, (a.limit as number | null) ?? 20);
      case "jenkins_stages":
        return this.stages(a.job as string, a.number as number);
      case "jenkins_build":
        return this.build(a.job as string);
      case "follow_jenkins_log":
        return this.followLog(a.job as string, a.number as number, (a.offset as number) ?? 0, a.onChunk as ChannelLike);
      default:
        throw ue(`Unknown command ${cmd}`, "the mock Jenkins does not implement it", "Add it to src/testing/mockJenkins.ts");
    }
  }

  // ---- the seeded server -------------------------------------------------------------------

  private seed() {
    const now = this.env.now();
    const done = (job: string, number: number, agoMin: number, outcome: Outcome, durationMs: number, plan?: StagePlan[]): Build => ({
      number,
      timestamp: now - agoMin * MIN,
      plan: plan ?? pipelinePlan(job, number, outcome === "FAILURE" ? "test" : "none"),
      outcome,
      live: null,
      durationMs,
    });
    this.jobs = [
      {
        name: "sample-app",
        kind: "pipeline",
        disabled: false,
        queue: [],
        builds: [
          // Running: Checkout done, Build under way, when first read.
          { number: 12, timestamp: now - 40_000, plan: pipelinePlan("sample-app", 12), outcome: "SUCCESS", live: { t0: null, startUnits: 1.3 }, durationMs: 0 },
          done("sample-app", 11, 95, "SUCCESS", 4 * MIN + 12_400),
          done("sample-app", 10, 26 * 60, "FAILURE", 2 * MIN + 51_000),
          done("sample-app", 9, 2 * 24 * 60, "SUCCESS", 4 * MIN + 3_100),
        ],
      },
      {
        name: "nightly-backup",
        kind: "freestyle",
        disabled: false,
        queue: [],
        builds: [done("nightly-backup", 31, 9 * 60, "FAILURE", 32_000, freestylePlan()), done("nightly-backup", 30, 33 * 60, "SUCCESS", 41_000, freestylePlan().map((s) => ({ ...s, status: "SUCCESS" as const, lines: s.lines.slice(0, 2) })))],
      },
      { name: "legacy-deploy", kind: "freestyle", disabled: true, queue: [], builds: [] },
      { name: "team", kind: "folder", disabled: false, queue: [], builds: [] },
      {
        name: "team/api",
        kind: "pipeline",
        disabled: false,
        queue: [],
        builds: [done("team/api", 7, 300, "UNSTABLE", 3 * MIN + 5_000), done("team/api", 6, 2 * 24 * 60, "SUCCESS", 3 * MIN + 40_000)],
      },
      { name: "team/web", kind: "pipeline", disabled: false, queue: [], builds: [] },
    ];
    const unstable = this.jobs.find((j) => j.name === "team/api")!.builds[0];
    unstable.plan = unstable.plan.map((s) => (s.name === "Test" ? { ...s, status: "UNSTABLE" as const } : s));
  }

  // ---- the clock ---------------------------------------------------------------------------

  /** Queued builds whose time has come start; live builds whose stages are all done finish. */
  private tick(job: Job) {
    const now = this.env.now();
    for (const q of job.queue.filter((x) => x.startsAt <= now)) {
      const number = (job.builds[0]?.number ?? 0) + 1;
      job.builds.unshift({ number, timestamp: q.startsAt, plan: pipelinePlan(job.name, number), outcome: "SUCCESS", live: { t0: q.startsAt, startUnits: 0 }, durationMs: 0 });
    }
    job.queue = job.queue.filter((x) => x.startsAt > now);
    for (const b of job.builds) {
      if (!b.live) continue;
      const p = this.units(b);
      if (p >= b.plan.length) {
        const t0 = b.live.t0 ?? now;
        b.durationMs = Math.round(t0 - b.timestamp + (b.plan.length - b.live.startUnits) * this.stageMs);
        b.live = null;
      }
    }
  }

  /** How far a build is, in stages (2.5: the third stage is half done). */
  private units(b: Build): number {
    if (!b.live) return b.plan.length;
    if (b.live.t0 === null) return b.live.startUnits;
    return b.live.startUnits + Math.max(0, this.env.now() - b.live.t0) / this.stageMs;
  }

  /** Reading a build starts the seeded one's clock. */
  private observe(b: Build) {
    if (b.live && b.live.t0 === null) b.live.t0 = this.env.now();
  }

  private outcomeOf(b: Build): Outcome {
    if (b.plan.some((s) => s.status === "FAILED")) return "FAILURE";
    if (b.plan.some((s) => s.status === "UNSTABLE")) return "UNSTABLE";
    return b.outcome;
  }

  // ---- commands ----------------------------------------------------------------------------

  private base(): string {
    if (!this.saved) throw jenkinsNotConnected();
    return this.saved.url;
  }

  private async connect(input: JenkinsConnectInput): Promise<JenkinsServer> {
    const url = normalizeUrl(input.url);
    if (input.user.trim() === "") throw ue("Jenkins user missing", "no user name was given", "Enter the Jenkins user the API token belongs to");
    if (input.token.trim() === "") {
      throw ue("Jenkins API token missing", "the token is empty", "Create an API token in Jenkins (your name > Security > API Token) and paste it");
    }
    const what = "Jenkins check failed";
    const host = url.split("://")[1].split("/")[0];
    if (/:1$/.test(host) || host.endsWith(".invalid")) {
      const path = `${url}/api/json?tree=jobs%5Bname%5D`;
      const cause = host.endsWith(".invalid")
        ? `dns error: failed to lookup address information: Name or service not known`
        : "tcp connect error: Connection refused (os error 111)";
      throw ue(what, `cannot reach ${url}: error sending request for url (${path}): client error (Connect): ${cause}`, "Check the Jenkins address and your network");
    }
    if (input.token.length < 8 || /bad|revoked/i.test(input.token)) {
      throw refusal(what, "the server", 401, errorPage(401, "Unauthorized"));
    }
    this.saved = { url, user: input.user.trim() };
    this.env.emit([{ type: "progress", task: "connect", message: `Checking Jenkins at ${url}` }]);
    return { url, user: input.user.trim(), version: JENKINS_VERSION, jobs: this.jobs.filter((j) => !j.name.includes("/")).length };
  }

  private findJob(name: string, what: string, target: string): Job {
    const parts = checkJobName(name);
    const job = this.jobs.find((j) => j.name === parts.join("/"));
    if (!job) throw refusal(what, target, 404, errorPage(404, "Not Found"));
    return job;
  }

  private jobUrl(name: string): string {
    return `${this.base()}${name.split("/").map((p) => `/job/${encodeURIComponent(p)}`).join("")}/`;
  }

  private listJobs(folder: string | null): JenkinsJob[] {
    this.base();
    const what = "Could not list the Jenkins jobs";
    const f = folder?.trim() ? checkJobName(folder).join("/") : null;
    if (f !== null) {
      const job = this.jobs.find((j) => j.name === f);
      if (!job) throw refusal(what, folder!, 404, errorPage(404, "Not Found"));
      if (job.kind !== "folder") return []; // a job's api/json has no "jobs"
    }
    return this.jobs
      .filter((j) => (f === null ? !j.name.includes("/") : j.name.startsWith(`${f}/`) && !j.name.slice(f.length + 1).includes("/")))
      .map((j) => {
        this.tick(j);
        return {
          name: j.name.split("/").pop()!,
          url: this.jobUrl(j.name),
          color: this.color(j),
          lastBuild: j.builds[0]?.number ?? null,
        };
      });
  }

  private color(j: Job): string | null {
    if (j.kind === "folder") return null;
    if (j.disabled) return "disabled";
    const running = j.builds.some((b) => b.live !== null);
    const last = j.builds.find((b) => b.live === null);
    const base = !last ? "notbuilt" : ({ SUCCESS: "blue", FAILURE: "red", UNSTABLE: "yellow", ABORTED: "aborted" } as const)[this.outcomeOf(last)];
    return running ? `${base}_anime` : base;
  }

  private listBuilds(name: string, limit: number): JenkinsBuild[] {
    this.base();
    const job = this.findJob(name, "Could not list the builds", `job ${name}`);
    this.tick(job);
    return job.builds.slice(0, Math.min(100, Math.max(1, limit))).map((b) => ({
      number: b.number,
      result: b.live ? null : this.outcomeOf(b),
      building: b.live !== null,
      timestamp: b.timestamp,
      durationMs: b.live ? 0 : b.durationMs,
      url: `${this.jobUrl(job.name)}${b.number}/`,
    }));
  }

  private findBuild(name: string, number: number, what: string, target: string): { job: Job; b: Build } {
    const job = this.findJob(name, what, target);
    this.tick(job);
    const b = job.builds.find((x) => x.number === number);
    if (!b) throw refusal(what, target, 404, errorPage(404, "Not Found"));
    return { job, b };
  }

  private stages(name: string, number: number): JenkinsStageView {
    this.base();
    const what = "Could not read the pipeline's stages";
    const target = `build ${name} #${number} (or its stage view: is it a Pipeline job?)`;
    const { job, b } = this.findBuild(name, number, what, target);
    if (job.kind !== "pipeline") throw refusal(what, target, 404, errorPage(404, "Not Found"));
    this.observe(b);
    this.tick(job);
    const p = this.units(b);
    const t0 = b.live?.t0 ?? b.timestamp;
    const startUnits = b.live?.startUnits ?? 0;
    // The clock of a stage: stage i starts at (i - startUnits) stage-times after t0.
    const at = (i: number) => (b.live ? t0 + (i - startUnits) * this.stageMs : b.timestamp + (b.durationMs * i) / b.plan.length);
    const stages: JenkinsStage[] = [];
    let failed = false;
    b.plan.forEach((s, i) => {
      if (p < i && b.live) return; // not started: wfapi lists only stages that began
      const id = String(6 + i * 7);
      if (failed) {
        stages.push({ id, name: s.name, status: "NOT_EXECUTED", startTimeMs: at(i), durationMs: 0 });
        return;
      }
      const running = b.live !== null && p < i + 1;
      const started = at(i);
      const durationMs = running ? Math.max(0, this.env.now() - started) : Math.round(at(i + 1) - started);
      stages.push({ id, name: s.name, status: running ? "IN_PROGRESS" : s.status, startTimeMs: Math.round(started), durationMs: Math.round(durationMs) });
      if (s.status === "FAILED" && !running) failed = true;
    });
    const status = b.live ? "IN_PROGRESS" : ({ SUCCESS: "SUCCESS", FAILURE: "FAILED", UNSTABLE: "UNSTABLE", ABORTED: "ABORTED" } as const)[this.outcomeOf(b)];
    return { id: String(number), name: `#${number}`, status, stages };
  }

  /** The console as far as the build has written it. */
  private consoleText(job: Job, b: Build): string {
    const p = this.units(b);
    const out: string[] = ["Started by user Dev Ops"];
    if (job.kind === "pipeline") {
      out.push("[Pipeline] Start of Pipeline", "[Pipeline] node", `Running on agent-1 in /var/jenkins_home/workspace/${job.name.replace(/\//g, "_")}`, "[Pipeline] {");
    } else {
      out.push(`Running as SYSTEM`, `Building in workspace /var/jenkins_home/workspace/${job.name}`);
    }
    let failed = false;
    b.plan.forEach((s, i) => {
      if (p <= i || failed) {
        if (failed && job.kind === "pipeline" && !b.live) {
          out.push("[Pipeline] stage", `[Pipeline] { (${s.name})`, `Stage "${s.name}" skipped due to earlier failure(s)`, "[Pipeline] }");
        }
        return;
      }
      if (job.kind === "pipeline") out.push("[Pipeline] stage", `[Pipeline] { (${s.name})`, "[Pipeline] sh");
      const shown = p >= i + 1 ? s.lines.length : Math.floor((p - i) * s.lines.length);
      out.push(...s.lines.slice(0, shown));
      if (p >= i + 1) {
        if (job.kind === "pipeline") out.push("[Pipeline] }");
        if (s.status === "FAILED") failed = true;
      }
    });
    if (!b.live) {
      if (job.kind === "pipeline") out.push("[Pipeline] }", "[Pipeline] // node", "[Pipeline] End of Pipeline");
      if (failed && job.kind === "pipeline") out.push("ERROR: script returned exit code 1");
      out.push(`Finished: ${this.outcomeOf(b)}`);
    }
    return out.join("\n") + "\n";
  }

  private async build(name: string): Promise<string | null> {
    this.base();
    const what = "Could not start the Jenkins build";
    const job = this.findJob(name, what, `job ${name}`);
    if (job.kind === "folder") throw refusal(what, `job ${name}`, 405, errorPage(405, "Method Not Allowed"));
    if (job.disabled) throw refusal(what, `job ${name}`, 409, errorPage(409, "Conflict"));
    const id = ++this.queueSeq;
    job.queue.push({ startsAt: this.env.now() + this.queueMs, id });
    this.env.emit([{ type: "progress", task: "jenkins", message: `build of ${name} queued` }]);
    return `${this.base()}/queue/item/${id}/`;
  }

  /**
   * Like follow_jenkins_log: the console from `offset`, then what the build adds every
   * `pollMs` until it ends (a last chunk with more: false) or stop_stream names the channel.
   */
  private async followLog(name: string, number: number, offset: number, channel: ChannelLike): Promise<number> {
    this.base();
    const what = "Could not read the console log";
    const { job, b } = this.findBuild(name, number, what, `build ${name} #${number}`);
    this.observe(b);
    this.follows.add(channel.id);
    let at = offset;
    try {
      for (;;) {
        this.tick(job);
        const text = this.consoleText(job, b);
        const more = b.live !== null;
        const piece = text.slice(at);
        at = Math.max(at, text.length);
        if (piece !== "" || !more) {
          const chunk: ConsoleChunk = { text: piece, nextOffset: at, more };
          if (!this.env.send(channel, chunk)) return at;
        }
        if (!more) {
          this.env.end(channel);
          return at;
        }
        await sleep(this.pollMs);
        if (!this.follows.has(channel.id)) return at;
      }
    } finally {
      this.follows.delete(channel.id);
    }
  }
}
