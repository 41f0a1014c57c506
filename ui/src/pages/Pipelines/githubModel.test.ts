import { describe, expect, test } from "vitest";

import type { WorkflowRun } from "../../bindings/WorkflowRun";
import { appendPage, ghState, ghStateLabel, githubRepoOf, jobLogFileName, matchingLines, mergeFirstPage, parseLog, quotaLow, quotaText, resetOf } from "./githubModel";

const run = (id: number, status = "completed"): WorkflowRun => ({
  id, name: "CI", runNumber: id, event: "push", headBranch: "main", headSha: "a".repeat(40), status, conclusion: status === "completed" ? "success" : null, htmlUrl: "", createdAt: null,
});

describe("githubModel", () => {
  test("the GitHub repository of a project's Git URL", () => {
    expect(githubRepoOf("https://github.com/octo-dev/sample-app.git")).toBe("octo-dev/sample-app");
    expect(githubRepoOf("https://github.com/octo-dev/sample-app")).toBe("octo-dev/sample-app");
    expect(githubRepoOf("https://x-access-token@github.com/Harbor-Works/shop.api/")).toBe("Harbor-Works/shop.api");
    expect(githubRepoOf("git@github.com:octo-dev/dotfiles.git")).toBe("octo-dev/dotfiles");
    expect(githubRepoOf("ssh://git@github.com/octo-dev/dotfiles.git")).toBe("octo-dev/dotfiles");
    expect(githubRepoOf("https://gitlab.com/octo-dev/sample-app.git")).toBeNull();
    expect(githubRepoOf("https://github.com/octo-dev")).toBeNull();
    expect(githubRepoOf("/home/dev/sample-app")).toBeNull();
  });

  test("GitHub's status and conclusion in Slipway's state words, and GitHub's own label", () => {
    expect(ghState("queued", null)).toBe("queued");
    expect(ghState("waiting", null)).toBe("queued");
    expect(ghState("in_progress", null)).toBe("running");
    expect(ghState("completed", "success")).toBe("succeeded");
    expect(ghState("completed", "failure")).toBe("failed");
    expect(ghState("completed", "timed_out")).toBe("failed");
    expect(ghState("completed", "cancelled")).toBe("cancelled");
    expect(ghState("completed", "skipped")).toBe("skipped");
    expect(ghState("completed", "neutral")).toBe("skipped");
    expect(ghStateLabel("completed", "timed_out")).toBe("Timed out");
    expect(ghStateLabel("in_progress", null)).toBe("In progress");
  });

  test("the quota line, warning below 10%", () => {
    const rate = { limit: 5000, remaining: 4987, reset: 1_714_650_000, used: 13, resource: "core" };
    expect(quotaText(rate)).toMatch(/^GitHub API: 4,987 of 5,000 requests left, resets at \d\d:\d\d/);
    expect(quotaLow(rate)).toBe(false);
    expect(quotaLow({ ...rate, remaining: 500 })).toBe(false);
    expect(quotaLow({ ...rate, remaining: 499 })).toBe(true);
    expect(quotaText({ ...rate, resource: "search", limit: 30, remaining: 29 })).toMatch(/^GitHub API \(search\): 29 of 30/);
    expect(resetOf("GitHub's rate limit is used up (403); it resets in 3 minutes (unix time 1714650000)")).toBe(1_714_650_000);
    expect(resetOf("GitHub rejected the token (401 Bad credentials)")).toBeNull();
  });

  test("a job log: BOM and timestamps off the text, markers as kinds, search any case", () => {
    const raw = "\uFEFF2025-05-02T10:11:12.1234567Z ##[group]Run pytest\r\n2025-05-02T10:11:13.0000000Z 9 passed\r\n2025-05-02T10:11:14.0000000Z ##[error]Process completed with exit code 1.\r\nno stamp\n";
    const lines = parseLog(raw);
    expect(lines.map((l) => [l.n, l.time, l.kind, l.text])).toEqual([
      [1, "2025-05-02T10:11:12.1234567Z", "group", "Run pytest"],
      [2, "2025-05-02T10:11:13.0000000Z", "plain", "9 passed"],
      [3, "2025-05-02T10:11:14.0000000Z", "error", "Process completed with exit code 1."],
      [4, null, "plain", "no stamp"],
    ]);
    expect(matchingLines(lines, "PROCESS")).toEqual([3]);
    expect(matchingLines(lines, "  ")).toEqual([]);
    expect(parseLog("")).toEqual([]);
    expect(jobLogFileName("octo-dev/sample-app", 7, "test (3.12)")).toBe("sample-app-test-3.12-7.log");
  });

  test("a refreshed first page replaces its runs; later pages stay; a page appended repeats nothing", () => {
    const shown = [run(5, "in_progress"), run(4), run(3), run(2)];
    expect(mergeFirstPage(shown, [run(6, "queued"), run(5), run(4)]).map((r) => [r.id, r.status])).toEqual([
      [6, "queued"], [5, "completed"], [4, "completed"], [3, "completed"], [2, "completed"],
    ]);
    expect(appendPage([run(6), run(5)], [run(5), run(4)]).map((r) => r.id)).toEqual([6, 5, 4]);
  });
});
