// The Deployments page's Configuration panel in Chromium against the real commands
// (slipway-ipc-bridge on a fresh data folder, the test environment's Secret Service): a
// repository whose .env gives a value and commits a password; the value set for the test
// environment only (all environments keep the repository's), a name that is not a variable
// refused with nothing changed, a secret typed once (kept in the keychain, never shown, not in
// the data folder), the committed password moved to the keychain after a confirmation (a
// cancel moves nothing), and an environment's own value removed again.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

import { afterAll, describe, expect, test } from "vitest";

import { ARTIFACTS, browserSuite, gitRepo, unique } from "./harness";

const PROJECT = unique("cfg");
const TYPED = `typed-once-${Math.random().toString(16).slice(2)}`;
const COMMITTED = "hunter2-committed";
const repo = gitRepo({
  "docker-compose.yml": "services:\n  api:\n    build: ./api\n    env_file: .env\n    ports:\n      - \"8080:8080\"\n",
  "api/Dockerfile": 'FROM busybox\nCMD ["httpd", "-f", "-p", "8080"]\n',
  ".env": `GREETING=Ahoy\nDB_PASSWORD=${COMMITTED}\n`,
});

const t = browserSuite({ name: "config" });
afterAll(() => repo.remove());

const byId = (id: string) => t.page.getByTestId(id);
const row = (name: string) => t.page.locator(`[data-testid="config-row"][data-name="${name}"]`);
type View = { environment: string; rows: { name: string; value: string | null; secret: boolean; from: string; committed: string | null; setHere: boolean }[] };
const view = (environment: string) => t.invoke<View>("env_config", { project: PROJECT, environment });

/** Every file of the data folder, as bytes read as latin1 (a secret must be in none of them). */
function dataFolderText(dir: string): string {
  let out = "";
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    out += statSync(p).isDirectory() ? dataFolderText(p) : readFileSync(p, "latin1");
  }
  return out;
}

async function open() {
  await t.open(`#/deployments?project=${PROJECT}`);
  await byId("config-table").waitFor({ timeout: 30_000 });
}

describe("Configuration per environment in Chromium (real commands, the keychain)", () => {
  test("the repository's values with their source, and its committed password flagged", async () => {
    const p = await t.invoke("detect_project", { input: { source: { kind: "path", path: repo.dir }, id: PROJECT } });
    await t.invoke("save_project", { project: p });
    await open();
    expect(await byId("config-env").inputValue()).toBe("all");
    expect(await byId("config-env").locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(["all", "test", "local"]);
    await expect.poll(() => row("GREETING").getByTestId("config-value").textContent()).toBe("Ahoy");
    expect(await row("GREETING").getByTestId("config-from").textContent()).toContain(".env line 1");
    expect(await row("DB_PASSWORD").getAttribute("data-secret")).toBe("true");
    expect(await byId("config-committed").textContent()).toContain(".env line 2");
    expect(await t.page.content()).not.toContain(COMMITTED);
    await byId("config-panel").screenshot({ path: join(ARTIFACTS, "config-panel.png") });
  });

  test("a value set for test only: test gets it, all environments keep the repository's", async () => {
    await open();
    await byId("config-env").selectOption("test");
    await expect.poll(() => byId("config-save").textContent()).toContain("test");
    await row("GREETING").getByTestId("config-edit").click();
    expect(await byId("config-name").inputValue()).toBe("GREETING");
    await byId("config-value-input").fill("Hello from test");
    await byId("config-save").click();
    await expect.poll(() => row("GREETING").getByTestId("config-value").textContent()).toBe("Hello from test");
    expect(await row("GREETING").getByTestId("config-from").textContent()).toBe("set for test");
    await byId("config-env").selectOption("all");
    await expect.poll(() => row("GREETING").getByTestId("config-value").textContent()).toBe("Ahoy");
    expect(await row("GREETING").getByTestId("config-unset").count()).toBe(0);
    expect((await view("all")).rows.find((r) => r.name === "GREETING")?.value).toBe("Ahoy");
  });

  test("a name that is not a variable is refused, and nothing changes", async () => {
    await open();
    const before = await view("all");
    await byId("config-name").fill("1 bad name");
    await byId("config-value-input").fill("x");
    await byId("config-save").click();
    await byId("config-error").waitFor({ timeout: 20_000 });
    expect(await byId("config-error-what").textContent()).toBe("Invalid setting name");
    expect(await byId("config-error-why").textContent()).toContain('"1 bad name" is not a variable name');
    expect(await view("all")).toEqual(before);
  });

  test("a secret typed once: kept in the keychain, never shown again, in no file of the data folder", async () => {
    await open();
    await byId("config-env").selectOption("test");
    await byId("config-name").fill("API_TOKEN");
    await byId("config-secret").check();
    expect(await byId("config-value-input").getAttribute("type")).toBe("password");
    await byId("config-value-input").fill(TYPED);
    await byId("config-save").click();
    await row("API_TOKEN").waitFor({ timeout: 20_000 });
    expect(await row("API_TOKEN").getAttribute("data-secret")).toBe("true");
    expect(await row("API_TOKEN").getByTestId("config-from").textContent()).toBe("set for test (keychain)");
    expect(await byId("config-value-input").inputValue()).toBe("");
    expect(await t.page.content()).not.toContain(TYPED);
    const r = (await view("test")).rows.find((x) => x.name === "API_TOKEN");
    expect(r).toMatchObject({ secret: true, value: null, setHere: true });
    expect(dataFolderText(t.bridge.dataDir)).not.toContain(TYPED);
  });

  test("the committed password moves to the keychain only after a confirmation", async () => {
    await open();
    await byId("config-move").click();
    await byId("config-move-no").click();
    expect((await view("all")).rows.find((r) => r.name === "DB_PASSWORD")?.committed).toContain(".env line 2");
    await byId("config-move").click();
    await byId("config-move-yes").click();
    await expect.poll(() => byId("config-moved").textContent(), { timeout: 20_000 }).toContain("DB_PASSWORD");
    await byId("config-committed").waitFor({ state: "detached" });
    expect(await row("DB_PASSWORD").getByTestId("config-from").textContent()).toBe("set for all environments (keychain)");
    expect(await t.page.content()).not.toContain(COMMITTED);
    expect(dataFolderText(t.bridge.dataDir)).not.toContain(COMMITTED);
    // Nothing left to move: said so.
    await expect(t.invoke("move_committed_secrets", { project: PROJECT })).resolves.toEqual([]);
  });

  test("removing test's own value brings back the repository's", async () => {
    await open();
    await byId("config-env").selectOption("test");
    await expect.poll(() => row("GREETING").getByTestId("config-value").textContent()).toBe("Hello from test");
    await row("GREETING").getByTestId("config-unset").click();
    await expect.poll(() => row("GREETING").getByTestId("config-value").textContent()).toBe("Ahoy");
    expect(await row("GREETING").getByTestId("config-unset").count()).toBe(0);
  });
});
