// Pure helpers of the Architecture page: areas and labels per resource kind, the layered layout
// of the dependency graph, and the fold of resourceProgress / provisionFinished events into what
// the page shows (per-resource state, "X of Y", the log). No React here, so it is easy to test.

import type { Blueprint } from "../../bindings/Blueprint";
import type { EventEnvelope } from "../../bindings/EventEnvelope";
import type { Operation } from "../../bindings/Operation";
import type { Phase } from "../../bindings/Phase";
import type { ResourceKind } from "../../bindings/ResourceKind";
import type { ResourceProgress } from "../../bindings/ResourceProgress";
import type { ResourceSpec } from "../../bindings/ResourceSpec";
import type { UserError } from "../../bindings/UserError";

export type Area = "network" | "vms" | "databases" | "cluster" | "iam";

export const AREA_LABEL: Record<Area, string> = {
  network: "Network",
  vms: "VMs",
  databases: "Databases",
  cluster: "Cluster",
  iam: "IAM",
};

export const KIND_LABEL: Record<ResourceKind, string> = {
  vpc: "VPC",
  internetGateway: "Internet gateway",
  subnet: "Subnet",
  routeTable: "Route table",
  securityGroup: "Security group",
  keyPair: "Key pair",
  instance: "VM",
  dbSubnetGroup: "DB subnet group",
  dbInstance: "MySQL",
  iamRole: "IAM role",
  eksCluster: "EKS cluster",
  eksNodegroup: "Node group",
  elasticIp: "Elastic IP",
  natGateway: "NAT gateway",
  launchTemplate: "Launch template",
  ecrRepository: "ECR repository",
};

export function areaOf(spec: Pick<ResourceSpec, "id" | "kind">): Area {
  switch (spec.kind) {
    case "vpc":
    case "internetGateway":
    case "subnet":
    case "routeTable":
    case "elasticIp":
    case "natGateway":
      return "network";
    case "securityGroup":
      // A security group belongs to what it protects.
      if (spec.id.endsWith("-db")) return "databases";
      if (spec.id.endsWith("-cluster")) return "cluster";
      return "vms";
    case "keyPair":
    case "instance":
      return "vms";
    case "dbSubnetGroup":
    case "dbInstance":
      return "databases";
    case "iamRole":
      return "iam";
    case "eksCluster":
    case "eksNodegroup":
    case "launchTemplate":
    case "ecrRepository":
      return "cluster";
  }
}

