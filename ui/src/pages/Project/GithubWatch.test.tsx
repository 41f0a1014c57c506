import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test, vi } from "vitest";

import type { MockBackend } from "../../testing/mockBackend";
import { SAMPLE_REPO, SEEDED_WEBHOOK_PORT, githubRefusal } from "../../testing/mockGithub";
import { renderApp } from "../../testing/render";
import { watchSetting } from "./GithubWatch";

const id = (testId: string) => screen.getByTestId(testId);
const rows = () => screen.getAllByTestId("gh-watch-row");
const row = (repo: string, branch: string) => rows().find((r) => r.getAttribute("data-repo") === repo && r.getAttribute("data-branch") === branch);
const calls = (b: MockBackend, cmd: string) => b.calls.filter((c) => c.cmd === cmd).map((c) => c.args as Record<string, unknown>);

async function open(opts: { connect?: boolean } = {}) {
  const r = await renderApp({ hash: "#/project" });
  if (opts.connect !== false) {
    await act(async () => {
      await r.backend.handle("connect_github", { input: { token: "ghp_0123456789abcdef", baseUrl: null } });
    });
  }
  await screen.findByTestId("gh-watches");
  return r;
}

async function pickRepoAndBranch(user: ReturnType<typeof userEvent.setup>, query: string, repo: string, branch: string) {
  const search = within(id("gh-watch")).getByTestId("gh-repo-search");
  await user.type(search, query);
  await waitFor(() => expect(id("gh-repo-results")).toHaveAttribute("data-query", query));
  await user.click(screen.getAllByTestId("gh-repo-option").find((o) => o.getAttribute("data-repo") === repo)!);
  const select = await screen.findByTestId("gh-branch-select");
  await user.selectOptions(select, branch);
}

