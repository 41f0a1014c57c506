import { describe, expect, test } from "vitest";

import type { EventEnvelope } from "../../bindings/EventEnvelope";
import type { ResourceProgress } from "../../bindings/ResourceProgress";
import { allResources, defaultBlueprint, defaultOptIns, defaultResources } from "../../testing/fixtures";
import {
  MAX_LOG_LINES,
  MAX_ROWS,
  OPT_IN_FIELDS,
  applyEvents,
  areaOf,
  depths,
  edges,
  fromForm,
  initialProgress,
  layout,
  toForm,
} from "./model";

/** With the opt-in VMs: every kind of resource and area. */
const specs = allResources();

function rp(over: Partial<ResourceProgress> = {}): ResourceProgress {
  return {
    op: "apply", project: "slipway", id: "vpc", kind: "vpc", name: "slipway-vpc", phase: "creating", cloudState: null,
    physicalId: null, elapsedMs: 0, expectedMs: 5000, done: 0, total: 21, error: null, ...over,
  };
}
let seq = 0;
const env = (event: EventEnvelope["event"]): EventEnvelope => ({ seq: ++seq, at: 0, event });
const progressEv = (over: Partial<ResourceProgress> = {}) => env({ type: "resourceProgress", ...rp(over) });

describe("graph helpers", () => {
  test("dependency depths follow depends_on", () => {
    const d = depths(specs);
    expect(d.get("vpc")).toBe(0);
    expect(d.get("keypair")).toBe(0);
    expect(d.get("igw")).toBe(1);
    expect(d.get("rt-public")).toBe(2);
    expect(d.get("vm-ci")).toBe(2);
    expect(d.get("eks")).toBe(2);
    expect(d.get("nodes")).toBe(3);
    expect(d.get("db-live")).toBe(3);
  });

  test("depths survive a cycle and unknown dependencies", () => {
    const d = depths([
      { id: "a", dependsOn: ["b"] },
      { id: "b", dependsOn: ["a", "ghost"] },
    ]);
    expect(d.size).toBe(2);
  });

  test("every resource is placed once, dependencies strictly to the left, no overlaps", () => {
    const placed = layout(specs);
    expect(placed).toHaveLength(22);
    const at = new Map(placed.map((p) => [p.id, p]));
    for (const s of specs) for (const dep of s.dependsOn) expect(at.get(dep)!.x).toBeLessThan(at.get(s.id)!.x);
    const spots = new Set(placed.map((p) => `${p.x},${p.y}`));
    expect(spots.size).toBe(22);
    const perColumn = new Map<number, number>();
    placed.forEach((p) => perColumn.set(p.x, (perColumn.get(p.x) ?? 0) + 1));
    for (const n of perColumn.values()) expect(n).toBeLessThanOrEqual(MAX_ROWS);
  });

  test("one edge per dependency", () => {
    const e = edges(specs);
    expect(e).toHaveLength(specs.reduce((n, s) => n + s.dependsOn.length, 0));
    expect(e).toContainEqual({ id: "eks->nodes", source: "eks", target: "nodes" });
  });

  test("areas", () => {
    const area = (id: string) => areaOf(specs.find((s) => s.id === id)!);
    expect(area("subnet-public-a")).toBe("network");
    expect(area("vm-ci")).toBe("vms");
    expect(area("sg-ci")).toBe("vms");
    expect(area("sg-db")).toBe("databases");
    expect(area("db-live")).toBe("databases");
    expect(area("sg-cluster")).toBe("cluster");
    expect(area("nodes")).toBe("cluster");
    expect(area("role-nodes")).toBe("iam");
    expect(area("lt-nodes")).toBe("cluster");
  });
});

describe("progress from events", () => {
  test("one log line per phase change, X of Y from the latest event", () => {
    let p = applyEvents(initialProgress, [progressEv({ phase: "creating" }), progressEv({ phase: "creating", elapsedMs: 100 })], "slipway");
    expect(p.log).toHaveLength(1);
    p = applyEvents(p, [progressEv({ phase: "ready", cloudState: "available", physicalId: "vpc-1", done: 1 })], "slipway");
    expect(p.log).toHaveLength(2);
    expect(p.log[1]).toMatch(/apply vpc: ready \(available\) vpc-1$/);
    expect(p.done).toBe(1);
    expect(p.total).toBe(21);
    expect(p.byId.vpc.phase).toBe("ready");
    p = applyEvents(p, [env({ type: "provisionFinished", op: "apply", project: "slipway", ok: true, summary: "1 created", error: null })], "slipway");
    expect(p.finished).toEqual({ op: "apply", ok: true, summary: "1 created", error: null });
    expect(p.log.at(-1)).toMatch(/apply finished: 1 created/);
  });

  test("events of other projects, other kinds and replays are ignored", () => {
    const e = progressEv({ project: "other" });
    let p = applyEvents(initialProgress, [e, env({ type: "settingsChanged" })], "slipway");
    expect(p).toEqual({ ...initialProgress });
    const mine = progressEv();
    p = applyEvents(initialProgress, [mine], "slipway");
    expect(applyEvents(p, [mine], "slipway")).toBe(p);
  });

  test("the log keeps the last 500 lines", () => {
    let p = initialProgress;
    for (let i = 0; i < 300; i++) {
      p = applyEvents(p, [progressEv({ id: `r${i}`, phase: "creating" }), progressEv({ id: `r${i}`, phase: "ready" })], null);
    }
    expect(p.log).toHaveLength(MAX_LOG_LINES);
    expect(p.log.at(-1)).toMatch(/r299: ready/);
  });
});

describe("blueprint form", () => {
  test("round trip, lists split on commas, numbers parsed", () => {
    const bp = defaultBlueprint();
    const f = toForm(bp);
    expect(f.azs).toBe("us-east-1a, us-east-1b");
    expect(fromForm(bp, f)).toEqual(bp);
    expect(fromForm(bp, { ...f, nodeCount: "3", azs: "us-east-1a,us-east-1c" })).toMatchObject({ nodeCount: 3, azs: ["us-east-1a", "us-east-1c"] });
  });

  test("the opt-in VMs are off by default, checkboxes on the form, booleans back", () => {
    const bp = defaultBlueprint();
    expect(bp.ciVm).toBe(false);
    expect(bp.testVm).toBe(false);
    const f = toForm(bp);
    expect([f.ciVm, f.testVm]).toEqual(["false", "false"]);
    expect(fromForm(bp, { ...f, ciVm: "true" })).toEqual({ ...bp, ciVm: true });
    expect(fromForm(bp, { ...f, testVm: "true" })).toEqual({ ...bp, testVm: true });
    // The default blueprint has neither VM; with them, 5 more resources (the key pair shared).
    const ids = defaultResources().map((r) => r.id);
    expect(ids).not.toContain("vm-ci");
    expect(ids).not.toContain("keypair");
    expect(allResources().length - ids.length).toBe(5);
  });

  test("each opt-in part's purpose on the form is the one the plan states (Blueprint::opt_ins)", () => {
    const rust = defaultOptIns();
    expect(OPT_IN_FIELDS.map((f) => [f.field, f.label, f.help])).toEqual(rust.map((o) => [o.field, o.label, o.purpose]));
    expect(rust.every((o) => !o.enabled)).toBe(true);
  });
});
