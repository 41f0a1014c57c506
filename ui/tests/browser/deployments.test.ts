// The Deployments page in Chromium against the real commands (slipway-ipc-bridge on a fresh data
// folder), deploying a small busybox project's images to the test environment's Kubernetes
// control plane (real pods on its kubelet) in a namespace of this suite's own: an environment
// added from the kubeconfig's contexts (refusals first), a deploy and what runs (workloads, pods,
// the URL answering), a redeploy rolling out live, merged logs followed and stopped, rollback
// (refused without a reason, to the previous images, to a named revision), a rollout that fails
// and rolls itself back, teardown, a cluster that does not answer, editing and removing
// environments, and a local environment. Screenshots: tests/artifacts/ui/.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, describe, expect, test } from "vitest";

import { ARTIFACTS, browserSuite, gitRepo, need, removeDockerObjects, unique } from "./harness";
import { webProject } from "./fixtures";

const KUBECONFIG = need("SLIPWAY_TEST_KUBECONFIG");
const CONTEXT = need("SLIPWAY_TEST_K8S_CONTEXT");
const KUBECTL = need("SLIPWAY_TEST_KUBECTL");
const PROJECT = unique("dep");
const NS = unique("ui-deploy");
const repo = gitRepo(webProject({ replicas: 2 }));
// The same kubeconfig with its server moved to a closed port: a cluster that does not answer.
const deadKubeconfig = readFileSync(KUBECONFIG, "utf8").replace(/server:\s*\S+/g, "server: https://127.0.0.1:1");

const t = browserSuite({
  name: "deployments",
  home: { ".kube/config": readFileSync(KUBECONFIG, "utf8"), ".kube/dead.yaml": deadKubeconfig },
});
afterAll(() => {
  spawnSync(KUBECTL, ["--kubeconfig", KUBECONFIG, "delete", "namespace", NS, "--ignore-not-found", "--wait=false"]);
  repo.remove();
  removeDockerObjects(PROJECT);
});

