import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";

import { JENKINS_TOKEN, JENKINS_VERSION, errorPage, refusal } from "../../testing/mockJenkins";
import { renderApp } from "../../testing/render";

const id = (testId: string) => screen.getByTestId(testId);

async function connect(user: ReturnType<typeof userEvent.setup>, url: string, name: string, token: string) {
  await user.clear(id("jenkins-url"));
  await user.type(id("jenkins-url"), url);
  await user.clear(id("jenkins-user"));
  await user.type(id("jenkins-user"), name);
  await user.type(id("jenkins-token"), token);
  await user.click(id("jenkins-submit"));
}

describe("Jenkins card", () => {
  test("connects with URL, user and token: the server, user, version and job count; the token is sent once and never shown", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp();
    const card = id("card-jenkins");
    await waitFor(() => expect(backend.calls.some((c) => c.cmd === "jenkins_connection")).toBe(true));
    expect(id("jenkins-state")).toHaveAttribute("data-state", "notConfigured");
    expect(screen.queryByTestId("jenkins-connection")).toBeNull();
    expect(id("jenkins-submit")).toBeDisabled(); // nothing typed yet
    expect(id("jenkins-token")).toHaveAttribute("type", "password");

    await connect(user, "https://ci.example.com/", "dev", JENKINS_TOKEN);
    await waitFor(() => expect(id("jenkins-state")).toHaveAttribute("data-state", "connected"));
    expect(id("jenkins-token")).toHaveValue("");
    expect(id("jenkins-server-url")).toHaveTextContent("https://ci.example.com");
    expect(id("jenkins-server-url").textContent).not.toMatch(/\/$/); // normalized like crates/ci
    expect(id("jenkins-server-user")).toHaveTextContent("dev");
    expect(id("jenkins-version")).toHaveTextContent(JENKINS_VERSION);
    expect(id("jenkins-job-count")).toHaveTextContent("4 jobs");
    expect(backend.calls.filter((c) => c.cmd === "connect_jenkins").map((c) => c.args)).toEqual([
      { input: { url: "https://ci.example.com/", user: "dev", token: JENKINS_TOKEN } },
    ]);
    expect(backend.jenkins.saved).toEqual({ url: "https://ci.example.com", user: "dev" });
    expect(document.body.innerHTML).not.toContain(JENKINS_TOKEN);
    expect(within(card).queryByTestId("jenkins-error")).toBeNull();
  });

  test("a bad token (401), an unreachable address, a 403 and a bad URL: what/why/fix, the token emptied, the last good connection kept", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp();
    await waitFor(() => expect(backend.calls.some((c) => c.cmd === "jenkins_connection")).toBe(true));

    // Nothing good yet: a 401.
    await connect(user, "https://ci.example.com", "dev", "revoked-token-1");
    const e401 = await screen.findByTestId("jenkins-error");
    expect(e401).toHaveAttribute("role", "alert");
    expect(id("jenkins-error-what")).toHaveTextContent("Jenkins check failed");
    expect(id("jenkins-error-why")).toHaveTextContent("Jenkins rejected the user or API token (401 Error 401 Unauthorized)");
    expect(id("jenkins-error-fix")).toHaveTextContent("create a new API token in Jenkins");
    expect(id("jenkins-token")).toHaveValue("");
    expect(id("jenkins-state")).toHaveAttribute("data-state", "failed");
    expect(screen.queryByTestId("jenkins-connection")).toBeNull();

    // A good connection, then failures keep it.
    await connect(user, "https://ci.example.com", "dev", JENKINS_TOKEN);
    await waitFor(() => expect(id("jenkins-state")).toHaveAttribute("data-state", "connected"));
    expect(screen.queryByTestId("jenkins-error")).toBeNull();

    await connect(user, "http://127.0.0.1:1", "dev", JENKINS_TOKEN);
    await waitFor(() => expect(id("jenkins-error-why")).toHaveTextContent("cannot reach http://127.0.0.1:1"));
    expect(id("jenkins-error-why")).toHaveTextContent("Connection refused");
    expect(id("jenkins-error-fix")).toHaveTextContent("Check the Jenkins address and your network");
    expect(id("jenkins-token")).toHaveValue("");
    expect(id("jenkins-state")).toHaveAttribute("data-state", "failed");
    const kept = id("jenkins-connection");
    expect(kept).toHaveTextContent("Last good connection");
    expect(id("jenkins-server-url")).toHaveTextContent("https://ci.example.com");
    expect(backend.jenkins.saved).toEqual({ url: "https://ci.example.com", user: "dev" });

    backend.jenkins.failNext("connect_jenkins", refusal("Jenkins check failed", "the server", 403, errorPage(403, "Access Denied")));
    await connect(user, "https://ci.example.com", "viewer", JENKINS_TOKEN);
    await waitFor(() => expect(id("jenkins-error-why")).toHaveTextContent("Jenkins refused access to the server (403 Error 403 Access Denied)"));
    expect(id("jenkins-error-fix")).toHaveTextContent("Job/Read");
    expect(id("jenkins-server-user")).toHaveTextContent("dev");

    await connect(user, "ci.example.com", "dev", JENKINS_TOKEN);
    await waitFor(() => expect(id("jenkins-error-what")).toHaveTextContent("Jenkins address not valid"));
    expect(id("jenkins-error-why")).toHaveTextContent("'ci.example.com' is not an http(s) URL");
    expect(id("jenkins-token")).toHaveValue("");

    for (const t of ["revoked-token-1", JENKINS_TOKEN]) expect(document.body.innerHTML).not.toContain(t);
  });

  test("the saved connection is shown on load; Disconnect forgets it", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp({ hash: "#/settings" });
    backend.jenkins.saved = { url: "https://jenkins.internal:8443", user: "release-bot" };
    await user.click(id("nav-connect"));
    await waitFor(() => expect(id("jenkins-server-url")).toHaveTextContent("https://jenkins.internal:8443"));
    expect(id("jenkins-server-user")).toHaveTextContent("release-bot");
    expect(id("jenkins-state")).toHaveAttribute("data-state", "connected");
    expect(id("jenkins-url")).toHaveValue("https://jenkins.internal:8443");
    expect(id("jenkins-token")).toHaveValue(""); // never comes back
    expect(screen.queryByTestId("jenkins-version")).toBeNull(); // jenkins_connection asks Jenkins nothing

    await user.click(id("jenkins-disconnect"));
    await waitFor(() => expect(screen.queryByTestId("jenkins-connection")).toBeNull());
    expect(id("jenkins-state")).toHaveAttribute("data-state", "notConfigured");
    expect(screen.queryByTestId("jenkins-disconnect")).toBeNull();
    expect(backend.calls.filter((c) => c.cmd === "disconnect_jenkins")).toHaveLength(1);
    expect(backend.jenkins.saved).toBeNull();
  });
});
