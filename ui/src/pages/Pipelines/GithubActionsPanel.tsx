// The GitHub Actions tab of the Pipelines page: a repository's workflow runs (the shown project's
// GitHub repository by default, else one picked with the search), newest first, a page at a time,
// looked at again every 10 s while one is queued or running; a run's jobs and steps, and a
// finished job's log. The quota GitHub last reported is shown under the list.

import { useCallback, useEffect, useRef, useState } from "react";

import { api } from "../../api";
import type { GhRepo } from "../../bindings/GhRepo";
import type { RateLimit } from "../../bindings/RateLimit";
import type { UserError } from "../../bindings/UserError";
import type { WorkflowRun } from "../../bindings/WorkflowRun";
import { GithubError, GithubNotConnected, GithubQuota, useGithubConnected } from "../../components/GithubCommon";
import { GithubRepoPicker } from "../../components/GithubRepoPicker";
import { useProjects } from "../../components/ProjectPicker";
import { Spinner } from "../../components/Spinner";
import { GithubRunDetail, GhStatus } from "./GithubRunDetail";
import { appendPage, ghActive, ghTime, githubRepoOf, mergeFirstPage, shortSha } from "./githubModel";
import "./github.css";

/** How often the runs are read again while one is queued or running. */
export const RUNS_REFRESH_MS = 10_000;

type Repo = { fullName: string; htmlUrl: string; from: "project" | "picked"; project?: string };

export function GithubActionsPanel() {
  const connected = useGithubConnected();
  const { projects, project } = useProjects();
  const [repo, setRepo] = useState<Repo | null>(null);
  const [choosing, setChoosing] = useState(false);
  const [rate, setRate] = useState<RateLimit | null>(null);
  const userChose = useRef(false);

  // The shown project's repository, when its source is a github.com URL.
  const projectSpec = projects?.find((p) => p.id === project) ?? null;
  const projectRepo = projectSpec?.source.kind === "git" ? githubRepoOf(projectSpec.source.url) : null;
  useEffect(() => {
    if (userChose.current || projectRepo === null || projectSpec === null) return;
    setRepo({ fullName: projectRepo, htmlUrl: `https://github.com/${projectRepo}`, from: "project", project: projectSpec.id });
  }, [projectRepo, projectSpec]);

  const picked = useCallback((r: GhRepo | null) => {
    if (r === null) return;
    userChose.current = true;
    setRepo({ fullName: r.fullName, htmlUrl: r.htmlUrl, from: "picked" });
    setChoosing(false);
  }, []);

  if (connected === "unknown") {
    return (
      <p className="muted">
        <Spinner label="Checking the GitHub connection" /> Checking the GitHub connection…
      </p>
    );
  }
  if (connected === "no") {
    return (
      <GithubNotConnected testId="gh-actions-not-connected">
        The GitHub Actions runs of your repositories show here once it is.
      </GithubNotConnected>
    );
  }

  const showPicker = repo === null || choosing;
  return (
    <div className="gh" data-testid="gh-actions">
      {repo && (
        <div className="gh-repo-bar" data-testid="gh-actions-repo" data-repo={repo.fullName}>
          <span>
            Workflow runs of{" "}
            <a href={`${repo.htmlUrl}/actions`} target="_blank" rel="noreferrer">
              <strong>{repo.fullName}</strong>
            </a>
          </span>
          {repo.from === "project" && <p className="hint">the source of project {repo.project}</p>}
          <button type="button" data-testid="gh-actions-change-repo" onClick={() => setChoosing((c) => !c)} aria-expanded={choosing}>
            {choosing ? "Keep this repository" : "Another repository…"}
          </button>
        </div>
      )}
      {showPicker && (
        <div className="panel">
          {repo === null && (
            <p className="hint">
              {projectSpec && projectRepo === null
                ? `Project ${projectSpec.id} does not come from github.com: pick the repository whose runs to show.`
                : "Pick the repository whose GitHub Actions runs to show."}
            </p>
          )}
          <GithubRepoPicker onRepo={picked} onRate={setRate} autoFocus={choosing} />
        </div>
      )}
      {repo && <RunsList key={repo.fullName} repo={repo.fullName} onRate={setRate} />}
      <GithubQuota rate={rate} testId="gh-quota" />
    </div>
  );
}

