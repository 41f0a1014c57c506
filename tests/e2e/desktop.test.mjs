// The real desktop app (the debug build with the bundled UI), driven through tauri-driver and
// WebKitWebDriver under Xvfb: the AWS wizard on the sandbox and the region picker, a bad and a
// good GitHub token against a GitHub stand-in, a project detected and saved from a Git repository
// and run until Build on the real Docker engine, those images deployed to the test Kubernetes
// cluster from the Deployments page and redeployed, a card moved on the Board, screenshots of every
// page, then the app closed like a person closes it: the sandbox keeps running (it outlives the
// app), and no secret typed in the wizard may be in any file it wrote; restarted on the same data
// folder, the app adopts the same sandbox and the moved card is still where it was moved. Screenshots: tests/artifacts/desktop/<page>.png.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { startGithubStub } from "../stubs/github.mjs";
import { startJenkinsStub } from "../stubs/jenkins.mjs";
import { App, Driver, REPO, cmdline, environment, pngSize, running, tail } from "./lib/harness.mjs";
import { sel, waitUntil } from "./lib/webdriver.mjs";

const PAGES = ["launch", "connect", "project", "architecture", "board", "pipelines", "deployments", "settings"];
const BUILT = new Set(PAGES);
const ACCOUNT = "123456789012"; // moto's account
/** The default blueprint's resources (written by crates/core/tests/ui_fixtures.rs). */
const RESOURCES = JSON.parse(readFileSync(path.join(REPO, "ui/src/bindings/fixtures/default-blueprint.json"), "utf8")).resources.length;

// Distinctive secrets, new each run, shaped like real classic tokens (ghp_ + 36 characters).
/** GETs `url` until it answers 200 or `timeout` ms pass; the last answer. */
async function answering(url, timeout) {
  const end = Date.now() + timeout;
  for (;;) {
    const res = await fetch(url).catch((e) => ({ status: 0, text: async () => e.message }));
    if (res.status === 200 || Date.now() > end) return res;
    await new Promise((ok) => setTimeout(ok, 500));
  }
}
const suffix = () => randomBytes(18).toString("hex").toUpperCase().slice(0, 23);
const BAD_TOKEN = `ghp_E2ESECRETBAD${suffix()}`.slice(0, 40);
const GOOD_TOKEN = `ghp_E2ESECRETOK${suffix()}`.slice(0, 40);
const JENKINS_TOKEN = `11e2e${randomBytes(15).toString("hex")}`;
const SECRETS = [BAD_TOKEN, GOOD_TOKEN, JENKINS_TOKEN];

let env, driver, app, s, stub, jenkins, setup;
let failed = false;

// The pipeline test's Git repository (a copy of examples/sample-app) and its project id, which
// labels the images the run builds (removed after the suite).
const PROJECT_ID = `e2e-pipe-${randomBytes(3).toString("hex")}`;
let repo = null;

// The deploy test's namespace on the test environment's Kubernetes cluster (deleted after the suite).
const KUBE_NS = `e2e-deploy-${randomBytes(3).toString("hex")}`;
let kubeNsUsed = false;

// The board test's card: created and moved in one session, looked for after a restart.
const CARD_TITLE = `E2E card ${randomBytes(3).toString("hex")}`;
let movedCard = null; // { key, column }

// The sandbox as the first session left it (test d), for the restart to adopt (test f).
let closedSandbox = null;

/** kubectl against the test cluster (SLIPWAY_TEST_KUBECTL, SLIPWAY_TEST_KUBECONFIG). */
function kubectl(...args) {
  const bin = process.env.SLIPWAY_TEST_KUBECTL;
  const kubeconfig = process.env.SLIPWAY_TEST_KUBECONFIG;
  if (!bin || !kubeconfig) return { ok: false, out: "SLIPWAY_TEST_KUBECTL / SLIPWAY_TEST_KUBECONFIG are not set: run `scripts/testenv.sh up k8s`" };
  const r = spawnSync(bin, ["--kubeconfig", kubeconfig, ...args], { encoding: "utf8" });
  return { ok: r.status === 0, out: r.status === 0 ? r.stdout : r.error?.message ?? r.stderr };
}

