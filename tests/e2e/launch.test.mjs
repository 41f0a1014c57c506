// The journey the product exists for, on the real desktop app with a fresh data folder: the
// Launch page is the first page; Connect (the sandbox), Project (the sample app's Git
// repository), Infrastructure (plan with its cost, then apply, with the first build alongside),
// the first run (built and tested against MariaDB), Deploy to live (the sandbox's EKS is the test
// environment's Kubernetes cluster), and Open the app: it answers through NGINX with the rows
// the backend read from the database. Every click and every field typed is counted; more than
// ten fails the test. Then the app restarts on the same data folder: the page resumes with every
// step done and the sandbox still holding what it held.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { Driver, REPO, environment, tail } from "./lib/harness.mjs";
import { sel, waitUntil } from "./lib/webdriver.mjs";

const MAX_ACTIONS = 10;
let env, driver, app, s, repo, project;
let actions = 0;
const log = [];

function git(cwd, ...args) {
  const r = spawnSync("git", ["-c", "user.name=Slipway e2e", "-c", "user.email=e2e@slipway.invalid", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${r.stderr}`);
  return r.stdout.trim();
}

function kubectl(...args) {
  return spawnSync(process.env.SLIPWAY_TEST_KUBECTL, ["--kubeconfig", process.env.SLIPWAY_TEST_KUBECONFIG, ...args], { encoding: "utf8" });
}

/** A user action: one click. */
async function click(testId, why) {
  actions += 1;
  log.push(`${actions}. click ${testId} (${why})`);
  await s.click(sel(testId));
}

/** A user action: one field typed. */
async function type(testId, text, why) {
  actions += 1;
  log.push(`${actions}. type into ${testId} (${why})`);
  await s.type(sel(testId), text);
}

const status = async (step) => s.attr(await s.find(sel(`launch-step-${step}`)), "data-status");

/** Waits for a step to be done; a failed step fails the test with its what / why / fix. */
async function done(step, timeout) {
  await waitUntil(
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
}

describe("Launch: a fresh install to the app on Kubernetes behind NGINX, in at most ten actions", { timeout: 900_000 }, () => {
  before(async () => {
    env = await environment();
    repo = mkdtempSync(path.join(os.tmpdir(), "slipway-e2e-launch-"));
    cpSync(path.join(REPO, "examples/sample-app"), repo, { recursive: true });
    git(repo, "init", "-q");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "The sample app, launched");
    driver = await Driver.start(env);
    app = await driver.launch();
    s = app.session;
  });

  after(async () => {
    const notes = [];
    if (app) notes.push(...(await app.dispose({ keepDataDir: process.exitCode === 1 })));
    for (const ns of [project, `${project}-test`]) {
      if (ns) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
    }
    const ids = spawnSync("docker", ["image", "ls", "-q", "--filter", `label=slipway.image.project=${project}`], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    if (ids.length) spawnSync("docker", ["image", "rm", "-f", ...new Set(ids)]);
    if (repo) rmSync(repo, { recursive: true, force: true });
    await driver?.stop();
    console.log(`actions:\n  ${log.join("\n  ")}`);
    if (notes.length) console.log(`cleanup: ${notes.join("; ")}`);
  });

  test("launch: every step done, the app answers through NGINX on the cluster, counted actions", { timeout: 840_000 }, async () => {
    try {
      // The first page of a fresh data folder is Launch.
      await s.waitFor(sel("launch-page"), { timeout: 30_000 });
      assert.equal(await status("connect"), "current");
      assert.equal(await status("deploy"), "blocked");

      // 1. Connect: the sandbox.
      await click("launch-action-useSandbox", "connect AWS to the sandbox");
      await done("connect", 60_000);

      // 2-3. Project: the repository's folder.
      await type("launch-source", repo, "the repository");
      await click("launch-action-addProject", "detect and add the project");
      await done("project", 60_000);
      project = (await s.text(await s.find(sel("launch-project")))).trim();
      await s.waitForText(sel("launch-detail-project"), (t) => t.includes("backend") && t.includes("frontend"));

      // 4. Plan: the cost before the commitment, and what the sandbox runs locally.
      await click("launch-action-plan", "plan the infrastructure");
      await s.waitForText(sel("launch-plan"), /to create, about \$[\d,.]+ a month/, { timeout: 60_000 });
      await s.waitForText(sel("launch-mapping-EKS"), /context slipway-test/);
      await s.waitForText(sel("launch-mapping-ECR"), /same engine/);

      // 5. Apply: the infrastructure, with the first build under way at the same time.
      await click("launch-action-apply", "apply, and start the first build");
      await waitUntil(
        "the first run to start while the infrastructure is applied",
        async () => ["running", "done"].includes(await status("run")),
        { timeout: 60_000, interval: 250 },
      );
      await done("infrastructure", 180_000);
      await done("run", 480_000);

      // 6. Deploy to live.
      await click("launch-action-deployLive", "deploy the tested images to live");
      await done("deploy", 300_000);

      // 7. Open the app: it answers through NGINX, with the rows the backend read from MariaDB.
      const url = await s.attr(await s.waitFor(sel("launch-url")), "href");
      await click("launch-action-openApp", "open the app");
      const res = await fetch(url);
      const body = await res.text();
      assert.equal(res.status, 200, `the app answers at ${url}: ${body.slice(0, 300)}`);
      assert.match(body, /<h1>Items<\/h1>/, "the frontend's page");
      for (const row of ["anchor", "buoy", "capstan"]) assert.ok(body.includes(row), `${row} from the database is on the page`);
      const server = res.headers.get("server") ?? "";
      assert.match(server, /nginx/i, `served through NGINX (Server: ${server})`);
      await done("open", 60_000);
      await app.screenshot("launch-done");

      assert.ok(actions <= MAX_ACTIONS, `${actions} user actions (at most ${MAX_ACTIONS}):\n${log.join("\n")}`);

      // The page resumes after a restart: every step still done, the sandbox adopted.
      const dataDir = app.dataDir;
      await app.close();
      app = await driver.launch({ dataDir });
      s = app.session;
      await s.waitFor(sel("launch-page"), { timeout: 30_000 });
      for (const step of ["connect", "project", "infrastructure", "run", "deploy", "open"]) {
        await waitUntil(`${step} to be done after the restart`, async () => (await status(step)) === "done", { timeout: 30_000, interval: 250 });
      }
    } catch (e) {
      process.exitCode = 1;
      const shot = await app?.screenshot("failure-launch").catch((err) => ({ file: `(no screenshot: ${err.message})` }));
      e.message += `\n--- actions so far:\n${log.join("\n")}\nscreenshot: ${shot?.file}\napp log:\n${app ? tail(app.log, 40) : ""}`;
      throw e;
    }
  });
});
