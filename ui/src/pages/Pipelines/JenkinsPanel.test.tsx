import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";

import { crumbRefusal } from "../../testing/mockJenkins";
import { renderApp } from "../../testing/render";
import { jenkinsTiming } from "./jenkinsModel";

const id = (testId: string) => screen.getByTestId(testId);
const jobs = () => screen.getAllByTestId("jenkins-job");
const job = (name: string) => jobs().find((j) => j.getAttribute("data-job") === name)!;
const builds = () => screen.getAllByTestId("jenkins-build-row");
const stage = (name: string) => screen.getAllByTestId("jenkins-stage").find((s) => s.getAttribute("data-stage") === name);
const sleep = (ms: number) => act(() => new Promise((r) => setTimeout(r, ms)));

const saved = { ...jenkinsTiming };
beforeEach(() => {
  jenkinsTiming.stagesMs = 100;
  jenkinsTiming.buildsMs = 150;
  jenkinsTiming.queueMs = 60;
});
afterEach(() => {
  Object.assign(jenkinsTiming, saved);
  vi.restoreAllMocks();
});

/** The Pipelines page's Jenkins tab with a connected server (stage time in ms). */
async function openJenkins(opts: { stageMs?: number; connected?: boolean } = {}) {
  const user = userEvent.setup();
  const r = await renderApp({ hash: "#/pipelines" });
  if (opts.connected !== false) r.backend.jenkins.saved = { url: "https://ci.example.com", user: "dev" };
  r.backend.jenkins.stageMs = opts.stageMs ?? 3000;
  r.backend.jenkins.pollMs = 30;
  await user.click(id("pipelines-source-jenkins"));
  if (opts.connected !== false) await screen.findByTestId("jenkins-jobs");
  return { ...r, user };
}

