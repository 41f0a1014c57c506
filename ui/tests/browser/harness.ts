// Shared pieces of the Chromium suite. Each suite (test file) runs the real app against the real
// Rust commands: the production build (ui/dist, what the desktop window loads) in Debian's
// Chromium through playwright-core, with window.__TAURI_INTERNALS__ installed by ipcBridge.ts
// before the app's scripts, talking through a small loopback server (which also serves ui/dist)
// to slipway-ipc-bridge: the desktop app's own commands::handler() on Tauri's mock runtime,
// on a fresh data folder and a fresh HOME per suite, against the real parts of the test
// environment (the sandbox emulator, dockerd and the registry, the control plane, the keyring).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";

import { installIpcBridge } from "./ipcBridge";

const here = fileURLToPath(new URL(".", import.meta.url));
export const UI_ROOT = resolve(here, "../..");
export const REPO = resolve(UI_ROOT, "..");
export const DIST = join(UI_ROOT, "dist");
/** Screenshots and the bridges' logs go to <repo>/tests/artifacts/ui/ (git-ignored). */
export const ARTIFACTS = resolve(REPO, "tests/artifacts/ui");

const FIX = "start the test environment and load its variables: `scripts/testenv.sh up && . ${TESTENV_DIR:-/tmp/slipway-testenv}/env` (scripts/test.sh does both)";

/** A test-environment variable; a missing one fails with the command that sets it. */
export function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: ${FIX}`);
  return v;
}

// ---- the bridge ----

export type Bridge = {
  url: string;
  token: string;
  pid: number;
  dataDir: string;
  /** The suite's HOME (~/.aws, ~/.docker, ~/.kube, gh's config live here). */
  home: string;
  log: string;
  stop: (keep?: boolean) => Promise<string[]>;
};

export type BridgeOptions = {
  /** The suite's name: its bridge log is tests/artifacts/ui/bridge-<name>.log. */
  name: string;
  /** Files written into the suite's HOME before the bridge starts, by path relative to HOME (bin/x is a command on PATH). */
  home?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /** More environment for the bridge process. */
  env?: Record<string, string>;
};

function bridgeBinary(): string {
  const target = process.env.CARGO_TARGET_DIR || join(process.env.SLIPWAY_CACHE || "/var/cache/slipway", "target");
  const bin = process.env.SLIPWAY_IPC_BRIDGE || join(target, "debug/slipway-ipc-bridge");
  if (!existsSync(bin)) {
    throw new Error(`the IPC bridge ${bin} is missing: build it with \`cargo build -p slipway-desktop --features ipc-bridge --bin slipway-ipc-bridge\` (or set SLIPWAY_IPC_BRIDGE)`);
  }
  return bin;
}

const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return !["Z", "X"].includes(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]);
  } catch {
    return false;
  }
};

