// The deploy half of MockBackend: a project's environments, revisions (deploy, redeploy,
// rollback with a reason, the automatic rollback after a failed rollout), a simulated cluster
// running the sample app (backend and frontend with 3 replicas, the nginx proxy, the in-cluster
// database) whose rollouts advance on a timer, and the merged logs of its pods. The shapes, the
// wording of errors and reasons, and the order of events follow crates/app/src/deploy.rs and
// crates/kube (rollout.rs, status.rs): revisionUpdated (inProgress), deployProgress applying,
// rollingOut snapshots, succeeded or failed, revisionUpdated (succeeded or failed). Tests only.

import type { DeployedImage } from "../bindings/DeployedImage";
import type { DeployLogLine } from "../bindings/DeployLogLine";
import type { DeployOperation } from "../bindings/DeployOperation";
import type { DeployStatus } from "../bindings/DeployStatus";
import type { Endpoint } from "../bindings/Endpoint";
import type { Environment } from "../bindings/Environment";
import type { Event } from "../bindings/Event";
import type { KubeContextInfo } from "../bindings/KubeContextInfo";
import type { KubeTarget } from "../bindings/KubeTarget";
import type { PodInfo } from "../bindings/PodInfo";
import type { Project } from "../bindings/Project";
import type { Revision } from "../bindings/Revision";
import type { RolloutPhase } from "../bindings/RolloutPhase";
import type { Run } from "../bindings/Run";
import type { UserError } from "../bindings/UserError";
import type { WorkloadProgress } from "../bindings/WorkloadProgress";
import type { WorkloadRole } from "../bindings/WorkloadRole";
import { hex, isId, ue } from "./mockPipeline";

/** The namespace the sample app's manifests name (k8s/namespace.yaml). */
export const SAMPLE_NAMESPACE = "sample";
export const NODE_IP = "172.18.0.2";
export const NODE_PORT = 31380;
/** The nginx Service is a LoadBalancer without an external address: reached on a node port. */
export const APP_URL = `http://${NODE_IP}:${NODE_PORT}/`;
const NODES = ["slipway-control-plane", "slipway-worker"];
const TEST_SERVER = "https://127.0.0.1:6443/";

/** The contexts of the default kubeconfig; only slipway-test answers. */
export const MOCK_CONTEXTS: KubeContextInfo[] = [
  { name: "slipway-test", cluster: "slipway-test", server: "https://127.0.0.1:6443", user: "slipway-test-admin", namespace: null, current: true, exec: null },
  { name: "kind-dev", cluster: "kind-dev", server: "https://127.0.0.1:40915", user: "kind-dev", namespace: "default", current: false, exec: null },
  {
    name: "slipway-eks",
    cluster: "arn:aws:eks:us-east-1:123456789012:cluster/slipway-eks",
    server: "https://4F1B5C0E9A3D7E21.gr7.us-east-1.eks.amazonaws.com",
    user: "slipway-eks",
    namespace: null,
    current: false,
    exec: "slipway eks-token --cluster slipway-eks --region us-east-1",
  },
];

type ChannelLike = { id: number };

export type DeployEnv = {
  now: () => number;
  emit: (events: Event[]) => void;
  send: (channel: ChannelLike, message: unknown) => boolean;
  end: (channel: ChannelLike) => void;
  /** The project, or the error Slipway::project gives. */
  project: (id: string) => Project;
  /** A project's runs, newest first. */
  runs: (project: string) => Run[];
};

export type DeployOptions = {
  /** Time of one step of a simulated rollout (ms); a redeploy of the sample app is about 12. */
  stepMs: number;
  /** How often a followed log gets a new request line (ms). */
  logMs: number;
  /** Start with environments and a revision history for the sample project. */
  seed: boolean;
};

type Workload = { name: string; role: WorkloadRole; desired: number; revision: number | null; kubeRevision: number; hash: string; images: string[] };
type Pod = PodInfo & { hash: string };
type Line = DeployLogLine & { seq: number };
type Cluster = { exists: boolean; namespace: string; workloads: Workload[]; pods: Pod[]; lines: Line[]; requests: number; lastRequestAt: number };

const K8S_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** A deterministic name suffix in Kubernetes' alphabet (pod template hashes, pod names). */
export function kubeId(seed: string, length: number): string {
  return Array.from(hex(seed, length * 2).match(/../g)!, (h) => K8S_ALPHABET[parseInt(h, 16) % K8S_ALPHABET.length]).join("");
}

const key = (project: string, env: string) => `${project}/${env}`;
const clone = <T>(v: T): T => structuredClone(v);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const isDnsLabel = (s: string) => s.length > 0 && s.length <= 63 && /^[a-z0-9-]+$/.test(s) && !s.startsWith("-") && !s.endsWith("-");

