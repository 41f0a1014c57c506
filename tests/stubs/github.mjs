// A GitHub API stand-in on a free loopback port, shared by the desktop e2e (tests/e2e) and the
// UI's page tests (ui/tests/browser), in front of the real Rust client (crates/git-host). It
// answers with the shapes the real api.github.com sends (the same recorded shapes as
// crates/testkit), headers included:
// - GET /user: the good token gets the user with scopes "repo, workflow"; any other token (or any
//   token once `revoke()` was called) gets 401 "Bad credentials";
// - the token's repositories (its user's and the organisation's, 62 in all, sort=pushed, paged
//   with a Link header), branches (100 a page), a branch's head with an ETag (If-None-Match: 304),
//   commits, commit statuses (POST, recorded), GitHub Actions runs (30 a page), a run's jobs with
//   their steps, and a job's log (a 302 to a short-lived URL, as GitHub does);
// - the quota: every answer carries x-ratelimit-*, one request less each time; at 0 every call is
//   refused with GitHub's 403 until the reset (`setRemaining(n)`);
// - <login>/sample-app has 34 Actions runs in every state; the newest two (queued, in progress)
//   finish after the repository's runs were listed three times (page 1), so a page that refreshes
//   itself can be watched; `push(repo, branch)` puts a new commit on a branch.
import { createHash } from "node:crypto";
import http from "node:http";

export const ORG = "harbor-works";
export const RUNS_PER_PAGE_MAX = 100;
/** Listings of a repository's runs (page 1) after which its queued and running runs have finished. */
export const POLLS_TO_FINISH = 3;
export const RATE_LIMIT = 5000;

/** A deterministic hex string of `length` from `seed`. */
export function hex(seed, length) {
  let out = "";
  for (let i = 0; out.length < length; i++) out += createHash("sha256").update(`${seed}#${i}`).digest("hex");
  return out.slice(0, length);
}

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

// ---- repositories ----------------------------------------------------------------------------

const USER_NAMES = [
  ["dotfiles", "zsh, tmux and neovim setup"],
  ["blog", "Personal blog (Hugo)"],
  ["advent-of-code-2024", "Solutions in Rust"],
  ["rust-playground", null],
  ["k8s-homelab", "Flux manifests for the Raspberry Pi cluster"],
  ["resume", null],
  ["slipway-demo", "A tiny app to try Slipway's pipelines"],
  ["notes", "Markdown notes"],
  ["pico-weather", "Weather station on a Raspberry Pi Pico"],
  ["aws-cost-report", "Daily AWS cost e-mail (Lambda)"],
  ["grafana-dashboards", null],
  ["talks", "Slides of meetup talks"],
  ["leetcode", null],
  ["ansible-workstation", "Ansible playbook for a new laptop"],
  ["photo-sorter", "Sorts photos into folders by EXIF date"],
  ["go-url-shortener", "A URL shortener in Go with SQLite"],
  ["terraform-sandbox", "Trying Terraform modules"],
  ["python-cli-template", "Cookiecutter for Python CLIs"],
  ["home-assistant-config", null],
  ["chess-engine", "A small UCI chess engine"],
  ["markdown-linter", null],
  ["old-portfolio", "Archived"],
];

const ORG_NAMES = [
  ["web-storefront", "The shop's customer-facing site (Next.js)"],
  ["billing-service", "Invoices and VAT"],
  ["inventory", "Stock levels per warehouse"],
  ["design-system", "Shared React components"],
  ["mobile-app", "iOS and Android app (React Native)"],
  ["docs", "Developer documentation"],
  ["search-indexer", "Feeds products into OpenSearch"],
  ["auth-gateway", "OIDC login in front of the internal tools"],
  ["data-pipelines", "Airflow DAGs"],
  ["helm-charts", "Charts for every service"],
  ["load-tests", "k6 scenarios"],
  ["warehouse-scanner", "Barcode scanner app for the warehouses"],
  ["email-templates", null],
  ["feature-flags", "Flag service and SDK"],
  ["notifications", "Push, SMS and e-mail"],
  ["reporting", "Monthly reports for finance"],
  ["support-bot", "Answers the common support questions"],
  ["price-rules", "Discount and pricing rules engine"],
  ["ci-templates", "Reusable GitHub Actions workflows"],
  ["security-policies", null],
  ["image-resizer", "Resizes product photos on upload"],
  ["shipping", "Carrier integrations"],
  ["catalog", "Product catalogue service"],
  ["recommendations", "Also-bought recommendations"],
  ["admin-portal", "Back office"],
  ["status-page", null],
  ["runbooks", "On-call runbooks"],
  ["sandbox", "Throwaway experiments"],
  ["legacy-php-shop", "The old shop, read-only"],
  ["terraform-modules", "Shared Terraform modules"],
  ["observability", "Prometheus rules and alerts"],
  ["customer-portal", "Orders and returns for customers"],
  ["translations", null],
  ["qa-automation", "Playwright end-to-end tests"],
  ["gift-cards", null],
  ["tax-rates", "VAT rates by country"],
  ["returns", "Returns and refunds flow"],
];

