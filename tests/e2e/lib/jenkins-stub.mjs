// A Jenkins stand-in on a free loopback port with the shapes a real Jenkins (2.462, Pipeline
// Stage View plugin) answers, the same as crates/ci's wiremock tests: Basic auth with the user's
// API token (anything else: 401), the X-Jenkins header, jobs, builds, a Pipeline build's stage
// view (wfapi/describe), the console read from an offset (progressiveText with X-Text-Size and
// X-More-Data), and builds started only with the crumb from crumbIssuer (403 without it).
// Build #3 of job "app" runs until the test calls finish(): its Test stage and its console end.
import http from "node:http";

const T0 = Date.UTC(2026, 10, 27, 7, 0, 0);

export async function startJenkinsStub({ user, token }) {
  const requests = [];
  const crumb = "6b3e1c2f9a8d7e6f5a4b3c2d1e0f9a8b";
  let finished = false;
  let queued = 0;
  const consoleHead = ["Started by user Deployer", "[Pipeline] Start of Pipeline", "[Pipeline] stage", "[Pipeline] { (Checkout)", "Checking out Revision 3c9063bc85a9 (refs/remotes/origin/main)", "[Pipeline] stage", "[Pipeline] { (Build)", "+ docker build -t app-backend:3c9063b backend", "[Pipeline] stage", "[Pipeline] { (Test)", "+ pytest --junitxml=reports/backend.xml"].join("\n") + "\n";
  const consoleTail = ["======================== 12 passed in 3.21s ========================", "[Pipeline] junit", "Recording test results", "[Pipeline] }", "[Pipeline] End of Pipeline", "Finished: SUCCESS"].join("\n") + "\n";
  const consoleText = () => consoleHead + (finished ? consoleTail : "");

  const stage = (id, name, status, start, dur) => ({ id, name, execNode: "", status, startTimeMillis: T0 + start, durationMillis: dur, pauseDurationMillis: 0 });
  const describe = () => ({
    _links: { self: { href: "/job/app/3/wfapi/describe" } },
    id: "3",
    name: "#3",
    status: finished ? "SUCCESS" : "IN_PROGRESS",
    startTimeMillis: T0,
    endTimeMillis: finished ? T0 + 41_000 : 0,
    durationMillis: finished ? 41_000 : 20_000,
    stages: [
      stage("6", "Checkout", "SUCCESS", 0, 2_100),
      stage("14", "Build", "SUCCESS", 2_100, 17_400),
      stage("27", "Test", finished ? "SUCCESS" : "IN_PROGRESS", 19_500, finished ? 21_500 : 500),
    ],
  });
  const builds = () => [
    ...Array.from({ length: queued }, (_, i) => ({ _class: "org.jenkinsci.plugins.workflow.job.WorkflowRun", number: 4 + i, result: null, building: true, timestamp: T0 + 60_000 * (i + 1), duration: 0, url: `http://jenkins/job/app/${4 + i}/` })),
    { _class: "org.jenkinsci.plugins.workflow.job.WorkflowRun", number: 3, result: finished ? "SUCCESS" : null, building: !finished, timestamp: T0, duration: finished ? 41_000 : 0, url: "http://jenkins/job/app/3/" },
    { _class: "org.jenkinsci.plugins.workflow.job.WorkflowRun", number: 2, result: "FAILURE", building: false, timestamp: T0 - 3_600_000, duration: 38_000, url: "http://jenkins/job/app/2/" },
  ];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    requests.push({ method: req.method, path: url.pathname, search: url.search, crumb: req.headers["jenkins-crumb"] ?? null });
    const send = (status, body, headers = {}) => {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      res.writeHead(status, { "content-type": typeof body === "string" ? "text/html;charset=utf-8" : "application/json;charset=utf-8", "content-length": Buffer.byteLength(text), "x-jenkins": "2.462.3", "x-hudson": "1.395", ...headers });
      res.end(text);
    };
    const expected = "Basic " + Buffer.from(`${user}:${token}`).toString("base64");
    if (req.headers.authorization !== expected) {
      return send(401, "<html><head><title>Error 401 Unauthorized</title></head><body><h2>HTTP ERROR 401 Unauthorized</h2></body></html>", { "www-authenticate": 'Basic realm="Jenkins"' });
    }
    const p = url.pathname;
    if (req.method === "GET" && p === "/api/json") {
      return send(200, { _class: "hudson.model.Hudson", jobs: [{ _class: "org.jenkinsci.plugins.workflow.job.WorkflowJob", name: "app", url: "http://jenkins/job/app/", color: finished ? "blue" : "blue_anime", lastBuild: { _class: "org.jenkinsci.plugins.workflow.job.WorkflowRun", number: 3 + queued } }] });
    }
    if (req.method === "GET" && p === "/job/app/api/json") return send(200, { _class: "org.jenkinsci.plugins.workflow.job.WorkflowJob", builds: builds() });
    if (req.method === "GET" && p === "/job/app/3/wfapi/describe") return send(200, describe());
    if (req.method === "GET" && p === "/job/app/3/logText/progressiveText") {
      const all = Buffer.from(consoleText());
      const start = Math.min(Number(url.searchParams.get("start") ?? 0), all.length);
      const part = all.subarray(start);
      res.writeHead(200, { "content-type": "text/plain;charset=utf-8", "content-length": part.length, "x-text-size": String(all.length), ...(finished ? {} : { "x-more-data": "true" }), "x-jenkins": "2.462.3" });
      return res.end(part);
    }
    if (req.method === "GET" && p === "/crumbIssuer/api/json") {
      return send(200, { _class: "hudson.security.csrf.DefaultCrumbIssuer", crumb, crumbRequestField: "Jenkins-Crumb" }, { "set-cookie": "JSESSIONID.4f5e6d7c=node0e2e.node0; Path=/; HttpOnly" });
    }
    if (req.method === "POST" && p === "/job/app/build") {
      if (req.headers["jenkins-crumb"] !== crumb) {
        return send(403, "<html><head><title>Error 403 No valid crumb was included in the request</title></head><body><h2>HTTP ERROR 403 No valid crumb was included in the request</h2></body></html>");
      }
      queued += 1;
      res.writeHead(201, { location: `http://127.0.0.1:${server.address().port}/queue/item/${40 + queued}/`, "content-length": 0, "x-jenkins": "2.462.3" });
      return res.end();
    }
    return send(404, "<html><head><title>Error 404 Not Found</title></head><body><h2>HTTP ERROR 404 Not Found</h2></body></html>");
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    /** Build #3's Test stage passes and its console ends with "Finished: SUCCESS". */
    finish: () => {
      finished = true;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
