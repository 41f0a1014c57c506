// The Architecture page and the export dialog in Chromium against the real commands
// (slipway-ipc-bridge on a fresh data folder) and the suite's own sandbox emulator: a plan
// refused before AWS is connected, the blueprint drawn, a plan with its costs, an apply with live
// progress, a saved change planned as an update, drift found by Refresh after the cloud was
// changed behind Slipway's back, progress of work started elsewhere, a refused blueprint,
// destroy behind its confirmation; and the exports (Terraform, Kubernetes YAML, a Jenkinsfile, a
// GitHub Actions workflow) from the pages that offer them. Screenshots: tests/artifacts/ui/.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, describe, expect, test } from "vitest";

import { webProject } from "./fixtures";
import { ARTIFACTS, browserSuite, gitRepo, need, unique } from "./harness";

const t = browserSuite({ name: "architecture" });
const byId = (id: string) => t.page.getByTestId(id);
const PROJECT = unique("exp");
const FIXTURE = JSON.parse(readFileSync(new URL("../../src/bindings/fixtures/default-blueprint.json", import.meta.url), "utf8")) as { resources: unknown[]; allResources: unknown[] };
/** The default blueprint's resources (written by crates/core/tests/ui_fixtures.rs): no VM. */
const RESOURCES = FIXTURE.resources.length;
/** With the opt-in CI and test VMs turned on (on the page, in the Plan test), as from then on. */
const ALL = FIXTURE.allResources.length;
const repo = gitRepo(webProject());
afterAll(() => repo.remove());

/** The suite's sandbox endpoint, from its pid file. */
const sandbox = () => `http://127.0.0.1:${(JSON.parse(readFileSync(join(t.bridge.dataDir, "sandbox/moto.json"), "utf8")) as { port: number }).port}`;

/**
 * One EC2 call straight to the sandbox emulator (which reads the region from the credential
 * scope and checks no signature): a change made behind Slipway's back.
 */
