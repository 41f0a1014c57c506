import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test, vi } from "vitest";

import type { MockBackend } from "../../testing/mockBackend";
import { POLLS_TO_FINISH, RUNS_PER_PAGE, SAMPLE_REPO, githubRefusal } from "../../testing/mockGithub";
import { sampleProject } from "../../testing/mockPipeline";
import { renderApp } from "../../testing/render";

const id = (testId: string) => screen.getByTestId(testId);
const runRows = () => screen.getAllByTestId("gh-run-row");
const runRow = (name: string) => runRows().find((r) => within(r).getByRole("button").textContent === name)!;
const calls = (b: MockBackend, cmd: string) => b.calls.filter((c) => c.cmd === cmd).map((c) => c.args as Record<string, unknown>);

/** Connects GitHub the way the Connect page does (the store hears of it through the event). */
async function connectGithub(b: MockBackend) {
  await act(async () => {
    await b.handle("connect_github", { input: { token: "ghp_0123456789abcdef", baseUrl: null } });
  });
}

async function openTab(opts: { connect?: boolean; before?: (b: MockBackend) => void } = {}) {
  const r = await renderApp({ hash: "#/pipelines" });
  opts.before?.(r.backend);
  if (opts.connect !== false) await connectGithub(r.backend);
  await screen.findByTestId("runs-list");
  await userEvent.click(id("pipelines-source-github"));
  return r;
}

/** Picks a repository by typing into the search and pressing Enter on the first match. */
async function pickRepo(user: ReturnType<typeof userEvent.setup>, query: string, repo: string, withRuns = true) {
  const search = await screen.findByTestId("gh-repo-search");
  await user.clear(search);
  await user.type(search, query);
  await waitFor(() => expect(id("gh-repo-results")).toHaveAttribute("data-query", query));
  expect(screen.getAllByTestId("gh-repo-option")[0]).toHaveAttribute("data-repo", repo);
  await user.keyboard("{Enter}");
  await waitFor(() => expect(id("gh-actions-repo")).toHaveAttribute("data-repo", repo));
  if (withRuns) await screen.findByTestId("gh-runs");
}

afterEach(() => {
  vi.useRealTimers();
});

