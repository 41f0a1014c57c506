// A GitHub API stand-in on a free loopback port, answering with the shapes the real
// api.github.com sends (the same recorded shapes as crates/testkit): GET /user (the good token
// gets a user with scopes "repo, workflow"; any other token gets 401 "Bad credentials"), the
// token's repositories, and octocat/sample-app's GitHub Actions: two workflow runs, the jobs and
// steps of run 9001, and job 7001's log (a 302 to a short-lived URL, as GitHub does).
import http from "node:http";

/** Job 7001's log as GitHub serves it: each line with its timestamp. */
export const JOB_LOG = [
  "2026-11-27T06:58:01.1234567Z ##[group]Run actions/checkout@v4",
  "2026-11-27T06:58:02.2345678Z Syncing repository: octocat/sample-app",
  "2026-11-27T06:58:03.3456789Z ##[endgroup]",
  "2026-11-27T06:58:04.4567890Z Run pytest --junitxml=reports/backend.xml",
  "2026-11-27T06:58:09.5678901Z ======================== 12 passed in 3.21s ========================",
].join("\n");

const repo = (owner, name, priv) => ({
  id: 1296269, node_id: "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", name, full_name: `${owner}/${name}`, private: priv,
  owner: { login: owner, id: 583231, type: "User", site_admin: false },
  html_url: `https://github.com/${owner}/${name}`, description: `${name}, for the e2e tests`, fork: false,
  url: `https://api.github.com/repos/${owner}/${name}`, created_at: "2011-01-26T19:01:12Z", updated_at: "2026-11-20T10:01:12Z",
  pushed_at: "2026-11-20T10:01:10Z", clone_url: `https://github.com/${owner}/${name}.git`, default_branch: "main",
  visibility: priv ? "private" : "public", permissions: { admin: true, push: true, pull: true },
});

const run = (id, number, status, conclusion, owner) => ({
  id, name: "CI", node_id: "WFR_kwLOABPHjM8AAAAB", head_branch: "main", head_sha: number === 2 ? "3c9063bc85a9e5f7d2b4c6a8e0f1d3b5a7c9e1f3" : "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d",
  path: ".github/workflows/ci.yml", run_number: number, event: "push", display_title: "Sample app", status, conclusion, workflow_id: 161335,
  html_url: `https://github.com/${owner}/sample-app/actions/runs/${id}`, created_at: `2026-11-27T06:5${number}:00Z`, updated_at: `2026-11-27T06:5${number}:40Z`,
  run_attempt: 1, run_started_at: `2026-11-27T06:5${number}:00Z`,
});

const job = (id, runId, owner) => ({
  id, run_id: runId, workflow_name: "CI", head_branch: "main", run_url: `https://api.github.com/repos/${owner}/sample-app/actions/runs/${runId}`,
  node_id: "CR_kwDOABPHjM8AAAAB", head_sha: "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d", html_url: `https://github.com/${owner}/sample-app/actions/runs/${runId}/job/${id}`,
  status: "completed", conclusion: "success", created_at: "2026-11-27T06:58:00Z", started_at: "2026-11-27T06:58:01Z", completed_at: "2026-11-27T06:58:10Z", name: "test",
  steps: [
    { name: "Set up job", status: "completed", conclusion: "success", number: 1, started_at: "2026-11-27T06:58:01Z", completed_at: "2026-11-27T06:58:01Z" },
    { name: "Run actions/checkout@v4", status: "completed", conclusion: "success", number: 2, started_at: "2026-11-27T06:58:01Z", completed_at: "2026-11-27T06:58:03Z" },
    { name: "Run pytest", status: "completed", conclusion: "success", number: 3, started_at: "2026-11-27T06:58:04Z", completed_at: "2026-11-27T06:58:09Z" },
  ],
  runner_name: "GitHub Actions 2", labels: ["ubuntu-latest"],
});

export async function startGithubStub({ goodToken, login = "octocat" }) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? "";
    requests.push({ method: req.method, url: req.url, auth });
    const json = (status, body, headers = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(text),
        "x-github-media-type": "github.v3; format=json",
        ...headers,
      });
      res.end(text);
    };
    const token = auth.replace(/^(token|bearer)\s+/i, "");
    const p = req.url.split("?")[0];
    const rate = { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": String(4990 - requests.length), "x-ratelimit-reset": "1795770000", "x-ratelimit-used": String(10 + requests.length), "x-ratelimit-resource": "core" };
    if (req.method === "GET" && p.startsWith("/job-logs/")) {
      res.writeHead(200, { "content-type": "text/plain" });
      return res.end(JOB_LOG);
    }
    if (p !== "/user" && goodToken && token === goodToken) {
      if (req.method === "GET" && p === "/user/repos") return json(200, [repo(login, "sample-app", false), repo("octo-org", "payments", true)], rate);
      if (req.method === "GET" && p === `/repos/${login}/sample-app/actions/runs`) return json(200, { total_count: 2, workflow_runs: [run(9002, 2, "in_progress", null, login), run(9001, 1, "completed", "success", login)] }, rate);
      if (req.method === "GET" && p === `/repos/${login}/sample-app/actions/runs/9001/jobs`) return json(200, { total_count: 1, jobs: [job(7001, 9001, login)] }, rate);
      if (req.method === "GET" && p === `/repos/${login}/sample-app/actions/jobs/7001/logs`) {
        res.writeHead(302, { location: `http://127.0.0.1:${server.address().port}/job-logs/7001?sig=e2e`, "content-length": 0, ...rate });
        return res.end();
      }
    }
    if (req.method !== "GET" || p !== "/user") {
      return json(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" });
    }
    if (goodToken && token === goodToken) {
      return json(
        200,
        {
          login,
          id: 583231,
          node_id: "MDQ6VXNlcjU4MzIzMQ==",
          avatar_url: "https://avatars.githubusercontent.com/u/583231?v=4",
          type: "User",
          site_admin: false,
          name: "The Octocat",
          company: "@github",
          public_repos: 8,
          created_at: "2011-01-25T18:44:36Z",
          updated_at: "2024-01-22T12:21:43Z",
        },
        { "x-oauth-scopes": "repo, workflow", "x-ratelimit-remaining": "4999" },
      );
    }
    return json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the app's HTTP client keeps connections alive
      }),
  };
}
