// The end-to-end harness: the test environment's variables (a missing one fails with the
// command that fixes it, never skips), tauri-driver on free loopback ports (stopped with SIGTERM
// and waited for, never SIGKILL), and one real desktop app per session with a fresh data dir.
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Session, waitUntil, wd } from "./webdriver.mjs";
import { X11 } from "./x11.mjs";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const ARTIFACTS = path.join(REPO, "tests/artifacts/desktop");

const FIX = "start the test environment and load its variables: `scripts/testenv.sh up moto keyring display && . ${TESTENV_DIR:-/tmp/slipway-testenv}/env` (scripts/test.sh does both)";

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: ${FIX}`);
  return v;
}

function executable(file, what, fix) {
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw new Error(`${what} ${file} is missing or not executable: ${fix}`);
  }
}

/** Everything the suite needs from the environment, checked up front with a clear message. */
export async function environment() {
  const env = {
    display: need("DISPLAY"),
    tauriDriver: need("SLIPWAY_TAURI_DRIVER"),
    webkitDriver: need("SLIPWAY_WEBKIT_DRIVER"),
    motoVenv: need("SLIPWAY_MOTO_VENV"),
    dbus: need("DBUS_SESSION_BUS_ADDRESS"),
  };
  const target = process.env.CARGO_TARGET_DIR || path.join(process.env.SLIPWAY_CACHE || "/var/cache/slipway", "target");
  env.app = process.env.SLIPWAY_DESKTOP_BIN || path.join(target, "debug/slipway-desktop");
  executable(env.tauriDriver, "tauri-driver", FIX);
  executable(env.webkitDriver, "WebKitWebDriver", FIX);
  executable(path.join(env.motoVenv, "bin/moto_server"), "the sandbox's moto_server", FIX);
  executable(
    env.app,
    "the desktop app",
    "build it: `(cd ui && npm ci && npm run build) && cargo build -p slipway-desktop --features custom-protocol` (or set SLIPWAY_DESKTOP_BIN)",
  );
  const bus = /unix:path=([^,;]+)/.exec(env.dbus)?.[1];
  if (bus && !existsSync(bus)) throw new Error(`DBUS_SESSION_BUS_ADDRESS points at ${bus}, which does not exist: ${FIX}`);
  try {
    (await X11.connect(env.display, 3000)).close();
  } catch (e) {
    throw new Error(`no X server on DISPLAY=${env.display} (${e.message}): ${FIX}`);
  }
  return env;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---- processes, from /proc ----

/** The state letter of a process (R, S, Z, ...), or null when it does not exist. */
export function procState(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return null;
  }
}

/** Running: exists and is not a zombie (an exited child nobody reaped yet is gone for our purposes). */
export const running = (pid) => {
  const s = procState(pid);
  return s !== null && s !== "Z" && s !== "X";
};

export function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

function ppid(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

function pids() {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
}

export const childrenOf = (parent) => pids().filter((p) => ppid(p) === parent);

export function descendantsOf(root) {
  const all = pids().map((p) => [p, ppid(p)]);
  const out = [];
  const walk = (p) => {
    for (const [c, pp] of all) if (pp === p) (out.push(c), walk(c));
  };
  walk(root);
  return out;
}

export function tail(file, lines = 40) {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch (e) {
    return `(cannot read ${file}: ${e.code ?? e.message})`;
  }
}

// ---- tauri-driver ----

export class Driver {
  static async start(env) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const d = new Driver();
    d.env = env;
    d.home = mkdtempSync(path.join(os.tmpdir(), "slipway-e2e-home-"));
    d.port = await freePort();
    d.nativePort = await freePort();
    while (d.nativePort === d.port) d.nativePort = await freePort();
    d.base = `http://127.0.0.1:${d.port}`;
    d.log = path.join(ARTIFACTS, "tauri-driver.log");
    // Output goes to a file, not a pipe: a pipe left open by a stray child would hang the runner.
    const fd = openSync(d.log, "w");
    d.proc = spawn(env.tauriDriver, ["--port", String(d.port), "--native-port", String(d.nativePort), "--native-driver", env.webkitDriver], {
      stdio: ["ignore", fd, fd],
      env: {
        ...process.env,
        // A fresh HOME: no ~/.aws profiles, ~/.docker config, gh login or WebKit caches of this
        // machine leak into the app, and what WebKit writes can be searched for secrets.
        HOME: d.home,
        XDG_CONFIG_HOME: path.join(d.home, ".config"),
        XDG_DATA_HOME: path.join(d.home, ".local/share"),
        XDG_CACHE_HOME: path.join(d.home, ".cache"),
        // The sandbox reuses the test environment's moto virtualenv (no pip install).
        SLIPWAY_SANDBOX_VENV: env.motoVenv,
        RUST_LOG: process.env.RUST_LOG || "info,tao=warn,wry=warn",
      },
    });
    closeSync(fd);
    d.exited = new Promise((resolve) => d.proc.once("exit", (code, signal) => resolve({ code, signal })));
    d.proc.once("exit", () => (d.proc.done = true));
    await waitUntil(
      `tauri-driver to answer on ${d.base}`,
      async () => {
        if (d.proc.done) throw new Error(`tauri-driver exited: ${tail(d.log, 20)}`);
        const r = await fetch(`${d.base}/status`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
        return r?.ok;
      },
      { timeout: 15_000, interval: 50 },
    );
    d.children = childrenOf(d.proc.pid); // WebKitWebDriver
    return d;
  }

  /** SIGTERM, then wait for it (never SIGKILL: WebKitWebDriver would keep its port and pipes). */
  async stop() {
    if (!this.proc || this.proc.done) return;
    const kids = [...new Set([...(this.children ?? []), ...childrenOf(this.proc.pid)])];
    this.proc.kill("SIGTERM");
    let timer;
    const r = await Promise.race([this.exited, new Promise((res) => (timer = setTimeout(() => res(null), 10_000)))]);
    clearTimeout(timer);
    if (!r) throw new Error(`tauri-driver (pid ${this.proc.pid}) did not exit within 10 s of SIGTERM`);
    // Its WebKitWebDriver goes with it; if one did not, ask it the same way and wait.
    for (const k of kids.filter(running)) process.kill(k, "SIGTERM");
    await waitUntil("WebKitWebDriver to exit", () => kids.every((k) => !running(k)), { timeout: 10_000 });
    rmSync(this.home, { recursive: true, force: true });
  }

  /** Starts the real desktop app in a new WebDriver session, with a fresh data dir (or `dataDir`: a restart). */
  async launch({ dataDir } = {}) {
    return App.launch(this, { dataDir });
  }
}

