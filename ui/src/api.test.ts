import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, test, vi } from "vitest";

import { api, commands, isUserError, toUserError } from "./api";
import type { ConsoleChunk } from "./bindings/ConsoleChunk";
import type { EventEnvelope } from "./bindings/EventEnvelope";
import type { LogChunk } from "./bindings/LogChunk";
import type { Project } from "./bindings/Project";

type Call = { cmd: string; args: unknown };

const PROJECT: Project = {
  id: "shop",
  source: { kind: "git", url: "https://github.com/acme/shop.git" },
  subdir: "",
  gitRef: "HEAD",
  services: [],
  database: null,
  manifests: [],
  envVars: [],
  deploy: { replicas: 3, entry: null, proxyPort: 0, entryReason: null },
  concurrency: 1,
  detectedFrom: [],
  facts: [],
  settings: [],
  committedSecrets: [],
  composeFile: null,
};

function record(answer: (cmd: string, args: unknown) => unknown = () => null): Call[] {
  const calls: Call[] = [];
  mockIPC((cmd, args) => {
    calls.push({ cmd, args });
    return answer(cmd, args);
  });
  return calls;
}

describe("api: generated commands go through call", () => {
  // The command table itself is generated from the Rust commands (crates/bindgen, whose tests
  // check names, argument names and types); here only the wiring of the generated functions.
  test("a command invokes its Rust name with Tauri's camelCase argument names, in Rust's order", async () => {
    const calls = record(() => "answer");
    await expect(api.startRun("shop", null, "build")).resolves.toBe("answer");
    await expect(api.saveProject(PROJECT)).resolves.toBe("answer");
    await expect(api.doctor()).resolves.toBe("answer");
    expect(calls.map((c) => c.cmd)).toEqual(["start_run", "save_project", "doctor"]);
    expect(calls[0].args).toEqual({ project: "shop", gitRef: null, until: "build" });
    expect(calls[1].args).toEqual({ project: PROJECT });
    expect(calls[2].args ?? {}).toEqual({});
  });

  test("api and commands are the same generated functions, except the channel helpers", () => {
    expect(api.connectAws).toBe(commands.connectAws);
    expect(api.followLog).not.toBe(commands.followLog);
    expect(api.subscribeEvents).not.toBe(commands.subscribeEvents);
  });
});

describe("api: errors", () => {
  test("a UserError rejection passes through unchanged", async () => {
    const err = { what: "AWS sign-in check failed", why: "the token is invalid", fix: "Check the keys" };
    mockIPC(() => {
      throw err;
    });
    await expect(api.connectAws({ source: "sandbox", region: null })).rejects.toEqual(err);
  });

  test("any other rejection becomes a UserError naming the command", async () => {
    mockIPC(() => {
      throw "command connect_github not found";
    });
    const e = await api.connectGithub({ token: "x", baseUrl: null }).catch((x: unknown) => x);
    expect(isUserError(e)).toBe(true);
    expect(e).toMatchObject({ what: "Connecting GitHub failed", why: "command connect_github not found" });
    expect((e as { fix: string }).fix).not.toBe("");
  });

  test("no IPC at all (opened in a plain browser) still yields what/why/fix", async () => {
    delete (window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__;
    const e = await api.doctor().catch((x: unknown) => x);
    expect(isUserError(e)).toBe(true);
    expect((e as { fix: string }).fix).toMatch(/desktop app/);
  });

  test("toUserError and isUserError", () => {
    expect(isUserError({ what: "a", why: "b", fix: "c" })).toBe(true);
    expect(isUserError({ what: "a", why: "b" })).toBe(false);
    expect(isUserError("Error")).toBe(false);
    expect(toUserError(new Error("boom"), "sandbox_start")).toMatchObject({ what: "Starting the sandbox failed", why: "boom" });
    expect(toUserError({ code: 7 }).why).toBe('{"code":7}');
  });
});

describe("api: event channel", () => {
  test("subscribeEvents passes a channel and delivers batches in order", async () => {
    let channelId = -1;
    mockIPC((cmd, args) => {
      if (cmd === "subscribe_events") channelId = (args as { onEvents: { id: number } }).onEvents.id;
      return null;
    });
    const batches: EventEnvelope[][] = [];
    const stop = await api.subscribeEvents((b) => batches.push(b));
    const env = (seq: number): EventEnvelope => ({ seq, at: 1, event: { type: "settingsChanged" } });
    const run = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, d: unknown) => void } })
      .__TAURI_INTERNALS__.runCallback;
    // Tauri's channel protocol: messages carry an index; out-of-order ones wait for their turn.
    run(channelId, { index: 1, message: [env(3)] });
    run(channelId, { index: 0, message: [env(1), env(2)] });
    expect(batches.map((b) => b.map((e) => e.seq))).toEqual([[1, 2], [3]]);
    stop();
    run(channelId, { index: 2, message: [env(4)] });
    expect(batches).toHaveLength(2);
  });
});

