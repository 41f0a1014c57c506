import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, test, vi } from "vitest";

import { api, isUserError, toUserError } from "./api";
import type { EventEnvelope } from "./bindings/EventEnvelope";

type Call = { cmd: string; args: unknown };

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
