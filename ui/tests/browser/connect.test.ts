// The Connect page in Chromium against the real commands (slipway-ipc-bridge on a fresh data
// folder and HOME): AWS through the suite's own sandbox, a profile and access keys (both against
// the test environment's emulator), GitHub through the GitHub stand-in (a token, a bad one, a
// revoked one, the gh CLI's login), the container registry card against the test environment's
// registry (a password and a saved docker login), Docker and Kubernetes detected and checked
// again, and Jenkins through the Jenkins stand-in. Screenshots: tests/artifacts/ui/.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { startGithubStub, type GithubStub } from "../../../tests/stubs/github.mjs";
import { startJenkinsStub, VERSION as JENKINS_VERSION, type JenkinsStub } from "../../../tests/stubs/jenkins.mjs";
import { ARTIFACTS, browserSuite, need } from "./harness";

const GOOD = `ghp_${"c0nnect".repeat(5)}0`;
const JENKINS_TOKEN = "11f2a9c0e4b7d8a3c6e1f0b2a5d4c7e9f8";
const REGISTRY = need("SLIPWAY_TEST_REGISTRY");
const REGISTRY_USER = need("SLIPWAY_TEST_REGISTRY_USER");
const REGISTRY_PASSWORD = need("SLIPWAY_TEST_REGISTRY_PASSWORD");
const MOTO = need("SLIPWAY_TEST_MOTO_URL");

let github: GithubStub;
let jenkins: JenkinsStub;
beforeAll(async () => {
  github = await startGithubStub({ goodToken: GOOD, login: "octo-dev" });
  jenkins = await startJenkinsStub({ user: "dev", token: JENKINS_TOKEN });
});
afterAll(async () => {
  await github?.close();
  await jenkins?.close();
});