/** Like Environment::validate. */
export function validateEnvironment(e: Environment): UserError | null {
  const bad = (why: string, fix: string) => ue("Environment settings are not valid", why, fix);
  if (!isId(e.name)) return bad(`"${e.name}" is not a short name`, "Use lowercase letters, digits and dashes (up to 40), starting with a letter");
  if (e.target.kind === "kubernetes") {
    const k = e.target;
    if (k.namespace !== null && !isDnsLabel(k.namespace)) {
      return bad(`"${k.namespace}" is not a Kubernetes namespace name`, "Use up to 63 lowercase letters, digits and dashes, starting and ending with a letter or digit");
    }
    if (k.context !== null && k.context.trim() === "") return bad("the context is empty", "Pick a context from the kubeconfig, or leave it unset for the current one");
    if (k.kubeconfig !== null && k.kubeconfig.trim() === "") return bad("the kubeconfig path is empty", "Give the kubeconfig's path, or leave it unset for the default");
    const s = k.progressDeadlineSecs;
    if (s !== null && (s < 10 || s > 3600)) return bad(`a progress deadline of ${s} s`, "Use 10 to 3600 seconds");
  }
  return null;
}

/** The contexts of a kubeconfig: the default one's, a kind file's, or the error load_kubeconfig gives. */
export function contextsOf(kubeconfig: string | null): KubeContextInfo[] {
  if (kubeconfig === null) return clone(MOCK_CONTEXTS);
  if (!kubeconfig.startsWith("/") || kubeconfig.includes("missing")) {
    throw ue(
      "No usable kubeconfig",
      `${kubeconfig}: failed to read kubeconfig from '${kubeconfig}': No such file or directory (os error 2)`,
      "Create a cluster (the Architecture page creates EKS) or point KUBECONFIG at your cluster's kubeconfig",
    );
  }
  return [{ ...clone(MOCK_CONTEXTS[1]), current: true }];
}

function podLine(p: PodInfo): string {
  let s = `pod ${p.name} (${p.workload}${p.current ? "" : ", previous revision"}): ${p.phase}`;
  if (p.ready) s += ", ready";
  if (p.reason) s += `, ${p.reason}`;
  if (p.restarts > 0) s += `, ${p.restarts} restart${p.restarts === 1 ? "" : "s"}`;
  return s;
}

function workloadLine(w: WorkloadProgress): string {
  return `${w.name}: ${w.ready} of ${w.desired} ready, ${w.updated} updated, ${w.available} available${w.done ? " - rollout complete" : ""}`;
}

/** What a rollout error prints as (UserError's Display: "what: why. fix"). */
const errorText = (e: UserError) => `${e.what}: ${e.why}. ${e.fix}`;

