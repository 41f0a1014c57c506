// The pipeline half of MockBackend: projects (detect, validate, save), runs that go through the
// five stages on a timer with runUpdated events like the Rust runner, and step logs streamed
// through a channel from a byte offset. The shapes (step names, log lines, errors) follow
// crates/core/src/pipeline and a real run of examples/sample-app. Tests only.

import type { Event } from "../bindings/Event";
import type { LogChunk } from "../bindings/LogChunk";
import type { Project } from "../bindings/Project";
import type { ProjectInput } from "../bindings/ProjectInput";
import type { Run } from "../bindings/Run";
import type { ServiceSpec } from "../bindings/ServiceSpec";
import type { StageName } from "../bindings/StageName";
import type { StageRun } from "../bindings/StageRun";
import type { Status } from "../bindings/Status";
import type { TestCase } from "../bindings/TestCase";
import type { TestReport } from "../bindings/TestReport";
import type { Trigger } from "../bindings/Trigger";
import type { UserError } from "../bindings/UserError";

export const STAGES: StageName[] = ["checkout", "build", "test", "push", "deploy"];
export const SAMPLE_PATH = "/home/dev/sample-app";
const REGISTRY = "127.0.0.1:45510";

export function ue(what: string, why: string, fix: string): UserError {
  return { what, why, fix };
}

const final = (s: Status) => s !== "queued" && s !== "running";

// ---- projects ------------------------------------------------------------------------------

/** Like project::id_from_name. */
export function idFromName(name: string): string {
  let id = name
    .replace(/\.git$/, "")
    .split("")
    .map((c) => (/[A-Za-z0-9]/.test(c) ? c.toLowerCase() : "-"))
    .join("");
  while (id.includes("--")) id = id.replace("--", "-");
  id = id.replace(/^[\d-]+/, "").replace(/-+$/, "").slice(0, 40).replace(/-+$/, "");
  return id || "project";
}

/** Like project::is_id: a short name. */
export const isId = (s: string) => s.length > 0 && s.length <= 40 && /^[a-z][a-z0-9-]*$/.test(s) && !s.endsWith("-");

/** Like Project::validate. */
export function validateProject(p: Project): UserError | null {
  const bad = (why: string, fix: string) => ue("Project settings are not valid", why, fix);
  if (!isId(p.id)) return bad(`the project id "${p.id}" is not a short name`, "Use lowercase letters, digits and dashes (up to 40), starting with a letter");
  if (p.services.length === 0) {
    return bad("no services", "Add a Dockerfile or a compose file with a build section to the repository, or list services in slipway.toml");
  }
  const seen = new Set<string>();
  for (const s of p.services) {
    if (!isId(s.name)) return bad(`the service name "${s.name}" is not a short name`, "Use lowercase letters, digits and dashes");
    if (seen.has(s.name)) return bad(`two services are called "${s.name}"`, "Rename one of them");
    seen.add(s.name);
    if (s.context.includes("..") || s.context.startsWith("/")) {
      return bad(`service ${s.name}: the build context "${s.context}" is outside the repository`, "Use a folder inside the repository");
    }
  }
  for (const s of p.services) {
    for (const d of s.dependsOn) {
      if (!seen.has(d) && p.database?.name !== d) {
        return bad(`service ${s.name} depends on "${d}", which is neither a service nor the database`, "Fix depends_on in the compose file or slipway.toml");
      }
    }
  }
  if (p.deploy.replicas === 0 || p.deploy.replicas > 20) return bad(`${p.deploy.replicas} replicas per service`, "Use 1 to 20 replicas");
  if (p.concurrency === 0) return bad("a concurrency of 0 would never run anything", "Use 1 or more");
  if (p.deploy.entry !== null && !seen.has(p.deploy.entry)) {
    return bad(`the entry service "${p.deploy.entry}" does not exist`, "Pick one of the project's services");
  }
  return null;
}

const PYTEST = ["pytest", "-q", "--junitxml=/reports/junit.xml", "--cov=.", "--cov-report=xml:/reports/coverage.xml"];

/** The fields of a ServiceSpec detection leaves empty unless the repository says otherwise. */
export const SERVICE_DEFAULTS = {
  image: null,
  aliases: [],
  command: null,
  entrypoint: null,
  healthcheck: null,
  dependsConditions: {},
  secretEnv: [],
  timeoutSecs: null,
  coverageMin: null,
  testTimeoutSecs: null,
} satisfies Partial<ServiceSpec>;

/** The fields of a Project detection leaves empty unless the repository says otherwise. */
export const PROJECT_DEFAULTS = { facts: [], settings: [], committedSecrets: [], composeFile: null } satisfies Partial<Project>;

function service(name: string, port: number, env: Record<string, string>, dependsOn: string[], conditions: Record<string, string>): ServiceSpec {
  return {
    name,
    context: name,
    dockerfile: "Dockerfile",
    port,
    env,
    dependsOn,
    testCommand: [...PYTEST],
    tests: true,
    buildArgs: {},
    language: "python",
    healthPath: "/healthz",
    ...SERVICE_DEFAULTS,
    dependsConditions: conditions,
  };
}

