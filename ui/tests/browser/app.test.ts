// The app in Chromium against the mock backend (dist-mock/): every page, the AWS wizard with the
// sandbox, a bad GitHub token, a settings validation error, provisioning, projects and pipeline
// runs with their logs in xterm.js. Screenshots: tests/artifacts/ui/.
import { join } from "node:path";

import type { Page } from "playwright-core";
import { beforeEach, describe, expect, test } from "vitest";

import { ARTIFACTS, browserSuite, type StaticServer } from "./harness";

const PAGES = ["connect", "project", "architecture", "board", "pipelines", "deployments", "settings"] as const;

// Chromium, the static server and a fresh page per test (page or console errors fail the test).
const t = browserSuite();
let page: Page;
let server: StaticServer;
beforeEach(() => {
  page = t.page;
  server = t.server;
});

async function open(query = "", hash = "#/connect") {
  await page.goto(`${server.url}${query}${hash}`);
  await page.getByTestId("nav-connect-count").waitFor(); // doctor() answered
}

const byId = (id: string) => page.getByTestId(id);

describe("Slipway UI in Chromium (mock backend)", () => {
  test("every page is reachable from the navigation; screenshots", async () => {
    await open();
    for (const id of PAGES) {
      await byId(`nav-${id}`).click();
      await byId(`page-${id}`).waitFor();
      expect(await byId(`nav-${id}`).getAttribute("aria-current")).toBe("page");
      expect(page.url()).toContain(`#/${id}`);
      if (id === "board") await byId("board-card").first().waitFor();
      if (id === "settings") await byId("settings-form").waitFor();
      if (id === "architecture") await byId("arch-node-nodes").waitFor();
      if (id === "project") await byId("project-row").waitFor();
      if (id === "pipelines") await byId("log-view").waitFor();
      if (id === "deployments") await byId("workload-row").first().waitFor();
      await page.screenshot({ path: join(ARTIFACTS, `${id}.png`) });
    }
    expect(await page.evaluate(() => (window as any).__slipwayMock.firstPaintCalls)).toBe(1);
  });

  test("the navigation works from the keyboard", async () => {
    await open();
    await byId("nav-board").focus();
    await page.keyboard.press("Enter");
    await byId("page-board").waitFor();
    // Focus moves to the new page's heading.
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("page-title");
  });

  test("AWS wizard: the sandbox connects and shows the account, ARN and endpoint", async () => {
    await open();
    await byId("connect-aws-sandbox").check();
    await byId("aws-submit").click();
    // A check in progress: the button is disabled and says so.
    await expect(byId("aws-submit").isDisabled()).resolves.toBe(true);
    await byId("aws-state").filter({ hasText: "Checking" }).waitFor();

    await byId("aws-account").filter({ hasText: "123456789012" }).waitFor();
    expect(await byId("aws-endpoint").textContent()).toContain("http://127.0.0.1:45500");
    expect(await byId("aws-arn").textContent()).toContain("arn:aws:");
    expect(await byId("aws-state").getAttribute("data-state")).toBe("connected");
    // The status bar shows the sandbox state and the emulator endpoint.
    expect(await byId("sandbox-badge").getAttribute("data-status")).toBe("running");
    expect(await byId("status-aws-endpoint").textContent()).toContain("http://127.0.0.1:45500");

    // The region picker is filled from aws_regions and calls set_aws_region.
    await byId("aws-region-select").selectOption("eu-west-2");
    await byId("aws-region").filter({ hasText: "eu-west-2" }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "connect-aws-sandbox.png") });
  });

  test("AWS profiles show their kind", async () => {
    await open();
    await byId("connect-aws-profile").check();
    const options = await byId("aws-profile-select").locator("option").allTextContents();
    expect(options.join("|")).toMatch(/static keys/);
    expect(options.join("|")).toMatch(/SSO/);
    expect(options.join("|")).toMatch(/credential process/);
    expect(options.join("|")).toMatch(/assume role/);
  });

  test("a fresh machine defaults to the sandbox", async () => {
    await open("?scenario=fresh&delay=0");
    await expect(byId("connect-aws-sandbox").isChecked()).resolves.toBe(true);
  });

  test("a bad GitHub token shows what failed, why, and what to do; the token is cleared", async () => {
    await open();
    await byId("github-mode-token").check();
    await byId("github-token").fill("bad");
    await byId("github-submit").click();
    await byId("github-error").waitFor();
    expect(await byId("github-error-what").textContent()).toMatch(/GitHub sign-in check failed/);
    expect(await byId("github-error-why").textContent()).toMatch(/401/);
    expect(await byId("github-error-fix").textContent()).toMatch(/token/);
    expect(await byId("github-token").inputValue()).toBe("");
    expect(await byId("github-state").getAttribute("data-state")).toBe("failed");
    await page.screenshot({ path: join(ARTIFACTS, "connect-github-error.png") });
  });

  test("a failed re-check keeps the last good identity visible", async () => {
    await open("?delay=0");
    await byId("github-token").fill("ghp_goodtoken123");
    await byId("github-submit").click();
    await byId("github-login").filter({ hasText: "octo-dev" }).waitFor();
    await byId("github-token").fill("bad");
    await byId("github-submit").click();
    await byId("github-error").waitFor();
    expect(await byId("github-login").textContent()).toContain("octo-dev");
  });

  test("Docker and Kubernetes are checked again on request", async () => {
    await open("?delay=0");
    expect(await byId("docker-version").textContent()).toContain("20.10");
    expect(await byId("kubernetes-state").getAttribute("data-state")).toBe("failed");
    await byId("kubernetes-check").click(); // still down
    await byId("kubernetes-error").waitFor();
    await byId("kubernetes-check").click(); // now up
    await byId("kubernetes-context").filter({ hasText: "slipway-test" }).waitFor();
  });

  test("settings: a validation error from the backend is shown; a valid save succeeds", async () => {
    await open("?delay=0", "#/settings");
    await byId("settings-form").waitFor();
    expect(await byId("settings-data-dir").textContent()).toContain("/root/.local/share/slipway");
    await byId("settings-sandbox-port").fill("80");
    await byId("settings-save").click();
    await byId("settings-error").waitFor();
    expect(await byId("settings-error-what").textContent()).toMatch(/Settings not saved/);
    expect(await byId("settings-error-why").textContent()).toMatch(/privileged/);
    expect(await byId("settings-error-fix").textContent()).toMatch(/1024/);
    await page.screenshot({ path: join(ARTIFACTS, "settings-error.png") });

    await byId("settings-sandbox-port").fill("");
    await byId("settings-default-region").fill("eu-west-2");
    await byId("settings-save").click();
    await byId("settings-saved").waitFor();
    expect(await byId("settings-error").count()).toBe(0);
  });

  test("works in a 960x600 window", async () => {
    await page.setViewportSize({ width: 960, height: 600 });
    await open("?delay=0");
    await byId("connect-aws-sandbox").check();
    await byId("aws-submit").click();
    await byId("aws-account").filter({ hasText: "123456789012" }).waitFor();
    // Nothing is wider than the window.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, "connect-960x600.png") });
  });

  test("architecture: plan, apply with live progress, destroy", async () => {
    await page.setViewportSize({ width: 1440, height: 1000 });
    await open("", "#/architecture");
    await byId("architecture-diagram").waitFor();
    await byId("arch-node-nodes").waitFor();
    expect(await page.locator('[data-testid^="arch-node-"]').count()).toBe(22);
    // The diagram has its edges drawn.
    expect(await page.locator(".react-flow__edge").count()).toBeGreaterThan(20);

    await byId("arch-plan").click();
    await byId("plan-table").waitFor();
    expect(await page.locator('[data-testid^="plan-row-"][data-action="create"]').count()).toBe(22);
    expect(await byId("plan-total").textContent()).toMatch(/^\$[\d,]+\.\d\d$/);

    await byId("arch-apply").click();
    await byId("arch-cancel").waitFor(); // a run is going on
    await page.locator('[data-testid^="arch-node-"][data-phase="waiting"]').first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "architecture-applying.png") });
    await byId("arch-progress").filter({ hasText: "22 of 22" }).waitFor({ timeout: 15_000 });
    await byId("arch-node-nodes").and(page.locator('[data-phase="ready"]')).waitFor();
    expect(await byId("arch-progress").textContent()).toMatch(/22 created/);
    expect(await byId("arch-log").locator("li").count()).toBeGreaterThan(60);
    await page.screenshot({ path: join(ARTIFACTS, "architecture.png"), fullPage: true });

    await byId("arch-destroy").click();
    expect(await byId("destroy-confirm").isDisabled()).toBe(true);
    await byId("destroy-confirm-input").fill("slipway");
    await byId("destroy-confirm").click();
    await byId("arch-progress").filter({ hasText: "Destroy: 22 of 22" }).waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => (window as any).__slipwayMock.cloud.size)).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "architecture-destroyed.png") });
  });
});
