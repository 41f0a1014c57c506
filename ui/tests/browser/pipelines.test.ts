// The Project and Pipelines pages in Chromium against the mock backend (dist-mock/): a run going
// through its stages live in the graph, step logs in the real xterm.js (search, follow, scroll
// back), a failed run's test case and stage error, and a project detected, refused, edited and
// saved. Screenshots: tests/artifacts/ui/.
import { join } from "node:path";

import type { Page } from "playwright-core";
import { beforeEach, describe, expect, test } from "vitest";

import { ARTIFACTS, browserSuite, type StaticServer } from "./harness";

// Chromium, the static server and a fresh page per test (page or console errors fail the test).
const t = browserSuite();
let page: Page;
let server: StaticServer;
beforeEach(() => {
  page = t.page;
  server = t.server;
});

const byId = (id: string) => page.getByTestId(id);
const runRow = (run: string) => page.locator(`[data-testid="run-row"][data-run="${run}"]`);
const stepTab = (step: string) => page.locator(`[data-testid="log-step"][data-step="${step}"]`);
const logView = () => byId("log-view");
/** The text xterm.js shows on screen (its rows), lines joined with "\n". */
const screenText = () => page.locator(".xterm-rows").evaluate((el) => Array.from(el.children, (r) => r.textContent ?? "").join("\n"));

async function open(query: string, hash: string) {
  await page.goto(`${server.url}${query}${hash}`);
  await byId("nav-connect-count").waitFor(); // doctor() answered
}

async function waitAttr(testId: string, name: string, value: string, timeout = 10_000) {
  await page.locator(`[data-testid="${testId}"][${name}="${value}"]`).waitFor({ timeout });
}