function makeRepos(login, now) {
  const seeds = [
    {
      owner: login,
      name: "sample-app",
      private: false,
      description: "The sample shop: Flask backend, static frontend and MariaDB, with a compose file and Kubernetes manifests",
      branches: ["main", "develop", "feature/checkout-v2", "fix/item-order", "release/1.x", "dependabot/pip/backend/flask-3.1.1"],
    },
    { owner: ORG, name: "shop-api", private: true, description: "Orders and payments API (Go)", defaultBranch: "trunk", branches: ["trunk", "staging", "feat/refunds"] },
    { owner: ORG, name: "infra", private: true, description: "Terraform for the shared AWS accounts", branches: ["main", "eks-1.31"] },
    ...USER_NAMES.map(([name, description]) => ({ owner: login, name, private: name === "notes" || name === "resume", description })),
    ...ORG_NAMES.map(([name, description], i) => ({ owner: ORG, name, private: i % 3 !== 1, description })),
  ];
  return seeds.map((s, i) => {
    const defaultBranch = s.defaultBranch ?? (i % 11 === 7 ? "master" : "main");
    return {
      owner: s.owner,
      name: s.name,
      fullName: `${s.owner}/${s.name}`,
      private: s.private,
      description: s.description,
      defaultBranch,
      // sort=pushed: the first three were pushed to last, then every ~7 hours another.
      pushedAt: now - (i * 7 + 1) * 3_600_000 - (i % 5) * 60_000,
      branches: s.branches ?? [defaultBranch, ...(i % 4 === 0 ? ["develop"] : [])],
      id: 1296269 + i * 7,
    };
  });
}

const COMMIT_MESSAGES = [
  "Fix the order of items on the list page",
  "Bump flask from 3.1.0 to 3.1.1 in /backend",
  "Add a health check to the backend container",
  "Merge pull request #48 from octo-dev/feature/checkout-v2",
  "Cache pip downloads in CI",
  "Show the item count in the header",
  "Run the database migrations before the tests",
  "Use one gunicorn worker per CPU",
  "Document the local setup",
  "Retry the database connection at start",
  "Add pagination to /items",
  "Pin the MariaDB image to 10.11",
  "Remove the unused jQuery",
  "Log requests as JSON",
  "Test the empty list",
];
const AUTHORS = ["octo-dev", "mara-h", "dependabot[bot]", "jkowalski", "priya-n"];

// ---- GitHub Actions --------------------------------------------------------------------------

function sampleRuns() {
  const fixed = [
    { workflow: "CI", number: 212, event: "push", branch: "main", end: "queued", agoMin: 1 },
    { workflow: "CI", number: 211, event: "pull_request", branch: "feature/checkout-v2", end: "in_progress", agoMin: 4 },
    { workflow: "CI", number: 210, event: "push", branch: "fix/item-order", end: "failure", agoMin: 38 },
    { workflow: "Release", number: 18, event: "workflow_dispatch", branch: "main", end: "success", agoMin: 95 },
    { workflow: "CI", number: 209, event: "pull_request", branch: "feature/checkout-v2", end: "cancelled", agoMin: 130 },
    { workflow: "CodeQL", number: 52, event: "schedule", branch: "main", end: "success", agoMin: 200 },
    { workflow: "CI", number: 208, event: "pull_request", branch: "dependabot/pip/backend/flask-3.1.1", end: "skipped", agoMin: 260 },
    { workflow: "CI", number: 207, event: "push", branch: "develop", end: "timed_out", agoMin: 330 },
    { workflow: "CI", number: 206, event: "pull_request", branch: "patch-1", end: "action_required", agoMin: 410 },
  ];
  const rest = [];
  for (let i = 0; i < 25; i++) {
    const codeql = i % 9 === 4;
    rest.push({
      workflow: codeql ? "CodeQL" : "CI",
      number: codeql ? 51 - Math.floor(i / 9) : 205 - i,
      event: codeql ? "schedule" : i % 3 === 0 ? "pull_request" : "push",
      branch: codeql ? "main" : ["main", "develop", "fix/item-order"][i % 3],
      end: i % 7 === 2 ? "failure" : "success",
      agoMin: 480 + i * 170,
    });
  }
  return [...fixed, ...rest];
}

