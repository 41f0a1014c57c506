// Jenkins and exports in Chromium against the mock backend (dist-mock/): connect Jenkins on the
// Connect page, open Pipelines > Jenkins, open the running Pipeline build and watch a stage go
// from in progress to success while the console grows; export the architecture as Terraform from
// the Architecture page. Screenshots: tests/artifacts/ui/.
import { join } from "node:path";

import { describe, expect, test } from "vitest";

import { ARTIFACTS, browserSuite } from "./harness";

const t = browserSuite();
const byId = (id: string) => t.page.getByTestId(id);
const sel = (testId: string, attr: string, value: string) => t.page.locator(`[data-testid="${testId}"][${attr}="${value}"]`);
const mockCalls = (cmd: string) => t.page.evaluate((c) => (window as any).__slipwayMock.calls.filter((x: any) => x.cmd === c).map((x: any) => x.args), cmd);
const TOKEN = "11f2a9c0e4b7d8a3c6e1f0b2a5d4c7e9f8";

describe("Jenkins and exports in Chromium (mock backend)", () => {
  test("connect Jenkins, then watch the running build's stage view and console live", async () => {
    await t.page.goto(`${t.server.url}?delay=0#/connect`);
    await byId("nav-connect-count").waitFor();
    await byId("jenkins-url").fill("https://ci.example.com/");
    await byId("jenkins-user").fill("dev");
    await byId("jenkins-token").fill(TOKEN);
    await byId("jenkins-submit").click();
    await byId("jenkins-version").waitFor();
    expect(await byId("jenkins-state").getAttribute("data-state")).toBe("connected");
    expect(await byId("jenkins-server-url").textContent()).toBe("https://ci.example.com");
    expect(await byId("jenkins-job-count").textContent()).toContain("4 jobs");
    expect(await byId("jenkins-token").inputValue()).toBe("");
    expect(await t.page.content()).not.toContain(TOKEN);
    await byId("card-jenkins").scrollIntoViewIfNeeded();
    await byId("card-jenkins").screenshot({ path: join(ARTIFACTS, "connect-jenkins.png") });

    await byId("nav-pipelines").click();
    await byId("pipelines-source-jenkins").click();
    const app = sel("jenkins-job", "data-job", "sample-app");
    await app.waitFor();
    expect(await app.getAttribute("data-building")).toBe("true");
    // A running build whose stages each take 4 s.
    await t.page.evaluate(() => ((window as any).__slipwayMock.jenkins.stageMs = 4000));
    await app.click();
    await sel("jenkins-build-detail", "data-build", "12").waitFor();
    const build = sel("jenkins-stage", "data-stage", "Build");
    await build.waitFor();
    expect(await build.getAttribute("data-status")).toBe("in-progress");
    expect(await sel("jenkins-stage", "data-stage", "Checkout").getAttribute("data-status")).toBe("success");
    const console = byId("jenkins-console");
    await expect.poll(async () => Number(await console.getAttribute("data-bytes"))).toBeGreaterThan(0);
    const before = Number(await console.getAttribute("data-bytes"));
    await t.page.screenshot({ path: join(ARTIFACTS, "jenkins-build-running.png"), fullPage: true });

    // The stage view is read again while the build goes on: Build turns to success, Test starts.
    await expect.poll(() => build.getAttribute("data-status"), { timeout: 15_000 }).toBe("success");
    await expect.poll(() => sel("jenkins-stage", "data-stage", "Test").getAttribute("data-status"), { timeout: 10_000 }).toBe("in-progress");
    await expect.poll(async () => Number(await console.getAttribute("data-bytes"))).toBeGreaterThan(before);
    expect(await console.textContent()).toContain("[Pipeline] { (Test)");
    expect(await console.getAttribute("data-following")).toBe("true");
    expect((await mockCalls("follow_jenkins_log"))[0]).toEqual(expect.objectContaining({ job: "sample-app", number: 12, offset: 0 }));
    expect((await mockCalls("jenkins_stages")).length).toBeGreaterThan(1);
    await t.page.screenshot({ path: join(ARTIFACTS, "jenkins-build-live.png"), fullPage: true });
  });

  test("export the architecture as Terraform from the Architecture page", async () => {
    await t.page.goto(`${t.server.url}?delay=0#/architecture`);
    await byId("arch-node-vpc").waitFor();
    await byId("export-open").click();
    await byId("export-dialog").waitFor();
    expect(await byId("export-kind").inputValue()).toBe("terraform");
    await byId("export-submit").click();
    await byId("export-result").waitFor();
    const files = await t.page.locator('[data-testid="export-file-tab"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-path")));
    expect(files).toEqual(["main.tf", "variables.tf", "outputs.tf"]);
    const main = (await byId("export-file-content").textContent())!;
    expect(main).toContain('resource "aws_vpc" "vpc" {');
    expect(main).toContain('resource "aws_eks_cluster" "eks" {');
    expect(await byId("export-note").first().textContent()).toContain("No blueprint is saved for project slipway");
    expect(await mockCalls("export")).toEqual([{ kind: "terraform", project: "slipway", environment: null }]);
    await t.page.screenshot({ path: join(ARTIFACTS, "export-terraform.png") });
    await t.page.keyboard.press("Escape");
    await byId("export-dialog").waitFor({ state: "detached" });
  });
});