/** What detection finds in examples/sample-app (compose: db, backend, frontend). */
export function sampleProject(id: string, source: Project["source"]): Project {
  return {
    id,
    source,
    subdir: "",
    gitRef: "HEAD",
    services: [
      { ...service("backend", 8000, { DB_HOST: "db", DB_NAME: "sample", DB_PORT: "3306", DB_USER: "sample" }, ["db"], { db: "service_healthy" }), secretEnv: ["DB_PASSWORD"] },
      service("frontend", 8080, { BACKEND_URL: "http://backend:8000" }, ["backend"], { backend: "service_started" }),
    ],
    database: { name: "db", image: "mariadb:10.11", schema: "db/schema.sql", database: "sample", user: "sample", engine: "mysql", schemaFiles: [], aliases: [], urls: [] },
    manifests: ["k8s/backend.yaml", "k8s/frontend.yaml", "k8s/namespace.yaml", "k8s/nginx.yaml"],
    envVars: ["BACKEND_TIMEOUT", "BACKEND_URL", "DB_CONNECT_TIMEOUT", "DB_HOST", "DB_NAME", "DB_PASSWORD", "DB_PORT", "DB_USER"],
    deploy: { replicas: 3, entry: "frontend", proxyPort: 0, entryReason: "set in slipway.toml line 23" },
    concurrency: 1,
    detectedFrom: ["docker-compose.yml", "slipway.toml"],
    // What `slipway project detect examples/sample-app` reports (a part of it), word for word.
    facts: [
      { topic: "service", subject: "backend", text: "depends on db (service_healthy)", source: "docker-compose.yml services.backend.depends_on" },
      { topic: "test", subject: "backend", text: "Python tests (pytest), run by pytest", source: "backend/tests/test_api.py" },
      { topic: "database", subject: "backend", text: "uses the database through DB_HOST=db", source: "docker-compose.yml line 25" },
      { topic: "database", subject: "db", text: "schema loaded from db/schema.sql", source: "db/schema.sql (from docker-compose.yml services.db.volumes)" },
      { topic: "setting", subject: "BACKEND_URL", text: "BACKEND_URL=http://backend:8000 for frontend", source: "docker-compose.yml line 39" },
      { topic: "secret", subject: "DB_PASSWORD", text: "this repository commits a database password in docker-compose.yml line 28 (DB_PASSWORD)", source: "docker-compose.yml line 28" },
      { topic: "entry", subject: "frontend", text: "frontend is the entry service", source: "slipway.toml line 23" },
    ],
    settings: [
      { name: "BACKEND_URL", value: "http://backend:8000", secret: false, services: ["frontend"], source: "docker-compose.yml line 39" },
      { name: "DB_PASSWORD", value: null, secret: true, services: ["backend"], source: "docker-compose.yml line 28" },
    ],
    committedSecrets: [
      { name: "MARIADB_PASSWORD", what: "a database password", file: "docker-compose.yml", line: 10 },
      { name: "MARIADB_ROOT_PASSWORD", what: "a database password", file: "docker-compose.yml", line: 7 },
      { name: "DB_PASSWORD", what: "a database password", file: "docker-compose.yml", line: 28 },
    ],
    composeFile: "docker-compose.yml",
  };
}

/** A single-Dockerfile repository with no tests found (the "no tests" case). */
function plainProject(id: string, source: Project["source"]): Project {
  return {
    id,
    source,
    subdir: "",
    gitRef: "HEAD",
    services: [
      {
        name: id,
        context: ".",
        dockerfile: "Dockerfile",
        port: 3000,
        env: {},
        dependsOn: [],
        testCommand: null,
        tests: true,
        buildArgs: {},
        language: null,
        healthPath: null,
        ...SERVICE_DEFAULTS,
      },
    ],
    database: null,
    manifests: [],
    envVars: ["PORT"],
    deploy: { replicas: 3, entry: id, proxyPort: 0, entryReason: "the only service" },
    concurrency: 1,
    detectedFrom: ["Dockerfile"],
    ...PROJECT_DEFAULTS,
    facts: [
      { topic: "service", subject: id, text: "built from Dockerfile", source: "Dockerfile" },
      { topic: "warning", subject: id, text: "no tests found: the Test stage fails until tests exist or slipway.toml says `tests = false`", source: "." },
      { topic: "entry", subject: id, text: `${id} is the entry service: the only service`, source: "" },
    ],
  };
}

/**
 * detect_project: a path must be absolute (anything else "is not a folder"); a path or URL with
 * "empty" in it has no services; "missing" in a Git URL is a repository that does not exist;
 * "plain" is one Dockerfile without tests; everything else looks like the sample app.
 */
export function detect(input: ProjectInput): Project {
  const source = input.source;
  const where = source.kind === "path" ? source.path.trim() : source.url.trim();
  if (where === "") {
    throw ue("Project detection failed", source.kind === "path" ? "no folder was given" : "no Git URL was given", "Enter the repository's folder or its Git URL");
  }
  if (source.kind === "path" && !where.startsWith("/")) {
    throw ue("Project detection failed", `${where} is not a folder`, "Check the repository path");
  }
  if (source.kind === "git") {
    if (!/^(https?:\/\/|ssh:\/\/|git@|file:\/\/)/.test(where)) {
      throw ue("Checkout failed", `"${where}" is not a Git URL`, "Use an https://, ssh:// or file:// URL, or git@host:owner/repo");
    }
    if (where.includes("missing")) {
      throw ue("Checkout failed", `the repository ${where} was not found (or the connected GitHub token cannot read it)`, "Check the URL; for a private repository connect GitHub on the Connect page");
    }
  }
  if (where.includes("empty")) {
    throw ue(
      "Project detection failed",
      `no Dockerfile and no compose service with a build section in ${where}`,
      "Add a Dockerfile for each service (or a compose file), or list the services in slipway.toml",
    );
  }
  const name = where.replace(/\/+$/, "").split(/[/:]/).pop() ?? "";
  const id = input.id?.trim() ? input.id.trim() : idFromName(name);
  const p = where.includes("plain") ? plainProject(id, source) : sampleProject(id, source);
  const err = validateProject(p);
  if (err) throw err;
  return p;
}

// ---- logs ----------------------------------------------------------------------------------

