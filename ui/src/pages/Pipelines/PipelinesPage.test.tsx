import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test, vi } from "vitest";

import { terminals } from "../../testing/fakeTerminal";
import { FAILING_CASE } from "../../testing/mockPipeline";
import { renderApp } from "../../testing/render";

const id = (testId: string) => screen.getByTestId(testId);
const rows = () => screen.getAllByTestId("run-row");
const row = (run: string) => rows().find((r) => r.getAttribute("data-run") === run)!;
const tab = (step: string) => screen.getAllByTestId("log-step").find((t) => t.getAttribute("data-step") === step)!;
const lastTerminal = () => terminals.filter((t) => !t.disposed).at(-1)!;

async function openPipelines(opts: { runStepMs?: number; scenario?: "fresh" } = {}) {
  const r = await renderApp({ hash: "#/pipelines", ...opts });
  if (opts.scenario !== "fresh") await screen.findByTestId("runs-list");
  return r;
}

afterEach(() => {
  terminals.length = 0;
});

describe("Pipelines page", () => {
  test("lists the runs newest first with status, commit, trigger and duration; the newest is shown", async () => {
    await openPipelines();
    expect(rows().map((r) => r.getAttribute("data-run"))).toEqual(["sample-app-5", "sample-app-4", "sample-app-3", "sample-app-2", "sample-app-1"]);
    expect(rows().map((r) => r.getAttribute("data-status"))).toEqual(["succeeded", "failed", "cancelled", "failed", "succeeded"]);
    expect(within(row("sample-app-3")).getByTestId("run-trigger")).toHaveTextContent("re-run of sample-app-2");
    expect(within(row("sample-app-5")).getByTestId("run-trigger")).toHaveTextContent(/^commit [0-9a-f]{12}$/);
    expect(within(row("sample-app-1")).getByTestId("run-commit").textContent).toMatch(/^[0-9a-f]{12}$/);
    expect(within(row("sample-app-4")).getByTestId("run-commit")).toHaveTextContent("feature/missing"); // no commit: the ref
    expect(within(row("sample-app-1")).getByTestId("run-duration")).toHaveTextContent("2m 00s");
    expect(row("sample-app-5")).toHaveAttribute("aria-selected", "true");
    expect(id("run-detail")).toHaveAttribute("data-run", "sample-app-5");
    // Stopped after Test: Push and Deploy are not in this run.
    expect(id("stage-node-test")).toHaveAttribute("data-status", "succeeded");
    expect(id("stage-node-push")).toHaveAttribute("data-status", "skipped");
    expect(id("stage-node-push")).toHaveTextContent("not in this run");
    expect(id("run-rerun")).toBeInTheDocument();
    expect(screen.queryByTestId("run-cancel")).toBeNull();
  });

  test("a failed test run: the stage error, the failing case with its message, coverage and images", async () => {
    const user = userEvent.setup();
    await openPipelines();
    await user.click(row("sample-app-2"));
    await waitFor(() => expect(id("run-detail")).toHaveAttribute("data-run", "sample-app-2"));
    expect(id("stage-node-test")).toHaveAttribute("data-status", "failed");
    expect(id("stage-node-test")).toHaveTextContent("Tests of backend failed");
    expect(id("stage-error-what")).toHaveTextContent("Tests of backend failed");
    expect(id("stage-error-why")).toHaveTextContent(`1 of 9 failed: ${FAILING_CASE}`);
    expect(id("stage-error-fix")).toHaveTextContent("Read the failures in the test results");
    // The failed stage is shown, with the failed step's log.
    expect(await screen.findByTestId("log-steps")).toBeInTheDocument();
    expect(tab("backend")).toHaveAttribute("aria-selected", "true");
    await waitFor(() => expect(id("log-view")).toHaveAttribute("data-done", "true"));
    expect(lastTerminal().text).toContain(`FAILED tests/test_api.py::${FAILING_CASE}`);

    const backendRow = screen.getAllByTestId("test-row").find((r) => r.getAttribute("data-service") === "backend")!;
    expect(backendRow).toHaveTextContent(/backend\s*8\s*1\s*0\s*0/);
    const kase = screen.getByTestId("test-case");
    expect(kase).toHaveAttribute("data-case", FAILING_CASE);
    expect(within(kase).getByTestId("test-case-message")).toHaveTextContent("AssertionError: assert ['anchor', 'buoy'] == ['anchor', 'buoy', 'capstan']");
    await user.click(within(backendRow).getByTestId("test-expand"));
    expect(screen.queryByTestId("test-case")).toBeNull();
    await user.click(within(backendRow).getByTestId("test-expand"));
    expect(screen.getByTestId("test-case")).toBeInTheDocument();

    expect(screen.getAllByTestId("coverage-row").map((r) => r.textContent)).toEqual(["backend25 of 2696.2%", "frontend35 of 4087.5%"]);
    expect(screen.getAllByTestId("image-row")).toHaveLength(2);
    expect(screen.getAllByTestId("image-row")[0]).toHaveTextContent("not pushed");
    expect(screen.queryByTestId("deploy-url")).toBeNull();
  });

  test("a succeeded run shows digests and the deployed URL; a checkout failure shows its error", async () => {
    const user = userEvent.setup();
    await openPipelines();
    await user.click(row("sample-app-1"));
    await screen.findByTestId("deploy-url");
    expect(id("deploy-url")).toHaveAttribute("href", "http://127.0.0.1:48001/");
    expect(screen.getAllByTestId("image-digest")[0].textContent).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(id("stage-node-deploy")).toHaveAttribute("data-status", "succeeded");

    await user.click(row("sample-app-4"));
    await waitFor(() => expect(id("stage-error-why")).toHaveTextContent('the reference "feature/missing" was not found'));
    expect(id("stage-node-build")).toHaveAttribute("data-status", "skipped");
    expect(id("run-results-empty")).toBeInTheDocument();
  });

  test("clicking a stage shows its steps as tabs, Slipway's own log first; a tab shows that step's log", async () => {
    const user = userEvent.setup();
    const { backend } = await openPipelines();
    await user.click(row("sample-app-1"));
    await user.click(id("stage-node-push"));
    await waitFor(() => expect(screen.getAllByTestId("log-step").map((t) => t.getAttribute("data-step"))).toEqual(["slipway", "backend", "frontend"]));
    expect(id("stage-node-push")).toHaveAttribute("aria-pressed", "true");
    expect(tab("slipway")).toHaveAttribute("aria-selected", "true");
    await waitFor(() => expect(lastTerminal().text).toContain("push succeeded"));
    await user.click(tab("frontend"));
    await waitFor(() => expect(lastTerminal().text).toMatch(/digest: sha256:[0-9a-f]{64} size: 2204/));
    expect(id("log-view")).toHaveAttribute("data-step", "frontend");
    const follows = backend.calls.filter((c) => c.cmd === "follow_log").map((c) => (c.args as { stage: string; step: string; offset: number }));
    expect(follows.at(-1)).toMatchObject({ stage: "push", step: "frontend", offset: 0 });
    // One terminal for the page, not one per step.
    expect(terminals.filter((t) => !t.disposed)).toHaveLength(1);
  });

  test("Run (stop after Build, a git ref): the run appears first and its stages go live to the end", async () => {
    const user = userEvent.setup();
    const { backend } = await openPipelines({ runStepMs: 15 });
    await user.type(id("run-git-ref"), "main");
    await user.selectOptions(id("run-until"), "build");
    await user.click(id("run-start"));
    const start = backend.calls.find((c) => c.cmd === "start_run")!;
    expect(start.args).toEqual({ project: "sample-app", gitRef: "main", until: "build" });
    await waitFor(() => expect(rows()[0]).toHaveAttribute("data-run", "sample-app-6"));
    expect(id("run-detail")).toHaveAttribute("data-run", "sample-app-6");
    await waitFor(() => expect(id("stage-node-build")).toHaveAttribute("data-status", "running"));
    expect(id("stage-node-checkout")).toHaveAttribute("data-status", "succeeded");
    expect(id("run-cancel")).toBeInTheDocument();
    await waitFor(() => expect(rows()[0]).toHaveAttribute("data-status", "succeeded"), { timeout: 5_000 });
    expect(id("stage-node-build")).toHaveAttribute("data-status", "succeeded");
    for (const s of ["test", "push", "deploy"]) expect(id(`stage-node-${s}`)).toHaveAttribute("data-status", "skipped");
    expect(within(rows()[0]).getByTestId("run-trigger")).toHaveTextContent("manual");
    expect(within(rows()[0]).getByTestId("run-commit").textContent).toMatch(/^[0-9a-f]{12}$/);
    expect(screen.getAllByTestId("image-row").map((r) => r.getAttribute("data-service"))).toEqual(["backend", "frontend"]);
  });

  // The whole build log (4,000+ lines) arrives in 20 ms steps: on a loaded machine that takes
  // seconds, so this test waits longer than the others.
  test("the log streams into the terminal with \\r\\n line ends; search, follow and download", { timeout: 40_000 }, async () => {
    const user = userEvent.setup();
    await openPipelines({ runStepMs: 20 });
    await user.selectOptions(id("run-until"), "build");
    await user.click(id("run-start"));
    await waitFor(() => expect(id("stage-node-build")).toHaveAttribute("data-status", "running"));
    await waitFor(() => expect(tab("backend")).toHaveAttribute("aria-selected", "true"));
    await user.click(tab("backend")); // pin it: the view stays on it after the step ends
    await waitFor(() => expect(id("log-view")).toHaveAttribute("data-done", "true"), { timeout: 25_000 });
    const term = lastTerminal();
    // The fake terminal throws on a lone \n, so reaching here means every chunk was converted.
    expect(term.text).toContain("Step 1/13 : ARG BASE_IMAGE=python:3.11-slim");
    expect(term.text).toMatch(/Successfully built [0-9a-f]{12}\n/);
    expect(term.text.split("\n").length).toBeGreaterThan(4000); // the long pip install
    expect(Number(id("log-view").getAttribute("data-bytes"))).toBe(new TextEncoder().encode(term.text).length);
    // Following: every write scrolled to the bottom.
    expect(term.scrolledToBottom).toBeGreaterThan(0);

    await user.type(id("log-search"), "successfully{Enter}");
    expect(id("log-search-count")).toHaveTextContent("1 of 3");
    await user.click(id("log-search-next"));
    expect(id("log-search-count")).toHaveTextContent("2 of 3");
    await user.click(id("log-search-prev"));
    expect(id("log-search-count")).toHaveTextContent("1 of 3");
    await user.clear(id("log-search"));
    await user.type(id("log-search"), "no such text{Enter}");
    expect(id("log-search-count")).toHaveTextContent("No match");

    // Scrolling up stops following; Follow resumes it.
    expect(id("log-view")).toHaveAttribute("data-following", "true");
    expect(screen.queryByTestId("log-follow")).toBeNull();
    act(() => term.scrollUp(200));
    expect(id("log-view")).toHaveAttribute("data-following", "false");
    await user.click(id("log-follow"));
    expect(id("log-view")).toHaveAttribute("data-following", "true");
    expect(term.up).toBe(0);

    // Download: the whole text as a .log file.
    const blobs: Blob[] = [];
    const create = vi.fn((b: Blob) => {
      blobs.push(b);
      return "blob:log";
    });
    Object.assign(URL, { createObjectURL: create, revokeObjectURL: vi.fn() });
    const clicked: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.download);
    });
    await user.click(id("log-download"));
    expect(clicked).toEqual(["sample-app-6-build-backend.log"]);
    expect(await blobs[0].text()).toBe(term.text);
  });

  test("scrolling up while output arrives keeps the view where it is", async () => {
    const user = userEvent.setup();
    await openPipelines({ runStepMs: 60 });
    await user.selectOptions(id("run-until"), "build");
    await user.click(id("run-start"));
    await waitFor(() => expect(tab("backend")).toHaveAttribute("aria-selected", "true"));
    await user.click(tab("backend"));
    await waitFor(() => expect(Number(id("log-view").getAttribute("data-bytes"))).toBeGreaterThan(0));
    const term = lastTerminal();
    act(() => term.scrollUp(50));
    const scrolls = term.scrolledToBottom;
    const before = term.written.length;
    await waitFor(() => expect(term.written.length).toBeGreaterThan(before), { timeout: 3_000 });
    expect(term.scrolledToBottom).toBe(scrolls); // nothing pulled the view down
    expect(id("log-view")).toHaveAttribute("data-following", "false");
  });

  test("Cancel ends a running run as cancelled; Re-run starts it again", async () => {
    const user = userEvent.setup();
    await openPipelines({ runStepMs: 40 });
    await user.click(id("run-start"));
    await waitFor(() => expect(id("stage-node-build")).toHaveAttribute("data-status", "running"));
    await user.click(id("run-cancel"));
    await waitFor(() => expect(id("run-detail-status")).toHaveAttribute("data-status", "cancelled"), { timeout: 5_000 });
    expect(id("stage-node-build")).toHaveAttribute("data-status", "cancelled");
    expect(id("stage-node-deploy")).toHaveAttribute("data-status", "cancelled");
    await user.click(id("run-rerun"));
    await waitFor(() => expect(id("run-detail")).toHaveAttribute("data-run", "sample-app-7"));
    expect(within(rows()[0]).getByTestId("run-trigger")).toHaveTextContent("re-run of sample-app-6");
    await user.click(id("run-cancel"));
    await waitFor(() => expect(id("run-detail-status")).toHaveAttribute("data-status", "cancelled"), { timeout: 5_000 });
  });

  test("runs started elsewhere (the CLI) appear through events", async () => {
    const { backend } = await openPipelines({ runStepMs: 0 });
    act(() => {
      backend.pipeline.startRun("sample-app", null, "checkout");
    });
    await waitFor(() => expect(rows()[0]).toHaveAttribute("data-run", "sample-app-6"));
    await waitFor(() => expect(rows()[0]).toHaveAttribute("data-status", "succeeded"));
  });

  test("a refused start shows what/why/fix (no Docker engine)", async () => {
    const user = userEvent.setup();
    const { backend } = await openPipelines();
    backend.dockerRunning = false;
    await user.click(id("run-start"));
    await screen.findByTestId("run-start-error");
    expect(id("run-start-error-what")).toHaveTextContent("Docker engine check failed");
    expect(id("run-start-error-fix")).toHaveTextContent("Start the Docker engine");
    expect(rows()).toHaveLength(5);
  });

  test("no project yet: says so and points to the Project page", async () => {
    await openPipelines({ scenario: "fresh" });
    expect(await screen.findByTestId("pipelines-empty")).toHaveTextContent("No project yet");
    expect(within(id("pipelines-empty")).getByRole("link", { name: /Project page/ })).toHaveAttribute("href", "#/project");
  });
});
