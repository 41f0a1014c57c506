import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test, vi } from "vitest";

import { mockResources } from "../testing/mockProvision";
import { renderApp } from "../testing/render";

const id = (testId: string) => screen.getByTestId(testId);
const tabs = () => screen.getAllByTestId("export-file-tab");
const tab = (path: string) => tabs().find((t) => t.getAttribute("data-path") === path)!;

afterEach(() => {
  vi.restoreAllMocks();
});

/** Blob downloads: the names clicked and the blobs made. */
function captureDownloads() {
  const blobs: Blob[] = [];
  Object.assign(URL, { createObjectURL: vi.fn((b: Blob) => (blobs.push(b), "blob:export")), revokeObjectURL: vi.fn() });
  const names: string[] = [];
  vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
    names.push(this.download);
  });
  return { blobs, names };
}

describe("Export dialog", () => {
  test("Architecture: Terraform of the blueprint, three files as tabs, the note, Download per file; Escape closes", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp({ hash: "#/architecture" });
    await screen.findByTestId("arch-node-vpc");
    await user.click(id("export-open"));
    const dialog = id("export-dialog");
    expect(dialog).toHaveAttribute("role", "dialog");
    expect(dialog).toHaveAttribute("aria-modal", "true");
    expect(id("export-kind")).toHaveFocus();
    expect(id("export-kind")).toHaveValue("terraform");
    expect(id("export-project")).toHaveValue("slipway");
    expect(screen.queryByTestId("export-env")).toBeNull(); // Terraform has no environment

    await user.click(id("export-submit"));
    await screen.findByTestId("export-result");
    expect(backend.calls.filter((c) => c.cmd === "export").map((c) => c.args)).toEqual([{ kind: "terraform", project: "slipway", environment: null }]);
    expect(tabs().map((t) => t.getAttribute("data-path"))).toEqual(["main.tf", "variables.tf", "outputs.tf"]);
    expect(tab("main.tf")).toHaveAttribute("aria-selected", "true");
    const main = id("export-file-content").textContent!;
    expect(main.match(/^resource "/gm)).toHaveLength(mockResources(backend.blueprint).length);
    expect(main).toContain('resource "aws_vpc" "vpc" {');
    expect(main).toContain('"slipway:resource" = "subnet-public-a"');
    expect(screen.getAllByTestId("export-note").map((n) => n.textContent)).toEqual([
      "No blueprint is saved for project slipway: these are the default values (edit them with `slipway blueprint --set` or on the Architecture page)",
    ]);

    await user.click(tab("variables.tf"));
    expect(id("export-file-content")).toHaveAttribute("data-path", "variables.tf");
    expect(id("export-file-content")).toHaveTextContent('variable "vpc_cidr"');
    expect(id("export-file-content").textContent).toContain("sensitive   = true");
    const dl = captureDownloads();
    await user.click(id("export-download"));
    expect(dl.names).toEqual(["variables.tf"]);
    expect(await dl.blobs[0].text()).toBe(id("export-file-content").textContent);

    // Focus stays in the dialog: Tab from the last control goes back to the first.
    const copy = id("export-copy");
    id("export-file-content").focus();
    await user.tab();
    expect(dialog.contains(document.activeElement)).toBe(true);
    copy.focus();
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("export-dialog")).toBeNull();
    expect(id("export-open")).toHaveFocus();
  });

  test("Deployments: Kubernetes YAML of the environment shown, with its notes; Copy", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp({ hash: "#/deployments" });
    const shown = (await screen.findAllByTestId("env-tab")).find((t) => t.getAttribute("aria-selected") === "true")!.getAttribute("data-env")!;
    await user.click(id("export-open"));
    expect(id("export-kind")).toHaveValue("k8s");
    expect(id("export-env")).toHaveValue(shown);
    await waitFor(() => expect(id("export-project")).toHaveValue("sample-app"));
    await waitFor(() => expect(id("export-env-names")).toHaveTextContent(shown));
    await user.click(id("export-submit"));
    await screen.findByTestId("export-result");
    expect(backend.calls.filter((c) => c.cmd === "export").at(-1)?.args).toEqual({ kind: "k8s", project: "sample-app", environment: shown });
    expect(tabs().map((t) => t.getAttribute("data-path"))).toEqual(["k8s.yaml"]);
    const yaml = id("export-file-content").textContent!;
    expect(yaml).toContain("kind: Namespace");
    expect(yaml.match(/^kind: Deployment$/gm)?.length).toBe(backend.pipeline.projects[0].services.length);
    expect(yaml).toContain(`environment ${shown}`);
    expect(id("export-notes")).toBeInTheDocument();

    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { configurable: true, value: { writeText } });
    await user.click(id("export-copy"));
    expect(await screen.findByTestId("export-copied")).toHaveTextContent("Copied");
    expect(writeText).toHaveBeenCalledWith(yaml);

    Object.defineProperty(navigator, "clipboard", { configurable: true, value: undefined });
    await user.click(id("export-copy"));
    expect(await screen.findByTestId("export-copy-error-why")).toHaveTextContent("no clipboard access");
    expect(id("export-copy-error-fix")).toHaveTextContent("use Download");
    await user.click(id("export-close"));
    expect(screen.queryByTestId("export-dialog")).toBeNull();
  });

  test("Pipelines: a Jenkinsfile and a GitHub Actions workflow with the five stages; an unknown environment is refused", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp({ hash: "#/pipelines" });
    await screen.findByTestId("runs-list");
    await user.click(id("export-open"));
    expect(id("export-kind")).toHaveValue("jenkinsfile");
    await waitFor(() => expect(id("export-project")).toHaveValue("sample-app"));
    // Two environments and none that runs deploy to: the Rust side asks which.
    await user.click(id("export-submit"));
    expect(await screen.findByTestId("export-error-what")).toHaveTextContent("Which environment?");
    expect(id("export-error-why")).toHaveTextContent("project sample-app has 2: dev, production");
    expect(id("export-error-fix")).toHaveTextContent("Name one with --env");
    await user.type(id("export-env"), "dev");
    await user.click(id("export-submit"));
    await screen.findByTestId("export-result");
    expect(screen.queryByTestId("export-error")).toBeNull();
    expect(backend.calls.filter((c) => c.cmd === "export").map((c) => c.args)).toEqual([
      { kind: "jenkinsfile", project: "sample-app", environment: null },
      { kind: "jenkinsfile", project: "sample-app", environment: "dev" },
    ]);
    expect(backend.calls.some((c) => c.cmd === "start_run")).toBe(false); // the dialog's form is not the toolbar's
    const jf = id("export-file-content").textContent!;
    expect([...jf.matchAll(/stage\('(\w+)'\)/g)].map((m) => m[1])).toEqual(["Checkout", "Build", "Test", "Push", "Deploy"]);
    expect(jf).toContain("junit testResults: 'reports/**/*.xml'");
    const notes = screen.getAllByTestId("export-note").map((n) => n.textContent);
    expect(notes).toContain("No container registry is connected: the file pushes to registry.example.com/REPLACE_WITH_NAMESPACE (connect one and export again, or edit REGISTRY)");
    expect(notes).toContain("The deploy applies slipway/k8s.yaml: write it with `slipway export k8s -o slipway/k8s.yaml` and commit it");
    const dl = captureDownloads();
    await user.click(id("export-download"));

    await user.selectOptions(id("export-kind"), "github-actions");
    expect(screen.queryByTestId("export-result")).toBeNull(); // another format: the old files go
    await user.click(id("export-submit"));
    await screen.findByTestId("export-result");
    const wf = id("export-file-content").textContent!;
    expect([...wf.matchAll(/^ {4}name: (\w+)$/gm)].map((m) => m[1])).toEqual(["Checkout", "Build", "Test", "Push", "Deploy"]);
    expect(wf).toContain("uses: dorny/test-reporter@v1");
    await user.click(id("export-download"));
    expect(dl.names).toEqual(["Jenkinsfile", "slipway.yml"]);

    await user.clear(id("export-env"));
    await user.type(id("export-env"), "nope");
    await user.click(id("export-submit"));
    const error = await screen.findByTestId("export-error");
    expect(error).toHaveAttribute("role", "alert");
    expect(id("export-error-what")).toHaveTextContent("Environment not found");
    expect(id("export-error-why")).toHaveTextContent('project sample-app has no environment "nope" (it has:');
    expect(id("export-error-fix")).toHaveTextContent("Leave --env out for the defaults");
    expect(screen.queryByTestId("export-result")).toBeNull();
    expect(backend.calls.filter((c) => c.cmd === "export").at(-1)?.args).toEqual({ kind: "github-actions", project: "sample-app", environment: "nope" });
    expect(within(id("export-dialog")).getByTestId("export-env")).toHaveValue("nope");
  });
});