describe("Project page: runs on new commits", () => {
  test("lists the watches: a webhook receiver listening, and a polling watch stopped with its reason", async () => {
    await open();
    expect(rows().map((r) => [r.getAttribute("data-branch"), r.getAttribute("data-active")])).toEqual([
      ["main", "false"],
      ["release/1.x", "true"],
    ]);
    const stopped = row(SAMPLE_REPO, "main")!;
    expect(within(stopped).getByTestId("gh-watch-state")).toHaveTextContent("stopped");
    expect(within(stopped).getByTestId("gh-watch-error")).toHaveTextContent(
      "Stopped: GitHub not connected: there is no GitHub connection. Connect GitHub first (slipway connect github, or the Connect page). Start it again to retry.",
    );
    expect(stopped).toHaveTextContent("polls every 30 s");
    expect(stopped).toHaveTextContent("reports commit statuses");
    const hook = row(SAMPLE_REPO, "release/1.x")!;
    expect(within(hook).getByTestId("gh-watch-state")).toHaveTextContent("watching");
    expect(within(hook).getByTestId("gh-watch-address")).toHaveTextContent(`127.0.0.1:${SEEDED_WEBHOOK_PORT}`);
    expect(within(hook).queryByTestId("gh-watch-error")).toBeNull();
  });

  test("starts a polling watch with the values chosen, sends them as they are, and lists it", async () => {
    const user = userEvent.setup();
    const { backend } = await open();
    expect(id("gh-watch-project")).toHaveValue("sample-app");
    expect(id("gh-watch-start")).toBeDisabled(); // no repository yet
    await pickRepoAndBranch(user, "sample-app", SAMPLE_REPO, "develop");
    expect(id("gh-watch-every")).toHaveValue(30);
    expect(id("gh-watch-report")).not.toBeChecked();
    await user.clear(id("gh-watch-every"));
    await user.type(id("gh-watch-every"), "45");
    await user.click(id("gh-watch-report"));
    await user.type(id("gh-watch-link"), "https://ci.example.com/slipway/");
    await user.click(id("gh-watch-start"));
    expect(await screen.findByTestId("gh-watch-started")).toHaveTextContent("Watching octo-dev/sample-app develop.");
    expect(calls(backend, "github_watch_start")).toEqual([
      {
        setting: {
          watch: { project: "sample-app", repo: SAMPLE_REPO, branch: "develop", reportStatus: true, linkBase: "https://ci.example.com/slipway" },
          everySecs: 45,
          webhookPort: null,
        },
      },
    ]);
    await waitFor(() => expect(row(SAMPLE_REPO, "develop")).toBeDefined());
    const r = row(SAMPLE_REPO, "develop")!;
    expect(r).toHaveAttribute("data-active", "true");
    expect(r).toHaveTextContent("polls every 45 s");
    expect(r).toHaveTextContent("reports commit statuses linking to https://ci.example.com/slipway/runs/…");

    // The token is revoked while it polls: the watch stops, and the list shows it without a reload.
    act(() => backend.github.watchFails(SAMPLE_REPO, "develop", githubRefusal("github_watch_start", { kind: "revoked" })));
    await waitFor(() => expect(row(SAMPLE_REPO, "develop")).toHaveAttribute("data-active", "false"));
    expect(within(row(SAMPLE_REPO, "develop")!).getByTestId("gh-watch-error")).toHaveTextContent(
      "Stopped: Could not read the branch: GitHub rejected the token (401 Bad credentials): it is wrong, revoked or expired.",
    );

    // Starting the stopped one again replaces it (one watch per repository and branch).
    await user.selectOptions(id("gh-branch-select"), "main");
    await user.click(id("gh-watch-start"));
    await waitFor(() => expect(row(SAMPLE_REPO, "main")).toHaveAttribute("data-active", "true"));
    expect(rows()).toHaveLength(3);
    expect(within(row(SAMPLE_REPO, "main")!).queryByTestId("gh-watch-error")).toBeNull();
  });

  test("a webhook receiver on a free port, a port in use refused, a poll interval under 5 s refused before sending", async () => {
    const user = userEvent.setup();
    const { backend } = await open();
    await pickRepoAndBranch(user, "shop-api", "harbor-works/shop-api", "staging");

    await user.clear(id("gh-watch-every"));
    await user.type(id("gh-watch-every"), "3");
    await user.click(id("gh-watch-start"));
    expect(id("gh-watch-start-error-what")).toHaveTextContent("Watch not started");
    expect(id("gh-watch-start-error-why")).toHaveTextContent("a poll every 3 s is too often");
    expect(id("gh-watch-start-error-fix")).toHaveTextContent("Use 5 seconds or more");
    expect(calls(backend, "github_watch_start")).toEqual([]);

    await user.click(id("gh-watch-mode-webhook"));
    await user.type(id("gh-watch-port"), String(SEEDED_WEBHOOK_PORT));
    await user.click(id("gh-watch-start"));
    await screen.findByText(/Address already in use/);
    expect(id("gh-watch-start-error-what")).toHaveTextContent("Webhook receiver not started");
    expect(id("gh-watch-start-error-fix")).toHaveTextContent("Pick another port, or stop what uses this one");

    await user.clear(id("gh-watch-port"));
    await user.click(id("gh-watch-start"));
    await screen.findByTestId("gh-watch-started");
    expect(calls(backend, "github_watch_start").at(-1)).toEqual({
      setting: { watch: { project: "sample-app", repo: "harbor-works/shop-api", branch: "staging", reportStatus: false, linkBase: null }, everySecs: null, webhookPort: 0 },
    });
    await waitFor(() => expect(row("harbor-works/shop-api", "staging")).toBeDefined());
    const address = within(row("harbor-works/shop-api", "staging")!).getByTestId("gh-watch-address").textContent!;
    expect(address).toMatch(/^127\.0\.0\.1:47\d{3}$/);
    expect(id("gh-watch-started")).toHaveTextContent(`the webhook receiver listens at ${address}`);
  });

  test("Stop stops and forgets a watch", async () => {
    const user = userEvent.setup();
    const { backend } = await open();
    await user.click(within(row(SAMPLE_REPO, "release/1.x")!).getByTestId("gh-watch-stop"));
    await waitFor(() => expect(row(SAMPLE_REPO, "release/1.x")).toBeUndefined());
    expect(calls(backend, "github_watch_stop")).toEqual([{ repo: SAMPLE_REPO, branch: "release/1.x" }]);
    expect(rows()).toHaveLength(1);
  });

  test("not connected: says so, and still lists the watches and the webhook secret", async () => {
    await open({ connect: false });
    expect(id("gh-watch-not-connected")).toHaveTextContent("GitHub is not connected");
    expect(within(id("gh-watch-not-connected")).getByRole("link")).toHaveAttribute("href", "#/connect");
    expect(screen.queryByTestId("gh-watch-start")).toBeNull();
    expect(rows()).toHaveLength(2);
    expect(id("gh-secret-reveal")).toBeInTheDocument();
  });

  test("the webhook secret is hidden until Reveal; Copy; Rotate asks first", async () => {
    const user = userEvent.setup();
    const { backend } = await open();
    expect(screen.queryByTestId("gh-secret")).toBeNull();
    expect(calls(backend, "github_webhook_secret")).toEqual([]);
    await user.click(id("gh-secret-reveal"));
    const shown = (await screen.findByTestId("gh-secret")).textContent!;
    expect(shown).toMatch(/^[0-9a-f]{64}$/);
    expect(calls(backend, "github_webhook_secret")).toEqual([{ rotate: false }]);

    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    await user.click(id("gh-secret-copy"));
    expect(writeText).toHaveBeenCalledWith(shown);
    expect(await screen.findByTestId("gh-secret-copied")).toHaveTextContent("Copied");

    // Hide and reveal again: the same secret.
    await user.click(id("gh-secret-hide"));
    expect(screen.queryByTestId("gh-secret")).toBeNull();
    await user.click(id("gh-secret-reveal"));
    expect(await screen.findByTestId("gh-secret")).toHaveTextContent(shown);

    await user.click(id("gh-secret-rotate"));
    expect(id("gh-secret-rotate-box")).toHaveTextContent("Make a new webhook secret?");
    await user.click(id("gh-secret-rotate-cancel"));
    expect(screen.queryByTestId("gh-secret-rotate-box")).toBeNull();
    expect(calls(backend, "github_webhook_secret").filter((c) => c.rotate === true)).toEqual([]);
    await user.click(id("gh-secret-rotate"));
    await user.click(id("gh-secret-rotate-confirm"));
    await waitFor(() => expect(id("gh-secret").textContent).not.toBe(shown));
    expect(id("gh-secret").textContent).toMatch(/^[0-9a-f]{64}$/);
    expect(calls(backend, "github_webhook_secret").at(-1)).toEqual({ rotate: true });
    expect(id("gh-secret-rotated")).toHaveTextContent("A new secret was made");
  });
});

describe("watchSetting", () => {
  const base = { project: "p", repo: "o/r", branch: "main", mode: "poll" as const, every: "30", port: "", report: false, linkBase: "" };
  test("checks the values before anything is sent", () => {
    expect(watchSetting(base)).toEqual({ watch: { project: "p", repo: "o/r", branch: "main", reportStatus: false, linkBase: null }, everySecs: 30, webhookPort: null });
    expect(watchSetting({ ...base, every: "2.5" })).toMatchObject({ what: "Watch not started", why: '"2.5" is not a whole number of seconds' });
    expect(watchSetting({ ...base, mode: "webhook", port: "80" })).toMatchObject({ why: '"80" is not a port Slipway can listen on' });
    expect(watchSetting({ ...base, mode: "webhook", port: "48000" })).toMatchObject({ everySecs: null, webhookPort: 48000 });
    expect(watchSetting({ ...base, linkBase: "ci.example.com" })).toMatchObject({ why: '"ci.example.com" is not an http(s) address' });
  });
});
