import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { Run } from "../../bindings/Run";
import type { StageName } from "../../bindings/StageName";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { ExportDialog } from "../../components/ExportDialog";
import { ProjectSelect, projectsPending, useProjects } from "../../components/ProjectPicker";
import { Spinner } from "../../components/Spinner";
import { formatCheckedAt } from "../../format";
import { useStore } from "../../state/store";
import {
  STAGE_LABEL,
  STATUS_LABEL,
  UNTIL_CHOICES,
  formatDuration,
  isActive,
  mergeRun,
  mergeRuns,
  runDuration,
  runsFromEvents,
  shortSha,
  triggerLabel,
} from "./model";
import { GithubActionsPanel } from "./GithubActionsPanel";
import { JenkinsPanel } from "./JenkinsPanel";
import { RunDetail } from "./RunDetail";

const RUNS_LIMIT = 50;

type Source = "slipway" | "github" | "jenkins";

const SOURCES: { id: Source; label: string }[] = [
  { id: "slipway", label: "Slipway runs" },
  { id: "github", label: "GitHub Actions" },
  { id: "jenkins", label: "Jenkins" },
];

/** Slipway's own runs, and beside them the team's GitHub Actions and Jenkins runs (issue #7). */
export function PipelinesPage() {
  const [source, setSource] = useState<Source>("slipway");
  return (
    <div className="pl-page">
      <div className="pl-sources" role="tablist" aria-label="Whose runs">
        {SOURCES.map((s) => (
          <button
            key={s.id}
            type="button"
            role="tab"
            aria-selected={source === s.id}
            data-testid={`pipelines-source-${s.id}`}
            className={source === s.id ? "pl-source pl-source-active" : "pl-source"}
            onClick={() => setSource(s.id)}
          >
            {s.label}
          </button>
        ))}
      </div>
      <div role="tabpanel">
        {source === "slipway" && <SlipwayRuns />}
        {source === "github" && <GithubActionsPanel />}
        {source === "jenkins" && <JenkinsPanel />}
      </div>
    </div>
  );
}

