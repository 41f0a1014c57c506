// Small, fast projects for the page tests, like crates/app/tests/pipeline.rs makes them: one
// busybox web service (an image built in about a second from the test environment's
// slipway/busybox), a test command that writes a JUnit report (and a Cobertura one), and a
// health path, so a run goes through Checkout, Build, Test, Push and Deploy in seconds.

/** JUnit XML with `passed` passing cases and the failing ones named. */
export function junit(service: string, passed: string[], failed: { name: string; message: string }[] = []): string {
  const cases = [
    ...passed.map((n) => `<testcase classname="tests.test_${service}" name="${n}" time="0.01"/>`),
    ...failed.map((f) => `<testcase classname="tests.test_${service}" name="${f.name}" time="0.02"><failure message="${f.message}">${f.message}</failure></testcase>`),
  ];
  return `<?xml version="1.0"?><testsuite name="${service}" tests="${cases.length}" failures="${failed.length}" errors="0" skipped="0" time="0.1">${cases.join("")}</testsuite>`;
}

/** A Cobertura report: `covered` of `valid` lines. */
export function cobertura(covered: number, valid: number): string {
  return `<?xml version="1.0"?><coverage line-rate="${(covered / valid).toFixed(4)}" lines-covered="${covered}" lines-valid="${valid}" branch-rate="0" version="1"><packages/></coverage>`;
}

/** A shell line that writes `text` to `file` (single quotes kept out of the text). */
const write = (file: string, text: string) => `printf '%s' '${text.replace(/'/g, "")}' > ${file}`;

export type WebProject = {
  /** Extra Dockerfile lines before CMD (RUN steps that print, take time or fail). */
  build?: string[];
  /** The test command's shell line; default: three passing cases and 75 % coverage. */
  test?: string;
  replicas?: number;
};

/** The test command that passes: three cases, coverage 3 of 4 lines. */
export const PASSING_TESTS = [
  "mkdir -p /reports",
  write("/reports/junit.xml", junit("web", ["test_index", "test_health", "test_cart_total"])),
  write("/reports/coverage.xml", cobertura(3, 4)),
  "echo 3 passed",
].join(" && ");

/** The test command that fails one case (and exits 1, as pytest does). */
export const FAILING_TESTS = [
  "mkdir -p /reports",
  write("/reports/junit.xml", junit("web", ["test_index", "test_health"], [{ name: "test_cart_total", message: "AssertionError: assert 41 == 42" }])),
  "echo FAILED tests/test_web.py::test_cart_total - AssertionError: assert 41 == 42",
  "exit 1",
].join(" && ");

/** The files of a one-service project: `web`, busybox httpd on 8080 answering "web <hostname>". */
export function webProject(p: WebProject = {}): Record<string, string> {
  const toml = [`[services.web]`, `test = ${JSON.stringify(p.test ?? PASSING_TESTS)}`, `health_path = "/"`, ``, `[deploy]`, `replicas = ${p.replicas ?? 1}`, ``].join("\n");
  return {
    "web/Dockerfile": [
      "FROM slipway/busybox:latest",
      ...(p.build ?? []),
      "EXPOSE 8080",
      'CMD ["sh", "-c", "mkdir -p /www && echo web $HOSTNAME > /www/index.html && exec httpd -f -vv -p 8080 -h /www"]',
      "",
    ].join("\n"),
    "docker-compose.yml": 'services:\n  web:\n    build: ./web\n    ports: ["8080"]\n',
    "slipway.toml": toml,
  };
}
