// Pieces every GitHub view shares: whether GitHub is connected (from the store doctor() and the
// Connect page fill), the "not connected" notice, the quota line, and a GitHub error with the time a
// used-up rate limit resets.

import type { RateLimit } from "../bindings/RateLimit";
import type { UserError } from "../bindings/UserError";
import { clock, quotaLow, quotaText, resetOf } from "../pages/Pipelines/githubModel";
import { useStore } from "../state/store";
import { ErrorCallout } from "./ErrorCallout";
import "../pages/Pipelines/github.css";

/** "yes", "no" (no saved connection), or "unknown" while doctor() has not answered. */
export function useGithubConnected(): "yes" | "no" | "unknown" {
  const { state } = useStore();
  const gh = state.connections.github;
  if (!gh) return state.loaded ? "yes" : "unknown"; // doctor() failed: let the calls say it
  return gh.state === "notConfigured" ? "no" : "yes";
}

/** GitHub is not connected: what that means here, and where to connect it. */
export function GithubNotConnected({ testId, children }: { testId: string; children: string }) {
  return (
    <div className="panel gh-not-connected" data-testid={testId}>
      <p>
        <strong>GitHub is not connected.</strong> {children}
      </p>
      <p>
        <a href="#/connect">Connect GitHub on the Connect page</a> with a personal access token (scopes <code>repo</code> and{" "}
        <code>workflow</code>) or the gh CLI's login.
      </p>
    </div>
  );
}

/** The quota GitHub reported with its last answer; a warning below 10% left. */
export function GithubQuota({ rate, testId }: { rate: RateLimit | null; testId: string }) {
  if (!rate) return null;
  const low = quotaLow(rate);
  return (
    <p className={low ? "gh-quota gh-quota-low" : "gh-quota"} data-testid={testId} data-low={low ? "true" : "false"} role="status">
      {quotaText(rate)}
      {low && <span className="gh-quota-note"> — less than 10% left: lists and polling will stop when it runs out</span>}
    </p>
  );
}

/** A GitHub error (what, why, fix) and, for a used-up rate limit, when it resets. */
export function GithubError({ error, testId }: { error: UserError; testId: string }) {
  const reset = resetOf(error.why);
  return (
    <div className="gh-error">
      <ErrorCallout error={error} testId={testId} />
      {reset !== null && (
        <p className="hint gh-error-reset" data-testid="gh-error-reset">
          The limit resets at {clock(reset)}.
        </p>
      )}
    </div>
  );
}
