import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, test, vi } from "vitest";

import { api, isUserError, toUserError } from "./api";
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

describe("api: commands and arguments", () => {
  test.each([
    ["doctor", () => api.doctor(), undefined],
    ["aws_profiles", () => api.awsProfiles(), undefined],
    ["connect_aws", () => api.connectAws({ source: "sandbox", region: null }), { input: { source: "sandbox", region: null } }],
    ["aws_regions", () => api.awsRegions(), undefined],
    ["set_aws_region", () => api.setAwsRegion("eu-west-2"), { region: "eu-west-2" }],
    ["connect_github", () => api.connectGithub({ token: null, baseUrl: null }), { input: { token: null, baseUrl: null } }],
    ["github_cli_token_available", () => api.githubCliTokenAvailable(null), { baseUrl: null }],
    [
      "connect_registry",
      () => api.connectRegistry({ registry: "docker.io", username: "u", password: null }),
      { input: { registry: "docker.io", username: "u", password: null } },
    ],
    ["docker_config_entries", () => api.dockerConfigEntries(), undefined],
    ["check_connection", () => api.checkConnection("docker"), { kind: "docker" }],
    ["disconnect", () => api.disconnect("github"), { kind: "github" }],
    ["sandbox_start", () => api.sandboxStart(), undefined],
    ["sandbox_stop", () => api.sandboxStop(), undefined],
    ["sandbox_status", () => api.sandboxStatus(), undefined],
    ["get_settings", () => api.getSettings(), undefined],
    [
      "save_settings",
      () => api.saveSettings({ defaultRegion: "us-east-1", sandboxAutoStart: false, sandboxPort: 46000 }),
      { settings: { defaultRegion: "us-east-1", sandboxAutoStart: false, sandboxPort: 46000 } },
    ],
    ["first_paint", () => api.firstPaint(), undefined],
    [
      "detect_project",
      () => api.detectProject({ source: { kind: "path", path: "/src/app" }, id: null }),
      { input: { source: { kind: "path", path: "/src/app" }, id: null } },
    ],
    ["save_project", () => api.saveProject(PROJECT), { project: PROJECT }],
    ["projects", () => api.projects(), undefined],
    ["start_run", () => api.startRun("shop", "main", "build"), { project: "shop", gitRef: "main", until: "build" }],
    ["start_run", () => api.startRun("shop", null, null), { project: "shop", gitRef: null, until: null }],
    ["rerun", () => api.rerun("shop-3"), { run: "shop-3" }],
    ["cancel_run", () => api.cancelRun("shop-3"), { run: "shop-3" }],
    ["runs", () => api.runs("shop", 50), { project: "shop", limit: 50 }],
    ["get_run", () => api.getRun("shop-3"), { run: "shop-3" }],
    ["log_steps", () => api.logSteps("shop-3", "test"), { run: "shop-3", stage: "test" }],
  ] as const)("%s", async (cmd, run, args) => {
    const calls = record(() => "answer");
    await expect(run()).resolves.toBe("answer");
    expect(calls).toHaveLength(1);
    expect(calls[0].cmd).toBe(cmd);
    if (args === undefined) expect(calls[0].args ?? {}).toEqual({});
    else expect(calls[0].args).toEqual(args);
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

describe("api: first paint", () => {
  test("reportFirstPaint calls first_paint once, after a frame", async () => {
    vi.resetModules();
    const mod = await import("./api");
    const calls = record();
    mod.reportFirstPaint();
    mod.reportFirstPaint();
    expect(calls).toHaveLength(0); // not before the frame
    await vi.waitFor(() => expect(calls.map((c) => c.cmd)).toEqual(["first_paint"]));
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toHaveLength(1);
  });
});
