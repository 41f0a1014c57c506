import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test, vi } from "vitest";

import type { Event } from "../../bindings/Event";
import { APP_URL, SAMPLE_NAMESPACE } from "../../testing/mockDeploy";
import { renderApp } from "../../testing/render";

const id = (testId: string) => screen.getByTestId(testId);
const rows = (testId: string) => screen.queryAllByTestId(testId);
const by = (testId: string, attr: string, value: string) => rows(testId).find((r) => r.getAttribute(attr) === value)!;
const revisionRow = (n: number) => by("revision-row", "data-revision", String(n));
const revisionNumbers = () => rows("revision-row").map((r) => Number(r.getAttribute("data-revision")));
const calls = (backend: { calls: { cmd: string; args: unknown }[] }, cmd: string) => backend.calls.filter((c) => c.cmd === cmd).map((c) => c.args);

/** Opens the page and waits for `ready` (the dev environment's services by default). */
async function openDeployments(opts: { rolloutStepMs?: number; logStepMs?: number; scenario?: "fresh"; hash?: string; ready?: string } = {}) {
  const r = await renderApp({ hash: opts.hash ?? "#/deployments", ...opts });
  if (opts.scenario !== "fresh") await screen.findAllByTestId(opts.ready ?? "workload-row");
  return r;
}