function SlipwayRuns() {
  const { onEvents } = useStore();
  const uid = useId();
  const picker = useProjects();
  const { projects, project } = picker;
  const [runs, setRuns] = useState<Run[]>([]);
  const [runsLoaded, setRunsLoaded] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<UserError | null>(null);
  const [gitRef, setGitRef] = useState("");
  const [until, setUntil] = useState<StageName | null>(null);
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<UserError | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const projectRef = useRef<string | null>(null);
  projectRef.current = project;

  // Runs of the shown project, live: every runUpdated event folds in (newest first).
  useEffect(
    () =>
      onEvents((batch) => {
        const p = projectRef.current;
        if (p === null) return;
        const updates = runsFromEvents(batch, p);
        if (updates.length) setRuns((list) => updates.reduce(mergeRun, list));
      }),
    [onEvents],
  );

  useEffect(() => {
    if (project === null) return;
    let cancelled = false;
    setRuns([]);
    setRunsLoaded(false);
    setSelected(null);
    api.runs(project, RUNS_LIMIT).then(
      (fetched) => {
        if (cancelled) return;
        // Events that arrived while the answer was on its way may be ahead of it.
        setRuns((list) => mergeRuns(list, fetched));
        setRunsLoaded(true);
        setLoadError(null);
      },
      (e: UserError) => {
        if (!cancelled) setLoadError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [project]);

  const anyActive = runs.some((r) => isActive(r.status));
  useEffect(() => {
    if (!anyActive) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [anyActive]);

  const started = useCallback((run: Run) => {
    setRuns((list) => mergeRun(list, run));
    setSelected(run.id);
  }, []);

  async function start(e: FormEvent) {
    e.preventDefault();
    if (project === null || starting) return;
    setStarting(true);
    setStartError(null);
    try {
      started(await api.startRun(project, gitRef.trim() === "" ? null : gitRef.trim(), until));
    } catch (err) {
      setStartError(err as UserError);
    } finally {
      setStarting(false);
    }
  }

  const current = useMemo(() => runs.find((r) => r.id === selected) ?? runs[0] ?? null, [runs, selected]);
  const projectSpec = projects?.find((p) => p.id === project) ?? null;

  const pending = projectsPending(
    picker,
    { error: { testId: "pipelines-error" }, empty: { testId: "pipelines-empty" } },
    "No project yet: a pipeline runs a project's services through Checkout, Build, Test, Push and Deploy.",
  );
  if (pending) return pending;

  return (
    <div className="pl">
      <form className="pl-toolbar" onSubmit={start} aria-label="Start a run">
        <ProjectSelect p={picker} testId="pipeline-project" />
        <div className="bp-field">
          <label htmlFor={`${uid}-ref`}>Git ref</label>
          <input
            id={`${uid}-ref`}
            data-testid="run-git-ref"
            value={gitRef}
            onChange={(e) => setGitRef(e.target.value)}
            placeholder={projectSpec?.gitRef ?? "HEAD"}
            spellCheck={false}
          />
        </div>
        <div className="bp-field">
          <label htmlFor={`${uid}-until`}>Stop after</label>
          <select
            id={`${uid}-until`}
            data-testid="run-until"
            value={until ?? ""}
            onChange={(e) => setUntil(e.target.value === "" ? null : (e.target.value as StageName))}
          >
            {UNTIL_CHOICES.map((u) => (
              <option key={u ?? "all"} value={u ?? ""}>
                {u === null ? "all stages" : STAGE_LABEL[u]}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="primary" data-testid="run-start" disabled={starting || project === null}>
          {starting ? <Spinner label="Starting" /> : null} Run
        </button>
        <ExportDialog defaultKind="jenkinsfile" project={project} />
      </form>
      {startError && <ErrorCallout error={startError} testId="run-start-error" />}
      {loadError && <ErrorCallout error={loadError} testId="pipelines-error" />}

      <section className="pl-runs" aria-label="Runs">
        {!runsLoaded && runs.length === 0 && !loadError && (
          <p className="muted">
            <Spinner label="Loading runs" /> Loading runs…
          </p>
        )}
        {runsLoaded && runs.length === 0 && (
          <p className="muted" data-testid="runs-empty">
            No run of {project} yet. Press Run.
          </p>
        )}
        {runs.length > 0 && (
          <div className="pl-runs-scroll">
            <table className="plan-table pl-runs-table" data-testid="runs-list">
              <thead>
                <tr>
                  <th>Run</th>
                  <th>Status</th>
                  <th>Commit</th>
                  <th>Trigger</th>
                  <th className="num">Duration</th>
                  <th>Started</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => {
                  const d = runDuration(r, now);
                  const sel = r.id === current?.id;
                  return (
                    <tr
                      key={r.id}
                      data-testid="run-row"
                      data-run={r.id}
                      data-status={r.status}
                      aria-selected={sel}
                      className={sel ? "pl-run-selected" : undefined}
                      onClick={() => setSelected(r.id)}
                    >
                      <td>
                        <button type="button" className="link" onClick={() => setSelected(r.id)} aria-label={`Show run ${r.id}`}>
                          #{r.number}
                        </button>
                      </td>
                      <td>
                        <span className={`pl-status status-${r.status}`} data-testid="run-status">
                          <span className="pl-dot" aria-hidden="true" />
                          {STATUS_LABEL[r.status]}
                        </span>
                      </td>
                      <td data-testid="run-commit" title={r.commitMessage ?? undefined}>
                        {r.commit ? <code>{shortSha(r.commit)}</code> : <span className="muted">{r.gitRef}</span>}
                      </td>
                      <td data-testid="run-trigger">{triggerLabel(r.trigger)}</td>
                      <td className="num" data-testid="run-duration">
                        {d === null ? "" : formatDuration(d)}
                      </td>
                      <td data-testid="run-started">{formatCheckedAt(r.startedAt ?? r.createdAt, now)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {current && <RunDetail key={current.id} run={current} now={now} onStarted={started} />}
    </div>
  );
}
