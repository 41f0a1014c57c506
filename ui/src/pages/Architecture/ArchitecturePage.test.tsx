import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";

import { renderApp } from "../../testing/render";
import { checkForm } from "./ArchitecturePage";

const id = (testId: string) => screen.getByTestId(testId);

async function openArchitecture() {
  const r = await renderApp({ hash: "#/architecture" });
  await screen.findByTestId("architecture-diagram");
  await screen.findByTestId("arch-node-nodes");
  return r;
}

describe("Architecture page", () => {
  test("draws one node per resource, labelled with kind and name, not created yet", async () => {
    await openArchitecture();
    expect(screen.getAllByTestId(/^arch-node-/)).toHaveLength(22);
    expect(id("arch-node-eks")).toHaveTextContent("EKS cluster slipway-eks");
    expect(id("arch-node-db-live")).toHaveTextContent("MySQL slipway-live");
    expect(id("arch-node-vpc")).toHaveAttribute("data-phase", "none");
    expect(id("arch-no-project")).toHaveTextContent("the default blueprint (slipway)");
    expect(screen.queryByTestId("bp-project")).toBeNull();
    expect(id("bp-azs")).toHaveValue("us-east-1a, us-east-1b");
  });

  test("Plan shows 22 creates with costs, the total and the price table", async () => {
    const user = userEvent.setup();
    await openArchitecture();
    await user.click(id("arch-plan"));
    await screen.findByTestId("plan-table");
    const rows = screen.getAllByTestId(/^plan-row-/);
    expect(rows).toHaveLength(22);
    rows.forEach((r) => expect(r).toHaveAttribute("data-action", "create"));
    expect(id("plan-summary")).toHaveTextContent("22 to create");
    expect(id("plan-row-eks")).toHaveTextContent("$73.00");
    expect(id("plan-total").textContent).toMatch(/^\$\d{3},?\d*\.\d\d$/);
    expect(id("plan-prices")).toHaveTextContent("2026-10-01, us-east-1 (USD)");
  });

  test("nodes behind a NAT gateway: its address, the gateway and the private route appear, with what the cost assumes", async () => {
    const user = userEvent.setup();
    const { backend } = await openArchitecture();
    expect(id("bp-nodeSubnets")).toHaveValue("public");
    await user.selectOptions(id("bp-nodeSubnets"), "private-nat");
    await user.clear(id("bp-services"));
    await user.type(id("bp-services"), "web, api");
    await user.click(id("bp-save"));
    await screen.findByTestId("bp-saved");
    expect(backend.blueprint.nodeSubnets).toBe("private-nat");
    expect(backend.blueprint.services).toEqual(["web", "api"]);
    await user.click(id("arch-plan"));
    await screen.findByTestId("plan-table");
    expect(screen.getAllByTestId(/^plan-row-/)).toHaveLength(22 + 3 + 2);
    expect(id("plan-row-nat")).toHaveTextContent("NAT gateway slipway-nat");
    expect(id("plan-row-nat")).toHaveTextContent("$33.30");
    expect(id("plan-note-nat")).toHaveTextContent("assumes 10 GB a month");
    expect(id("plan-row-ecr-web")).toHaveTextContent("ECR repository slipway-web");
    expect(id("plan-note-ecr-web")).toHaveTextContent("assumes 1 GB per repository");
    expect(screen.getByTestId("arch-node-eip-nat")).toHaveTextContent("Elastic IP slipway-nat");
  });

  test("after an apply the plan collapses unchanged rows and a changed type is an update", async () => {
    const user = userEvent.setup();
    const { backend } = await openArchitecture();
    await user.click(id("arch-apply"));
    await waitFor(() => expect(id("arch-progress")).toHaveTextContent("22 of 22"));
    await waitFor(() => expect(id("arch-node-vm-ci")).toHaveAttribute("data-phase", "ready"));
    expect(id("arch-node-vm-ci")).toHaveTextContent(/running i-0[0-9a-f]{16}$/);

    await user.clear(id("bp-ciInstanceType"));
    await user.type(id("bp-ciInstanceType"), "t3.large");
    await user.click(id("bp-save"));
    await screen.findByTestId("bp-saved");
    expect(backend.blueprint.ciInstanceType).toBe("t3.large");

    await user.click(id("arch-plan"));
    await screen.findByTestId("plan-table");
    expect(screen.getAllByTestId(/^plan-row-/)).toHaveLength(1);
    expect(id("plan-row-vm-ci")).toHaveAttribute("data-action", "update");
    expect(id("plan-row-vm-ci")).toHaveTextContent("instanceType t3.medium -> t3.large");
    expect(id("plan-summary")).toHaveTextContent("1 to update, 21 unchanged");
    await user.click(id("plan-toggle-unchanged"));
    expect(screen.getAllByTestId(/^plan-row-/)).toHaveLength(22);
  });

  test("progress from events: X of Y, one log line per phase change, node phases", async () => {
    const user = userEvent.setup();
    const { backend } = await openArchitecture();
    await user.click(id("arch-apply"));
    await waitFor(() => expect(id("arch-progress")).toHaveTextContent("Apply: 22 of 22"));
    const lines = within(id("arch-log")).getAllByRole("listitem").map((li) => li.textContent);
    // 22 pending + 22 x (creating, waiting, ready) + the finished line.
    expect(lines).toHaveLength(22 + 66 + 1);
    expect(lines.at(-1)).toMatch(/apply finished: 22 created/);
    expect(backend.cloud.size).toBe(22);

    // Events alone drive the nodes (e.g. a run started elsewhere).
    act(() => {
      backend.emit([
        {
          type: "resourceProgress", op: "destroy", project: "slipway", id: "nodes", kind: "eksNodegroup", name: "slipway-nodes",
          phase: "deleting", cloudState: "DELETING", physicalId: "slipway-nodes", elapsedMs: 60000, expectedMs: 240000,
          done: 0, total: 22, error: null,
        },
      ]);
    });
    expect(id("arch-node-nodes")).toHaveAttribute("data-phase", "deleting");
    expect(id("arch-node-nodes")).toHaveTextContent("deleting · DELETING");
    expect(id("arch-progress")).toHaveTextContent("Destroy: 0 of 22");
    expect(screen.getByTestId("arch-cancel")).toBeInTheDocument();
  });

  test("Destroy asks for the project name, then removes everything", async () => {
    const user = userEvent.setup();
    const { backend } = await openArchitecture();
    await user.click(id("arch-apply"));
    await waitFor(() => expect(id("arch-progress")).toHaveTextContent("22 of 22"));
    await user.click(id("arch-destroy"));
    expect(id("destroy-confirm")).toBeDisabled();
    await user.type(id("destroy-confirm-input"), "slipwa");
    expect(id("destroy-confirm")).toBeDisabled();
    await user.type(id("destroy-confirm-input"), "y");
    await user.click(id("destroy-confirm"));
    await waitFor(() => expect(id("arch-progress")).toHaveTextContent("Destroy: 22 of 22"));
    await waitFor(() => expect(backend.cloud.size).toBe(0));
    await waitFor(() => expect(id("arch-node-vpc")).toHaveAttribute("data-phase", "deleted"));
  });

  test("Refresh shows drift per resource", async () => {
    const user = userEvent.setup();
    const { backend } = await openArchitecture();
    await user.click(id("arch-apply"));
    await waitFor(() => expect(id("arch-progress")).toHaveTextContent("22 of 22"));
    const vm = backend.cloud.get("vm-test")!;
    vm.attrs = { ...vm.attrs, instanceType: "t3.nano" };
    backend.cloud.delete("keypair");
    await user.click(id("arch-refresh"));
    await screen.findByTestId("arch-drift");
    expect(screen.getAllByTestId(/^drift-row-/)).toHaveLength(22);
    expect(id("drift-row-vm-test")).toHaveAttribute("data-status", "changed");
    expect(id("drift-row-vm-test")).toHaveTextContent("instanceType t3.nano -> t3.small");
    expect(id("drift-row-keypair")).toHaveAttribute("data-status", "notCreated");
    expect(id("drift-row-vpc")).toHaveAttribute("data-status", "inSync");
  });

  test("an invalid parameter: save_blueprint's UserError is shown as what/why/fix", async () => {
    const user = userEvent.setup();
    const { backend } = await openArchitecture();
    await user.clear(id("bp-vpcCidr"));
    await user.type(id("bp-vpcCidr"), "10.20.0.0/99");
    await user.click(id("bp-save"));
    await screen.findByTestId("bp-error");
    expect(id("bp-error-what")).toHaveTextContent("Blueprint not valid");
    expect(id("bp-error-why")).toHaveTextContent("VPC CIDR '10.20.0.0/99' is not an IPv4 CIDR");
    expect(id("bp-error-fix")).toHaveTextContent("10.20.0.0/16");
    expect(backend.blueprint.vpcCidr).toBe("10.20.0.0/16");
  });

  test("a failing command is shown in arch-error", async () => {
    const user = userEvent.setup();
    const { backend } = await openArchitecture();
    const orig = backend.handle;
    backend.handle = async (cmd, args) => {
      if (cmd === "plan") throw { what: "Plan failed", why: "AWS is not connected", fix: "Connect AWS first" };
      return orig(cmd, args);
    };
    // mockIPC holds the old function; route through it.
    const { mockIPC } = await import("@tauri-apps/api/mocks");
    mockIPC(backend.handle);
    await user.click(id("arch-plan"));
    await screen.findByTestId("arch-error");
    expect(id("arch-error-what")).toHaveTextContent("Plan failed");
    expect(id("arch-error-why")).toHaveTextContent("AWS is not connected");
    expect(id("arch-error-fix")).toHaveTextContent("Connect AWS first");
  });

  test("numbers are checked before sending", () => {
    expect(checkForm({ dbStorageGb: "20", nodeCount: "two" })).toMatchObject({ what: "Blueprint not saved", why: expect.stringContaining("Node count") });
    expect(checkForm({ dbStorageGb: "20", nodeCount: "2", ecrKeepImages: "20" })).toBeNull();
    expect(checkForm({ dbStorageGb: "20", nodeCount: "2", ecrKeepImages: "all" })).toMatchObject({ why: expect.stringContaining("Images kept per repository") });
  });
});
