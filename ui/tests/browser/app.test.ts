// The app's shell in Chromium against the real commands (slipway-ipc-bridge on a fresh data
// folder and an empty HOME, like a first start): every page from the navigation, by mouse and
// keyboard; the sandbox the app starts by itself in the status bar; a fresh machine offered the
// sandbox; first_paint reported once per load, from the frame index.html carries (the same frame
// React then renders); a doctor() that fails shown as what / why / fix.
// Screenshots: tests/artifacts/ui/<page>.png.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import type { Route } from "playwright-core";
import { describe, expect, test } from "vitest";

import { ARTIFACTS, DIST, browserSuite } from "./harness";

const PAGES = ["connect", "project", "architecture", "board", "pipelines", "deployments", "settings"] as const;

const t = browserSuite({ name: "app" });
const byId = (id: string) => t.page.getByTestId(id);

describe("Slipway UI in Chromium (real commands)", () => {
  test("every page is reachable from the navigation, each under its own URL and heading; first_paint is reported once", async () => {
    await t.open();
    const titles: string[] = [];
    for (const id of PAGES) {
      await byId(`nav-${id}`).click();
      await byId(`page-${id}`).waitFor();
      expect(await byId(`nav-${id}`).getAttribute("aria-current")).toBe("page");
      expect(t.page.url()).toContain(`#/${id}`);
      titles.push((await byId("page-title").textContent()) ?? "");
      expect(await byId("not-built").count()).toBe(0);
      if (id === "settings") await byId("settings-form").waitFor();
      if (id === "architecture") await byId("architecture-diagram").waitFor();
      await t.page.screenshot({ path: join(ARTIFACTS, `${id}.png`) });
    }
    expect(titles).toEqual(["Connect", "Project", "Architecture", "Board", "Pipelines", "Deployments", "Settings"]);
    // The Rust side recorded the first paint of this page load, once.
    await expect.poll(() => readFileSync(t.bridge.log, "utf8").match(/first paint/g)?.length ?? 0).toBe(1);
  });

  test("the first frame is the app's own: the built index.html carries the Launch page's frame, the markup React renders over it", async () => {
    const html = readFileSync(join(DIST, "index.html"), "utf8");
    // The reporter is a classic script: it runs, and the frame paints, before it starts the app.
    expect(html).toMatch(/<script src="\.\/first-paint\.js" data-app="\.\/assets\/index-[\w-]+\.js"><\/script>/);
    const app = /data-app="(\.\/assets\/index-[\w-]+\.js)"/.exec(html)?.[1];
    expect(html).toContain(`<link rel="modulepreload" crossorigin href="${app}">`);
    expect(html).not.toMatch(/<script type="module"/); // the app starts once the frame is painted
    await t.open("#/launch");
    await byId("launch-page").waitFor();
    const [prerendered, live] = await t.page.evaluate((doc) => {
      const frame = (root: ParentNode) => {
        const nav = root.querySelector("nav.sidebar")?.cloneNode(true) as HTMLElement | undefined;
        nav?.querySelector('[data-testid="nav-connect-count"]')?.remove(); // known only once doctor() answers
        return { nav: nav?.outerHTML ?? "(no navigation)", title: root.querySelector('[data-testid="page-title"]')?.textContent, page: root.querySelector("main")?.dataset.testid };
      };
      return [frame(new DOMParser().parseFromString(doc, "text/html")), frame(document)];
    }, html);
    expect(prerendered.title).toBe("Launch");
    expect(prerendered.page).toBe("page-launch");
    expect(prerendered).toEqual(live);
  });

  test("the navigation works from the keyboard; focus moves to the new page's heading", async () => {
    await t.open();
    await byId("nav-board").focus();
    await t.page.keyboard.press("Enter");
    await byId("page-board").waitFor();
    expect(await t.page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("page-title");
  });

  test("a first start: the app starts the sandbox by itself, offers it for AWS (no profiles here), and shows no AWS endpoint until AWS is connected", async () => {
    await t.open();
    await expect.poll(() => byId("sandbox-badge").getAttribute("data-status"), { timeout: 45_000 }).toBe("running");
    expect(await byId("sandbox-badge").textContent()).toMatch(/http:\/\/127\.0\.0\.1:\d+/);
    expect(await byId("connect-aws-sandbox").isChecked()).toBe(true);
    expect(await byId("status-aws-endpoint").count()).toBe(0);
    expect(await byId("aws-state").getAttribute("data-state")).toBe("notConfigured");
    expect(await byId("nav-connect-count").textContent()).toMatch(/^\d\/5$/);
  });

  test("a failing doctor() is shown as what / why / fix (the answer replaced on its way to the page)", async () => {
    // The real store cannot be made to fail on demand; the transport can: this page's doctor
    // answer is swapped for the UserError a locked store gives.
    await t.page.route("**/__bridge/ipc/doctor", (route) =>
      route.fulfill({
        status: 200,
        headers: { "Tauri-Response": "error", "content-type": "application/json" },
        body: JSON.stringify({ what: "Reading the store failed", why: "database is locked", fix: "Close the other Slipway window" }),
      }),
    );
    await t.page.goto(`${t.server.url}#/connect`);
    await byId("load-error").waitFor({ timeout: 20_000 });
    expect(await byId("load-error-what").textContent()).toBe("Reading the store failed");
    expect(await byId("load-error-why").textContent()).toBe("database is locked");
    expect(await byId("load-error-fix").textContent()).toBe("Close the other Slipway window");
  });

  test("works in a 960x600 window", async () => {
    await t.page.setViewportSize({ width: 960, height: 600 });
    await t.open();
    expect(await t.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await t.page.screenshot({ path: join(ARTIFACTS, "connect-960x600.png") });
  });

  test("the Launch page reports once per load that it can be used, after its steps are shown", async () => {
    const marks = () => readFileSync(t.bridge.log, "utf8").match(/launch interactive/g)?.length ?? 0;
    const before = marks();
    await t.open("#/launch");
    await byId("launch-step-connect").waitFor();
    await expect.poll(marks).toBe(before + 1);
    await byId("nav-connect").click();
    await byId("nav-launch").click();
    await byId("launch-step-connect").waitFor();
    await new Promise((r) => setTimeout(r, 300));
    expect(marks()).toBe(before + 1);
  });

  test("the Launch page first shows the state first-paint.js asked for while the frame painted, then asks again; when that early answer failed, it asks itself", async () => {
    const held: Route[] = [];
    let asked = 0;
    // The first launch_state of a load is first-paint.js's; the page's own are held. The app's
    // module is let through only once that first answer is back: so it is asked before the app
    // runs (or the page would never load), and it is back before the first render (a slow answer
    // would miss that render, and the page would wait for its own: the race this test leaves out).
    let earlyAnswered = () => {};
    const answered = new Promise<void>((resolve) => (earlyAnswered = resolve));
    await t.page.route("**/ipc/launch_state", async (route) => {
      if (++asked > 1) return void held.push(route);
      await route.continue();
      await (await route.request().response())?.finished();
      earlyAnswered();
    });
    await t.page.route(/\/assets\/index-[\w-]+\.js$/, async (route) => {
      await answered;
      await route.continue();
    });
    try {
      await t.open("#/launch");
      await byId("launch-step-connect").waitFor();
      await expect.poll(() => held.length).toBeGreaterThan(0);
      expect(await byId("launch-load-error").count()).toBe(0);
    } finally {
      for (const r of held) await r.continue();
      await t.page.unrouteAll({ behavior: "ignoreErrors" });
    }

    asked = 0;
    // The early answer is an error, as the bridge would send it.
    const failed = { what: "Reading where the journey is failed", why: "injected by the test", fix: "none" };
    await t.page.route("**/ipc/launch_state", (route) =>
      ++asked === 1
        ? route.fulfill({ status: 200, headers: { "Tauri-Response": "error", "content-type": "application/json" }, body: JSON.stringify(failed) })
        : route.continue(),
    );
    try {
      await t.open("#/launch");
      await byId("launch-step-connect").waitFor();
      expect(asked).toBeGreaterThanOrEqual(2);
      expect(await byId("launch-load-error").count()).toBe(0);
    } finally {
      await t.page.unrouteAll({ behavior: "ignoreErrors" });
    }
  });
});