describe("Pipelines and Project pages in Chromium (mock backend)", () => {
  test("a run goes through the stage graph live: statuses in order, durations ticking, to the end", async () => {
    await open("?delay=50&runstep=250", "#/pipelines");
    await byId("runs-list").waitFor();
    expect(await page.locator(".react-flow__edge").count()).toBe(4);
    // Record every status each stage node shows, as the page changes.
    await page.evaluate(() => {
      const seen: Record<string, string[]> = {};
      (window as any).__stageStatuses = seen;
      const record = () => {
        for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-testid^="stage-node-"]'))) {
          const stage = el.dataset.testid!.replace("stage-node-", "");
          const list = (seen[stage] ??= []);
          if (list.at(-1) !== el.dataset.status) list.push(el.dataset.status!);
        }
      };
      new MutationObserver(record).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["data-status"], childList: true });
    });
    await byId("run-start").click();
    await waitAttr("run-detail", "data-run", "sample-app-6");
    expect(await page.locator('[data-testid="run-row"]').first().getAttribute("data-run")).toBe("sample-app-6");

    await waitAttr("stage-node-build", "data-status", "running");
    const build = byId("stage-node-build").getByTestId("stage-duration");
    const first = await build.textContent();
    await expect.poll(() => build.textContent(), { timeout: 5_000 }).not.toBe(first); // ticking
    await page.screenshot({ path: join(ARTIFACTS, "pipelines-running.png") });
    await waitAttr("stage-node-test", "data-status", "running", 15_000);
    await waitAttr("run-detail-status", "data-status", "succeeded", 20_000);

    const seen = await page.evaluate(() => (window as any).__stageStatuses as Record<string, string[]>);
    // The new run's nodes start where the previous (selected) run's ended, then go queued -> running -> end.
    for (const stage of ["checkout", "build", "test", "deploy"]) {
      expect(seen[stage].slice(-3), stage).toEqual(["queued", "running", "succeeded"]);
    }
    expect(seen.push.at(-1)).toBe("skipped"); // no registry connected in the mock
    expect(await runRow("sample-app-6").getAttribute("data-status")).toBe("succeeded");
    expect(await byId("deploy-url").getAttribute("href")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await runRow("sample-app-6").getByTestId("run-duration").textContent()).toMatch(/^\d+\.\ds$/);
    await page.screenshot({ path: join(ARTIFACTS, "pipelines-succeeded.png") });
  });

  test("a step's log arrives in xterm.js and search finds a term", async () => {
    await open("?delay=0", "#/pipelines");
    await runRow("sample-app-1").click();
    await waitAttr("run-detail", "data-run", "sample-app-1");
    await byId("stage-node-build").click();
    await stepTab("backend").click();
    await waitAttr("log-view", "data-done", "true");
    expect(Number(await logView().getAttribute("data-bytes"))).toBeGreaterThan(256 * 1024); // more than one chunk
    // Following: the end of the log is on screen.
    await expect.poll(screenText).toContain("Successfully tagged sample-app-backend:");
    expect(await logView().getAttribute("data-following")).toBe("true");
    // Line ends were converted: every line starts at the left edge (no staircase).
    const rows = (await screenText()).split("\n").filter((l) => l.trim() !== "");
    expect(rows.some((l) => /^\s{10,}\S/.test(l))).toBe(false);

    // A term near the start: search scrolls up to it, which stops following.
    await byId("log-search").fill("Step 1/13");
    await byId("log-search").press("Enter");
    await expect.poll(() => byId("log-search-count").textContent()).toBe("1 of 1");
    await expect.poll(screenText).toContain("Step 1/13 : ARG BASE_IMAGE=python:3.11-slim");
    await waitAttr("log-view", "data-following", "false");
    // Many matches: next and previous move through them.
    await byId("log-search").fill("gunicorn");
    await byId("log-search-next").click();
    await expect.poll(() => byId("log-search-count").textContent()).toMatch(/^1 of \d{3}$/);
    await byId("log-search-next").click();
    await expect.poll(() => byId("log-search-count").textContent()).toMatch(/^2 of \d{3}$/);
    await byId("log-search-prev").click();
    await expect.poll(() => byId("log-search-count").textContent()).toMatch(/^1 of \d{3}$/);
    expect(await screenText()).toContain("gunicorn");
    await byId("log-search").fill("no such thing anywhere");
    await byId("log-search").press("Enter");
    await expect.poll(() => byId("log-search-count").textContent()).toBe("No match");
    await page.screenshot({ path: join(ARTIFACTS, "pipelines-log-search.png") });

    // Follow brings the end back.
    await byId("log-follow").click();
    await waitAttr("log-view", "data-following", "true");
    await expect.poll(screenText).toContain("Successfully tagged sample-app-backend:");

    // Download hands the whole text over as <run>-<stage>-<step>.log.
    const download = page.waitForEvent("download");
    await byId("log-download").click();
    const d = await download;
    expect(d.suggestedFilename()).toBe("sample-app-1-build-backend.log");
  });

  test("scrolling up stops following while the log grows; Follow resumes", async () => {
    await open("?delay=0&runstep=400", "#/pipelines");
    await byId("pipeline-project").waitFor();
    await byId("run-until").selectOption("build");
    await byId("run-start").click();
    await waitAttr("stage-node-build", "data-status", "running");
    await stepTab("backend").click();
    await expect.poll(async () => Number(await logView().getAttribute("data-bytes")), { timeout: 10_000 }).toBeGreaterThan(60_000);
    expect(await logView().getAttribute("data-following")).toBe("true");

    // Scroll up with the mouse wheel over the terminal.
    await logView().hover();
    await page.mouse.wheel(0, -3000);
    await waitAttr("log-view", "data-following", "false");
    await byId("log-follow").waitFor();
    const shown = await screenText();
    const bytes = Number(await logView().getAttribute("data-bytes"));
    // More output arrives, and the view stays where the person put it.
    await expect.poll(async () => Number(await logView().getAttribute("data-bytes")), { timeout: 10_000 }).toBeGreaterThan(bytes);
    expect(await screenText()).toBe(shown);
    expect(await logView().getAttribute("data-following")).toBe("false");
    await page.screenshot({ path: join(ARTIFACTS, "pipelines-scrolled-up.png") });

    await byId("log-follow").click();
    await waitAttr("log-view", "data-following", "true");
    expect(await byId("log-follow").count()).toBe(0);
    await waitAttr("log-view", "data-done", "true", 15_000);
    await expect.poll(screenText).toContain("Successfully tagged sample-app-backend:");
  });

  test("a failed run shows the failing test case and the stage error", async () => {
    await open("?delay=0", "#/pipelines");
    await runRow("sample-app-2").click();
    await waitAttr("run-detail", "data-run", "sample-app-2");
    expect(await byId("stage-node-test").getAttribute("data-status")).toBe("failed");
    expect(await byId("stage-node-push").getAttribute("data-status")).toBe("skipped");
    expect(await byId("stage-error-what").textContent()).toBe("Tests of backend failed");
    expect(await byId("stage-error-why").textContent()).toBe("1 of 9 failed: test_items_lists_the_seed_rows");
    expect(await byId("stage-error-fix").textContent()).toMatch(/fix them/);
    const kase = page.locator('[data-testid="test-case"][data-case="test_items_lists_the_seed_rows"]');
    await kase.waitFor();
    expect(await kase.getByTestId("test-case-message").textContent()).toContain("Right contains one more item: 'capstan'");
    expect(await page.locator('[data-testid="test-row"][data-service="backend"]').textContent()).toMatch(/backend\s*8\s*1\s*0\s*0/);
    // The failed step's log is the one shown.
    expect(await stepTab("backend").getAttribute("aria-selected")).toBe("true");
    await expect.poll(screenText).toContain("FAILED tests/test_api.py::test_items_lists_the_seed_rows");
    await page.screenshot({ path: join(ARTIFACTS, "pipelines-failed.png"), fullPage: true });
  });

  test("works in a 960x600 window", async () => {
    await page.setViewportSize({ width: 960, height: 600 });
    await open("?delay=0", "#/pipelines");
    await byId("log-view").waitFor();
    await byId("stage-node-deploy").waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // All five stages fit in the graph.
    const graph = await byId("stage-graph").boundingBox();
    const deploy = await byId("stage-node-deploy").boundingBox();
    expect(deploy!.x + deploy!.width).toBeLessThanOrEqual(graph!.x + graph!.width);
    await page.screenshot({ path: join(ARTIFACTS, "pipelines-960x600.png") });
  });

  test("project: detect, a validation error, then save with an edited test command", async () => {
    await open("?delay=100", "#/project");
    await byId("project-path").fill("/home/dev/shop");
    await byId("project-detect").click();
    await byId("project-detected").waitFor();
    expect(await byId("project-id").inputValue()).toBe("shop");
    const backendCmd = page.locator('[data-testid="service"][data-service="backend"] [data-testid="service-test-command"]');
    expect(await backendCmd.inputValue()).toMatch(/^pytest -q --junitxml=\/reports\/junit.xml/);
    await backendCmd.fill("pytest -x --junitxml=/reports/junit.xml 'tests/api tests'");

    await byId("project-replicas").fill("25");
    await byId("project-save").click();
    await byId("project-save-error").waitFor();
    expect(await byId("project-save-error-what").textContent()).toBe("Project settings are not valid");
    expect(await byId("project-save-error-why").textContent()).toBe("25 replicas per service");
    expect(await byId("project-save-error-fix").textContent()).toBe("Use 1 to 20 replicas");
    expect(await byId("project-save-error").getAttribute("role")).toBe("alert");
    await page.screenshot({ path: join(ARTIFACTS, "project-error.png"), fullPage: true });

    await byId("project-replicas").fill("2");
    await byId("project-save").click();
    await byId("project-saved").waitFor();
    expect(await byId("project-save-error").count()).toBe(0);
    const saved = await page.evaluate(() => (window as any).__slipwayMock.pipeline.projects.find((p: any) => p.id === "shop"));
    expect(saved.services[0].testCommand).toEqual(["pytest", "-x", "--junitxml=/reports/junit.xml", "tests/api tests"]);
    expect(saved.deploy.replicas).toBe(2);
    await page.locator('[data-testid="project-row"][data-project="shop"]').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "project-saved.png") });

    // The saved project is on the Pipelines page.
    await page.locator('[data-testid="project-row"][data-project="shop"] [data-testid="project-open-pipelines"]').click();
    await byId("runs-empty").waitFor();
    expect(await byId("pipeline-project").inputValue()).toBe("shop");
  });
});