const t = browserSuite({
  name: "connect",
  home: () => ({
    // Profiles of every kind; "default" has static keys and points at the test emulator through
    // the config file's endpoint_url, so the app believes it is AWS itself.
    ".aws/config": [
      "[default]",
      "region = eu-west-1",
      `endpoint_url = ${MOTO}`,
      "",
      "[profile work-sso]",
      "sso_session = corp",
      "sso_account_id = 210987654321",
      "sso_role_name = Admin",
      "",
      "[sso-session corp]",
      "sso_start_url = https://corp.awsapps.com/start",
      "sso_region = eu-west-1",
      "",
      "[profile ci-proc]",
      "credential_process = /bin/false",
      "",
      "[profile admin]",
      "role_arn = arn:aws:iam::210987654321:role/admin",
      "source_profile = default",
      "",
    ].join("\n"),
    ".aws/credentials": "[default]\naws_access_key_id = AKIAPROFILEDEFAULT01\naws_secret_access_key = profile-secret-0001\n",
    // A saved docker login for the test registry.
    ".docker/config.json": JSON.stringify({ auths: { [REGISTRY]: { auth: Buffer.from(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`).toString("base64") } } }),
    // The gh CLI, logged in to the GitHub stand-in's host.
    "bin/gh": `#!/bin/sh\n# gh auth token --hostname HOST: the token of the stand-in's host.\nif [ "$1 $2 $3" = "auth token --hostname" ] && [ "$4" = "127.0.0.1" ]; then echo ${GOOD}; exit 0; fi\necho "no oauth token found for $4" >&2\nexit 1\n`,
  }),
});
const byId = (id: string) => t.page.getByTestId(id);
const state = (kind: string) => byId(`${kind}-state`).getAttribute("data-state");

/** The suite's sandbox, from its pid file (<data dir>/sandbox/moto.json). */
function sandboxEndpoint(): string {
  const { port } = JSON.parse(readFileSync(join(t.bridge.dataDir, "sandbox/moto.json"), "utf8")) as { port: number };
  return `http://127.0.0.1:${port}`;
}

describe("Connect page in Chromium (real commands)", () => {
  test("AWS on the sandbox: account, ARN and endpoint, the status bar, then the region switched from the account's list", async () => {
    await t.open();
    // This HOME has profiles, so the card offers a profile first.
    expect(await byId("connect-aws-profile").isChecked()).toBe(true);
    await byId("connect-aws-sandbox").check();
    await byId("aws-submit").click();
    await expect.poll(() => state("aws"), { timeout: 45_000 }).toBe("connected");
    const endpoint = sandboxEndpoint();
    expect(await byId("aws-account").textContent()).toBe("123456789012");
    expect(await byId("aws-arn").textContent()).toMatch(/^arn:aws:/);
    expect(await byId("aws-endpoint").textContent()).toBe(endpoint);
    expect(await byId("aws-source").textContent()).toMatch(/sandbox/i);
    await expect.poll(() => byId("sandbox-badge").getAttribute("data-status")).toBe("running");
    expect(await byId("sandbox-badge").textContent()).toContain(endpoint);
    expect(await byId("status-aws-endpoint").textContent()).toContain(endpoint);
    expect(await byId("aws-error").count()).toBe(0);

    // The regions come from the account (DescribeRegions); picking one calls set_aws_region.
    const select = byId("aws-region-select");
    await select.waitFor({ timeout: 20_000 });
    const regions = await select.locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(regions).toContain("eu-west-2");
    await select.selectOption("eu-west-2");
    await byId("aws-region").filter({ hasText: "eu-west-2" }).waitFor({ timeout: 20_000 });
    expect(await state("aws")).toBe("connected");
    await t.page.screenshot({ path: join(ARTIFACTS, "connect-aws-sandbox.png") });
  });

  test("AWS profiles show their kind; a profile on AWS itself hides the endpoint from the status bar", async () => {
    await t.open();
    await byId("connect-aws-profile").check();
    const options = (await byId("aws-profile-select").locator("option").allTextContents()).join("|");
    for (const kind of ["static keys", "SSO", "credential process", "assume role"]) expect(options).toContain(kind);
    await byId("aws-profile-select").selectOption("work-sso");
    expect(await byId("aws-profile-kind").textContent()).toContain("SSO");

    await byId("aws-profile-select").selectOption("default");
    expect(await byId("status-aws-endpoint").count()).toBe(1); // still the sandbox
    await byId("aws-submit").click();
    await byId("aws-source").filter({ hasText: "default" }).waitFor({ timeout: 30_000 });
    expect(await state("aws")).toBe("connected");
    expect(await byId("aws-region").textContent()).toBe("eu-west-1"); // the profile's region
    expect(await byId("aws-endpoint").textContent()).toBe("AWS (public endpoints)");
    await expect.poll(() => byId("status-aws-endpoint").count()).toBe(0);
  });

  test("access keys: the secret key and the session token are sent once, cleared, and never shown; the key id stays", async () => {
    await t.open();
    await byId("connect-aws-static").check();
    await byId("aws-access-key-id").fill("AKIAEXAMPLEKEY123456");
    await byId("aws-secret-access-key").fill("secret-access-key-1");
    await byId("aws-session-token").fill("session-token-1");
    await byId("aws-endpoint-input").fill(MOTO);
    await byId("aws-submit").click();
    await byId("aws-source").filter({ hasText: "AKIAEXAMPLEKEY123456" }).waitFor({ timeout: 30_000 });
    expect(await byId("aws-endpoint").textContent()).toBe(MOTO);
    expect(await byId("aws-secret-access-key").inputValue()).toBe("");
    expect(await byId("aws-session-token").inputValue()).toBe("");
    expect(await byId("aws-access-key-id").inputValue()).toBe("AKIAEXAMPLEKEY123456");
    const html = await t.page.content();
    for (const s of ["secret-access-key-1", "session-token-1"]) expect(html).not.toContain(s);
  });

  test("GitHub: a bad token shows what / why / fix and is cleared; a check in progress shows; a good one connects", async () => {
    await t.open();
    await byId("github-base-url").fill(github.url);
    await byId("github-token").fill("ghp_thisisnotavalidtoken000000000000000");
    await byId("github-submit").click();
    const error = byId("github-error");
    await error.waitFor({ timeout: 20_000 });
    expect(await error.getAttribute("role")).toBe("alert");
    expect(await byId("github-error-what").textContent()).toBe("GitHub token check failed");
    expect(await byId("github-error-why").textContent()).toMatch(/401 Bad credentials/);
    expect(await byId("github-error-fix").textContent()).toMatch(/token/);
    expect(await error.textContent()).toContain("What to do");
    expect(await byId("github-token").inputValue()).toBe("");
    // A refused first sign-in stores nothing: the card stays not configured, with the error.
    expect(await state("github")).toBe("notConfigured");
    await t.page.screenshot({ path: join(ARTIFACTS, "connect-github-error.png") });

    // GitHub takes its time to answer: the button says so and the card is busy.
    github.knobs.userDelayMs = 1500;
    await byId("github-token").fill(GOOD);
    await byId("github-submit").click();
    await expect.poll(() => byId("github-submit").isDisabled()).toBe(true);
    expect(await state("github")).toBe("checking");
    expect(await byId("card-github").getAttribute("aria-busy")).toBe("true");
    await byId("github-login").filter({ hasText: "octo-dev" }).waitFor({ timeout: 20_000 });
    github.knobs.userDelayMs = 0;
    expect(await state("github")).toBe("connected");
    expect(await byId("github-scopes").textContent()).toMatch(/repo.*workflow/);
    expect(await byId("github-api-url").textContent()).toBe(github.url);
    expect(await byId("github-token").inputValue()).toBe("");
    expect(await t.page.content()).not.toContain(GOOD);
    expect(github.requests.filter((r) => r.url === "/user").map((r) => r.auth.endsWith(GOOD))).toContain(true);
  });

  test("GitHub: a failed check keeps the last good identity (a bad token submitted, then the token revoked)", async () => {
    await t.open();
    await byId("github-login").filter({ hasText: "octo-dev" }).waitFor();
    await byId("github-token").fill("ghp_anotherbadtoken0000000000000000000");
    await byId("github-submit").click();
    await byId("github-error").waitFor({ timeout: 20_000 });
    expect(await byId("github-login").textContent()).toContain("octo-dev");

    // Revoked on GitHub: Check again fails, the last confirmed identity stays beside the error.
    github.revoke();
    try {
      await byId("github-check").click();
      await expect.poll(() => state("github"), { timeout: 20_000 }).toBe("failed");
      expect(await byId("github-error-why").textContent()).toMatch(/401/);
      expect(await byId("github-identity").textContent()).toContain("Last confirmed identity");
      expect(await byId("github-login").textContent()).toContain("octo-dev");
    } finally {
      github.restore();
    }
    await byId("github-check").click();
    await expect.poll(() => state("github"), { timeout: 20_000 }).toBe("connected");
    await byId("github-disconnect").click();
    await expect.poll(() => state("github")).toBe("notConfigured");
  });

  test("GitHub: the gh CLI's login is offered for the host typed, and connects with no token sent", async () => {
    await t.open();
    await byId("github-base-url").fill(github.url);
    await byId("github-base-url").blur();
    await expect.poll(() => byId("github-mode-cli").isEnabled(), { timeout: 20_000 }).toBe(true);
    expect(await byId("github-cli-availability").textContent()).toBe("Found a gh login for this host.");
    await byId("github-mode-cli").check();
    expect(await byId("github-token").count()).toBe(0);
    await byId("github-submit").click();
    await byId("github-login").filter({ hasText: "octo-dev" }).waitFor({ timeout: 20_000 });
    expect(await state("github")).toBe("connected");
  });

  test("the registry card: a wrong password refused and cleared, the right one kept in the keychain, a saved docker login, check again and disconnect", async () => {
    await t.open();
    await byId("card-registry").scrollIntoViewIfNeeded();
    await byId("registry-url").fill(REGISTRY);
    await byId("registry-username").fill(REGISTRY_USER);
    await byId("registry-password").fill("not-the-password");
    await byId("registry-submit").click();
    await byId("registry-error").waitFor({ timeout: 20_000 });
    expect(await byId("registry-error-what").textContent()).toBe("Registry login failed");
    expect(await byId("registry-error-why").textContent()).toContain(`${REGISTRY} refused the username or password`);
    expect(await byId("registry-password").inputValue()).toBe(""); // cleared on failure too
    expect(await byId("registry-username").inputValue()).toBe(REGISTRY_USER);
    expect(await state("registry")).toBe("notConfigured"); // nothing stored
    await byId("card-registry").screenshot({ path: join(ARTIFACTS, "connect-registry-refused.png") });

    await byId("registry-password").fill(REGISTRY_PASSWORD);
    await byId("registry-submit").click();
    await byId("registry-user").waitFor({ timeout: 20_000 });
    expect(await byId("registry-user").textContent()).toBe(`${REGISTRY_USER}@${REGISTRY}`);
    expect(await byId("registry-source").textContent()).toBe("stored in the OS keychain");
    expect(await byId("registry-error").count()).toBe(0);
    expect(await t.page.content()).not.toContain(REGISTRY_PASSWORD);

    // The login saved in ~/.docker/config.json: no password typed or sent.
    await expect.poll(() => byId("registry-mode-docker-config").isEnabled()).toBe(true);
    await byId("registry-mode-docker-config").check();
    expect(await byId("registry-config-entry").locator("option").allTextContents()).toEqual([`${REGISTRY_USER}@${REGISTRY}`]);
    await byId("registry-submit").click();
    await byId("registry-source").filter({ hasText: "from ~/.docker/config.json" }).waitFor({ timeout: 20_000 });
    expect(await byId("registry-user").textContent()).toBe(`${REGISTRY_USER}@${REGISTRY}`);

    // The check runs (the card says "checking"), then ends connected with its time.
    await byId("registry-check").click();
    await expect.poll(() => state("registry"), { timeout: 20_000 }).toBe("connected");
    await expect.poll(() => byId("registry-checked-at").textContent(), { timeout: 20_000 }).toBeTruthy();
    await byId("registry-disconnect").click();
    await expect.poll(() => state("registry")).toBe("notConfigured");
    expect(await byId("registry-user").count()).toBe(0);
  });

  test("Docker is detected; Kubernetes is checked again on request and found once a kubeconfig exists", async () => {
    await t.open();
    await expect.poll(() => state("docker"), { timeout: 20_000 }).toBe("connected");
    expect(await byId("docker-version").textContent()).toContain("20.10");
    expect(await byId("docker-host").textContent()).toContain(need("DOCKER_HOST"));
    // This HOME has no kubeconfig yet.
    await expect.poll(() => state("kubernetes"), { timeout: 20_000 }).toBe("failed");
    await byId("kubernetes-check").click();
    await byId("kubernetes-error").waitFor();
    const { mkdirSync, copyFileSync } = await import("node:fs");
    mkdirSync(join(t.bridge.home, ".kube"), { recursive: true });
    copyFileSync(need("SLIPWAY_TEST_KUBECONFIG"), join(t.bridge.home, ".kube/config"));
    await byId("kubernetes-check").click();
    await byId("kubernetes-context").filter({ hasText: need("SLIPWAY_TEST_K8S_CONTEXT") }).waitFor({ timeout: 30_000 });
    expect(await byId("kubernetes-error").count()).toBe(0);
    expect(await byId("kubernetes-version").textContent()).toMatch(/^v1\.20/);
    // Connected: AWS, GitHub (through the gh CLI), Docker and Kubernetes; the registry was disconnected above.
    expect(await byId("nav-connect-count").textContent()).toBe("4/5");
  });

  test("Jenkins: refusals named (401, unreachable, 403, a bad address) with the token emptied each time, the last good connection kept; saved on load; Disconnect forgets it", async () => {
    await t.open();
    await byId("card-jenkins").scrollIntoViewIfNeeded();
    expect(await byId("jenkins-state").getAttribute("data-state")).toBe("notConfigured");
    expect(await byId("jenkins-connection").count()).toBe(0);
    expect(await byId("jenkins-submit").isDisabled()).toBe(true);
    expect(await byId("jenkins-token").getAttribute("type")).toBe("password");
    const connect = async (url: string, user: string, token: string) => {
      await byId("jenkins-url").fill(url);
      await byId("jenkins-user").fill(user);
      await byId("jenkins-token").fill(token);
      await byId("jenkins-submit").click();
      await expect.poll(() => byId("jenkins-submit").textContent(), { timeout: 20_000 }).not.toMatch(/Checking/);
    };

    await connect(jenkins.url, "dev", "revoked-token-1");
    await byId("jenkins-error").waitFor();
    expect(await byId("jenkins-error").getAttribute("role")).toBe("alert");
    expect(await byId("jenkins-error-what").textContent()).toBe("Jenkins check failed");
    expect(await byId("jenkins-error-why").textContent()).toBe("Jenkins rejected the user or API token (401 Error 401 Unauthorized)");
    expect(await byId("jenkins-error-fix").textContent()).toContain("create a new API token in Jenkins");
    expect(await byId("jenkins-token").inputValue()).toBe("");
    expect(await byId("jenkins-state").getAttribute("data-state")).toBe("failed");
    expect(await byId("jenkins-connection").count()).toBe(0);

    await connect(`${jenkins.url}/`, "dev", JENKINS_TOKEN);
    await expect.poll(() => byId("jenkins-state").getAttribute("data-state")).toBe("connected");
    expect(await byId("jenkins-token").inputValue()).toBe("");
    expect(await byId("jenkins-server-url").textContent()).toBe(jenkins.url); // normalized: no trailing /
    expect(await byId("jenkins-server-user").textContent()).toBe("dev");
    expect(await byId("jenkins-version").textContent()).toContain(JENKINS_VERSION);
    expect(await byId("jenkins-job-count").textContent()).toContain("4 jobs");
    expect(await byId("jenkins-error").count()).toBe(0);
    await byId("card-jenkins").screenshot({ path: join(ARTIFACTS, "connect-jenkins.png") });

    // Failures from here on keep the good connection.
    const closed = "http://127.0.0.1:1";
    await connect(closed, "dev", JENKINS_TOKEN);
    expect(await byId("jenkins-error-why").textContent()).toContain(`cannot reach ${closed}`);
    expect(await byId("jenkins-error-why").textContent()).toContain("Connection refused");
    expect(await byId("jenkins-error-fix").textContent()).toContain("Check the Jenkins address and your network");
    expect(await byId("jenkins-token").inputValue()).toBe("");
    expect(await byId("jenkins-state").getAttribute("data-state")).toBe("failed");
    expect(await byId("jenkins-connection").textContent()).toContain("Last good connection");
    expect(await byId("jenkins-server-url").textContent()).toBe(jenkins.url);

    await connect(jenkins.url, "viewer", `${JENKINS_TOKEN}-viewer`);
    expect(await byId("jenkins-error-why").textContent()).toBe("Jenkins refused access to the server (403 Error 403 Access Denied)");
    expect(await byId("jenkins-error-fix").textContent()).toContain("Job/Read");
    expect(await byId("jenkins-server-user").textContent()).toBe("dev");

    await connect("ci.example.com", "dev", JENKINS_TOKEN);
    expect(await byId("jenkins-error-what").textContent()).toBe("Jenkins address not valid");
    expect(await byId("jenkins-error-why").textContent()).toBe("'ci.example.com' is not an http(s) URL");
    expect(await byId("jenkins-token").inputValue()).toBe("");
    const html = await t.page.content();
    for (const s of ["revoked-token-1", JENKINS_TOKEN]) expect(html).not.toContain(s);

    // Opened again: the saved address and user, no token, no version (nothing asked of Jenkins).
    await t.open();
    await byId("jenkins-server-url").filter({ hasText: jenkins.url }).waitFor();
    expect(await byId("jenkins-server-user").textContent()).toBe("dev");
    expect(await byId("jenkins-state").getAttribute("data-state")).toBe("connected");
    expect(await byId("jenkins-url").inputValue()).toBe(jenkins.url);
    expect(await byId("jenkins-token").inputValue()).toBe("");
    expect(await byId("jenkins-version").count()).toBe(0);
    await byId("jenkins-disconnect").click();
    await expect.poll(() => byId("jenkins-connection").count()).toBe(0);
    expect(await byId("jenkins-state").getAttribute("data-state")).toBe("notConfigured");
    expect(await byId("jenkins-disconnect").count()).toBe(0);
    expect(await t.invoke("jenkins_connection")).toBeNull();
  });

  test("works in a 960x600 window", async () => {
    await t.page.setViewportSize({ width: 960, height: 600 });
    await t.open();
    await byId("aws-account").waitFor();
    expect(await t.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await t.page.screenshot({ path: join(ARTIFACTS, "connect-960x600.png") });
  });
});
