import { describe, expect, test } from "vitest";

import type { EventEnvelope } from "../../bindings/EventEnvelope";
import type { Run } from "../../bindings/Run";
import type { StageName } from "../../bindings/StageName";
import type { Status } from "../../bindings/Status";
import {
  STAGES,
  defaultStage,
  defaultStep,
  formatDuration,
  graphEdges,
  graphPositions,
  mergeRun,
  mergeRuns,
  percent,
  runDuration,
  runScore,
  runsFromEvents,
  shortSha,
  stageDuration,
  stageViews,
  stepStatus,
  triggerLabel,
} from "./model";

function run(over: Partial<Run> = {}, stages: Partial<Record<StageName, Partial<Run["stages"][number]>>> = {}): Run {
  return {
    id: "shop-3",
    project: "shop",
    number: 3,
    status: "queued",
    trigger: { kind: "manual" },
    gitRef: "main",
    commit: null,
    commitMessage: null,
    commitTime: null,
    createdAt: 1_000,
    startedAt: null,
    finishedAt: null,
    stages: STAGES.map((name) => ({ name, status: "queued" as Status, startedAt: null, finishedAt: null, steps: [], error: null, ...stages[name] })),
    artifacts: { tests: [], coverage: [], images: [], url: null },
    error: null,
    until: null,
    ownerPid: 1,
    ...over,
  };
}

describe("durations", () => {
  test("formatDuration", () => {
    expect(formatDuration(0)).toBe("0.0s");
    expect(formatDuration(740)).toBe("0.7s");
    expect(formatDuration(9_990)).toBe("9.9s");
    expect(formatDuration(42_400)).toBe("42s");
    expect(formatDuration(187_000)).toBe("3m 07s");
    expect(formatDuration(3_720_000)).toBe("1h 02m");
    expect(formatDuration(-5)).toBe("0.0s");
  });

  test("a running stage ticks with now; a finished one does not; a stage that never started has none", () => {
    const r = run({ status: "running", startedAt: 1_000 }, {
      checkout: { status: "succeeded", startedAt: 1_000, finishedAt: 2_200 },
      build: { status: "running", startedAt: 2_200 },
    });
    expect(stageDuration(r.stages[0], 50_000)).toBe(1_200);
    expect(stageDuration(r.stages[1], 5_000)).toBe(2_800);
    expect(stageDuration(r.stages[1], 9_000)).toBe(6_800);
    expect(stageDuration(r.stages[2], 9_000)).toBeNull();
    expect(runDuration(r, 9_000)).toBe(8_000);
    expect(runDuration(run(), 9_000)).toBeNull();
  });

  test("a stage ended without an end time (interrupted by a crash) has no duration instead of ticking", () => {
    const r = run({ status: "failed", startedAt: 1_000, finishedAt: 3_000 }, { build: { status: "failed", startedAt: 2_000 } });
    expect(stageDuration(r.stages[1], 99_000)).toBeNull();
    expect(runDuration(r, 99_000)).toBe(2_000);
  });
});

describe("labels", () => {
  test("triggers, shas and percentages", () => {
    expect(triggerLabel({ kind: "manual" })).toBe("manual");
    expect(triggerLabel({ kind: "rerun", of: "shop-2" })).toBe("re-run of shop-2");
    expect(triggerLabel({ kind: "commit", sha: "8d58ed9b4e9d9e1ab196bcabb0ecc13073d19b93" })).toBe("commit 8d58ed9b4e9d");
    expect(shortSha(null)).toBe("");
    expect(percent(0.875)).toBe("87.5%");
    expect(percent(1)).toBe("100.0%");
  });
});

describe("runs from events", () => {
  test("a later snapshot replaces an earlier one, never the other way round", () => {
    const queued = run();
    const running = run({ status: "running", startedAt: 1_100 }, { checkout: { status: "running", startedAt: 1_100 } });
    const building = run(
      { status: "running", startedAt: 1_100, commit: "abc" },
      { checkout: { status: "succeeded", startedAt: 1_100, finishedAt: 1_500 }, build: { status: "running", startedAt: 1_500, steps: [{ name: "backend", status: "running", startedAt: 1_500, finishedAt: null }] } },
    );
    expect(runScore(queued)).toBeLessThan(runScore(running));
    expect(runScore(running)).toBeLessThan(runScore(building));
    let list = mergeRun([], running);
    list = mergeRun(list, building);
    expect(list[0]).toBe(building);
    // A stale answer of runs() arriving after the events changes nothing.
    expect(mergeRun(list, queued)).toBe(list);
    expect(mergeRuns(list, [running])[0]).toBe(building);
  });

  test("artifacts and step endings count as progress", () => {
    const a = run({ status: "running" }, { test: { status: "running", steps: [{ name: "backend", status: "running", startedAt: 1, finishedAt: null }] } });
    const b = structuredClone(a);
    b.artifacts.tests.push({ service: "backend", total: 1, passed: 1, failed: 0, errors: 0, skipped: 0, seconds: 0.1, cases: [] });
    const c = structuredClone(b);
    c.stages[2].steps[0].status = "succeeded";
    expect(runScore(a)).toBeLessThan(runScore(b));
    expect(runScore(b)).toBeLessThan(runScore(c));
  });

  test("newest first; only the shown project's runs", () => {
    const r1 = run({ id: "shop-1", number: 1, createdAt: 100 });
    const r2 = run({ id: "shop-2", number: 2, createdAt: 200 });
    const other = run({ id: "blog-7", project: "blog", number: 7, createdAt: 300 });
    const batch: EventEnvelope[] = [
      { seq: 1, at: 1, event: { type: "runUpdated", run: r1 } },
      { seq: 2, at: 2, event: { type: "settingsChanged" } },
      { seq: 3, at: 3, event: { type: "runUpdated", run: other } },
      { seq: 4, at: 4, event: { type: "runUpdated", run: r2 } },
    ];
    const updates = runsFromEvents(batch, "shop");
    expect(updates.map((r) => r.id)).toEqual(["shop-1", "shop-2"]);
    expect(updates.reduce(mergeRun, [] as Run[]).map((r) => r.id)).toEqual(["shop-2", "shop-1"]);
    expect(runsFromEvents(batch, null)).toHaveLength(3);
  });
});

