// The Deployments page in Chromium against the mock backend (dist-mock/): what the dev
// environment runs (services, replicas, pods, the URL), a redeploy rolling out live and landing in
// the history, a rollback refused without a reason and done with one, and the merged logs of
// every replica with pod prefixes, followed live. Screenshots: tests/artifacts/ui/.
import { join } from "node:path";

import { describe, expect, test } from "vitest";

import { ARTIFACTS, browserSuite } from "./harness";

const t = browserSuite();
const byId = (id: string) => t.page.getByTestId(id);
const row = (testId: string, attr: string, value: string) => t.page.locator(`[data-testid="${testId}"][${attr}="${value}"]`);
const revisionRow = (n: number) => row("revision-row", "data-revision", String(n));
const revisionNumbers = () => t.page.locator('[data-testid="revision-row"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-revision"))));
const mockCalls = (cmd: string) => t.page.evaluate((c) => (window as any).__slipwayMock.calls.filter((x: any) => x.cmd === c).map((x: any) => x.args), cmd);

async function open(query: string) {
  await t.page.goto(`${t.server.url}${query}#/deployments`);
  await byId("nav-connect-count").waitFor(); // doctor() answered
  await byId("workload-row").first().waitFor();
}

describe("Deployments page in Chromium (mock backend)", () => {
  test("shows the services with desired and ready replicas, the pods with phase and restarts, and the app's URL", async () => {
    await open("?delay=0");
    const workloads = await t.page.locator('[data-testid="workload-row"]').evaluateAll((els) =>
      els.map((e) => ({
        name: e.getAttribute("data-workload"),
        desired: e.querySelector('[data-testid="workload-desired"]')!.textContent,
        ready: e.querySelector('[data-testid="workload-ready"]')!.textContent,
      })),
    );
    expect(workloads).toEqual([
      { name: "backend", desired: "3", ready: "3" },
      { name: "frontend", desired: "3", ready: "3" },
      { name: "db", desired: "1", ready: "1" },
      { name: "nginx", desired: "1", ready: "1" },
    ]);
    const pods = await t.page.locator('[data-testid="pod-row"]').evaluateAll((els) =>
      els.map((e) => ({
        name: e.getAttribute("data-pod")!,
        phase: e.querySelector('[data-testid="pod-phase"]')!.textContent,
        restarts: Number(e.querySelector('[data-testid="pod-restarts"]')!.textContent),
      })),
    );
    expect(pods).toHaveLength(8);
    expect(pods.every((p) => p.phase === "Running")).toBe(true);
    expect(pods.filter((p) => p.restarts > 0).map((p) => p.name.split("-")[0])).toEqual(["backend"]);
    expect(await byId("deploy-app-url").getAttribute("href")).toBe("http://172.18.0.2:31380/");
    expect(await byId("deploy-current").textContent()).toBe("revision 4");
    expect(await revisionNumbers()).toEqual([4, 3, 2, 1]);
    // The failed revision shows what failed, why (naming the pod) and what was done.
    const detail = row("revision-detail", "data-revision", "3");
    expect(await detail.getByTestId("revision-error-why").textContent()).toMatch(/^pod backend-\S+: ImagePullBackOff/);
    expect(await detail.getByTestId("revision-note").textContent()).toContain("Rolled back automatically");
    await t.page.screenshot({ path: join(ARTIFACTS, "deployments.png"), fullPage: true });
  });

  test("Redeploy shows live per-pod progress and adds a new revision to the history", async () => {
    await open("?delay=0&rollout=150");
    // Record every phase the live view shows, and whether a new pod was seen before it was ready.
    await t.page.evaluate(() => {
      const seen = { phases: [] as string[], startingPod: false };
      (window as any).__rollout = seen;
      new MutationObserver(() => {
        const el = document.querySelector<HTMLElement>('[data-testid="rollout-progress"]');
        const phase = el?.dataset.phase;
        if (phase && seen.phases.at(-1) !== phase) seen.phases.push(phase);
        if (document.querySelector('[data-testid="rollout-pod"][data-current="true"][data-ready="false"]')) seen.startingPod = true;
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await byId("deploy-redeploy").click();
    await row("rollout-progress", "data-phase", "rollingOut").waitFor();
    expect(await byId("deploy-redeploy").isDisabled()).toBe(true);
    expect(await byId("rollout-progress").getAttribute("data-revision")).toBe("5");
    await expect.poll(() => t.page.locator('[data-testid="rollout-pod"][data-current="false"]').count()).toBeGreaterThan(0); // old pods on their way out
    await revisionRow(5).waitFor();
    expect(await revisionRow(5).getAttribute("data-status")).toBe("inProgress");
    await t.page.screenshot({ path: join(ARTIFACTS, "deployments-redeploy.png"), fullPage: true });

    await row("rollout-progress", "data-phase", "succeeded").waitFor({ timeout: 15_000 });
    const seen = await t.page.evaluate(() => (window as any).__rollout);
    expect(seen.phases.filter((p: string) => p !== "applying")).toEqual(["rollingOut", "succeeded"]);
    expect(seen.startingPod).toBe(true);
    await row("revision-row", "data-status", "succeeded").first().waitFor();
    await expect.poll(() => revisionRow(5).getAttribute("data-status")).toBe("succeeded");
    expect(await revisionRow(5).getByTestId("revision-reason").textContent()).toBe("rolling restart of revision 4");
    expect(await revisionRow(5).getByTestId("revision-operation").textContent()).toBe("Redeploy");
    expect(await revisionNumbers()).toEqual([5, 4, 3, 2, 1]);
    await expect.poll(() => byId("deploy-current").textContent()).toBe("revision 5");
    expect(await byId("deploy-op-result").textContent()).toBe("Revision 5 serves at http://172.18.0.2:31380/");
    expect(await byId("deploy-redeploy").isDisabled()).toBe(false);
  });

  test("Rollback with an empty reason shows an error and creates no revision; with a reason it rolls back and records it", async () => {
    await open("?delay=0&rollout=40");
    await byId("deploy-rollback").click();
    await byId("rollback-form").waitFor();
    await byId("rollback-confirm").click();
    await byId("rollback-reason-error").waitFor();
    expect(await byId("rollback-reason-error-what").textContent()).toBe("A rollback needs a reason");
    expect(await byId("rollback-reason-error").getAttribute("role")).toBe("alert");
    expect(await mockCalls("rollback")).toEqual([]);
    expect(await revisionNumbers()).toEqual([4, 3, 2, 1]);
    await t.page.screenshot({ path: join(ARTIFACTS, "deployments-rollback-reason.png") });

    await byId("rollback-reason").fill("checkout page returns 500");
    await byId("rollback-confirm").click();
    await expect.poll(() => revisionRow(5).getAttribute("data-status"), { timeout: 15_000 }).toBe("succeeded");
    expect(await mockCalls("rollback")).toEqual([{ project: "sample-app", environment: "dev", to: null, reason: "checkout page returns 500" }]);
    expect(await revisionRow(5).getByTestId("revision-reason").textContent()).toBe("rollback to revision 1: checkout page returns 500");
    expect(await revisionRow(5).getByTestId("revision-operation").textContent()).toBe("Rollback");
    expect(await byId("rollback-form").count()).toBe(0);
    // Revision 1's images serve again.
    const run1 = await revisionRow(1).getByTestId("revision-images").getAttribute("title");
    await expect.poll(() => byId("deploy-current").textContent()).toBe("revision 5");
    const backendImage = run1!.split(", ")[0].split(" ")[1];
    await expect.poll(() => row("workload-row", "data-workload", "backend").getByTestId("workload-images").textContent()).toBe(backendImage);
  });

  test("merged logs show pod-name prefixes in a colour per pod, and follow mode appends new lines while at the bottom", async () => {
    await open("?delay=0&logstep=150");
    await row("deploy-log-view", "data-done", "true").waitFor();
    const pods = new Set(await t.page.locator('[data-testid="pod-row"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-pod"))));
    const lines = await t.page.locator('[data-testid="deploy-log-line"]').evaluateAll((els) =>
      els.map((e) => {
        const prefix = e.querySelector<HTMLElement>('[data-testid="deploy-log-pod"]')!;
        return { pod: e.getAttribute("data-pod")!, prefix: prefix.textContent!, colour: getComputedStyle(prefix).color, text: e.textContent! };
      }),
    );
    expect(lines.length).toBeGreaterThan(20);
    for (const l of lines) {
      expect(pods.has(l.prefix)).toBe(true);
      expect(l.prefix).toBe(l.pod);
      expect(l.text.startsWith(`${l.pod} `)).toBe(true);
    }
    const colours = new Map(lines.map((l) => [l.pod, l.colour]));
    expect(colours.size).toBe(pods.size);
    expect(new Set(colours.values()).size).toBe(pods.size);

    // Follow: new lines arrive and the view stays at the bottom.
    const before = Number(await byId("deploy-log-view").getAttribute("data-lines"));
    await byId("deploy-log-follow").check();
    await expect.poll(async () => Number(await byId("deploy-log-view").getAttribute("data-lines")), { timeout: 10_000 }).toBeGreaterThan(before + 5);
    const atEnd = () => byId("deploy-log-view").evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 4);
    await expect.poll(atEnd).toBe(true);
    expect(await t.page.locator('[data-testid="deploy-log-line"]').last().textContent()).toMatch(/"GET (\/|\/api\/items) HTTP\/1.1" 200/);
    await t.page.screenshot({ path: join(ARTIFACTS, "deployments-logs.png"), fullPage: true });

    // Scrolled up, the view stays where it is while lines keep coming; Jump to the end follows again.
    await byId("deploy-log-view").evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event("scroll"));
    });
    await row("deploy-log-view", "data-at-bottom", "false").waitFor();
    const n = Number(await byId("deploy-log-view").getAttribute("data-lines"));
    await expect.poll(async () => Number(await byId("deploy-log-view").getAttribute("data-lines")), { timeout: 10_000 }).toBeGreaterThan(n);
    expect(await byId("deploy-log-view").evaluate((el) => el.scrollTop)).toBe(0);
    await byId("deploy-log-bottom").click();
    await row("deploy-log-view", "data-at-bottom", "true").waitFor();
    await expect.poll(atEnd).toBe(true);

    // Follow off: the page ends the followed stream on the backend (stop_stream names its channel),
    // which then sends nothing more on it.
    const followed = await t.page.evaluate(() =>
      (window as any).__slipwayMock.calls.filter((x: any) => x.cmd === "follow_deploy_logs" && x.args.follow).map((x: any) => x.args.onChunk.id as number),
    );
    expect(followed).toHaveLength(1);
    await byId("deploy-log-follow").uncheck();
    await expect.poll(() => mockCalls("stop_stream").then((c) => c.map((a: any) => a.channel))).toEqual(followed);
    await expect.poll(() => t.page.evaluate(() => (window as any).__slipwayMock.deploy.follows.size)).toBe(0);
  });

  test("works in a 960x600 window", async () => {
    await t.page.setViewportSize({ width: 960, height: 600 });
    await open("?delay=0");
    const overflow = await t.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await t.page.screenshot({ path: join(ARTIFACTS, "deployments-960x600.png") });
  });
});