// ---- one app session ----

export class App {
  static async launch(driver, { dataDir } = {}) {
    const a = new App();
    a.driver = driver;
    a.dataDir = dataDir ?? mkdtempSync(path.join(os.tmpdir(), "slipway-e2e-data-"));
    a.log = path.join(a.dataDir, "logs/slipway-desktop.log");
    a.session = await Session.create(driver.base, {
      "tauri:options": { application: driver.env.app, args: ["--data-dir", a.dataDir] },
    });
    a.pid = await waitUntil(
      "the desktop app's process",
      () => pids().find((p) => {
        const c = cmdline(p);
        return c[0] === driver.env.app && c.includes(a.dataDir);
      }),
      { timeout: 10_000 },
    );
    return a;
  }

  /** The sandbox's pid file (<data dir>/sandbox/moto.json), once the app has written it. */
  sandbox(timeout = 30_000) {
    const file = path.join(this.dataDir, "sandbox/moto.json");
    return waitUntil(
      `${file} with the sandbox's pid and port`,
      () => {
        const j = JSON.parse(readFileSync(file, "utf8"));
        return Number.isInteger(j.pid) && Number.isInteger(j.port) ? j : null;
      },
      { timeout },
    );
  }

  /**
   * Closes the app the way a person does: WM_DELETE_WINDOW to its window (the close button),
   * then waits for the process to exit by itself, then ends the WebDriver session. Ending the
   * session first would not do: WebKitWebDriver ends it with SIGKILL, so no exit code runs.
   */
  async close({ timeout = 20_000 } = {}) {
    if (this.closed) return;
    const x = await X11.connect(this.driver.env.display);
    try {
      const n = await waitUntil(`a window of the app (pid ${this.pid})`, () => x.requestClose(this.pid), { timeout: 5_000 });
      this.closeRequested = n;
    } finally {
      x.close();
    }
    await waitUntil(`the app (pid ${this.pid}) to exit after its window was closed`, () => !running(this.pid), { timeout }).catch((e) => {
      throw new Error(`${e.message}\napp log:\n${tail(this.log)}`);
    });
    this.closed = true;
    await this.session.delete().catch(() => {}); // the browser is gone already; the session just ends
  }

