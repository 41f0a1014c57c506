// Types of jenkins.mjs for the TypeScript suites (ui/tests/browser).
export const VERSION: string;

export type JenkinsRequest = { method: string; path: string; search: string; crumb: string | null; cookie: string | null };

export type JenkinsStub = {
  url: string;
  requests: JenkinsRequest[];
  knobs: { stageMs: number; queueMs: number; hold: string | null; rejectCrumb: boolean };
  finish(): void;
  close(): Promise<void>;
};

export function startJenkinsStub(opts: {
  user: string;
  token: string;
  viewer?: string;
  viewerToken?: string;
  stageMs?: number;
  queueMs?: number;
  hold?: string | null;
}): Promise<JenkinsStub>;
