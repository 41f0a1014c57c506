// Types of github.mjs for the TypeScript suites (ui/tests/browser).
export const ORG: string;
export const POLLS_TO_FINISH: number;
export const RATE_LIMIT: number;
export function hex(seed: string, length: number): string;

export type GithubRequest = { method: string; url: string; auth: string; body: string };
export type RateState = { limit: number; remaining: number; reset: number; used: number };
export type GithubRunJson = { id: number; name: string; run_number: number; status: string; conclusion: string | null; head_branch: string; head_sha: string; event: string; created_at: string };
export type GithubJobJson = { id: number; name: string; status: string; conclusion: string | null; steps: { name: string; number: number; status: string; conclusion: string | null }[] };

export type GithubStub = {
  url: string;
  login: string;
  sampleRepo: string;
  requests: GithubRequest[];
  statuses: { repo: string; sha: string; state: string; description?: string; context?: string; target_url?: string }[];
  rate: RateState;
  knobs: { userDelayMs: number };
  runsOf(repo: string): GithubRunJson[];
  jobsOf(repo: string, runId: number): GithubJobJson[];
  setRemaining(n: number): void;
  rewind(): void;
  revoke(): void;
  restore(): void;
  push(repo: string, branch: string, message?: string): string;
  close(): Promise<void>;
};

export function startGithubStub(opts?: { goodToken?: string; login?: string; userDelayMs?: number }): Promise<GithubStub>;
