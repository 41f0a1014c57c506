import { useCallback, useEffect, useRef, useState } from "react";

import { api } from "../../api";
import type { JenkinsBuild } from "../../bindings/JenkinsBuild";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { formatCheckedAt } from "../../format";
import { JenkinsConsole } from "./JenkinsConsole";
import { JenkinsStages } from "./JenkinsStages";
import { buildLabel, buildStatus, jenkinsTiming, newestNumber } from "./jenkinsModel";
import { formatDuration } from "./model";

const BUILDS_LIMIT = 20;

/** A job's builds, Build now, and the selected build's stage view and console. */
export function JenkinsJobView({ job, disabled, onChanged }: { job: string; disabled: boolean; onChanged: () => void }) {
  const [builds, setBuilds] = useState<JenkinsBuild[] | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  /** Build now answered: waiting for a build newer than `after` to appear. */
  const [queued, setQueued] = useState<{ after: number; item: string | null } | null>(null);
  const [starting, setStarting] = useState(false);
  const [buildError, setBuildError] = useState<UserError | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const onChangedRef = useRef(onChanged);
  onChangedRef.current = onChanged;
  const buildingBefore = useRef<string>("");

  const load = useCallback(async () => {
    try {
      const list = await api.jenkinsBuilds(job, BUILDS_LIMIT);
      setBuilds(list);
      setError(null);
      // A build started or finished: the jobs list's colours change too.
      const building = list.filter((b) => b.building).map((b) => b.number).join(",");
      if (buildingBefore.current !== building) {
        if (buildingBefore.current !== "" || building !== "") onChangedRef.current();
        buildingBefore.current = building;
      }
      return list;
    } catch (e) {
      setError(e as UserError);
      return null;
    }
  }, [job]);

  useEffect(() => {
    void load().then((list) => {
      if (list) buildingBefore.current = list.filter((b) => b.building).map((b) => b.number).join(",");
    });
  }, [load]);

  // The queued build shows up: select it and stop waiting.
  useEffect(() => {
    if (!queued || !builds) return;
    const fresh = builds.filter((b) => b.number > queued.after).sort((a, b) => a.number - b.number)[0];
    if (fresh) {
      setQueued(null);
      setSelected(fresh.number);
    }
  }, [builds, queued]);

  const anyBuilding = builds?.some((b) => b.building) ?? false;
  // Ask again while a build runs (its result arrives) or a queued one has not started.
  useEffect(() => {
    if (!queued && !anyBuilding) return;
    const t = setInterval(() => void load(), queued ? jenkinsTiming.queueMs : jenkinsTiming.buildsMs);
    return () => clearInterval(t);
  }, [queued, anyBuilding, load]);

  useEffect(() => {
    if (!anyBuilding) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [anyBuilding]);

  async function buildNow() {
    if (starting || queued) return;
    setStarting(true);
    setBuildError(null);
    const after = newestNumber(builds ?? []);
    try {
      const item = await api.jenkinsBuild(job);
      setQueued({ after, item });
      void load();
    } catch (e) {
      setBuildError(e as UserError);
    } finally {
      setStarting(false);
    }
  }

  const current = builds?.find((b) => b.number === selected) ?? builds?.[0] ?? null;

  return (
    <section className="jk-job-view" data-testid="jenkins-job-view" data-job={job} aria-label={`Job ${job}`}>
      <div className="jk-job-head">
        <h2>{job}</h2>
        <button type="button" className="primary" data-testid="jenkins-build-now" onClick={() => void buildNow()} disabled={starting || queued !== null || disabled} title={disabled ? "The job is disabled in Jenkins" : undefined}>
          {starting ? <Spinner label="Starting" /> : null} Build now
        </button>
        {queued && (
          <span className="jk-queued" data-testid="jenkins-queued" role="status">
            <Spinner label="Queued" /> Queued: waiting for Jenkins to start it…
            {queued.item && (
              <a href={queued.item} target="_blank" rel="noreferrer" className="muted">
                queue item
              </a>
            )}
          </span>
        )}
      </div>
      {buildError && <ErrorCallout error={buildError} testId="jenkins-build-error" />}
      {error && <ErrorCallout error={error} testId="jenkins-builds-error" />}
      {builds === null && !error && (
        <p className="muted">
          <Spinner label="Loading builds" /> Loading builds…
        </p>
      )}
      {builds !== null && builds.length === 0 && (
        <p className="muted" data-testid="jenkins-builds-empty">
          {job} has no build yet. Press Build now.
        </p>
      )}
      {builds !== null && builds.length > 0 && (
        <div className="pl-runs-scroll">
          <table className="plan-table pl-runs-table" data-testid="jenkins-builds">
            <thead>
              <tr>
                <th>Build</th>
                <th>Result</th>
                <th className="num">Duration</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {builds.map((b) => {
                const sel = b.number === current?.number;
                const status = buildStatus(b);
                return (
                  <tr
                    key={b.number}
                    data-testid="jenkins-build-row"
                    data-build={b.number}
                    data-status={status}
                    aria-selected={sel}
                    className={sel ? "pl-run-selected" : undefined}
                    onClick={() => setSelected(b.number)}
                  >
                    <td>
                      <button type="button" className="link" onClick={() => setSelected(b.number)} aria-label={`Show build #${b.number}`}>
                        #{b.number}
                      </button>
                    </td>
                    <td>
                      <span className={`jk-result jk-result-${status}`} data-testid="jenkins-build-result">
                        <span className="jk-ball" aria-hidden="true" />
                        {buildLabel(b)}
                      </span>
                    </td>
                    <td className="num" data-testid="jenkins-build-duration">
                      {formatDuration(b.building ? now - b.timestamp : b.durationMs)}
                    </td>
                    <td data-testid="jenkins-build-when">
                      <time dateTime={new Date(b.timestamp).toISOString()} title={new Date(b.timestamp).toString()}>
                        {formatCheckedAt(b.timestamp, now)}
                      </time>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {current && (
        <div className="jk-build" data-testid="jenkins-build-detail" data-build={current.number} data-status={buildStatus(current)}>
          <h3>
            {job} #{current.number}{" "}
            <span className={`jk-result jk-result-${buildStatus(current)}`}>
              <span className="jk-ball" aria-hidden="true" />
              {buildLabel(current)}
            </span>{" "}
            <a href={current.url} target="_blank" rel="noreferrer" className="muted jk-open">
              open in Jenkins
            </a>
          </h3>
          <JenkinsStages key={`s-${current.number}`} job={job} number={current.number} building={current.building} />
          <JenkinsConsole key={`c-${current.number}`} job={job} number={current.number} onEnded={() => void load()} />
        </div>
      )}
    </section>
  );
}