/** Dependency depth of every resource: 0 for no dependencies, else 1 + the deepest dependency. */
export function depths(specs: Pick<ResourceSpec, "id" | "dependsOn">[]): Map<string, number> {
  const byId = new Map(specs.map((s) => [s.id, s]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    const s = byId.get(id);
    if (!s || visiting.has(id)) return 0; // unknown dependency or a cycle: do not loop
    visiting.add(id);
    const d = s.dependsOn.reduce((m, dep) => Math.max(m, byId.has(dep) ? visit(dep) + 1 : 0), 0);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  specs.forEach((s) => visit(s.id));
  return depth;
}

export const NODE_W = 214;
export const NODE_H = 74;
const COL_GAP = 60;
const ROW_GAP = 16;
const AREA_ORDER: Area[] = ["network", "vms", "databases", "cluster", "iam"];
/** A layer taller than this wraps into more columns (keeps the drawing wide rather than tall). */
export const MAX_ROWS = 6;

export type Placed = { id: string; x: number; y: number; layer: number; area: Area };

/**
 * Layered layout: one column per dependency depth (left to right; a long layer wraps into
 * several columns of at most MAX_ROWS), and within a layer the resources sorted by area then by
 * their order in the blueprint, so areas line up in bands.
 */
export function layout(specs: ResourceSpec[]): Placed[] {
  const d = depths(specs);
  const order = new Map(specs.map((s, i) => [s.id, i]));
  const layers = new Map<number, ResourceSpec[]>();
  for (const s of specs) {
    const l = d.get(s.id) ?? 0;
    layers.set(l, [...(layers.get(l) ?? []), s]);
  }
  const placed: Placed[] = [];
  let column = 0;
  for (const [layer, members] of [...layers.entries()].sort((a, b) => a[0] - b[0])) {
    members.sort(
      (a, b) => AREA_ORDER.indexOf(areaOf(a)) - AREA_ORDER.indexOf(areaOf(b)) || order.get(a.id)! - order.get(b.id)!,
    );
    const cols = Math.ceil(members.length / MAX_ROWS);
    const rows = Math.ceil(members.length / cols);
    members.forEach((s, i) => {
      const col = column + Math.floor(i / rows);
      const row = i % rows;
      placed.push({ id: s.id, x: col * (NODE_W + COL_GAP), y: row * (NODE_H + ROW_GAP), layer, area: areaOf(s) });
    });
    column += cols;
  }
  return placed;
}

/** One edge per dependency, from the dependency to the resource that needs it. */
export function edges(specs: ResourceSpec[]): { id: string; source: string; target: string }[] {
  const ids = new Set(specs.map((s) => s.id));
  return specs.flatMap((s) =>
    s.dependsOn.filter((dep) => ids.has(dep)).map((dep) => ({ id: `${dep}->${s.id}`, source: dep, target: s.id })),
  );
}

// ---- live progress -------------------------------------------------------------------------

export const MAX_LOG_LINES = 500;

export type Finished = { op: Operation; ok: boolean; summary: string; error: UserError | null };

export type Progress = {
  op: Operation | null;
  byId: Record<string, ResourceProgress>;
  done: number;
  total: number;
  log: string[];
  finished: Finished | null;
  lastSeq: number;
};

export const initialProgress: Progress = { op: null, byId: {}, done: 0, total: 0, log: [], finished: null, lastSeq: 0 };

const PHASE_WORD: Record<Phase, string> = {
  pending: "pending",
  looking: "looking",
  creating: "creating",
  updating: "updating",
  replacing: "replacing",
  waiting: "waiting",
  ready: "ready",
  unchanged: "unchanged",
  deleting: "deleting",
  deleted: "deleted",
  failed: "failed",
  cancelled: "cancelled",
};

export function phaseWord(p: Phase): string {
  return PHASE_WORD[p];
}

function clock(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

export function logLine(at: number, p: ResourceProgress): string {
  const parts = [`${clock(at)} ${p.op} ${p.id}: ${phaseWord(p.phase)}`];
  if (p.cloudState) parts.push(`(${p.cloudState})`);
  if (p.physicalId) parts.push(p.physicalId);
  if (p.error) parts.push(`- ${p.error.what}: ${p.error.why}`);
  return parts.join(" ");
}

/** Folds a batch of events into the progress shown (only provisioning events of `project`). */
export function applyEvents(state: Progress, batch: EventEnvelope[], project: string | null): Progress {
  let next = state;
  let log: string[] | null = null;
  for (const env of batch) {
    if (env.seq <= next.lastSeq) continue;
    const ev = env.event;
    if (ev.type === "resourceProgress") {
      if (project !== null && ev.project !== project) continue;
      const { type: _t, ...p } = ev;
      const newRun = next.op !== p.op || next.finished !== null;
      const prev = newRun ? undefined : next.byId[p.id];
      if (!prev || prev.phase !== p.phase) {
        log ??= [...next.log];
        log.push(logLine(env.at, p));
      }
      next = {
        ...next,
        op: p.op,
        byId: { ...(newRun ? {} : next.byId), [p.id]: p },
        done: p.done,
        total: p.total,
        finished: null,
        lastSeq: env.seq,
      };
    } else if (ev.type === "provisionFinished") {
      if (project !== null && ev.project !== project) continue;
      log ??= [...next.log];
      log.push(`${clock(env.at)} ${ev.op} ${ev.ok ? "finished" : "failed"}: ${ev.summary}`);
      next = { ...next, op: ev.op, finished: { op: ev.op, ok: ev.ok, summary: ev.summary, error: ev.error }, lastSeq: env.seq };
    }
  }
  if (log) next = { ...next, log: log.length > MAX_LOG_LINES ? log.slice(log.length - MAX_LOG_LINES) : log };
  return next;
}

// ---- blueprint form -------------------------------------------------------------------------

export type FieldDef = {
  field: string;
  label: string;
  kind: "text" | "number" | "select" | "toggle";
  options?: { value: string; label: string }[];
  /** What the parameter is for, shown under it (the opt-in parts' purpose, as `Blueprint::opt_ins` states it). */
  help?: string;
};

/**
 * The opt-in parts of the blueprint, off by default; their purpose as the plan states it
 * (`Blueprint::opt_ins` in Rust; a unit test holds the two to the same text).
 */
export const OPT_IN_FIELDS: FieldDef[] = [
  {
    field: "ciVm",
    label: "CI VM",
    kind: "toggle",
    help: "Runs Jenkins (with Docker and kubectl) for teams that want their pipeline on a server of their own; once it is up, connect it on the Connect page or with `slipway jenkins connect --url http://<its address>:8080`.",
  },
  { field: "testVm", label: "Test VM", kind: "toggle", help: "A VM beside the test database for manual or load testing." },
];

/**
 * The editable parameters, in the side panel's order (bp-<field> test ids). The project is not
 * one: the blueprint belongs to the project picked above it, and is named and tagged with its id.
 */
export const BP_FIELDS: FieldDef[] = [
  { field: "region", label: "Region", kind: "text" },
  { field: "azs", label: "Availability zones (comma-separated)", kind: "text" },
  { field: "vpcCidr", label: "VPC CIDR", kind: "text" },
  { field: "publicSubnets", label: "Public subnets", kind: "text" },
  { field: "privateSubnets", label: "Private subnets", kind: "text" },
  { field: "adminCidr", label: "Admin CIDR (SSH, Jenkins on the opt-in VMs)", kind: "text" },
  OPT_IN_FIELDS[0],
  { field: "ciInstanceType", label: "CI VM type", kind: "text" },
  OPT_IN_FIELDS[1],
  { field: "testInstanceType", label: "Test VM type", kind: "text" },
  { field: "dbInstanceClass", label: "DB class", kind: "text" },
  { field: "dbStorageGb", label: "DB storage (GB)", kind: "number" },
  { field: "dbEngineVersion", label: "MySQL version", kind: "text" },
  { field: "nodeInstanceType", label: "Node type", kind: "text" },
  { field: "nodeCount", label: "Node count", kind: "number" },
  { field: "kubernetesVersion", label: "Kubernetes version", kind: "text" },
  {
    field: "nodeSubnets",
    label: "Nodes' way out",
    kind: "select",
    options: [
      { value: "public", label: "Public subnets (no NAT, cheapest)" },
      { value: "private-nat", label: "Private subnets behind a NAT gateway" },
    ],
  },
  { field: "services", label: "ECR repositories (services, comma-separated)", kind: "text" },
  { field: "ecrKeepImages", label: "Images kept per repository", kind: "number" },
];

export type BlueprintForm = Record<string, string>;

const LIST_FIELDS = new Set(["azs", "publicSubnets", "privateSubnets", "services"]);

export function toForm(bp: Blueprint): BlueprintForm {
  const f: BlueprintForm = {};
  const rec = bp as unknown as Record<string, unknown>;
  for (const { field } of BP_FIELDS) {
    const v = rec[field];
    f[field] = Array.isArray(v) ? v.join(", ") : String(v ?? "");
  }
  return f;
}

/** The form back into a Blueprint (fields not on the form are kept from `base`). */
export function fromForm(base: Blueprint, f: BlueprintForm): Blueprint {
  const out = { ...base } as unknown as Record<string, unknown>;
  for (const { field, kind } of BP_FIELDS) {
    const raw = (f[field] ?? "").trim();
    if (LIST_FIELDS.has(field)) out[field] = raw.split(",").map((s) => s.trim()).filter(Boolean);
    else if (kind === "toggle") out[field] = raw === "true";
    else if (kind === "number") out[field] = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    else out[field] = raw;
  }
  return out as unknown as Blueprint;
}

export function money(n: number, currency = "USD"): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency, maximumFractionDigits: 2 }).format(n);
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m ${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}
