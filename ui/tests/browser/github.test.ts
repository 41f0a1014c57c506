// The Pipelines page's GitHub Actions tab in Chromium against the real commands
// (slipway-ipc-bridge on a fresh data folder) and the GitHub stand-in in front of the real client
// (crates/git-host): not connected; a repository found by search with its runs newest first, a
// page at a time, with the quota; the project's own repository without asking; runs read again
// every 10 s while one is active (the page's clock moved on), and no more once they finished or
// the tab was left; a run's jobs, steps and a failed job's log (search, download); a revoked
// token; a used-up rate limit and a low quota; another repository. Screenshots: tests/artifacts/ui/.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { startGithubStub, type GithubStub } from "../../../tests/stubs/github.mjs";
import { webProject } from "./fixtures";
import { ARTIFACTS, browserSuite, gitRepo } from "./harness";

const TOKEN = `ghp_${randomBytes(18).toString("hex")}`;
const SAMPLE = "octo-dev/sample-app";
let github: GithubStub;
beforeAll(async () => {
  github = await startGithubStub({ goodToken: TOKEN, login: "octo-dev" });
});
const local = gitRepo(webProject());
afterAll(async () => {
  await github?.close();
  local.remove();
});

const t = browserSuite({ name: "github" });
const byId = (id: string) => t.page.getByTestId(id);
const runRows = () => byId("gh-run-row");
const runRow = (name: string) => t.page.locator('[data-testid="gh-run-row"]').filter({ has: t.page.locator("button", { hasText: new RegExp(`^${name}$`) }) });
const listings = (repo: string) => github.requests.filter((r) => r.url.startsWith(`/repos/${repo}/actions/runs?`) && r.url.endsWith("page=1")).length;

async function openTab() {
  await t.open("#/pipelines");
  await byId("runs-list").or(byId("runs-empty")).first().waitFor({ timeout: 30_000 });
  await byId("pipelines-source-github").click();
}

/** Types into the repository search and picks the first match with Enter. */
async function pickRepo(query: string, repo: string, withRuns = true) {
  const search = byId("gh-actions").getByTestId("gh-repo-search");
  await search.fill(query);
  await t.page.locator(`[data-testid="gh-repo-results"][data-query="${query}"]`).waitFor({ timeout: 20_000 });
  expect(await byId("gh-repo-option").first().getAttribute("data-repo")).toBe(repo);
  await search.press("Enter");
  await t.page.locator(`[data-testid="gh-actions-repo"][data-repo="${repo}"]`).waitFor({ timeout: 20_000 });
  if (withRuns) await byId("gh-runs").waitFor({ timeout: 20_000 });
}