function RunsList({ repo, onRate }: { repo: string; onRate: (r: RateLimit) => void }) {
  const [runs, setRuns] = useState<WorkflowRun[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [refreshing, setRefreshing] = useState(false);
  const [selected, setSelected] = useState<number | null>(null);
  const [refreshes, setRefreshes] = useState(0);
  const [checkedAt, setCheckedAt] = useState<number | null>(null);
  const inFlight = useRef(false);
  /** Pages loaded so far: a refresh reads page 1 only, and leaves "more" alone once page 2 is in. */
  const pages = useRef(0);
  const alive = useRef(true);
  const rateCb = useRef(onRate);
  rateCb.current = onRate;

  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  /** Page 1 again, folded into what is shown (later pages stay). */
  const refresh = useCallback(async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    setRefreshing(true);
    try {
      const p = await api.githubWorkflowRuns(repo, 1);
      if (!alive.current) return;
      if (p.rate) rateCb.current(p.rate);
      setRuns((shown) => (shown === null ? p.items : mergeFirstPage(shown, p.items)));
      if (pages.current <= 1) {
        pages.current = 1;
        setNext(p.nextPage);
      }
      setError(null);
      setCheckedAt(Date.now());
      setRefreshes((n) => n + 1);
    } catch (e) {
      if (alive.current) setError(e as UserError);
    } finally {
      inFlight.current = false;
      if (alive.current) setRefreshing(false);
    }
  }, [repo]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const anyActive = runs?.some((r) => ghActive(r.status)) ?? false;
  useEffect(() => {
    if (!anyActive) return;
    const t = setInterval(() => void refresh(), RUNS_REFRESH_MS);
    return () => clearInterval(t);
  }, [anyActive, refresh]);

  async function more() {
    if (next === null || loadingMore) return;
    setLoadingMore(true);
    try {
      const p = await api.githubWorkflowRuns(repo, next);
      if (!alive.current) return;
      if (p.rate) rateCb.current(p.rate);
      setRuns((shown) => appendPage(shown ?? [], p.items));
      pages.current += 1;
      setNext(p.nextPage);
      setError(null);
    } catch (e) {
      if (alive.current) setError(e as UserError);
    } finally {
      if (alive.current) setLoadingMore(false);
    }
  }

  const current = runs?.find((r) => r.id === selected) ?? null;
  return (
    <>
      <div className="gh-repo-bar">
        <button type="button" data-testid="gh-runs-refresh" onClick={() => void refresh()} disabled={refreshing}>
          {refreshing ? <Spinner label="Refreshing" /> : null} Refresh
        </button>
        <span className="hint" data-testid="gh-runs-auto" data-auto={anyActive ? "true" : "false"}>
          {anyActive
            ? "A run is queued or in progress: the list is read again every 10 s."
            : checkedAt !== null
              ? `Read at ${new Date(checkedAt).toLocaleTimeString()}.`
              : ""}
        </span>
      </div>
      {error && <GithubError error={error} testId="gh-runs-error" />}
      {runs === null && !error && (
        <p className="muted">
          <Spinner label="Loading runs" /> Loading the workflow runs…
        </p>
      )}
      {runs !== null && runs.length === 0 && (
        <p className="muted" data-testid="gh-runs-empty">
          {repo} has no GitHub Actions run.
        </p>
      )}
      {runs !== null && runs.length > 0 && (
        <div className="pl-runs-scroll">
          <table className="plan-table pl-runs-table gh-runs-table" data-testid="gh-runs">
            <thead>
              <tr>
                <th>Workflow</th>
                <th>Status</th>
                <th>Event</th>
                <th>Branch</th>
                <th>Commit</th>
                <th>Created</th>
                <th>
                  <span className="visually-hidden">On GitHub</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => {
                const sel = r.id === selected;
                return (
                  <tr
                    key={r.id}
                    data-testid="gh-run-row"
                    data-run={r.id}
                    data-status={r.status}
                    data-conclusion={r.conclusion ?? ""}
                    aria-selected={sel}
                    className={sel ? "pl-run-selected" : undefined}
                    onClick={() => setSelected(sel ? null : r.id)}
                  >
                    <td>
                      <button
                        type="button"
                        className="link"
                        onClick={(e) => {
                          e.stopPropagation();
                          setSelected(sel ? null : r.id);
                        }}
                        aria-expanded={sel}
                        aria-label={`${sel ? "Hide" : "Show"} the jobs of ${r.name} #${r.runNumber}`}
                      >
                        {r.name} #{r.runNumber}
                      </button>
                    </td>
                    <td>
                      <GhStatus status={r.status} conclusion={r.conclusion} testId="gh-run-status" />
                    </td>
                    <td data-testid="gh-run-event">{r.event}</td>
                    <td data-testid="gh-run-branch">{r.headBranch ?? <span className="muted">(tag)</span>}</td>
                    <td>
                      <code data-testid="gh-run-sha" title={r.headSha}>
                        {shortSha(r.headSha)}
                      </code>
                    </td>
                    <td data-testid="gh-run-created" title={r.createdAt ?? undefined}>
                      {ghTime(r.createdAt)}
                    </td>
                    <td>
                      <a href={r.htmlUrl} target="_blank" rel="noreferrer" data-testid="gh-run-link" onClick={(e) => e.stopPropagation()}>
                        GitHub ↗
                      </a>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {next !== null && runs !== null && (
        <button type="button" data-testid="gh-runs-more" onClick={() => void more()} disabled={loadingMore}>
          {loadingMore ? <Spinner label="Loading" /> : null} More runs
        </button>
      )}
      {current && <GithubRunDetail key={current.id} repo={repo} run={current} refreshes={refreshes} />}
    </>
  );
}
