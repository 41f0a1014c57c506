import { describe, expect, test } from "vitest";

import type { Environment } from "../../bindings/Environment";
import type { EventEnvelope } from "../../bindings/EventEnvelope";
import type { Event } from "../../bindings/Event";
import type { PodInfo } from "../../bindings/PodInfo";
import type { Revision } from "../../bindings/Revision";
import type { RolloutProgress } from "../../bindings/RolloutProgress";
import {
  POD_COLOURS,
  PodColours,
  appendLog,
  atBottom,
  canRollBackTo,
  checkReason,
  currentRevision,
  defaultRollbackTarget,
  emptyForm,
  emptyLog,
  environmentFromForm,
  foldProgress,
  formFromEnvironment,
  mergeRevision,
  mergeRevisions,
  podState,
  progressFromEvents,
  revisionsFromEvents,
  targetLabel,
} from "./model";

function rev(number: number, status: Revision["status"], image = "app:1", extra: Partial<Revision> = {}): Revision {
  return {
    project: "shop",
    environment: "staging",
    number,
    operation: "deploy",
    run: `shop-${number}`,
    commit: null,
    rollbackTo: null,
    reason: `run shop-${number}`,
    images: [{ workload: "web", container: "web", image }],
    context: "kind-dev",
    namespace: "shop",
    status,
    startedAt: 1_000 * number,
    finishedAt: status === "inProgress" ? null : 1_000 * number + 500,
    error: null,
    url: null,
    note: null,
    ...extra,
  };
}

function pod(name: string, extra: Partial<PodInfo> = {}): PodInfo {
  return { name, workload: "web", phase: "Running", ready: true, restarts: 0, reason: null, message: null, current: true, node: "n1", startedAt: 1, ...extra };
}

function snap(revision: number, phase: RolloutProgress["phase"], pods: PodInfo[] = [], message = ""): RolloutProgress {
  return {
    project: "shop",
    environment: "staging",
    revision,
    operation: "redeploy",
    phase,
    workloads: pods.length ? [{ name: "web", desired: 3, updated: 1, ready: 1, available: 1, done: false }] : [],
    pods,
    message,
  };
}

const envelope = (seq: number, event: Event): EventEnvelope => ({ seq, at: seq, event });

