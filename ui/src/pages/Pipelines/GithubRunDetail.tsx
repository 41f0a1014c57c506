// One GitHub Actions run: its jobs with their steps (read again while the run is active), and the
// log of the job picked once it has finished.

import { useEffect, useRef, useState } from "react";

import { api } from "../../api";
import type { UserError } from "../../bindings/UserError";
import type { WorkflowJob } from "../../bindings/WorkflowJob";
import type { WorkflowRun } from "../../bindings/WorkflowRun";
import { GithubError } from "../../components/GithubCommon";
import { Spinner } from "../../components/Spinner";
import { GithubJobLog } from "./GithubJobLog";
import { ghActive, ghState, ghStateLabel, ghTime, shortSha } from "./githubModel";

/** A status badge: a dot and GitHub's word; `data-status` is Slipway's state word. */
export function GhStatus({ status, conclusion, testId }: { status: string; conclusion: string | null; testId: string }) {
  const state = ghState(status, conclusion);
  return (
    <span className={`pl-status gh-status status-${state}`} data-testid={testId} data-status={state}>
      <span className="pl-dot" aria-hidden="true" />
      {ghStateLabel(status, conclusion)}
    </span>
  );
}

/** A job has a log once it ran to its end (a skipped job has no steps and no log). */
const hasLog = (j: WorkflowJob) => j.status === "completed" && j.steps.length > 0;

export function GithubRunDetail({ repo, run, refreshes }: { repo: string; run: WorkflowRun; refreshes: number }) {
  const [jobs, setJobs] = useState<WorkflowJob[] | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [jobId, setJobId] = useState<number | null>(null);
  const active = ghActive(run.status);
  // Read again when the run changes state, and on every refresh of the list while it is active.
  const when = active ? `${run.status}:${refreshes}` : `${run.status}:${run.conclusion}`;
  const chosen = useRef(false);

  useEffect(() => {
    let cancelled = false;
    api.githubWorkflowJobs(repo, run.id).then(
      (js) => {
        if (cancelled) return;
        setJobs(js);
        setError(null);
        // The first failed job is shown first, else the first job.
        if (!chosen.current) {
          const pick = js.find((j) => ghState(j.status, j.conclusion) === "failed") ?? js[0];
          if (pick) setJobId(pick.id);
        }
      },
      (e: UserError) => {
        if (!cancelled) setError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [repo, run.id, when]);

  const job = jobs?.find((j) => j.id === jobId) ?? null;
  return (
    <section className="panel pl-detail" data-testid="gh-run-detail" data-run={run.id} aria-label={`${run.name} #${run.runNumber}`}>
      <div className="pl-detail-head">
        <h2>
          {run.name} #{run.runNumber} <GhStatus status={run.status} conclusion={run.conclusion} testId="gh-run-detail-status" />
        </h2>
        <p className="hint">
          {run.event} on {run.headBranch ?? "a tag"} at <code>{shortSha(run.headSha)}</code> · {ghTime(run.createdAt)} ·{" "}
          <a href={run.htmlUrl} target="_blank" rel="noreferrer">
            open on GitHub ↗
          </a>
        </p>
      </div>
      {error && <GithubError error={error} testId="gh-jobs-error" />}
      {jobs === null && !error && (
        <p className="muted">
          <Spinner label="Loading jobs" /> Loading the jobs…
        </p>
      )}
      {jobs !== null && jobs.length === 0 && (
        <p className="muted" data-testid="gh-jobs-empty">
          {run.conclusion === "action_required"
            ? "No job ran: the run waits for approval on GitHub (a first-time contributor's pull request)."
            : "No job yet."}
        </p>
      )}
      {jobs !== null && jobs.length > 0 && (
        <div className="gh-jobs">
          <ul className="gh-job-list" data-testid="gh-jobs" aria-label="Jobs">
            {jobs.map((j) => {
              const sel = j.id === jobId;
              return (
                <li key={j.id} className={sel ? "gh-job gh-job-selected" : "gh-job"} data-testid="gh-job" data-job={j.id} data-status={ghState(j.status, j.conclusion)}>
                  <div className="gh-job-head">
                    <button
                      type="button"
                      className="link"
                      data-testid="gh-job-open"
                      aria-pressed={sel}
                      onClick={() => {
                        chosen.current = true;
                        setJobId(j.id);
                      }}
                    >
                      {j.name}
                    </button>
                    <GhStatus status={j.status} conclusion={j.conclusion} testId="gh-job-status" />
                  </div>
                  {j.steps.length > 0 && (
                    <ol className="gh-steps" aria-label={`Steps of ${j.name}`}>
                      {j.steps.map((s) => (
                        <li key={s.number} data-testid="gh-step" data-step={s.number} data-status={ghState(s.status, s.conclusion)}>
                          <span className="gh-step-n">{s.number}</span>
                          <GhStatus status={s.status} conclusion={s.conclusion} testId="gh-step-status" />
                          <span>{s.name}</span>
                        </li>
                      ))}
                    </ol>
                  )}
                </li>
              );
            })}
          </ul>
          <div className="gh-job-log-area">
            {job && hasLog(job) && <GithubJobLog key={job.id} repo={repo} job={job} />}
            {job && !hasLog(job) && (
              <p className="muted" data-testid="gh-log-unavailable">
                {job.status === "completed"
                  ? `${job.name} was ${ghStateLabel(job.status, job.conclusion).toLowerCase()}: it has no log.`
                  : `${job.name} is ${ghStateLabel(job.status, job.conclusion).toLowerCase()}: GitHub gives its log once it has finished.`}
              </p>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