const SHOP_API_RUNS = [
  { workflow: "CI", number: 77, event: "push", branch: "trunk", end: "success", agoMin: 50 },
  { workflow: "CI", number: 76, event: "pull_request", branch: "feat/refunds", end: "failure", agoMin: 300 },
  { workflow: "Release", number: 9, event: "push", branch: "trunk", end: "success", agoMin: 1500 },
];

const JOBS = { CI: ["lint", "test (3.12)", "build-image"], CodeQL: ["Analyze (python)"], Release: ["release"] };
const STEPS = {
  lint: ["Set up job", "Run actions/checkout@v4", "Set up Python", "Run ruff check .", "Post Run actions/checkout@v4", "Complete job"],
  "test (3.12)": [
    "Set up job",
    "Initialize containers",
    "Run actions/checkout@v4",
    "Set up Python",
    "Install dependencies",
    "Run pytest",
    "Upload test results",
    "Post Run actions/checkout@v4",
    "Stop containers",
    "Complete job",
  ],
  "build-image": ["Set up job", "Run actions/checkout@v4", "Set up Docker Buildx", "Build images", "Post Run actions/checkout@v4", "Complete job"],
  "Analyze (python)": ["Set up job", "Run actions/checkout@v4", "Initialize CodeQL", "Perform CodeQL Analysis", "Post Run actions/checkout@v4", "Complete job"],
  release: ["Set up job", "Run actions/checkout@v4", "Log in to ghcr.io", "Build and push", "Create the GitHub release", "Complete job"],
};
/** The step that fails, is cancelled or is running in a job that does. */
const CRITICAL = { lint: "Run ruff check .", "test (3.12)": "Run pytest", "build-image": "Build images", "Analyze (python)": "Perform CodeQL Analysis", release: "Build and push" };
/** Steps that run even after a failure. */
const ALWAYS = (name) => name.startsWith("Post ") || name === "Complete job" || name === "Stop containers";

/** GitHub's timestamp prefix: 2025-05-02T10:11:12.3456789Z. */
const stamp = (ms, n) => `${new Date(ms).toISOString().slice(0, 19)}.${String(1_000_000 + ((n * 7_919_173) % 9_000_000)).padStart(7, "0")}Z`;