describe("revisions", () => {
  test("mergeRevision keeps newest first, adds new ones and lets an ended snapshot win over an in-progress one", () => {
    let list = mergeRevisions([], [rev(1, "succeeded"), rev(3, "succeeded")]);
    list = mergeRevision(list, rev(2, "failed"));
    expect(list.map((r) => r.number)).toEqual([3, 2, 1]);
    list = mergeRevision(list, rev(4, "inProgress"));
    expect(list.map((r) => r.number)).toEqual([4, 3, 2, 1]);
    list = mergeRevision(list, rev(4, "succeeded", "app:1", { url: "http://x/" }));
    expect(list[0]).toMatchObject({ status: "succeeded", url: "http://x/" });
    // A stale answer (fetched while it ran) does not bring the in-progress snapshot back.
    const stale = mergeRevision(list, rev(4, "inProgress"));
    expect(stale).toBe(list);
    expect(stale[0].status).toBe("succeeded");
  });

  test("events are picked by project and environment; deployProgress loses its type tag", () => {
    const p = snap(5, "rollingOut", [pod("web-1")], "pod web-1 (web): Running, ready");
    const batch = [
      envelope(1, { type: "revisionUpdated", revision: rev(5, "inProgress") }),
      envelope(2, { type: "revisionUpdated", revision: { ...rev(9, "inProgress"), environment: "prod" } }),
      envelope(3, { type: "deployProgress", ...p }),
      envelope(4, { type: "deployProgress", ...p, project: "other" }),
      envelope(5, { type: "runUpdated", run: {} as never }),
      envelope(6, { type: "revisionUpdated", revision: rev(5, "succeeded") }),
    ];
    expect(revisionsFromEvents(batch, "shop", "staging").map((r) => [r.number, r.status])).toEqual([
      [5, "inProgress"],
      [5, "succeeded"],
    ]);
    const got = progressFromEvents(batch, "shop", "staging");
    expect(got).toEqual([p]);
    expect(got[0]).not.toHaveProperty("type");
  });

  test("foldProgress keeps the pods of a revision when its applying or failed line carries none", () => {
    const pods = [pod("web-1", { ready: false, reason: "ImagePullBackOff", phase: "Pending" })];
    const rolling = snap(5, "rollingOut", pods, "web: 0 of 3 ready");
    const failed = foldProgress(rolling, snap(5, "failed", [], "The rollout of web failed: ..."));
    expect(failed.phase).toBe("failed");
    expect(failed.message).toBe("The rollout of web failed: ...");
    expect(failed.pods).toEqual(pods);
    expect(failed.workloads).toHaveLength(1);
    // The next revision (an automatic rollback) starts empty.
    const next = foldProgress(failed, snap(6, "applying", [], "Applying revision 6"));
    expect(next.revision).toBe(6);
    expect(next.pods).toEqual([]);
    expect(foldProgress(null, snap(6, "applying")).phase).toBe("applying");
  });

  test("the current revision is the newest that succeeded; only older good ones can be rolled back to", () => {
    const list = [rev(5, "inProgress"), rev(4, "failed"), rev(3, "succeeded", "app:3"), rev(2, "succeeded", "app:2"), rev(1, "succeeded", "app:3")];
    expect(currentRevision(list)).toBe(3);
    expect(currentRevision([rev(1, "failed")])).toBeNull();
    expect(list.filter((r) => canRollBackTo(r, 3)).map((r) => r.number)).toEqual([2, 1]);
    expect(canRollBackTo(rev(1, "succeeded"), null)).toBe(false);
    // Rollback without a target skips revision-level duplicates of the serving images.
    expect(defaultRollbackTarget(list, 3)?.number).toBe(2);
    expect(defaultRollbackTarget([rev(2, "succeeded", "app:3"), rev(1, "succeeded", "app:3")], 2)).toBeNull();
    expect(defaultRollbackTarget(list, null)).toBeNull();
  });

  test("a rollback reason is required; blanks do not count", () => {
    expect(checkReason("  ")).toMatchObject({ what: "A rollback needs a reason", why: "no reason was given" });
    expect(checkReason("")?.fix).toMatch(/kept in the history/);
    expect(checkReason("checkout returns 500")).toBeNull();
  });
});

describe("pods", () => {
  test("podState: ready, starting, failing, terminating", () => {
    expect(podState(pod("a"))).toBe("ready");
    expect(podState(pod("a", { ready: false, reason: "not ready" }))).toBe("starting");
    expect(podState(pod("a", { ready: false, phase: "Pending", reason: "ContainerCreating" }))).toBe("starting");
    expect(podState(pod("a", { ready: false, phase: "Pending", reason: "ImagePullBackOff" }))).toBe("failing");
    expect(podState(pod("a", { ready: false, reason: "CrashLoopBackOff" }))).toBe("failing");
    expect(podState(pod("a", { phase: "Terminating" }))).toBe("terminating");
  });
});