describe("GitHub Actions tab in Chromium (real commands, the GitHub stand-in)", () => {
  test("not connected: says so with a link to the Connect page, and asks GitHub nothing", async () => {
    const p = await t.invoke("detect_project", { input: { source: { kind: "path", path: local.dir }, id: "local-app" } });
    await t.invoke("save_project", { project: p });
    await openTab();
    await byId("gh-actions-not-connected").waitFor();
    expect(await byId("gh-actions-not-connected").textContent()).toContain("GitHub is not connected");
    expect(await byId("gh-actions-not-connected").getByRole("link", { name: /Connect GitHub on the Connect page/ }).getAttribute("href")).toBe("#/connect");
    expect(github.requests).toEqual([]);
  });

  test("a repository picked through the search: its runs newest first, a page at a time, every state named, with the quota", async () => {
    await t.invoke("connect_github", { input: { token: TOKEN, baseUrl: github.url } });
    await openTab();
    // The project is a local folder: the tab asks which repository.
    await t.page.getByText(/does not come from github.com/).waitFor({ timeout: 20_000 });
    await pickRepo("sample", SAMPLE);
    await expect.poll(() => runRows().count()).toBe(30);
    const first = runRows().first();
    expect(await first.getByRole("button").textContent()).toBe("CI #212");
    expect(await first.getByTestId("gh-run-event").textContent()).toBe("push");
    expect(await first.getByTestId("gh-run-branch").textContent()).toBe("main");
    expect(await first.getByTestId("gh-run-sha").textContent()).toMatch(/^[0-9a-f]{7}$/);
    expect(await first.getByTestId("gh-run-link").getAttribute("href")).toMatch(/^https:\/\/github\.com\/octo-dev\/sample-app\/actions\/runs\/\d+$/);
    const states = await runRows().evaluateAll((els) =>
      els.slice(0, 9).map((r) => [r.querySelector("button")!.textContent, r.querySelector('[data-testid="gh-run-status"]')!.getAttribute("data-status"), r.querySelector('[data-testid="gh-run-status"]')!.textContent]),
    );
    expect(states).toEqual([
      ["CI #212", "queued", "Queued"],
      ["CI #211", "running", "In progress"],
      ["CI #210", "failed", "Failure"],
      ["Release #18", "succeeded", "Success"],
      ["CI #209", "cancelled", "Cancelled"],
      ["CodeQL #52", "succeeded", "Success"],
      ["CI #208", "skipped", "Skipped"],
      ["CI #207", "failed", "Timed out"],
      ["CI #206", "queued", "Action required"],
    ]);
    const created = await runRows().evaluateAll((els) => els.map((r) => Date.parse(r.querySelector('[data-testid="gh-run-created"]')!.getAttribute("title")!)));
    expect([...created].sort((a, b) => b - a)).toEqual(created);
    await byId("gh-runs-more").click();
    await expect.poll(() => runRows().count(), { timeout: 20_000 }).toBe(34);
    expect(github.requests.at(-1)!.url).toMatch(/^\/repos\/octo-dev\/sample-app\/actions\/runs\?per_page=30&page=2$/);
    expect(await byId("gh-runs-more").count()).toBe(0);
    // The quota of GitHub's last answer.
    expect(await byId("gh-quota").textContent()).toBe(`GitHub API: ${github.rate.remaining.toLocaleString("en-US")} of 5,000 requests left, resets at ${new Date(github.rate.reset * 1000).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })}`);
    expect(await byId("gh-quota").getAttribute("data-low")).toBe("false");
    await t.page.screenshot({ path: join(ARTIFACTS, "github-actions.png"), fullPage: true });
  });

  test("a run's jobs and steps; the failed job shown first with its log (timestamps in a column, errors marked), search and download; a skipped job has no log to ask for", async () => {
    await openTab();
    await pickRepo("sample", SAMPLE);
    await runRow("CI #210").getByRole("button").click();
    await byId("gh-run-detail").waitFor();
    await byId("gh-jobs").waitFor({ timeout: 20_000 });
    const jobs = await byId("gh-job").evaluateAll((els) => els.map((j) => [j.querySelector('[data-testid="gh-job-open"]')!.textContent, j.getAttribute("data-status")]));
    expect(jobs).toEqual([
      ["lint", "succeeded"],
      ["test (3.12)", "failed"],
      ["build-image", "skipped"],
    ]);
    const steps = await byId("gh-job").nth(1).getByTestId("gh-step").evaluateAll((els) => els.map((s) => [s.textContent!.replace(/^\d+/, ""), s.getAttribute("data-status")]));
    expect(steps).toContainEqual(["FailureRun pytest", "failed"]);
    expect(steps).toContainEqual(["SkippedUpload test results", "skipped"]);
    expect(steps.at(-1)).toEqual(["SuccessComplete job", "succeeded"]);

    const log = byId("gh-log");
    await log.waitFor({ timeout: 20_000 });
    const jobId = await byId("gh-job").nth(1).getAttribute("data-job");
    expect(await log.getAttribute("data-job")).toBe(jobId);
    expect(Number(await log.getAttribute("data-lines"))).toBeGreaterThan(50);
    const line1 = byId("gh-log-line").first();
    expect(await line1.getAttribute("data-line")).toBe("1");
    expect(await line1.locator(".gh-text").textContent()).toBe("Current runner version: '2.323.0'");
    expect(await line1.locator(".gh-ts").getAttribute("title")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    const error = t.page.locator('[data-testid="gh-log-line"].gh-log-error').first();
    expect(await error.locator(".gh-text").textContent()).toBe("Process completed with exit code 1.");
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
    await byId("gh-log-search").press("Shift+Enter");
    expect(await byId("gh-log-count").textContent()).toBe("1 of 3");
    await byId("gh-log-next").click();
    expect(await byId("gh-log-count").textContent()).toBe("2 of 3");
    await byId("gh-log-search").fill("no such text");
    expect(await byId("gh-log-count").textContent()).toBe("no match");
    const download = t.page.waitForEvent("download");
    await byId("gh-log-download").click();
    const d = await download;
    expect(d.suggestedFilename()).toBe(`sample-app-test-3.12-${jobId}.log`);
    const text = readFileSync((await d.path())!, "utf8");
    expect(text).toContain("##[error]Process completed with exit code 1.");
    expect(text.split("\n").filter((l) => l !== "")).toHaveLength(Number(await log.getAttribute("data-lines")));
    expect(github.requests.filter((r) => /\/actions\/jobs\/\d+\/logs$/.test(r.url))).toHaveLength(1);

    await byId("gh-job").nth(2).getByTestId("gh-job-open").click();
    expect(await byId("gh-log-unavailable").textContent()).toContain("build-image was skipped: it has no log.");
    expect(github.requests.filter((r) => /\/actions\/jobs\/\d+\/logs$/.test(r.url))).toHaveLength(1);
  });

  test("runs are read again every 10 s while one is queued or in progress, and no more once they all finished", async () => {
    github.rewind(); // CI #212 queued and CI #211 running again; they finish at the third listing
    await t.page.clock.install();
    await openTab();
    const before = listings(SAMPLE);
    await pickRepo("sample-app", SAMPLE);
    const status = (name: string) => runRow(name).getByTestId("gh-run-status").getAttribute("data-status");
    await expect.poll(() => listings(SAMPLE)).toBe(before + 1);
    expect(await byId("gh-runs-auto").getAttribute("data-auto")).toBe("true");
    expect(await status("CI #212")).toBe("queued");
    await t.page.clock.fastForward(10_000);
    await expect.poll(() => listings(SAMPLE), { timeout: 20_000 }).toBe(before + 2);
    await expect.poll(() => status("CI #212"), { timeout: 20_000 }).toBe("running");
    expect(await status("CI #211")).toBe("running");
    await t.page.clock.fastForward(10_000);
    await expect.poll(() => listings(SAMPLE), { timeout: 20_000 }).toBe(before + 3);
    await expect.poll(() => status("CI #212"), { timeout: 20_000 }).toBe("succeeded");
    expect(await status("CI #211")).toBe("succeeded");
    await expect.poll(() => byId("gh-runs-auto").getAttribute("data-auto")).toBe("false");
    // Nothing active: no more reads.
    await t.page.clock.fastForward(35_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(listings(SAMPLE)).toBe(before + 3);
  });

  test("the timer stops when the tab is left", async () => {
    github.rewind();
    await t.page.clock.install();
    await openTab();
    await pickRepo("sample-app", SAMPLE);
    expect(await byId("gh-runs-auto").getAttribute("data-auto")).toBe("true");
    const before = listings(SAMPLE);
    await byId("pipelines-source-slipway").click();
    expect(await byId("gh-runs").count()).toBe(0);
    await t.page.clock.fastForward(35_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(listings(SAMPLE)).toBe(before);
  });

  test("the project's own GitHub repository is shown without asking", async () => {
    // A project whose source is harbor-works/shop-api on github.com.
    const p = await t.invoke<Record<string, unknown>>("detect_project", { input: { source: { kind: "path", path: local.dir }, id: "shop-api" } });
    await t.invoke("save_project", { project: { ...p, source: { kind: "git", url: "https://github.com/harbor-works/shop-api.git" } } });
    await t.open("#/pipelines?project=shop-api");
    await byId("runs-empty").waitFor({ timeout: 30_000 });
    await byId("pipelines-source-github").click();
    await expect.poll(() => runRows().count(), { timeout: 20_000 }).toBe(3);
    expect(await byId("gh-actions-repo").getAttribute("data-repo")).toBe("harbor-works/shop-api");
    expect(await byId("gh-actions-repo").textContent()).toContain("the source of project shop-api");
    expect(await byId("gh-actions").getByTestId("gh-repo-search").count()).toBe(0);
    expect(await byId("gh-runs-more").count()).toBe(0);
  });

  test("a revoked token: what, why and fix; what was shown stays; Refresh works again once the token is back", async () => {
    await openTab();
    await pickRepo("sample", SAMPLE);
    await expect.poll(() => runRows().count()).toBe(30);
    github.revoke();
    try {
      await byId("gh-runs-refresh").click();
      await byId("gh-runs-error").waitFor({ timeout: 20_000 });
      expect(await byId("gh-runs-error-what").textContent()).toBe("Could not list the GitHub Actions runs");
      expect(await byId("gh-runs-error-why").textContent()).toBe("GitHub rejected the token (401 Bad credentials): it is wrong, revoked or expired");
      expect(await byId("gh-runs-error-fix").textContent()).toContain("connect GitHub again");
      expect(await runRows().count()).toBe(30);
    } finally {
      github.restore();
    }
    await byId("gh-runs-refresh").click();
    await expect.poll(() => byId("gh-runs-error").count(), { timeout: 20_000 }).toBe(0);
  });

  test("a used-up rate limit says when it resets; the search works again once there is quota; a low quota is a warning", async () => {
    github.setRemaining(0);
    await openTab();
    await byId("gh-repo-error").waitFor({ timeout: 20_000 });
    expect(await byId("gh-repo-error-what").textContent()).toBe("Could not list GitHub repositories");
    expect(await byId("gh-repo-error-why").textContent()).toMatch(/^GitHub's rate limit is used up \(403\); it resets in \d+ minutes \(unix time \d+\)$/);
    expect(await byId("gh-repo-error-fix").textContent()).toBe("Wait until the limit resets, then try again");
    const reset = new Date(github.rate.reset * 1000).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    expect(await byId("gh-error-reset").textContent()).toContain(`The limit resets at ${reset}.`);

    github.setRemaining(300);
    await pickRepo("shop-api", "harbor-works/shop-api");
    expect(await byId("gh-quota").getAttribute("data-low")).toBe("true");
    expect(await byId("gh-quota").getAttribute("class")).toContain("gh-quota-low");
    expect(await byId("gh-quota").textContent()).toContain("GitHub API: 298 of 5,000 requests left");
    github.setRemaining(4900);
  });

  test("another repository can be picked; the list follows it", async () => {
    await openTab();
    await pickRepo("sample", SAMPLE);
    await byId("gh-actions-change-repo").click();
    await pickRepo("infra", "harbor-works/infra", false);
    await byId("gh-runs-empty").waitFor({ timeout: 20_000 });
    expect(await byId("gh-runs-empty").textContent()).toContain("harbor-works/infra has no GitHub Actions run.");
    expect(github.requests.at(-1)!.url).toMatch(/^\/repos\/harbor-works\/infra\/actions\/runs\?per_page=30&page=1$/);
  });
});
