// The Project page in Chromium against the real commands (slipway-ipc-bridge on a fresh data
// folder): detection of a real repository (the sample app) and its refusals, the form's checks
// and save_project's, a project from a Git URL, a saved project loaded back; and its GitHub
// parts through the GitHub stand-in in front of the real client: the repository picker (pages,
// search, keyboard, branches and commits), branch watches (polling: a new commit starts a run and
// is reported back as commit statuses; a revoked token stops the watch with its reason; the
// webhook receiver: a signed push starts a run, a forged one is refused, its port in use refused
// for another watch), and the webhook secret. Screenshots: tests/artifacts/ui/.
import { createHmac, randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { startGithubStub, type GithubStub } from "../../../tests/stubs/github.mjs";
import { ARTIFACTS, REPO, browserSuite, git, gitRepo, removeDockerObjects } from "./harness";

const TOKEN = `ghp_${randomBytes(18).toString("hex")}`;
let github: GithubStub;
beforeAll(async () => {
  github = await startGithubStub({ goodToken: TOKEN, login: "octo-dev" });
});

// A copy of examples/sample-app as a Git repository named "shop".
const parent = mkdtempSync(join(tmpdir(), "slipway-ui-project-"));
const shop = join(parent, "shop");
cpSync(join(REPO, "examples/sample-app"), shop, { recursive: true });
git(shop, "init", "-q");
git(shop, "add", "-A");
git(shop, "commit", "-q", "-m", "the sample app");
// A repository with one Dockerfile and no test command.
const plain = gitRepo({ "app/Dockerfile": "FROM slipway/busybox:latest\nCMD [\"true\"]\n" });
afterAll(async () => {
  await github?.close();
  rmSync(parent, { recursive: true, force: true });
  plain.remove();
  removeDockerObjects("shop");
});

const t = browserSuite({ name: "project" });
const byId = (id: string) => t.page.getByTestId(id);
const service = (name: string) => t.page.locator(`[data-testid="service"][data-service="${name}"]`);
const watchRow = (repo: string, branch: string) => t.page.locator(`[data-testid="gh-watch-row"][data-repo="${repo}"][data-branch="${branch}"]`);
const options = () => byId("gh-repo-option").evaluateAll((els) => els.map((e) => e.getAttribute("data-repo")));
const repoListings = () => github.requests.filter((r) => r.url.startsWith("/user/repos"));

async function open() {
  await t.open("#/project");
  await byId("project-detect").waitFor({ timeout: 30_000 });
}

type Watch = { setting: { watch: { repo: string; branch: string } }; active: boolean; address: string | null; error: string | null };
type Run = { id: string; status: string; trigger: { kind: string; sha?: string } };

describe("Project page in Chromium (real commands, the GitHub stand-in)", () => {
  test("detection refusals: not a folder, nothing to build, a Git URL that does not exist; nothing is shown as detected", async () => {
    await open();
    await byId("project-path").fill("relative/path");
    await byId("project-detect").click();
    await byId("project-detect-error").waitFor({ timeout: 20_000 });
    expect(await byId("project-detect-error-why").textContent()).toContain("relative/path is not a folder");
    expect(await byId("project-detect-error-fix").textContent()).toContain("Check the repository path");

    const empty = mkdtempSync(join(tmpdir(), "slipway-ui-empty-"));
    try {
      await byId("project-path").fill(empty);
      await byId("project-detect").click();
      await byId("project-detect-error-why").filter({ hasText: "no Dockerfile and no compose service" }).waitFor({ timeout: 20_000 });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }

    await byId("project-source-git").check();
    await byId("project-git-url").fill("file:///nonexistent/missing.git");
    await byId("project-detect").click();
    await byId("project-detect-error-what").filter({ hasText: "Checkout failed" }).waitFor({ timeout: 30_000 });
    expect(await byId("project-detected").count()).toBe(0);
  });

  test("detects a real repository and shows what it found: services, ports, dependencies, environment, test commands, the database, manifests, the variables the code reads", async () => {
    await open();
    await byId("project-path").fill(shop);
    await byId("project-detect").click();
    await byId("project-detected").waitFor({ timeout: 30_000 });
    expect(await byId("project-id").inputValue()).toBe("shop");
    expect(await byId("project-git-ref").inputValue()).toBe("HEAD");
    expect(await byId("project-replicas").inputValue()).toBe("3");
    expect(await byId("project-concurrency").inputValue()).toBe("1");
    expect(await byId("project-entry").inputValue()).toBe("frontend");
    expect(await byId("project-detected-from").textContent()).toContain("docker-compose.yml");
    expect(await byId("service").evaluateAll((els) => els.map((e) => e.getAttribute("data-service")))).toEqual(["backend", "frontend"]);
    expect(await service("backend").getByTestId("service-build").textContent()).toContain("backend/Dockerfile");
    expect(await service("backend").getByTestId("service-port").inputValue()).toBe("8000");
    expect(await service("backend").getByTestId("service-depends").textContent()).toContain("db");
    expect(await service("backend").getByTestId("service-env").textContent()).toContain("DB_HOST=db");
    // pytest writing JUnit and coverage reports, installed into the test container when the
    // image lacks it (the repository's tests run unchanged).
    const testCommand = await service("backend").getByTestId("service-test-command").inputValue();
    expect(testCommand).toMatch(/^sh -c /);
    expect(testCommand).toContain("-m pytest -q");
    expect(testCommand).toContain("--junitxml=/reports/junit.xml");
    expect(await byId("project-database").textContent()).toContain("mariadb:10.11");
    expect(await byId("project-database").textContent()).toContain("db/schema.sql");
    expect(await byId("project-manifests").textContent()).toContain("k8s/nginx.yaml");
    // Every fact with where it was found, and why the entry service is the entry.
    expect(await byId("project-entry-reason").textContent()).toMatch(/^Why: .+/);
    expect(await byId("project-fact").count()).toBeGreaterThan(3);
    expect((await byId("project-fact-source").allTextContents()).some((t) => t.includes("docker-compose.yml"))).toBe(true);
    expect(await byId("project-env-vars").textContent()).toContain("DB_PASSWORD");
    await t.page.screenshot({ path: join(ARTIFACTS, "project-detected.png"), fullPage: true });
  });

  test("save_project's refusal is shown as what / why / fix and nothing is saved; what cannot even be sent is refused before the call", async () => {
    await open();
    await byId("project-path").fill(shop);
    await byId("project-detect").click();
    await byId("project-detected").waitFor({ timeout: 30_000 });
    await byId("project-replicas").fill("25");
    await byId("project-save").click();
    await byId("project-save-error").waitFor({ timeout: 20_000 });
    expect(await byId("project-save-error").getAttribute("role")).toBe("alert");
    expect(await byId("project-save-error-what").textContent()).toBe("Project settings are not valid");
    expect(await byId("project-save-error-why").textContent()).toBe("25 replicas per service");
    expect(await byId("project-save-error-fix").textContent()).toBe("Use 1 to 20 replicas");
    expect(await t.invoke("projects")).toEqual([]);
    await t.page.screenshot({ path: join(ARTIFACTS, "project-error.png"), fullPage: true });
    await byId("project-replicas").fill("many");
    await byId("project-save").click();
    await byId("project-save-error-why").filter({ hasText: "replicas: 'many' is not a whole number" }).waitFor();
    expect(await t.invoke("projects")).toEqual([]);
  });

  test("saves an edited test command and tests off for a service; the project is listed, opens on the Pipelines page, and loads back into the form", async () => {
    await open();
    await byId("project-path").fill(shop);
    await byId("project-detect").click();
    await byId("project-detected").waitFor({ timeout: 30_000 });
    await service("backend").getByTestId("service-test-command").fill("pytest -x 'tests/unit tests'");
    await service("frontend").getByTestId("service-tests").uncheck();
    expect(await service("frontend").getByTestId("service-no-tests").textContent()).toContain("no tests");
    await byId("project-replicas").fill("2");
    await byId("project-save").click();
    await byId("project-saved").waitFor({ timeout: 20_000 });
    const [saved] = await t.invoke<{ id: string; services: { name: string; testCommand: string[] | null; tests: boolean }[]; deploy: { replicas: number } }[]>("projects");
    expect(saved.id).toBe("shop");
    expect(saved.services.find((s) => s.name === "backend")!.testCommand).toEqual(["pytest", "-x", "tests/unit tests"]);
    expect(saved.services.find((s) => s.name === "frontend")!.tests).toBe(false);
    expect(saved.deploy.replicas).toBe(2);
    const row = t.page.locator('[data-testid="project-row"][data-project="shop"]');
    await row.waitFor();
    expect(await row.getByTestId("project-open-pipelines").getAttribute("href")).toBe("#/pipelines?project=shop");
    await t.page.screenshot({ path: join(ARTIFACTS, "project-saved.png") });

    await t.open("#/project");
    await t.page.locator('[data-testid="project-row"][data-project="shop"] [data-testid="project-edit"]').click();
    await expect.poll(() => byId("project-id").inputValue()).toBe("shop");
    expect(await byId("project-source").textContent()).toContain(shop);
    expect(await byId("project-replicas").inputValue()).toBe("2");

    await t.page.locator('[data-testid="project-row"][data-project="shop"] [data-testid="project-open-pipelines"]').click();
    await byId("runs-empty").waitFor({ timeout: 20_000 });
    expect(await byId("pipeline-project").inputValue()).toBe("shop");
  });

  test("a Git URL: cloned to detect (the id from the URL's last segment, the clone gone after), a service without a test command flagged", async () => {
    await open();
    await byId("project-source-git").check();
    const url = `file://${plain.dir}`;
    await byId("project-git-url").fill(url);
    await byId("project-detect").click();
    await byId("project-detected").waitFor({ timeout: 30_000 });
    expect(await byId("project-source").textContent()).toContain(url);
    expect(await byId("project-id").inputValue()).toBe(plain.dir.split("/").pop()!.toLowerCase());
    expect(await byId("service-test-command").inputValue()).toBe("");
    expect(await byId("service-no-test-command").textContent()).toContain("the Test stage will fail");
  });

  test("GitHub not connected: the watch form says so and links to Connect, the watches and the webhook secret are still there", async () => {
    await open();
    await byId("gh-watch-not-connected").waitFor({ timeout: 20_000 });
    expect(await byId("gh-watch-not-connected").textContent()).toContain("GitHub is not connected");
    expect(await byId("gh-watch-not-connected").getByRole("link").getAttribute("href")).toBe("#/connect");
    expect(await byId("gh-watch-start").count()).toBe(0);
    await byId("gh-watches").or(byId("gh-watches-empty")).first().waitFor();
    expect(await byId("gh-watch-row").count()).toBe(0);
    expect(await byId("gh-secret-reveal").count()).toBe(1);
  });

  test("the repository picker: the token's repositories a page at a time (newest push first, owner, private, description, default branch); the search waits for the typing to stop", async () => {
    await t.invoke("connect_github", { input: { token: TOKEN, baseUrl: github.url } });
    await open();
    await byId("gh-watch").waitFor();
    await expect.poll(() => byId("gh-repo-option").count(), { timeout: 20_000 }).toBe(50);
    expect((await options()).slice(0, 3)).toEqual(["octo-dev/sample-app", "harbor-works/shop-api", "harbor-works/infra"]);
    expect(new Set((await options()).map((r) => r!.split("/")[0]))).toEqual(new Set(["octo-dev", "harbor-works"]));
    const shopApi = byId("gh-repo-option").nth(1);
    expect(await shopApi.getByTestId("gh-repo-private").textContent()).toContain("private");
    expect(await shopApi.textContent()).toContain("Orders and payments API (Go)");
    expect(await shopApi.textContent()).toContain("trunk");
    expect(await byId("gh-repo-option").first().getByTestId("gh-repo-private").count()).toBe(0);
    await byId("gh-repo-more").click();
    await expect.poll(() => byId("gh-repo-option").count(), { timeout: 20_000 }).toBe(62);
    expect(new Set(await options()).size).toBe(62);
    expect(await byId("gh-repo-more").count()).toBe(0); // the last page

    // One search for a whole word: the list is read once more (every page, filtered).
    const before = repoListings().length;
    await byId("gh-repo-search").pressSequentially("terraform", { delay: 40 });
    await expect.poll(options, { timeout: 20_000 }).toEqual(["harbor-works/infra", "octo-dev/terraform-sandbox", "harbor-works/terraform-modules"]);
    expect(repoListings().length - before).toBe(1); // 62 repositories: one page of 100
    expect(await byId("gh-repo-more").count()).toBe(0);
    await byId("gh-repo-search").fill("zzz-nothing");
    await byId("gh-repo-empty").waitFor({ timeout: 20_000 });
    expect(await byId("gh-repo-empty").textContent()).toBe("No repository matches “zzz-nothing”.");
  });

  test("the picker by keyboard: arrows move, Enter picks (not while the results are stale), Escape clears; a picked repository's branches (the default chosen) and 10 newest commits", async () => {
    await open();
    const search = byId("gh-repo-search");
    await search.fill("shop");
    await expect.poll(options, { timeout: 20_000 }).toEqual(["octo-dev/sample-app", "harbor-works/shop-api", "harbor-works/web-storefront", "harbor-works/legacy-php-shop"]);
    expect(await byId("gh-repo-option").first().getAttribute("aria-selected")).toBe("true");
    for (const k of ["ArrowDown", "ArrowDown", "ArrowDown", "ArrowDown", "ArrowUp"]) await t.page.keyboard.press(k);
    expect(await byId("gh-repo-option").nth(2).getAttribute("aria-selected")).toBe("true");
    expect(await t.page.locator('[data-testid="gh-repo-option"][aria-selected="true"]').count()).toBe(1);
    expect(await search.getAttribute("aria-activedescendant")).toBe(await byId("gh-repo-option").nth(2).getAttribute("id"));
    await t.page.keyboard.press("Escape");
    expect(await search.inputValue()).toBe("");
    await search.fill("storefront");
    await t.page.keyboard.press("Enter"); // the results are for the old text: nothing is picked
    expect(await byId("gh-repo-picked").count()).toBe(0);
    await t.page.locator('[data-testid="gh-repo-results"][data-query="storefront"]').waitFor({ timeout: 20_000 });
    expect(await byId("gh-repo-results").getAttribute("aria-busy")).toBe("false");
    expect(await options()).toEqual(["harbor-works/web-storefront"]);
    await t.page.keyboard.press("Enter");
    await t.page.locator('[data-testid="gh-repo-picked"][data-repo="harbor-works/web-storefront"]').waitFor();

    await byId("gh-repo-change").click();
    await search.fill("shop-api");
    await expect.poll(options, { timeout: 20_000 }).toEqual(["harbor-works/shop-api"]);
    await byId("gh-repo-option").first().click();
    const branch = byId("gh-branch-select");
    await branch.waitFor({ timeout: 20_000 });
    expect(await branch.inputValue()).toBe("trunk");
    expect(await branch.locator("option").evaluateAll((os) => os.map((o) => o.getAttribute("value")))).toEqual(["trunk", "staging", "feat/refunds"]);
    await expect.poll(() => byId("gh-commit").count(), { timeout: 20_000 }).toBe(10);
    const first = byId("gh-commit").first();
    expect(await first.getByRole("link").getAttribute("href")).toBe(`https://github.com/harbor-works/shop-api/commit/${await first.getAttribute("data-sha")}`);
    expect(github.requests.some((r) => r.url === "/repos/harbor-works/shop-api/commits?sha=trunk&per_page=10")).toBe(true);
    const trunk = await first.getAttribute("data-sha");
    await branch.selectOption("staging");
    await expect.poll(() => byId("gh-commit").first().getAttribute("data-sha"), { timeout: 20_000 }).not.toBe(trunk);
    await t.page.getByText("Recent commits of staging").waitFor();
    await byId("gh-repo-change").click();
    await expect.poll(() => t.page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("gh-repo-search");
    expect(await byId("gh-branch-select").count()).toBe(0);
  });

  test("the picker fills a new project's Git URL with the repository's clone URL", async () => {
    await open();
    await byId("project-source-git").check();
    await byId("project-github-pick").click();
    const picker = byId("gh-repo-picker").first();
    await expect.poll(() => t.page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("gh-repo-search");
    await picker.getByTestId("gh-repo-search").fill("inventory");
    await expect.poll(() => picker.getByTestId("gh-repo-option").evaluateAll((els) => els.map((e) => e.getAttribute("data-repo"))), { timeout: 20_000 }).toEqual(["harbor-works/inventory"]);
    await t.page.keyboard.press("Enter");
    expect(await byId("project-git-url").inputValue()).toBe("https://github.com/harbor-works/inventory.git");
    expect(await byId("gh-repo-picker").count()).toBe(1); // closed again
  });

  test("a polling watch: started with the values chosen; a new commit starts a run, reported back as commit statuses; a revoked token stops it with its reason, shown without a reload; started again it replaces the stopped one", async () => {
    await open();
    await byId("gh-watch").waitFor();
    expect(await byId("gh-watch-project").inputValue()).toBe("shop");
    expect(await byId("gh-watch-start").isDisabled()).toBe(true); // no repository yet
    await byId("gh-watch").getByTestId("gh-repo-search").fill("sample-app");
    await t.page.locator('[data-testid="gh-repo-option"][data-repo="octo-dev/sample-app"]').click({ timeout: 20_000 });
    await byId("gh-branch-select").selectOption("develop");
    expect(await byId("gh-watch-every").inputValue()).toBe("30");
    expect(await byId("gh-watch-report").isChecked()).toBe(false);
    await byId("gh-watch-every").fill("3");
    await byId("gh-watch-start").click();
    expect(await byId("gh-watch-start-error-what").textContent()).toBe("Watch not started");
    expect(await byId("gh-watch-start-error-why").textContent()).toBe("a poll every 3 s is too often");
    expect(await byId("gh-watch-start-error-fix").textContent()).toContain("Use 5 seconds or more");
    expect(await t.invoke("github_watches")).toEqual([]);

    await byId("gh-watch-every").fill("5");
    await byId("gh-watch-report").check();
    await byId("gh-watch-link").fill("https://ci.example.com/slipway/");
    await byId("gh-watch-start").click();
    await byId("gh-watch-started").waitFor({ timeout: 20_000 });
    expect(await byId("gh-watch-started").textContent()).toContain("Watching octo-dev/sample-app develop.");
    const row = watchRow("octo-dev/sample-app", "develop");
    await row.waitFor();
    expect(await row.getAttribute("data-active")).toBe("true");
    expect(await row.textContent()).toContain("polls every 5 s");
    expect(await row.textContent()).toContain("reports commit statuses linking to https://ci.example.com/slipway/runs/…");
    await byId("gh-watch").scrollIntoViewIfNeeded();
    await t.page.screenshot({ path: join(ARTIFACTS, "github-watch.png"), fullPage: true });

    // A push: the next poll sees the new head and starts a run of the project at that commit.
    await new Promise((r) => setTimeout(r, 1000)); // the first poll records the head
    const sha = github.push("octo-dev/sample-app", "develop");
    await expect.poll(async () => (await t.invoke<Run[]>("runs", { project: "shop", limit: null })).find((r) => r.trigger.kind === "commit")?.trigger.sha, { timeout: 30_000 }).toBe(sha);
    // Reported on the commit: pending, then the run's end (this sha is not in the local repository, so Checkout fails).
    await expect.poll(() => github.statuses.filter((s) => s.sha === sha).map((s) => s.state), { timeout: 60_000 }).toEqual(["pending", expect.stringMatching(/^(failure|error)$/)]);
    expect(github.statuses[0].context).toBe("slipway");
    expect(github.statuses[0].target_url).toMatch(/^https:\/\/ci\.example\.com\/slipway\/runs\/shop-\d+$/);

    // The token is revoked while it polls: the watch stops, and the list shows it.
    github.revoke();
    try {
      await expect.poll(() => row.getAttribute("data-active"), { timeout: 30_000 }).toBe("false");
      expect(await row.getByTestId("gh-watch-state").textContent()).toContain("stopped");
      expect(await row.getByTestId("gh-watch-error").textContent()).toContain("Stopped: Could not read the branch: GitHub rejected the token (401 Bad credentials): it is wrong, revoked or expired.");
    } finally {
      github.restore();
    }
    // Started again (the same repository and branch): one watch, active.
    await byId("gh-watch-start").click();
    await expect.poll(() => row.getAttribute("data-active"), { timeout: 20_000 }).toBe("true");
    expect(await row.getByTestId("gh-watch-error").count()).toBe(0);
    expect(await byId("gh-watch-row").count()).toBe(1);
  });

  test("a webhook receiver: on a free port, a signed push starts a run, a forged one is refused; its port in use is refused for another watch; Stop stops and forgets it", async () => {
    await open();
    await byId("gh-watch").getByTestId("gh-repo-search").fill("shop-api");
    await t.page.locator('[data-testid="gh-repo-option"][data-repo="harbor-works/shop-api"]').click({ timeout: 20_000 });
    await byId("gh-branch-select").selectOption("staging");
    await byId("gh-watch-mode-webhook").check();
    await byId("gh-watch-start").click();
    await byId("gh-watch-started").waitFor({ timeout: 20_000 });
    const row = watchRow("harbor-works/shop-api", "staging");
    await row.waitFor();
    const address = (await row.getByTestId("gh-watch-address").textContent())!;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await byId("gh-watch-started").textContent()).toContain(`the webhook receiver listens at ${address}`);

    const secret = await t.invoke<string>("github_webhook_secret", { rotate: false });
    const body = JSON.stringify({ ref: "refs/heads/staging", after: "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c", repository: { full_name: "harbor-works/shop-api" }, pusher: { name: "octo-dev" } });
    const post = (signature: string, delivery: string) =>
      fetch(`http://${address}/`, { method: "POST", headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": delivery, "x-hub-signature-256": signature }, body });
    const forged = await post(`sha256=${createHmac("sha256", "not-the-secret").update(body).digest("hex")}`, "d-forged");
    expect(forged.status).toBeGreaterThanOrEqual(400);
    const ok = await post(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`, "d-1");
    expect(ok.status).toBe(202);
    await expect.poll(async () => (await t.invoke<Run[]>("runs", { project: "shop", limit: null })).some((r) => r.trigger.sha === "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c"), { timeout: 30_000 }).toBe(true);

    // Another watch on the same port: refused, naming the port.
    await byId("gh-branch-select").selectOption("trunk");
    await byId("gh-watch-port").fill(address.split(":")[1]);
    await byId("gh-watch-start").click();
    await byId("gh-watch-start-error").waitFor({ timeout: 20_000 });
    expect(await byId("gh-watch-start-error-what").textContent()).toBe("Webhook receiver not started");
    expect(await byId("gh-watch-start-error-why").textContent()).toContain("Address already in use");
    expect(await byId("gh-watch-start-error-fix").textContent()).toContain("Pick another port, or stop what uses this one");

    await row.getByTestId("gh-watch-stop").click();
    await row.waitFor({ state: "detached", timeout: 20_000 });
    expect((await t.invoke<Watch[]>("github_watches")).map((w) => w.setting.watch.branch)).toEqual(["develop"]);
    // Nothing listens there any more (a new connection is refused).
    const [host, port] = address.split(":");
    const { connect } = await import("node:net");
    const tcp = () => new Promise<string>((ok) => connect({ host, port: Number(port) }).once("connect", function (this: import("node:net").Socket) { this.destroy(); ok("open"); }).once("error", () => ok("closed")));
    await expect.poll(tcp, { timeout: 10_000 }).toBe("closed");
  });

  test("the webhook secret: hidden until Reveal, the same after Hide; Copy; Rotate asks first, then makes a new one", async () => {
    await t.page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: t.server.url });
    await open();
    await byId("gh-secret-reveal").waitFor();
    expect(await byId("gh-secret").count()).toBe(0);
    await byId("gh-secret-reveal").click();
    const shown = (await byId("gh-secret").textContent())!;
    expect(shown).toMatch(/^[0-9a-f]{64}$/);
    expect(shown).toBe(await t.invoke<string>("github_webhook_secret", { rotate: false }));
    await byId("gh-secret-copy").click();
    await byId("gh-secret-copied").waitFor();
    expect(await byId("gh-secret-copied").textContent()).toContain("Copied");
    expect(await t.page.evaluate(() => navigator.clipboard.readText())).toBe(shown);
    await byId("gh-secret-hide").click();
    expect(await byId("gh-secret").count()).toBe(0);
    await byId("gh-secret-reveal").click();
    expect(await byId("gh-secret").textContent()).toBe(shown);
    await byId("gh-secret-rotate").click();
    expect(await byId("gh-secret-rotate-box").textContent()).toContain("Make a new webhook secret?");
    await byId("gh-secret-rotate-cancel").click();
    await byId("gh-secret-rotate-box").waitFor({ state: "detached" });
    expect(await t.invoke<string>("github_webhook_secret", { rotate: false })).toBe(shown);
    await byId("gh-secret-rotate").click();
    await byId("gh-secret-rotate-confirm").click();
    await expect.poll(() => byId("gh-secret").textContent(), { timeout: 20_000 }).not.toBe(shown);
    expect(await byId("gh-secret").textContent()).toMatch(/^[0-9a-f]{64}$/);
    expect(await byId("gh-secret-rotated").textContent()).toContain("A new secret was made");
  });
});
