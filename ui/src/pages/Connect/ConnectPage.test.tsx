import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";

import { renderApp } from "../../testing/render";

const id = (testId: string) => screen.getByTestId(testId);

describe("Connect page", () => {
  test("a rejected check shows what failed, why, and what to do", async () => {
    const user = userEvent.setup();
    await renderApp();
    await user.type(id("github-token"), "bad");
    await user.click(id("github-submit"));
    const error = await screen.findByTestId("github-error");
    expect(error).toHaveAttribute("role", "alert");
    expect(within(error).getByTestId("github-error-what")).toHaveTextContent("GitHub sign-in check failed");
    expect(within(error).getByTestId("github-error-why")).toHaveTextContent("401 Bad credentials");
    expect(within(error).getByTestId("github-error-fix")).toHaveTextContent("Create a new token");
    expect(error).toHaveTextContent("Why");
    expect(error).toHaveTextContent("What to do");
    expect(id("github-state")).toHaveAttribute("data-state", "failed");
  });

  test("secrets are sent once, then cleared from the fields", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp();

    await user.type(id("github-token"), "ghp_secret_token_1");
    await user.click(id("github-submit"));
    await screen.findByTestId("github-login");
    expect(id("github-token")).toHaveValue("");
    expect(backend.calls.find((c) => c.cmd === "connect_github")?.args).toEqual({
      input: { token: "ghp_secret_token_1", baseUrl: null },
    });

    await user.click(id("connect-aws-static"));
    await user.type(id("aws-access-key-id"), "AKIAEXAMPLEKEY123456");
    await user.type(id("aws-secret-access-key"), "secret-access-key-1");
    await user.type(id("aws-session-token"), "session-token-1");
    await user.click(id("aws-submit"));
    await screen.findByTestId("aws-account");
    expect(id("aws-secret-access-key")).toHaveValue("");
    expect(id("aws-session-token")).toHaveValue("");
    expect(id("aws-access-key-id")).toHaveValue("AKIAEXAMPLEKEY123456"); // not a secret: kept

    await user.type(id("registry-username"), "me");
    await user.type(id("registry-password"), "bad");
    await user.click(id("registry-submit"));
    await screen.findByTestId("registry-error");
    expect(id("registry-password")).toHaveValue(""); // cleared on failure too
    expect(id("registry-username")).toHaveValue("me");

    // No secret is rendered anywhere in the page.
    for (const s of ["ghp_secret_token_1", "secret-access-key-1", "session-token-1"]) {
      expect(document.body.innerHTML).not.toContain(s);
    }
  });

  test("the region picker appears after a successful connect and sets the region", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp({ scenario: "fresh" });
    expect(id("connect-aws-sandbox")).toBeChecked(); // no AWS credentials: sandbox by default
    expect(screen.queryByTestId("aws-region-select")).toBeNull();

    await user.click(id("aws-submit"));
    const select = await screen.findByTestId("aws-region-select");
    expect(id("aws-account")).toHaveTextContent("123456789012");
    expect(id("aws-endpoint")).toHaveTextContent("http://127.0.0.1:45500");
    expect(within(select).getAllByRole("option").map((o) => o.textContent)).toContain("eu-west-2");

    await user.selectOptions(select, "eu-west-2");
    await waitFor(() => expect(id("aws-region")).toHaveTextContent("eu-west-2"));
    expect(backend.calls.filter((c) => c.cmd === "set_aws_region").map((c) => c.args)).toEqual([{ region: "eu-west-2" }]);
  });

  test("profiles show their kind", async () => {
    const user = userEvent.setup();
    await renderApp();
    await user.click(id("connect-aws-profile"));
    const options = (await screen.findByTestId("aws-profile-select")).textContent ?? "";
    for (const kind of ["static keys", "SSO", "credential process", "assume role"]) expect(options).toContain(kind);
    await user.selectOptions(id("aws-profile-select"), "work-sso");
    expect(id("aws-profile-kind")).toHaveTextContent("SSO");
  });

  test("while a check runs the button is disabled and progress shows", async () => {
    const user = userEvent.setup();
    await renderApp({ delayMs: 80 });
    await user.type(id("github-token"), "ghp_slow_token");
    await user.click(id("github-submit"));
    expect(id("github-submit")).toBeDisabled();
    expect(id("github-state")).toHaveAttribute("data-state", "checking");
    expect(id("card-github")).toHaveAttribute("aria-busy", "true");
    await screen.findByTestId("github-login");
    expect(id("github-state")).toHaveAttribute("data-state", "connected");
  });

  test("a failed check keeps the last good identity visible", async () => {
    const user = userEvent.setup();
    await renderApp();
    await user.type(id("github-token"), "ghp_good_token");
    await user.click(id("github-submit"));
    await screen.findByTestId("github-login");
    await user.type(id("github-token"), "bad");
    await user.click(id("github-submit"));
    await screen.findByTestId("github-error");
    expect(id("github-login")).toHaveTextContent("octo-dev");
    expect(id("github-identity")).toHaveTextContent("Last confirmed identity");
  });

  test("event batches update the cards and the status bar", async () => {
    const { backend } = await renderApp();
    expect(id("docker-version")).toHaveTextContent("20.10.24");
    expect(id("sandbox-badge")).toHaveAttribute("data-status", "stopped");

    act(() => {
      backend.emit([
        {
          type: "connectionChecked",
          status: {
            kind: "docker",
            state: "connected",
            identity: { kind: "docker", host: "tcp://127.0.0.1:2375", version: "24.0.7", apiVersion: "1.43", os: "linux" },
            error: null,
            checkedAt: Date.now() + 1000,
          },
        },
        { type: "sandboxChanged", state: { status: "running", endpoint: "http://127.0.0.1:45600", pid: 1, error: null } },
        { type: "progress", task: "sandbox", message: "emulator ready" },
      ]);
    });
    expect(id("docker-version")).toHaveTextContent("24.0.7");
    expect(id("docker-host")).toHaveTextContent("tcp://127.0.0.1:2375");
    expect(id("sandbox-badge")).toHaveAttribute("data-status", "running");
    expect(id("sandbox-badge")).toHaveTextContent("http://127.0.0.1:45600");
    expect(id("status-progress")).toHaveTextContent("sandbox: emulator ready");

    act(() => {
      backend.emit([
        {
          type: "connectionChecked",
          status: {
            kind: "kubernetes",
            state: "connected",
            identity: { kind: "kubernetes", context: "prod", server: "https://10.0.0.1:6443", version: "v1.29.0" },
            error: null,
            checkedAt: Date.now() + 2000,
          },
        },
      ]);
    });
    expect(id("kubernetes-context")).toHaveTextContent("prod");
    expect(id("nav-connect-count")).toHaveTextContent("2/5");
  });

  test("Docker and Kubernetes: Check again calls check_connection", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp();
    await user.click(id("kubernetes-check"));
    await screen.findByTestId("kubernetes-error");
    await user.click(id("kubernetes-check"));
    await screen.findByTestId("kubernetes-context");
    expect(screen.queryByTestId("kubernetes-error")).toBeNull();
    expect(backend.calls.filter((c) => c.cmd === "check_connection").map((c) => c.args)).toEqual([
      { kind: "kubernetes" },
      { kind: "kubernetes" },
    ]);
  });

  test("GitHub: the gh CLI token is offered when available and sends token null", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp();
    await waitFor(() => expect(id("github-mode-cli")).toBeEnabled());
    await user.click(id("github-mode-cli"));
    expect(screen.queryByTestId("github-token")).toBeNull();
    await user.click(id("github-submit"));
    await screen.findByTestId("github-login");
    expect(backend.calls.find((c) => c.cmd === "connect_github")?.args).toEqual({ input: { token: null, baseUrl: null } });
  });

  test("Registry: a saved docker login sends password null", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp();
    await waitFor(() => expect(id("registry-mode-docker-config")).toBeEnabled());
    await user.click(id("registry-mode-docker-config"));
    await user.click(id("registry-submit"));
    await screen.findByTestId("registry-user");
    expect(id("registry-user")).toHaveTextContent("slipway@127.0.0.1:45000");
    expect(backend.calls.find((c) => c.cmd === "connect_registry")?.args).toEqual({
      input: { registry: "127.0.0.1:45000", username: "slipway", password: null },
    });
  });
});
