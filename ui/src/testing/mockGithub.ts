// The mock backend's GitHub side (issue #7): what the connected token sees on GitHub and the
// watches Slipway keeps. Shapes, paging and wording follow crates/git-host/src/api.rs and
// crates/app/src/integrations.rs:
// - github_repos lists 50 a page (sort=pushed, newest push first); with a query it walks every
//   page and answers the matches (full name or description, any case) on one page, nextPage null;
// - branches 100 a page, commits the newest `limit`, workflow runs 30 a page, newest first;
// - every answer carries the quota (x-ratelimit-*), one request less each time; at 0 the calls are
//   refused with the rate-limit error until the reset;
// - no connection, a revoked token (401), no access (403), not found (404), the rate limit and the
//   secondary rate limit each have the Rust side's UserError (`githubRefusal`); `failNext` makes
//   the next call of a command fail with one of them.
// Repositories: octo-dev's (the token's user) and the harbor-works organisation's, 62 in all.
// octo-dev/sample-app has 34 Actions runs in every state; the newest two (one queued, one in
// progress) finish after a few listings (`polls`), so a page refreshing itself can be tested.
// Tests only.
import type { Event } from "../bindings/Event";
import type { Project } from "../bindings/Project";
import type { Blueprint } from "../bindings/Blueprint";
import type { ConnectionStatus } from "../bindings/ConnectionStatus";
import type { GhBranch } from "../bindings/GhBranch";
import type { GhCommit } from "../bindings/GhCommit";
import type { GhRepo } from "../bindings/GhRepo";
import type { Page } from "../bindings/Page";
import type { RateLimit } from "../bindings/RateLimit";
import type { UserError } from "../bindings/UserError";
import type { WatchInfo } from "../bindings/WatchInfo";
import type { WatchSetting } from "../bindings/WatchSetting";
import type { WorkflowJob } from "../bindings/WorkflowJob";
import type { WorkflowRun } from "../bindings/WorkflowRun";
import type { WorkflowStep } from "../bindings/WorkflowStep";
import { hex, ue } from "./mockPipeline";

type ChannelLike = { id: number };

/** What the #7 mocks use of the MockBackend around them. */
export type IntegrationEnv = {
  now: () => number;
  emit: (events: Event[]) => void;
  /** One channel message; false when the page's side is gone. */
  send: (channel: ChannelLike, message: unknown) => boolean;
  end: (channel: ChannelLike) => void;
  /** The GitHub connection as the Connect page shows it. */
  github: () => ConnectionStatus;
  projects: () => Project[];
  blueprint: () => Blueprint;
};

export const GH_USER = "octo-dev";
export const GH_ORG = "harbor-works";
/** The repository with Actions runs in every state. */
export const SAMPLE_REPO = "octo-dev/sample-app";
export const REPOS_PER_PAGE = 50;
export const RUNS_PER_PAGE = 30;
export const RATE_LIMIT = 5000;
/** Listings of a repository's runs after which its queued and running runs have finished. */
export const POLLS_TO_FINISH = 3;
/** The seeded webhook receiver's port. */
export const SEEDED_WEBHOOK_PORT = 47811;

/** The `what` of each command's errors (crates/git-host/src/api.rs). */
export const GH_WHAT: Record<string, string> = {
  github_repos: "Could not list GitHub repositories",
  github_branches: "Could not list the branches",
  github_commits: "Could not list the commits",
  github_workflow_runs: "Could not list the GitHub Actions runs",
  github_workflow_jobs: "Could not list the workflow run's jobs",
  github_job_log: "Could not read the job's log",
  github_watch_start: "Could not read the branch",
};

export type Refusal =
  | { kind: "revoked" }
  | { kind: "rateLimit"; reset: number; now: number }
  | { kind: "secondary"; retryAfter?: number }
  | { kind: "forbidden"; target: string; message?: string }
  | { kind: "notFound"; target: string };

