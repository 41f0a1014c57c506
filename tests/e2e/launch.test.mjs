// The journey the product exists for, on the real desktop app with a fresh data folder: the
// Launch page is the first page; Connect (the sandbox), Project (the sample app's Git
// repository), Infrastructure (plan with its cost, then apply, with the first build alongside),
// the first run (built and tested against MariaDB), Deploy to live (the sandbox's EKS is the test
// environment's Kubernetes cluster), and Open the app: it answers through NGINX with the rows
// the backend read from the database. Every click and every field typed is counted; more than
// ten fails the test. Then the app restarts on the same data folder: the page resumes with every
// step done and the sandbox still holding what it held. The same journey then takes a repository
// nobody wrote for Slipway (tests/fixtures/repos/flask-mysql-shop: images with an ENTRYPOINT, the
// schema in database/ with its own Dockerfile, manifests in kubernetes-manifests/ with their own
// NGINX) from another fresh data folder to its shop page. The desktop notifications are watched
// on the test session bus: with notifications set to always, the apply, the first run and the
// deploy are each notified once; with the default (only while the window is in the background)
// the focused window is notified nothing.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { Driver, REPO, environment, tail } from "./lib/harness.mjs";
import { sel, waitUntil } from "./lib/webdriver.mjs";

const MAX_ACTIONS = 10;
let env, driver;
/** Every app, repository and project the tests made, for the cleanup. */
const made = { apps: [], repos: [], projects: [] };

