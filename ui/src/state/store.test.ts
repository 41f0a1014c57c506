import { describe, expect, test } from "vitest";

import type { ConnectionStatus } from "../bindings/ConnectionStatus";
import type { EventEnvelope } from "../bindings/EventEnvelope";
import type { Run } from "../bindings/Run";
import { initialState, mergeStatus, reducer } from "./store";

const github = (over: Partial<ConnectionStatus>): ConnectionStatus => ({
  kind: "github",
  state: "connected",
  identity: { kind: "github", login: "octo", name: null, scopes: ["repo"], baseUrl: "https://api.github.com" },
  error: null,
  checkedAt: 1000,
  ...over,
});

describe("mergeStatus", () => {
  test("a failed check keeps the last confirmed identity", () => {
    const failed = github({ state: "failed", identity: null, error: { what: "w", why: "y", fix: "f" }, checkedAt: 2000 });
    const merged = mergeStatus(github({}), failed);
    expect(merged.state).toBe("failed");
    expect(merged.error?.what).toBe("w");
    expect(merged.identity).toEqual(github({}).identity);
  });

  test("an older status does not replace a newer one", () => {
    const newer = github({ checkedAt: 5000 });
    expect(mergeStatus(newer, github({ state: "failed", checkedAt: 4000 }))).toBe(newer);
  });

  test("disconnecting clears the identity", () => {
    const off = github({ state: "notConfigured", identity: null, checkedAt: null });
    expect(mergeStatus(github({}), off).identity).toBeNull();
  });
});

describe("reducer: event batches", () => {
  const batch: EventEnvelope[] = [
    { seq: 1, at: 10, event: { type: "connectionChecked", status: github({}) } },
    { seq: 2, at: 11, event: { type: "sandboxChanged", state: { status: "running", endpoint: "http://127.0.0.1:45500", pid: 9, instance: "i-1", error: null } } },
    { seq: 3, at: 12, event: { type: "progress", task: "sandbox", message: "ready" } },
    { seq: 4, at: 13, event: { type: "settingsChanged" } },
  ];

  test("apply every event of a batch", () => {
    const s = reducer(initialState, { type: "events", batch });
    expect(s.connections.github?.identity).toMatchObject({ login: "octo" });
    expect(s.sandbox?.status).toBe("running");
    expect(s.progress).toEqual({ task: "sandbox", message: "ready", at: 12 });
    expect(s.settingsVersion).toBe(1);
    expect(s.lastSeq).toBe(4);
  });

  test("a runUpdated event keeps the state whole (the Pipelines page folds runs itself)", () => {
    const run: Run = { id: "shop-1", project: "shop", number: 1, status: "running", trigger: { kind: "manual" }, gitRef: "HEAD", commit: null,
      commitMessage: null, commitTime: null, createdAt: 1, startedAt: 2, finishedAt: null, stages: [], artifacts: { tests: [], coverage: [], images: [], url: null },
      error: null, until: null, ownerPid: 1 };
    const s = reducer(initialState, { type: "events", batch: [{ seq: 1, at: 1, event: { type: "runUpdated", run: structuredClone(run) } }] });
    expect(s).toEqual({ ...initialState, lastSeq: 1 });
  });

  test("ignore events already applied", () => {
    const once = reducer(initialState, { type: "events", batch });
    const twice = reducer(once, { type: "events", batch });
    expect(twice.settingsVersion).toBe(1);
  });
});