describe("Pipelines > Jenkins", () => {
  test("not connected: says so and links to the Connect page", async () => {
    const { backend } = await openJenkins({ connected: false });
    const box = await screen.findByTestId("jenkins-not-connected");
    expect(within(box).getByRole("link", { name: /Connect Jenkins/ })).toHaveAttribute("href", "#/connect");
    expect(backend.calls.some((c) => c.cmd === "jenkins_jobs")).toBe(false);
  });

  test("jobs with their status from the ball colour (building animated); folders open, with a breadcrumb, Up and a path", async () => {
    const { backend, user } = await openJenkins();
    expect(id("jenkins-server")).toHaveTextContent("Jenkins at https://ci.example.com as dev");
    expect(jobs().map((j) => [j.getAttribute("data-job"), j.getAttribute("data-status"), j.getAttribute("data-building")])).toEqual([
      ["sample-app", "success", "true"],
      ["nightly-backup", "failed", "false"],
      ["legacy-deploy", "disabled", "false"],
      ["team", "folder", "false"],
    ]);
    expect(job("sample-app")).toHaveClass("jk-building");
    expect(within(job("sample-app")).getByTestId("jenkins-job-status")).toHaveTextContent("Success · building");

    await user.click(job("team"));
    await waitFor(() => expect(jobs().map((j) => j.getAttribute("data-job"))).toEqual(["team/api", "team/web"]));
    expect(jobs().map((j) => j.getAttribute("data-status"))).toEqual(["unstable", "notbuilt"]);
    expect(backend.calls.filter((c) => c.cmd === "jenkins_jobs").map((c) => c.args)).toEqual([{ folder: null }, { folder: "team" }]);
    expect(id("jenkins-breadcrumb")).toHaveTextContent("All jobs/team");
    expect(id("jenkins-folder")).toHaveValue("team");

    await user.click(id("jenkins-folder-up"));
    await waitFor(() => expect(jobs()).toHaveLength(4));

    await user.type(id("jenkins-folder"), "/team/");
    await user.click(id("jenkins-folder-go"));
    await waitFor(() => expect(jobs().map((j) => j.getAttribute("data-job"))).toEqual(["team/api", "team/web"]));

    await user.clear(id("jenkins-folder"));
    await user.type(id("jenkins-folder"), "nope{Enter}");
    await waitFor(() => expect(id("jenkins-jobs-error-why")).toHaveTextContent("nope does not exist on this Jenkins (404)"));
    expect(id("jenkins-jobs-error-what")).toHaveTextContent("Could not list the Jenkins jobs");

    await user.click(within(id("jenkins-breadcrumb")).getByRole("button", { name: "All jobs" }));
    await waitFor(() => expect(jobs()).toHaveLength(4));
  });

  test("a job's builds (number, result, duration, when); a freestyle job has no stage view but its console", async () => {
    const { backend, user } = await openJenkins();
    await user.click(job("nightly-backup"));
    await waitFor(() => expect(builds().map((b) => [b.getAttribute("data-build"), b.getAttribute("data-status")])).toEqual([["31", "failure"], ["30", "success"]]));
    expect(within(builds()[0]).getByTestId("jenkins-build-result")).toHaveTextContent("Failed");
    expect(within(builds()[0]).getByTestId("jenkins-build-duration")).toHaveTextContent("32s");
    const when = within(builds()[0]).getByTestId("jenkins-build-when").querySelector("time")!;
    expect(Math.abs(Date.parse(when.dateTime) - (Date.now() - 9 * 3600_000))).toBeLessThan(60_000); // 9 h ago
    expect(when.textContent).not.toBe("");
    expect(backend.calls.find((c) => c.cmd === "jenkins_builds")?.args).toEqual({ job: "nightly-backup", limit: 20 });
    expect(id("jenkins-build-detail")).toHaveAttribute("data-build", "31");
    await waitFor(() => expect(id("jenkins-stages-error-why")).toHaveTextContent("is it a Pipeline job?"));
    await waitFor(() => expect(id("jenkins-console")).toHaveAttribute("data-done", "true"));
    expect(id("jenkins-console")).toHaveTextContent("pg_dump: error");
    expect(id("jenkins-console").textContent).toMatch(/Finished: FAILURE\n$/);

    await user.click(within(builds()[1]).getByRole("button", { name: "Show build #30" }));
    await waitFor(() => expect(id("jenkins-build-detail")).toHaveAttribute("data-build", "30"));
    await waitFor(() => expect(id("jenkins-console").textContent).toMatch(/Finished: SUCCESS\n$/));
    expect(builds()[1]).toHaveAttribute("aria-selected", "true");
  });

  test("Build now shows Queued, then picks up the new build and shows it", async () => {
    const { backend, user } = await openJenkins({ stageMs: 100 });
    backend.jenkins.queueMs = 400;
    await user.click(job("team"));
    await waitFor(() => expect(jobs()).toHaveLength(2));
    await user.click(job("team/web"));
    expect(await screen.findByTestId("jenkins-builds-empty")).toHaveTextContent("team/web has no build yet");

    await user.click(id("jenkins-build-now"));
    expect(await screen.findByTestId("jenkins-queued")).toHaveTextContent("Queued");
    expect(id("jenkins-build-now")).toBeDisabled();
    expect(backend.calls.filter((c) => c.cmd === "jenkins_build").map((c) => c.args)).toEqual([{ job: "team/web" }]);
    // Still queued: the builds are read again until #1 appears, which is then shown.
    await waitFor(() => expect(id("jenkins-build-detail")).toHaveAttribute("data-build", "1"));
    await waitFor(() => expect(screen.queryByTestId("jenkins-queued")).toBeNull());
    expect(builds()[0]).toHaveAttribute("aria-selected", "true");
    expect(backend.calls.filter((c) => c.cmd === "jenkins_builds").length).toBeGreaterThan(2);
    await waitFor(() => expect(id("jenkins-build-detail")).toHaveAttribute("data-status", "success"), { timeout: 5000 });

    // A second one while #1 is shown: #2 replaces it.
    await user.click(id("jenkins-build-now"));
    await waitFor(() => expect(id("jenkins-build-detail")).toHaveAttribute("data-build", "2"));
    expect(builds().map((b) => b.getAttribute("data-build"))).toEqual(["2", "1"]);
  });

  test("Build now refused with 403 without a crumb: what/why/fix, nothing queued", async () => {
    const { backend, user } = await openJenkins();
    await user.click(job("sample-app"));
    await screen.findByTestId("jenkins-builds");
    backend.jenkins.failNext("jenkins_build", crumbRefusal());
    await user.click(id("jenkins-build-now"));
    const e = await screen.findByTestId("jenkins-build-error");
    expect(e).toHaveAttribute("role", "alert");
    expect(id("jenkins-build-error-what")).toHaveTextContent("Could not start the Jenkins build");
    expect(id("jenkins-build-error-why")).toHaveTextContent("Jenkins refused the request without a valid CSRF crumb (403 No valid crumb was included in the request)");
    expect(id("jenkins-build-error-fix")).toHaveTextContent("crumb issuer is reachable");
    expect(screen.queryByTestId("jenkins-queued")).toBeNull();
    expect(id("jenkins-build-now")).toBeEnabled();
  });

  test("the live stage view: stages in order, refreshed while building, not once the build ended", async () => {
    const { backend, user } = await openJenkins({ stageMs: 500 });
    await user.click(job("sample-app"));
    await waitFor(() => expect(id("jenkins-build-detail")).toHaveAttribute("data-build", "12"));
    expect(id("jenkins-build-detail")).toHaveAttribute("data-status", "building");
    await waitFor(() => expect(stage("Build")).toHaveAttribute("data-status", "in-progress"));
    expect(stage("Checkout")).toHaveAttribute("data-status", "success");
    expect(id("jenkins-stages")).toHaveAttribute("data-refreshing", "true");
    expect(stage("Test")).toBeUndefined(); // not started: the stage view lists only stages that began
    await waitFor(() => expect(stage("Build")).toHaveAttribute("data-status", "success"));
    await waitFor(() => expect(stage("Test")).toHaveAttribute("data-status", "in-progress"));
    await waitFor(() => expect(id("jenkins-stages")).toHaveAttribute("data-status", "success"), { timeout: 5000 });
    expect(screen.getAllByTestId("jenkins-stage").map((s) => s.getAttribute("data-stage"))).toEqual(["Checkout", "Build", "Test", "Push", "Deploy"]);
    expect(screen.getAllByTestId("jenkins-stage").every((s) => s.getAttribute("data-status") === "success")).toBe(true);
    expect(within(stage("Deploy")!).getByTestId("jenkins-stage-duration").textContent).toMatch(/^\d+\.\ds$/);
    expect(id("jenkins-stages")).toHaveAttribute("data-refreshing", "false");
    const reads = () => backend.calls.filter((c) => c.cmd === "jenkins_stages").length;
    expect(backend.calls.filter((c) => c.cmd === "jenkins_stages").at(-1)?.args).toEqual({ job: "sample-app", number: 12 });
    // Once it ended the view is read again at most once (when the builds list says it ended), then never.
    await waitFor(() => expect(id("jenkins-build-detail")).toHaveAttribute("data-status", "success"));
    await sleep(150);
    const after = reads();
    await sleep(500);
    expect(reads()).toBe(after);
  });

  test("the console streams from offset 0 and grows; it follows the bottom only while there; search and download", async () => {
    const { backend, user } = await openJenkins({ stageMs: 600 });
    await user.click(job("sample-app"));
    const con = await screen.findByTestId("jenkins-console");
    await waitFor(() => expect(con).toHaveTextContent("[Pipeline] { (Build)"));
    expect(backend.calls.find((c) => c.cmd === "follow_jenkins_log")?.args).toMatchObject({ job: "sample-app", number: 12, offset: 0 });
    expect(con).toHaveAttribute("data-done", "false");
    expect(con).toHaveAttribute("data-following", "true");

    // Layout jsdom has not: a 2000 px log in a 300 px box.
    let top = 0;
    Object.defineProperty(con, "scrollHeight", { configurable: true, get: () => 2000 });
    Object.defineProperty(con, "clientHeight", { configurable: true, get: () => 300 });
    Object.defineProperty(con, "scrollTop", { configurable: true, get: () => top, set: (v: number) => (top = v) });
    const bytes0 = Number(con.getAttribute("data-bytes"));
    await waitFor(() => expect(Number(con.getAttribute("data-bytes"))).toBeGreaterThan(bytes0));
    expect(top).toBe(2000); // new text: still at the bottom

    // The reader scrolls up: new text leaves the view where it is.
    top = 500;
    fireEvent.scroll(con);
    expect(con).toHaveAttribute("data-following", "false");
    const bytes1 = Number(con.getAttribute("data-bytes"));
    await waitFor(() => expect(Number(con.getAttribute("data-bytes"))).toBeGreaterThan(bytes1));
    expect(top).toBe(500);
    await user.click(id("jenkins-console-follow"));
    expect(con).toHaveAttribute("data-following", "true");
    expect(top).toBe(2000);
    expect(screen.queryByTestId("jenkins-console-follow")).toBeNull();

    await waitFor(() => expect(con).toHaveAttribute("data-done", "true"), { timeout: 5000 });
    expect(con.textContent).toMatch(/Finished: SUCCESS\n$/);
    expect(Number(con.getAttribute("data-bytes"))).toBe(con.textContent!.length);
    // Every line once: appended, never re-sent.
    expect(con.textContent!.split("[Pipeline] { (Deploy)").length).toBe(2);
    expect(backend.calls.filter((c) => c.cmd === "follow_jenkins_log")).toHaveLength(1);

    await user.type(id("jenkins-console-search"), "successfully ROLLED out");
    expect(id("jenkins-console-search-count")).toHaveTextContent("1 of 2");
    expect(con.querySelectorAll("mark")).toHaveLength(2);
    expect(con.querySelector("mark.jk-match-current")).toHaveTextContent("successfully rolled out");
    await user.keyboard("{Enter}");
    expect(id("jenkins-console-search-count")).toHaveTextContent("2 of 2");
    await user.keyboard("{Enter}");
    expect(id("jenkins-console-search-count")).toHaveTextContent("1 of 2");
    await user.keyboard("{Shift>}{Enter}{/Shift}");
    expect(id("jenkins-console-search-count")).toHaveTextContent("2 of 2");
    await user.click(id("jenkins-console-search-prev"));
    expect(id("jenkins-console-search-count")).toHaveTextContent("1 of 2");
    await user.clear(id("jenkins-console-search"));
    await user.type(id("jenkins-console-search"), "no such text");
    expect(id("jenkins-console-search-count")).toHaveTextContent("No match");
    await user.keyboard("{Escape}");
    expect(id("jenkins-console-search")).toHaveValue("");
    expect(con.querySelectorAll("mark")).toHaveLength(0);

    const blobs: Blob[] = [];
    Object.assign(URL, { createObjectURL: vi.fn((b: Blob) => (blobs.push(b), "blob:console")), revokeObjectURL: vi.fn() });
    const clicked: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.download);
    });
    await user.click(id("jenkins-console-download"));
    expect(clicked).toEqual(["sample-app-12.log"]);
    expect(await blobs[0].text()).toBe(con.textContent);
  });

  test("the stream is stopped when another build is shown and when the tab goes away", async () => {
    const { backend, user } = await openJenkins({ stageMs: 60_000 });
    await user.click(job("sample-app"));
    const con = await screen.findByTestId("jenkins-console");
    await waitFor(() => expect(Number(con.getAttribute("data-bytes"))).toBeGreaterThan(0));
    await waitFor(() => expect(backend.jenkins.follows.size).toBe(1));
    const first = [...backend.jenkins.follows][0];

    await user.click(within(builds()[1]).getByRole("button", { name: "Show build #11" }));
    await waitFor(() => expect(id("jenkins-console")).toHaveAttribute("data-done", "true"));
    expect(backend.jenkins.stopped).toEqual([first]);
    expect(backend.calls.filter((c) => c.cmd === "stop_stream").map((c) => c.args)).toEqual([{ channel: first }]);

    await user.click(within(builds()[0]).getByRole("button", { name: "Show build #12" }));
    await waitFor(() => expect(backend.jenkins.follows.size).toBe(1));
    const second = [...backend.jenkins.follows][0];
    await user.click(id("pipelines-source-slipway"));
    await waitFor(() => expect(backend.jenkins.follows.size).toBe(0));
    expect(backend.jenkins.stopped).toEqual([first, second]);
  });
});
