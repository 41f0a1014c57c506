import { describe, expect, test } from "vitest";

import type { Project } from "../../bindings/Project";
import type { ServiceSpec } from "../../bindings/ServiceSpec";
import { defaultEntry, fromForm, joinCommand, sourceText, splitCommand, toForm } from "./model";

describe("test command as one line", () => {
  test("splits like a shell, without expanding anything", () => {
    expect(splitCommand("pytest -q --junitxml=/reports/junit.xml")).toEqual({ args: ["pytest", "-q", "--junitxml=/reports/junit.xml"] });
    expect(splitCommand("  sh -c 'go test ./... && echo ok'  ")).toEqual({ args: ["sh", "-c", "go test ./... && echo ok"] });
    expect(splitCommand('echo "a \\"b\\" c" $HOME')).toEqual({ args: ["echo", 'a "b" c', "$HOME"] });
    expect(splitCommand("a\\ b c")).toEqual({ args: ["a b", "c"] });
    expect(splitCommand("x ''")).toEqual({ args: ["x", ""] });
    expect(splitCommand("")).toEqual({ args: [] });
  });

  test("an unclosed quote is an error", () => {
    expect(splitCommand("sh -c 'oops")).toEqual({ error: "a ' quote is not closed" });
    expect(splitCommand('echo "oops')).toEqual({ error: 'a " quote is not closed' });
  });

  test("join then split gives the same arguments back", () => {
    const cases = [
      ["pytest", "-q", "--junitxml=/reports/junit.xml", "--cov=.", "--cov-report=xml:/reports/coverage.xml"],
      ["sh", "-c", "npm test && echo 'done'"],
      ["echo", "", "a b", "it's", '"q"', "\\"],
    ];
    for (const args of cases) expect(splitCommand(joinCommand(args))).toEqual({ args });
    expect(joinCommand(cases[0])).toBe("pytest -q --junitxml=/reports/junit.xml --cov=. --cov-report=xml:/reports/coverage.xml");
  });
});

/** A project as detection gives it for a compose repository (backend, frontend, a database). */
const service = (name: string, port: number, env: Record<string, string>, dependsOn: string[]): ServiceSpec => ({
  name,
  context: name,
  dockerfile: "Dockerfile",
  port,
  env,
  dependsOn,
  testCommand: ["pytest", "-q", "--junitxml=/reports/junit.xml", "--cov=.", "--cov-report=xml:/reports/coverage.xml"],
  tests: true,
  buildArgs: {},
  language: "python",
  healthPath: "/healthz",
  image: null,
  aliases: [],
  command: null,
  entrypoint: null,
  healthcheck: null,
  dependsConditions: {},
  secretEnv: [],
  timeoutSecs: null,
  coverageMin: null,
  testTimeoutSecs: null,
});
const sample: Project = {
  id: "shop",
  source: { kind: "path", path: "/home/dev/shop" },
  subdir: "",
  gitRef: "HEAD",
  services: [service("backend", 8000, { DB_HOST: "db", DB_PORT: "3306" }, ["db"]), service("frontend", 8080, { BACKEND_URL: "http://backend:8000" }, ["backend"])],
  database: { name: "db", image: "mariadb:10.11", schema: "db/schema.sql", database: "sample", user: "sample", engine: "mysql", schemaFiles: [], aliases: [], urls: [] },
  manifests: ["k8s/backend.yaml"],
  envVars: ["DB_HOST", "DB_PASSWORD"],
  deploy: { replicas: 3, entry: null, proxyPort: 0, entryReason: null },
  concurrency: 1,
  detectedFrom: ["docker-compose.yml"],
  facts: [],
  settings: [],
  committedSecrets: [],
  composeFile: "docker-compose.yml",
};

describe("the project form", () => {

  test("a detected project round-trips through the form unchanged", () => {
    const r = fromForm(sample, toForm(sample));
    expect(r).toEqual({ project: sample });
  });

  test("edits reach the project: test command, tests off, port, replicas, entry, concurrency, ref, id", () => {
    const f = toForm(sample);
    f.services[0].testCommand = "pytest -x tests/unit";
    f.services[1].tests = false;
    f.services[1].port = "";
    f.replicas = "2";
    f.entry = "backend";
    f.concurrency = "3";
    f.gitRef = " main ";
    f.id = "shop-2";
    const r = fromForm(sample, f);
    if (!("project" in r)) throw new Error(r.error.why);
    const p = r.project;
    expect(p.services[0].testCommand).toEqual(["pytest", "-x", "tests/unit"]);
    expect(p.services[1].tests).toBe(false);
    expect(p.services[1].port).toBeNull();
    expect(p.deploy).toEqual({ replicas: 2, entry: "backend", proxyPort: 0, entryReason: "chosen on the Project page" });
    expect(p.concurrency).toBe(3);
    expect(p.gitRef).toBe("main");
    expect(p.id).toBe("shop-2");
    // An empty test command is "none" (the Test stage then fails unless tests are off).
    f.services[0].testCommand = "  ";
    const r2 = fromForm(sample, f);
    expect("project" in r2 && r2.project.services[0].testCommand).toBeNull();
  });

  test("what cannot be sent is refused with what/why/fix; the rest is left to the Rust side", () => {
    const f = toForm(sample);
    expect(fromForm(sample, { ...f, replicas: "three" })).toMatchObject({ error: { what: "Project not saved", why: "replicas: 'three' is not a whole number" } });
    expect(fromForm(sample, { ...f, concurrency: "1.5" })).toMatchObject({ error: { why: "concurrency: '1.5' is not a whole number" } });
    const badPort = { ...f, services: f.services.map((s, i) => (i === 0 ? { ...s, port: "70000" } : s)) };
    expect(fromForm(sample, badPort)).toMatchObject({ error: { why: "backend: port '70000' is not a port number" } });
    const badCmd = { ...f, services: f.services.map((s, i) => (i === 0 ? { ...s, testCommand: "pytest 'x" } : s)) };
    expect(fromForm(sample, badCmd)).toMatchObject({ error: { why: "backend: in the test command, a ' quote is not closed" } });
    // 0 replicas is a whole number: it goes to save_project, which refuses it (the Chromium
    // suite's project.test.ts sees the Rust side's refusal).
    const zero = fromForm(sample, { ...f, replicas: "0" });
    expect("project" in zero && zero.project.deploy.replicas).toBe(0);
  });

  test("the automatic entry is the first service nothing depends on; the source names the folder inside the repository", () => {
    expect(defaultEntry(sample)).toBe("frontend");
    expect(sourceText(sample)).toBe("/home/dev/shop");
    expect(sourceText({ ...sample, source: { kind: "path", path: "/work/repo" }, subdir: "examples/app" })).toBe("/work/repo (folder examples/app)");
  });
});