function stepLines(run, job, step) {
  const repo = run.repo;
  const short = run.sha.slice(0, 7);
  switch (step.name) {
    case "Set up job":
      return [
        "Current runner version: '2.323.0'",
        "##[group]Operating System",
        "Ubuntu",
        "24.04.2",
        "LTS",
        "##[endgroup]",
        "##[group]Runner Image",
        "Image: ubuntu-24.04",
        "Version: 20250427.1.0",
        "Included Software: https://github.com/actions/runner-images/blob/ubuntu24/20250427.1/images/ubuntu/Ubuntu2404-Readme.md",
        "##[endgroup]",
        "##[group]GITHUB_TOKEN Permissions",
        "Contents: read",
        "Metadata: read",
        "##[endgroup]",
        "Secret source: Actions",
        "Prepare workflow directory",
        "Prepare all required actions",
        "Getting action download info",
        "Download action repository 'actions/checkout@v4' (SHA:11bd71901bbe5b1630ceea73d27597364c9af683)",
        "Download action repository 'actions/setup-python@v5' (SHA:a26af69be951a213d495a4c3e4e4022e16d87065)",
        `Complete job name: ${job.name}`,
      ];
    case "Initialize containers":
      return [
        "##[group]Checking docker version",
        "/usr/bin/docker version --format '{{.Server.APIVersion}}'",
        "'1.48'",
        "##[endgroup]",
        "##[group]Starting mariadb service container",
        "/usr/bin/docker pull mariadb:10.11",
        "10.11: Pulling from library/mariadb",
        "Status: Downloaded newer image for mariadb:10.11",
        "##[endgroup]",
        "##[group]Waiting for all services to be ready",
        "mariadb service is healthy.",
        "##[endgroup]",
      ];
    case "Run actions/checkout@v4":
      return [
        "##[group]Run actions/checkout@v4",
        "with:",
        `  repository: ${repo}`,
        "  token: ***",
        "  fetch-depth: 1",
        "##[endgroup]",
        `Syncing repository: ${repo}`,
        "##[group]Getting Git version info",
        "git version 2.49.0",
        "##[endgroup]",
        `/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 origin +${run.sha}:refs/remotes/origin/${run.seed.branch}`,
        `From https://github.com/${repo}`,
        ` * [new ref]         ${run.sha} -> origin/${run.seed.branch}`,
        `HEAD is now at ${short} ${COMMIT_MESSAGES[run.seed.number % COMMIT_MESSAGES.length]}`,
      ];
    case "Set up Python":
      return ["##[group]Run actions/setup-python@v5", "with:", "  python-version: 3.12", "##[endgroup]", "Successfully set up CPython (3.12.10)"];
    case "Install dependencies":
      return [
        "##[group]Run pip install -r backend/requirements.txt -r backend/requirements-dev.txt",
        "pip install -r backend/requirements.txt -r backend/requirements-dev.txt",
        "shell: /usr/bin/bash -e {0}",
        "##[endgroup]",
        "Collecting flask==3.1.1",
        "Collecting gunicorn==23.0.0",
        "Collecting pymysql==1.1.1",
        "Collecting pytest==8.3.5",
        "Collecting pytest-cov==6.1.1",
        "Successfully installed flask-3.1.1 gunicorn-23.0.0 pymysql-1.1.1 pytest-8.3.5 pytest-cov-6.1.1",
      ];
    case "Run pytest": {
      const head = ["##[group]Run pytest -q --junitxml=reports/junit.xml", "pytest -q --junitxml=reports/junit.xml", "shell: /usr/bin/bash -e {0}", "env:", "  DB_HOST: 127.0.0.1", "##[endgroup]"];
      if (step.conclusion === "failure") {
        return [
          ...head,
          "..F......                                                                [100%]",
          "=================================== FAILURES ===================================",
          "_______________________ test_items_lists_the_seed_rows ________________________",
          "",
          "    def test_items_lists_the_seed_rows(client, db):",
          "        names = [i['name'] for i in client.get('/items').json]",
          ">       assert names == ['anchor', 'buoy', 'capstan']",
          "E       AssertionError: assert ['anchor', 'buoy'] == ['anchor', 'buoy', 'capstan']",
          "",
          "tests/test_api.py:31: AssertionError",
          "- generated xml file: /home/runner/work/sample-app/sample-app/reports/junit.xml -",
          "=========================== short test summary info ============================",
          "FAILED tests/test_api.py::test_items_lists_the_seed_rows - AssertionError",
          "1 failed, 8 passed in 2.41s",
          "##[error]Process completed with exit code 1.",
        ];
      }
      if (step.conclusion === "cancelled") return [...head, "......", "##[error]The operation was canceled."];
      return [...head, ".........                                                                [100%]", "- generated xml file: /home/runner/work/sample-app/sample-app/reports/junit.xml -", "12 passed in 3.21s"];
    }
    case "Run ruff check .":
      return ["##[group]Run ruff check .", "ruff check .", "shell: /usr/bin/bash -e {0}", "##[endgroup]", "All checks passed!"];
    case "Build images":
    case "Build and push":
      return [
        `##[group]Run docker buildx build --tag ghcr.io/${repo}/backend:${short} backend`,
        "##[endgroup]",
        "#1 [internal] load build definition from Dockerfile",
        "#1 transferring dockerfile: 412B done",
        "#5 [2/5] RUN pip install --no-cache-dir -r requirements.txt",
        "#9 exporting to image",
        `#9 naming to ghcr.io/${repo}/backend:${short} done`,
        ...(step.name === "Build and push" ? [`pushed ghcr.io/${repo}/backend:${short}`] : []),
      ];
    case "Complete job":
      return ["Cleaning up orphan processes"];
    case "Stop containers":
      return ["Stop and remove container: 3c4e0c1f9a7b4d0b8e_mariadb1011_1f2e3d", "/usr/bin/docker rm --force 3c4e0c1f9a7b4d0b8e_mariadb1011_1f2e3d"];
    default:
      if (step.name.startsWith("Post ")) return ["Post job cleanup.", "/usr/bin/git version", "git version 2.49.0"];
      return [`##[group]Run ${step.name}`, "##[endgroup]", "done"];
  }
}

