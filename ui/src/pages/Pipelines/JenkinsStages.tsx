import { useEffect, useState } from "react";

import { api } from "../../api";
import type { JenkinsStageView } from "../../bindings/JenkinsStageView";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { STAGE_STATUS_LABEL, jenkinsTiming, stageStatus, stageViewLive } from "./jenkinsModel";
import { formatDuration } from "./model";

/**
 * A Pipeline build's stage view (wfapi): the stages in order with their status and duration,
 * asked again every couple of seconds while the build goes on, and not once it has ended.
 */
export function JenkinsStages({ job, number, building }: { job: string; number: number; building: boolean }) {
  const [view, setView] = useState<JenkinsStageView | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [refreshing, setRefreshing] = useState(false);

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function read() {
      try {
        const v = await api.jenkinsStages(job, number);
        if (cancelled) return;
        setView(v);
        setError(null);
        const live = stageViewLive(v.status);
        setRefreshing(live);
        if (live) timer = setTimeout(() => void read(), jenkinsTiming.stagesMs);
      } catch (e) {
        if (cancelled) return;
        setError(e as UserError);
        setRefreshing(false);
      }
    }
    void read();
    return () => {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
    };
    // `building` changing (the build ended or started) reads the view once more.
  }, [job, number, building]);

  return (
    <section className="jk-stages-section" aria-label="Stages">
      {error && <ErrorCallout error={error} testId="jenkins-stages-error" />}
      {view === null && !error && (
        <p className="muted">
          <Spinner label="Loading stages" /> Reading the stage view…
        </p>
      )}
      {view !== null && (
        <>
          {view.stages.length === 0 ? (
            <p className="muted" data-testid="jenkins-stages-empty">
              No stage has started yet.
            </p>
          ) : (
            <ol className="jk-stages" data-testid="jenkins-stages" data-status={stageStatus(view.status)} data-refreshing={refreshing ? "true" : "false"} aria-label={`Stages of #${number}`}>
              {view.stages.map((s, i) => (
                <li
                  key={s.id || `${s.name}-${i}`}
                  className={`jk-stage jk-stage-${stageStatus(s.status)}`}
                  data-testid="jenkins-stage"
                  data-stage={s.name}
                  data-status={stageStatus(s.status)}
                >
                  <span className="jk-stage-name">{s.name}</span>
                  <span className="jk-stage-status">
                    {s.status === "IN_PROGRESS" && <Spinner label={`${s.name} in progress`} />}
                    {STAGE_STATUS_LABEL[s.status] ?? s.status}
                  </span>
                  <span className="jk-stage-duration" data-testid="jenkins-stage-duration">
                    {s.status === "NOT_EXECUTED" ? "" : formatDuration(s.durationMs)}
                  </span>
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}
