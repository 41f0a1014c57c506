// The Settings page in Chromium against the real commands (slipway-ipc-bridge on a fresh data
// folder): the data folder and the defaults, the Rust side's refusals shown as what / why / fix
// with nothing saved, a valid save that lasts, and a change made elsewhere reaching the page
// through the event channel. Screenshots: tests/artifacts/ui/.
import { join } from "node:path";

import { describe, expect, test } from "vitest";

import { ARTIFACTS, browserSuite } from "./harness";

type Settings = { defaultRegion: string; sandboxAutoStart: boolean; sandboxPort: number | null; [more: string]: unknown };

const t = browserSuite({ name: "settings" });
const byId = (id: string) => t.page.getByTestId(id);

describe("Settings page in Chromium (real commands)", () => {
  test("shows the data folder and the stored settings (the defaults on a fresh folder)", async () => {
    await t.open("#/settings");
    await byId("settings-form").waitFor();
    expect(await byId("settings-data-dir").textContent()).toContain(t.bridge.dataDir);
    expect(await byId("settings-default-region").inputValue()).toBe("us-east-1");
    expect(await byId("settings-sandbox-autostart").isChecked()).toBe(true);
    expect(await byId("settings-sandbox-port").inputValue()).toBe("");
  });

  test("the Rust side's refusals are shown as what / why / fix, and nothing is saved", async () => {
    await t.open("#/settings");
    await byId("settings-form").waitFor();
    await byId("settings-default-region").fill("moon-1");
    await byId("settings-save").click();
    await byId("settings-error").waitFor();
    expect(await byId("settings-error").getAttribute("role")).toBe("alert");
    expect(await byId("settings-error-what").textContent()).toBe("Settings not saved");
    expect(await byId("settings-error-why").textContent()).toBe("'moon-1' is not an AWS region name");
    expect(await byId("settings-error-fix").textContent()).toContain("us-east-1");

    await byId("settings-default-region").fill("eu-west-2");
    await byId("settings-sandbox-port").fill("80");
    await byId("settings-save").click();
    await byId("settings-error-why").filter({ hasText: "privileged" }).waitFor();
    expect(await byId("settings-error-fix").textContent()).toMatch(/1024/);
    await t.page.screenshot({ path: join(ARTIFACTS, "settings-error.png") });

    // Not a number at all: refused before anything is sent.
    await byId("settings-sandbox-port").fill("4x");
    await byId("settings-save").click();
    await byId("settings-error-why").filter({ hasText: "'4x' is not a port number" }).waitFor();

    expect(await t.invoke<Settings>("get_settings")).toMatchObject({ defaultRegion: "us-east-1", sandboxAutoStart: true, sandboxPort: null, runLogRetentionDays: 30, secretStore: "keychain" });
  });

  test("a valid save is stored, confirmed, and shown again after a reload", async () => {
    await t.open("#/settings");
    await byId("settings-form").waitFor();
    await byId("settings-sandbox-autostart").uncheck();
    await byId("settings-sandbox-port").fill("46000");
    await byId("settings-default-region").fill(" eu-west-1 ");
    await byId("settings-run-log-retention").fill("7");
    await byId("settings-sandbox-context").fill(" kind-dev ");
    expect(await byId("settings-notifications").inputValue()).toBe("background");
    await byId("settings-notifications").selectOption("always");
    // The secret store in use is reported, and works (the test environment's Secret Service).
    await byId("settings-secrets-status").filter({ hasText: "In use: keychain" }).waitFor();
    expect(await byId("settings-secrets-status").textContent()).toContain("working");
    await byId("settings-secret-store-file").check();
    await byId("settings-save").click();
    await byId("settings-saved").waitFor();
    expect(await byId("settings-error").count()).toBe(0);
    expect(await t.invoke<Settings>("get_settings")).toMatchObject({
      defaultRegion: "eu-west-1",
      sandboxAutoStart: false,
      sandboxPort: 46000,
      runLogRetentionDays: 7,
      secretStore: "file",
      sandboxContext: "kind-dev",
      sandboxKubeconfig: null,
      notifications: "always",
    });

    await t.page.reload();
    await byId("settings-form").waitFor();
    await expect.poll(() => byId("settings-sandbox-port").inputValue()).toBe("46000");
    expect(await byId("settings-default-region").inputValue()).toBe("eu-west-1");
    expect(await byId("settings-sandbox-autostart").isChecked()).toBe(false);
    expect(await byId("settings-run-log-retention").inputValue()).toBe("7");
    expect(await byId("settings-secret-store-file").isChecked()).toBe(true);
    expect(await byId("settings-sandbox-context").inputValue()).toBe("kind-dev");
    expect(await byId("settings-notifications").inputValue()).toBe("always");
  });

  test("settings saved elsewhere (another window, the CLI) reach the open page through the event channel", async () => {
    await t.open("#/settings");
    await byId("settings-form").waitFor();
    await expect.poll(() => byId("settings-sandbox-port").inputValue()).toBe("46000");
    await t.invoke("save_settings", { settings: { defaultRegion: "ap-south-1", sandboxAutoStart: true, sandboxPort: null } });
    await expect.poll(() => byId("settings-default-region").inputValue()).toBe("ap-south-1");
    expect(await byId("settings-sandbox-port").inputValue()).toBe("");
    expect(await byId("settings-sandbox-autostart").isChecked()).toBe(true);
  });
});
