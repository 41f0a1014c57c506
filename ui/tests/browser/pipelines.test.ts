// The Pipelines page in Chromium against the real commands (slipway-ipc-bridge on a fresh data
// folder), with runs of small busybox projects on the test environment's dockerd, pushing to its
// registry and deploying on the local engine: a run live through all five stages (Test, Push and
// Deploy included, the app answering at the URL shown), the test gate stopping a failing run,
// a step's log in xterm.js (search, follow, download), scrolling back while a log grows, cancel
// and re-run, a run started elsewhere arriving by event, a checkout failure, and a start refused
// when the Docker engine goes away. Screenshots: tests/artifacts/ui/.
import { existsSync, rmSync } from "node:fs";
import { createServer, createConnection, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, describe, expect, test } from "vitest";

import { ARTIFACTS, browserSuite, gitRepo, need, removeDockerObjects, unique } from "./harness";
import { FAILING_TESTS, webProject } from "./fixtures";

const REGISTRY = need("SLIPWAY_TEST_REGISTRY");
const DOCKER = need("DOCKER_HOST").replace(/^unix:\/\//, "");

/**
 * The bridge reaches dockerd through this socket, so one test can take the engine away (every
 * connection closed, the socket gone) while the shared dockerd keeps running.
 */
class EngineCut {
  readonly path = join(tmpdir(), `slipway-ui-docker-${process.pid}.sock`);
  private server: Server;
  private sockets = new Set<Socket>();
  private open = true;
  constructor() {
    if (existsSync(this.path)) rmSync(this.path);
    this.server = createServer((client) => {
      const up = createConnection(DOCKER);
      this.sockets.add(client).add(up);
      const drop = () => (client.destroy(), up.destroy());
      client.on("error", drop).on("close", drop);
      up.on("error", drop).on("close", drop);
      client.pipe(up).pipe(client);
    });
    this.server.listen(this.path);
  }
  cut() {
    if (!this.open) return;
    this.open = false;
    this.server.close();
    for (const s of this.sockets) s.destroy();
    if (existsSync(this.path)) rmSync(this.path);
  }
}
const engine = new EngineCut();

const t = browserSuite({ name: "pipelines", env: { DOCKER_HOST: `unix://${engine.path}` } });
const byId = (id: string) => t.page.getByTestId(id);
const runRow = (run: string) => t.page.locator(`[data-testid="run-row"][data-run="${run}"]`);
const stepTab = (step: string) => t.page.locator(`[data-testid="log-step"][data-step="${step}"]`);
const node = (stage: string) => byId(`stage-node-${stage}`);
const logView = () => byId("log-view");
/** The text xterm.js shows on screen (its rows), lines joined with "\n". */
const screenText = () => t.page.locator(".xterm-rows").evaluate((el) => Array.from(el.children, (r) => r.textContent ?? "").join("\n"));
const waitAttr = (testId: string, name: string, value: string, timeout = 60_000) => t.page.locator(`[data-testid="${testId}"][${name}="${value}"]`).waitFor({ timeout });

// The projects this suite runs, each a fresh Git repository; removed with what they left on dockerd.
const GREEN = unique("green");
const RED = unique("red");
const SLOW = unique("slow");
const GROW = unique("grow");
const repos = {
  // A build log of 15,000 numbered lines (more than one 256 KiB chunk of the log stream).
  // Each project's unique name is in its RUN line: dockerd keeps its build cache from one suite
  // run to the next, and a cached step prints no log and takes no time.
  [GREEN]: gitRepo(webProject({ build: [`RUN echo building the web image for ${GREEN} && seq 1 15000 | sed 's/^/compiling module /'`], replicas: 2 })),
  [RED]: gitRepo(webProject({ test: FAILING_TESTS })),
  [SLOW]: gitRepo(webProject({ build: [`RUN echo slow build starts for ${SLOW} && sleep 120`] })),
  // A log that keeps growing for about ten seconds.
  [GROW]: gitRepo(webProject({ build: [`RUN echo ${GROW} && for i in $(seq 1 40); do seq 1 500 | sed "s/^/batch $i line /"; sleep 0.25; done`] })),
};
afterAll(() => {
  engine.cut();
  for (const [id, r] of Object.entries(repos)) {
    r.remove();
    const notes = removeDockerObjects(id);
    if (notes.length) console.log(`cleanup: ${notes.join("; ")}`);
  }
});

async function addProject(id: string) {
  const p = await t.invoke("detect_project", { input: { source: { kind: "path", path: repos[id].dir }, id } });
  await t.invoke("save_project", { project: p });
}

async function openProject(id: string) {
  await t.open(`#/pipelines?project=${id}`);
  await byId("runs-list").or(byId("runs-empty")).first().waitFor({ timeout: 30_000 });
  expect(await byId("pipeline-project").inputValue()).toBe(id);
}

/** Waits for the run shown to end; its status. */
async function runEnds(timeout = 180_000): Promise<string> {
  await t.page.locator('[data-testid="run-detail-status"][data-status="succeeded"], [data-testid="run-detail-status"][data-status="failed"], [data-testid="run-detail-status"][data-status="cancelled"]').waitFor({ timeout });
  return (await byId("run-detail-status").getAttribute("data-status"))!;
}

describe("Pipelines page in Chromium (real commands, dockerd, the registry)", () => {
  test("no project yet: says so and points to the Project page", async () => {
    await t.open("#/pipelines");
    await byId("pipelines-empty").waitFor();
    expect(await byId("pipelines-empty").textContent()).toContain("No project yet");
    expect(await byId("pipelines-empty").getByRole("link", { name: /Project page/ }).getAttribute("href")).toBe("#/project");
  });

  test("a run goes through all five stages live, Test, Push and Deploy included: results, digests, and the app answering at the URL shown", async () => {
    await t.invoke("connect_registry", { input: { registry: REGISTRY, username: need("SLIPWAY_TEST_REGISTRY_USER"), password: need("SLIPWAY_TEST_REGISTRY_PASSWORD") } });
    await addProject(GREEN);
    await openProject(GREEN);
    await byId("runs-empty").waitFor();
    await byId("run-start").click();
    const run = `${GREEN}-1`;
    await waitAttr("run-detail", "data-run", run, 20_000);
    expect(await t.page.locator('[data-testid="run-row"]').first().getAttribute("data-run")).toBe(run);
    expect(await t.page.locator(".react-flow__edge").count()).toBe(4);
    // Every status each stage node shows from here on, as the page changes.
    await t.page.evaluate(() => {
      const seen: Record<string, string[]> = {};
      (window as unknown as { __stageStatuses: typeof seen }).__stageStatuses = seen;
      const record = () => {
        for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-testid^="stage-node-"]'))) {
          const stage = el.dataset.testid!.replace("stage-node-", "");
          const list = (seen[stage] ??= []);
          if (list.at(-1) !== el.dataset.status) list.push(el.dataset.status!);
        }
      };
      record();
      new MutationObserver(record).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["data-status"], childList: true });
    });

    await waitAttr("stage-node-build", "data-status", "running");
    const duration = node("build").getByTestId("stage-duration");
    const first = await duration.textContent();
    await expect.poll(() => duration.textContent(), { timeout: 10_000 }).not.toBe(first); // ticking
    await t.page.screenshot({ path: join(ARTIFACTS, "pipelines-running.png") });
    expect(await runEnds()).toBe("succeeded");

    const seen = await t.page.evaluate(() => (window as unknown as { __stageStatuses: Record<string, string[]> }).__stageStatuses);
    // Every stage ends succeeded; the ones that take a while were seen running first (a
    // checkout of a local repository can start and end within one 50 ms batch of events).
    for (const stage of ["checkout", "build", "test", "push", "deploy"]) expect(seen[stage].at(-1), stage).toBe("succeeded");
    for (const stage of ["build", "test", "deploy"]) expect(seen[stage].slice(-2), stage).toEqual(["running", "succeeded"]);
    expect(await runRow(run).getAttribute("data-status")).toBe("succeeded");
    expect(await runRow(run).getByTestId("run-trigger").textContent()).toBe("manual");
    expect(await runRow(run).getByTestId("run-commit").textContent()).toBe(repos[GREEN].sha().slice(0, 12));
    expect(await runRow(run).getByTestId("run-duration").textContent()).toMatch(/^(\d+\.\ds|\dm \d\ds)$/);

    // Test: the report and the coverage the test command wrote.
    expect((await t.page.locator('[data-testid="test-row"][data-service="web"]').textContent())!.replace(/\s+/g, " ")).toMatch(/web\s*3\s*0\s*0\s*0/);
    expect(await byId("coverage-row").allTextContents()).toEqual(["web3 of 475.0%"]);
    // Push: the image in the registry, with its digest.
    expect(await byId("image-row").count()).toBe(1);
    expect(await byId("image-row").textContent()).toContain(`${REGISTRY}/${GREEN}-web`);
    expect(await byId("image-digest").textContent()).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Deploy: the local engine serves it behind NGINX.
    const url = (await byId("deploy-url").getAttribute("href"))!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/?$/);
    const answer = await fetch(url);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toMatch(/^web /);
    await t.page.screenshot({ path: join(ARTIFACTS, "pipelines-succeeded.png"), fullPage: true });
  });

  test("a stage's steps are tabs, Slipway's own log first; Push's step log has the digest", async () => {
    await openProject(GREEN);
    await runRow(`${GREEN}-1`).click();
    await node("push").click();
    await expect.poll(() => byId("log-step").evaluateAll((els) => els.map((e) => e.getAttribute("data-step")))).toEqual(["slipway", "web"]);
    expect(await node("push").getAttribute("aria-pressed")).toBe("true");
    expect(await stepTab("slipway").getAttribute("aria-selected")).toBe("true");
    await expect.poll(screenText, { timeout: 20_000 }).toMatch(/push/i);
    await stepTab("web").click();
    await waitAttr("log-view", "data-step", "web");
    await expect.poll(screenText, { timeout: 20_000 }).toMatch(/digest: sha256:[0-9a-f]{64}/);
  });

  test("a step's log arrives in xterm.js in more than one chunk; search finds a term; Follow and Download", async () => {
    await openProject(GREEN);
    await runRow(`${GREEN}-1`).click();
    await node("build").click();
    await stepTab("web").click();
    await waitAttr("log-view", "data-done", "true");
    expect(Number(await logView().getAttribute("data-bytes"))).toBeGreaterThan(256 * 1024);
    await expect.poll(screenText).toMatch(/Successfully tagged /);
    expect(await logView().getAttribute("data-following")).toBe("true");
    // Line ends were converted: every line starts at the left edge (no staircase).
    const rows = (await screenText()).split("\n").filter((l) => l.trim() !== "");
    expect(rows.some((l) => /^\s{10,}\S/.test(l))).toBe(false);

    // A term near the start: search scrolls up to it, which stops following.
    await byId("log-search").fill("building the web image");
    await byId("log-search").press("Enter");
    await expect.poll(() => byId("log-search-count").textContent()).toBe("1 of 2"); // the RUN line and its output
    await waitAttr("log-view", "data-following", "false");
    // Many matches: next and previous move through them.
    await byId("log-search").fill("compiling module 1499");
    await byId("log-search-next").click();
    await expect.poll(() => byId("log-search-count").textContent()).toBe("1 of 11"); // 1499 and 14990-14999
    await byId("log-search-next").click();
    await expect.poll(() => byId("log-search-count").textContent()).toBe("2 of 11");
    await byId("log-search-prev").click();
    await expect.poll(() => byId("log-search-count").textContent()).toBe("1 of 11");
    expect(await screenText()).toContain("compiling module 1499");
    await byId("log-search").fill("no such thing anywhere");
    await byId("log-search").press("Enter");
    await expect.poll(() => byId("log-search-count").textContent()).toBe("No match");
    await t.page.screenshot({ path: join(ARTIFACTS, "pipelines-log-search.png") });

    await byId("log-follow").click();
    await waitAttr("log-view", "data-following", "true");
    await expect.poll(screenText).toMatch(/Successfully tagged /);

    // Download hands the whole text over as <run>-<stage>-<step>.log.
    const download = t.page.waitForEvent("download");
    await byId("log-download").click();
    const d = await download;
    expect(d.suggestedFilename()).toBe(`${GREEN}-1-build-web.log`);
    const { readFileSync } = await import("node:fs");
    const text = readFileSync((await d.path())!, "utf8");
    expect(text.split("\n").filter((l) => l.startsWith("compiling module ")).length).toBe(15000);
  });

  test("the test gate: a failing case fails Test with the case and the stage error; Push and Deploy are skipped", async () => {
    await addProject(RED);
    await openProject(RED);
    await byId("run-start").click();
    await waitAttr("run-detail", "data-run", `${RED}-1`, 20_000);
    expect(await runEnds()).toBe("failed");
    expect(await node("test").getAttribute("data-status")).toBe("failed");
    expect(await node("push").getAttribute("data-status")).toBe("skipped");
    expect(await node("deploy").getAttribute("data-status")).toBe("skipped");
    expect(await byId("stage-error-what").textContent()).toBe("Tests of web failed");
    expect(await byId("stage-error-why").textContent()).toBe("1 of 3 failed: test_cart_total");
    expect(await byId("stage-error-fix").textContent()).toMatch(/fix them/);
    const kase = t.page.locator('[data-testid="test-case"][data-case="test_cart_total"]');
    await kase.waitFor();
    expect(await kase.getByTestId("test-case-message").textContent()).toContain("AssertionError: assert 41 == 42");
    const row = t.page.locator('[data-testid="test-row"][data-service="web"]');
    expect((await row.textContent())!).toMatch(/web\s*2\s*1\s*0\s*0/);
    await row.getByTestId("test-expand").click();
    expect(await kase.count()).toBe(0);
    await row.getByTestId("test-expand").click();
    await kase.waitFor();
    expect(await byId("image-row").textContent()).toContain("not pushed");
    expect(await byId("deploy-url").count()).toBe(0);
    // The failed step's log is the one shown.
    expect(await stepTab("web").getAttribute("aria-selected")).toBe("true");
    await expect.poll(screenText, { timeout: 20_000 }).toContain("FAILED tests/test_web.py::test_cart_total");
    await t.page.screenshot({ path: join(ARTIFACTS, "pipelines-failed.png"), fullPage: true });
  });

  test("cancel a running run: it ends cancelled, with its later stages; Re-run starts it again as a re-run, which can be cancelled too", async () => {
    await addProject(SLOW);
    await openProject(SLOW);
    await byId("run-start").click();
    await waitAttr("run-detail", "data-run", `${SLOW}-1`, 20_000);
    await waitAttr("stage-node-build", "data-status", "running");
    await stepTab("web").click();
    await expect.poll(screenText, { timeout: 30_000 }).toContain("slow build starts");
    expect(await byId("run-rerun").count()).toBe(0);
    await byId("run-cancel").click();
    expect(await runEnds(30_000)).toBe("cancelled");
    expect(await node("build").getAttribute("data-status")).toBe("cancelled");
    expect(await node("deploy").getAttribute("data-status")).toBe("cancelled");
    expect(await runRow(`${SLOW}-1`).getAttribute("data-status")).toBe("cancelled");

    await byId("run-rerun").click();
    await waitAttr("run-detail", "data-run", `${SLOW}-2`, 20_000);
    expect(await runRow(`${SLOW}-2`).getByTestId("run-trigger").textContent()).toBe(`re-run of ${SLOW}-1`);
    await waitAttr("stage-node-build", "data-status", "running");
    await byId("run-cancel").click();
    expect(await runEnds(30_000)).toBe("cancelled");
    expect(await t.page.locator('[data-testid="run-row"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-run")))).toEqual([`${SLOW}-2`, `${SLOW}-1`]);
  });

  test("scrolling up stops following while the log grows; Follow resumes, and the end arrives", async () => {
    await addProject(GROW);
    await openProject(GROW);
    await byId("run-until").selectOption("build");
    await byId("run-start").click();
    await waitAttr("stage-node-build", "data-status", "running");
    await stepTab("web").click();
    await expect.poll(async () => Number(await logView().getAttribute("data-bytes")), { timeout: 30_000 }).toBeGreaterThan(30_000);
    expect(await logView().getAttribute("data-following")).toBe("true");

    await logView().hover();
    await t.page.mouse.wheel(0, -3000);
    await waitAttr("log-view", "data-following", "false");
    await byId("log-follow").waitFor();
    const shown = await screenText();
    const bytes = Number(await logView().getAttribute("data-bytes"));
    // More output arrives, and the view stays where the person put it.
    await expect.poll(async () => Number(await logView().getAttribute("data-bytes")), { timeout: 20_000 }).toBeGreaterThan(bytes);
    expect(await screenText()).toBe(shown);
    expect(await logView().getAttribute("data-following")).toBe("false");
    await t.page.screenshot({ path: join(ARTIFACTS, "pipelines-scrolled-up.png") });

    await byId("log-follow").click();
    await waitAttr("log-view", "data-following", "true");
    expect(await byId("log-follow").count()).toBe(0);
    await waitAttr("log-view", "data-done", "true");
    await expect.poll(screenText).toMatch(/Successfully tagged /);
    expect(await runEnds()).toBe("succeeded");
    for (const s of ["test", "push", "deploy"]) expect(await node(s).getAttribute("data-status")).toBe("skipped");
  });

  test("runs started elsewhere (the CLI, another window) appear through events; a ref that does not exist fails Checkout with its reason", async () => {
    await openProject(GREEN);
    await runRow(`${GREEN}-1`).waitFor();
    await t.invoke("start_run", { project: GREEN, gitRef: null, until: "checkout" });
    await runRow(`${GREEN}-2`).waitFor({ timeout: 20_000 });
    await expect.poll(() => runRow(`${GREEN}-2`).getAttribute("data-status"), { timeout: 60_000 }).toBe("succeeded");

    await byId("run-git-ref").fill("no-such-branch");
    await byId("run-start").click();
    await waitAttr("run-detail", "data-run", `${GREEN}-3`, 20_000);
    expect(await runEnds()).toBe("failed");
    expect(await byId("stage-error-why").textContent()).toContain('"no-such-branch" does not exist');
    expect(await node("build").getAttribute("data-status")).toBe("skipped");
    expect(await byId("run-results-empty").count()).toBe(1);
    expect(await runRow(`${GREEN}-3`).getByTestId("run-commit").textContent()).toBe("no-such-branch"); // no commit: the ref
    // Newest first.
    expect(await t.page.locator('[data-testid="run-row"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-run")))).toEqual([`${GREEN}-3`, `${GREEN}-2`, `${GREEN}-1`]);
  });

  test("works in a 960x600 window: all five stages fit in the graph", async () => {
    await t.page.setViewportSize({ width: 960, height: 600 });
    await openProject(GREEN);
    await node("deploy").waitFor();
    expect(await t.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    const graph = (await byId("stage-graph").boundingBox())!;
    const deploy = (await node("deploy").boundingBox())!;
    expect(deploy.x + deploy.width).toBeLessThanOrEqual(graph.x + graph.width);
    await t.page.screenshot({ path: join(ARTIFACTS, "pipelines-960x600.png") });
  });

  test("when the Docker engine goes away, Run is refused at once with what / why / fix, and no run is added", async () => {
    await openProject(RED);
    const before = await t.page.locator('[data-testid="run-row"]').count();
    engine.cut();
    await byId("run-start").click();
    await byId("run-start-error").waitFor({ timeout: 30_000 });
    expect(await byId("run-start-error-what").textContent()).toBe("Docker engine not available");
    expect(await byId("run-start-error-fix").textContent()).toBeTruthy();
    expect(await t.page.locator('[data-testid="run-row"]').count()).toBe(before);
  });
});