async function ec2(params: Record<string, string>) {
  const res = await fetch(sandbox(), {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: "AWS4-HMAC-SHA256 Credential=slipway-sandbox/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0",
    },
    body: new URLSearchParams({ Version: "2016-11-15", ...params }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`EC2 ${params.Action}: ${res.status} ${text}`);
  return text;
}

async function open() {
  await t.open("#/architecture");
  await byId("architecture-diagram").waitFor({ timeout: 30_000 });
  await byId("arch-node-nodes").waitFor();
}

describe("Architecture page and exports in Chromium (real commands, the sandbox)", () => {
  test("the blueprint drawn: one node per resource, kind and name, nothing created yet; Plan before AWS is connected is refused in arch-error", async () => {
    await open();
    expect(await t.page.locator('[data-testid^="arch-node-"]').count()).toBe(RESOURCES);
    expect(await byId("arch-node-eks").textContent()).toContain("EKS cluster slipway-eks");
    expect(await byId("arch-node-db-live").textContent()).toContain("MySQL slipway-live");
    expect(await byId("arch-node-vpc").getAttribute("data-phase")).toBe("none");
    expect(await t.page.locator(".react-flow__edge").count()).toBeGreaterThan(20);
    // No pipeline project yet: the default blueprint, named slipway, and a way to add one.
    expect(await byId("arch-no-project").textContent()).toContain("the default blueprint (slipway)");
    expect(await byId("bp-azs").inputValue()).toBe("us-east-1a, us-east-1b");
    // The opt-in VMs: off, not drawn, each with its purpose beside its checkbox.
    expect(await byId("bp-ciVm").isChecked()).toBe(false);
    expect(await byId("bp-testVm").isChecked()).toBe(false);
    expect(await byId("bp-help-ciVm").textContent()).toContain("Jenkins");
    expect(await byId("bp-help-testVm").textContent()).toContain("test database");
    expect(await byId("arch-node-vm-ci").count()).toBe(0);
    expect(await byId("arch-node-keypair").count()).toBe(0);
    await byId("arch-plan").click();
    await byId("arch-error").waitFor({ timeout: 20_000 });
    expect(await byId("arch-error-what").textContent()).toBeTruthy();
    expect(await byId("arch-error-why").textContent()).toMatch(/AWS/);
    expect(await byId("arch-error-fix").textContent()).toMatch(/Connect/i);
  });

  test("Export from the Architecture page: the blueprint as Terraform, three files as tabs, the note, Download per file; focus stays in the dialog; Escape closes", async () => {
    await open();
    await byId("export-open").click();
    const dialog = byId("export-dialog");
    await dialog.waitFor();
    expect(await dialog.getAttribute("role")).toBe("dialog");
    expect(await dialog.getAttribute("aria-modal")).toBe("true");
    expect(await t.page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("export-kind");
    expect(await byId("export-kind").inputValue()).toBe("terraform");
    expect(await byId("export-project").inputValue()).toBe("slipway");
    expect(await byId("export-env").count()).toBe(0); // Terraform has no environment
    await byId("export-submit").click();
    await byId("export-result").waitFor({ timeout: 20_000 });
    expect(await byId("export-file-tab").evaluateAll((els) => els.map((e) => e.getAttribute("data-path")))).toEqual(["main.tf", "variables.tf", "outputs.tf"]);
    expect(await t.page.locator('[data-testid="export-file-tab"][data-path="main.tf"]').getAttribute("aria-selected")).toBe("true");
    const main = (await byId("export-file-content").textContent())!;
    // Every resource of the blueprint (the diagram's nodes) is in it, by its Slipway tag.
    const ids = await t.page.locator('[data-testid^="arch-node-"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-testid")!.replace("arch-node-", "")));
    expect(ids).toHaveLength(RESOURCES);
    // Tags are aligned as `terraform fmt` does (the subnets carry the load balancer tags too).
    const tagged = (id: string) => new RegExp(`"slipway:resource"\\s+= "${id}"`);
    for (const id of ids) expect(main, id).toMatch(tagged(id));
    expect(main).toContain('resource "aws_vpc" "vpc" {');
    expect(main).toContain('resource "aws_eks_cluster" "eks" {');
    expect(main).toMatch(/"kubernetes\.io\/role\/elb"\s+= "1"/);
    expect(await byId("export-note").allTextContents()).toEqual([
      "No blueprint is saved for project slipway: these are the default values (edit them with `slipway blueprint --set` or on the Architecture page)",
    ]);
    await t.page.locator('[data-testid="export-file-tab"][data-path="variables.tf"]').click();
    expect(await byId("export-file-content").getAttribute("data-path")).toBe("variables.tf");
    const vars = (await byId("export-file-content").textContent())!;
    expect(vars).toContain('variable "vpc_cidr"');
    expect(vars).toContain("sensitive   = true");
    const download = t.page.waitForEvent("download");
    await byId("export-download").click();
    const d = await download;
    expect(d.suggestedFilename()).toBe("variables.tf");
    expect(readFileSync((await d.path())!, "utf8")).toBe(vars);
    await t.page.screenshot({ path: join(ARTIFACTS, "export-terraform.png") });
    // Tab from the last control comes back into the dialog.
    await byId("export-file-content").focus();
    await t.page.keyboard.press("Tab");
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
    await t.page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    expect(await t.page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("export-open");
  });

  test("Plan: every resource created with their monthly costs, the total, and the price table's date and region", async () => {
    await t.invoke("connect_aws", { input: { source: "sandbox", region: null } });
    await open();
    await byId("arch-plan").click();
    await byId("plan-table").waitFor({ timeout: 30_000 });
    expect(await t.page.locator('[data-testid^="plan-row-"][data-action="create"]').count()).toBe(RESOURCES);
    expect(await byId("plan-summary").textContent()).toBe(`${RESOURCES} to create`);
    expect(await byId("plan-row-eks").textContent()).toContain("$73.00");
    expect(await byId("plan-total").textContent()).toMatch(/^\$[\d,]+\.\d\d$/);
    expect(await byId("plan-prices").textContent()).toMatch(/us-east-1 \(USD\)/);
    expect(await byId("plan-optin-ciVm").getAttribute("data-enabled")).toBe("false");
    expect(await byId("plan-optin-ciVm").textContent()).toContain("Jenkins");
    const money = async (id: string) => Number((await byId(id).textContent())!.replace(/[^\d.]/g, ""));
    const without = await money("plan-total");

    // Both VMs turned on on the page: saved, drawn, planned with their cost.
    await byId("bp-ciVm").check();
    await byId("bp-testVm").check();
    await byId("bp-save").click();
    await byId("bp-saved").waitFor({ timeout: 20_000 });
    expect(await t.invoke<{ ciVm: boolean; testVm: boolean }>("get_blueprint", { project: null })).toMatchObject({ ciVm: true, testVm: true });
    await byId("arch-node-vm-ci").waitFor({ timeout: 20_000 });
    expect(await t.page.locator('[data-testid^="arch-node-"]').count()).toBe(ALL);
    await byId("arch-plan").click();
    await byId("plan-summary").filter({ hasText: `${ALL} to create` }).waitFor({ timeout: 30_000 });
    expect(await byId("plan-optin-ciVm").getAttribute("data-enabled")).toBe("true");
    expect(await byId("plan-optin-testVm").getAttribute("data-enabled")).toBe("true");
    // A row's cost is the cell's first text (a note about what it assumes may follow).
    const rowCost = async (id: string) => Number((await byId(id).locator("td.num").evaluate((td) => td.firstChild?.textContent ?? "")).replace(/[^\d.]/g, ""));
    const vms = (await rowCost("plan-row-vm-ci")) + (await rowCost("plan-row-vm-test"));
    expect(vms).toBeGreaterThan(0);
    expect(Math.abs((await money("plan-total")) - without - vms)).toBeLessThan(0.02);
  });

  test("Apply with live progress: nodes go through their phases, X of Y counts up, one log line per change, then the plan has nothing to do", async () => {
    await t.page.setViewportSize({ width: 1440, height: 1000 });
    await open();
    await t.page.evaluate(() => {
      const seen = new Set<string>();
      (window as unknown as { __phases: Set<string> }).__phases = seen;
      new MutationObserver(() => {
        for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-testid^="arch-node-"]'))) if (el.dataset.phase) seen.add(el.dataset.phase);
      }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["data-phase"] });
    });
    await byId("arch-apply").click();
    await byId("arch-cancel").waitFor({ timeout: 20_000 }); // a run is going on
    await t.page.screenshot({ path: join(ARTIFACTS, "architecture-applying.png") });
    await byId("arch-progress").filter({ hasText: `Apply: ${ALL} of ${ALL}` }).waitFor({ timeout: 120_000 });
    await byId("arch-progress").filter({ hasText: `${ALL} created` }).waitFor();
    expect(await byId("arch-error").count()).toBe(0);
    await byId("arch-node-vpc").filter({ hasText: /vpc-/ }).waitFor();
    await byId("arch-node-vm-ci").filter({ hasText: /running i-[0-9a-f]+/ }).waitFor();
    const phases = await t.page.evaluate(() => [...(window as unknown as { __phases: Set<string> }).__phases]);
    expect(phases).toEqual(expect.arrayContaining(["creating", "ready"]));
    const lines = await byId("arch-log").locator("li").allTextContents();
    expect(lines.length).toBeGreaterThan(42); // at least a start and an end per resource
    expect(lines.at(-1)).toMatch(new RegExp(`apply finished: ${ALL} created`));
    await t.page.screenshot({ path: join(ARTIFACTS, "architecture.png"), fullPage: true });
    await byId("arch-plan").click();
    await byId("plan-summary").filter({ hasText: `${ALL} unchanged` }).waitFor({ timeout: 30_000 });
  });

  test("a saved change is planned as an update, the unchanged rows folded; a refused parameter shows what / why / fix and nothing is saved", async () => {
    await open();
    await byId("bp-vpcCidr").fill("10.20.0.0/99");
    await byId("bp-save").click();
    await byId("bp-error").waitFor({ timeout: 20_000 });
    expect(await byId("bp-error-what").textContent()).toBe("Blueprint not valid");
    expect(await byId("bp-error-why").textContent()).toContain("VPC CIDR '10.20.0.0/99' is not an IPv4 CIDR");
    expect(await byId("bp-error-fix").textContent()).toContain("10.20.0.0/16");
    expect(((await t.invoke<{ vpcCidr: string }>("get_blueprint", { project: null })).vpcCidr)).toBe("10.20.0.0/16");
    await byId("bp-vpcCidr").fill("10.20.0.0/16");

    await byId("bp-ciInstanceType").fill("t3.large");
    await byId("bp-save").click();
    await byId("bp-saved").waitFor({ timeout: 20_000 });
    await byId("arch-plan").click();
    await byId("plan-table").waitFor({ timeout: 30_000 });
    await expect.poll(() => t.page.locator('[data-testid^="plan-row-"]').count()).toBe(1);
    expect(await byId("plan-row-vm-ci").getAttribute("data-action")).toBe("update");
    expect(await byId("plan-row-vm-ci").textContent()).toContain("instanceType t3.medium -> t3.large");
    expect(await byId("plan-summary").textContent()).toBe(`1 to update, ${ALL - 1} unchanged`);
    await byId("plan-toggle-unchanged").click();
    expect(await t.page.locator('[data-testid^="plan-row-"]').count()).toBe(ALL);
  });

  test("Refresh finds drift made behind Slipway's back: a changed instance type, a deleted key pair; the rest in sync", async () => {
    await open();
    // What apply recorded: the test VM's instance id, the key pair's name.
    const observed = await t.invoke<{ logicalId: string | null; physicalId: string }[]>("project_resources", { project: null });
    const physical = (id: string) => observed.find((o) => o.logicalId === id)!.physicalId;
    await ec2({ Action: "StopInstances", "InstanceId.1": physical("vm-test") });
    await ec2({ Action: "ModifyInstanceAttribute", InstanceId: physical("vm-test"), "InstanceType.Value": "t3.nano" });
    await ec2({ Action: "DeleteKeyPair", KeyName: physical("keypair") });
    await byId("arch-refresh").click();
    await byId("arch-drift").waitFor({ timeout: 60_000 });
    expect(await t.page.locator('[data-testid^="drift-row-"]').count()).toBe(ALL);
    expect(await byId("drift-row-vm-test").getAttribute("data-status")).toBe("changed");
    expect(await byId("drift-row-vm-test").textContent()).toContain("instanceType t3.nano -> t3.small");
    expect(await byId("drift-row-keypair").getAttribute("data-status")).toBe("deleted"); // recorded by apply, gone now
    expect(await byId("drift-row-vpc").getAttribute("data-status")).toBe("inSync");
  });

  test("progress of work started elsewhere (the CLI) drives the open page; Destroy asks for the project name first, then removes everything", async () => {
    await open();
    // An apply started by another client: this page shows it from the events alone.
    const applying = t.invoke("apply", { project: null });
    await byId("arch-progress").filter({ hasText: /^Apply: / }).waitFor({ timeout: 30_000 });
    await applying;
    await byId("arch-progress").filter({ hasText: `Apply: ${ALL} of ${ALL}` }).waitFor({ timeout: 120_000 });

    await byId("arch-destroy").click();
    expect(await byId("destroy-confirm").isDisabled()).toBe(true);
    await byId("destroy-confirm-input").fill("slipwa");
    expect(await byId("destroy-confirm").isDisabled()).toBe(true);
    await byId("destroy-confirm-input").fill("slipway");
    await byId("destroy-confirm").click();
    await byId("arch-progress").filter({ hasText: `Destroy: ${ALL} of ${ALL}` }).waitFor({ timeout: 120_000 });
    await expect.poll(() => byId("arch-node-vpc").getAttribute("data-phase")).toBe("deleted");
    const resources = await t.invoke<unknown[]>("project_resources", { project: null });
    expect(resources).toEqual([]);
    await t.page.screenshot({ path: join(ARTIFACTS, "architecture-destroyed.png") });
  });

  test("Export from the Pipelines page: a Jenkinsfile and a GitHub Actions workflow with the five stages; Which environment? when it is not clear; an unknown one refused", async () => {
    const p = await t.invoke("detect_project", { input: { source: { kind: "path", path: repo.dir }, id: PROJECT } });
    await t.invoke("save_project", { project: p });
    const kube = (name: string, namespace: string) => ({
      environment: {
        project: PROJECT,
        name,
        target: { kind: "kubernetes", context: need("SLIPWAY_TEST_K8S_CONTEXT"), kubeconfig: need("SLIPWAY_TEST_KUBECONFIG"), namespace, database: { kind: "inCluster" }, progressDeadlineSecs: null },
        runs: false,
      },
    });
    await t.invoke("save_environment", kube("dev", `${PROJECT}-dev`));
    await t.invoke("save_environment", kube("production", `${PROJECT}-prod`));
    await t.open(`#/pipelines?project=${PROJECT}`);
    await byId("runs-empty").waitFor({ timeout: 30_000 });
    await byId("export-open").click();
    expect(await byId("export-kind").inputValue()).toBe("jenkinsfile");
    await expect.poll(() => byId("export-project").inputValue()).toBe(PROJECT);
    await byId("export-submit").click();
    await byId("export-error").waitFor({ timeout: 20_000 });
    expect(await byId("export-error-what").textContent()).toBe("Which environment?");
    expect(await byId("export-error-why").textContent()).toBe(`project ${PROJECT} has 2: dev, production`);
    expect(await byId("export-error-fix").textContent()).toContain("Name one with --env");
    await byId("export-env").fill("dev");
    await byId("export-submit").click();
    await byId("export-result").waitFor({ timeout: 20_000 });
    expect(await byId("export-error").count()).toBe(0);
    const jf = (await byId("export-file-content").textContent())!;
    expect([...jf.matchAll(/stage\('(\w+)'\)/g)].map((m) => m[1])).toEqual(["Checkout", "Build", "Test", "Push", "Deploy"]);
    expect(jf).toContain("junit testResults: 'reports/**/*.xml'");
    const notes = await byId("export-note").allTextContents();
    expect(notes).toContain("No container registry is connected: the file pushes to registry.example.com/REPLACE_WITH_NAMESPACE (connect one and export again, or edit REGISTRY)");
    expect(notes).toContain("The deploy applies slipway/k8s.yaml: write it with `slipway export k8s -o slipway/k8s.yaml` and commit it");
    const jenkinsfile = t.page.waitForEvent("download");
    await byId("export-download").click();
    expect((await jenkinsfile).suggestedFilename()).toMatch(/^Jenkinsfile(\.txt)?$/); // Chromium adds .txt to a text file without an extension
    // No run was started: the dialog's form is not the toolbar's.
    expect(await t.invoke("runs", { project: PROJECT, limit: null })).toEqual([]);

    await byId("export-kind").selectOption("github-actions");
    expect(await byId("export-result").count()).toBe(0); // another format: the old files go
    await byId("export-submit").click();
    await byId("export-result").waitFor({ timeout: 20_000 });
    const wf = (await byId("export-file-content").textContent())!;
    // Build, Test, Push and Deploy are jobs; Checkout is a step of the jobs that need the code.
    expect([...wf.matchAll(/^ {4}name: (\w+)$/gm)].map((m) => m[1])).toEqual(["Build", "Test", "Push", "Deploy"]);
    // Actions are pinned to a commit (a tag can be moved).
    expect(wf).toMatch(/uses: actions\/checkout@[0-9a-f]{40}\b/);
    expect(wf).toMatch(/uses: dorny\/test-reporter@[0-9a-f]{40}\b/);
    expect(wf).not.toMatch(/uses: [\w./-]+@v\d/);
    const workflow = t.page.waitForEvent("download");
    await byId("export-download").click();
    expect((await workflow).suggestedFilename()).toBe("slipway.yml");

    await byId("export-env").fill("nope");
    await byId("export-submit").click();
    await byId("export-error").waitFor({ timeout: 20_000 });
    expect(await byId("export-error").getAttribute("role")).toBe("alert");
    expect(await byId("export-error-what").textContent()).toBe("Environment not found");
    expect(await byId("export-error-why").textContent()).toContain(`project ${PROJECT} has no environment "nope" (it has:`);
    expect(await byId("export-result").count()).toBe(0);
    expect(await byId("export-env").inputValue()).toBe("nope");
  });

  test("Export from the Deployments page: the shown environment's Kubernetes YAML with its notes; Copy, and Copy refused without clipboard access", async () => {
    await t.page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: t.server.url });
    await t.open(`#/deployments?project=${PROJECT}&env=dev`);
    await t.page.locator('[data-testid="env-tab"][data-env="dev"][aria-selected="true"]').waitFor({ timeout: 30_000 });
    await byId("export-open").click();
    expect(await byId("export-kind").inputValue()).toBe("k8s");
    expect(await byId("export-env").inputValue()).toBe("dev");
    await expect.poll(() => byId("export-project").inputValue()).toBe(PROJECT);
    await byId("export-env-names").filter({ hasText: "dev" }).waitFor();
    await byId("export-submit").click();
    await byId("export-result").waitFor({ timeout: 20_000 });
    expect(await byId("export-file-tab").evaluateAll((els) => els.map((e) => e.getAttribute("data-path")))).toEqual(["k8s.yaml"]);
    const yaml = (await byId("export-file-content").textContent())!;
    expect(yaml).toContain("kind: Namespace");
    expect(yaml.match(/^kind: Deployment$/gm)?.length).toBeGreaterThanOrEqual(1);
    expect(yaml).toContain(`${PROJECT}-dev`);
    await byId("export-notes").waitFor();
    await byId("export-copy").click();
    await byId("export-copied").waitFor();
    expect(await byId("export-copied").textContent()).toContain("Copied");
    expect(await t.page.evaluate(() => navigator.clipboard.readText())).toBe(yaml);

    await t.page.context().clearPermissions();
    await t.page.evaluate(() => Object.defineProperty(navigator, "clipboard", { configurable: true, value: undefined }));
    await byId("export-copy").click();
    await byId("export-copy-error").waitFor();
    expect(await byId("export-copy-error-why").textContent()).toContain("no clipboard access");
    expect(await byId("export-copy-error-fix").textContent()).toContain("use Download");
    await byId("export-close").click();
    await byId("export-dialog").waitFor({ state: "detached" });
  });
});
