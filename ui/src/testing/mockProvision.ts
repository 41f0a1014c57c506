// The provisioning half of MockBackend: a blueprint, the 22 resources it expands to (more with a NAT
// gateway or ECR repositories; the same ids,
// kinds, dependencies and expected times as crates/core/src/provision/blueprint.rs), a state map
// of what "exists", and plan / apply / destroy / refresh computed from it. Tests only.

import type { Action } from "../bindings/Action";
import type { Blueprint } from "../bindings/Blueprint";
import type { Change } from "../bindings/Change";
import type { Drift } from "../bindings/Drift";
import type { Observed } from "../bindings/Observed";
import type { Plan } from "../bindings/Plan";
import type { ResourceKind } from "../bindings/ResourceKind";
import type { ResourceSpec } from "../bindings/ResourceSpec";
import type { UserError } from "../bindings/UserError";

export function defaultBlueprint(): Blueprint {
  return {
    project: "slipway",
    region: "us-east-1",
    azs: ["us-east-1a", "us-east-1b"],
    vpcCidr: "10.20.0.0/16",
    publicSubnets: ["10.20.0.0/24", "10.20.1.0/24"],
    privateSubnets: ["10.20.10.0/24", "10.20.11.0/24"],
    // What the service layer fills in for the sandbox (the user's address on AWS).
    adminCidr: "127.0.0.1/32",
    ciInstanceType: "t3.medium",
    testInstanceType: "t3.small",
    ami: null,
    dbInstanceClass: "db.t3.micro",
    dbStorageGb: 20,
    dbEngineVersion: "8.0",
    nodeInstanceType: "t3.medium",
    nodeCount: 2,
    kubernetesVersion: "1.30",
    nodeSubnets: "public",
    services: [],
    ecrKeepImages: 20,
  };
}

export function mockResources(bp: Blueprint): ResourceSpec[] {
  const p = bp.project;
  const r = (id: string, kind: ResourceKind, name: string, dependsOn: string[], props: Record<string, unknown>, expectedSecs: number): ResourceSpec => ({
    id, kind, name, dependsOn, props, expectedSecs,
  });
  const db = { engine: "mysql", engineVersion: bp.dbEngineVersion, instanceClass: bp.dbInstanceClass, allocatedStorage: bp.dbStorageGb };
  const nat = bp.nodeSubnets === "private-nat";
  const [na, nb, route] = nat ? ["subnet-private-a", "subnet-private-b", "rt-private"] : ["subnet-public-a", "subnet-public-b", "rt-public"];
  return [
    r("vpc", "vpc", `${p}-vpc`, [], { cidr: bp.vpcCidr }, 5),
    r("igw", "internetGateway", `${p}-igw`, ["vpc"], {}, 5),
    r("subnet-public-a", "subnet", `${p}-public-a`, ["vpc"], { cidr: bp.publicSubnets[0], az: bp.azs[0] }, 5),
    r("subnet-public-b", "subnet", `${p}-public-b`, ["vpc"], { cidr: bp.publicSubnets[1], az: bp.azs[1] }, 5),
    r("subnet-private-a", "subnet", `${p}-private-a`, ["vpc"], { cidr: bp.privateSubnets[0], az: bp.azs[0] }, 5),
    r("subnet-private-b", "subnet", `${p}-private-b`, ["vpc"], { cidr: bp.privateSubnets[1], az: bp.azs[1] }, 5),
    r("rt-public", "routeTable", `${p}-public`, ["vpc", "igw", "subnet-public-a", "subnet-public-b"], {}, 5),
    ...(nat
      ? [
          r("eip-nat", "elasticIp", `${p}-nat`, [], {}, 2),
          r("nat", "natGateway", `${p}-nat`, ["subnet-public-a", "eip-nat", "rt-public"], {}, 120),
          r("rt-private", "routeTable", `${p}-private`, ["vpc", "nat", "subnet-private-a", "subnet-private-b"], {}, 5),
        ]
      : []),
    r("sg-ci", "securityGroup", `${p}-ci`, ["vpc"], { admin: bp.adminCidr }, 5),
    r("sg-test", "securityGroup", `${p}-test`, ["vpc"], { admin: bp.adminCidr }, 5),
    r("sg-db", "securityGroup", `${p}-db`, ["vpc"], {}, 5),
    r("sg-cluster", "securityGroup", `${p}-cluster`, ["vpc"], {}, 5),
    r("keypair", "keyPair", `${p}-key`, [], {}, 2),
    r("vm-ci", "instance", `${p}-ci`, ["subnet-public-a", "sg-ci", "keypair"], { instanceType: bp.ciInstanceType }, 60),
    r("vm-test", "instance", `${p}-test`, ["subnet-public-b", "sg-test", "keypair"], { instanceType: bp.testInstanceType }, 60),
    r("db-subnets", "dbSubnetGroup", `${p}-db`, ["subnet-private-a", "subnet-private-b"], {}, 5),
    r("db-test", "dbInstance", `${p}-test`, ["db-subnets", "sg-db"], db, 480),
    r("db-live", "dbInstance", `${p}-live`, ["db-subnets", "sg-db"], db, 480),
    r("role-cluster", "iamRole", `${p}-eks-cluster`, [], {}, 5),
    r("role-nodes", "iamRole", `${p}-eks-nodes`, [], {}, 5),
    r("eks", "eksCluster", `${p}-eks`, ["role-cluster", "subnet-private-a", "subnet-private-b", "subnet-public-a", "subnet-public-b", "sg-cluster"], { version: bp.kubernetesVersion }, 600),
    r("lt-nodes", "launchTemplate", `${p}-nodes`, [], {}, 2),
    r("nodes", "eksNodegroup", `${p}-nodes`, ["eks", "role-nodes", "lt-nodes", na, nb, route], { instanceType: bp.nodeInstanceType, desiredSize: bp.nodeCount, publicIps: !nat }, 240),
    ...bp.services.map((svc) => r(`ecr-${svc}`, "ecrRepository", `${p}-${svc}`, [], { scanOnPush: true }, 3)),
  ];
}