describe("GitHub Actions tab", () => {
  test("not connected: says so with a link to the Connect page and asks GitHub nothing", async () => {
    const { backend } = await openTab({ connect: false });
    const note = await screen.findByTestId("gh-actions-not-connected");
    expect(note).toHaveTextContent("GitHub is not connected");
    expect(within(note).getByRole("link", { name: /Connect GitHub on the Connect page/ })).toHaveAttribute("href", "#/connect");
    expect(backend.calls.filter((c) => c.cmd.startsWith("github_"))).toEqual([]);
  });

  test("a repository picked through the search shows its runs newest first, a page at a time, with the quota", async () => {
    const user = userEvent.setup();
    const { backend } = await openTab();
    // The sample project is a local folder: the picker asks which repository.
    expect(await screen.findByText(/does not come from github.com/)).toBeInTheDocument();
    await pickRepo(user, "sample", SAMPLE_REPO);
    expect(id("gh-actions-repo")).toHaveAttribute("data-repo", SAMPLE_REPO);
    expect(calls(backend, "github_workflow_runs")).toEqual([{ repo: SAMPLE_REPO, page: 1 }]);

    expect(runRows()).toHaveLength(RUNS_PER_PAGE);
    const first = runRows()[0];
    expect(within(first).getByRole("button")).toHaveTextContent("CI #212");
    expect(within(first).getByTestId("gh-run-status")).toHaveAttribute("data-status", "queued");
    expect(within(first).getByTestId("gh-run-status")).toHaveTextContent("Queued");
    expect(within(first).getByTestId("gh-run-event")).toHaveTextContent("push");
    expect(within(first).getByTestId("gh-run-branch")).toHaveTextContent("main");
    expect(within(first).getByTestId("gh-run-sha").textContent).toMatch(/^[0-9a-f]{7}$/);
    expect(within(first).getByTestId("gh-run-link").getAttribute("href")).toMatch(/^https:\/\/github\.com\/octo-dev\/sample-app\/actions\/runs\/\d+$/);
    const states = runRows()
      .slice(0, 9)
      .map((r) => [within(r).getByRole("button").textContent, within(r).getByTestId("gh-run-status").getAttribute("data-status"), within(r).getByTestId("gh-run-status").textContent]);
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
    // Newest first by creation time.
    const created = runRows().map((r) => Date.parse(within(r).getByTestId("gh-run-created").getAttribute("title")!));
    expect([...created].sort((a, b) => b - a)).toEqual(created);

    await user.click(id("gh-runs-more"));
    await waitFor(() => expect(runRows()).toHaveLength(34));
    expect(calls(backend, "github_workflow_runs").at(-1)).toEqual({ repo: SAMPLE_REPO, page: 2 });
    expect(screen.queryByTestId("gh-runs-more")).toBeNull();

    // The quota of the last answer: one request less each time.
    const rate = backend.github.rate;
    expect(id("gh-quota")).toHaveTextContent(`GitHub API: ${rate.remaining.toLocaleString("en-US")} of 5,000 requests left, resets at`);
    expect(id("gh-quota")).toHaveAttribute("data-low", "false");
  });

  test("the project's own GitHub repository is shown without asking", async () => {
    await openTab({
      before: (b) => {
        b.pipeline.projects = [sampleProject("shop-api", { kind: "git", url: "https://github.com/harbor-works/shop-api.git" })];
      },
    });
    await waitFor(() => expect(runRows()).toHaveLength(3));
    expect(id("gh-actions-repo")).toHaveAttribute("data-repo", "harbor-works/shop-api");
    expect(id("gh-actions-repo")).toHaveTextContent("the source of project shop-api");
    expect(screen.queryByTestId("gh-repo-search")).toBeNull();
    expect(screen.queryByTestId("gh-runs-more")).toBeNull();
  });

  test("runs are read again every 10 s while one is queued or in progress, and no more once they finished or the tab is left", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    const { backend } = await openTab();
    await pickRepo(user, "sample-app", SAMPLE_REPO);
    const listings = () => calls(backend, "github_workflow_runs").length;
    const status = (name: string) => within(runRow(name)).getByTestId("gh-run-status").getAttribute("data-status");
    expect(listings()).toBe(1);
    expect(id("gh-runs-auto")).toHaveAttribute("data-auto", "true");

    await act(() => vi.advanceTimersByTimeAsync(10_000));
    await waitFor(() => expect(listings()).toBe(2));
    await waitFor(() => expect(status("CI #212")).toBe("running"));
    expect(status("CI #211")).toBe("running");

    await act(() => vi.advanceTimersByTimeAsync(10_000));
    await waitFor(() => expect(listings()).toBe(POLLS_TO_FINISH));
    await waitFor(() => expect(status("CI #212")).toBe("succeeded"));
    expect(status("CI #211")).toBe("succeeded");
    expect(id("gh-runs-auto")).toHaveAttribute("data-auto", "false");

    // Nothing active: no more reads.
    await act(() => vi.advanceTimersByTimeAsync(35_000));
    expect(listings()).toBe(POLLS_TO_FINISH);
  });

  test("the timer stops when the tab is left", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    const { backend } = await openTab();
    await pickRepo(user, "sample-app", SAMPLE_REPO);
    expect(id("gh-runs-auto")).toHaveAttribute("data-auto", "true");
    await user.click(id("pipelines-source-slipway"));
    expect(screen.queryByTestId("gh-runs")).toBeNull();
    await act(() => vi.advanceTimersByTimeAsync(35_000));
    expect(calls(backend, "github_workflow_runs")).toHaveLength(1);
  });

  test("a run's jobs and steps, and a failed job's log with search and download", async () => {
    const user = userEvent.setup();
    const { backend } = await openTab();
    await pickRepo(user, "sample", SAMPLE_REPO);
    await user.click(within(runRow("CI #210")).getByRole("button"));
    const detail = await screen.findByTestId("gh-run-detail");
    await within(detail).findByTestId("gh-jobs");
    const jobs = within(detail).getAllByTestId("gh-job");
    expect(jobs.map((j) => [within(j).getByTestId("gh-job-open").textContent, j.getAttribute("data-status")])).toEqual([
      ["lint", "succeeded"],
      ["test (3.12)", "failed"],
      ["build-image", "skipped"],
    ]);
    const steps = within(jobs[1])
      .getAllByTestId("gh-step")
      .map((s) => [s.textContent?.replace(/^\d+/, ""), s.getAttribute("data-status")]);
    expect(steps).toContainEqual(["FailureRun pytest", "failed"]);
    expect(steps).toContainEqual(["SkippedUpload test results", "skipped"]);
    expect(steps.at(-1)).toEqual(["SuccessComplete job", "succeeded"]);

    // The failed job is shown first, with its log.
    const log = await screen.findByTestId("gh-log");
    const jobId = Number(jobs[1].getAttribute("data-job"));
    expect(log).toHaveAttribute("data-job", String(jobId));
    expect(calls(backend, "github_job_log")).toEqual([{ repo: SAMPLE_REPO, jobId }]);
    const lines = within(log).getAllByTestId("gh-log-line");
    expect(lines[0]).toHaveAttribute("data-line", "1");
    // GitHub's timestamps become a separate column; the markers become styles.
    expect(lines[0].querySelector(".gh-text")?.textContent).toBe("Current runner version: '2.323.0'");
    expect(lines[0].querySelector(".gh-ts")?.getAttribute("title")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    const error = lines.find((l) => l.textContent?.includes("Process completed with exit code 1."))!;
    expect(error).toHaveClass("gh-log-error");
    expect(error.textContent).not.toContain("##[error]");

    await user.type(id("gh-log-search"), "AssertionError");
    expect(id("gh-log-count")).toHaveTextContent("1 of 3");
    const marked = () => within(log).getAllByTestId("gh-log-line").filter((l) => l.getAttribute("data-match") === "current");
    const firstMatch = marked()[0].getAttribute("data-line");
    await user.click(id("gh-log-next"));
    expect(id("gh-log-count")).toHaveTextContent("2 of 3");
    expect(marked()[0].getAttribute("data-line")).not.toBe(firstMatch);
    await user.click(id("gh-log-search")); // Shift+Enter in the search: the previous match
    await user.keyboard("{Shift>}{Enter}{/Shift}");
    expect(id("gh-log-count")).toHaveTextContent("1 of 3");
    await user.clear(id("gh-log-search"));
    await user.type(id("gh-log-search"), "no such text");
    expect(id("gh-log-count")).toHaveTextContent("no match");

    const blobs: Blob[] = [];
    Object.assign(URL, {
      createObjectURL: vi.fn((b: Blob) => {
        blobs.push(b);
        return "blob:log";
      }),
      revokeObjectURL: vi.fn(),
    });
    const clicked: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.download);
    });
    await user.click(id("gh-log-download"));
    expect(clicked).toEqual([`sample-app-test-3.12-${jobId}.log`]);
    const text = await blobs[0].text();
    expect(text.split("\n").filter((l) => l !== "")).toHaveLength(lines.length);
    expect(text).toContain("##[error]Process completed with exit code 1.");

    // A skipped job has no log to ask for.
    await user.click(within(jobs[2]).getByTestId("gh-job-open"));
    expect(id("gh-log-unavailable")).toHaveTextContent("build-image was skipped: it has no log.");
    expect(calls(backend, "github_job_log")).toHaveLength(1);
  });

  test("a revoked token: what, why and fix; the panel stays usable and Refresh works again", async () => {
    const user = userEvent.setup();
    const { backend } = await openTab();
    await pickRepo(user, "sample", SAMPLE_REPO);
    backend.github.failNext("github_workflow_runs", githubRefusal("github_workflow_runs", { kind: "revoked" }));
    await user.click(id("gh-runs-refresh"));
    await screen.findByTestId("gh-runs-error");
    expect(id("gh-runs-error-what")).toHaveTextContent("Could not list the GitHub Actions runs");
    expect(id("gh-runs-error-why")).toHaveTextContent("GitHub rejected the token (401 Bad credentials): it is wrong, revoked or expired");
    expect(id("gh-runs-error-fix")).toHaveTextContent("connect GitHub again");
    expect(runRows()).toHaveLength(RUNS_PER_PAGE); // what was shown stays
    await user.click(id("gh-runs-refresh"));
    await waitFor(() => expect(screen.queryByTestId("gh-runs-error")).toBeNull());
  });

  test("a used-up rate limit says when it resets; a low quota is a warning", async () => {
    const user = userEvent.setup();
    const { backend } = await openTab({
      before: (b) => {
        const reset = b.github.rate.reset;
        b.github.failNext("github_repos", githubRefusal("github_repos", { kind: "rateLimit", reset, now: Date.now() }));
      },
    });
    await screen.findByTestId("gh-repo-error");
    expect(id("gh-repo-error-what")).toHaveTextContent("Could not list GitHub repositories");
    expect(id("gh-repo-error-why").textContent).toMatch(/^GitHub's rate limit is used up \(403\); it resets in 47 minutes \(unix time \d+\)$/);
    expect(id("gh-repo-error-fix")).toHaveTextContent("Wait until the limit resets, then try again");
    const reset = new Date(backend.github.rate.reset * 1000).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    expect(id("gh-error-reset")).toHaveTextContent(`The limit resets at ${reset}.`);

    // The search still works; with 300 requests left the quota line warns.
    backend.github.setRemaining(300);
    await pickRepo(user, "shop-api", "harbor-works/shop-api");
    expect(id("gh-quota")).toHaveAttribute("data-low", "true");
    expect(id("gh-quota")).toHaveClass("gh-quota-low");
    expect(id("gh-quota")).toHaveTextContent("GitHub API: 298 of 5,000 requests left");
  });

  test("another repository can be picked; the list follows it", async () => {
    const user = userEvent.setup();
    const { backend } = await openTab();
    await pickRepo(user, "sample", SAMPLE_REPO);
    await user.click(id("gh-actions-change-repo"));
    await pickRepo(user, "infra", "harbor-works/infra", false);
    expect(await screen.findByTestId("gh-runs-empty")).toHaveTextContent("harbor-works/infra has no GitHub Actions run.");
    expect(calls(backend, "github_workflow_runs").at(-1)).toEqual({ repo: "harbor-works/infra", page: 1 });
  });
});