describe("the stage graph", () => {
  test("one node per stage, left to right, with status, duration, error and the stages after 'stop after'", () => {
    const err = { what: "Building backend failed", why: "pip exited with 1", fix: "Read the build log" };
    const r = run({ status: "failed", startedAt: 0, finishedAt: 5_000, until: "test" }, {
      checkout: { status: "succeeded", startedAt: 0, finishedAt: 1_000 },
      build: { status: "failed", startedAt: 1_000, finishedAt: 4_500, error: err, steps: [{ name: "backend", status: "failed", startedAt: 1_000, finishedAt: 4_500 }] },
      test: { status: "skipped" },
      push: { status: "skipped" },
      deploy: { status: "skipped" },
    });
    const views = stageViews(r, 10_000);
    expect(views.map((v) => v.label)).toEqual(["Checkout", "Build", "Test", "Push", "Deploy"]);
    expect(views.map((v) => v.status)).toEqual(["succeeded", "failed", "skipped", "skipped", "skipped"]);
    expect(views.map((v) => v.duration)).toEqual(["1.0s", "3.5s", null, null, null]);
    expect(views[1].error).toEqual(err);
    expect(views[1].steps).toBe(1);
    expect(views.map((v) => v.afterUntil)).toEqual([false, false, false, true, true]);

    const xs = graphPositions().map((p) => p.x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(new Set(graphPositions().map((p) => p.y)).size).toBe(1);
  });

  test("edges: animated into the running stage, marked reached after a succeeded one", () => {
    const r = run({ status: "running" }, { checkout: { status: "succeeded" }, build: { status: "running" } });
    const edges = graphEdges(r);
    expect(edges.map((e) => e.id)).toEqual(["checkout->build", "build->test", "test->push", "push->deploy"]);
    expect(edges.map((e) => e.animated)).toEqual([true, false, false, false]);
    expect(edges[0].className).toContain("pl-edge-reached");
    expect(edges[1].className).toContain("pl-edge-idle");
  });

  test("the stage shown by default: running, else failed, else the last that ran", () => {
    expect(defaultStage(run())).toBe("checkout");
    expect(defaultStage(run({}, { checkout: { status: "succeeded", startedAt: 1 }, build: { status: "running", startedAt: 2 } }))).toBe("build");
    expect(defaultStage(run({}, { checkout: { status: "succeeded", startedAt: 1 }, build: { status: "succeeded", startedAt: 2 }, test: { status: "failed", startedAt: 3 } }))).toBe("test");
    expect(
      defaultStage(run({}, { checkout: { status: "succeeded", startedAt: 1 }, build: { status: "succeeded", startedAt: 2 }, test: { status: "skipped" } })),
    ).toBe("build");
  });

  test("the step shown by default: running, else failed, else Slipway's own log", () => {
    const stage = run({}, {
      test: {
        status: "running",
        steps: [
          { name: "db", status: "succeeded", startedAt: 1, finishedAt: 2 },
          { name: "backend", status: "failed", startedAt: 2, finishedAt: 3 },
          { name: "frontend", status: "running", startedAt: 3, finishedAt: null },
        ],
      },
    }).stages[2];
    expect(defaultStep(["slipway", "backend", "db", "frontend"], stage)).toBe("frontend");
    expect(defaultStep(["slipway", "backend", "db"], stage)).toBe("backend");
    expect(defaultStep(["slipway", "db"], stage)).toBe("slipway");
    expect(defaultStep(["db"], stage)).toBe("db");
    expect(defaultStep([], stage)).toBeNull();
    expect(stepStatus("slipway", stage)).toBe("running");
    expect(stepStatus("backend", stage)).toBe("failed");
    expect(stepStatus("nope", stage)).toBeNull();
  });
});