const byId = (id: string) => t.page.getByTestId(id);
const row = (testId: string, attr: string, value: string) => t.page.locator(`[data-testid="${testId}"][${attr}="${value}"]`);
const revisionRow = (n: number) => row("revision-row", "data-revision", String(n));
const revisionNumbers = () => t.page.locator('[data-testid="revision-row"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-revision"))));
const kubectl = (...args: string[]) => spawnSync(KUBECTL, ["--kubeconfig", KUBECONFIG, ...args], { encoding: "utf8" }).stdout;
/** The web Deployment's image in the namespace. */
const webImage = () => kubectl("-n", NS, "get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}");

type Run = { id: string; status: string; artifacts: { images: { image: string }[] } };
/** A run of the project until Build, through the command the Pipelines page uses; waits for its end. */
async function build(): Promise<Run> {
  const run = await t.invoke<Run>("start_run", { project: PROJECT, gitRef: null, until: "build" });
  const end = Date.now() + 180_000;
  for (;;) {
    const r = await t.invoke<Run>("get_run", { run: run.id });
    if (["succeeded", "failed", "cancelled"].includes(r.status)) {
      expect(r.status, JSON.stringify(r)).toBe("succeeded");
      return r;
    }
    if (Date.now() > end) throw new Error(`run ${run.id} did not end`);
    await new Promise((ok) => setTimeout(ok, 500));
  }
}

async function open(env = "dev") {
  await t.open(`#/deployments?project=${PROJECT}&env=${env}`);
  await byId("env-view").waitFor({ timeout: 30_000 });
}

/** Waits for revision `n` to end; its status. */
async function revisionEnds(n: number, timeout = 180_000): Promise<string> {
  await t.page.locator(`[data-testid="revision-row"][data-revision="${n}"]:not([data-status="inProgress"])`).waitFor({ timeout });
  return (await revisionRow(n).getAttribute("data-status"))!;
}

describe("Deployments page in Chromium (real commands, the test cluster)", () => {
  test("no project: a link to the Project page", async () => {
    await t.open("#/deployments");
    await byId("deployments-empty").waitFor();
    expect(await byId("deployments-empty").textContent()).toContain("No project yet");
    expect(await byId("deployments-empty").getByRole("link").getAttribute("href")).toBe("#/project");
  });

  test("add an environment: contexts from the kubeconfig, refusals shown as what / why / fix, then saved for runs", async () => {
    const p = await t.invoke("detect_project", { input: { source: { kind: "path", path: repo.dir }, id: PROJECT } });
    await t.invoke("save_project", { project: p });
    await t.open(`#/deployments?project=${PROJECT}`);
    await byId("env-empty").waitFor({ timeout: 30_000 });
    expect(await byId("env-empty").textContent()).toContain("pipeline runs deploy to the local Docker engine");
    await byId("env-empty-add").click();
    await byId("env-form").waitFor();
    // The contexts of ~/.kube/config.
    await expect.poll(() => byId("env-context").locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), { timeout: 20_000 }).toEqual(["", CONTEXT]);
    await byId("env-name").fill("dev");
    await byId("env-context").selectOption(CONTEXT);
    await byId("env-namespace").fill("Team_A");
    await byId("env-runs").check();
    await byId("env-save").click();
    await byId("env-save-error").waitFor({ timeout: 20_000 });
    expect(await byId("env-save-error-what").textContent()).toBe("Environment settings are not valid");
    expect(await byId("env-save-error-why").textContent()).toContain('"Team_A" is not a Kubernetes namespace name');
    expect(await t.invoke("environments", { project: PROJECT })).toEqual([]);

    // A kubeconfig that is not there.
    await byId("env-kubeconfig").fill(join(t.bridge.home, "missing.yaml"));
    await byId("env-contexts-load").click();
    await byId("env-contexts-error").waitFor({ timeout: 20_000 });
    expect(await byId("env-contexts-error-what").textContent()).toBe("No usable kubeconfig");
    await byId("env-kubeconfig").fill("");

    await byId("env-namespace").fill(NS);
    await byId("env-deadline").fill("60");
    await byId("env-save").click();
    await byId("env-form").waitFor({ state: "detached", timeout: 20_000 });
    await row("env-tab", "data-env", "dev").and(t.page.locator('[aria-selected="true"]')).waitFor();
    expect(await row("env-tab", "data-env", "dev").getAttribute("data-runs")).toBe("true");
    await byId("env-runs-badge").waitFor();
    await byId("deploy-nothing").waitFor({ timeout: 30_000 });
    expect(await byId("deploy-nothing").textContent()).toContain("Nothing deployed to dev yet");
    expect(await byId("env-target").textContent()).toContain(`context ${CONTEXT}`);
    expect(await byId("env-target").textContent()).toContain(NS);
  });

  test("deploy the newest run's images: every rollout watched; services, pods and the URL that answers", async () => {
    const a = await build();
    await open();
    await byId("deploy-deploy").click();
    expect(await revisionEnds(1)).toBe("succeeded");
    expect(await revisionRow(1).getByTestId("revision-reason").textContent()).toMatch(new RegExp(`^run ${a.id}, commit [0-9a-f]{12}`));
    expect(await revisionRow(1).getByTestId("revision-run").textContent()).toBe(a.id);
    await expect.poll(() => byId("deploy-current").textContent(), { timeout: 30_000 }).toBe("revision 1");
    const ready = () =>
      t.page.locator('[data-testid="workload-row"]').evaluateAll((els) =>
        Object.fromEntries(els.map((e) => [e.getAttribute("data-workload"), `${e.querySelector('[data-testid="workload-ready"]')!.textContent}/${e.querySelector('[data-testid="workload-desired"]')!.textContent}`])),
      );
    // The service and the NGINX proxy Slipway generates in front of it.
    await expect.poll(ready, { timeout: 60_000 }).toEqual({ web: "2/2", "slipway-proxy": "1/1" });
    expect(await row("workload-row", "data-workload", "slipway-proxy").getAttribute("data-role")).toBe("proxy");
    expect(await row("workload-row", "data-workload", "web").getByTestId("workload-images").textContent()).toBe(a.artifacts.images[0].image);
    const pods = await t.page.locator('[data-testid="pod-row"]').evaluateAll((els) => els.map((e) => [e.getAttribute("data-pod"), e.getAttribute("data-phase")]));
    expect(pods.filter(([p]) => p!.startsWith("web-"))).toHaveLength(2);
    expect(pods.every(([, phase]) => phase === "Running")).toBe(true);
    expect(await byId("deploy-context").textContent()).toBe(CONTEXT);
    expect(await byId("deploy-namespace").textContent()).toBe(NS);
    const url = (await byId("deploy-app-url").getAttribute("href"))!;
    expect(url).toMatch(/^http:\/\/[^/]+:\d+\/?$/);
    await expect.poll(async () => (await fetch(url).catch(() => null))?.status, { timeout: 30_000 }).toBe(200);
    await row("endpoint-row", "data-service", "slipway-proxy").waitFor();
    await t.page.screenshot({ path: join(ARTIFACTS, "deployments.png"), fullPage: true });
  });

  test("Redeploy rolls out live: new pods start while the old ones go, and a new revision lands in the history", async () => {
    await open();
    await expect.poll(() => byId("deploy-current").textContent(), { timeout: 30_000 }).toBe("revision 1");
    // Every phase the live view shows, and whether a new pod was seen before it was ready.
    await t.page.evaluate(() => {
      const seen = { phases: [] as string[], startingPod: false, oldPod: false };
      (window as unknown as { __rollout: typeof seen }).__rollout = seen;
      new MutationObserver(() => {
        const phase = document.querySelector<HTMLElement>('[data-testid="rollout-progress"]')?.dataset.phase;
        if (phase && seen.phases.at(-1) !== phase) seen.phases.push(phase);
        if (document.querySelector('[data-testid="rollout-pod"][data-current="true"][data-ready="false"]')) seen.startingPod = true;
        if (document.querySelector('[data-testid="rollout-pod"][data-current="false"]')) seen.oldPod = true;
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await byId("deploy-redeploy").click();
    await expect.poll(() => byId("deploy-deploy").isDisabled()).toBe(true);
    expect(await byId("deploy-rollback").isDisabled()).toBe(true);
    await row("rollout-progress", "data-revision", "2").waitFor({ timeout: 30_000 });
    expect(await byId("rollout-progress").getAttribute("data-operation")).toBe("redeploy");
    await revisionRow(2).waitFor();
    expect(await revisionRow(2).getByTestId("revision-reason").textContent()).toBe("rolling restart of revision 1");
    await row("rollout-progress", "data-phase", "succeeded").waitFor({ timeout: 120_000 });
    const seen = await t.page.evaluate(() => (window as unknown as { __rollout: { phases: string[]; startingPod: boolean; oldPod: boolean } }).__rollout);
    expect(seen.phases.filter((p) => p !== "applying")).toEqual(["rollingOut", "succeeded"]);
    expect(seen.startingPod).toBe(true);
    expect(seen.oldPod).toBe(true);
    expect(await revisionEnds(2)).toBe("succeeded");
    expect(await revisionRow(2).getByTestId("revision-operation").textContent()).toBe("Redeploy");
    expect(await revisionNumbers()).toEqual([2, 1]);
    await expect.poll(() => byId("deploy-current").textContent(), { timeout: 30_000 }).toBe("revision 2");
    expect(await byId("deploy-op-result").textContent()).toMatch(/^Revision 2 serves at http:\/\//);
    expect(await byId("deploy-redeploy").isDisabled()).toBe(false);
    await t.page.screenshot({ path: join(ARTIFACTS, "deployments-redeploy.png"), fullPage: true });
  });

  test("merged logs: every line has its pod as prefix, a colour per pod; Follow appends what new requests log; Follow off ends the stream; Tail 0 shows nothing old", async () => {
    await open();
    const url = (await byId("deploy-app-url").getAttribute("href"))!;
    for (let i = 0; i < 6; i++) await fetch(url);
    await row("deploy-log-view", "data-done", "true").waitFor({ timeout: 30_000 });
    await expect.poll(() => t.page.locator('[data-testid="deploy-log-line"]').count(), { timeout: 30_000 }).toBeGreaterThan(2);
    const pods = new Set(await t.page.locator('[data-testid="pod-row"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-pod"))));
    const lines = await t.page.locator('[data-testid="deploy-log-line"]').evaluateAll((els) =>
      els.map((e) => {
        const prefix = e.querySelector<HTMLElement>('[data-testid="deploy-log-pod"]')!;
        return { pod: e.getAttribute("data-pod")!, prefix: prefix.textContent!, colour: getComputedStyle(prefix).color, text: e.textContent! };
      }),
    );
    for (const l of lines) {
      expect(pods.has(l.prefix)).toBe(true);
      expect(l.prefix).toBe(l.pod);
    }
    const colours = new Map(lines.map((l) => [l.pod, l.colour]));
    expect(new Set(colours.values()).size).toBe(colours.size);

    // Follow: requests to the app log new lines, which arrive while the view stays at the bottom.
    const before = Number(await byId("deploy-log-view").getAttribute("data-lines"));
    await byId("deploy-log-follow").check();
    const traffic = setInterval(() => void fetch(url).catch(() => {}), 300);
    try {
      await expect.poll(async () => Number(await byId("deploy-log-view").getAttribute("data-lines")), { timeout: 30_000 }).toBeGreaterThan(before + 3);
      const atEnd = () => byId("deploy-log-view").evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 4);
      await expect.poll(atEnd).toBe(true);
      await t.page.screenshot({ path: join(ARTIFACTS, "deployments-logs.png"), fullPage: true });

      // Follow off: the page ends the stream on the Rust side; nothing more arrives.
      await byId("deploy-log-follow").uncheck();
      await new Promise((r) => setTimeout(r, 1500));
      const stopped = Number(await byId("deploy-log-view").getAttribute("data-lines"));
      await new Promise((r) => setTimeout(r, 3000));
      expect(Number(await byId("deploy-log-view").getAttribute("data-lines"))).toBe(stopped);
    } finally {
      clearInterval(traffic);
    }

    // Tail 1: the last line of each container only.
    const all = Number(await byId("deploy-log-view").getAttribute("data-lines"));
    await byId("deploy-log-tail").fill("1");
    await byId("deploy-log-tail").press("Enter");
    await expect.poll(async () => Number(await byId("deploy-log-view").getAttribute("data-lines")), { timeout: 30_000 }).toBeLessThan(all);
    await row("deploy-log-view", "data-done", "true").waitFor({ timeout: 30_000 });
    const perPod = await t.page.locator('[data-testid="deploy-log-line"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-pod")));
    expect(perPod.length).toBeGreaterThan(0);
    expect(new Set(perPod).size).toBe(perPod.length); // one line per container
  });

  test("rollback: refused without a reason (nothing runs), then back to the previous images with the reason recorded; Roll back to this names a revision", async () => {
    await open();
    // A second image set: commit B, built, deployed as revision 3.
    repo.commit({ "web/Dockerfile": readFileSync(join(repo.dir, "web/Dockerfile"), "utf8").replace("echo web", "echo release-b") }, "release B");
    const b = await build();
    await byId("deploy-deploy").click();
    expect(await revisionEnds(3)).toBe("succeeded");
    expect(webImage()).toBe(b.artifacts.images[0].image);

    await byId("deploy-rollback").click();
    await byId("rollback-form").waitFor();
    expect(await byId("rollback-form").textContent()).toMatch(/back to revision 2/);
    await byId("rollback-reason").fill("   ");
    await byId("rollback-confirm").click();
    await byId("rollback-reason-error").waitFor();
    expect(await byId("rollback-reason-error-what").textContent()).toBe("A rollback needs a reason");
    expect(await byId("rollback-reason-error").getAttribute("role")).toBe("alert");
    expect(await byId("rollback-reason").getAttribute("aria-invalid")).toBe("true");
    expect(await revisionNumbers()).toEqual([3, 2, 1]);
    await t.page.screenshot({ path: join(ARTIFACTS, "deployments-rollback-reason.png") });

    await byId("rollback-reason").fill("release B shows the wrong title");
    await byId("rollback-confirm").click();
    await byId("rollback-form").waitFor({ state: "detached" });
    expect(await revisionEnds(4)).toBe("succeeded");
    expect(await revisionRow(4).getByTestId("revision-reason").textContent()).toBe("rollback to revision 2: release B shows the wrong title");
    expect(await revisionRow(4).getByTestId("revision-operation").textContent()).toBe("Rollback");
    await expect.poll(() => byId("deploy-current").textContent(), { timeout: 30_000 }).toBe("revision 4");
    const aImage = (await revisionRow(1).getByTestId("revision-images").getAttribute("title"))!;
    expect(aImage).toContain(webImage());
    await expect.poll(() => row("workload-row", "data-workload", "web").getByTestId("workload-images").textContent(), { timeout: 30_000 }).toBe(webImage());

    // Roll back to this: revision 3 (B) by name, Enter confirms.
    await revisionRow(3).getByTestId("revision-rollback").click();
    expect(await byId("rollback-form").textContent()).toMatch(/back to revision 3/);
    await byId("rollback-reason").fill("B was fine after all");
    await byId("rollback-reason").press("Enter");
    expect(await revisionEnds(5)).toBe("succeeded");
    expect(await revisionRow(5).getByTestId("revision-reason").textContent()).toBe("rollback to revision 3: B was fine after all");
    expect(webImage()).toBe(b.artifacts.images[0].image);
  });

  test("a rollout that fails names the pod and the reason, and rolls back by itself: the previous images serve again", async () => {
    await open();
    // Commit C: a web that exits at once (CrashLoopBackOff).
    repo.commit({ "web/Dockerfile": "FROM slipway/busybox:latest\nEXPOSE 8080\nCMD [\"sh\", \"-c\", \"echo crashing on purpose; exit 3\"]\n" }, "release C crashes");
    const good = webImage();
    await build();
    await byId("deploy-deploy").click();
    await byId("deploy-op-error").waitFor({ timeout: 240_000 });
    expect(await byId("deploy-op-error-what").textContent()).toBe("The rollout of web failed");
    expect(await byId("deploy-op-error-why").textContent()).toMatch(/^pod web-\S+: /);
    expect(await byId("deploy-op-error-fix").textContent()).toContain("Rolled back automatically: revision 7 (the images of revision 5) serves again.");
    expect(await revisionEnds(7)).toBe("succeeded");
    expect(await revisionRow(6).getAttribute("data-status")).toBe("failed");
    expect(await revisionRow(7).getByTestId("revision-reason").textContent()).toBe("automatic rollback to revision 5: revision 6 failed");
    expect(webImage()).toBe(good);
    await t.page.screenshot({ path: join(ARTIFACTS, "deployments-auto-rollback.png"), fullPage: true });
  });

  test("the history: newest first, why each happened, the failed one's error and note; Roll back to this only on older good revisions", async () => {
    await open();
    await revisionRow(7).waitFor();
    expect(await revisionNumbers()).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(await revisionRow(7).getByTestId("revision-current").textContent()).toContain("serving");
    const detail = row("revision-detail", "data-revision", "6");
    expect(await detail.getByTestId("revision-error-what").textContent()).toBe("The rollout of web failed");
    expect(await detail.getByTestId("revision-note").textContent()).toContain("Rolled back automatically");
    expect(await revisionRow(1).getByTestId("revision-when").textContent()).toMatch(/ · \d/);
    const rollbackable = [];
    for (const n of await revisionNumbers()) if ((await revisionRow(n).getByTestId("revision-rollback").count()) > 0) rollbackable.push(n);
    expect(rollbackable).not.toContain(7); // serving
    expect(rollbackable).not.toContain(6); // failed
    expect(rollbackable).toContain(4);
    await t.page.screenshot({ path: join(ARTIFACTS, "deployments-history.png"), fullPage: true });
  });

  test("Tear down asks first (cancel: nothing runs), then deletes the namespace; the history stays", async () => {
    await open();
    await byId("deploy-app-url").waitFor({ timeout: 30_000 });
    await byId("deploy-teardown").click();
    expect(await byId("teardown-box").textContent()).toContain(NS);
    await byId("teardown-cancel").click();
    await byId("teardown-box").waitFor({ state: "detached" });
    expect(kubectl("get", "namespace", NS, "-o", "name").trim()).toBe(`namespace/${NS}`);
    await byId("deploy-teardown").click();
    await byId("teardown-confirm").click();
    await byId("deploy-op-result").filter({ hasText: `Tearing down: namespace ${NS} is being deleted` }).waitFor({ timeout: 30_000 });
    await expect.poll(() => byId("deploy-app-url").count(), { timeout: 60_000 }).toBe(0);
    expect(kubectl("get", "namespace", NS, "-o", "jsonpath={.status.phase}")).toMatch(/^(Terminating|)$/);
    expect(await revisionNumbers()).toEqual([7, 6, 5, 4, 3, 2, 1]);
  });

  test("an environment whose cluster does not answer shows the error beside what is known; editing refuses a bad deadline; environments removed, the last one explains where runs deploy", async () => {
    await open();
    await byId("env-add").click();
    await byId("env-name").fill("production");
    await byId("env-kubeconfig").fill(join(t.bridge.home, ".kube/dead.yaml"));
    await byId("env-contexts-load").click();
    await expect.poll(() => byId("env-context").locator("option").count(), { timeout: 20_000 }).toBeGreaterThan(1);
    await byId("env-context").selectOption(CONTEXT);
    await byId("env-namespace").fill("prod-app");
    await byId("env-save").click();
    await row("env-tab", "data-env", "production").and(t.page.locator('[aria-selected="true"]')).waitFor({ timeout: 20_000 });
    await byId("deploy-status-error").waitFor({ timeout: 60_000 });
    expect(await byId("deploy-status-error-what").textContent()).toBe("Cannot connect to the Kubernetes cluster");
    expect(await byId("deploy-status-error-why").textContent()).toContain("127.0.0.1:1");
    expect(await byId("deploy-namespace").textContent()).toBe("prod-app");
    expect(await byId("deploy-nothing").textContent()).toContain("Nothing deployed to production yet");
    expect(await byId("deploy-redeploy").isDisabled()).toBe(true);
    expect(await byId("deploy-rollback").isDisabled()).toBe(true);
    await byId("deploy-log-error").waitFor({ timeout: 60_000 });
    expect(await byId("deploy-log-error-what").textContent()).toBe("Cannot connect to the Kubernetes cluster");

    await byId("env-edit").click();
    expect(await byId("env-name").isDisabled()).toBe(true);
    expect(await byId("env-name").inputValue()).toBe("production");
    await byId("env-deadline").fill("5");
    await byId("env-save").click();
    await byId("env-save-error").waitFor({ timeout: 20_000 });
    expect(await byId("env-save-error-fix").textContent()).toContain("Use 10 to 3600 seconds");
    await byId("env-cancel").click();

    for (const name of ["production", "dev"]) {
      await row("env-tab", "data-env", name).click();
      await byId("env-remove").click();
      expect(await byId("env-remove-box").textContent()).toContain(`Remove ${name} and its revision history`);
      await byId("env-remove-confirm").click();
      await byId("env-remove-box").waitFor({ state: "detached", timeout: 20_000 });
    }
    await byId("env-empty").waitFor();
    expect(await byId("env-empty").textContent()).toContain("pipeline runs deploy to the local Docker engine");
    expect(await t.invoke("environments", { project: PROJECT })).toEqual([]);
  });

  test("a local environment deploys the newest run on the local engine; redeploy and logs are for Kubernetes", async () => {
    // Commit D: a web that serves again, built.
    repo.commit(webProject({ replicas: 2 }), "release D");
    await build();
    await t.open(`#/deployments?project=${PROJECT}`);
    await byId("env-empty-add").click();
    await byId("env-name").fill("laptop");
    await byId("env-kind-local").check();
    expect(await byId("env-context").count()).toBe(0);
    await byId("env-save").click();
    await row("env-tab", "data-env", "laptop").and(t.page.locator('[aria-selected="true"]')).waitFor({ timeout: 20_000 });
    await byId("deploy-local-note").waitFor();
    expect(await byId("deploy-redeploy").count()).toBe(0);
    expect(await byId("deploy-log-view").count()).toBe(0);
    await byId("deploy-deploy").click();
    await byId("deploy-op-result").filter({ hasText: /^Revision 1 serves at http:\/\/127\.0\.0\.1:\d+\/?$/ }).waitFor({ timeout: 180_000 });
    const url = (await byId("deploy-op-result").textContent())!.replace(/^Revision 1 serves at /, "");
    const answer = await fetch(url);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toMatch(/^web /);
    expect(await revisionRow(1).getByTestId("revision-operation").textContent()).toBe("Deploy");
  });
});