/** The UserError `refusal()` in api.rs makes of GitHub's answer. */
export function githubRefusal(cmd: string, r: Refusal): UserError {
  const what = GH_WHAT[cmd] ?? "GitHub request failed";
  switch (r.kind) {
    case "revoked":
      return ue(
        what,
        "GitHub rejected the token (401 Bad credentials): it is wrong, revoked or expired",
        "Create a new token on GitHub (Settings > Developer settings > Personal access tokens) and connect GitHub again",
      );
    case "rateLimit": {
      const minutes = Math.floor((Math.max(0, r.reset - Math.floor(r.now / 1000)) + 59) / 60);
      return ue(
        what,
        `GitHub's rate limit is used up (403); it resets in ${minutes} minutes (unix time ${r.reset})`,
        "Wait until the limit resets, then try again",
      );
    }
    case "secondary":
      return ue(
        what,
        "GitHub's secondary rate limit was hit (403: too many requests in a short time)",
        `Wait ${r.retryAfter ?? 60} seconds, then try again; Slipway slows its polling by itself`,
      );
    case "forbidden":
      return ue(
        what,
        `GitHub refused access to ${r.target} (403 ${r.message ?? "Resource not accessible by personal access token"})`,
        "Check the token's scopes (repo, and workflow for Actions) and any organisation SSO authorisation",
      );
    case "notFound":
      return ue(
        what,
        `${r.target} was not found, or the token has no access to it (404)`,
        "Check the name, and that the token may read this repository (a private repository needs the repo scope)",
      );
  }
}

/** integrations.rs not_connected(). */
export function githubNotConnected(): UserError {
  return ue("GitHub not connected", "there is no GitHub connection", "Connect GitHub first (slipway connect github, or the Connect page)");
}

/** UserError's Display ("what: why. fix"), as a watch's `error` holds it. */
const errorText = (e: UserError) => `${e.what}: ${e.why}. ${e.fix}`;

// ---- the data on GitHub --------------------------------------------------------------------

type RepoSeed = { owner: string; name: string; private: boolean; description: string | null; defaultBranch?: string; branches?: string[] };

const RICH: RepoSeed[] = [
  {
    owner: GH_USER,
    name: "sample-app",
    private: false,
    description: "The sample shop: Flask backend, static frontend and MariaDB, with a compose file and Kubernetes manifests",
    branches: ["main", "develop", "feature/checkout-v2", "fix/item-order", "release/1.x", "dependabot/pip/backend/flask-3.1.1"],
  },
  {
    owner: GH_ORG,
    name: "shop-api",
    private: true,
    description: "Orders and payments API (Go)",
    defaultBranch: "trunk",
    branches: ["trunk", "staging", "feat/refunds"],
  },
  { owner: GH_ORG, name: "infra", private: true, description: "Terraform for the shared AWS accounts", branches: ["main", "eks-1.31"] },
];

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
] as const;

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
] as const;