describe("api: log channel", () => {
  test("followLog sends the step and a channel, delivers chunks in order, resolves with the final offset", async () => {
    let args: Record<string, unknown> = {};
    let finish: (n: number) => void = () => {};
    mockIPC((cmd, a) => {
      if (cmd !== "follow_log") return null;
      args = a as Record<string, unknown>;
      return new Promise<number>((r) => (finish = r));
    });
    const got: LogChunk[] = [];
    const f = api.followLog("shop-3", "build", "backend", 0, (c) => got.push(c));
    await vi.waitFor(() => expect(args.onChunk).toBeDefined());
    expect({ ...args, onChunk: undefined }).toEqual({ run: "shop-3", stage: "build", step: "backend", offset: 0, onChunk: undefined });
    const id = (args.onChunk as { id: number }).id;
    const run = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, d: unknown) => void } })
      .__TAURI_INTERNALS__.runCallback;
    const chunk = (offset: number, text: string, done = false): LogChunk => ({ run: "shop-3", stage: "build", step: "backend", offset, text, done });
    run(id, { index: 1, message: chunk(6, "world", true) });
    run(id, { index: 0, message: chunk(0, "hello ") });
    expect(got.map((c) => c.text)).toEqual(["hello ", "world"]);
    finish(11);
    await expect(f.done).resolves.toBe(11);
  });

  test("done waits for the last chunk when the answer comes first (a large message comes later)", async () => {
    let id = -1;
    mockIPC((cmd, a) => {
      if (cmd !== "follow_log") return null;
      id = (a as { onChunk: { id: number } }).onChunk.id;
      return 300;
    });
    const got: string[] = [];
    const f = api.followLog("shop-3", "build", "web", 0, (c) => got.push(c.text));
    let settled = false;
    void f.done.then(() => (settled = true));
    await vi.waitFor(() => expect(id).toBeGreaterThanOrEqual(0));
    const run = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, d: unknown) => void } })
      .__TAURI_INTERNALS__.runCallback;
    run(id, { index: 0, message: { run: "shop-3", stage: "build", step: "web", offset: 0, text: "a".repeat(200), done: false } });
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false); // answered, but the last chunk is still on its way
    run(id, { index: 1, message: { run: "shop-3", stage: "build", step: "web", offset: 200, text: "b".repeat(100), done: true } });
    await expect(f.done).resolves.toBe(300);
    expect(got.map((t) => t.length)).toEqual([200, 100]);
  });

  test("after stop() no chunk is delivered; a failure is a UserError", async () => {
    let id = -1;
    mockIPC((cmd, a) => {
      if (cmd === "follow_log") {
        id = (a as { onChunk: { id: number } }).onChunk.id;
        throw "no such run";
      }
      return null;
    });
    const got: LogChunk[] = [];
    const f = api.followLog("x-1", "test", "db", 0, (c) => got.push(c));
    await expect(f.done).rejects.toMatchObject({ what: "Reading the log failed", why: "no such run" });
    f.stop();
    const run = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, d: unknown) => void } })
      .__TAURI_INTERNALS__.runCallback;
    run(id, { index: 0, message: { run: "x-1", stage: "test", step: "db", offset: 0, text: "late", done: false } });
    expect(got).toEqual([]);
  });
});

describe("api: endless streams", () => {
  test("stop() of a followed Jenkins console ends it on the Rust side with stop_stream and its channel", async () => {
    let id = -1;
    const calls = record((cmd, a) => {
      if (cmd === "follow_jenkins_log") {
        id = (a as { onChunk: { id: number } }).onChunk.id;
        return new Promise(() => {});
      }
      return true;
    });
    const got: ConsoleChunk[] = [];
    const f = api.followJenkinsLog("app", 7, 0, (c) => got.push(c));
    await vi.waitFor(() => expect(id).toBeGreaterThanOrEqual(0));
    f.stop();
    f.stop(); // a second stop sends nothing more
    await vi.waitFor(() => expect(calls.map((c) => c.cmd)).toEqual(["follow_jenkins_log", "stop_stream"]));
    expect(calls[1].args).toEqual({ channel: id });
    const run = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, d: unknown) => void } })
      .__TAURI_INTERNALS__.runCallback;
    run(id, { index: 0, message: { text: "late", offset: 4, more: true } });
    expect(got).toEqual([]);
  });

  test("a deploy log read without follow ends by itself: stop() sends no stop_stream", async () => {
    const calls = record((cmd, a) => {
      if (cmd !== "follow_deploy_logs") return true;
      const id = (a as { onChunk: { id: number } }).onChunk.id;
      const run = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, d: unknown) => void } })
        .__TAURI_INTERNALS__.runCallback;
      setTimeout(() => run(id, { index: 0, message: { lines: [], done: true } }), 0);
      return null;
    });
    const f = api.followDeployLogs("shop", "live", false, 100, () => {});
    await f.done;
    f.stop();
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.map((c) => c.cmd)).toEqual(["follow_deploy_logs"]);
    expect({ ...(calls[0].args as Record<string, unknown>), onChunk: undefined }).toEqual({
      project: "shop",
      environment: "live",
      follow: false,
      tail: 100,
      onChunk: undefined,
    });
  });

  test("a failing stop_stream is logged, not thrown", async () => {
    record((cmd) => {
      if (cmd === "follow_deploy_logs") return new Promise(() => {});
      throw "no such stream";
    });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const f = api.followDeployLogs("shop", "live", true, null, () => {});
    f.stop();
    await vi.waitFor(() => expect(warn).toHaveBeenCalled());
    expect(warn.mock.calls[0][1]).toMatchObject({ what: "Stopping the log failed", why: "no such stream" });
    warn.mockRestore();
  });
});

describe("api: launch interactive", () => {
  test("reportLaunchInteractive calls launch_interactive once, after a frame", async () => {
    vi.resetModules();
    const mod = await import("./api");
    const calls = record();
    mod.reportLaunchInteractive();
    mod.reportLaunchInteractive();
    expect(calls).toHaveLength(0);
    await vi.waitFor(() => expect(calls.map((c) => c.cmd)).toEqual(["launch_interactive"]));
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toHaveLength(1);
  });
});
