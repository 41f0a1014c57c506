import { describe, expect, test } from "vitest";

import { parseSettingsForm } from "./SettingsPage";

// The page against the real commands: tests/browser/settings.test.ts.
const REST = { runLogRetentionDays: "30", secretStore: "keychain" as const, sandboxContext: " ", sandboxKubeconfig: "", notifications: "background" as const };
const SENT = { runLogRetentionDays: 30, secretStore: "keychain", sandboxContext: null, sandboxKubeconfig: null, notifications: "background" };
describe("Settings form", () => {
  test("a port that is not a number is refused before sending; values are trimmed", () => {
    expect(parseSettingsForm({ defaultRegion: "us-east-1", sandboxAutoStart: true, sandboxPort: "4x", ...REST })).toMatchObject({
      error: { what: "Settings not saved", why: "'4x' is not a port number" },
    });
    expect(parseSettingsForm({ defaultRegion: "us-east-1", sandboxAutoStart: true, sandboxPort: "70000", ...REST })).toHaveProperty("error");
    expect(parseSettingsForm({ defaultRegion: " eu-west-1 ", sandboxAutoStart: true, sandboxPort: " ", ...REST })).toEqual({
      settings: { defaultRegion: "eu-west-1", sandboxAutoStart: true, sandboxPort: null, ...SENT },
    });
    expect(parseSettingsForm({ defaultRegion: "us-east-1", sandboxAutoStart: false, sandboxPort: "46000", ...REST })).toEqual({
      settings: { defaultRegion: "us-east-1", sandboxAutoStart: false, sandboxPort: 46000, ...SENT },
    });
  });

  test("retention days must be a whole number; empty cluster fields are sent as none", () => {
    expect(parseSettingsForm({ defaultRegion: "us-east-1", sandboxAutoStart: true, sandboxPort: "", ...REST, runLogRetentionDays: "1.5" })).toMatchObject({
      error: { what: "Settings not saved", why: "'1.5' is not a number of days" },
    });
    expect(
      parseSettingsForm({ defaultRegion: "us-east-1", sandboxAutoStart: true, sandboxPort: "", ...REST, secretStore: "file", sandboxContext: " kind-dev " }),
    ).toEqual({ settings: { defaultRegion: "us-east-1", sandboxAutoStart: true, sandboxPort: null, ...SENT, secretStore: "file", sandboxContext: "kind-dev" } });
  });
});