describe("Deployments page", () => {
  test("shows where dev runs: services with replicas and images, pods with phase and restarts, endpoints and the URL", async () => {
    const { backend } = await openDeployments();
    expect(calls(backend, "deploy_status")[0]).toEqual({ project: "sample-app", environment: "dev" });
    expect(rows("env-tab").map((t) => t.getAttribute("data-env"))).toEqual(["dev", "production"]);
    expect(by("env-tab", "data-env", "dev")).toHaveAttribute("aria-selected", "true");
    expect(id("env-target")).toHaveTextContent("Kubernetes · context slipway-test · namespace (from the manifests) · database in the cluster");
    expect(id("deploy-context")).toHaveTextContent("slipway-test");
    expect(id("deploy-server")).toHaveTextContent("https://127.0.0.1:6443/");
    expect(id("deploy-namespace")).toHaveTextContent(SAMPLE_NAMESPACE);
    expect(id("deploy-current")).toHaveTextContent("revision 4");
    expect(id("deploy-app-url")).toHaveAttribute("href", APP_URL);

    expect(rows("workload-row").map((r) => r.getAttribute("data-workload"))).toEqual(["backend", "frontend", "db", "nginx"]);
    const backendRow = by("workload-row", "data-workload", "backend");
    expect(within(backendRow).getByTestId("workload-desired")).toHaveTextContent("3");
    expect(within(backendRow).getByTestId("workload-ready")).toHaveTextContent("3");
    expect(within(backendRow).getByTestId("workload-images").textContent).toMatch(/^sample-app-backend:[0-9a-f]{12}$/);
    expect(by("workload-row", "data-workload", "nginx")).toHaveAttribute("data-role", "proxy");

    const pods = rows("pod-row");
    expect(pods).toHaveLength(8);
    expect(pods.every((p) => p.getAttribute("data-phase") === "Running" && p.getAttribute("data-ready") === "true")).toBe(true);
    const restarted = pods.filter((p) => p.getAttribute("data-restarts") === "1");
    expect(restarted).toHaveLength(1);
    expect(restarted[0].getAttribute("data-pod")).toMatch(/^backend-[a-z0-9]{10}-[a-z0-9]{5}$/);
    expect(within(restarted[0]).getByTestId("pod-restarts")).toHaveTextContent("1");
    expect(within(restarted[0]).getByTestId("pod-node").textContent).toMatch(/^slipway-/);
    expect(by("endpoint-row", "data-service", "nginx")).toHaveTextContent(`LoadBalancer8031380${APP_URL}`);
  });

  test("the history: newest first, why, the failed deploy's error and note, and Roll back to this only on older good ones", async () => {
    await openDeployments();
    expect(revisionNumbers()).toEqual([4, 3, 2, 1]);
    expect(within(revisionRow(4)).getByTestId("revision-current")).toHaveTextContent("serving");
    expect(within(revisionRow(4)).getByTestId("revision-operation")).toHaveTextContent("Rollback");
    expect(within(revisionRow(4)).getByTestId("revision-reason")).toHaveTextContent("automatic rollback to revision 2: revision 3 failed");
    expect(within(revisionRow(2)).getByTestId("revision-reason").textContent).toMatch(/^run sample-app-5, commit [0-9a-f]{12} \(Show the items in order\)$/);
    expect(within(revisionRow(2)).getByTestId("revision-run")).toHaveTextContent("sample-app-5");
    expect(within(revisionRow(1)).getByTestId("revision-when").textContent).toMatch(/ · 48s$/);
    expect(revisionRow(3)).toHaveAttribute("data-status", "failed");
    const detail = by("revision-detail", "data-revision", "3");
    expect(within(detail).getByTestId("revision-error-what")).toHaveTextContent("The rollout of backend failed");
    expect(within(detail).getByTestId("revision-error-why").textContent).toMatch(/^pod backend-\S+: ImagePullBackOff: Back-off pulling image "sample-app-backend:[0-9a-f]{12}"$/);
    expect(within(detail).getByTestId("revision-note")).toHaveTextContent("Rolled back automatically: revision 4 (the images of revision 2) serves again.");
    expect(revisionNumbers().filter((n) => within(revisionRow(n)).queryByTestId("revision-rollback"))).toEqual([2, 1]);
  });

  test("Redeploy shows live per-pod progress, in Rust's event order, and adds the new revision to the history", async () => {
    const user = userEvent.setup();
    const { backend } = await openDeployments({ rolloutStepMs: 60 });
    const emitted: Event[] = [];
    const emit = backend.emit.bind(backend);
    vi.spyOn(backend, "emit").mockImplementation((events) => {
      emitted.push(...events);
      return emit(events);
    });
    await user.click(id("deploy-redeploy"));
    expect(calls(backend, "redeploy")).toEqual([{ project: "sample-app", environment: "dev" }]);
    expect(id("deploy-deploy")).toBeDisabled();
    expect(id("deploy-rollback")).toBeDisabled();
    await waitFor(() => expect(id("rollout-progress")).toHaveAttribute("data-phase", "rollingOut"));
    expect(id("rollout-progress")).toHaveAttribute("data-revision", "5");
    expect(id("rollout-progress")).toHaveAttribute("data-operation", "redeploy");
    await waitFor(() => expect(rows("rollout-pod").some((p) => p.getAttribute("data-current") === "true" && p.getAttribute("data-workload") === "backend")).toBe(true));
    // The new revision is in the history while it runs.
    await waitFor(() => expect(revisionRow(5)).toHaveAttribute("data-status", "inProgress"));
    expect(within(revisionRow(5)).getByTestId("revision-reason")).toHaveTextContent("rolling restart of revision 4");

    await waitFor(() => expect(id("rollout-progress")).toHaveAttribute("data-phase", "succeeded"), { timeout: 5_000 });
    expect(id("rollout-message")).toHaveTextContent("All 4 rollouts complete");
    expect(rows("rollout-workload").map((w) => w.getAttribute("data-done"))).toEqual(["true", "true", "true", "true"]);
    await waitFor(() => expect(id("deploy-op-result")).toHaveTextContent(`Revision 5 serves at ${APP_URL}`));
    expect(revisionRow(5)).toHaveAttribute("data-status", "succeeded");
    expect(revisionNumbers()).toEqual([5, 4, 3, 2, 1]);
    expect(id("deploy-deploy")).toBeEnabled();
    // The status was read again: every pod is of revision 5 now.
    await waitFor(() => expect(id("deploy-current")).toHaveTextContent("revision 5"));
    await waitFor(() => expect(rows("pod-row").every((p) => p.getAttribute("data-current") === "true")).toBe(true));
    expect(within(by("workload-row", "data-workload", "backend")).getByTestId("workload-updated")).toHaveTextContent("3");

    const kinds = emitted
      .filter((e) => e.type === "revisionUpdated" || e.type === "deployProgress")
      .map((e) => (e.type === "revisionUpdated" ? `revision:${e.revision.status}` : `progress:${e.phase}`));
    const compact = kinds.filter((k, i) => k !== kinds[i - 1]);
    expect(compact).toEqual(["revision:inProgress", "progress:applying", "progress:rollingOut", "progress:succeeded", "revision:succeeded"]);
  });

  test("Roll back with an empty reason shows an error and calls nothing; with a reason it rolls back and records it", async () => {
    const user = userEvent.setup();
    const { backend } = await openDeployments();
    await user.click(id("deploy-rollback"));
    expect(id("rollback-form")).toHaveTextContent(/Roll dev back to revision 1 \(run sample-app-1, commit [0-9a-f]{12}\)/);
    await user.type(id("rollback-reason"), "   ");
    await user.click(id("rollback-confirm"));
    expect(id("rollback-reason-error-what")).toHaveTextContent("A rollback needs a reason");
    expect(id("rollback-reason")).toHaveAttribute("aria-invalid", "true");
    expect(calls(backend, "rollback")).toEqual([]);
    expect(revisionNumbers()).toEqual([4, 3, 2, 1]);

    await user.type(id("rollback-reason"), "checkout page returns 500");
    await user.click(id("rollback-confirm"));
    expect(calls(backend, "rollback")).toEqual([{ project: "sample-app", environment: "dev", to: null, reason: "checkout page returns 500" }]);
    expect(screen.queryByTestId("rollback-form")).toBeNull();
    await waitFor(() => expect(revisionRow(5)).toHaveAttribute("data-status", "succeeded"));
    expect(within(revisionRow(5)).getByTestId("revision-reason")).toHaveTextContent("rollback to revision 1: checkout page returns 500");
    expect(within(revisionRow(5)).getByTestId("revision-operation")).toHaveTextContent("Rollback");
    await waitFor(() => expect(id("deploy-current")).toHaveTextContent("revision 5"));
    // Revision 4 is older than the one serving now: it can be rolled back to.
    expect(within(revisionRow(4)).getByTestId("revision-rollback")).toBeInTheDocument();
  });

  test("Roll back to this sends that revision; a failing rollout names the pod and rolls back automatically", async () => {
    const user = userEvent.setup();
    const { backend } = await openDeployments();
    await user.click(within(revisionRow(2)).getByTestId("revision-rollback"));
    expect(id("rollback-form")).toHaveTextContent(/back to revision 2 \(run sample-app-5/);
    await user.type(id("rollback-reason"), "same images, new pods{Enter}");
    expect(calls(backend, "rollback")).toEqual([{ project: "sample-app", environment: "dev", to: 2, reason: "same images, new pods" }]);
    await waitFor(() => expect(revisionRow(5)).toHaveAttribute("data-status", "succeeded"));

    backend.deploy.failNext = "backend";
    await user.click(id("deploy-deploy"));
    expect(calls(backend, "deploy")).toEqual([{ project: "sample-app", environment: "dev", run: null }]);
    await screen.findByTestId("deploy-op-error", {}, { timeout: 5_000 });
    expect(id("deploy-op-error-what")).toHaveTextContent("The rollout of backend failed");
    expect(id("deploy-op-error-why").textContent).toMatch(/^pod backend-[a-z0-9]{10}-[a-z0-9]{5}: ImagePullBackOff: Back-off pulling image/);
    expect(id("deploy-op-error-fix")).toHaveTextContent("Rolled back automatically: revision 7 (the images of revision 5) serves again.");
    await waitFor(() => expect(revisionNumbers()).toEqual([7, 6, 5, 4, 3, 2, 1]));
    expect(revisionRow(6)).toHaveAttribute("data-status", "failed");
    expect(revisionRow(7)).toHaveAttribute("data-status", "succeeded");
    expect(within(revisionRow(7)).getByTestId("revision-reason")).toHaveTextContent("automatic rollback to revision 5: revision 6 failed");
    // The last rollout shown is the automatic rollback's, complete.
    expect(id("rollout-progress")).toHaveAttribute("data-revision", "7");
    expect(id("rollout-progress")).toHaveAttribute("data-phase", "succeeded");
  });

  test("Tear down asks first, then nothing runs; the history stays", async () => {
    const user = userEvent.setup();
    const { backend } = await openDeployments();
    await user.click(id("deploy-teardown"));
    expect(id("teardown-box")).toHaveTextContent(`Delete namespace ${SAMPLE_NAMESPACE}`);
    await user.click(id("teardown-cancel"));
    expect(calls(backend, "teardown")).toEqual([]);
    await user.click(id("deploy-teardown"));
    await user.click(id("teardown-confirm"));
    await waitFor(() => expect(id("deploy-op-result")).toHaveTextContent(`Tearing down: namespace ${SAMPLE_NAMESPACE} is being deleted`));
    expect(calls(backend, "teardown")).toEqual([{ project: "sample-app", environment: "dev" }]);
    await waitFor(() => expect(screen.queryByTestId("deploy-app-url")).toBeNull());
    expect(rows("pod-row").every((p) => p.getAttribute("data-phase") === "Terminating")).toBe(true);
    expect(revisionNumbers()).toEqual([4, 3, 2, 1]);
  });

  test("merged logs: every line has its pod as prefix; Follow appends new lines", async () => {
    const user = userEvent.setup();
    const { backend } = await openDeployments({ logStepMs: 30 });
    await waitFor(() => expect(id("deploy-log-view")).toHaveAttribute("data-done", "true"));
    expect(calls(backend, "follow_deploy_logs")[0]).toMatchObject({ project: "sample-app", environment: "dev", follow: false, tail: 200 });
    const pods = new Set(rows("pod-row").map((p) => p.getAttribute("data-pod")));
    const lines = rows("deploy-log-line");
    expect(lines.length).toBeGreaterThan(20);
    for (const l of lines) {
      const prefix = within(l).getByTestId("deploy-log-pod");
      expect(pods.has(prefix.textContent)).toBe(true);
      expect(prefix.textContent).toBe(l.getAttribute("data-pod"));
    }
    expect(lines.some((l) => l.textContent!.includes("Listening at: http://0.0.0.0:8000"))).toBe(true);
    // One colour per pod.
    const colourOf = new Map<string, string>();
    for (const l of lines) {
      const cls = within(l).getByTestId("deploy-log-pod").className;
      const pod = l.getAttribute("data-pod")!;
      expect(colourOf.get(pod) ?? cls).toBe(cls);
      colourOf.set(pod, cls);
    }
    expect(new Set(colourOf.values()).size).toBe(colourOf.size);

    const before = lines.length;
    await user.click(id("deploy-log-follow"));
    expect(calls(backend, "follow_deploy_logs").at(-1)).toMatchObject({ follow: true, tail: 200 });
    await waitFor(() => expect(Number(id("deploy-log-view").getAttribute("data-lines"))).toBeGreaterThan(before + 3));
    expect(rows("deploy-log-line").at(-1)!.textContent).toMatch(/"GET (\/|\/api\/items) HTTP\/1.1" 200/);

    // Tail 0: nothing from before, only what comes next.
    await user.click(id("deploy-log-follow"));
    await user.clear(id("deploy-log-tail"));
    await user.type(id("deploy-log-tail"), "0{Enter}");
    expect(calls(backend, "follow_deploy_logs").at(-1)).toMatchObject({ follow: false, tail: 0 });
    await waitFor(() => expect(id("deploy-log-empty")).toBeInTheDocument());
  });

  test("an environment whose cluster does not answer shows the error beside what is known; nothing deployed yet", async () => {
    const user = userEvent.setup();
    await openDeployments();
    await user.click(by("env-tab", "data-env", "production"));
    await screen.findByTestId("deploy-status-error");
    expect(id("deploy-status-error-what")).toHaveTextContent("Cannot connect to the Kubernetes cluster");
    expect(id("deploy-status-error-why").textContent).toMatch(/^cannot reach https:\/\/\S+eks\.amazonaws\.com\//);
    expect(id("deploy-namespace")).toHaveTextContent("sample-app");
    expect(id("deploy-context")).toHaveTextContent("not reached");
    expect(id("deploy-nothing")).toHaveTextContent("Nothing deployed to production yet");
    expect(id("deploy-redeploy")).toBeDisabled();
    expect(id("deploy-rollback")).toBeDisabled();
    await screen.findByTestId("deploy-log-error");
    expect(id("deploy-log-error-what")).toHaveTextContent("Cannot connect to the Kubernetes cluster");
  });

  test("add an environment: contexts from the kubeconfig, a refusal shown as what/why/fix, then saved and shown", async () => {
    const user = userEvent.setup();
    const { backend } = await openDeployments();
    await user.click(id("env-add"));
    await waitFor(() => expect(within(id("env-context")).getAllByRole("option").map((o) => o.getAttribute("value"))).toEqual(["", "slipway-test", "kind-dev", "slipway-eks"]));
    expect(calls(backend, "kube_contexts")).toEqual([{ kubeconfig: null }]);
    await user.type(id("env-name"), "qa");
    await user.selectOptions(id("env-context"), "slipway-test");
    await user.type(id("env-namespace"), "Team_A");
    await user.click(id("env-runs"));
    await user.click(id("env-save"));
    expect(await screen.findByTestId("env-save-error-what")).toHaveTextContent("Environment settings are not valid");
    expect(id("env-save-error-why")).toHaveTextContent('"Team_A" is not a Kubernetes namespace name');
    expect(backend.deploy.environments.map((e) => e.name)).toEqual(["dev", "production"]);

    // A kubeconfig that is not there.
    await user.type(id("env-kubeconfig"), "/home/dev/missing.yaml");
    await user.click(id("env-contexts-load"));
    expect(await screen.findByTestId("env-contexts-error-what")).toHaveTextContent("No usable kubeconfig");
    await user.clear(id("env-kubeconfig"));

    await user.clear(id("env-namespace"));
    await user.type(id("env-namespace"), "qa");
    await user.click(id("env-save"));
    await waitFor(() => expect(screen.queryByTestId("env-form")).toBeNull());
    const saved = calls(backend, "save_environment").at(-1) as { environment: unknown };
    expect(saved.environment).toEqual({
      project: "sample-app",
      name: "qa",
      target: { kind: "kubernetes", context: "slipway-test", kubeconfig: null, namespace: "qa", database: { kind: "inCluster" }, progressDeadlineSecs: null },
      runs: true,
    });
    await waitFor(() => expect(by("env-tab", "data-env", "qa")).toHaveAttribute("aria-selected", "true"));
    expect(by("env-tab", "data-env", "qa")).toHaveAttribute("data-runs", "true");
    expect(id("env-runs-badge")).toBeInTheDocument();
    expect(await screen.findByTestId("deploy-nothing")).toHaveTextContent("Nothing deployed to qa yet");

    // Deploy the newest run with images into it.
    await user.click(id("deploy-deploy"));
    await waitFor(() => expect(revisionRow(1)).toHaveAttribute("data-status", "succeeded"), { timeout: 5_000 });
    expect(within(revisionRow(1)).getByTestId("revision-reason").textContent).toMatch(/^run sample-app-5, commit [0-9a-f]{12}/);
    await waitFor(() => expect(rows("pod-row")).toHaveLength(8));
    expect(id("deploy-namespace")).toHaveTextContent("qa");
  });

  test("edit and remove an environment; removing the last one explains where runs deploy", async () => {
    const user = userEvent.setup();
    const { backend } = await openDeployments({ hash: "#/deployments?env=production", ready: "deploy-status-error" });
    expect(by("env-tab", "data-env", "production")).toHaveAttribute("aria-selected", "true");
    await user.click(id("env-edit"));
    expect(id("env-name")).toBeDisabled();
    expect(id("env-name")).toHaveValue("production");
    expect(id("env-database")).toHaveValue("rds");
    await user.clear(id("env-deadline"));
    await user.type(id("env-deadline"), "5");
    await user.click(id("env-save"));
    expect(await screen.findByTestId("env-save-error-fix")).toHaveTextContent("Use 10 to 3600 seconds");
    await user.click(id("env-cancel"));

    for (const name of ["production", "dev"]) {
      await user.click(by("env-tab", "data-env", name));
      await user.click(id("env-remove"));
      expect(id("env-remove-box")).toHaveTextContent(`Remove ${name} and its revision history`);
      await user.click(id("env-remove-confirm"));
      await waitFor(() => expect(screen.queryByTestId("env-remove-box")).toBeNull());
    }
    expect(calls(backend, "delete_environment")).toEqual([
      { project: "sample-app", name: "production" },
      { project: "sample-app", name: "dev" },
    ]);
    expect(await screen.findByTestId("env-empty")).toHaveTextContent("pipeline runs deploy to the local Docker engine");
    await user.click(id("env-empty-add"));
    expect(id("env-form")).toBeInTheDocument();
  });

  test("a local environment deploys a run; redeploy and logs are for Kubernetes", async () => {
    const user = userEvent.setup();
    const { backend } = await openDeployments();
    await user.click(id("env-add"));
    await user.type(id("env-name"), "laptop");
    await user.click(id("env-kind-local"));
    expect(screen.queryByTestId("env-context")).toBeNull();
    await user.click(id("env-save"));
    await waitFor(() => expect(by("env-tab", "data-env", "laptop")).toHaveAttribute("aria-selected", "true"));
    expect(await screen.findByTestId("deploy-local-note")).toBeInTheDocument();
    expect(screen.queryByTestId("deploy-redeploy")).toBeNull();
    expect(screen.queryByTestId("deploy-log-view")).toBeNull();
    await user.click(id("deploy-deploy"));
    await waitFor(() => expect(id("deploy-op-result")).toHaveTextContent(/^Revision 1 serves at http:\/\/127\.0\.0\.1:\d+\/$/));
    expect(within(revisionRow(1)).getByTestId("revision-reason")).toHaveTextContent("run sample-app-5");
    expect(calls(backend, "deploy").at(-1)).toEqual({ project: "sample-app", environment: "laptop", run: null });
  });

  test("no project: a link to the Project page", async () => {
    await openDeployments({ scenario: "fresh" });
    expect(await screen.findByTestId("deployments-empty")).toHaveTextContent("No project yet");
    expect(within(id("deployments-empty")).getByRole("link")).toHaveAttribute("href", "#/project");
  });
});