function git(cwd, ...args) {
  const r = spawnSync("git", ["-c", "user.name=Slipway e2e", "-c", "user.email=e2e@slipway.invalid", "-c", "init.defaultBranch=main", ...args], {
    cwd,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${r.error?.message ?? r.stderr}`);
  return r.stdout.trim();
}

/** A fresh Git repository holding the sample app, one commit on main. */
function sampleRepo() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "slipway-e2e-repo-"));
  cpSync(path.join(REPO, "examples/sample-app"), dir, { recursive: true });
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "Sample app for the e2e pipeline");
  return { dir, sha: git(dir, "rev-parse", "HEAD") };
}

/** Removes the images a run of PROJECT_ID built (they carry slipway.image.project=<id>). */
function removeProjectImages() {
  const ls = spawnSync("docker", ["image", "ls", "-q", "--filter", `label=slipway.image.project=${PROJECT_ID}`], { encoding: "utf8" });
  if (ls.status !== 0) return `could not list the images of ${PROJECT_ID}: ${ls.error?.message ?? ls.stderr}`;
  const ids = [...new Set(ls.stdout.split("\n").map((l) => l.trim()).filter(Boolean))];
  if (ids.length === 0) return null;
  const rm = spawnSync("docker", ["image", "rm", "-f", ...ids], { encoding: "utf8" });
  return rm.status === 0 ? `removed ${ids.length} image(s) of ${PROJECT_ID}` : `could not remove the images of ${PROJECT_ID}: ${rm.stderr}`;
}

/** What xterm.js shows of the log (its rows on screen), lines joined with "\n". */
const logScreen = () =>
  s.execute(
    'const rows = document.querySelector(\'[data-testid="log-view"] .xterm-rows\'); return rows ? [...rows.children].map((r) => r.textContent).join("\\n") : "";',
  );

/** A test body that, when it fails, saves a screenshot and adds the app's log tail. */
const guarded = (name, fn) => async () => {
  await setup.catch((e) => {
    failed = true;
    throw new Error(`setup failed: ${e.message}`);
  });
  try {
    await fn();
  } catch (e) {
    failed = true;
    const extra = [];
    if (app && !app.closed) {
      const shot = await app.screenshot(`failure-${name}`).catch((err) => ({ file: `(no screenshot: ${err.message})` }));
      extra.push(`screenshot: ${shot.file}`);
    }
    if (app) extra.push(`data dir (kept): ${app.dataDir}`, `app log:\n${tail(app.log, 30)}`);
    if (driver) extra.push(`tauri-driver log: ${driver.log}`);
    e.message += `\n--- ${extra.join("\n")}`;
    throw e;
  }
};

function portOpen(port) {
  return new Promise((resolve) => {
    const c = net.connect({ host: "127.0.0.1", port });
    c.once("connect", () => (c.destroy(), resolve(true)));
    c.once("error", () => resolve(false));
  });
}

/** Resolves after the web view has painted twice (so a screenshot shows the current DOM). */
const painted = () =>
  s.cmd("POST", "/execute/async", { script: "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));", args: [] });

describe("Slipway desktop app (tauri-driver, WebKitWebDriver, Xvfb)", { timeout: 600_000 }, () => {
  before(async () => {
    // A failed setup fails every test with its message (a missing test-environment variable
    // names the command that fixes it); nothing is skipped or merely cancelled.
    setup = (async () => {
      env = await environment();
      stub = await startGithubStub({ goodToken: GOOD_TOKEN });
      // Build #12 runs until the test calls finish(): held at its Test stage.
      jenkins = await startJenkinsStub({ user: "deployer", token: JENKINS_TOKEN, hold: "Test" });
      driver = await Driver.start(env);
      app = await driver.launch();
      s = app.session;
    })();
    await setup.catch(() => {});
  });

  after(async () => {
    const notes = [];
    if (app) notes.push(...(await app.dispose({ keepDataDir: failed })));
    if (kubeNsUsed) {
      // Waits for the pods to go, so the images they run can be removed next.
      const del = kubectl("delete", "namespace", KUBE_NS, "--ignore-not-found", "--timeout=120s");
      notes.push(del.ok ? `deleted namespace ${KUBE_NS}` : `could not delete namespace ${KUBE_NS}: ${del.out}`);
    }
    const images = removeProjectImages();
    if (images) notes.push(images);
    if (repo) rmSync(repo.dir, { recursive: true, force: true });
    await stub?.close();
    await jenkins?.close();
    await driver?.stop();
    if (notes.length) console.log(`cleanup: ${notes.join("; ")}`);
  });

  test(
    "a. AWS wizard: the sandbox connects, shows account and endpoint; the region switches to eu-west-1",
    { timeout: 60_000 },
    guarded("aws", async () => {
      // A fresh data folder opens on the Launch page; the wizard is on Connect.
      await s.waitFor(sel("page-launch"), { timeout: 30_000 });
      await s.click(sel("nav-connect"));
      await s.waitFor(sel("page-connect"));
      // With no GPU render node, the app turns WebKit's compositing off (GL on Mesa's software
      // rasterizer crashed the web process in CI); with one, it leaves compositing on.
      const gpu = existsSync("/dev/dri") && readdirSync("/dev/dri").some((n) => n.startsWith("renderD"));
      if (process.env.WEBKIT_DISABLE_COMPOSITING_MODE === undefined) {
        assert.match(readFileSync(app.log, "utf8"), gpu ? /WebKit composites on the GPU/ : /WebKit paints without compositing/);
      }
      await s.waitFor(sel("nav-connect-count")); // doctor() answered
      await s.click(sel("connect-aws-sandbox"));
      await waitUntil("the Sandbox choice to be checked", async () => s.prop(await s.find(sel("connect-aws-sandbox")), "checked"));
      await s.click(sel("aws-submit"));
      await s.waitForAttr(sel("aws-state"), "data-state", "connected", { timeout: 45_000 });

      const sandbox = await app.sandbox();
      const endpoint = `http://127.0.0.1:${sandbox.port}`;
      await s.waitForText(sel("aws-account"), (t) => t.trim() === ACCOUNT);
      await s.waitForText(sel("aws-endpoint"), (t) => t.trim() === endpoint);
      await s.waitForAttr(sel("sandbox-badge"), "data-status", "running");
      await s.waitForText(sel("aws-sandbox-state"), (t) => t.includes(endpoint));
      assert.equal(await s.find(sel("aws-error")), null, "no AWS error after connecting");

      const picker = await s.waitFor(sel("aws-region-select"), { timeout: 20_000 });
      const before = await s.prop(picker, "value");
      assert.notEqual(before, "eu-west-1", "the connection should start in another region than eu-west-1");
      assert.ok(await s.find(`${sel("aws-region-select")} option[value="eu-west-1"]`), "eu-west-1 is offered");
      await s.click(`${sel("aws-region-select")} option[value="eu-west-1"]`);
      await s.waitForText(sel("aws-region"), (t) => t.trim() === "eu-west-1", { timeout: 20_000 });
      await s.waitForAttr(sel("aws-state"), "data-state", "connected");
      await waitUntil("the region picker to show eu-west-1", async () => (await s.prop(await s.find(sel("aws-region-select")), "value")) === "eu-west-1");
      await s.waitForText(sel("aws-account"), (t) => t.trim() === ACCOUNT);
      assert.equal(await s.find(sel("aws-error")), null, "no AWS error after switching the region");
    }),
  );

  test(
    "a2. Architecture: plan, apply and destroy the whole blueprint on the sandbox, with progress",
    { timeout: 120_000 },
    guarded("architecture", async () => {
      await s.click(sel("nav-architecture"));
      await s.waitFor(sel("page-architecture"));
      await s.waitFor(sel("architecture-diagram"), { timeout: 20_000 });
      await s.waitFor(sel("arch-node-eks"));
      await s.click(sel("arch-plan"));
      await s.waitForText(sel("plan-summary"), (t) => t.trim() === `${RESOURCES} to create`, { timeout: 30_000 });
      await s.waitForText(sel("plan-total"), /\$/);
      await s.click(sel("arch-apply"));
      await s.waitForText(sel("arch-progress"), (t) => t.includes(`Apply: ${RESOURCES} of ${RESOURCES}`) && t.includes(`${RESOURCES} created`), { timeout: 90_000 });
      assert.equal(await s.find(sel("arch-error")), null, "no error after apply");
      await s.waitForText(sel("arch-node-vpc"), /vpc-/);
      await s.waitForText(sel("arch-node-eks"), /slipway-eks/);
      await painted();
      await app.screenshot("architecture-applied");
      await s.click(sel("arch-plan"));
      await s.waitForText(sel("plan-summary"), (t) => t.trim() === `${RESOURCES} unchanged`, { timeout: 30_000 });
      await s.click(sel("arch-destroy"));
      await s.type(sel("destroy-confirm-input"), "slipway");
      await s.click(sel("destroy-confirm"));
      await s.waitForText(sel("arch-progress"), (t) => t.includes(`Destroy: ${RESOURCES} of ${RESOURCES}`) && t.includes(`${RESOURCES} resources removed`), { timeout: 90_000 });
      assert.equal(await s.find(sel("arch-error")), null, "no error after destroy");
      await s.click(sel("arch-plan"));
      await s.waitForText(sel("plan-summary"), (t) => t.trim() === `${RESOURCES} to create`, { timeout: 30_000 });
    }),
  );

  test(
    "b. GitHub: a bad token shows what / why (401 Bad credentials) / fix, and the token field is emptied",
    { timeout: 60_000 },
    guarded("github-bad-token", async () => {
      await s.click(sel("nav-connect"));
      await s.click(sel("github-mode-token"));
      await s.type(sel("github-base-url"), stub.url);
      await s.type(sel("github-token"), BAD_TOKEN);
      await s.click(sel("github-submit"));

      const box = await s.waitFor(sel("github-error"), { timeout: 20_000 });
      assert.equal(await s.attr(box, "role"), "alert");
      const what = await s.text(await s.find(sel("github-error-what")));
      const why = await s.text(await s.find(sel("github-error-why")));
      const fix = await s.text(await s.find(sel("github-error-fix")));
      assert.match(what, /GitHub/, "what failed names GitHub");
      assert.match(why, /401 Bad credentials/, "why carries GitHub's status and message");
      assert.ok(fix.trim().length > 10, `a fix is offered (got ${JSON.stringify(fix)})`);
      assert.equal(await s.prop(await s.find(sel("github-token")), "value"), "", "the token field is empty after submit");
      assert.notEqual(await s.attr(await s.find(sel("github-state")), "data-state"), "connected");
      // The app really asked the stand-in, with the token typed.
      assert.ok(stub.requests.some((r) => r.url === "/user" && r.auth.endsWith(BAD_TOKEN)), `GET /user with the token reached the stand-in: ${JSON.stringify(stub.requests.map((r) => r.url))}`);
    }),
  );

  test(
    "b2. GitHub: a good token connects (kept in the keychain), then disconnects",
    { timeout: 60_000 },
    guarded("github-good-token", async () => {
      await s.type(sel("github-token"), GOOD_TOKEN);
      await s.click(sel("github-submit"));
      await s.waitForAttr(sel("github-state"), "data-state", "connected", { timeout: 20_000 });
      await s.waitForText(sel("github-login"), /octocat/);
      await s.waitForText(sel("github-scopes"), (t) => t.includes("repo") && t.includes("workflow"));
      await s.waitForText(sel("github-api-url"), (t) => t.trim() === stub.url);
      assert.equal(await s.find(sel("github-error")), null, "the earlier error is gone");
      assert.equal(await s.prop(await s.find(sel("github-token")), "value"), "", "the token field is empty after submit");
      await s.click(sel("github-disconnect"));
      await s.waitForAttr(sel("github-state"), "data-state", "notConfigured");
    }),
  );

  test(
    "b3. Project and Pipelines: a Git repository detected and saved, run until Build on the real engine, the build log in xterm",
    { timeout: 300_000 },
    guarded("pipeline", async () => {
      repo = sampleRepo();
      await s.click(sel("nav-project"));
      await s.waitFor(sel("page-project"));
      await s.click(sel("project-source-path"));
      await s.type(sel("project-path"), repo.dir);
      await s.type(sel("project-id-input"), PROJECT_ID);
      await s.click(sel("project-detect"));
      await s.waitFor(sel("project-detected"), { timeout: 30_000 });
      assert.equal(await s.find(sel("project-detect-error")), null, "detection succeeded");
      assert.equal(await s.prop(await s.find(sel("project-id")), "value"), PROJECT_ID);
      const services = await s.findAll('[data-testid="service"]');
      assert.deepEqual(await Promise.all(services.map((e) => s.attr(e, "data-service"))), ["backend", "frontend"]);
      await s.waitForText(sel("project-detected-from"), /docker-compose\.yml/);
      await s.waitForText(sel("project-database"), /mariadb:10\.11/);
      await s.click(sel("project-save"));
      await s.waitFor(sel("project-saved"), { timeout: 20_000 });
      assert.equal(await s.find(sel("project-save-error")), null, "saved without an error");
      await s.waitFor(`[data-testid="project-row"][data-project="${PROJECT_ID}"]`);

      await s.click(sel("nav-pipelines"));
      await s.waitFor(sel("page-pipelines"));
      await s.click(`${sel("pipeline-project")} option[value="${PROJECT_ID}"]`);
      await waitUntil("the project to be selected", async () => (await s.prop(await s.find(sel("pipeline-project")), "value")) === PROJECT_ID);
      await s.waitFor(sel("runs-empty"), { timeout: 20_000 });
      await s.click(`${sel("run-until")} option[value="build"]`);
      await waitUntil('"Stop after" to be Build', async () => (await s.prop(await s.find(sel("run-until")), "value")) === "build");
      await s.click(sel("run-start"));

      const run = `${PROJECT_ID}-1`;
      await waitUntil(
        `run ${run} to be listed (or start_run to be refused)`,
        async () => (await s.find(`[data-testid="run-row"][data-run="${run}"]`)) || (await s.find(sel("run-start-error"))),
        { timeout: 20_000 },
      );
      if (await s.find(sel("run-start-error"))) {
        const part = async (p) => s.text(await s.find(sel(`run-start-error-${p}`)));
        throw new Error(`the run was refused: ${await part("what")} / ${await part("why")} / ${await part("fix")}`);
      }
      await s.waitForAttr(sel("run-detail"), "data-run", run);
      await s.waitForAttr(sel("stage-node-checkout"), "data-status", "succeeded", { timeout: 60_000 });
      await s.waitForText(`[data-testid="run-row"][data-run="${run}"] [data-testid="run-commit"]`, (t) => t.trim() === repo.sha.slice(0, 12));
      const status = await waitUntil(
        `run ${run} to end`,
        async () => {
          const st = await s.attr(await s.find(sel("run-detail-status")), "data-status");
          return ["succeeded", "failed", "cancelled"].includes(st) ? st : null;
        },
        { timeout: 240_000, interval: 250 },
      );
      if (status !== "succeeded") {
        const box = await s.find(sel("stage-error"));
        const why = box ? await s.text(box) : "(no stage error shown)";
        throw new Error(`run ${run} ended ${status}: ${why}`);
      }
      assert.equal(await s.attr(await s.find(sel("stage-node-build")), "data-status"), "succeeded");
      for (const stage of ["test", "push", "deploy"]) {
        assert.equal(await s.attr(await s.find(sel(`stage-node-${stage}`)), "data-status"), "skipped", `${stage} is skipped after Build`);
      }
      assert.equal(await s.find(sel("stage-error")), null, "no stage failed");
      await s.waitForAttr(`[data-testid="run-row"][data-run="${run}"]`, "data-status", "succeeded");
      const images = await s.findAll(sel("image-row"));
      assert.equal(images.length, 2, "two images built");

      // The build log of a service, from the classic builder, in xterm.js.
      await s.click(sel("stage-node-build"));
      await s.click('[data-testid="log-step"][data-step="backend"]');
      await s.waitForAttr(sel("log-view"), "data-step", "backend");
      await s.waitForAttr(sel("log-view"), "data-done", "true", { timeout: 20_000 });
      let screen = "";
      await waitUntil(
        "the backend build log to show the builder's last lines",
        async () => {
          screen = await logScreen();
          return /Successfully built [0-9a-f]{12}/.test(screen) && screen.includes(`Successfully tagged ${PROJECT_ID}-backend:${repo.sha.slice(0, 12)}`);
        },
        { timeout: 20_000 },
      ).catch((e) => {
        throw new Error(`${e.message}; the log view showed:\n${screen}`);
      });
      assert.ok(Number(await s.attr(await s.find(sel("log-view")), "data-bytes")) > 100, "bytes arrived");
      await painted();
      await app.screenshot("pipelines-build");
    }),
  );

  test(
    "b4. Deployments: a Kubernetes environment on the test cluster, Build's images deployed with every rollout watched, services / pods / the app's URL shown, a redeploy as revision 2, merged logs with pod prefixes",
    { timeout: 300_000 },
    guarded("deploy", async () => {
      assert.ok(repo, "test b3 built the images this test deploys");
      const kubeconfig = process.env.SLIPWAY_TEST_KUBECONFIG;
      const context = process.env.SLIPWAY_TEST_K8S_CONTEXT;
      assert.ok(kubeconfig && context, "SLIPWAY_TEST_KUBECONFIG and SLIPWAY_TEST_K8S_CONTEXT are set (scripts/testenv.sh up k8s)");
      await s.click(sel("nav-deployments"));
      await s.waitFor(sel("page-deployments"));
      await s.waitFor(sel("env-empty"), { timeout: 20_000 });
      await s.click(sel("env-empty-add"));
      await s.waitFor(sel("env-form"));
      await s.type(sel("env-name"), "cluster");
      await s.click(sel("env-kind-kubernetes"));
      await s.type(sel("env-kubeconfig"), kubeconfig);
      await s.click(sel("env-contexts-load"));
      const option = `${sel("env-context")} option[value="${context}"]`;
      await s.waitFor(option, { timeout: 20_000 });
      await s.click(option);
      await s.type(sel("env-namespace"), KUBE_NS);
      await s.type(sel("env-deadline"), "150");
      await s.click(sel("env-save"));
      await waitUntil("the environment to be saved (or refused)", async () => (await s.find(sel("env-view"))) || (await s.find(sel("env-save-error"))), { timeout: 20_000 });
      const refused = await s.find(sel("env-save-error"));
      if (refused) throw new Error(`saving the environment was refused: ${await s.text(refused)}`);

      // Deploy (the newest run with images: b3's), then wait for the revision to end.
      const revisionEnds = async (n) => {
        const row = `[data-testid="revision-row"][data-revision="${n}"]`;
        const status = await waitUntil(
          `revision ${n} to end`,
          async () => {
            const r = await s.find(row);
            if (!r) return (await s.find(sel("deploy-op-error"))) ? "refused" : null;
            const st = await s.attr(r, "data-status");
            return st === "inProgress" ? null : st;
          },
          { timeout: 240_000, interval: 500 },
        );
        if (status !== "succeeded") {
          const box = (await s.find(sel("deploy-op-error"))) ?? (await s.find(`[data-testid="revision-detail"][data-revision="${n}"]`));
          throw new Error(`revision ${n} ended ${status}: ${box ? await s.text(box) : "(no error shown)"}`);
        }
      };
      kubeNsUsed = true;
      await s.click(sel("deploy-deploy"));
      await revisionEnds(1);
      const ns = kubectl("get", "namespace", KUBE_NS, "-o", "jsonpath={.metadata.labels}");
      assert.ok(ns.ok && ns.out.includes("slipway"), `the namespace ${KUBE_NS} exists and carries Slipway's labels: ${ns.out}`);

      // What runs: every service ready, every pod Running, the app answering at the URL shown.
      const readyOf = async () => {
        const out = {};
        for (const r of await s.findAll(sel("workload-row"))) {
          const ready = await s.find(`[data-testid="workload-row"][data-workload="${await s.attr(r, "data-workload")}"] [data-testid="workload-ready"]`);
          out[await s.attr(r, "data-workload")] = (await s.text(ready)).trim();
        }
        return out;
      };
      let ready = {};
      await waitUntil(
        "backend and frontend to show 3 ready replicas",
        async () => {
          ready = await readyOf();
          return ready.backend === "3" && ready.frontend === "3";
        },
        { timeout: 60_000, interval: 1000 },
      ).catch((e) => {
        throw new Error(`${e.message}: the page shows ${JSON.stringify(ready)}`);
      });
      const phases = await s.execute(
        'return [...document.querySelectorAll(\'[data-testid="pod-row"]\')].map((r) => [r.getAttribute("data-pod"), r.querySelector(\'[data-testid="pod-phase"]\').textContent]);',
      );
      assert.ok(phases.filter(([pod]) => /^(backend|frontend)-/.test(pod)).length >= 6, `six app pods listed: ${JSON.stringify(phases)}`);
      assert.ok(phases.every(([, phase]) => phase === "Running"), `every pod Running: ${JSON.stringify(phases)}`);
      const url = await s.attr(await s.find(sel("deploy-app-url")), "href");
      assert.match(url, /^http:\/\/[^/]+:\d+\/?$/);
      // The rollout is ready; kube-proxy may take a moment more to route the new endpoints.
      const answer = await answering(url, 30_000);
      assert.equal(answer.status, 200, `the app answers at ${url}`);

      // Redeploy: a rolling restart recorded as revision 2.
      await s.click(sel("deploy-redeploy"));
      await revisionEnds(2);
      const op = await s.find('[data-testid="revision-row"][data-revision="2"] [data-testid="revision-operation"]');
      assert.match(await s.text(op), /redeploy/i);

      // Merged logs of every replica, each line prefixed by its pod.
      await s.click(sel("deploy-log-load"));
      await waitUntil("log lines of the new pods", async () => (await s.findAll(sel("deploy-log-line"))).length > 0, { timeout: 30_000 });
      const lines = await s.execute(
        'return [...document.querySelectorAll(\'[data-testid="deploy-log-line"]\')].map((l) => [l.getAttribute("data-pod"), l.querySelector(\'[data-testid="deploy-log-pod"]\').textContent]);',
      );
      assert.ok(lines.every(([pod, prefix]) => pod === prefix && /^(backend|frontend|nginx|db)-/.test(pod)), `pod prefixes: ${JSON.stringify(lines.slice(0, 5))}`);
      await painted();
      await app.screenshot("deployments-live");
    }),
  );

  test(
    "b5. Board: a card created on the project's board and moved to another column",
    { timeout: 60_000 },
    guarded("board", async () => {
      await s.click(sel("nav-board"));
      await s.waitFor(sel("page-board"));
      await s.waitFor(sel("board-columns"), { timeout: 20_000 });
      await s.click(sel("board-new-card"));
      await s.waitFor(sel("card-form"));
      await s.type(sel("card-form-title"), CARD_TITLE);
      await s.type(sel("card-form-points"), "3");
      await s.click(sel("card-form-save"));
      const card = await waitUntil(
        `the card "${CARD_TITLE}" on the board (or an error)`,
        async () => {
          if (await s.find(sel("card-form-error"))) return { error: await s.text(await s.find(sel("card-form-error"))) };
          for (const el of await s.findAll(sel("board-card"))) {
            if ((await s.text(el)).includes(CARD_TITLE)) return { key: await s.attr(el, "data-card"), column: await s.attr(el, "data-column") };
          }
          return null;
        },
        { timeout: 20_000 },
      );
      if (card.error) throw new Error(`the card was refused: ${card.error}`);
      // Move it through its drawer's form to the next column.
      const columns = await Promise.all((await s.findAll(`${sel("board-column")}`)).map((c) => s.attr(c, "data-column")));
      const target = [...new Set(columns)].find((c) => c !== card.column);
      assert.ok(target, `another column than ${card.column}: ${columns.join(", ")}`);
      const drawer = await s.find(sel("card-drawer"));
      if (!drawer) await s.click(`[data-testid="board-card"][data-card="${card.key}"]`);
      await s.waitFor(sel("card-drawer"));
      await s.click(sel("card-edit"));
      await s.click(`${sel("card-form-column")} option[value="${target}"]`);
      await s.click(sel("card-form-save"));
      await s.waitForAttr(`[data-testid="board-card"][data-card="${card.key}"]`, "data-column", target, { timeout: 20_000 });
      assert.equal(await s.find(sel("card-form-error")), null, "the move was accepted");
      movedCard = { key: card.key, column: target };
      await painted();
      await app.screenshot("board-moved");
    }),
  );

  test(
    "g. GitHub Actions runs, a Jenkins build's live stages and console, and a Terraform export, through the real commands",
    { timeout: 120_000 },
    guarded("integrations", async () => {
      // GitHub: connected to the stand-in; a repository picked by search; its Actions runs, a
      // finished run's job and steps, and the job's log (GitHub's 302 to the log followed).
      await s.click(sel("nav-connect"));
      await s.waitFor(sel("page-connect"));
      await s.click(sel("github-mode-token"));
      await s.waitFor(sel("github-base-url"));
      if ((await s.prop(await s.find(sel("github-base-url")), "value")) !== stub.url) await s.type(sel("github-base-url"), stub.url);
      await s.type(sel("github-token"), GOOD_TOKEN);
      await s.click(sel("github-submit"));
      await s.waitForAttr(sel("github-state"), "data-state", "connected", { timeout: 20_000 });
      await s.click(sel("nav-pipelines"));
      await s.click(sel("pipelines-source-github"));
      await s.type(sel("gh-repo-search"), "sample");
      await s.click(`${sel("gh-repo-option")}[data-repo="${stub.sampleRepo}"]`, { timeout: 20_000 });
      // The stand-in's runs: a finished CI run and the one in progress.
      const runs = stub.runsOf(stub.sampleRepo);
      const done = runs.find((r) => r.name === "CI" && r.conclusion === "success");
      const running = runs.find((r) => r.status === "in_progress");
      const testJob = stub.jobsOf(stub.sampleRepo, done.id).find((j) => j.name === "test (3.12)");
      await s.waitFor(`${sel("gh-run-row")}[data-run="${done.id}"][data-conclusion="success"]`, { timeout: 20_000 });
      await s.waitFor(`${sel("gh-run-row")}[data-run="${running.id}"][data-status="in_progress"]`);
      await s.waitForText(sel("gh-quota"), /of 5,?000 requests left/);
      await s.click(`${sel("gh-run-row")}[data-run="${done.id}"] td:first-child button`);
      await s.waitFor(`${sel("gh-job")}[data-job="${testJob.id}"]`, { timeout: 20_000 });
      assert.equal((await s.findAll(`${sel("gh-job")}[data-job="${testJob.id}"] ${sel("gh-step")}`)).length, testJob.steps.length, "the job's steps");
      await s.click(`${sel("gh-job")}[data-job="${testJob.id}"] ${sel("gh-job-open")}`);
      await s.waitForText(sel("gh-log"), /12 passed in 3\.21s/, { timeout: 20_000 });
      assert.ok(stub.requests.some((r) => r.url.startsWith(`/job-logs/${testJob.id}`)), "the log was fetched from the URL GitHub redirected to");
      await app.screenshot("github-actions");

      // Jenkins: connected on the Connect page (the token never shown again); build #3 runs:
      // its stage view and console are live until the build finishes.
      await s.click(sel("nav-connect"));
      await s.type(sel("jenkins-url"), jenkins.url);
      await s.type(sel("jenkins-user"), "deployer");
      await s.type(sel("jenkins-token"), JENKINS_TOKEN);
      await s.click(sel("jenkins-submit"));
      await s.waitForAttr(sel("jenkins-state"), "data-state", "connected", { timeout: 20_000 });
      await s.waitForText(sel("jenkins-version"), /2\.462\.3/);
      assert.equal(await s.prop(await s.find(sel("jenkins-token")), "value"), "", "the token field is empty after submit");
      await s.click(sel("nav-pipelines"));
      await s.click(sel("pipelines-source-jenkins"));
      await s.click(`${sel("jenkins-job")}[data-job="sample-app"]`, { timeout: 20_000 });
      await s.click(`${sel("jenkins-build-row")}[data-build="12"] td:first-child button`, { timeout: 20_000 });
      await s.waitFor(`${sel("jenkins-stage")}[data-stage="Test"][data-status="in-progress"]`, { timeout: 30_000 });
      await s.waitForText(sel("jenkins-console"), /pytest --junitxml/, { timeout: 20_000 });
      jenkins.finish();
      await s.waitFor(`${sel("jenkins-stage")}[data-stage="Test"][data-status="success"]`, { timeout: 20_000 });
      await s.waitForText(sel("jenkins-console"), /Finished: SUCCESS/, { timeout: 20_000 });
      await s.waitForAttr(sel("jenkins-console"), "data-done", "true", { timeout: 20_000 });
      await s.waitFor(`${sel("jenkins-build-row")}[data-build="12"][data-status="success"]`, { timeout: 10_000 });
      await app.screenshot("jenkins-build");
      // Build now: the crumb first, then the POST with it; the new build appears.
      await s.click(sel("jenkins-build-now"));
      await s.waitFor(`${sel("jenkins-build-row")}[data-build="13"]`, { timeout: 30_000 });
      const post = jenkins.requests.find((r) => r.method === "POST" && r.path === "/job/sample-app/build");
      assert.ok(post?.crumb, `the build was started with the crumb: ${JSON.stringify(jenkins.requests.filter((r) => r.method === "POST"))}`);

      // Export: the blueprint as Terraform from the Architecture page.
      await s.click(sel("nav-architecture"));
      await s.click(sel("export-open"), { timeout: 20_000 });
      await s.waitFor(sel("export-dialog"));
      if ((await s.prop(await s.find(sel("export-kind")), "value")) !== "terraform") await s.click(`${sel("export-kind")} option[value="terraform"]`);
      await s.click(sel("export-submit"));
      await s.waitFor(`${sel("export-file-tab")}[data-path="main.tf"]`, { timeout: 30_000 });
      await s.waitForText(sel("export-file-content"), /resource "aws_vpc"/);
      await s.click(sel("export-close"));
    }),
  );

  test(
    "c. every page renders; screenshots in tests/artifacts/desktop/",
    { timeout: 60_000 },
    guarded("screenshots", async () => {
      const hashes = new Map();
      for (const page of PAGES) {
        await s.click(sel(`nav-${page}`));
        await s.waitFor(sel(`page-${page}`));
        await s.waitForAttr(sel(`nav-${page}`), "aria-current", "page");
        await s.waitForText(sel("page-title"), (t) => t.trim().length > 0);
        if (!BUILT.has(page)) await s.waitForText(sel("not-built"), /Not built yet/);
        if (page === "connect") await s.waitForAttr(sel("aws-state"), "data-state", "connected");
        if (page === "settings") {
          await s.waitFor(sel("settings-form"));
          await s.waitForText(sel("settings-data-dir"), (t) => t.includes(app.dataDir));
        }
        await s.waitForAttr(sel("sandbox-badge"), "data-status", "running");
        await painted();
        const { file, png } = await app.screenshot(page);
        const { width, height } = pngSize(png);
        assert.ok(width >= 900 && height >= 550, `${file} is ${width}x${height}, smaller than the window`);
        hashes.set(createHash("sha256").update(png).digest("hex"), page);
      }
      assert.equal(hashes.size, PAGES.length, `every page's screenshot differs (${[...hashes.values()].join(", ")})`);
    }),
  );

  test(
    "d. closing the app leaves the sandbox running, for the next start to adopt",
    { timeout: 60_000 },
    guarded("close", async () => {
      const sandbox = await app.sandbox();
      assert.ok(running(sandbox.pid), `the sandbox (pid ${sandbox.pid}) runs before the app closes`);
      assert.ok(cmdline(sandbox.pid).some((c) => c.includes("moto_server")), `pid ${sandbox.pid} is the moto server: ${cmdline(sandbox.pid).join(" ")}`);
      assert.ok(await portOpen(sandbox.port), `the sandbox answers on port ${sandbox.port}`);
      closedSandbox = sandbox;

      await app.close(); // the window's close button, then the WebDriver session ends
      assert.ok(app.closeRequested >= 1, "a window of the app was asked to close");
      assert.equal(running(app.pid), false, "the app exited");
      assert.ok(running(sandbox.pid), `the sandbox (pid ${sandbox.pid}) outlives the app`);
      assert.ok(await portOpen(sandbox.port), `and still answers on port ${sandbox.port}`);
    }),
  );

  test(
    "e. no secret typed in the wizard is in any file the app wrote (store, logs, WebKit data)",
    { timeout: 30_000 },
    guarded("secrets", async () => {
      assert.ok(app.closed, "the app is closed (test d), so every file is final");
      const files = App.files(app.dataDir);
      const rel = files.map((f) => path.relative(app.dataDir, f));
      assert.ok(rel.includes("slipway.db"), `the store is there: ${rel.join(", ")}`);
      assert.ok(rel.includes(path.join("logs", "slipway-desktop.log")), `the log is there: ${rel.join(", ")}`);
      assert.match(readFileSync(app.log, "utf8"), /first paint/, "the log was written during the session");

      const forms = (secret) => [
        Buffer.from(secret, "utf8"),
        Buffer.from(secret, "utf16le"),
        Buffer.from(Buffer.from(secret).toString("base64").slice(0, 40)),
      ];
      const hits = [];
      for (const file of [...files, ...App.files(driver.home)]) {
        const bytes = readFileSync(file);
        for (const secret of SECRETS) {
          if (forms(secret).some((f) => bytes.includes(f))) hits.push(`${file} holds ${secret.slice(0, 16)}…`);
        }
      }
      assert.deepEqual(hits, [], `secrets found on disk in ${files.length} files`);
    }),
  );

  test(
    "f. after a restart on the same data folder, the moved card is still in its column",
    { timeout: 90_000 },
    guarded("restart", async () => {
      assert.ok(movedCard, "test b5 moved a card");
      assert.ok(closedSandbox, "test d left the sandbox running");
      assert.ok(app.closed, "the first session is closed (test d)");
      app = await driver.launch({ dataDir: app.dataDir });
      s = app.session;
      await s.waitFor(sel("nav-board"), { timeout: 30_000 });
      await s.click(sel("nav-board"));
      await s.waitFor(sel("page-board"));
      await s.waitForAttr(`[data-testid="board-card"][data-card="${movedCard.key}"]`, "data-column", movedCard.column, { timeout: 20_000 });
      const el = await s.find(`[data-testid="board-card"][data-card="${movedCard.key}"]`);
      assert.ok((await s.text(el)).includes(CARD_TITLE), "the same card, by key and title");
      // The sandbox the first session left running is the one this session uses.
      const adopted = await app.sandbox();
      assert.deepEqual([adopted.pid, adopted.port], [closedSandbox.pid, closedSandbox.port], "the same emulator, adopted");
      await app.close();
    }),
  );
});
