// The Pipelines page's Jenkins tab in Chromium against the real commands (slipway-ipc-bridge on
// a fresh data folder) and the Jenkins stand-in in front of the real client (crates/ci): not
// connected; jobs with their status (folders, a breadcrumb, Up, a path, a folder that is not
// there); a job's builds and a freestyle build's console; a running Pipeline build's stage view
// and console live until it ends (follow, scroll back, search, download); the stream ended when
// another build is shown and when the tab goes away; Build now queued, then shown; and refused
// without a valid crumb. Screenshots: tests/artifacts/ui/.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { startJenkinsStub, type JenkinsStub } from "../../../tests/stubs/jenkins.mjs";
import { webProject } from "./fixtures";
import { ARTIFACTS, browserSuite, gitRepo } from "./harness";

const TOKEN = "11f2a9c0e4b7d8a3c6e1f0b2a5d4c7e9f8";
let jenkins: JenkinsStub;
beforeAll(async () => {
  jenkins = await startJenkinsStub({ user: "dev", token: TOKEN, stageMs: 4000, queueMs: 1500 });
});
const local = gitRepo(webProject());
afterAll(async () => {
  await jenkins?.close();
  local.remove();
});

const t = browserSuite({ name: "jenkins" });
const byId = (id: string) => t.page.getByTestId(id);
const sel = (testId: string, attr: string, value: string) => t.page.locator(`[data-testid="${testId}"][${attr}="${value}"]`);
const jobs = () => byId("jenkins-job").evaluateAll((els) => els.map((j) => j.getAttribute("data-job")));
const stage = (name: string) => sel("jenkins-stage", "data-stage", name);
/** Console reads of a build (progressiveText), in order. */
const consoleReads = (job: string, n: number) => jenkins.requests.filter((r) => r.path === `/job/${job}/${n}/logText/progressiveText`);

async function openTab() {
  await t.open("#/pipelines");
  await byId("runs-list").or(byId("runs-empty")).first().waitFor({ timeout: 30_000 });
  await byId("pipelines-source-jenkins").click();
}