/** A deterministic hex string (commit shas, image ids, digests). */
export function hex(seed: string, length: number): string {
  let h = 2166136261;
  let out = "";
  while (out.length < length) {
    for (let i = 0; i < seed.length; i++) {
      h ^= seed.charCodeAt(i);
      h = Math.imul(h, 16777619) >>> 0;
    }
    h = Math.imul(h ^ out.length, 2246822519) >>> 0;
    out += h.toString(16).padStart(8, "0");
  }
  return out.slice(0, length);
}

const PACKAGES = [
  "flask==3.0.3", "gunicorn==23.0.0", "pymysql==1.1.1", "pytest==8.3.3", "pytest-cov==5.0.0", "Werkzeug>=3.0.0",
  "Jinja2>=3.1.2", "itsdangerous>=2.1.2", "click>=8.1.3", "blinker>=1.6.2", "packaging", "iniconfig", "pluggy<2,>=1.5",
  "coverage[toml]>=5.2.1", "MarkupSafe>=2.0",
];

/** The classic builder's output for a service; `long` adds a verbose pip install (thousands of lines). */
export function buildLog(project: string, svc: ServiceSpec, sha: string, runId: string, long: boolean): string {
  const id = (n: number) => hex(`${runId}${svc.name}${n}`, 12);
  const lines: string[] = [];
  const steps = [
    "ARG BASE_IMAGE=python:3.11-slim",
    "FROM ${BASE_IMAGE}",
    "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1",
    "WORKDIR /app",
    "COPY requirements.txt .",
    "RUN pip install --no-cache-dir -r requirements.txt",
    "COPY . .",
    "RUN mkdir -p /reports && chmod 1777 /reports",
    `EXPOSE ${svc.port ?? 8000}`,
    `CMD ["gunicorn", "--workers", "2", "--bind", "0.0.0.0:${svc.port ?? 8000}", "--access-logfile", "-", "app:app"]`,
    `LABEL slipway.image.commit=${sha}`,
    `LABEL slipway.image.project=${project}`,
    `LABEL slipway.image.run=${runId}`,
  ];
  steps.forEach((s, i) => {
    lines.push(`Step ${i + 1}/${steps.length} : ${s}`);
    if (i === 0) return;
    if (i === 5 && long) {
      lines.push(` ---> Running in ${id(100)}`);
      for (let round = 0; round < 160; round++) {
        for (const p of PACKAGES) {
          const name = p.split(/[=<>[]/)[0];
          lines.push(`Collecting ${p} (from -r requirements.txt (line ${(round % 5) + 1}))`);
          lines.push(`  Downloading ${name.toLowerCase()}-${1 + (round % 9)}.${round % 13}.${round % 7}-py3-none-any.whl (${40 + ((round * 7) % 900)} kB)`);
        }
      }
      lines.push("Installing collected packages: " + PACKAGES.map((p) => p.split(/[=<>[]/)[0]).join(", "));
      lines.push("Successfully installed " + PACKAGES.map((p) => p.replace(/[<>]=?|\[.*\]/g, "==").split("==")[0] + "-1.0").join(" "));
      lines.push(`Removing intermediate container ${id(100)}`);
      lines.push(` ---> ${id(i)}`);
      return;
    }
    if (i >= 10) {
      lines.push(` ---> Running in ${id(200 + i)}`);
      lines.push(`Removing intermediate container ${id(200 + i)}`);
    } else {
      lines.push(" ---> Using cache");
    }
    lines.push(` ---> ${id(i)}`);
  });
  lines.push(`Successfully built ${id(99)}`);
  lines.push(`Successfully tagged ${project}-${svc.name}:${sha.slice(0, 12)}`);
  return lines.join("\n") + "\n";
}

function dbLog(): string {
  const t = "2026-11-27 01:18:3";
  return [
    `${t}4+00:00 [Entrypoint]: initializing the database in /var/lib/mysql`,
    `${t}5+00:00 [Entrypoint]: starting a temporary server (socket only)`,
    `${t}5 0 [Note] Starting MariaDB 10.11.19-MariaDB-0+deb12u1 as process 72`,
    `${t}5 0 [Note] InnoDB: Compressed tables use zlib 1.2.13`,
    `${t}5 0 [Note] InnoDB: Completed initialization of buffer pool`,
    `${t}5 0 [Note] mariadbd: ready for connections.`,
    `${t}5+00:00 [Entrypoint]: running /docker-entrypoint-initdb.d/schema.sql`,
    `${t}6+00:00 [Entrypoint]: initialization done`,
    `${t}6 0 [Note] mariadbd: ready for connections.`,
    "Version: '10.11.19-MariaDB-0+deb12u1'  socket: '/run/mysqld/mysqld.sock'  port: 3306  Debian 12",
  ].join("\n") + "\n";
}

function serviceLog(svc: ServiceSpec): string {
  return [
    "[2026-11-27 01:18:37 +0000] [1] [INFO] Starting gunicorn 23.0.0",
    `[2026-11-27 01:18:37 +0000] [1] [INFO] Listening at: http://0.0.0.0:${svc.port ?? 8000} (1)`,
    "[2026-11-27 01:18:37 +0000] [1] [INFO] Using worker: sync",
    "[2026-11-27 01:18:37 +0000] [7] [INFO] Booting worker with pid: 7",
    "[2026-11-27 01:18:37 +0000] [8] [INFO] Booting worker with pid: 8",
    '172.18.0.4 - - [27/Nov/2026:01:18:38 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "slipway"',
  ].join("\n") + "\n";
}

type CaseSpec = { name: string; className: string; fail?: string };

const BACKEND_CASES: CaseSpec[] = [
  "test_healthz_needs_no_database", "test_items_lists_the_seed_rows", "test_items_shows_an_inserted_row", "test_items_matches_the_table",
  "test_deleted_row_disappears", "test_wrong_password_gives_503_json", "test_unreachable_database_gives_503_json",
  "test_missing_table_gives_503_json", "test_db_config_defaults",
].map((name) => ({ name, className: "tests.test_api" }));

const FRONTEND_CASES: CaseSpec[] = [
  "test_healthz", "test_backend_health", "test_page_lists_the_seed_items", "test_page_shows_the_backend_items_in_order",
  "test_backend_down_gives_502", "test_backend_error_status_gives_502_with_its_message_escaped",
].map((name) => ({ name, className: "tests.test_pages" }));

export const FAILING_CASE = "test_items_lists_the_seed_rows";
export const FAILING_MESSAGE = [
  "AssertionError: assert ['anchor', 'buoy'] == ['anchor', 'buoy', 'capstan']",
  "def test_items_lists_the_seed_rows(client, db):",
  '        r = client.get("/api/items")',
  "        assert r.status_code == 200",
  '>       assert [i["name"] for i in r.get_json()] == ["anchor", "buoy", "capstan"]',
  "E       AssertionError: assert ['anchor', 'buoy'] == ['anchor', 'buoy', 'capstan']",
  "E         Right contains one more item: 'capstan'",
  "",
  "tests/test_api.py:16: AssertionError",
].join("\n");

function testReport(service: string, failing: boolean): TestReport {
  const specs = (service === "backend" ? BACKEND_CASES : FRONTEND_CASES).map((c) =>
    failing && c.name === FAILING_CASE ? { ...c, fail: FAILING_MESSAGE } : c,
  );
  const cases: TestCase[] = specs.map((c, i) => ({
    suite: "pytest",
    name: c.name,
    className: c.className,
    outcome: c.fail ? "failed" : "passed",
    seconds: 0.004 + (i % 4) * 0.011,
    message: c.fail ?? null,
  }));
  const failed = cases.filter((c) => c.outcome === "failed").length;
  return {
    service,
    total: cases.length,
    passed: cases.length - failed,
    failed,
    errors: 0,
    skipped: 0,
    seconds: cases.reduce((s, c) => s + c.seconds, 0),
    cases,
  };
}

function testLog(r: TestReport): string {
  const dots = r.cases.map((c) => (c.outcome === "failed" ? "F" : ".")).join("");
  const lines = [`${dots.padEnd(73)}[100%]`];
  if (r.failed > 0) {
    lines.push("=================================== FAILURES ===================================");
    for (const c of r.cases.filter((x) => x.outcome === "failed")) {
      lines.push(`_______________________ ${c.name} _______________________`, "", ...(c.message ?? "").split("\n").slice(1));
    }
  }
  lines.push(
    "-------------------- generated xml file: /reports/junit.xml --------------------",
    "",
    "---------- coverage: platform linux, python 3.11.2-final-0 -----------",
    "Coverage XML written to file /reports/coverage.xml",
    "",
  );
  if (r.failed > 0) {
    lines.push(
      "=========================== short test summary info ============================",
      ...r.cases.filter((c) => c.outcome === "failed").map((c) => `FAILED ${c.className.replace(".", "/")}.py::${c.name} - ${(c.message ?? "").split("\n")[0]}`),
      `${r.failed} failed, ${r.passed} passed in 0.31s`,
    );
  } else {
    lines.push(`${r.passed} passed in 0.09s`);
  }
  return lines.join("\n") + "\n";
}

function pushLog(target: string, digest: string, seed: string): string {
  const lines = [`The push refers to repository [${target.split(":")[0]}]`];
  for (let i = 0; i < 6; i++) lines.push(`${hex(seed + i, 12)}: ${i < 4 ? "Layer already exists" : "Pushed"}`);
  lines.push(`${target.split(":").pop()}: digest: ${digest} size: 2204`);
  return lines.join("\n") + "\n";
}

const COVERAGE: Record<string, [number, number]> = { backend: [26, 26], frontend: [35, 40] };

// ---- runs ----------------------------------------------------------------------------------

type Log = { text: string; bytes: number };

type ChannelLike = { id: number };

export type PipelineEnv = {
  now: () => number;
  emit: (events: Event[]) => void;
  /** Whether the Docker engine answers (start_run fails like DockerEngine::connect when not). */
  dockerUp: () => boolean;
  dockerDown: () => UserError;
  /** Whether a registry is connected (Push runs or is skipped). */
  registryConnected: () => boolean;
  /** False when the page's end of the channel is gone (then the follow stops, like Rust's failed send). */
  send: (channel: ChannelLike, message: unknown) => boolean;
  end: (channel: ChannelLike) => void;
};

export type PipelineOptions = {
  /** Time of one simulated step of a run (ms); a whole run is about 14 of them. */
  stepMs: number;
  /** Start with the sample project and five finished runs. */
  seed: boolean;
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class MockPipeline {
  projects: Project[] = [];
  runs: Run[] = [];
  /** Step logs by `<run>/<stage>/<step>`. */
  logs = new Map<string, Log>();
  private cancelled = new Set<string>();
  private active = new Set<string>();
  private waiters: (() => void)[] = [];

  constructor(
    private env: PipelineEnv,
    private opts: PipelineOptions,
  ) {
    if (opts.seed) this.seed();
  }

  // ---- commands ----

  detectProject(input: ProjectInput): Project {
    return detect(input);
  }

  saveProject(p: Project): Project {
    const err = validateProject(p);
    if (err) throw err;
    const copy = structuredClone(p);
    const i = this.projects.findIndex((x) => x.id === p.id);
    if (i === -1) this.projects.push(copy);
    else this.projects[i] = copy;
    return structuredClone(copy);
  }

  listProjects(): Project[] {
    return structuredClone(this.projects);
  }

  listRuns(project: string | null, limit: number | null): Run[] {
    return structuredClone(
      this.runs
        .filter((r) => project === null || r.project === project)
        .sort((a, b) => b.createdAt - a.createdAt || b.number - a.number)
        .slice(0, limit ?? 50),
    );
  }

  getRun(id: string): Run {
    return structuredClone(this.find(id));
  }

  startRun(projectId: string, gitRef: string | null, until: StageName | null, trigger: Trigger = { kind: "manual" }): Run {
    const project = this.projects.find((p) => p.id === projectId);
    if (!project) throw ue("Project not found", `there is no project "${projectId}"`, "Add it first (Project page, or `slipway project add PATH`)");
    if (!this.env.dockerUp()) throw this.env.dockerDown();
    const ref = gitRef?.trim() ? gitRef.trim() : project.gitRef;
    const number = Math.max(0, ...this.runs.filter((r) => r.project === project.id).map((r) => r.number)) + 1;
    const run = newRun(project.id, number, trigger, ref, until, this.env.now());
    this.runs.push(run);
    this.update(run);
    void this.execute(project, run);
    return structuredClone(run);
  }

  rerun(id: string): Run {
    const old = this.find(id);
    return this.startRun(old.project, old.commit ?? old.gitRef, old.until, { kind: "rerun", of: old.id });
  }

  cancelRun(id: string): Run {
    const run = this.find(id);
    if (final(run.status)) throw ue("Nothing to cancel", `run ${id} has already ended (${run.status})`, "Start a new run instead");
    this.cancelled.add(id);
    this.waiters.splice(0).forEach((f) => f()); // a queued run waiting for a slot ends now
    return structuredClone(run);
  }

  logSteps(runId: string, stage: StageName): string[] {
    const prefix = `${runId}/${stage}/`;
    const names = [...this.logs.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
    return names.sort((a, b) => Number(a !== "slipway") - Number(b !== "slipway") || a.localeCompare(b));
  }

  /** Streams a step's log like follow_log: what is there, then every 50 ms what was added, until the step ends. */
  async followLog(runId: string, stage: StageName, step: string, offset: number, channel: ChannelLike): Promise<number> {
    this.find(runId);
    const key = `${runId}/${stage}/${step}`;
    let at = offset;
    for (;;) {
      const finished = this.stepFinished(runId, stage, step);
      const log = this.logs.get(key);
      if (log && log.bytes > at) {
        const bytes = encoder.encode(log.text).subarray(at);
        // Up to 256 KiB per message, cut at a UTF-8 boundary.
        let end = Math.min(bytes.length, 256 * 1024);
        while (end < bytes.length && (bytes[end] & 0xc0) === 0x80) end -= 1;
        const text = decoder.decode(bytes.subarray(0, end));
        if (!this.env.send(channel, chunk(runId, stage, step, at, text, false))) return at;
        at += end;
        continue;
      }
      if (finished) {
        this.env.send(channel, chunk(runId, stage, step, at, "", true));
        this.env.end(channel);
        return at;
      }
      await sleep(50);
    }
  }

  // ---- the runner ----

  private find(id: string): Run {
    const run = this.runs.find((r) => r.id === id);
    if (!run) throw ue("Run not found", `there is no run "${id}"`, "List the runs with `slipway runs` or on the Pipelines page");
    return run;
  }

  private stepFinished(runId: string, stage: StageName, step: string): boolean {
    const run = this.runs.find((r) => r.id === runId);
    if (!run || final(run.status)) return true;
    const st = run.stages.find((s) => s.name === stage)!;
    if (final(st.status)) return true;
    const s = [...st.steps].reverse().find((x) => x.name === step);
    return s ? final(s.status) : false;
  }

  private update(run: Run) {
    this.env.emit([{ type: "runUpdated", run: structuredClone(run) }]);
  }

  private append(run: Run, stage: StageName, step: string, text: string) {
    const key = `${run.id}/${stage}/${step}`;
    const log = this.logs.get(key) ?? { text: "", bytes: 0 };
    log.text += text;
    log.bytes += encoder.encode(text).length;
    this.logs.set(key, log);
  }

  private line(run: Run, stage: StageName, text: string) {
    this.append(run, stage, "slipway", text + "\n");
  }

  private tick(factor = 1): Promise<void> {
    return sleep(this.opts.stepMs * factor);
  }

  private checkCancel(run: Run) {
    if (this.cancelled.has(run.id)) throw CANCELLED;
  }

  /** Writes a step's text in `pieces` parts cut anywhere (mid-line too), a tick apart. */
  private async stream(run: Run, stage: StageName, step: string, text: string, pieces: number, factor: number) {
    const size = Math.ceil(text.length / pieces);
    for (let i = 0; i < text.length; i += size) {
      this.checkCancel(run);
      this.append(run, stage, step, text.slice(i, i + size));
      await this.tick(factor);
    }
  }

  private stage(run: Run, name: StageName): StageRun {
    return run.stages.find((s) => s.name === name)!;
  }

  private stepStart(run: Run, stage: StageName, name: string) {
    this.stage(run, stage).steps.push({ name, status: "running", startedAt: this.env.now(), finishedAt: null });
    this.append(run, stage, name, "");
    this.update(run);
  }

  private stepEnd(run: Run, stage: StageName, name: string, status: Status) {
    const s = [...this.stage(run, stage).steps].reverse().find((x) => x.name === name);
    if (s) {
      s.status = status;
      s.finishedAt = this.env.now();
    }
    this.update(run);
  }

  private async slot(project: Project, run: Run) {
    while ([...this.active].filter((id) => id.startsWith(`${project.id}-`)).length >= project.concurrency) {
      if (this.cancelled.has(run.id)) return false;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    this.active.add(run.id);
    return true;
  }

  private release(run: Run) {
    this.active.delete(run.id);
    const w = this.waiters.splice(0);
    w.forEach((f) => f());
  }

  private async execute(project: Project, run: Run) {
    await this.tick(0.5);
    if (!(await this.slot(project, run))) {
      run.status = "cancelled";
      run.finishedAt = this.env.now();
      run.stages.forEach((s) => (s.status = "cancelled"));
      this.update(run);
      return;
    }
    run.status = "running";
    run.startedAt = this.env.now();
    this.update(run);
    let ended: Status | null = null;
    for (const name of STAGES) {
      const st = this.stage(run, name);
      if (ended) {
        st.status = ended === "cancelled" ? "cancelled" : "skipped";
        continue;
      }
      if (run.until !== null && STAGES.indexOf(name) > STAGES.indexOf(run.until)) {
        st.status = "skipped";
        continue;
      }
      if (this.cancelled.has(run.id)) {
        ended = "cancelled";
        st.status = "cancelled";
        continue;
      }
      st.status = "running";
      st.startedAt = this.env.now();
      this.append(run, name, "slipway", "");
      this.update(run);
      let result: Status;
      try {
        result = await this.runStage(project, run, name);
        this.line(run, name, `${name} ${result}`);
      } catch (e) {
        if (e === CANCELLED) {
          result = "cancelled";
          this.line(run, name, `${name} cancelled`);
        } else {
          const err = e as UserError;
          result = "failed";
          st.error = err;
          run.error = err;
          this.line(run, name, `${name} failed: ${err.what}: ${err.why}. ${err.fix}`);
        }
      }
      st.status = result;
      st.finishedAt = this.env.now();
      if (result === "failed" || result === "cancelled") ended = result;
      for (const step of st.steps) {
        if (!final(step.status)) {
          step.status = ended === "cancelled" ? "cancelled" : "failed";
          step.finishedAt = this.env.now();
        }
      }
      this.update(run);
    }
    run.status = ended ?? "succeeded";
    run.finishedAt = this.env.now();
    this.update(run);
    this.release(run);
    this.cancelled.delete(run.id);
    this.env.emit([{ type: "progress", task: "pipeline", message: `run ${run.id} ${run.status}` }]);
  }

  private async runStage(project: Project, run: Run, name: StageName): Promise<Status> {
    const where = project.source.kind === "path" ? project.source.path : project.source.url;
    switch (name) {
      case "checkout": {
        this.line(run, name, `Checking out ${where} at ${run.gitRef} into /home/dev/.local/share/slipway/work/${project.id}/${run.id}`);
        await this.tick();
        this.checkCancel(run);
        if (run.gitRef.includes("missing")) {
          throw ue("Checkout failed", `the reference "${run.gitRef}" was not found in ${where}`, "Check the branch, tag or commit name");
        }
        this.line(run, name, `Cloning ${where}`);
        const sha = /^[0-9a-f]{40}$/.test(run.gitRef) ? run.gitRef : hex(`${project.id}${run.gitRef}${run.number}`, 40);
        const message = run.gitRef.includes("fail-test") ? "Seed rows: drop capstan" : "Show the items in order";
        this.line(run, name, `Checked out ${sha} (${message})`);
        this.line(run, name, `At commit ${sha} ${message}`);
        run.commit = sha;
        run.commitMessage = message;
        await this.tick();
        return "succeeded";
      }
      case "build": {
        const sha = run.commit!;
        for (const svc of project.services) {
          const image = `${project.id}-${svc.name}:${sha.slice(0, 12)}`;
          this.line(run, name, `Building ${image} from ${svc.context}/${svc.dockerfile}`);
          this.stepStart(run, name, svc.name);
          const long = svc === project.services[0];
          await this.stream(run, name, svc.name, buildLog(project.id, svc, sha, run.id, long), long ? 10 : 3, long ? 0.4 : 0.5);
          this.line(run, name, `Built ${image} (sha256:${hex(image, 64)})`);
          this.stepEnd(run, name, svc.name, "succeeded");
          run.artifacts.images = run.artifacts.images.filter((i) => i.service !== svc.name);
          run.artifacts.images.push({ service: svc.name, image, pushed: null, digest: null });
        }
        return "succeeded";
      }
      case "test": {
        const testers = project.services.filter((s) => s.tests);
        if (testers.length === 0) {
          this.line(run, name, "No service has tests (tests = false for every one)");
          return "skipped";
        }
        const missing = testers.find((s) => s.testCommand === null);
        if (missing) {
          throw ue(
            `${missing.name} has no test command`,
            "no test command was detected or set, and a run without tests cannot pass the test gate",
            `Set \`test = "..."\` for ${missing.name} in slipway.toml or on the Project page, or \`tests = false\` to skip it knowingly`,
          );
        }
        if (project.database) {
          const db = project.database;
          this.line(run, name, `Starting the test database ${db.name} (${db.image})`);
          this.stepStart(run, name, db.name);
          await this.stream(run, name, db.name, dbLog(), 2, 0.5);
          this.line(run, name, `Database ${db.name} is ready`);
          this.stepEnd(run, name, db.name, "succeeded");
        }
        const needed = project.services.filter((s) => testers.some((t) => t.dependsOn.includes(s.name)));
        for (const dep of needed) {
          const step = `${dep.name}-service`;
          this.line(run, name, `Starting ${dep.name} for the tests that call it`);
          this.stepStart(run, name, step);
          await this.stream(run, name, step, serviceLog(dep), 1, 0.5);
          this.stepEnd(run, name, step, "succeeded");
        }
        const failures: UserError[] = [];
        for (const svc of testers) {
          this.line(run, name, `Testing ${svc.name}: ${(svc.testCommand ?? []).join(" ")}`);
          this.stepStart(run, name, svc.name);
          const failing = svc.name === "backend" && run.gitRef.includes("fail-test");
          const report = testReport(svc.name, failing);
          await this.stream(run, name, svc.name, testLog(report), 2, 0.5);
          const cov = COVERAGE[svc.name] ?? [10, 12];
          const covered = failing ? cov[0] - 1 : cov[0];
          run.artifacts.coverage.push({ service: svc.name, lineRate: covered / cov[1], linesCovered: covered, linesValid: cov[1] });
          this.line(run, name, `${svc.name}: coverage ${((covered / cov[1]) * 100).toFixed(1)}% (${covered} of ${cov[1]} lines)`);
          const code = report.failed > 0 ? 1 : 0;
          this.line(run, name, `${svc.name}: ${report.passed} passed, ${report.failed} failed, 0 errors, 0 skipped (exit code ${code})`);
          run.artifacts.tests.push(report);
          this.update(run);
          if (report.failed > 0) {
            const bad = report.cases.filter((c) => c.outcome === "failed").map((c) => c.name);
            failures.push(
              ue(`Tests of ${svc.name} failed`, `${bad.length} of ${report.total} failed: ${bad.join(", ")}`, "Read the failures in the test results, fix them, and push a new commit"),
            );
            this.stepEnd(run, name, svc.name, "failed");
          } else {
            this.stepEnd(run, name, svc.name, "succeeded");
          }
        }
        if (failures.length === 1) throw failures[0];
        if (failures.length > 1) throw ue("Tests failed", failures.map((f) => `${f.what}: ${f.why}`).join("; "), failures[0].fix);
        return "succeeded";
      }
      case "push": {
        if (!this.env.registryConnected()) {
          this.line(run, name, "No container registry is connected: the images stay on this machine's engine (connect one on the Connect page to push)");
          await this.tick(0.5);
          return "skipped";
        }
        for (const svc of project.services) {
          const target = `${REGISTRY}/${project.id}-${svc.name}:${run.commit!.slice(0, 12)}`;
          const digest = `sha256:${hex(target, 64)}`;
          this.line(run, name, `Pushing ${target}`);
          this.stepStart(run, name, svc.name);
          await this.stream(run, name, svc.name, pushLog(target, digest, run.id + svc.name), 2, 0.5);
          this.line(run, name, `Pushed ${target}@${digest}`);
          const img = run.artifacts.images.find((i) => i.service === svc.name);
          if (img) {
            img.pushed = target;
            img.digest = digest;
          }
          this.stepEnd(run, name, svc.name, "succeeded");
        }
        return "succeeded";
      }
      case "deploy": {
        this.line(run, name, "Deploying to the local Docker engine");
        const entry = project.deploy.entry ?? project.services.find((s) => !project.services.some((o) => o.dependsOn.includes(s.name)))?.name ?? "app";
        for (const svc of project.services) {
          await this.tick(0.5);
          this.checkCancel(run);
          for (let r = 1; r <= project.deploy.replicas; r++) this.line(run, name, `Started ${project.id}-${svc.name}-${r} (${svc.name} replica ${r} of ${project.deploy.replicas})`);
          this.line(run, name, `${svc.name}: ${project.deploy.replicas} of ${project.deploy.replicas} replicas healthy`);
        }
        const url = `http://127.0.0.1:${48000 + (run.number % 1000)}/`;
        this.line(run, name, `NGINX sends / to ${entry}`);
        this.line(run, name, `The app answers at ${url}`);
        run.artifacts.url = url;
        await this.tick(0.5);
        return "succeeded";
      }
    }
  }

  // ---- the seeded history ----

  /** The sample project and five finished runs: succeeded, tests failed, cancelled, checkout failed, stopped after test. */
  private seed() {
    const p = sampleProject("sample-app", { kind: "path", path: SAMPLE_PATH });
    this.projects.push(p);
    const now = this.env.now();
    const hour = 3_600_000;
    type Plan = { gitRef: string; trigger: Trigger; at: number; end: "all" | "fail-test" | "cancel-build" | "missing-ref" | "until-test" };
    const plans: Plan[] = [
      { gitRef: "HEAD", trigger: { kind: "manual" }, at: now - 26 * hour, end: "all" },
      { gitRef: "fail-test", trigger: { kind: "manual" }, at: now - 5 * hour, end: "fail-test" },
      { gitRef: "fail-test", trigger: { kind: "rerun", of: "sample-app-2" }, at: now - 4 * hour, end: "cancel-build" },
      { gitRef: "feature/missing", trigger: { kind: "manual" }, at: now - 3 * hour, end: "missing-ref" },
      { gitRef: "main", trigger: { kind: "commit", sha: hex("sample-app-main-5", 40) }, at: now - 2 * hour, end: "until-test" },
    ];
    plans.forEach((plan, i) => this.runs.push(this.seededRun(p, i + 1, plan.gitRef, plan.trigger, plan.at, plan.end)));
  }

  private seededRun(p: Project, number: number, gitRef: string, trigger: Trigger, at: number, end: string): Run {
    const run = newRun(p.id, number, trigger, gitRef, end === "until-test" ? "test" : null, at);
    run.ownerPid = null;
    let t = at + 400;
    run.startedAt = t;
    run.status = "running";
    const sha = hex(`${p.id}${gitRef}${number}`, 40);
    const stageAt = (name: StageName, ms: number, status: Status, steps: [string, number, Status][] = []) => {
      const st = this.stage(run, name);
      st.startedAt = t;
      st.status = status;
      for (const [step, d, s] of steps) {
        st.steps.push({ name: step, status: s, startedAt: t, finishedAt: t + d });
        t += d;
      }
      t = Math.max(t, st.startedAt + ms);
      st.finishedAt = t;
    };
    const slog = (stage: StageName, lines: string[]) => this.append(run, stage, "slipway", lines.map((l) => l + "\n").join(""));
    // Checkout
    if (end === "missing-ref") {
      stageAt("checkout", 900, "failed");
      const err = ue("Checkout failed", `the reference "${gitRef}" was not found in ${SAMPLE_PATH}`, "Check the branch, tag or commit name");
      this.stage(run, "checkout").error = err;
      run.error = err;
      slog("checkout", [`Checking out ${SAMPLE_PATH} at ${gitRef}`, `checkout failed: ${err.what}: ${err.why}. ${err.fix}`]);
      STAGES.slice(1).forEach((s) => (this.stage(run, s).status = "skipped"));
      run.status = "failed";
      run.finishedAt = t + 50;
      return run;
    }
    stageAt("checkout", 1200, "succeeded");
    run.commit = sha;
    run.commitMessage = end === "fail-test" || end === "cancel-build" ? "Seed rows: drop capstan" : "Show the items in order";
    slog("checkout", [`Checking out ${SAMPLE_PATH} at ${gitRef}`, `Cloning ${SAMPLE_PATH}`, `At commit ${sha} ${run.commitMessage}`, "checkout succeeded"]);
    // Build
    if (end === "cancel-build") {
      stageAt("build", 14_000, "cancelled", [["backend", 14_000, "cancelled"]]);
      const text = buildLog(p.id, p.services[0], sha, run.id, false);
      this.append(run, "build", "backend", text.slice(0, Math.floor(text.length / 2)));
      slog("build", [`Building ${p.id}-backend:${sha.slice(0, 12)} from backend/Dockerfile`, "build cancelled"]);
      ["test", "push", "deploy"].forEach((s) => (this.stage(run, s as StageName).status = "cancelled"));
      run.status = "cancelled";
      run.finishedAt = t + 100;
      return run;
    }
    stageAt("build", 0, "succeeded", p.services.map((s) => [s.name, 38_000, "succeeded"] as [string, number, Status]));
    for (const svc of p.services) {
      this.append(run, "build", svc.name, buildLog(p.id, svc, sha, run.id, svc === p.services[0]));
      run.artifacts.images.push({ service: svc.name, image: `${p.id}-${svc.name}:${sha.slice(0, 12)}`, pushed: null, digest: null });
    }
    slog("build", [...p.services.map((s) => `Built ${p.id}-${s.name}:${sha.slice(0, 12)}`), "build succeeded"]);
    // Test
    const failing = end === "fail-test";
    stageAt("test", 0, failing ? "failed" : "succeeded", [
      ["db", 6_000, "succeeded"],
      ["backend-service", 2_000, "succeeded"],
      ["backend", 3_000, failing ? "failed" : "succeeded"],
      ["frontend", 2_500, "succeeded"],
    ]);
    this.append(run, "test", "db", dbLog());
    this.append(run, "test", "backend-service", serviceLog(p.services[0]));
    for (const svc of p.services) {
      const report = testReport(svc.name, failing && svc.name === "backend");
      run.artifacts.tests.push(report);
      this.append(run, "test", svc.name, testLog(report));
      const [c, v] = COVERAGE[svc.name];
      const covered = failing && svc.name === "backend" ? c - 1 : c;
      run.artifacts.coverage.push({ service: svc.name, lineRate: covered / v, linesCovered: covered, linesValid: v });
    }
    if (failing) {
      const err = ue("Tests of backend failed", `1 of 9 failed: ${FAILING_CASE}`, "Read the failures in the test results, fix them, and push a new commit");
      this.stage(run, "test").error = err;
      run.error = err;
      slog("test", ["backend: 8 passed, 1 failed, 0 errors, 0 skipped (exit code 1)", "frontend: 6 passed, 0 failed, 0 errors, 0 skipped (exit code 0)", `test failed: ${err.what}: ${err.why}. ${err.fix}`]);
      this.stage(run, "push").status = "skipped";
      this.stage(run, "deploy").status = "skipped";
      run.status = "failed";
      run.finishedAt = t + 300;
      return run;
    }
    slog("test", ["backend: 9 passed, 0 failed, 0 errors, 0 skipped (exit code 0)", "frontend: 6 passed, 0 failed, 0 errors, 0 skipped (exit code 0)", "test succeeded"]);
    if (end === "until-test") {
      this.stage(run, "push").status = "skipped";
      this.stage(run, "deploy").status = "skipped";
      run.status = "succeeded";
      run.finishedAt = t + 200;
      return run;
    }
    // Push and deploy
    stageAt("push", 0, "succeeded", p.services.map((s) => [s.name, 4_000, "succeeded"] as [string, number, Status]));
    for (const img of run.artifacts.images) {
      img.pushed = `${REGISTRY}/${p.id}-${img.service}:${sha.slice(0, 12)}`;
      img.digest = `sha256:${hex(img.pushed, 64)}`;
      this.append(run, "push", img.service, pushLog(img.pushed, img.digest, run.id + img.service));
    }
    slog("push", [...run.artifacts.images.map((i) => `Pushed ${i.pushed}@${i.digest}`), "push succeeded"]);
    stageAt("deploy", 21_000, "succeeded");
    run.artifacts.url = "http://127.0.0.1:48001/";
    slog("deploy", ["Deploying to the local Docker engine", `The app answers at ${run.artifacts.url}`, "deploy succeeded"]);
    run.status = "succeeded";
    run.finishedAt = t + 300;
    return run;
  }
}

const CANCELLED = Symbol("cancelled");

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function chunk(run: string, stage: StageName, step: string, offset: number, text: string, done: boolean): LogChunk {
  return { run, stage, step, offset, text, done };
}

function newRun(project: string, number: number, trigger: Trigger, gitRef: string, until: StageName | null, at: number): Run {
  return {
    id: `${project}-${number}`,
    project,
    number,
    status: "queued",
    trigger,
    gitRef,
    commit: null,
    commitMessage: null,
    createdAt: at,
    startedAt: null,
    finishedAt: null,
    stages: STAGES.map((name) => ({ name, status: "queued", startedAt: null, finishedAt: null, steps: [], error: null })),
    artifacts: { tests: [], coverage: [], images: [], url: null },
    error: null,
    until,
    ownerPid: 4242,
  };
}