function stamp(at: number): string {
  const d = new Date(at);
  const month = d.toLocaleString("en-GB", { month: "short", timeZone: "UTC" });
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${month}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** What a container prints when it starts. */
function startLines(w: Workload, at: number): string[] {
  const t = new Date(at).toISOString().replace("T", " ").slice(0, 19);
  switch (w.role) {
    case "database":
      return [
        `${t}+00:00 [Note] [Entrypoint]: Entrypoint script for MariaDB Server 1:10.11.19 started.`,
        `${t}+00:00 [Note] [Entrypoint]: running /docker-entrypoint-initdb.d/schema.sql`,
        `${t} 0 [Note] mariadbd: ready for connections.`,
        "Version: '10.11.19-MariaDB-ubu2204'  socket: '/run/mysqld/mysqld.sock'  port: 3306  mariadb.org binary distribution",
      ];
    case "proxy":
      return [
        "/docker-entrypoint.sh: Configuration complete; ready for start up",
        `${t.replace(/-/g, "/")} [notice] 1#1: nginx/1.26.3`,
        `${t.replace(/-/g, "/")} [notice] 1#1: start worker processes`,
      ];
    case "app": {
      const port = w.name === "backend" ? 8000 : 8080;
      return [
        `[${t} +0000] [1] [INFO] Starting gunicorn 23.0.0`,
        `[${t} +0000] [1] [INFO] Listening at: http://0.0.0.0:${port} (1)`,
        `[${t} +0000] [7] [INFO] Booting worker with pid: 7`,
        `[${t} +0000] [8] [INFO] Booting worker with pid: 8`,
      ];
    }
  }
}

function sampleWorkloads(): Workload[] {
  const w = (name: string, role: WorkloadRole, desired: number): Workload => ({ name, role, desired, revision: null, kubeRevision: 0, hash: "", images: [] });
  return [w("backend", "app", 3), w("frontend", "app", 3), w("db", "database", 1), w("nginx", "proxy", 1)];
}

function endpoints(ns: string): Endpoint[] {
  const inside = (service: string, port: number): Endpoint => ({ service, serviceType: "ClusterIP", port, nodePort: null, url: null, note: `inside the cluster at ${service}.${ns}:${port}` });
  return [
    inside("backend", 8000),
    inside("db", 3306),
    inside("frontend", 8080),
    {
      service: "nginx",
      serviceType: "LoadBalancer",
      port: 80,
      nodePort: NODE_PORT,
      url: APP_URL,
      note: `the load balancer has no external address (yet): reachable on node port ${NODE_PORT} of ${NODE_IP}`,
    },
  ];
}

/** The newest revision that succeeded (the one serving). */
function current(revisions: Revision[]): Revision | null {
  return revisions.filter((r) => r.status === "succeeded").reduce<Revision | null>((a, r) => (a === null || r.number > a.number ? r : a), null);
}

function sameImages(a: Revision, b: Revision): boolean {
  const set = (r: Revision) => r.images.map((i) => `${i.workload}/${i.container}/${i.image}`).sort().join("\n");
  return set(a) === set(b);
}

type Meta = { run: string | null; commit: string | null; rollbackTo: number | null; reason: string };

export class MockDeploy {
  environments: Environment[] = [];
  /** Revisions by `<project>/<env>`, oldest first. */
  revisions = new Map<string, Revision[]>();
  clusters = new Map<string, Cluster>();
  /** The next rollout of this workload fails: its new pod cannot pull its image. */
  failNext: string | null = null;
  private busy = new Set<string>();
  /** Followed logs in progress, by channel id (stop_stream ends one). */
  private follows = new Set<number>();
  /** Channel ids stop_stream was called with, in order (tests check that a page stops its follow). */
  stopped: number[] = [];
  private seq = 0;

  constructor(
    private env: DeployEnv,
    private opts: DeployOptions,
  ) {
    if (opts.seed) this.seed();
  }

  // ---- environments ----

  listEnvironments(project: string | null): Environment[] {
    return clone(this.environments.filter((e) => project === null || e.project === project).sort((a, b) => a.project.localeCompare(b.project) || a.name.localeCompare(b.name)));
  }

  saveEnvironment(e: Environment): Environment {
    const err = validateEnvironment(e);
    if (err) throw err;
    this.env.project(e.project);
    if (e.target.kind === "kubernetes" && e.target.context !== null) {
      const ctx = e.target.context;
      const names = contextsOf(e.target.kubeconfig).map((c) => c.name);
      if (!names.includes(ctx)) throw ue("Unknown Kubernetes context", `'${ctx}' is not in the kubeconfig (it has: ${names.join(", ")})`, "Pick one of the contexts listed");
    } else if (e.target.kind === "kubernetes") {
      contextsOf(e.target.kubeconfig);
    }
    if (e.runs) this.environments.filter((o) => o.project === e.project && o.name !== e.name).forEach((o) => (o.runs = false));
    const i = this.environments.findIndex((o) => o.project === e.project && o.name === e.name);
    if (i === -1) this.environments.push(clone(e));
    else this.environments[i] = clone(e);
    return clone(e);
  }

  deleteEnvironment(project: string, name: string): null {
    this.find(project, name);
    this.environments = this.environments.filter((e) => !(e.project === project && e.name === name));
    this.revisions.delete(key(project, name));
    return null;
  }

  kubeContexts(kubeconfig: string | null): KubeContextInfo[] {
    return contextsOf(kubeconfig);
  }

  // ---- deploy, redeploy, rollback, teardown ----

  async deploy(projectId: string, envName: string, runId: string | null): Promise<Revision> {
    const p = this.env.project(projectId);
    const e = this.find(p.id, envName);
    const runs = this.env.runs(p.id);
    const run = runId === null ? runs.find((r) => r.artifacts.images.length > 0 && r.commit !== null) : runs.find((r) => r.id === runId);
    if (!run) {
      throw runId === null
        ? ue("Nothing to deploy", `no run of ${p.id} has built images yet`, "Run the pipeline first (`slipway run`, at least until build)")
        : ue("Run not found", `there is no run "${runId}"`, "List the runs with `slipway runs` or on the Pipelines page");
    }
    if (run.artifacts.images.length === 0 || run.commit === null) {
      throw ue("Nothing to deploy", `run ${run.id} built no images`, "Deploy a run whose Build stage succeeded");
    }
    if (e.target.kind === "local") return this.deployLocal(p, e, run);
    const message = run.commitMessage?.split("\n")[0];
    const reason = `run ${run.id}, commit ${run.commit.slice(0, 12)}${message ? ` (${message})` : ""}`;
    return this.execute(p, e, "deploy", { run: run.id, commit: run.commit, rollbackTo: null, reason }, this.imagesOf(run));
  }

  async redeploy(projectId: string, envName: string): Promise<Revision> {
    const { p, e } = this.kube(projectId, envName);
    const cur = current(this.revisionsOf(p.id, e.name));
    if (!cur) throw ue("Nothing to redeploy", `${p.id} has no successful deploy to ${e.name} yet`, "Deploy first (`slipway deploy`)");
    return this.execute(p, e, "redeploy", { run: cur.run, commit: cur.commit, rollbackTo: null, reason: `rolling restart of revision ${cur.number}` }, clone(cur.images));
  }

  async rollback(projectId: string, envName: string, to: number | null, reasonIn: string): Promise<Revision> {
    const reason = reasonIn.trim();
    if (reason === "") throw ue("A rollback needs a reason", "no reason was given", 'Say why (it is kept in the history), e.g. --reason "checkout page returns 500"');
    const { p, e } = this.kube(projectId, envName);
    const revisions = this.revisionsOf(p.id, e.name);
    const cur = current(revisions);
    if (!cur) throw ue("Nothing to roll back", `${p.id} has no successful deploy to ${e.name} yet`, "Deploy first (`slipway deploy`)");
    let target: Revision | undefined;
    if (to !== null) {
      target = revisions.find((r) => r.number === to);
      if (!target) {
        throw ue("Revision not found", `${e.name} has no revision ${to} (it has 1 to ${Math.max(0, ...revisions.map((r) => r.number))})`, "Pick one from `slipway status`");
      }
      if (target.status !== "succeeded") {
        throw ue(`Revision ${to} never completed`, `revision ${to} ${target.status === "failed" ? "failed" : "in progress"}`, "Pick a revision that succeeded (`slipway status` lists them)");
      }
      if (to === cur.number) throw ue(`Revision ${to} is the one serving`, "rolling back to it would change nothing", "Use redeploy for new pods, or pick an earlier revision");
    } else {
      target = revisions
        .filter((r) => r.status === "succeeded" && r.number < cur.number && !sameImages(r, cur))
        .sort((a, b) => b.number - a.number)[0];
      if (!target) throw ue("No earlier revision", `no earlier revision of ${e.name} ran other images than revision ${cur.number}`, "Deploy another run instead");
    }
    const n = target.number;
    return this.execute(p, e, "rollback", { run: target.run, commit: target.commit, rollbackTo: n, reason: `rollback to revision ${n}: ${reason}` }, clone(target.images));
  }

  async teardown(projectId: string, envName: string): Promise<boolean> {
    const { p, e } = this.kube(projectId, envName);
    const c = this.cluster(p.id, e);
    this.connect(e);
    const ns = c.namespace;
    if (!c.exists) {
      this.env.emit([{ type: "progress", task: "deploy", message: `${p.id} / ${e.name}: namespace ${ns} does not exist` }]);
      return false;
    }
    c.exists = false;
    c.pods.forEach((pod) => Object.assign(pod, { phase: "Terminating", ready: false }));
    this.env.emit([{ type: "progress", task: "deploy", message: `Namespace ${ns} of ${p.id} / ${e.name} is being deleted` }]);
    void sleep(this.opts.stepMs * 2).then(() => {
      if (!c.exists) {
        c.pods = [];
        c.workloads = [];
      }
    });
    return true;
  }

  // ---- status, history, logs ----

  listRevisions(projectId: string, envName: string, limit: number | null): Revision[] {
    const p = this.env.project(projectId);
    const e = this.find(p.id, envName);
    return clone([...this.revisionsOf(p.id, e.name)].reverse().slice(0, limit ?? 50));
  }

  status(projectId: string, envName: string): DeployStatus {
    const p = this.env.project(projectId);
    const e = this.find(p.id, envName);
    const revisions = [...this.revisionsOf(p.id, e.name)].reverse().slice(0, 100);
    const cur = current(revisions);
    const st: DeployStatus = {
      environment: clone(e),
      context: null,
      server: null,
      namespace: null,
      error: null,
      workloads: [],
      pods: [],
      endpoints: [],
      url: cur?.url ?? null,
      current: cur?.number ?? null,
      revisions: clone(revisions),
    };
    if (e.target.kind === "local") return st;
    const c = this.cluster(p.id, e);
    st.namespace = c.namespace;
    try {
      st.context = this.connect(e);
    } catch (err) {
      st.error = err as UserError;
      return st;
    }
    st.server = TEST_SERVER;
    if (!c.exists && c.pods.length === 0) {
      st.url = null;
      return st;
    }
    st.workloads = c.workloads.map((w) => {
      const live = c.pods.filter((x) => x.workload === w.name && x.phase !== "Terminating");
      const ready = live.filter((x) => x.ready).length;
      return {
        name: w.name,
        role: w.role,
        desired: w.desired,
        updated: live.filter((x) => x.hash === w.hash).length,
        ready,
        available: ready,
        images: [...w.images],
        kubeRevision: String(w.kubeRevision),
        revision: w.revision,
      };
    });
    st.pods = c.pods.map((x) => this.podInfo(c, x));
    st.endpoints = c.exists ? endpoints(c.namespace) : [];
    st.url = c.exists ? APP_URL : null;
    return st;
  }

  /** Like stop_stream: ends the follow writing to `channel`; false when none does. */
  stopStream(channel: number): boolean {
    this.stopped.push(channel);
    return this.follows.delete(channel);
  }

  /**
   * Like follow_deploy_logs: the last `tail` lines of every pod's container (all with null),
   * sorted by time, in chunks of 500; without follow a last chunk with done; with follow the
   * new lines every 100 ms until stop_stream names the channel or the page's end of it is gone.
   */
  async followLogs(projectId: string, envName: string, follow: boolean, tail: number | null, channel: ChannelLike): Promise<null> {
    const { p, e } = this.kube(projectId, envName);
    const c = this.cluster(p.id, e);
    this.connect(e);
    const live = new Set(c.pods.map((x) => x.name));
    const byPod = new Map<string, Line[]>();
    for (const l of c.lines.filter((x) => live.has(x.pod))) byPod.set(l.pod, [...(byPod.get(l.pod) ?? []), l]);
    const backlog = [...byPod.values()].flatMap((ls) => (tail === null ? ls : tail <= 0 ? [] : ls.slice(-tail))).sort((a, b) => a.seq - b.seq);
    let cursor = c.lines.at(-1)?.seq ?? 0;
    const strip = (ls: Line[]): DeployLogLine[] => ls.map(({ pod, container, text }) => ({ pod, container, text }));
    for (let i = 0; i < backlog.length; i += 500) {
      if (!this.env.send(channel, { lines: strip(backlog.slice(i, i + 500)), done: false })) return null;
    }
    if (follow) {
      this.follows.add(channel.id);
      for (;;) {
        await sleep(100);
        if (!this.follows.has(channel.id)) break;
        this.traffic(c);
        const fresh = c.lines.filter((l) => l.seq > cursor);
        if (fresh.length === 0) continue;
        cursor = fresh.at(-1)!.seq;
        if (!this.env.send(channel, { lines: strip(fresh), done: false })) return null;
      }
    }
    this.env.send(channel, { lines: [], done: true });
    this.env.end(channel);
    return null;
  }

  // ---- helpers ----

  private find(project: string, name: string): Environment {
    const all = this.environments.filter((e) => e.project === project);
    const e = all.find((x) => x.name === name);
    if (!e) {
      const has = all.length ? ` (it has: ${all.map((x) => x.name).join(", ")})` : "";
      throw ue("Environment not found", `project ${project} has no environment "${name}"${has}`, "Add it on the Deployments page, or with `slipway env set NAME --context CTX`");
    }
    return e;
  }

  /** A Kubernetes environment, or the error kube_target gives for the local engine. */
  private kube(projectId: string, envName: string): { p: Project; e: Environment } {
    const p = this.env.project(projectId);
    const e = this.find(p.id, envName);
    if (e.target.kind === "local") {
      throw ue(
        `${e.name} is the local Docker engine`,
        "redeploy, rollback, status and logs are for Kubernetes environments",
        "Run the pipeline again to deploy locally, or add a Kubernetes environment (`slipway env set NAME --context CTX`)",
      );
    }
    return { p, e };
  }

  /** Connects like Cluster::connect: only the test cluster answers. Returns the context. */
  private connect(e: Environment): string {
    const t = e.target.kind === "kubernetes" ? e.target : null;
    const ctx = t?.context ?? contextsOf(t?.kubeconfig ?? null).find((c) => c.current)!.name;
    if (ctx === "slipway-test") return ctx;
    const server = `${contextsOf(t?.kubeconfig ?? null).find((c) => c.name === ctx)?.server ?? "https://127.0.0.1"}/`;
    const why = server.includes("eks.amazonaws.com")
      ? `cannot reach ${server}: client error (Connect): dns error: failed to lookup address information: Name or service not known`
      : `cannot reach ${server}: client error (Connect): tcp connect error: Connection refused (os error 111)`;
    throw ue("Cannot connect to the Kubernetes cluster", why, "Check that the cluster is running and reachable from here (VPN, firewall), then try again");
  }

  private revisionsOf(project: string, env: string): Revision[] {
    const k = key(project, env);
    if (!this.revisions.has(k)) this.revisions.set(k, []);
    return this.revisions.get(k)!;
  }

  /** The namespace: the environment's, else the one its revisions went to, else the manifests'. */
  private cluster(project: string, e: Environment): Cluster {
    const k = key(project, e.name);
    let c = this.clusters.get(k);
    const t = e.target.kind === "kubernetes" ? e.target : null;
    const ns = t?.namespace ?? [...this.revisionsOf(project, e.name)].reverse().find((r) => r.namespace)?.namespace ?? SAMPLE_NAMESPACE;
    if (!c) {
      c = { exists: false, namespace: ns, workloads: [], pods: [], lines: [], requests: 0, lastRequestAt: 0 };
      this.clusters.set(k, c);
    }
    if (!c.exists) c.namespace = ns;
    return c;
  }

  private imagesOf(run: Run): DeployedImage[] {
    const built = run.artifacts.images.map((i) => ({ workload: i.service, container: i.service, image: i.pushed ?? i.image }));
    return [...built, { workload: "db", container: "mariadb", image: "mariadb:10.11" }, { workload: "nginx", container: "nginx", image: "nginx:stable" }];
  }

  private podInfo(c: Cluster, x: Pod): PodInfo {
    const w = c.workloads.find((y) => y.name === x.workload);
    const { hash, ...info } = x;
    return { ...info, current: w?.role === "database" || hash === w?.hash };
  }

  private log(c: Cluster, pod: string, container: string, text: string) {
    c.lines.push({ pod, container, text, seq: ++this.seq });
    if (c.lines.length > 20_000) c.lines.splice(0, c.lines.length - 20_000);
  }

  /** A request through nginx to a frontend and a backend replica, every logMs. */
  private traffic(c: Cluster) {
    const now = this.env.now();
    if (!c.exists || now - c.lastRequestAt < this.opts.logMs) return;
    c.lastRequestAt = now;
    const n = c.requests++;
    const pick = (w: string) => {
      const ps = c.pods.filter((x) => x.workload === w && x.ready);
      return ps.length ? ps[n % ps.length] : null;
    };
    const at = stamp(now);
    const nginx = pick("nginx");
    const frontend = pick("frontend");
    const backend = pick("backend");
    if (nginx) this.log(c, nginx.name, "nginx", `10.244.0.1 - - [${at}] "GET / HTTP/1.1" 200 1432 "-" "curl/8.5.0" request ${n + 1}`);
    if (frontend) this.log(c, frontend.name, "frontend", `10.244.1.${(n % 200) + 2} - - [${at}] "GET / HTTP/1.1" 200 1432 "-" "curl/8.5.0"`);
    if (backend) this.log(c, backend.name, "backend", `10.244.1.${(n % 200) + 2} - - [${at}] "GET /api/items HTTP/1.1" 200 87 "-" "python-requests/2.32.3"`);
  }

  private newPod(c: Cluster, w: Workload, fails: boolean): Pod {
    const taken = new Set(c.pods.map((x) => x.name));
    let i = 0;
    let name: string;
    do name = `${w.name}-${w.role === "database" ? kubeId(w.name, 10) : w.hash}-${kubeId(`${w.hash}${w.name}${i++}`, 5)}`;
    while (taken.has(name));
    const pod: Pod = {
      name,
      workload: w.name,
      phase: "Pending",
      ready: false,
      restarts: 0,
      reason: fails ? "ErrImagePull" : "ContainerCreating",
      message: null,
      current: true,
      node: NODES[c.pods.length % NODES.length],
      startedAt: null,
      hash: w.hash,
    };
    c.pods.push(pod);
    return pod;
  }

  /** One step of a workload's rolling update (maxSurge 1, maxUnavailable 0). Returns a failure. */
  private advance(c: Cluster, w: Workload, failing: boolean): UserError | null {
    const mine = c.pods.filter((x) => x.workload === w.name);
    c.pods = c.pods.filter((x) => !(x.workload === w.name && x.phase === "Terminating"));
    const fresh = mine.filter((x) => x.hash === w.hash && x.phase !== "Terminating");
    const old = mine.filter((x) => x.hash !== w.hash && x.phase !== "Terminating");
    const pending = fresh.find((x) => !x.ready);
    if (pending) {
      if (failing) {
        const image = w.images[0];
        pending.reason = "ImagePullBackOff";
        pending.message = `Back-off pulling image "${image}"`;
        return ue(
          `The rollout of ${w.name} failed`,
          `pod ${pending.name}: ImagePullBackOff: Back-off pulling image "${image}"`,
          `Check that ${image} exists in its registry and that the cluster may pull it (registry credentials, image name and tag), then deploy again`,
        );
      }
      if (pending.phase === "Pending") {
        Object.assign(pending, { phase: "Running", reason: "not ready", startedAt: this.env.now() });
        startLines(w, this.env.now()).forEach((l) => this.log(c, pending.name, w.role === "database" ? "mariadb" : w.name, l));
      } else {
        Object.assign(pending, { ready: true, reason: null });
        if (old.length) Object.assign(old[0], { phase: "Terminating", ready: false });
      }
      return null;
    }
    if (fresh.length < w.desired) this.newPod(c, w, failing);
    else if (old.length) Object.assign(old[0], { phase: "Terminating", ready: false });
    return null;
  }

  private progress(c: Cluster, failing: string | null): { workloads: WorkloadProgress[]; pods: PodInfo[] } {
    const workloads = c.workloads.map((w) => {
      const live = c.pods.filter((x) => x.workload === w.name && x.phase !== "Terminating");
      const updated = live.filter((x) => x.hash === w.hash).length;
      const ready = live.filter((x) => x.ready).length;
      const all = c.pods.filter((x) => x.workload === w.name).length;
      const done = w.name !== failing && updated === w.desired && ready === w.desired && all === w.desired;
      return { name: w.name, desired: w.desired, updated, ready, available: ready, done };
    });
    return { workloads, pods: c.pods.map((x) => this.podInfo(c, x)) };
  }

  /** Applies an image set as revision `rev` and rolls it out step by step; the failure, if one. */
  private async rollout(p: Project, e: Environment, rev: Revision, emit: (phase: RolloutPhase, message: string, snap: { workloads: WorkloadProgress[]; pods: PodInfo[] }) => void): Promise<UserError | null> {
    const c = this.cluster(p.id, e);
    this.connect(e);
    if (!c.exists) {
      c.exists = true;
      c.pods = [];
      c.workloads = sampleWorkloads();
    }
    const failing = this.failNext;
    this.failNext = null;
    for (const w of c.workloads) {
      w.images = rev.images.filter((i) => i.workload === w.name).map((i) => i.image);
      if (w.role === "database") {
        w.kubeRevision = Math.max(1, w.kubeRevision);
        w.hash = kubeId(w.name, 10);
        continue;
      }
      w.revision = rev.number;
      w.kubeRevision += 1;
      w.hash = kubeId(`${w.name}-${rev.number}-${p.id}`, 10);
      // Pods that never became ready go first.
      c.pods.filter((x) => x.workload === w.name && !x.ready).forEach((x) => (x.phase = "Terminating"));
    }
    const lines = new Map(c.pods.map((x) => [x.name, podLine(this.podInfo(c, x))]));
    const wlines = new Map<string, string>();
    let message = `Watching ${c.workloads.length} rollouts`;
    for (;;) {
      await sleep(this.opts.stepMs);
      let failure: UserError | null = null;
      for (const w of c.workloads) failure = this.advance(c, w, w.name === failing) ?? failure;
      const snap = this.progress(c, failing);
      for (const x of snap.pods) {
        const l = podLine(x);
        if (lines.get(x.name) !== l) lines.set(x.name, (message = l));
      }
      for (const n of [...lines.keys()].filter((n) => !snap.pods.some((x) => x.name === n))) {
        lines.delete(n);
        message = `pod ${n}: removed`;
      }
      for (const w of snap.workloads) {
        const l = workloadLine(w);
        if (wlines.get(w.name) !== l) wlines.set(w.name, (message = l));
      }
      if (failure) {
        emit("failed", errorText(failure), snap);
        return failure;
      }
      if (snap.workloads.every((w) => w.done)) {
        emit("succeeded", `All ${snap.workloads.length} rollouts complete`, snap);
        return null;
      }
      emit("rollingOut", message, snap);
    }
  }

  private begin(p: Project, e: Environment, operation: DeployOperation, meta: Meta, images: DeployedImage[], namespace: string | null): Revision {
    const list = this.revisionsOf(p.id, e.name);
    const t = e.target.kind === "kubernetes" ? e.target : null;
    const rev: Revision = {
      project: p.id,
      environment: e.name,
      number: Math.max(0, ...list.map((r) => r.number)) + 1,
      operation,
      run: meta.run,
      commit: meta.commit,
      rollbackTo: meta.rollbackTo,
      reason: meta.reason,
      images,
      context: t ? (t.context ?? "slipway-test") : null,
      namespace,
      status: "inProgress",
      startedAt: this.env.now(),
      finishedAt: null,
      error: null,
      url: null,
      note: null,
    };
    list.push(rev);
    this.env.emit([{ type: "revisionUpdated", revision: clone(rev) }]);
    return rev;
  }

  private finish(rev: Revision) {
    rev.finishedAt = this.env.now();
    this.env.emit([{ type: "revisionUpdated", revision: clone(rev) }]);
  }

  private acquire(p: Project, e: Environment): () => void {
    const k = key(p.id, e.name);
    if (this.busy.has(k)) {
      throw ue(`A deploy to ${e.name} is under way`, `project ${p.id} is being deployed to ${e.name} by this Slipway already`, "Wait for it to finish (its progress is on the Deployments page), then try again");
    }
    this.busy.add(k);
    return () => this.busy.delete(k);
  }

  private async deployLocal(p: Project, e: Environment, run: Run): Promise<Revision> {
    const release = this.acquire(p, e);
    try {
      const images = run.artifacts.images.map((i) => ({ workload: i.service, container: i.service, image: i.image }));
      const rev = this.begin(p, e, "deploy", { run: run.id, commit: run.commit, rollbackTo: null, reason: `run ${run.id}` }, images, null);
      await sleep(this.opts.stepMs * 4);
      rev.status = "succeeded";
      rev.url = `http://127.0.0.1:${48000 + (run.number % 1000)}/`;
      this.finish(rev);
      return clone(rev);
    } finally {
      release();
    }
  }

  /** Records a revision, rolls it out, finishes the record; a failure rolls back to what served before. */
  private async execute(p: Project, e: Environment, op: DeployOperation, meta: Meta, images: DeployedImage[], outer = true): Promise<Revision> {
    const release = outer ? this.acquire(p, e) : () => {};
    try {
      const c = this.cluster(p.id, e);
      const servedBefore = current(this.revisionsOf(p.id, e.name));
      const rev = this.begin(p, e, op, meta, images, c.namespace);
      const line = (message: string) => this.env.emit([{ type: "progress", task: "deploy", message }]);
      const progress = (phase: RolloutPhase, message: string, snap: { workloads: WorkloadProgress[]; pods: PodInfo[] } = { workloads: [], pods: [] }) =>
        this.env.emit([{ type: "deployProgress", project: p.id, environment: e.name, revision: rev.number, operation: op, phase, ...clone(snap), message }]);
      line(`${op} revision ${rev.number} of ${p.id} to ${e.name} (namespace ${c.namespace}): ${rev.reason}`);
      progress("applying", `Applying revision ${rev.number}`);
      let error: UserError | null;
      let applied = true;
      try {
        error = await this.rollout(p, e, rev, progress);
      } catch (err) {
        error = err as UserError;
        applied = false;
      }
      if (error === null) {
        rev.status = "succeeded";
        rev.url = APP_URL;
        line(`Revision ${rev.number} serves at ${APP_URL}`);
        this.finish(rev);
        return clone(rev);
      }
      progress("failed", errorText(error));
      line(`Revision ${rev.number} failed: ${errorText(error)}`);
      let note: string;
      if (!applied) note = "Nothing was applied.";
      else if (servedBefore && outer) {
        const prev = servedBefore;
        try {
          const back = await this.execute(p, e, "rollback", { run: prev.run, commit: prev.commit, rollbackTo: prev.number, reason: `automatic rollback to revision ${prev.number}: revision ${rev.number} failed` }, clone(prev.images), false);
          note = `Rolled back automatically: revision ${back.number} (the images of revision ${prev.number}) serves again.`;
        } catch (e2) {
          const u = e2 as UserError;
          note = `The automatic rollback to revision ${prev.number} failed too (${u.what}: ${u.why}); namespace ${c.namespace} is left as it is.`;
        }
      } else {
        note = `What was applied stays in namespace ${c.namespace} for inspection (\`slipway status\`, \`slipway deploy-logs\`); no earlier revision served there.`;
      }
      error = { ...error, fix: `${error.fix.replace(/\.+$/, "")}. ${note}` };
      rev.status = "failed";
      rev.error = error;
      rev.note = note;
      this.finish(rev);
      throw error;
    } finally {
      release();
    }
  }

  // ---- the seeded history ----

  /**
   * The sample project's environments: dev on the test cluster with four revisions (two
   * deploys, a deploy whose image could not be pulled, the automatic rollback after it), its
   * pods serving; production on EKS, whose cluster does not answer, never deployed.
   */
  private seed() {
    let p: Project;
    try {
      p = this.env.project("sample-app");
    } catch {
      return;
    }
    const kube = (context: string, namespace: string | null, database: KubeTarget["database"], progressDeadlineSecs: number | null): Environment["target"] => ({
      kind: "kubernetes",
      context,
      kubeconfig: null,
      namespace,
      database,
      progressDeadlineSecs,
    });
    const dev: Environment = { project: p.id, name: "dev", target: kube("slipway-test", null, { kind: "inCluster" }, null), runs: false };
    const production: Environment = { project: p.id, name: "production", target: kube("slipway-eks", "sample-app", { kind: "rds", blueprint: null, instance: null }, 300), runs: false };
    this.environments.push(dev, production);
    const runs = this.env.runs(p.id);
    const run = (id: string) => runs.find((r) => r.id === id)!;
    const now = this.env.now();
    const min = 60_000;
    const list = this.revisionsOf(p.id, dev.name);
    const add = (op: DeployOperation, r: Run, startedAt: number, secs: number, extra: Partial<Revision> = {}) => {
      const message = r.commitMessage?.split("\n")[0];
      list.push({
        project: p.id,
        environment: dev.name,
        number: list.length + 1,
        operation: op,
        run: r.id,
        commit: r.commit,
        rollbackTo: null,
        reason: `run ${r.id}, commit ${r.commit!.slice(0, 12)}${message ? ` (${message})` : ""}`,
        images: this.imagesOf(r),
        context: "slipway-test",
        namespace: SAMPLE_NAMESPACE,
        status: "succeeded",
        startedAt,
        finishedAt: startedAt + secs * 1000,
        error: null,
        url: APP_URL,
        note: null,
        ...extra,
      });
    };
    add("deploy", run("sample-app-1"), now - 25 * 60 * min, 48);
    add("deploy", run("sample-app-5"), now - 100 * min, 41);
    const bad = run("sample-app-2");
    const badImage = this.imagesOf(bad)[0].image;
    const badPod = `backend-${kubeId(`backend-3-${p.id}`, 10)}-${kubeId("bad", 5)}`;
    const note = "Rolled back automatically: revision 4 (the images of revision 2) serves again.";
    add("deploy", bad, now - 61 * min, 25, {
      status: "failed",
      url: null,
      note,
      error: ue(
        "The rollout of backend failed",
        `pod ${badPod}: ImagePullBackOff: Back-off pulling image "${badImage}"`,
        `Check that ${badImage} exists in its registry and that the cluster may pull it (registry credentials, image name and tag), then deploy again. ${note}`,
      ),
    });
    add("rollback", run("sample-app-5"), now - 60 * min, 38, { rollbackTo: 2, reason: "automatic rollback to revision 2: revision 3 failed" });
    // The cluster runs revision 4; one backend replica restarted once.
    const c = this.cluster(p.id, dev);
    c.exists = true;
    c.workloads = sampleWorkloads();
    const rev4 = list[3];
    for (const w of c.workloads) {
      w.images = rev4.images.filter((i) => i.workload === w.name).map((i) => i.image);
      w.revision = w.role === "database" ? null : 4;
      w.kubeRevision = w.role === "database" ? 1 : 4;
      w.hash = w.role === "database" ? kubeId(w.name, 10) : kubeId(`${w.name}-4-${p.id}`, 10);
      for (let i = 0; i < w.desired; i++) {
        const pod = this.newPod(c, w, false);
        Object.assign(pod, { phase: "Running", ready: true, reason: null, startedAt: rev4.startedAt + 5_000 });
        if (w.name === "backend" && i === 1) pod.restarts = 1;
        startLines(w, rev4.startedAt + 5_000).forEach((l) => this.log(c, pod.name, w.role === "database" ? "mariadb" : w.name, l));
      }
    }
    c.lastRequestAt = now;
    for (let i = 0; i < 6; i++) {
      c.lastRequestAt = 0;
      this.traffic(c);
    }
  }
}