const HOURS = 730;
/** A public IPv4 address a month ($0.005 an hour). */
const IPV4 = 3.65;
const EC2_HOURLY: Record<string, number> = { "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416, "t3.large": 0.0832, "m5.large": 0.096 };
const RDS_HOURLY: Record<string, number> = { "db.t3.micro": 0.017, "db.t3.small": 0.034, "db.t3.medium": 0.068 };

/** Monthly price of a resource, like the bundled table (free kinds cost 0; unknown types None). */
export function mockMonthly(spec: ResourceSpec): number | null {
  const p = spec.props as Record<string, unknown>;
  switch (spec.kind) {
    case "instance": {
      const h = EC2_HOURLY[String(p.instanceType)];
      return h === undefined ? null : round(h * HOURS + 8 * 0.08 + IPV4);
    }
    case "dbInstance": {
      const h = RDS_HOURLY[String(p.instanceClass)];
      return h === undefined ? null : round(h * HOURS + Number(p.allocatedStorage) * 0.115);
    }
    case "eksCluster":
      return 73;
    case "eksNodegroup": {
      const h = EC2_HOURLY[String(p.instanceType)];
      return h === undefined ? null : round((h * HOURS + (p.publicIps ? IPV4 : 0)) * Number(p.desiredSize));
    }
    case "elasticIp":
      return IPV4;
    case "natGateway":
      return round(0.045 * HOURS + 10 * 0.045);
    case "ecrRepository":
      return 0.1;
    default:
      return 0;
  }
}

/** What an estimate assumes, in the Rust side's words (PriceTable::note). */
export function mockCostNote(spec: ResourceSpec): string | null {
  const p = spec.props as Record<string, unknown>;
  switch (spec.kind) {
    case "natGateway":
      return "$0.045 an hour, plus $0.045 per GB it carries: assumes 10 GB a month (image pulls, updates)";
    case "ecrRepository":
      return "$0.10 per GB-month of images: assumes 1 GB per repository";
    case "elasticIp":
      return "$0.005 an hour per public IPv4 address";
    case "eksNodegroup":
      return p.publicIps ? "includes a public IPv4 address per node ($0.005 an hour per public IPv4 address)" : null;
    case "instance":
      return "includes its public IPv4 address ($0.005 an hour per public IPv4 address)";
    default:
      return null;
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

const invalid = (why: string, fix: string): UserError => ({ what: "Blueprint not valid", why, fix });
const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const TYPE_RE = /^[a-z0-9]+\.[a-z0-9]+$/;

/** A few of the Rust side's checks (Blueprint::validate), enough to show its errors. */
export function validateBlueprint(bp: Blueprint): UserError | null {
  const p = bp.project;
  if (!/^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/.test(p) || p.length > 20) {
    return invalid(`project name '${p}' is not usable in AWS names`, "Use 2 to 20 lowercase letters, digits and single hyphens, starting with a letter");
  }
  if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(bp.region)) return invalid(`'${bp.region}' is not an AWS region code`, "Pick a region such as us-east-1");
  if (bp.azs.length !== 2 || bp.azs[0] === bp.azs[1]) {
    return invalid(`${bp.azs.length} availability zones given (${bp.azs.join(", ")})`, "Pick two different availability zones");
  }
  for (const az of bp.azs) {
    if (!az.startsWith(bp.region)) return invalid(`availability zone '${az}' is not in region ${bp.region}`, "Pick zones of the chosen region");
  }
  if (bp.adminCidr.trim() === "") {
    return invalid(
      "the admin CIDR (who may SSH to the VMs and open Jenkins) is not set: Slipway could not find your public address",
      "Set Admin CIDR to your own address as a /32, e.g. 203.0.113.7/32 (https://checkip.amazonaws.com shows it)",
    );
  }
  const cidrs: [string, string][] = [["VPC CIDR", bp.vpcCidr], ["admin CIDR", bp.adminCidr]];
  bp.publicSubnets.forEach((s, i) => cidrs.push([`public subnet ${i + 1}`, s]));
  bp.privateSubnets.forEach((s, i) => cidrs.push([`private subnet ${i + 1}`, s]));
  for (const [field, v] of cidrs) {
    const m = CIDR_RE.exec(v);
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
      return invalid(`${field} '${v}' is not an IPv4 CIDR`, "Write it like 10.20.0.0/16");
    }
  }
  if (bp.publicSubnets.length !== 2 || bp.privateSubnets.length !== 2) {
    return invalid("the blueprint needs two public and two private subnets", "Give one public and one private subnet per availability zone");
  }
  for (const [field, v] of [["CI instance type", bp.ciInstanceType], ["test instance type", bp.testInstanceType], ["node instance type", bp.nodeInstanceType]]) {
    if (!TYPE_RE.test(v)) return invalid(`${field} '${v}' is not an instance type`, "Use a type such as t3.medium");
  }
  if (!/^db\.[a-z0-9]+\.[a-z0-9]+$/.test(bp.dbInstanceClass)) {
    return invalid(`database class '${bp.dbInstanceClass}' is not an instance type`, "Use a type such as db.t3.medium");
  }
  if (!Number.isInteger(bp.dbStorageGb) || bp.dbStorageGb < 20 || bp.dbStorageGb > 16384) {
    return invalid(`database storage ${bp.dbStorageGb} GB is outside 20 to 16384 GB`, "Use at least 20 GB");
  }
  if (!Number.isInteger(bp.nodeCount) || bp.nodeCount < 1 || bp.nodeCount > 100) {
    return invalid(`${bp.nodeCount} cluster nodes requested`, "Use 1 to 100 nodes");
  }
  const km = /^1\.(\d+)$/.exec(bp.kubernetesVersion);
  if (!km || Number(km[1]) < 23 || Number(km[1]) > 40) {
    return invalid(`Kubernetes version '${bp.kubernetesVersion}' is not one EKS offers`, "Use a version such as 1.30");
  }
  return null;
}

const PREFIX: Record<ResourceKind, string> = {
  vpc: "vpc-", internetGateway: "igw-", subnet: "subnet-", routeTable: "rtb-", securityGroup: "sg-", keyPair: "key-",
  instance: "i-", dbSubnetGroup: "", dbInstance: "", iamRole: "", eksCluster: "", eksNodegroup: "",
  elasticIp: "eipalloc-", natGateway: "nat-", launchTemplate: "lt-", ecrRepository: "",
};

export const READY_STATE: Record<ResourceKind, string> = {
  vpc: "available", internetGateway: "attached", subnet: "available", routeTable: "associated", securityGroup: "created",
  keyPair: "created", instance: "running", dbSubnetGroup: "Complete", dbInstance: "available", iamRole: "created",
  eksCluster: "ACTIVE", eksNodegroup: "ACTIVE", elasticIp: "allocated", natGateway: "available", launchTemplate: "available",
  ecrRepository: "available",
};

export const WAIT_STATE: Partial<Record<ResourceKind, string>> = {
  instance: "pending", dbInstance: "creating", eksCluster: "CREATING", eksNodegroup: "CREATING", vpc: "pending",
  natGateway: "pending",
};

let counter = 0x5eed;
/** An id that looks like AWS's (vpc-0a1b2c3d4e5f67890); names for the kinds AWS names by name. */
export function physicalIdFor(spec: ResourceSpec): string {
  const prefix = PREFIX[spec.kind];
  if (prefix === "") return spec.name;
  let hex = "0";
  while (hex.length < 17) {
    counter = (counter * 1103515245 + 12345) % 2147483648;
    hex += (counter >>> 8).toString(16).padStart(6, "0");
  }
  return `${prefix}${hex.slice(0, 17)}`;
}

export function observedFor(spec: ResourceSpec, physicalId: string): Observed {
  return {
    kind: spec.kind, logicalId: spec.id, physicalId, state: READY_STATE[spec.kind], ready: true, failed: false,
    attrs: structuredClone(spec.props),
  };
}

/** What differs between the spec and what exists ("instanceType t3.small -> t3.medium"). */
export function differences(spec: ResourceSpec, o: Observed): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(spec.props)) {
    const have = (o.attrs as Record<string, unknown>)[k];
    if (JSON.stringify(have) !== JSON.stringify(v)) out.push(`${k} ${String(have)} -> ${String(v)}`);
  }
  return out;
}

