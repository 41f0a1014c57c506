// The real desktop app (the debug build with the bundled UI), driven through tauri-driver and
// WebKitWebDriver under Xvfb: the AWS wizard on the sandbox and the region picker, a bad and a
// good GitHub token against a GitHub stand-in, screenshots of every page, then the app closed
// like a person closes it: the sandbox it started must be gone, and no secret typed in the
// wizard may be in any file it wrote. Screenshots: tests/artifacts/desktop/<page>.png.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { startGithubStub } from "./lib/github-stub.mjs";
import { App, Driver, cmdline, environment, pngSize, running, tail } from "./lib/harness.mjs";
import { sel, waitUntil } from "./lib/webdriver.mjs";

const PAGES = ["connect", "project", "architecture", "board", "pipelines", "deployments", "settings"];
const BUILT = new Set(["connect", "architecture", "settings"]);
const ACCOUNT = "123456789012"; // moto's account

// Distinctive secrets, new each run, shaped like real classic tokens (ghp_ + 36 characters).
const suffix = () => randomBytes(18).toString("hex").toUpperCase().slice(0, 23);
const BAD_TOKEN = `ghp_E2ESECRETBAD${suffix()}`.slice(0, 40);
const GOOD_TOKEN = `ghp_E2ESECRETOK${suffix()}`.slice(0, 40);
const SECRETS = [BAD_TOKEN, GOOD_TOKEN];

let env, driver, app, s, stub, setup;
let failed = false;

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

describe("Slipway desktop app (tauri-driver, WebKitWebDriver, Xvfb)", { timeout: 240_000 }, () => {
  before(async () => {
    // A failed setup fails every test with its message (a missing test-environment variable
    // names the command that fixes it); nothing is skipped or merely cancelled.
    setup = (async () => {
      env = await environment();
      stub = await startGithubStub({ goodToken: GOOD_TOKEN });
      driver = await Driver.start(env);
      app = await driver.launch();
      s = app.session;
    })();
    await setup.catch(() => {});
  });

  after(async () => {
    const notes = [];
    if (app) notes.push(...(await app.dispose({ keepDataDir: failed })));
    await stub?.close();
    await driver?.stop();
    if (notes.length) console.log(`cleanup: ${notes.join("; ")}`);
  });

  test(
    "a. AWS wizard: the sandbox connects, shows account and endpoint; the region switches to eu-west-1",
    { timeout: 60_000 },
    guarded("aws", async () => {
      await s.waitFor(sel("page-connect"));
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
      await s.waitForText(sel("plan-summary"), (t) => t.trim() === "21 to create", { timeout: 30_000 });
      await s.waitForText(sel("plan-total"), /\$/);
      await s.click(sel("arch-apply"));
      await s.waitForText(sel("arch-progress"), (t) => t.includes("Apply: 21 of 21") && t.includes("21 created"), { timeout: 90_000 });
      assert.equal(await s.find(sel("arch-error")), null, "no error after apply");
      await s.waitForText(sel("arch-node-vpc"), /vpc-/);
      await s.waitForText(sel("arch-node-eks"), /slipway-eks/);
      await painted();
      await app.screenshot("architecture-applied");
      await s.click(sel("arch-plan"));
      await s.waitForText(sel("plan-summary"), (t) => t.trim() === "21 unchanged", { timeout: 30_000 });
      await s.click(sel("arch-destroy"));
      await s.type(sel("destroy-confirm-input"), "slipway");
      await s.click(sel("destroy-confirm"));
      await s.waitForText(sel("arch-progress"), (t) => t.includes("Destroy: 21 of 21") && t.includes("21 resources removed"), { timeout: 90_000 });
      assert.equal(await s.find(sel("arch-error")), null, "no error after destroy");
      await s.click(sel("arch-plan"));
      await s.waitForText(sel("plan-summary"), (t) => t.trim() === "21 to create", { timeout: 30_000 });
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
    "d. closing the app stops the sandbox it started",
    { timeout: 60_000 },
    guarded("close", async () => {
      const sandbox = await app.sandbox();
      assert.ok(running(sandbox.pid), `the sandbox (pid ${sandbox.pid}) runs before the app closes`);
      assert.ok(cmdline(sandbox.pid).some((c) => c.includes("moto_server")), `pid ${sandbox.pid} is the moto server: ${cmdline(sandbox.pid).join(" ")}`);
      assert.ok(await portOpen(sandbox.port), `the sandbox answers on port ${sandbox.port}`);

      await app.close(); // the window's close button, then the WebDriver session ends
      assert.ok(app.closeRequested >= 1, "a window of the app was asked to close");
      assert.equal(running(app.pid), false, "the app exited");

      await waitUntil(`the sandbox (pid ${sandbox.pid}) to be gone`, () => !running(sandbox.pid), { timeout: 10_000 }).catch((e) => {
        throw new Error(`${e.message}: /proc/${sandbox.pid} is still a running process after the app closed`);
      });
      assert.equal(await portOpen(sandbox.port), false, `nothing listens on the sandbox port ${sandbox.port} any more`);
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
});
