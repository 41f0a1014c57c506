import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";

import { renderApp } from "../../testing/render";
import { parseSettingsForm } from "./SettingsPage";

const id = (testId: string) => screen.getByTestId(testId);

describe("Settings page", () => {
  test("shows the data folder and the current settings", async () => {
    await renderApp({ hash: "#/settings" });
    await screen.findByTestId("settings-form");
    expect(id("settings-data-dir")).toHaveTextContent("/root/.local/share/slipway");
    expect(id("settings-default-region")).toHaveValue("us-east-1");
    expect(id("settings-sandbox-autostart")).toBeChecked();
    expect(id("settings-sandbox-port")).toHaveValue("");
  });

  test("a validation error from save_settings is shown as what/why/fix", async () => {
    const user = userEvent.setup();
    await renderApp({ hash: "#/settings" });
    await screen.findByTestId("settings-form");
    await user.clear(id("settings-default-region"));
    await user.type(id("settings-default-region"), "moon-1");
    await user.click(id("settings-save"));
    await screen.findByTestId("settings-error");
    expect(id("settings-error-what")).toHaveTextContent("Settings not saved");
    expect(id("settings-error-why")).toHaveTextContent("'moon-1' is not an AWS region name");
    expect(id("settings-error-fix")).toHaveTextContent("us-east-1");
  });

  test("a valid save is sent as Settings and confirmed", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp({ hash: "#/settings" });
    await screen.findByTestId("settings-form");
    await user.click(id("settings-sandbox-autostart"));
    await user.type(id("settings-sandbox-port"), "46000");
    await user.click(id("settings-save"));
    await screen.findByTestId("settings-saved");
    expect(backend.calls.find((c) => c.cmd === "save_settings")?.args).toEqual({
      settings: { defaultRegion: "us-east-1", sandboxAutoStart: false, sandboxPort: 46000, runLogRetentionDays: 30 },
    });
    await waitFor(() => expect(id("settings-sandbox-port")).toHaveValue("46000"));
  });

  test("run logs are kept the days set, 0 for ever, and a count over the limit is refused", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp({ hash: "#/settings" });
    await screen.findByTestId("settings-form");
    expect(id("settings-run-log-retention")).toHaveValue("30");
    await user.clear(id("settings-run-log-retention"));
    await user.type(id("settings-run-log-retention"), "7");
    await user.click(id("settings-save"));
    await screen.findByTestId("settings-saved");
    expect(backend.calls.filter((c) => c.cmd === "save_settings").at(-1)?.args).toMatchObject({ settings: { runLogRetentionDays: 7 } });
    await user.clear(id("settings-run-log-retention"));
    await user.type(id("settings-run-log-retention"), "9999");
    await user.click(id("settings-save"));
    expect(await screen.findByTestId("settings-error-why")).toHaveTextContent("more than 3650");
  });

  test("a port that is not a number is refused before sending", () => {
    expect(parseSettingsForm({ defaultRegion: "us-east-1", sandboxAutoStart: true, sandboxPort: "4x", runLogRetentionDays: "30" })).toMatchObject({
      error: { what: "Settings not saved" },
    });
    expect(parseSettingsForm({ defaultRegion: "us-east-1", sandboxAutoStart: true, sandboxPort: "70000", runLogRetentionDays: "30" })).toHaveProperty("error");
    expect(parseSettingsForm({ defaultRegion: "us-east-1", sandboxAutoStart: true, sandboxPort: "", runLogRetentionDays: "a week" })).toHaveProperty("error");
    expect(parseSettingsForm({ defaultRegion: " eu-west-1 ", sandboxAutoStart: true, sandboxPort: " ", runLogRetentionDays: " 0 " })).toEqual({
      settings: { defaultRegion: "eu-west-1", sandboxAutoStart: true, sandboxPort: null, runLogRetentionDays: 0 },
    });
  });
});