describe("the environment form", () => {
  const kube: Environment = {
    project: "shop",
    name: "staging",
    target: { kind: "kubernetes", context: "kind-dev", kubeconfig: null, namespace: "shop", database: { kind: "rds", blueprint: null, instance: "db-test" }, progressDeadlineSecs: 120 },
    runs: true,
  };

  test("round trip: an environment becomes a form and the same environment again", () => {
    const form = formFromEnvironment(kube);
    expect(form).toMatchObject({ name: "staging", kind: "kubernetes", context: "kind-dev", kubeconfig: "", deadline: "120", database: "rds", rdsInstance: "db-test", runs: true });
    expect(environmentFromForm(form, "shop")).toEqual({ environment: kube });
    const local: Environment = { project: "shop", name: "here", target: { kind: "local" }, runs: false };
    expect(environmentFromForm(formFromEnvironment(local), "shop")).toEqual({ environment: local });
  });

  test("empty fields are null (the defaults); names are trimmed", () => {
    const r = environmentFromForm({ ...emptyForm(), name: " dev ", namespace: "  " }, "shop");
    expect(r).toEqual({
      environment: {
        project: "shop",
        name: "dev",
        target: { kind: "kubernetes", context: null, kubeconfig: null, namespace: null, database: { kind: "inCluster" }, progressDeadlineSecs: null },
        runs: false,
      },
    });
  });

  test("a deadline that is not a whole number is refused before anything is sent; a range error is left to Rust", () => {
    const bad = environmentFromForm({ ...emptyForm(), name: "dev", deadline: "90s" }, "shop");
    expect(bad).toEqual({ error: expect.objectContaining({ what: "Environment settings are not valid", why: '"90s" is not a whole number of seconds' }) });
    const out = environmentFromForm({ ...emptyForm(), name: "dev", deadline: "5" }, "shop");
    expect("environment" in out && out.environment.target.kind === "kubernetes" && out.environment.target.progressDeadlineSecs).toBe(5);
  });

  test("targetLabel says where it deploys", () => {
    expect(targetLabel(kube)).toBe("Kubernetes · context kind-dev · namespace shop · database: RDS db-test");
    expect(targetLabel({ ...kube, target: { kind: "local" } })).toBe("the local Docker engine");
    const defaults = environmentFromForm({ ...emptyForm(), name: "x" }, "shop");
    if ("environment" in defaults) expect(targetLabel(defaults.environment)).toBe("Kubernetes · context (current) · namespace (from the manifests) · database in the cluster");
  });
});

describe("merged logs", () => {
  const line = (pod: string, text: string) => ({ pod, container: "web", text });

  test("appendLog keeps the newest lines up to the cap, counts the dropped ones, and ids keep increasing", () => {
    let buf = appendLog(emptyLog(), [line("a", "1"), line("b", "2"), line("a", "3")], 4);
    expect(buf.lines.map((l) => l.text)).toEqual(["1", "2", "3"]);
    expect(buf.lines.map((l) => l.id)).toEqual([0, 1, 2]);
    buf = appendLog(buf, [line("c", "4"), line("c", "5"), line("c", "6")], 4);
    expect(buf.lines.map((l) => l.text)).toEqual(["3", "4", "5", "6"]);
    expect(buf.dropped).toBe(2);
    expect(buf.lines.map((l) => l.id)).toEqual([2, 3, 4, 5]);
    expect(appendLog(buf, [], 4)).toBe(buf);
    // One chunk bigger than the cap.
    const big = appendLog(emptyLog(), Array.from({ length: 10 }, (_, i) => line("a", String(i))), 3);
    expect(big.lines.map((l) => l.text)).toEqual(["7", "8", "9"]);
    expect(big.dropped).toBe(7);
  });

  test("each pod keeps one colour; the first POD_COLOURS pods all differ, then colours repeat", () => {
    const c = new PodColours();
    const pods = Array.from({ length: POD_COLOURS + 2 }, (_, i) => `web-${i}`);
    const colours = pods.map((p) => c.of(p));
    expect(new Set(colours.slice(0, POD_COLOURS)).size).toBe(POD_COLOURS);
    expect(colours[POD_COLOURS]).toBe(colours[0]);
    expect(c.of("web-3")).toBe(colours[3]);
    expect(c.of("web-0")).toBe(colours[0]);
  });

  test("atBottom: the last pixel is visible (a few pixels of slack)", () => {
    expect(atBottom(700, 300, 1000)).toBe(true);
    expect(atBottom(697, 300, 1000)).toBe(true);
    expect(atBottom(600, 300, 1000)).toBe(false);
    expect(atBottom(0, 300, 200)).toBe(true);
  });
});
