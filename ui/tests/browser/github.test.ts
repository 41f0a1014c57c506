// GitHub in Chromium against the mock backend (dist-mock/): GitHub connected on the Connect page,
// then the Pipelines page's GitHub Actions tab (a repository found through the search, its runs,
// a failed job's log searched), and on the Project page a branch watched for new commits.
// Screenshots: tests/artifacts/ui/.
import { join } from "node:path";

import { describe, expect, test } from "vitest";

import { ARTIFACTS, browserSuite } from "./harness";

const t = browserSuite();
const byId = (id: string) => t.page.getByTestId(id);
const mockCalls = (cmd: string) => t.page.evaluate((c) => (window as any).__slipwayMock.calls.filter((x: any) => x.cmd === c).map((x: any) => x.args), cmd);

/** Opens the app, connects GitHub with a token on the Connect page, and goes to `page`. */
async function openConnected(page: "pipelines" | "project") {
  await t.page.goto(`${t.server.url}?delay=0#/connect`);
  await byId("nav-connect-count").waitFor();
  await byId("github-mode-token").check();
  await byId("github-token").fill("ghp_goodtoken123");
  await byId("github-submit").click();
  await byId("github-login").filter({ hasText: "octo-dev" }).waitFor();
  await byId(`nav-${page}`).click();
}

/** Types into the (only) repository search and picks the first result with the keyboard. */
async function searchAndPick(query: string, repo: string) {
  await byId("gh-repo-search").fill(query);
  await t.page.locator(`[data-testid="gh-repo-results"][data-query="${query}"]`).waitFor();
  expect(await byId("gh-repo-option").first().getAttribute("data-repo")).toBe(repo);
  await byId("gh-repo-search").press("Enter");
}

describe("GitHub in Chromium (mock backend)", () => {
  test("GitHub Actions tab: a repository found by search, its runs, a failed job's log searched", async () => {
    await openConnected("pipelines");
    await byId("runs-list").waitFor();
    await byId("pipelines-source-github").click();
    await searchAndPick("sample", "octo-dev/sample-app");
    await t.page.locator('[data-testid="gh-actions-repo"][data-repo="octo-dev/sample-app"]').waitFor();
    await expect.poll(() => byId("gh-run-row").count()).toBe(30);
    const firstStatus = byId("gh-run-row").first().getByTestId("gh-run-status");
    expect(await firstStatus.getAttribute("data-status")).toBe("queued");
    expect(await byId("gh-runs-auto").getAttribute("data-auto")).toBe("true");
    expect(await byId("gh-quota").textContent()).toMatch(/^GitHub API: [\d,]+ of 5,000 requests left, resets at /);

    await t.page.getByRole("button", { name: "Show the jobs of CI #210" }).click();
    await byId("gh-run-detail").waitFor();
    const jobs = await byId("gh-job").evaluateAll((els) => els.map((e) => [e.querySelector('[data-testid="gh-job-open"]')!.textContent, e.getAttribute("data-status")]));
    expect(jobs).toEqual([
      ["lint", "succeeded"],
      ["test (3.12)", "failed"],
      ["build-image", "skipped"],
    ]);
    await byId("gh-log").waitFor();
    expect(Number(await byId("gh-log").getAttribute("data-lines"))).toBeGreaterThan(50);
    const errorLine = t.page.locator('[data-testid="gh-log-line"].gh-log-error');
    expect(await errorLine.first().locator(".gh-text").textContent()).toBe("Process completed with exit code 1.");
    await byId("gh-log-search").fill("AssertionError");
    expect(await byId("gh-log-count").textContent()).toBe("1 of 3");
    await byId("gh-log-search").press("Enter");
    expect(await byId("gh-log-count").textContent()).toBe("2 of 3");
    // The log box scrolled the match into its view (the page itself did not move).
    const inView = () =>
      t.page.evaluate(() => {
        const box = document.querySelector('[data-testid="gh-log"]')!.getBoundingClientRect();
        const line = document.querySelector('[data-testid="gh-log-line"][data-match="current"]')!.getBoundingClientRect();
        return line.top >= box.top && line.bottom <= box.bottom;
      });
    await expect.poll(inView).toBe(true);
    expect(await t.page.evaluate(() => document.querySelector('[data-testid="gh-log"]')!.scrollTop)).toBeGreaterThan(0);
    expect(await mockCalls("github_job_log")).toHaveLength(1);
    await t.page.screenshot({ path: join(ARTIFACTS, "github-actions.png"), fullPage: true });
  });

  test("Project page: a branch watched by polling is started and listed", async () => {
    await openConnected("project");
    await byId("gh-watches").waitFor();
    expect(await byId("gh-watch-row").count()).toBe(2);
    await searchAndPick("sample-app", "octo-dev/sample-app");
    await byId("gh-branch-select").selectOption("develop");
    await expect.poll(() => byId("gh-commit").count()).toBe(10);
    await byId("gh-watch-report").check();
    await byId("gh-watch-start").click();
    await byId("gh-watch-started").waitFor();
    const row = t.page.locator('[data-testid="gh-watch-row"][data-repo="octo-dev/sample-app"][data-branch="develop"]');
    await row.waitFor();
    expect(await row.getAttribute("data-active")).toBe("true");
    expect(await row.textContent()).toContain("polls every 30 s");
    expect(await mockCalls("github_watch_start")).toEqual([
      {
        setting: {
          watch: { project: "sample-app", repo: "octo-dev/sample-app", branch: "develop", reportStatus: true, linkBase: null },
          everySecs: 30,
          webhookPort: null,
        },
      },
    ]);
    // The secret is not read until Reveal.
    expect(await mockCalls("github_webhook_secret")).toEqual([]);
    await byId("gh-secret-reveal").click();
    expect(await byId("gh-secret").textContent()).toMatch(/^[0-9a-f]{64}$/);
    await byId("gh-watch").scrollIntoViewIfNeeded();
    await t.page.screenshot({ path: join(ARTIFACTS, "github-watch.png"), fullPage: true });
  });
});