// ---- the server ------------------------------------------------------------------------------

/**
 * Starts the stand-in. `goodToken` is the token GitHub knows; `login` the user it belongs to.
 * Returns its `url` (the API base), every request seen (`requests`: method, url, auth, body) and
 * the knobs the tests turn.
 */
export async function startGithubStub({ goodToken, login = "octocat", userDelayMs = 0 } = {}) {
  const t0 = Date.now();
  const requests = [];
  const statuses = [];
  const repos = makeRepos(login, t0);
  const sampleRepo = `${login}/sample-app`;
  const runs = [];
  const addRuns = (repo, seeds, base) =>
    seeds.forEach((seed, i) => runs.push({ repo, seed, id: base + i * 137, sha: hex(`${repo}@${seed.branch}#${seed.number}`, 40), created: t0 - seed.agoMin * 60_000 - 23_000 }));
  addRuns(sampleRepo, sampleRuns(), 9_104_882_310);
  addRuns(`${ORG}/shop-api`, SHOP_API_RUNS, 9_099_120_004);
  const polls = new Map();
  /** Commits pushed during the test, newest first, by "repo@branch". */
  const pushed = new Map();
  const rate = { limit: RATE_LIMIT, remaining: 4988, reset: Math.floor(t0 / 1000) + 47 * 60, used: 12 };
  let revoked = false;
  const knobs = { userDelayMs };

  const repoOf = (owner, name) => repos.find((r) => r.fullName.toLowerCase() === `${owner}/${name}`.toLowerCase());
  const commitsOf = (repo, branch, count) => {
    const extra = pushed.get(`${repo}@${branch}`) ?? [];
    const offset = parseInt(hex(`${repo}@${branch}`, 2), 16) % COMMIT_MESSAGES.length;
    const base = [];
    for (let i = 0; base.length + extra.length < count; i++) {
      const sha = hex(`${repo}@${branch}#${i}`, 40);
      base.push({ sha, message: COMMIT_MESSAGES[(offset + i) % COMMIT_MESSAGES.length], author: AUTHORS[(offset + i * 3) % AUTHORS.length], date: t0 - (i * 5 + 2) * 3_600_000 - i * 17 * 60_000 });
    }
    return [...extra, ...base].slice(0, count);
  };
  const phase = (run) => {
    const end = run.seed.end;
    if (end !== "queued" && end !== "in_progress") return end;
    const n = polls.get(run.repo) ?? 0;
    if (n >= POLLS_TO_FINISH) return "success";
    if (end === "queued" && n >= POLLS_TO_FINISH - 1) return "in_progress";
    return end;
  };
  const runJson = (run) => {
    const p = phase(run);
    const done = p !== "queued" && p !== "in_progress";
    const [owner, name] = run.repo.split("/");
    return {
      id: run.id,
      name: run.seed.workflow,
      node_id: `WFR_${hex(String(run.id), 12)}`,
      head_branch: run.seed.branch,
      head_sha: run.sha,
      path: `.github/workflows/${run.seed.workflow.toLowerCase()}.yml`,
      display_title: COMMIT_MESSAGES[run.seed.number % COMMIT_MESSAGES.length],
      run_number: run.seed.number,
      event: run.seed.event,
      status: done ? "completed" : p,
      conclusion: done ? p : null,
      workflow_id: 161335,
      html_url: `https://github.com/${run.repo}/actions/runs/${run.id}`,
      created_at: iso(run.created),
      updated_at: iso(run.created + 40_000),
      run_attempt: 1,
      run_started_at: iso(run.created),
      repository: { full_name: run.repo, owner: { login: owner }, name },
    };
  };
  const jobsOf = (run) => {
    const p = phase(run);
    if (p === "action_required") return [];
    const names = JOBS[run.seed.workflow];
    return names.map((jobName, k) => {
      const id = 28_400_000_000 + (run.id % 1_000_000) * 10 + k;
      const startedAt = run.created + 8_000 + k * 2_000;
      const stepNames = STEPS[jobName];
      const steps = (f) => stepNames.map((s, i) => ({ name: s, number: i + 1, ...f(s, i) }));
      const crit = stepNames.indexOf(CRITICAL[jobName]);
      const job = (status, conclusion, st) => ({
        id,
        run_id: run.id,
        workflow_name: run.seed.workflow,
        head_branch: run.seed.branch,
        run_url: `https://api.github.com/repos/${run.repo}/actions/runs/${run.id}`,
        node_id: `CR_${hex(String(id), 12)}`,
        head_sha: run.sha,
        html_url: `https://github.com/${run.repo}/actions/runs/${run.id}/job/${id}`,
        status,
        conclusion,
        created_at: iso(startedAt - 1000),
        started_at: iso(startedAt),
        completed_at: status === "completed" ? iso(startedAt + 60_000) : null,
        name: jobName,
        steps: st.map((x) => ({ ...x, started_at: iso(startedAt), completed_at: x.status === "completed" ? iso(startedAt + 1000) : null })),
        runner_name: "GitHub Actions 2",
        labels: ["ubuntu-latest"],
        startedAt,
      });
      const ok = () => job("completed", "success", steps(() => ({ status: "completed", conclusion: "success" })));
      const lastJob = k === names.length - 1 && names.length > 1;
      switch (p) {
        case "success":
          return ok();
        case "skipped":
          return job("completed", "skipped", []);
        case "queued":
          return job("queued", null, []);
        case "in_progress":
          if (k === 0 && names.length > 1) return ok();
          if (lastJob) return job("queued", null, []);
          return job("in_progress", null, steps((_, i) => (i < crit ? { status: "completed", conclusion: "success" } : i === crit ? { status: "in_progress", conclusion: null } : { status: "queued", conclusion: null })));
        default: {
          // failure, cancelled, timed_out
          if (k === 0 && names.length > 1) return ok();
          if (lastJob) return job("completed", "skipped", []);
          const stepEnd = p === "failure" ? "failure" : "cancelled";
          return job(
            "completed",
            p,
            steps((s, i) =>
              i < crit
                ? { status: "completed", conclusion: "success" }
                : i === crit
                  ? { status: "completed", conclusion: stepEnd }
                  : ALWAYS(s)
                    ? { status: "completed", conclusion: "success" }
                    : { status: "completed", conclusion: "skipped" },
            ),
          );
        }
      }
    });
  };
  const logOf = (run, job) => {
    const out = [];
    let t = job.startedAt;
    let n = 0;
    for (const step of job.steps) {
      if (step.conclusion === "skipped") continue;
      for (const line of stepLines(run, job, step)) {
        out.push(`${stamp(t, n++)} ${line}`);
        t += 90 + (n % 13) * 37;
      }
      t += 1_200;
    }
    return `\uFEFF${out.join("\n")}\n`;
  };
  const findJob = (repo, jobId) => {
    for (const run of runs.filter((r) => r.repo === repo)) {
      const job = jobsOf(run).find((j) => j.id === jobId);
      if (job) return { run, job };
    }
    return null;
  };

  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? "";
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ method: req.method, url: req.url, auth, body });
      handle(req, res, auth, body).catch((e) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(e?.stack ?? e));
      });
    });
  });

  async function handle(req, res, auth, body) {
    const url = new URL(req.url, "http://x");
    const p = url.pathname;
    const q = url.searchParams;
    const self = `http://127.0.0.1:${server.address().port}`;
    const rateHeaders = () => ({
      "x-ratelimit-limit": String(rate.limit),
      "x-ratelimit-remaining": String(rate.remaining),
      "x-ratelimit-reset": String(rate.reset),
      "x-ratelimit-used": String(rate.used),
      "x-ratelimit-resource": "core",
    });
    const json = (status, value, headers = {}) => {
      const text = JSON.stringify(value);
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "x-github-media-type": "github.v3; format=json", ...headers });
      res.end(text);
    };
    const notFound = () => json(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" }, rateHeaders());
    const paged = (items, perPage, page, base) => {
      const last = Math.max(1, Math.ceil(items.length / perPage));
      const links = [];
      // GitHub percent-encodes the query in its links (the affiliation list's commas too).
      const link = (n, rel) => `<${self}${base.replace(/,/g, "%2C")}${base.includes("?") ? "&" : "?"}per_page=${perPage}&page=${n}>; rel="${rel}"`;
      if (page < last) links.push(link(page + 1, "next"), link(last, "last"));
      if (page > 1) links.push(link(1, "first"), link(page - 1, "prev"));
      return { items: items.slice((page - 1) * perPage, page * perPage), headers: links.length ? { link: links.join(", ") } : {} };
    };

    // The short-lived log download GitHub redirects to: no token, no quota.
    if (req.method === "GET" && p.startsWith("/job-logs/")) {
      const [repo, jobId] = [q.get("repo"), Number(p.split("/")[2])];
      const found = findJob(repo, jobId);
      res.writeHead(found ? 200 : 404, { "content-type": "text/plain" });
      return res.end(found ? logOf(found.run, found.job) : "The specified blob does not exist.");
    }

    const token = auth.replace(/^(token|bearer)\s+/i, "");
    const good = !revoked && goodToken && token === goodToken;
    if (!good) return json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" });

    if (req.method === "GET" && p === "/user") {
      if (knobs.userDelayMs) await new Promise((r) => setTimeout(r, knobs.userDelayMs));
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
        { "x-oauth-scopes": "repo, workflow", ...rateHeaders() },
      );
    }

    // A branch's head read again with its ETag costs nothing (304).
    const head = /^\/repos\/([^/]+)\/([^/]+)\/branches\/(.+)$/.exec(p);
    if (req.method === "GET" && head) {
      const r = repoOf(head[1], head[2]);
      const branch = decodeURIComponent(head[3]);
      if (!r || !r.branches.includes(branch)) return notFound();
      const sha = commitsOf(r.fullName, branch, 1)[0].sha;
      const etag = `W/"${hex(sha, 32)}"`;
      if (req.headers["if-none-match"] === etag) {
        res.writeHead(304, { etag, ...rateHeaders() });
        return res.end();
      }
    }

    // Everything else counts against the quota.
    const nowS = Math.floor(Date.now() / 1000);
    if (nowS >= rate.reset) Object.assign(rate, { remaining: rate.limit, used: 0, reset: nowS + 3600 });
    if (rate.remaining <= 0) {
      return json(403, { message: `API rate limit exceeded for user ID 583231.`, documentation_url: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting" }, rateHeaders());
    }
    rate.remaining -= 1;
    rate.used += 1;
    const ok = (value, headers = {}) => json(200, value, { ...rateHeaders(), ...headers });

    if (req.method === "GET" && p === "/user/repos") {
      const perPage = Math.min(Math.max(Number(q.get("per_page") ?? 30), 1), 100);
      const page = Math.max(Number(q.get("page") ?? 1), 1);
      const sorted = [...repos].sort((a, b) => b.pushedAt - a.pushedAt);
      const { items, headers } = paged(sorted, perPage, page, "/user/repos?affiliation=owner,collaborator,organization_member&sort=pushed");
      return ok(
        items.map((r) => ({
          id: r.id,
          node_id: `R_${hex(r.fullName, 12)}`,
          name: r.name,
          full_name: r.fullName,
          private: r.private,
          owner: { login: r.owner, id: r.owner === login ? 583231 : 9919, type: r.owner === login ? "User" : "Organization", site_admin: false },
          html_url: `https://github.com/${r.fullName}`,
          description: r.description,
          fork: false,
          url: `https://api.github.com/repos/${r.fullName}`,
          created_at: "2021-01-26T19:01:12Z",
          updated_at: iso(r.pushedAt),
          pushed_at: iso(r.pushedAt),
          clone_url: `https://github.com/${r.fullName}.git`,
          default_branch: r.defaultBranch,
          visibility: r.private ? "private" : "public",
          permissions: { admin: r.owner === login, push: true, pull: true },
        })),
        headers,
      );
    }

    const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(p);
    const r = m && repoOf(m[1], m[2]);
    if (!r) return notFound();
    const rest = m[3] ?? "";

    if (req.method === "GET" && rest === "/branches") {
      const page = Math.max(Number(q.get("page") ?? 1), 1);
      const all = r.branches.map((name) => ({ name, commit: { sha: commitsOf(r.fullName, name, 1)[0].sha, url: `https://api.github.com/repos/${r.fullName}/commits/x` }, protected: name === r.defaultBranch }));
      const { items, headers } = paged(all, 100, page, `/repos/${r.fullName}/branches`);
      return ok(items, headers);
    }
    if (req.method === "GET" && head) {
      const branch = decodeURIComponent(head[3]);
      const c = commitsOf(r.fullName, branch, 1)[0];
      return ok(
        { name: branch, commit: { sha: c.sha, commit: { message: c.message, author: { name: c.author, date: iso(c.date) } } }, protected: branch === r.defaultBranch },
        { etag: `W/"${hex(c.sha, 32)}"` },
      );
    }
    if (req.method === "GET" && rest === "/commits") {
      const branch = q.get("sha") ?? r.defaultBranch;
      if (!r.branches.includes(branch)) return json(404, { message: `No commit found for SHA: ${branch}`, documentation_url: "https://docs.github.com/rest/commits/commits#list-commits", status: "404" }, rateHeaders());
      const n = Math.min(Math.max(Number(q.get("per_page") ?? 30), 1), 100);
      const items = commitsOf(r.fullName, branch, n).map((c) => ({
        sha: c.sha,
        node_id: `C_${hex(c.sha, 12)}`,
        commit: { author: { name: c.author, email: `${c.author}@users.noreply.github.com`, date: iso(c.date) }, committer: { name: "GitHub", date: iso(c.date) }, message: `${c.message}\n\nSigned-off-by: ${c.author}` },
        html_url: `https://github.com/${r.fullName}/commit/${c.sha}`,
        author: c.author.endsWith("[bot]") ? null : { login: c.author, id: 1, type: "User" },
      }));
      return ok(items, { link: `<${self}/repos/${r.fullName}/commits?sha=${encodeURIComponent(branch)}&per_page=${n}&page=2>; rel="next"` });
    }
    const status = /^\/statuses\/([0-9a-f]{7,40})$/.exec(rest);
    if (req.method === "POST" && status) {
      const b = JSON.parse(body || "{}");
      statuses.push({ repo: r.fullName, sha: status[1], ...b });
      return json(201, { id: statuses.length, state: b.state, description: b.description, context: b.context, target_url: b.target_url ?? null }, rateHeaders());
    }
    if (req.method === "GET" && rest === "/actions/runs") {
      const perPage = Math.min(Math.max(Number(q.get("per_page") ?? 30), 1), 100);
      const page = Math.max(Number(q.get("page") ?? 1), 1);
      if (page === 1) polls.set(r.fullName, (polls.get(r.fullName) ?? 0) + 1);
      const all = runs.filter((x) => x.repo === r.fullName).sort((a, b) => b.created - a.created);
      const { items, headers } = paged(all, perPage, page, `/repos/${r.fullName}/actions/runs`);
      return ok({ total_count: all.length, workflow_runs: items.map(runJson) }, headers);
    }
    const jobs = /^\/actions\/runs\/(\d+)\/jobs$/.exec(rest);
    if (req.method === "GET" && jobs) {
      const run = runs.find((x) => x.repo === r.fullName && x.id === Number(jobs[1]));
      if (!run) return notFound();
      const list = jobsOf(run).map(({ startedAt: _, ...j }) => j);
      return ok({ total_count: list.length, jobs: list });
    }
    const log = /^\/actions\/jobs\/(\d+)\/logs$/.exec(rest);
    if (req.method === "GET" && log) {
      const found = findJob(r.fullName, Number(log[1]));
      // GitHub has a log once the job has run; a queued, running or skipped job has none.
      if (!found || found.job.status !== "completed" || found.job.steps.length === 0) return notFound();
      res.writeHead(302, { location: `${self}/job-logs/${found.job.id}?repo=${encodeURIComponent(r.fullName)}&sig=stub`, "content-length": 0, ...rateHeaders() });
      return res.end();
    }
    return notFound();
  }

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    login,
    sampleRepo,
    requests,
    /** Commit statuses reported (POST /repos/:repo/statuses/:sha), in order. */
    statuses,
    rate,
    knobs,
    /** The runs of a repository as GitHub lists them (newest first), for expectations. */
    runsOf: (repo) => runs.filter((x) => x.repo === repo).sort((a, b) => b.created - a.created).map(runJson),
    jobsOf: (repo, runId) => jobsOf(runs.find((x) => x.repo === repo && x.id === runId)),
    /** Sets the quota left (0: every call is refused until the reset). */
    setRemaining: (n) => Object.assign(rate, { remaining: n, used: rate.limit - n }),
    /** The active runs are queued and running again, as if just listed for the first time. */
    rewind: () => polls.clear(),
    /** The token stops working (as when it is revoked on GitHub); `restore()` undoes it. */
    revoke: () => (revoked = true),
    restore: () => (revoked = false),
    /** A new commit on a branch; returns its sha. */
    push: (repo, branch, message = "A commit pushed during the test") => {
      const key = `${repo}@${branch}`;
      const list = pushed.get(key) ?? [];
      const sha = hex(`${key}+${list.length}+${Date.now()}`, 40);
      pushed.set(key, [{ sha, message, author: login, date: Date.now() }, ...list]);
      return sha;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the app's HTTP client keeps connections alive
      }),
  };
}