type RepoData = GhRepo & { branchNames: string[] };

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function makeRepos(now: number): RepoData[] {
  const seeds: RepoSeed[] = [
    ...RICH,
    ...USER_NAMES.map(([name, description]) => ({ owner: GH_USER, name, private: name === "notes" || name === "resume", description })),
    ...ORG_NAMES.map(([name, description], i) => ({ owner: GH_ORG, name, private: i % 3 !== 1, description })),
  ];
  return seeds.map((s, i) => {
    const fullName = `${s.owner}/${s.name}`;
    const defaultBranch = s.defaultBranch ?? (i % 11 === 7 ? "master" : "main");
    return {
      fullName,
      owner: s.owner,
      name: s.name,
      private: s.private,
      defaultBranch,
      htmlUrl: `https://github.com/${fullName}`,
      cloneUrl: `https://github.com/${fullName}.git`,
      description: s.description,
      // sort=pushed: the rich repositories were pushed to last, then every ~7 hours another.
      pushedAt: iso(now - (i * 7 + 1) * 3_600_000 - (i % 5) * 60_000),
      branchNames: s.branches ?? [defaultBranch, ...(i % 4 === 0 ? ["develop"] : [])],
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

function commitsOf(repo: string, branch: string, now: number, count: number): GhCommit[] {
  const out: GhCommit[] = [];
  const offset = parseInt(hex(`${repo}@${branch}`, 2), 16) % COMMIT_MESSAGES.length;
  for (let i = 0; i < count; i++) {
    const sha = hex(`${repo}@${branch}#${i}`, 40);
    out.push({
      sha,
      message: COMMIT_MESSAGES[(offset + i) % COMMIT_MESSAGES.length],
      author: AUTHORS[(offset + i * 3) % AUTHORS.length],
      date: iso(now - (i * 5 + 2) * 3_600_000 - i * 17 * 60_000),
      htmlUrl: `https://github.com/${repo}/commit/${sha}`,
    });
  }
  return out;
}

// ---- GitHub Actions ------------------------------------------------------------------------

type RunEnd = "success" | "failure" | "cancelled" | "skipped" | "timed_out" | "action_required";
type RunSeed = {
  workflow: "CI" | "CodeQL" | "Release";
  number: number;
  event: string;
  branch: string;
  /** A final conclusion, or "queued"/"in_progress": active until the repository's runs were listed POLLS_TO_FINISH times. */
  end: RunEnd | "queued" | "in_progress";
  agoMin: number;
};
type RunData = { repo: string; seed: RunSeed; id: number; sha: string; created: number };

function sampleRuns(): RunSeed[] {
  const fixed: RunSeed[] = [
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
  const rest: RunSeed[] = [];
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

function shopApiRuns(): RunSeed[] {
  return [
    { workflow: "CI", number: 77, event: "push", branch: "trunk", end: "success", agoMin: 50 },
    { workflow: "CI", number: 76, event: "pull_request", branch: "feat/refunds", end: "failure", agoMin: 300 },
    { workflow: "Release", number: 9, event: "push", branch: "trunk", end: "success", agoMin: 1500 },
  ];
}

const JOBS: Record<RunSeed["workflow"], string[]> = {
  CI: ["lint", "test (3.12)", "build-image"],
  CodeQL: ["Analyze (python)"],
  Release: ["release"],
};

const STEPS: Record<string, string[]> = {
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
const CRITICAL: Record<string, string> = {
  lint: "Run ruff check .",
  "test (3.12)": "Run pytest",
  "build-image": "Build images",
  "Analyze (python)": "Perform CodeQL Analysis",
  release: "Build and push",
};
/** Steps that run even after a failure. */
const ALWAYS = (name: string) => name.startsWith("Post ") || name === "Complete job" || name === "Stop containers";

type JobData = WorkflowJob & { startedAt: number };

// ---- the mock ------------------------------------------------------------------------------

export class MockGithub {
  repos: RepoData[];
  runs: RunData[] = [];
  /** How often each repository's runs were listed (page 1): queued and running runs move on with it. */
  polls = new Map<string, number>();
  rate: RateLimit;
  watches: WatchInfo[] = [];
  secret: string;
  private rotations = 0;
  private failures = new Map<string, UserError[]>();

  constructor(
    readonly env: IntegrationEnv,
    readonly opts: { seed: boolean },
  ) {
    const now = env.now();
    this.repos = makeRepos(now);
    this.rate = { limit: RATE_LIMIT, remaining: 4988, reset: Math.floor(now / 1000) + 47 * 60, used: 12, resource: "core" };
    this.secret = hex("slipway-webhook-secret", 64);
    const add = (repo: string, seeds: RunSeed[], base: number) =>
      seeds.forEach((seed, i) =>
        this.runs.push({ repo, seed, id: base + i * 137, sha: hex(`${repo}@${seed.branch}#${seed.number}`, 40), created: now - seed.agoMin * 60_000 - 23_000 }),
      );
    add(SAMPLE_REPO, sampleRuns(), 9_104_882_310);
    add(`${GH_ORG}/shop-api`, shopApiRuns(), 9_099_120_004);
    if (opts.seed) {
      this.watches = [
        {
          setting: {
            watch: { project: "sample-app", repo: SAMPLE_REPO, branch: "main", reportStatus: true, linkBase: null },
            everySecs: 30,
            webhookPort: null,
          },
          // Resumed when Slipway opened, before GitHub was connected (resume_watches).
          active: false,
          address: null,
          error: errorText(githubNotConnected()),
        },
        {
          setting: {
            watch: { project: "sample-app", repo: SAMPLE_REPO, branch: "release/1.x", reportStatus: false, linkBase: null },
            everySecs: null,
            webhookPort: SEEDED_WEBHOOK_PORT,
          },
          active: true,
          address: `127.0.0.1:${SEEDED_WEBHOOK_PORT}`,
          error: null,
        },
      ];
    }
  }

  /** The next call of `cmd` fails with `error` (e.g. githubRefusal(cmd, {kind: "revoked"})). */
  failNext(cmd: string, error: UserError) {
    const list = this.failures.get(cmd) ?? [];
    list.push(error);
    this.failures.set(cmd, list);
  }

  /** Sets the quota left (a test of the low-quota warning, or 0 for a used-up limit). */
  setRemaining(n: number) {
    this.rate = { ...this.rate, remaining: n, used: this.rate.limit - n };
  }

  async handle(cmd: string, a: Record<string, unknown>): Promise<unknown> {
    const queued = this.failures.get(cmd);
    if (queued?.length) {
      const e = queued.shift()!;
      throw structuredClone(e);
    }
    switch (cmd) {
      case "github_repos":
        return this.listRepos((a.query as string | null) ?? null, (a.page as number | null) ?? 1);
      case "github_branches":
        return this.branches(a.repo as string, (a.page as number | null) ?? 1);
      case "github_commits":
        return this.commits(a.repo as string, a.branch as string, (a.limit as number | null) ?? 20);
      case "github_workflow_runs":
        return this.workflowRuns(a.repo as string, (a.page as number | null) ?? 1);
      case "github_workflow_jobs":
        return this.workflowJobs(a.repo as string, a.runId as number);
      case "github_job_log":
        return this.jobLog(a.repo as string, a.jobId as number);
      case "github_webhook_secret":
        if (a.rotate === true) {
          this.rotations += 1;
          this.secret = hex(`slipway-webhook-secret-${this.rotations}`, 64);
        }
        return this.secret;
      case "github_watch_start":
        return this.startWatch(a.setting as WatchSetting);
      case "github_watch_stop":
        return this.stopWatch(a.repo as string, a.branch as string);
      case "github_watches":
        return structuredClone(this.watches);
      default:
        throw ue(`Unknown command ${cmd}`, "the mock's GitHub side does not implement it", "Add it to src/testing/mockGithub.ts");
    }
  }

  // ---- the API and its quota ----

  /** One request to GitHub: needs the connection and a request left of the quota. */
  private request(cmd: string) {
    if (this.env.github().state === "notConfigured") throw githubNotConnected();
    const nowS = Math.floor(this.env.now() / 1000);
    if (nowS >= this.rate.reset) {
      this.rate = { ...this.rate, remaining: this.rate.limit, used: 0, reset: nowS + 3600 };
    }
    if (this.rate.remaining <= 0) throw githubRefusal(cmd, { kind: "rateLimit", reset: this.rate.reset, now: this.env.now() });
    this.rate = { ...this.rate, remaining: this.rate.remaining - 1, used: this.rate.used + 1 };
  }

  private page<T>(items: T[], page: number, perPage: number): Page<T> {
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const p = Math.max(1, page);
    return {
      items: structuredClone(items.slice((p - 1) * perPage, p * perPage)),
      nextPage: p < last ? p + 1 : null,
      lastPage: last > 1 ? last : null,
      rate: { ...this.rate },
    };
  }

  private repo(cmd: string, fullName: string): RepoData {
    const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(fullName.trim());
    if (!m) throw ue("Repository name not valid", `'${fullName}' is not owner/name`, "Write it as owner/name, e.g. octocat/hello-world");
    const r = this.repos.find((x) => x.fullName.toLowerCase() === fullName.trim().toLowerCase());
    if (!r) throw githubRefusal(cmd, { kind: "notFound", target: `repository ${fullName}` });
    return r;
  }

  private sorted(): RepoData[] {
    return [...this.repos].sort((x, y) => (y.pushedAt ?? "").localeCompare(x.pushedAt ?? ""));
  }

  private strip(r: RepoData): GhRepo {
    const { branchNames: _, ...repo } = r;
    return repo;
  }

  listRepos(query: string | null, page: number): Page<GhRepo> {
    const all = this.sorted().map((r) => this.strip(r));
    const q = query?.trim().toLowerCase() ?? "";
    if (q === "") {
      this.request("github_repos");
      return this.page(all, page, REPOS_PER_PAGE);
    }
    // search_repos: every page of 100, filtered, as one page.
    for (let p = 0; p < Math.max(1, Math.ceil(all.length / 100)); p++) this.request("github_repos");
    const found = all.filter((r) => r.fullName.toLowerCase().includes(q) || (r.description ?? "").toLowerCase().includes(q));
    return { items: structuredClone(found), nextPage: null, lastPage: null, rate: { ...this.rate } };
  }

  branches(repo: string, page: number): Page<GhBranch> {
    const r = this.repo("github_branches", repo);
    this.request("github_branches");
    const items = r.branchNames.map((name) => ({
      name,
      sha: commitsOf(r.fullName, name, this.env.now(), 1)[0].sha,
      protected: name === r.defaultBranch,
    }));
    return this.page(items, page, 100);
  }

  commits(repo: string, branch: string, limit: number): Page<GhCommit> {
    const r = this.repo("github_commits", repo);
    if (!r.branchNames.includes(branch)) {
      throw githubRefusal("github_commits", { kind: "notFound", target: `branch ${branch} of ${r.fullName}` });
    }
    this.request("github_commits");
    const n = Math.min(Math.max(limit, 1), 100);
    return { items: commitsOf(r.fullName, branch, this.env.now(), n), nextPage: 2, lastPage: null, rate: { ...this.rate } };
  }

  /** What a run looks like after `polls` listings of its repository. */
  private phase(run: RunData): "queued" | "in_progress" | RunEnd {
    const end = run.seed.end;
    if (end !== "queued" && end !== "in_progress") return end;
    const polls = this.polls.get(run.repo) ?? 0;
    if (polls >= POLLS_TO_FINISH) return "success";
    if (end === "queued" && polls >= POLLS_TO_FINISH - 1) return "in_progress";
    return end;
  }

  private runOf(run: RunData): WorkflowRun {
    const phase = this.phase(run);
    const done = phase !== "queued" && phase !== "in_progress";
    return {
      id: run.id,
      name: run.seed.workflow,
      runNumber: run.seed.number,
      event: run.seed.event,
      headBranch: run.seed.branch,
      headSha: run.sha,
      status: done ? "completed" : phase,
      conclusion: done ? phase : null,
      htmlUrl: `https://github.com/${run.repo}/actions/runs/${run.id}`,
      createdAt: iso(run.created),
    };
  }

  workflowRuns(repo: string, page: number): Page<WorkflowRun> {
    const r = this.repo("github_workflow_runs", repo);
    this.request("github_workflow_runs");
    if (page <= 1) this.polls.set(r.fullName, (this.polls.get(r.fullName) ?? 0) + 1);
    const runs = this.runs
      .filter((x) => x.repo === r.fullName)
      .sort((x, y) => y.created - x.created)
      .map((x) => this.runOf(x));
    return this.page(runs, page, RUNS_PER_PAGE);
  }

  private jobsOf(run: RunData): JobData[] {
    const phase = this.phase(run);
    if (phase === "action_required") return [];
    const names = JOBS[run.seed.workflow];
    return names.map((name, k) => {
      const id = 28_400_000_000 + (run.id % 1_000_000) * 10 + k;
      const startedAt = run.created + 8_000 + k * 2_000;
      const job = (status: string, conclusion: string | null, steps: WorkflowStep[]): JobData => ({
        id,
        name,
        status,
        conclusion,
        htmlUrl: `https://github.com/${run.repo}/actions/runs/${run.id}/job/${id}`,
        steps,
        startedAt,
      });
      const stepNames = STEPS[name];
      const steps = (f: (step: string, i: number) => [string, string | null]): WorkflowStep[] =>
        stepNames.map((s, i) => {
          const [status, conclusion] = f(s, i);
          return { number: i + 1, name: s, status, conclusion };
        });
      const crit = stepNames.indexOf(CRITICAL[name]);
      const allOk = () => job("completed", "success", steps(() => ["completed", "success"]));
      const lastJob = k === names.length - 1 && names.length > 1;
      switch (phase) {
        case "success":
          return allOk();
        case "skipped":
          return job("completed", "skipped", []);
        case "queued":
          return job("queued", null, []);
        case "in_progress":
          if (k === 0 && names.length > 1) return allOk();
          if (lastJob) return job("queued", null, []);
          return job(
            "in_progress",
            null,
            steps((_, i) => (i < crit ? ["completed", "success"] : i === crit ? ["in_progress", null] : ["queued", null])),
          );
        case "failure":
        case "cancelled":
        case "timed_out": {
          if (k === 0 && names.length > 1) return allOk();
          if (lastJob) return job("completed", "skipped", []);
          const stepEnd = phase === "failure" ? "failure" : "cancelled";
          return job(
            "completed",
            phase,
            steps((s, i) => (i < crit ? ["completed", "success"] : i === crit ? ["completed", stepEnd] : ALWAYS(s) ? ["completed", "success"] : ["completed", "skipped"])),
          );
        }
      }
    });
  }

  private findRun(cmd: string, repo: string, runId: number): RunData {
    const r = this.repo(cmd, repo);
    const run = this.runs.find((x) => x.repo === r.fullName && x.id === runId);
    if (!run) throw githubRefusal(cmd, { kind: "notFound", target: `workflow run ${runId} of ${repo}` });
    return run;
  }

  workflowJobs(repo: string, runId: number): WorkflowJob[] {
    const run = this.findRun("github_workflow_jobs", repo, runId);
    this.request("github_workflow_jobs");
    return this.jobsOf(run).map(({ startedAt: _, ...job }) => job);
  }

  jobLog(repo: string, jobId: number): string {
    const r = this.repo("github_job_log", repo);
    const target = `the log of job ${jobId} in ${repo}`;
    for (const run of this.runs.filter((x) => x.repo === r.fullName)) {
      const job = this.jobsOf(run).find((j) => j.id === jobId);
      if (!job) continue;
      // GitHub has the log once the job has run; a queued, running or skipped job has none.
      if (job.status !== "completed" || job.steps.length === 0) throw githubRefusal("github_job_log", { kind: "notFound", target });
      this.request("github_job_log");
      return logOf(run, job);
    }
    throw githubRefusal("github_job_log", { kind: "notFound", target });
  }

  // ---- watches ----

  private key(repo: string, branch: string) {
    return `${repo.toLowerCase()}@${branch}`;
  }

  startWatch(setting: WatchSetting): WatchInfo {
    const w = setting.watch;
    if (!this.env.projects().some((p) => p.id === w.project)) {
      throw ue("Project not found", `there is no project "${w.project}"`, "Add it first (Project page, or `slipway project add PATH`)");
    }
    const key = this.key(w.repo, w.branch);
    let address: string | null = null;
    if (setting.webhookPort === null) {
      const r = this.repo("github_watch_start", w.repo);
      if (!r.branchNames.includes(w.branch)) {
        throw githubRefusal("github_watch_start", { kind: "notFound", target: `branch ${w.branch} of ${w.repo}` });
      }
      this.request("github_watch_start");
      this.env.emit([
        { type: "progress", task: "github", message: `watching ${w.repo} ${w.branch}; GitHub quota ${this.rate.remaining} of ${this.rate.limit} left` },
      ]);
    } else {
      const taken = new Set(this.watches.filter((x) => this.key(x.setting.watch.repo, x.setting.watch.branch) !== key && x.address).map((x) => x.address));
      let port = setting.webhookPort;
      if (port !== 0 && port < 1024) {
        throw ue("Webhook receiver not started", `cannot listen on 127.0.0.1:${port}: Permission denied (os error 13)`, "Pick another port, or stop what uses this one");
      }
      if (port !== 0 && taken.has(`127.0.0.1:${port}`)) {
        throw ue("Webhook receiver not started", `cannot listen on 127.0.0.1:${port}: Address already in use (os error 98)`, "Pick another port, or stop what uses this one");
      }
      if (port === 0) {
        port = 47_000 + (parseInt(hex(key, 4), 16) % 900);
        while (taken.has(`127.0.0.1:${port}`)) port += 1;
      }
      address = `127.0.0.1:${port}`;
    }
    const info: WatchInfo = { setting: structuredClone(setting), active: true, address, error: null };
    this.watches = [...this.watches.filter((x) => this.key(x.setting.watch.repo, x.setting.watch.branch) !== key), info].sort((x, y) =>
      this.key(x.setting.watch.repo, x.setting.watch.branch) < this.key(y.setting.watch.repo, y.setting.watch.branch) ? -1 : 1,
    );
    return structuredClone(info);
  }

  /**
   * A polling watch ends by itself (a revoked token, a deleted branch...): like launch_watch's
   * task, it is marked stopped with the error and announced as a "github" progress event.
   */
  watchFails(repo: string, branch: string, error: UserError) {
    const w = this.watches.find((x) => this.key(x.setting.watch.repo, x.setting.watch.branch) === this.key(repo, branch));
    if (!w) throw new Error(`no watch of ${repo}@${branch}`);
    w.active = false;
    w.error = errorText(error);
    this.env.emit([{ type: "progress", task: "github", message: `watch stopped: ${errorText(error)}` }]);
  }

  stopWatch(repo: string, branch: string): boolean {
    const key = this.key(repo, branch);
    const before = this.watches.length;
    this.watches = this.watches.filter((x) => this.key(x.setting.watch.repo, x.setting.watch.branch) !== key);
    return this.watches.length < before;
  }
}

// ---- job logs ------------------------------------------------------------------------------

/** GitHub's timestamp prefix: 2025-05-02T10:11:12.3456789Z. */
function ts(ms: number, n: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(1_000_000 + ((n * 7_919_173) % 9_000_000)).padStart(7, "0")}Z`;
}

function stepLines(repo: string, run: RunData, job: JobData, step: WorkflowStep): string[] {
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
      const head = [
        "##[group]Run pytest -q --junitxml=reports/junit.xml",
        "pytest -q --junitxml=reports/junit.xml",
        "shell: /usr/bin/bash -e {0}",
        "env:",
        "  DB_HOST: 127.0.0.1",
        "##[endgroup]",
      ];
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
      if (step.conclusion === "cancelled") {
        return [...head, "......", "##[error]The operation was canceled."];
      }
      return [...head, ".........                                                                [100%]", "- generated xml file: /home/runner/work/sample-app/sample-app/reports/junit.xml -", "9 passed in 2.37s"];
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
      if (step.name.startsWith("Post ")) return [`Post job cleanup.`, "/usr/bin/git version", "git version 2.49.0"];
      return [`##[group]Run ${step.name}`, "##[endgroup]", "done"];
  }
}

/** A finished job's log as GitHub gives it: every line with its timestamp, skipped steps absent. */
function logOf(run: RunData, job: JobData): string {
  const out: string[] = [];
  let t = job.startedAt;
  let n = 0;
  for (const step of job.steps) {
    if (step.conclusion === "skipped") continue;
    for (const line of stepLines(run.repo, run, job, step)) {
      out.push(`${ts(t, n++)} ${line}`);
      t += 90 + (n % 13) * 37;
    }
    t += 1_200;
  }
  return `\uFEFF${out.join("\n")}\n`;
}