  /**
   * Leaves nothing behind, whatever happened: ends the session if the app still runs (the driver
   * kills it then), and stops a sandbox left running by PID with SIGTERM. Returns what it had to do.
   */
  async dispose({ keepDataDir = false } = {}) {
    const notes = [];
    if (!this.closed) {
      await this.session.delete().catch((e) => notes.push(`session delete: ${e.message}`));
      await waitUntil("the app to exit", () => !running(this.pid), { timeout: 10_000 }).catch((e) => notes.push(e.message));
      this.closed = true;
    }
    try {
      const { pid } = JSON.parse(readFileSync(path.join(this.dataDir, "sandbox/moto.json"), "utf8"));
      if (running(pid) && cmdline(pid).some((c) => c.includes("moto"))) {
        process.kill(pid, "SIGTERM");
        notes.push(`stopped a leftover sandbox, pid ${pid}`);
        await waitUntil(`sandbox pid ${pid} to exit`, () => !running(pid), { timeout: 10_000 }).catch((e) => notes.push(e.message));
      }
    } catch {
      // no sandbox pid file: nothing was started
    }
    if (!keepDataDir) rmSync(this.dataDir, { recursive: true, force: true });
    return notes;
  }

  // ---- UI helpers ----

  async screenshot(name) {
    mkdirSync(ARTIFACTS, { recursive: true });
    // WebKitWebDriver answers a screenshot after the page's next presentation update. Without
    // compositing (the app's choice when there is no GPU) a page with nothing left to repaint
    // never has one, and the screenshot waits forever; a 1-pixel, all but transparent element
    // that changes every 50 ms gives it one. It is removed again right after.
    await this.session.execute(
      `const d = document.createElement("div");
       d.id = "__e2e_tick";
       d.style.cssText = "position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;z-index:2147483647";
       document.body.appendChild(d);
       let on = false;
       window.__e2eTick = setInterval(() => { on = !on; d.style.background = on ? "rgba(0,0,0,0.01)" : "rgba(0,0,0,0.02)"; }, 50);`,
    );
    let png;
    try {
      png = await this.session.screenshot();
    } finally {
      await this.session
        .execute(`clearInterval(window.__e2eTick); document.getElementById("__e2e_tick")?.remove();`)
        .catch(() => {});
    }
    const file = path.join(ARTIFACTS, `${name}.png`);
    await import("node:fs/promises").then((fs) => fs.writeFile(file, png));
    return { file, png };
  }

  /** Every file under `dir` (recursively). */
  static files(dir) {
    const out = [];
    const walk = (d) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) out.push(p);
      }
    };
    if (existsSync(dir) && statSync(dir).isDirectory()) walk(dir);
    return out;
  }
}

/** Width and height from a PNG's IHDR chunk (throws if it is not a PNG). */
export function pngSize(buf) {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (buf.length < 24 || !buf.subarray(0, 8).equals(sig)) throw new Error("not a PNG");
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

export { wd };
