import { describe, expect, test } from "vitest";

import { parseSettingsForm } from "./SettingsPage";

// The page against the real commands: tests/browser/settings.test.ts.
describe("Settings form", () => {
  test("a port that is not a number is refused before sending; values are trimmed", () => {
    expect(parseSettingsForm({ defaultRegion: "us-east-1", sandboxAutoStart: true, sandboxPort: "4x" })).toMatchObject({
      error: { what: "Settings not saved", why: "'4x' is not a port number" },
    });
    expect(parseSettingsForm({ defaultRegion: "us-east-1", sandboxAutoStart: true, sandboxPort: "70000" })).toHaveProperty("error");
    expect(parseSettingsForm({ defaultRegion: " eu-west-1 ", sandboxAutoStart: true, sandboxPort: " " })).toEqual({
      settings: { defaultRegion: "eu-west-1", sandboxAutoStart: true, sandboxPort: null },
    });
    expect(parseSettingsForm({ defaultRegion: "us-east-1", sandboxAutoStart: false, sandboxPort: "46000" })).toEqual({
      settings: { defaultRegion: "us-east-1", sandboxAutoStart: false, sandboxPort: 46000 },
    });
  });
});
