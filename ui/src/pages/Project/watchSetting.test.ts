import { describe, expect, test } from "vitest";

import { watchSetting } from "./GithubWatch";

// The watches against the real commands and the GitHub stand-in: tests/browser/project.test.ts.
describe("watchSetting", () => {
  const base = { project: "p", repo: "o/r", branch: "main", mode: "poll" as const, every: "30", port: "", report: false, linkBase: "" };
  test("checks the values before anything is sent", () => {
    expect(watchSetting(base)).toEqual({ watch: { project: "p", repo: "o/r", branch: "main", reportStatus: false, linkBase: null }, everySecs: 30, webhookPort: null });
    expect(watchSetting({ ...base, every: "2.5" })).toMatchObject({ what: "Watch not started", why: '"2.5" is not a whole number of seconds' });
    expect(watchSetting({ ...base, mode: "webhook", port: "80" })).toMatchObject({ why: '"80" is not a port Slipway can listen on' });
    expect(watchSetting({ ...base, mode: "webhook", port: "48000" })).toMatchObject({ everySecs: null, webhookPort: 48000 });
    expect(watchSetting({ ...base, linkBase: "ci.example.com" })).toMatchObject({ why: '"ci.example.com" is not an http(s) address' });
  });
});
