// The Insights page in Chromium against the real commands (slipway-ipc-bridge on a fresh data
// folder): no project yet; then a project whose environment on the test cluster gets a real run's
// images deployed, so the four measures show one deploy with its band and its week, and the
// project's audit trail lists the run and the deploy, filtered and exported.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, describe, expect, test } from "vitest";

import { webProject } from "./fixtures";
import { ARTIFACTS, browserSuite, gitRepo, need, removeDockerObjects, unique } from "./harness";

const KUBECONFIG = need("SLIPWAY_TEST_KUBECONFIG");
const KUBECTL = need("SLIPWAY_TEST_KUBECTL");
const PROJECT = unique("ins");
const NS = unique("ui-insights");
const repo = gitRepo(webProject());

const t = browserSuite({ name: "insights" });
afterAll(() => {
  spawnSync(KUBECTL, ["--kubeconfig", KUBECONFIG, "delete", "namespace", NS, "--ignore-not-found", "--wait=false"]);
  repo.remove();
  removeDockerObjects(PROJECT);
});
const byId = (id: string) => t.page.getByTestId(id);
const measure = (m: string) => t.page.locator(`[data-testid="insights-measure"][data-measure="${m}"]`);

type Run = { id: string; status: string };

describe("Insights page in Chromium (real commands, the test cluster)", () => {
  test("no project yet: the page says so", async () => {
    await t.open("#/insights");
    await byId("insights-empty").waitFor({ timeout: 30_000 });
  });

  test("a real deploy on the test cluster: one deploy in the measures, its week in the trend, and the project's audit trail with the run and the deploy", async () => {
    await t.invoke("connect_aws", { input: { source: "sandbox", region: null } });
    const p = await t.invoke("detect_project", { input: { source: { kind: "path", path: repo.dir }, id: PROJECT } });
    await t.invoke("save_project", { project: p });
    await t.invoke("save_environment", {
      environment: {
        project: PROJECT,
        name: "live",
        target: { kind: "kubernetes", context: need("SLIPWAY_TEST_K8S_CONTEXT"), kubeconfig: KUBECONFIG, namespace: NS, database: { kind: "inCluster" }, progressDeadlineSecs: null },
        runs: false,
      },
    });
    const run = await t.invoke<Run>("start_run", { project: PROJECT, gitRef: null, until: "build" });
    const end = Date.now() + 240_000;
    for (;;) {
      const r = await t.invoke<Run>("get_run", { run: run.id });
      if (["succeeded", "failed", "cancelled"].includes(r.status)) {
        expect(r.status, JSON.stringify(r)).toBe("succeeded");
        break;
      }
      if (Date.now() > end) throw new Error(`run ${run.id} did not end`);
      await new Promise((ok) => setTimeout(ok, 500));
    }
    const rev = await t.invoke<{ status: string }>("deploy", { project: PROJECT, environment: "live", run: run.id });
    expect(rev.status).toBe("succeeded");

    await t.open(`#/insights?project=${PROJECT}`);
    const env = t.page.locator('[data-testid="insights-env"][data-env="live"]');
    await env.waitFor({ timeout: 30_000 });
    // One deploy in the window; nothing failed, so nothing to restore.
    await expect.poll(() => measure("frequency").getByTestId("insights-measure-value").textContent(), { timeout: 20_000 }).toMatch(/^1\b/);
    expect(await measure("failure").getByTestId("insights-measure-value").textContent()).toMatch(/^0(\.0)?\s*%/);
    expect(["elite", "high", "medium", "low", "none"]).toContain(await measure("frequency").getAttribute("data-band"));
    // The trend has this week's bar.
    expect(await measure("frequency").locator('[data-testid="insights-trend"] rect[data-week]').count()).toBeGreaterThan(0);

    // The audit trail: who did what, newest first; the filter narrows it; the export is JSON.
    const actions = () => t.page.locator('[data-testid="audit-row"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-action")));
    // The project's entries (a connection belongs to no project): its run and its deploy, newest first.
    await expect.poll(actions, { timeout: 20_000 }).toEqual(expect.arrayContaining(["run", "deploy"]));
    expect((await actions()).indexOf("deploy")).toBeLessThan((await actions()).lastIndexOf("run"));
    await byId("audit-action").selectOption("deploy");
    await expect.poll(async () => [...new Set(await actions())]).toEqual(["deploy"]);
    const download = t.page.waitForEvent("download");
    await byId("audit-export-json").click();
    const d = await download;
    const exported = JSON.parse(readFileSync((await d.path())!, "utf8")) as { action: string }[];
    expect(exported.length).toBeGreaterThan(0);
    expect([...new Set(exported.map((e) => e.action))]).toEqual(["deploy"]);
    await t.page.screenshot({ path: join(ARTIFACTS, "insights.png"), fullPage: true });
  });
});
