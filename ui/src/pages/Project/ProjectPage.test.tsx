import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";

import { renderApp } from "../../testing/render";

const id = (testId: string) => screen.getByTestId(testId);
const service = (name: string) => within(screen.getAllByTestId("service").find((s) => s.getAttribute("data-service") === name)!);

describe("Project page", () => {
  test("detects a local folder and shows what it found", async () => {
    const user = userEvent.setup();
    await renderApp({ hash: "#/project" });
    await user.type(id("project-path"), "/home/dev/shop");
    await user.click(id("project-detect"));
    await screen.findByTestId("project-detected");
    expect(id("project-id")).toHaveValue("shop");
    expect(id("project-git-ref")).toHaveValue("HEAD");
    expect(id("project-replicas")).toHaveValue("3");
    expect(id("project-concurrency")).toHaveValue("1");
    expect(id("project-entry")).toHaveValue("frontend");
    expect(id("project-entry-reason")).toHaveTextContent("Why: set in slipway.toml line 23");
    expect(id("project-detected-from")).toHaveTextContent("docker-compose.yml");
    expect(screen.getAllByTestId("service").map((s) => s.getAttribute("data-service"))).toEqual(["backend", "frontend"]);
    expect(service("backend").getByTestId("service-build")).toHaveTextContent("backend/Dockerfile");
    expect(service("backend").getByTestId("service-port")).toHaveValue("8000");
    expect(service("backend").getByTestId("service-depends")).toHaveTextContent("db");
    expect(service("backend").getByTestId("service-env")).toHaveTextContent("DB_HOST=db");
    expect(service("backend").getByTestId("service-test-command")).toHaveValue(
      "pytest -q --junitxml=/reports/junit.xml --cov=. --cov-report=xml:/reports/coverage.xml",
    );
    expect(id("project-database")).toHaveTextContent("mariadb:10.11");
    expect(id("project-database")).toHaveTextContent("db/schema.sql");
    expect(id("project-manifests")).toHaveTextContent("k8s/nginx.yaml");
    expect(id("project-env-vars")).toHaveTextContent("DB_PASSWORD");
    // Every fact with its source, and the secrets the repository commits.
    expect(id("project-database-engine")).toHaveTextContent("MySQL");
    const facts = screen.getAllByTestId("project-fact");
    const schema = facts.find((f) => f.textContent?.includes("schema loaded from db/schema.sql"))!;
    expect(schema).toHaveAttribute("data-topic", "database");
    expect(within(schema).getByTestId("project-fact-source")).toHaveTextContent("(from db/schema.sql (from docker-compose.yml services.db.volumes))");
    expect(screen.getAllByTestId("project-committed-secret").map((c) => c.textContent)).toContain(
      "this repository commits a database password in docker-compose.yml line 28 (DB_PASSWORD)",
    );
  });

  test("choosing another entry service replaces detection's reason", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp({ hash: "#/project" });
    await user.type(id("project-path"), "/home/dev/shop");
    await user.click(id("project-detect"));
    await screen.findByTestId("project-detected");
    await user.selectOptions(id("project-entry"), "backend");
    expect(screen.queryByTestId("project-entry-reason")).toBeNull();
    await user.click(id("project-save"));
    await screen.findByTestId("project-saved");
    const saved = backend.pipeline.projects.find((p) => p.id === "shop")!;
    expect(saved.deploy).toMatchObject({ entry: "backend", entryReason: "chosen on the Project page" });
  });

  test("saves an edited test command, tests off for a service, and lists the project", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp({ hash: "#/project" });
    await user.type(id("project-path"), "/home/dev/shop");
    await user.click(id("project-detect"));
    await screen.findByTestId("project-detected");
    const cmd = service("backend").getByTestId("service-test-command");
    await user.clear(cmd);
    await user.type(cmd, "pytest -x 'tests/unit tests'");
    await user.click(service("frontend").getByTestId("service-tests"));
    expect(service("frontend").getByTestId("service-no-tests")).toHaveTextContent("no tests");
    await user.click(id("project-save"));
    await screen.findByTestId("project-saved");
    const saved = backend.pipeline.projects.find((p) => p.id === "shop")!;
    expect(saved.services[0].testCommand).toEqual(["pytest", "-x", "tests/unit tests"]);
    expect(saved.services[1].tests).toBe(false);
    await waitFor(() => expect(screen.getAllByTestId("project-row").map((r) => r.getAttribute("data-project"))).toContain("shop"));
  });

  test("a validation error from save_project is shown as what/why/fix, and nothing is saved", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp({ hash: "#/project" });
    await user.type(id("project-path"), "/home/dev/shop");
    await user.click(id("project-detect"));
    await screen.findByTestId("project-detected");
    await user.clear(id("project-replicas"));
    await user.type(id("project-replicas"), "0");
    await user.click(id("project-save"));
    await screen.findByTestId("project-save-error");
    expect(id("project-save-error-what")).toHaveTextContent("Project settings are not valid");
    expect(id("project-save-error-why")).toHaveTextContent("0 replicas per service");
    expect(id("project-save-error-fix")).toHaveTextContent("Use 1 to 20 replicas");
    expect(backend.pipeline.projects.map((p) => p.id)).toEqual(["sample-app"]);
    // What cannot even be sent is refused before the call.
    await user.clear(id("project-replicas"));
    await user.type(id("project-replicas"), "many");
    await user.click(id("project-save"));
    await waitFor(() => expect(id("project-save-error-why")).toHaveTextContent("replicas: 'many' is not a whole number"));
    expect(backend.calls.filter((c) => c.cmd === "save_project")).toHaveLength(1);
  });

  test("detection errors: not a folder, nothing to build, a Git URL that does not exist", async () => {
    const user = userEvent.setup();
    await renderApp({ hash: "#/project" });
    await user.type(id("project-path"), "relative/path");
    await user.click(id("project-detect"));
    await screen.findByTestId("project-detect-error");
    expect(id("project-detect-error-why")).toHaveTextContent("relative/path is not a folder");
    expect(id("project-detect-error-fix")).toHaveTextContent("Check the repository path");

    await user.clear(id("project-path"));
    await user.type(id("project-path"), "/home/dev/empty");
    await user.click(id("project-detect"));
    await waitFor(() => expect(id("project-detect-error-why")).toHaveTextContent("no Dockerfile and no compose service"));

    await user.click(id("project-source-git"));
    await user.type(id("project-git-url"), "https://github.com/acme/missing.git");
    await user.click(id("project-detect"));
    await waitFor(() => expect(id("project-detect-error-what")).toHaveTextContent("Checkout failed"));
    expect(screen.queryByTestId("project-detected")).toBeNull();
  });

  test("a Git URL; a service without a test command is flagged", async () => {
    const user = userEvent.setup();
    await renderApp({ hash: "#/project" });
    await user.click(id("project-source-git"));
    await user.type(id("project-git-url"), "https://github.com/acme/plain-api.git");
    await user.click(id("project-detect"));
    await screen.findByTestId("project-detected");
    expect(id("project-source")).toHaveTextContent("https://github.com/acme/plain-api.git");
    expect(id("project-id")).toHaveValue("plain-api");
    expect(id("service-test-command")).toHaveValue("");
    expect(id("service-no-test-command")).toHaveTextContent("the Test stage will fail");
  });

  test("a saved project can be loaded back into the form", async () => {
    const user = userEvent.setup();
    await renderApp({ hash: "#/project" });
    const row = await screen.findByTestId("project-row");
    expect(row).toHaveAttribute("data-project", "sample-app");
    expect(within(row).getByTestId("project-open-pipelines")).toHaveAttribute("href", "#/pipelines?project=sample-app");
    await user.click(within(row).getByTestId("project-edit"));
    expect(await screen.findByTestId("project-id")).toHaveValue("sample-app");
    expect(id("project-source")).toHaveTextContent("/home/dev/sample-app");
  });
});