describe("Jenkins tab in Chromium (real commands, the Jenkins stand-in)", () => {
  test("not connected: says so, links to the Connect page, and asks Jenkins nothing", async () => {
    const p = await t.invoke("detect_project", { input: { source: { kind: "path", path: local.dir }, id: "local-app" } });
    await t.invoke("save_project", { project: p });
    await openTab();
    await byId("jenkins-not-connected").waitFor({ timeout: 20_000 });
    expect(await byId("jenkins-not-connected").getByRole("link", { name: /Connect Jenkins/ }).getAttribute("href")).toBe("#/connect");
    expect(jenkins.requests).toEqual([]);
  });

  test("jobs with their status from the ball colour (building animated); folders open with a breadcrumb, Up and a path; a folder that is not there is named", async () => {
    await t.invoke("connect_jenkins", { input: { url: jenkins.url, user: "dev", token: TOKEN } });
    await openTab();
    await byId("jenkins-jobs").waitFor({ timeout: 20_000 });
    expect(await byId("jenkins-server").textContent()).toContain(`Jenkins at ${jenkins.url} as dev`);
    const list = await byId("jenkins-job").evaluateAll((els) => els.map((j) => [j.getAttribute("data-job"), j.getAttribute("data-status"), j.getAttribute("data-building")]));
    expect(list).toEqual([
      ["sample-app", "success", "true"],
      ["nightly-backup", "failed", "false"],
      ["legacy-deploy", "disabled", "false"],
      ["team", "folder", "false"],
    ]);
    const app = sel("jenkins-job", "data-job", "sample-app");
    expect(await app.getAttribute("class")).toContain("jk-building");
    expect(await app.getByTestId("jenkins-job-status").textContent()).toBe("Success · building");

    await sel("jenkins-job", "data-job", "team").click();
    await expect.poll(jobs, { timeout: 20_000 }).toEqual(["team/api", "team/web"]);
    expect(await byId("jenkins-job").evaluateAll((els) => els.map((j) => j.getAttribute("data-status")))).toEqual(["unstable", "notbuilt"]);
    expect(await byId("jenkins-breadcrumb").textContent()).toContain("All jobs/team");
    expect(await byId("jenkins-folder").inputValue()).toBe("team");
    await byId("jenkins-folder-up").click();
    await expect.poll(() => byId("jenkins-job").count(), { timeout: 20_000 }).toBe(4);
    await byId("jenkins-folder").fill("/team/");
    await byId("jenkins-folder-go").click();
    await expect.poll(jobs, { timeout: 20_000 }).toEqual(["team/api", "team/web"]);
    await byId("jenkins-folder").fill("nope");
    await byId("jenkins-folder").press("Enter");
    await byId("jenkins-jobs-error").waitFor({ timeout: 20_000 });
    expect(await byId("jenkins-jobs-error-what").textContent()).toBe("Could not list the Jenkins jobs");
    expect(await byId("jenkins-jobs-error-why").textContent()).toContain("nope does not exist on this Jenkins (404)");
    await byId("jenkins-breadcrumb").getByRole("button", { name: "All jobs" }).click();
    await expect.poll(() => byId("jenkins-job").count(), { timeout: 20_000 }).toBe(4);
  });

  test("a job's builds (number, result, duration, when); a freestyle job has no stage view, but its console", async () => {
    await openTab();
    await sel("jenkins-job", "data-job", "nightly-backup").click({ timeout: 20_000 });
    await expect.poll(() => byId("jenkins-build-row").evaluateAll((els) => els.map((b) => [b.getAttribute("data-build"), b.getAttribute("data-status")])), { timeout: 20_000 }).toEqual([
      ["31", "failure"],
      ["30", "success"],
    ]);
    const first = byId("jenkins-build-row").first();
    expect(await first.getByTestId("jenkins-build-result").textContent()).toBe("Failed");
    expect(await first.getByTestId("jenkins-build-duration").textContent()).toBe("32s");
    const when = first.getByTestId("jenkins-build-when").locator("time");
    expect(Math.abs(Date.parse((await when.getAttribute("datetime"))!) - (Date.now() - 9 * 3600_000))).toBeLessThan(10 * 60_000); // 9 h ago
    expect(await when.textContent()).not.toBe("");
    expect(jenkins.requests.some((r) => r.path === "/job/nightly-backup/api/json" && decodeURIComponent(r.search).includes("{0,20}"))).toBe(true);
    expect(await byId("jenkins-build-detail").getAttribute("data-build")).toBe("31");
    await byId("jenkins-stages-error-why").filter({ hasText: "is it a Pipeline job?" }).waitFor({ timeout: 20_000 });
    await sel("jenkins-console", "data-done", "true").waitFor({ timeout: 20_000 });
    expect(await byId("jenkins-console").textContent()).toContain("pg_dump: error");
    expect(await byId("jenkins-console").textContent()).toMatch(/Finished: FAILURE\n$/);

    await byId("jenkins-build-row").nth(1).getByRole("button", { name: "Show build #30" }).click();
    await sel("jenkins-build-detail", "data-build", "30").waitFor();
    await expect.poll(() => byId("jenkins-console").textContent(), { timeout: 20_000 }).toMatch(/Finished: SUCCESS\n$/);
    expect(await byId("jenkins-build-row").nth(1).getAttribute("aria-selected")).toBe("true");
  });

  test("a running Pipeline build: the stage view read again while it builds (not once it ended); the console streams from 0 and grows, followed only while at the bottom; search and download", async () => {
    await openTab();
    await sel("jenkins-job", "data-job", "sample-app").click({ timeout: 20_000 });
    await sel("jenkins-build-detail", "data-build", "12").waitFor({ timeout: 20_000 });
    expect(await byId("jenkins-build-detail").getAttribute("data-status")).toBe("building");
    await stage("Build").and(t.page.locator('[data-status="in-progress"]')).waitFor({ timeout: 20_000 });
    expect(await stage("Checkout").getAttribute("data-status")).toBe("success");
    expect(await byId("jenkins-stages").getAttribute("data-refreshing")).toBe("true");
    expect(await stage("Test").count()).toBe(0); // not started: the stage view lists only stages that began
    const con = byId("jenkins-console");
    await con.filter({ hasText: "[Pipeline] { (Build)" }).waitFor({ timeout: 20_000 });
    expect(consoleReads("sample-app", 12)[0].search).toBe("?start=0");
    expect(await con.getAttribute("data-done")).toBe("false");
    expect(await con.getAttribute("data-following")).toBe("true");
    await t.page.screenshot({ path: join(ARTIFACTS, "jenkins-build-running.png"), fullPage: true });

    // The reader scrolls up: new text leaves the view where it is; Follow brings the bottom back.
    await con.evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event("scroll"));
    });
    await sel("jenkins-console", "data-following", "false").waitFor();
    const bytes = Number(await con.getAttribute("data-bytes"));
    await expect.poll(async () => Number(await con.getAttribute("data-bytes")), { timeout: 20_000 }).toBeGreaterThan(bytes);
    expect(await con.evaluate((el) => el.scrollTop)).toBe(0);
    await byId("jenkins-console-follow").click();
    await sel("jenkins-console", "data-following", "true").waitFor();
    expect(await byId("jenkins-console-follow").count()).toBe(0);
    await expect.poll(() => con.evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 4)).toBe(true);

    await stage("Build").and(t.page.locator('[data-status="success"]')).waitFor({ timeout: 20_000 });
    await stage("Test").waitFor({ timeout: 20_000 });
    await t.page.screenshot({ path: join(ARTIFACTS, "jenkins-build-live.png"), fullPage: true });
    await sel("jenkins-stages", "data-status", "success").waitFor({ timeout: 60_000 });
    expect(await byId("jenkins-stage").evaluateAll((els) => els.map((s) => s.getAttribute("data-stage")))).toEqual(["Checkout", "Build", "Test", "Push", "Deploy"]);
    expect(await byId("jenkins-stage").evaluateAll((els) => els.every((s) => s.getAttribute("data-status") === "success"))).toBe(true);
    expect(await stage("Deploy").getByTestId("jenkins-stage-duration").textContent()).toMatch(/^\d+(\.\d)?s$/);
    expect(await byId("jenkins-stages").getAttribute("data-refreshing")).toBe("false");
    await sel("jenkins-build-detail", "data-status", "success").waitFor({ timeout: 20_000 });
    // Once it ended, the stage view is read no more.
    const describes = () => jenkins.requests.filter((r) => r.path === "/job/sample-app/12/wfapi/describe").length;
    await new Promise((r) => setTimeout(r, 1500));
    const after = describes();
    await new Promise((r) => setTimeout(r, 3000));
    expect(describes()).toBe(after);

    await sel("jenkins-console", "data-done", "true").waitFor({ timeout: 20_000 });
    const text = (await con.textContent())!;
    expect(text).toMatch(/Finished: SUCCESS\n$/);
    expect(Number(await con.getAttribute("data-bytes"))).toBe(Buffer.byteLength(text));
    expect(text.split("[Pipeline] { (Deploy)").length).toBe(2); // every line once: appended, never sent again
    // Each read starts where the last one ended.
    const reads = consoleReads("sample-app", 12).map((r) => Number(new URLSearchParams(r.search).get("start")));
    expect(reads[0]).toBe(0);
    expect(reads.every((s, i) => i === 0 || s >= reads[i - 1])).toBe(true);

    await byId("jenkins-console-search").fill("successfully ROLLED out");
    expect(await byId("jenkins-console-search-count").textContent()).toBe("1 of 2");
    expect(await con.locator("mark").count()).toBe(2);
    expect(await con.locator("mark.jk-match-current").textContent()).toBe("successfully rolled out");
    await byId("jenkins-console-search").press("Enter");
    expect(await byId("jenkins-console-search-count").textContent()).toBe("2 of 2");
    await byId("jenkins-console-search").press("Enter");
    expect(await byId("jenkins-console-search-count").textContent()).toBe("1 of 2");
    await byId("jenkins-console-search").press("Shift+Enter");
    expect(await byId("jenkins-console-search-count").textContent()).toBe("2 of 2");
    await byId("jenkins-console-search-prev").click();
    expect(await byId("jenkins-console-search-count").textContent()).toBe("1 of 2");
    await byId("jenkins-console-search").fill("no such text");
    expect(await byId("jenkins-console-search-count").textContent()).toBe("No match");
    await byId("jenkins-console-search").press("Escape");
    expect(await byId("jenkins-console-search").inputValue()).toBe("");
    expect(await con.locator("mark").count()).toBe(0);
    const download = t.page.waitForEvent("download");
    await byId("jenkins-console-download").click();
    const d = await download;
    expect(d.suggestedFilename()).toBe("sample-app-12.log");
    expect(readFileSync((await d.path())!, "utf8")).toBe(text);
  });

  test("Build now shows Queued, then picks up the new build and shows it; a second one replaces it", async () => {
    jenkins.knobs.stageMs = 300;
    await openTab();
    await sel("jenkins-job", "data-job", "team").click({ timeout: 20_000 });
    await expect.poll(() => byId("jenkins-job").count(), { timeout: 20_000 }).toBe(2);
    await sel("jenkins-job", "data-job", "team/web").click();
    await byId("jenkins-builds-empty").waitFor({ timeout: 20_000 });
    expect(await byId("jenkins-builds-empty").textContent()).toContain("team/web has no build yet");
    await byId("jenkins-build-now").click();
    await byId("jenkins-queued").waitFor({ timeout: 20_000 });
    expect(await byId("jenkins-queued").textContent()).toContain("Queued");
    expect(await byId("jenkins-build-now").isDisabled()).toBe(true);
    const post = jenkins.requests.find((r) => r.method === "POST" && r.path === "/job/team/job/web/build")!;
    expect(post.crumb).toBeTruthy(); // the crumb from crumbIssuer
    expect(post.cookie).toContain("JSESSIONID"); // with its session
    await sel("jenkins-build-detail", "data-build", "1").waitFor({ timeout: 30_000 });
    await expect.poll(() => byId("jenkins-queued").count(), { timeout: 20_000 }).toBe(0);
    expect(await byId("jenkins-build-row").first().getAttribute("aria-selected")).toBe("true");
    await sel("jenkins-build-detail", "data-status", "success").waitFor({ timeout: 30_000 });

    await byId("jenkins-build-now").click();
    await sel("jenkins-build-detail", "data-build", "2").waitFor({ timeout: 30_000 });
    expect(await byId("jenkins-build-row").evaluateAll((els) => els.map((b) => b.getAttribute("data-build")))).toEqual(["2", "1"]);
  });

  test("Build now refused without a valid crumb (a proxy dropped the session): what / why / fix, nothing queued", async () => {
    await openTab();
    await sel("jenkins-job", "data-job", "sample-app").click({ timeout: 20_000 });
    await byId("jenkins-builds").waitFor({ timeout: 20_000 });
    jenkins.knobs.rejectCrumb = true;
    try {
      await byId("jenkins-build-now").click();
      await byId("jenkins-build-error").waitFor({ timeout: 20_000 });
      expect(await byId("jenkins-build-error").getAttribute("role")).toBe("alert");
      expect(await byId("jenkins-build-error-what").textContent()).toBe("Could not start the Jenkins build");
      expect(await byId("jenkins-build-error-why").textContent()).toBe("Jenkins refused the request without a valid CSRF crumb (403 No valid crumb was included in the request)");
      expect(await byId("jenkins-build-error-fix").textContent()).toContain("crumb issuer is reachable");
      expect(await byId("jenkins-queued").count()).toBe(0);
      expect(await byId("jenkins-build-now").isEnabled()).toBe(true);
    } finally {
      jenkins.knobs.rejectCrumb = false;
    }
  });

  test("the console stream is ended on the Rust side when another build is shown, and when the tab goes away", async () => {
    jenkins.knobs.stageMs = 60_000;
    await t.invoke("jenkins_build", { job: "sample-app" });
    // Out of the queue: the newest build runs.
    await expect.poll(async () => (await t.invoke<{ building: boolean }[]>("jenkins_builds", { job: "sample-app", limit: 1 }))[0].building, { timeout: 20_000 }).toBe(true);
    await openTab();
    await sel("jenkins-job", "data-job", "sample-app").click({ timeout: 20_000 });
    // The newest build runs (60 s a stage): its console is followed, read about once a second.
    const running = Number(await sel("jenkins-build-detail", "data-status", "building").getAttribute("data-build", { timeout: 30_000 }));
    await expect.poll(async () => Number(await byId("jenkins-console").getAttribute("data-bytes")), { timeout: 20_000 }).toBeGreaterThan(0);
    await expect.poll(() => consoleReads("sample-app", running).length, { timeout: 20_000 }).toBeGreaterThan(1);

    await byId("jenkins-build-row").nth(1).getByRole("button").click();
    await sel("jenkins-console", "data-done", "true").waitFor({ timeout: 20_000 });
    // The followed stream ended: the running build's console is read no more.
    await new Promise((r) => setTimeout(r, 1500));
    const reads = consoleReads("sample-app", running).length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(consoleReads("sample-app", running).length).toBe(reads);

    await byId("jenkins-build-row").first().getByRole("button").click();
    await expect.poll(() => consoleReads("sample-app", running).length, { timeout: 20_000 }).toBeGreaterThan(reads);
    await byId("pipelines-source-slipway").click();
    await new Promise((r) => setTimeout(r, 1500));
    const left = consoleReads("sample-app", running).length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(consoleReads("sample-app", running).length).toBe(left);
  });
});