async function until(what: string, ok: () => boolean, timeout: number) {
  const end = Date.now() + timeout;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts slipway-ipc-bridge on a fresh data folder and HOME; resolves once it listens. */
export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const env = {
    DOCKER_HOST: need("DOCKER_HOST"),
    DBUS_SESSION_BUS_ADDRESS: need("DBUS_SESSION_BUS_ADDRESS"),
    SLIPWAY_MOTO_VENV: need("SLIPWAY_MOTO_VENV"),
  };
  const bin = bridgeBinary();
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), `slipway-ui-${opts.name}-data-`));
  const home = mkdtempSync(join(tmpdir(), `slipway-ui-${opts.name}-home-`));
  const files = typeof opts.home === "function" ? await opts.home() : (opts.home ?? {});
  for (const [rel, text] of Object.entries(files)) {
    const file = join(home, rel);
    mkdirSync(dirname(file), { recursive: true });
    // Files under bin/ are commands.
    writeFileSync(file, text, { mode: rel.startsWith("bin/") ? 0o755 : 0o644 });
  }
  const log = join(ARTIFACTS, `bridge-${opts.name}.log`);
  const fd = openSync(log, "w");
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    ...env,
    // A fresh HOME: no ~/.aws profiles, ~/.docker config, kubeconfig or gh login of this
    // machine leak into the suite; a suite writes the ones it needs (opts.home).
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local/share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    // Commands a suite puts in HOME/bin (a gh CLI stand-in) come first.
    PATH: `${join(home, "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    // The sandbox reuses the test environment's moto virtualenv (no pip install).
    SLIPWAY_SANDBOX_VENV: env.SLIPWAY_MOTO_VENV,
    RUST_LOG: process.env.RUST_LOG || "info",
    ...opts.env,
  };
  // Nothing of this machine's own credentials or cluster reaches the app.
  for (const k of ["KUBECONFIG", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "GH_TOKEN", "GITHUB_TOKEN", "DOCKER_CONFIG", "SLIPWAY_DATA_DIR"]) {
    if (!(opts.env && k in opts.env)) delete childEnv[k];
  }
  const proc: ChildProcess = spawn(bin, ["--data-dir", dataDir, "--stdin-lifeline"], { stdio: ["pipe", "pipe", fd], env: childEnv });
  closeSync(fd);
  let exited = false;
  const exit = new Promise<void>((ok) => proc.once("exit", () => ((exited = true), ok())));
  const ready = await new Promise<{ url: string; token: string; pid: number }>((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`the IPC bridge did not start within 30 s; its log ${log}:\n${readFileSync(log, "utf8")}`)), 30_000);
    proc.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        try {
          ok(JSON.parse(out.slice(0, nl)));
        } catch (e) {
          fail(new Error(`the IPC bridge printed ${JSON.stringify(out)}: ${String(e)}`));
        }
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`the IPC bridge exited (${code}) before it listened; its log ${log}:\n${readFileSync(log, "utf8")}`));
    });
  });
  return {
    ...ready,
    dataDir,
    home,
    log,
    stop: async (keep = false) => {
      const notes: string[] = [];
      if (!exited) {
        proc.kill("SIGTERM");
        const t = setTimeout(() => notes.push("the bridge did not exit within 20 s of SIGTERM"), 20_000);
        await exit;
        clearTimeout(t);
      }
      // A sandbox it left running (it stops the one it started on SIGTERM): stopped by its pid.
      try {
        const { pid } = JSON.parse(readFileSync(join(dataDir, "sandbox/moto.json"), "utf8")) as { pid: number };
        if (alive(pid)) {
          process.kill(pid, "SIGTERM");
          notes.push(`stopped a leftover sandbox, pid ${pid}`);
          await until(`sandbox pid ${pid} to exit`, () => !alive(pid), 10_000).catch((e: Error) => notes.push(e.message));
        }
      } catch {
        // no pid file: no sandbox left
      }
      if (keep) notes.push(`kept the data folder ${dataDir} and HOME ${home}; the bridge's log is ${log}`);
      else {
        rmSync(dataDir, { recursive: true, force: true });
        rmSync(home, { recursive: true, force: true });
      }
      return notes;
    },
  };
}

// ---- the page server: ui/dist, and the bridge behind /__bridge ----

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

/** The file under `root` a request path names ("/" is index.html), or null if there is none. */
function distFile(root: string, pathname: string): string | null {
  const path = decodeURIComponent(pathname);
  const file = join(root, path === "/" ? "index.html" : normalize(path).replace(/^[/\\]+/, ""));
  return file.startsWith(root + sep) && existsSync(file) && statSync(file).isFile() ? file : null;
}

export type StaticServer = { url: string; close: () => Promise<void> };