/** Which props force a replacement rather than an in-place update. */
const REPLACING = new Set(["cidr", "az", "version", "engineVersion"]);

export function mockPlan(bp: Blueprint, state: Map<string, Observed>): Plan {
  const specs = mockResources(bp);
  const changes: Change[] = specs.map((spec) => {
    const o = state.get(spec.id);
    let action: Action = "create";
    let reason: string | null = null;
    if (o) {
      const diff = differences(spec, o);
      if (diff.length === 0) action = "noChange";
      else {
        action = diff.some((d) => REPLACING.has(d.split(" ")[0])) ? "replace" : "update";
        reason = diff.join("; ");
      }
    }
    return {
      id: spec.id, kind: spec.kind, name: spec.name, action, reason, physicalId: o?.physicalId ?? null,
      monthlyCost: mockMonthly(spec), costNote: mockCostNote(spec), expectedSecs: spec.expectedSecs,
    };
  });
  const known = new Set(specs.map((s) => s.id));
  for (const [id, o] of state) {
    if (known.has(id)) continue;
    changes.push({ id, kind: o.kind, name: o.physicalId, action: "delete", reason: "not in the blueprint any more", physicalId: o.physicalId, monthlyCost: 0, costNote: null, expectedSecs: 5 });
  }
  const monthlyTotal = round(changes.filter((c) => c.action !== "delete").reduce((s, c) => s + (c.monthlyCost ?? 0), 0));
  return {
    project: bp.project, region: bp.region, changes, monthlyTotal,
    prices: {
      date: "2026-10-01", region: "us-east-1", currency: "USD",
      note: bp.region === "us-east-1" ? null : `prices are us-east-1's; ${bp.region} is usually within 10%`,
    },
  };
}

export function mockDrift(bp: Blueprint, state: Map<string, Observed>): Drift[] {
  return mockResources(bp).map((spec) => {
    const o = state.get(spec.id);
    if (!o) return { id: spec.id, kind: spec.kind, name: spec.name, status: "notCreated", physicalId: null, details: [] };
    const details = differences(spec, o);
    return { id: spec.id, kind: spec.kind, name: spec.name, status: details.length ? "changed" : "inSync", physicalId: o.physicalId, details };
  });
}
