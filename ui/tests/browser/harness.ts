// Shared pieces of the Chromium suite: a static file server for dist-mock/ on a free loopback
// port, and Debian's Chromium driven by playwright-core (no downloaded browsers).
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";

const here = fileURLToPath(new URL(".", import.meta.url));
export const UI_ROOT = resolve(here, "../..");
export const MOCK_DIST = join(UI_ROOT, "dist-mock");
/** Screenshots go to <repo>/tests/artifacts/ui/ (git-ignored). */
export const ARTIFACTS = resolve(UI_ROOT, "../tests/artifacts/ui");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
};

export type StaticServer = { url: string; close: () => Promise<void> };

/** Serves `root` on 127.0.0.1 at a free port; "/" is mock.html. */
export async function startStaticServer(root: string = MOCK_DIST): Promise<StaticServer> {
  if (!existsSync(join(root, "mock.html"))) {
    throw new Error(`${root}/mock.html is missing: run \`npx vite build --mode mock\` (npm run test:browser does)`);
  }
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const rel = path === "/" ? "mock.html" : normalize(path).replace(/^[/\\]+/, "");
    const file = join(root, rel);
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
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

export type Browser = { context: BrowserContext; close: () => Promise<void> };

/** Debian's Chromium with a fresh profile directory, removed on close. */
export async function launchChromium(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), "slipway-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
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
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export type Suite = { readonly page: Page; readonly server: StaticServer };

/**
 * The hooks of a page suite: the static server and Chromium once per file, a fresh 1280x900 page
 * per test, and any page error or console error fails the test. Read `page` and `server` inside
 * tests (they change per test).
 */
export function browserSuite(): Suite {
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startStaticServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  beforeEach(async () => {
    page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
  });
  afterEach(async () => {
    await page.close();
    expect(pageErrors).toEqual([]);
  });
  return {
    get page() {
      return page;
    },
    get server() {
      return server;
    },
  };
}