/** Serves `root` on 127.0.0.1 at a free port ("/" is index.html) and passes /__bridge/* to `bridge`. */
export async function startServer(bridge: string, root: string = DIST): Promise<StaticServer> {
  if (!existsSync(join(root, "index.html"))) {
    throw new Error(`${root}/index.html is missing: run \`npm run build\` in ui/ (npm run test:browser does)`);
  }
  const target = new URL(bridge);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname.startsWith("/__bridge/")) {
      // Streamed both ways: a channel stream stays open for as long as the page lives.
      const up = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: url.pathname.slice("/__bridge".length) + url.search, headers: { ...req.headers, host: target.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      up.on("error", (e) => {
        if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
        res.end(`the IPC bridge is unreachable: ${e.message}`);
      });
      res.on("close", () => up.destroy());
      req.pipe(up);
      return;
    }
    const file = distFile(root, url.pathname);
    if (!file) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/**
 * Answers Chromium's requests for ui/dist's files (the pages' lazily loaded chunks among them)
 * from disk inside Playwright, so that they never go through Chromium's network stack. That stack
 * aborts requests in flight with net::ERR_NETWORK_CHANGED whenever an interface appears, and dockerd
 * adds one for every container the tests start. (The desktop app loads its files through Tauri's
 * custom protocol: no network there either.) The bridge's calls still go to the server.
 */
export async function serveAssetsWithoutNetwork(context: BrowserContext, serverUrl: string, root: string = DIST): Promise<void> {
  await context.route(
    (url) => url.href.startsWith(serverUrl) && !url.pathname.startsWith("/__bridge/"),
    async (route) => {
      const file = distFile(root, new URL(route.request().url()).pathname);
      if (!file) {
        await route.fulfill({ status: 404, contentType: "text/plain", body: "not found" });
        return;
      }
      await route.fulfill({ status: 200, headers: { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" }, body: readFileSync(file) });
    },
  );
}

// ---- Chromium ----

/** Reads one page's channel messages from the bridge's /channels stream and hands them to that
 * page in order (ipcBridge.ts, __slipwayDeliver), until the page closes or leaves the document
 * that asked. In Node, not in the page: Chromium aborts a page's requests with
 * ERR_NETWORK_CHANGED whenever dockerd or the cluster adds a network interface. */
export async function pumpChannels(bridge: Bridge, page: Page, pageId: string): Promise<void> {
  const stop = new AbortController();
  page.once("close", () => stop.abort());
  try {
    const res = await fetch(`${bridge.url}/channels`, {
      headers: { "x-slipway-bridge-token": bridge.token, "x-slipway-bridge-client": pageId },
      signal: stop.signal,
    });
    if (!res.ok || !res.body) throw new Error(`the IPC bridge refused the channel stream: ${res.status} ${await res.text()}`);
    const decoder = new TextDecoder();
    let buffered = "";
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffered += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        const delivered = await page
          .evaluate(
            ([id, m]) => {
              const w = window as unknown as { __slipwayPage?: string; __slipwayDeliver?: (m: unknown) => void };
              if (w.__slipwayPage !== id || !w.__slipwayDeliver) return false;
              w.__slipwayDeliver(m);
              return true;
            },
            [pageId, JSON.parse(line)] as const,
          )
          .catch(() => false);
        if (!delivered) return; // the page has closed or shows another document
      }
    }
  } catch (e) {
    if (!stop.signal.aborted) throw e;
  } finally {
    stop.abort();
  }
}

export type Browser = { context: BrowserContext; close: () => Promise<void> };

/** Debian's Chromium with a fresh profile directory, removed on close. */
export async function launchChromium(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), "slipway-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH ?? process.env.SLIPWAY_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport: { width: 1280, height: 820 },
    deviceScaleFactor: 1,
    acceptDownloads: true,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// ---- a suite ----

export type Suite = {
  readonly page: Page;
  readonly server: StaticServer;
  readonly bridge: Bridge;
  /** Opens the app at `hash` (default the Connect page) and waits for doctor() to answer. */
  open: (hash?: string) => Promise<void>;
  /** Calls a command through the bridge from the test itself (to arrange state), as the page would. */
  invoke: <T = unknown>(cmd: string, args?: Record<string, unknown>) => Promise<T>;
};

/**
 * The hooks of a page suite: one bridge (a fresh data folder and HOME), the page server and
 * Chromium per file, a fresh 1280x900 page per test, and any page error or console error fails
 * the test. The backend's state lives as long as the file: its tests run in order and may build
 * on what earlier ones did. Read `page` inside tests (it changes per test). A failing suite keeps
 * its data folder and HOME and says where.
 */
export function browserSuite(opts: BridgeOptions): Suite {
  let bridge: Bridge;
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let failed = false;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    bridge = await startBridge(opts);
    server = await startServer(bridge.url);
    browser = await launchChromium();
    await serveAssetsWithoutNetwork(browser.context, server.url);
    await browser.context.exposeBinding("__slipwayChannels", ({ page }, pageId: string) => pumpChannels(bridge, page, pageId));
    await browser.context.addInitScript(installIpcBridge, { base: `${server.url}__bridge`, token: bridge.token });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    const notes = (await bridge?.stop(failed)) ?? [];
    if (notes.length) console.log(`${opts.name}: ${notes.join("; ")}`);
  }, 60_000);
  beforeEach(async () => {
    page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") failed = true;
    await page.close();
    expect(pageErrors).toEqual([]);
  });
  const suite: Suite = {
    get page() {
      return page;
    },
    get server() {
      return server;
    },
    get bridge() {
      return bridge;
    },
    open: async (hash = "#/connect") => {
      // A new document every time (a goto that changes only the hash would keep the old page).
      if (page.url() !== "about:blank") await page.goto("about:blank");
      await page.goto(`${server.url}${hash}`);
      await page.getByTestId("nav-connect-count").waitFor({ timeout: 30_000 }); // doctor() answered
    },
    invoke: async <T>(cmd: string, args: Record<string, unknown> = {}) => {
      const res = await fetch(`${bridge.url}/ipc/${encodeURIComponent(cmd)}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "tauri-callback": "1",
          "tauri-error": "2",
          "x-slipway-bridge-token": bridge.token,
          "x-slipway-bridge-client": "test",
        },
        body: JSON.stringify(args),
      });
      const body = res.headers.get("content-type")?.startsWith("application/json") ? await res.json() : await res.text();
      if (res.headers.get("tauri-response") !== "ok") throw new Error(`${cmd} failed: ${JSON.stringify(body)}`);
      return body as T;
    },
  };
  return suite;
}

// ---- fixtures ----

/** git with a fixed identity. */
export function git(cwd: string, ...args: string[]): string {
  const r = spawnSync("git", ["-c", "user.name=Slipway UI tests", "-c", "user.email=ui@slipway.invalid", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${r.error?.message ?? r.stderr}`);
  return r.stdout.trim();
}

/** A fresh Git repository with `files`, one commit on main; removed by `remove()`. */
export function gitRepo(files: Record<string, string>): { dir: string; sha: () => string; commit: (files: Record<string, string>, message: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "slipway-ui-repo-"));
  const write = (fs: Record<string, string>) => {
    for (const [rel, text] of Object.entries(fs)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
  };
  write(files);
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "first commit");
  return {
    dir,
    sha: () => git(dir, "rev-parse", "HEAD"),
    commit: (fs, message) => {
      write(fs);
      git(dir, "add", "-A");
      git(dir, "commit", "-q", "-m", message);
      return git(dir, "rev-parse", "HEAD");
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A short random suffix for names this run owns (projects, namespaces). */
export const unique = (prefix: string) => `${prefix}-${Math.random().toString(16).slice(2, 8)}`;

/** Removes what a project's runs and deploys left on the shared dockerd: containers, networks and images. */
export function removeDockerObjects(project: string): string[] {
  const notes: string[] = [];
  const docker = (...args: string[]) => spawnSync("docker", args, { encoding: "utf8" });
  for (const label of [`slipway.deploy=${project}`, `slipway.project=${project}`]) {
    const ids = docker("ps", "-aq", "--filter", `label=${label}`).stdout.split("\n").filter(Boolean);
    if (ids.length) {
      docker("rm", "-f", ...ids);
      notes.push(`removed ${ids.length} container(s) of ${label}`);
    }
    const nets = docker("network", "ls", "-q", "--filter", `label=${label}`).stdout.split("\n").filter(Boolean);
    if (nets.length) docker("network", "rm", ...nets);
  }
  const images = [...new Set(docker("image", "ls", "-q", "--filter", `label=slipway.image.project=${project}`).stdout.split("\n").filter(Boolean))];
  if (images.length) {
    docker("image", "rm", "-f", ...images);
    notes.push(`removed ${images.length} image(s) of ${project}`);
  }
  return notes;
}