function git(cwd, ...args) {
  const r = spawnSync("git", ["-c", "user.name=Slipway e2e", "-c", "user.email=e2e@slipway.invalid", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${r.stderr}`);
  return r.stdout.trim();
}

function kubectl(...args) {
  return spawnSync(process.env.SLIPWAY_TEST_KUBECTL, ["--kubeconfig", process.env.SLIPWAY_TEST_KUBECONFIG, ...args], { encoding: "utf8" });
}

/** A Git repository holding a copy of `from` (a folder of this repository). */
function repoFrom(from, message) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "slipway-e2e-launch-"));
  cpSync(path.join(REPO, from), dir, { recursive: true });
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", message);
  made.repos.push(dir);
  return dir;
}

/**
 * The desktop notifications sent on the test session bus: the freedesktop Notify calls, seen by
 * dbus-monitor (there is no notification server on that bus; the call is observed on its way).
 */
function watchNotifications() {
  const p = spawn("dbus-monitor", ["--address", process.env.DBUS_SESSION_BUS_ADDRESS, "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  let out = "";
  p.stdout.on("data", (d) => (out += d));
  return {
    /** The titles (summaries) notified so far: Notify's fourth argument. */
    titles: () => [...out.matchAll(/member=Notify\n\s+string "[^"]*"\n\s+uint32 \d+\n\s+string "[^"]*"\n\s+string "([^"]*)"/g)].map((m) => m[1]),
    stop: () => p.kill(),
  };
}

/**
 * The Launch journey on a fresh data folder, every user action counted: Connect (the sandbox),
 * Project (the folder typed), Plan, Apply (the first run starts alongside), Deploy to live, Open.
 * Returns the app's answer and the actions; the app stays open.
 */
async function journey(repo, services, { notifications } = {}) {
  const notified = watchNotifications();
  let dataDir;
  if (notifications) {
    // Set before the app starts, with the CLI on the same data folder (not a user action of the
    // journey): the test display gives the window the focus, so "background" would say nothing.
    dataDir = mkdtempSync(path.join(os.tmpdir(), "slipway-e2e-data-"));
    const cli = path.join(path.dirname(env.app), "slipway");
    const r = spawnSync(cli, ["--data-dir", dataDir, "settings", "set", "notifications", notifications], { encoding: "utf8" });
    assert.equal(r.status, 0, `slipway settings set notifications ${notifications}: ${r.stderr}`);
  }
  const app = await driver.launch({ dataDir });
  made.apps.push(app);
  const s = app.session;
  const log = [];
  const act = async (kind, testId, why, text) => {
    log.push(`${log.length + 1}. ${kind} ${testId} (${why})`);
    // Into view first, as a person scrolls to it (WebKitWebDriver does not scroll for a click).
    await s.execute(`document.querySelector('[data-testid="${testId}"]')?.scrollIntoView({ block: "center" });`);
    if (kind === "click") await s.click(sel(testId));
    else await s.type(sel(testId), text);
  };
  const status = async (step) => s.attr(await s.find(sel(`launch-step-${step}`)), "data-status");
  /** Waits for a step to be done; a failed step fails the test with its what / why / fix. */
  const done = (step, timeout) =>
    waitUntil(
      `the ${step} step to be done`,
      async () => {
        const st = await status(step);
        if (st === "failed") {
          const part = async (p) => s.text(await s.find(sel(`launch-error-${step}-${p}`)));
          throw new Error(`${step} failed: ${await part("what")} / ${await part("why")} / ${await part("fix")}`);
        }
        const refused = await s.find(sel("launch-action-error"));
        if (refused) throw new Error(`an action was refused: ${await s.text(refused)}`);
        return st === "done";
      },
      { timeout, interval: 500 },
    );
  try {
    // The first page of a fresh data folder is Launch.
    await s.waitFor(sel("launch-page"), { timeout: 30_000 });
    assert.equal(await status("connect"), "current");
    assert.equal(await status("deploy"), "blocked");

    // 1. Connect: the sandbox.
    await act("click", "launch-action-useSandbox", "connect AWS to the sandbox");
    await done("connect", 60_000);

    // 2-3. Project: the repository's folder.
    await act("type", "launch-source", "the repository", repo);
    await act("click", "launch-action-addProject", "detect and add the project");
    await done("project", 60_000);
    const project = (await s.text(await s.find(sel("launch-project")))).trim();
    made.projects.push(project);
    await s.waitForText(sel("launch-detail-project"), (t) => services.every((name) => t.includes(name)));

    // 4. Plan: the cost before the commitment, and what the sandbox runs locally.
    await act("click", "launch-action-plan", "plan the infrastructure");
    await s.waitForText(sel("launch-plan"), /to create, about \$[\d,.]+ a month/, { timeout: 60_000 });
    await s.waitForText(sel("launch-mapping-EKS"), /context slipway-test/);
    await s.waitForText(sel("launch-mapping-ECR"), /same engine/);

    // 5. Apply: the infrastructure, with the first build under way at the same time.
    await act("click", "launch-action-apply", "apply, and start the first build");
    await waitUntil("the first run to start while the infrastructure is applied", async () => ["running", "done"].includes(await status("run")), {
      timeout: 60_000,
      interval: 250,
    });
    await done("infrastructure", 180_000);
    await done("run", 480_000);

    // 6. Deploy to live.
    await act("click", "launch-action-deployLive", "deploy the tested images to live");
    await done("deploy", 300_000);

    // 7. Open the app.
    const url = await s.attr(await s.waitFor(sel("launch-url")), "href");
    await act("click", "launch-action-openApp", "open the app");
    // The rollouts are ready, but an app may still be waiting for its database (the corpus
    // shop's backend connects to MySQL, which loads its schema on first start): the page is
    // asked again, as a person would reload it, for up to two minutes.
    const asked = Date.now();
    let res, body;
    for (;;) {
      res = await fetch(url).catch((e) => ({ status: 0, headers: new Headers(), text: async () => e.message }));
      body = await res.text();
      if (res.status === 200 || Date.now() - asked > 120_000) break;
      await new Promise((ok) => setTimeout(ok, 1_000));
    }
    assert.equal(res.status, 200, `the app answers at ${url}: ${body.slice(0, 300)}`);
    console.log(`${path.basename(repo)}: answered 200 ${((Date.now() - asked) / 1000).toFixed(1)} s after Open`);
    const server = res.headers.get("server") ?? "";
    assert.match(server, /nginx/i, `served through NGINX (Server: ${server})`);
    await done("open", 60_000);
    if (notifications === "always") {
      // The ends of the long steps were notified on the desktop, each once.
      const expected = [`Apply of ${project} finished`, `Run 1 of ${project} passed`, `Deploy 1 of ${project} to live succeeded`];
      await waitUntil(`the notifications ${expected.join(", ")}`, async () => expected.every((t) => notified.titles().includes(t)), { timeout: 15_000, interval: 250 });
      for (const t of expected) assert.equal(notified.titles().filter((x) => x === t).length, 1, `${t} notified once: ${notified.titles().join(" | ")}`);
    } else {
      // The default notifies only while the window is in the background; here it had the focus.
      assert.deepEqual(notified.titles(), [], "nothing notified while the window had the focus");
    }
    assert.ok(log.length <= MAX_ACTIONS, `${log.length} user actions (at most ${MAX_ACTIONS}):\n${log.join("\n")}`);
    console.log(`${path.basename(repo)}: ${log.length} actions\n  ${log.join("\n  ")}`);
    return { app, status, body, log };
  } catch (e) {
    process.exitCode = 1;
    e.message += `\n--- notified: ${notified.titles().join(" | ") || "(nothing)"}`;
    const shot = await app.screenshot(`failure-launch-${made.apps.length}`).catch((err) => ({ file: `(no screenshot: ${err.message})` }));
    e.message += `\n--- actions so far:\n${log.join("\n")}\nscreenshot: ${shot?.file}\napp log:\n${tail(app.log, 40)}`;
    throw e;
  } finally {
    notified.stop();
  }
}

describe("Launch: a fresh install to the app on Kubernetes behind NGINX, in at most ten actions", { timeout: 1_800_000 }, () => {
  before(async () => {
    env = await environment();
    driver = await Driver.start(env);
  });

  after(async () => {
    const notes = [];
    for (const app of made.apps) notes.push(...(await app.dispose({ keepDataDir: process.exitCode === 1 })));
    for (const project of made.projects) {
      for (const ns of [project, `${project}-test`]) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
      const ids = spawnSync("docker", ["image", "ls", "-q", "--filter", `label=slipway.image.project=${project}`], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
      if (ids.length) spawnSync("docker", ["image", "rm", "-f", ...new Set(ids)]);
    }
    for (const repo of made.repos) rmSync(repo, { recursive: true, force: true });
    await driver?.stop();
    if (notes.length) console.log(`cleanup: ${notes.join("; ")}`);
  });

  test("launch: every step done, the app answers through NGINX on the cluster, counted actions", { timeout: 840_000 }, async () => {
    const repo = repoFrom("examples/sample-app", "The sample app, launched");
    let { app, body } = await journey(repo, ["backend", "frontend"], { notifications: "always" });
    // The frontend's page, with the rows the backend read from MariaDB.
    assert.match(body, /<h1>Items<\/h1>/, "the frontend's page");
    for (const row of ["anchor", "buoy", "capstan"]) assert.ok(body.includes(row), `${row} from the database is on the page`);
    await app.screenshot("launch-done");

    // The page resumes after a restart: every step still done, the sandbox adopted.
    const dataDir = app.dataDir;
    await app.close();
    app = await driver.launch({ dataDir });
    made.apps.push(app);
    const s = app.session;
    await s.waitFor(sel("launch-page"), { timeout: 30_000 });
    for (const step of ["connect", "project", "infrastructure", "run", "deploy", "open"]) {
      const st = async () => s.attr(await s.find(sel(`launch-step-${step}`)), "data-status");
      await waitUntil(`${step} to be done after the restart`, async () => (await st()) === "done", { timeout: 30_000, interval: 250 });
    }
    await app.close(); // one app at a time: the next journey starts its own
  });

  test("launch: a repository nobody wrote for Slipway (ENTRYPOINT images, database/ schema, its own manifests and NGINX)", { timeout: 840_000 }, async () => {
    const repo = repoFrom("tests/fixtures/repos/flask-mysql-shop", "A Flask shop, launched");
    const { app, body } = await journey(repo, ["backend", "frontend"]);
    await app.screenshot("launch-corpus-done");
    // The shop's page: the frontend called the backend by its compose name, which read MySQL's
    // rows loaded from database/Create.sql.
    for (const item of ["Anchor: 45.00", "Lantern: 19.99"]) assert.ok(body.includes(item), `${item} is on the page: ${body.slice(0, 500)}`);
  });
});
