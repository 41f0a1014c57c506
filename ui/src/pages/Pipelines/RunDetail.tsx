import { useCallback, useEffect, useState } from "react";

import { api } from "../../api";
import type { Run } from "../../bindings/Run";
import type { StageName } from "../../bindings/StageName";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { LogView } from "./LogView";
import {
  STAGE_LABEL,
  STATUS_LABEL,
  defaultStage,
  defaultStep,
  formatDuration,
  isActive,
  runDuration,
  shortSha,
  stepLabel,
  stepStatus,
  triggerLabel,
} from "./model";
import { RunResults } from "./RunResults";
import { StageGraph } from "./StageGraph";

/** One run: header with Cancel / Re-run, the stage graph, the selected stage's logs, the results. */
export function RunDetail({ run, now, onStarted }: { run: Run; now: number; onStarted: (r: Run) => void }) {
  const [pickedStage, setPickedStage] = useState<StageName | null>(null);
  const [pickedStep, setPickedStep] = useState<string | null>(null);
  /** The step names of one run's stage (`<run>/<stage>`), from log_steps. */
  const [stepsOf, setStepsOf] = useState<{ key: string; names: string[] } | null>(null);
  const [stepsError, setStepsError] = useState<UserError | null>(null);
  const [actionError, setActionError] = useState<UserError | null>(null);
  const [busy, setBusy] = useState<"cancel" | "rerun" | null>(null);
  /** Cancel was accepted; the run ends as soon as the runner stops (its containers go first). */
  const [cancelling, setCancelling] = useState(false);

  const stage = pickedStage ?? defaultStage(run);
  const stageRun = run.stages.find((s) => s.name === stage);
  // The step list changes when the stage starts, adds a step, or ends.
  const stepsKey = `${run.id}/${stage}/${stageRun?.status}/${stageRun?.steps.length}`;

  useEffect(() => {
    let cancelled = false;
    const key = `${run.id}/${stage}`;
    api.logSteps(run.id, stage).then(
      (names) => {
        if (cancelled) return;
        setStepsOf({ key, names });
        setStepsError(null);
      },
      (e: UserError) => {
        if (!cancelled) setStepsError(e);
      },
    );
    return () => {
      cancelled = true;
    };
    // stepsKey covers run.id and stage.
  }, [stepsKey]);

  const selectStage = useCallback((s: StageName) => {
    setPickedStage(s);
    setPickedStep(null);
  }, []);

  const steps = stepsOf?.key === `${run.id}/${stage}` ? stepsOf.names : null;
  const available = steps ?? [];
  const step = pickedStep !== null && available.includes(pickedStep) ? pickedStep : defaultStep(available, stageRun);

  async function cancel() {
    setBusy("cancel");
    setActionError(null);
    try {
      await api.cancelRun(run.id);
      setCancelling(true);
    } catch (e) {
      setActionError(e as UserError);
    } finally {
      setBusy(null);
    }
  }

  async function rerun() {
    setBusy("rerun");
    setActionError(null);
    try {
      onStarted(await api.rerun(run.id));
    } catch (e) {
      setActionError(e as UserError);
    } finally {
      setBusy(null);
    }
  }

  const active = isActive(run.status);
  const d = runDuration(run, now);
  const failedStage = run.stages.find((s) => s.status === "failed" && s.error);
  const shownError = stageRun?.status === "failed" && stageRun.error ? stageRun : failedStage;

  return (
    <section className="pl-detail" data-testid="run-detail" data-run={run.id} aria-label={`Run ${run.id}`}>
      <div className="pl-detail-head">
        <div>
          <h2>
            Run {run.id}{" "}
            <span className={`pl-status status-${run.status}`} data-testid="run-detail-status" data-status={run.status}>
              {STATUS_LABEL[run.status]}
            </span>
          </h2>
          <p className="hint">
            {run.gitRef}
            {run.commit && (
              <>
                {" "}
                at <code>{shortSha(run.commit)}</code> {run.commitMessage?.split("\n")[0]}
              </>
            )}{" "}
            · {triggerLabel(run.trigger)}
            {run.until && <> · stops after {STAGE_LABEL[run.until]}</>}
            {d !== null && <> · {formatDuration(d)}</>}
          </p>
        </div>
        <div className="actions">
          {active && (
            <button type="button" className="danger" data-testid="run-cancel" onClick={cancel} disabled={busy !== null || cancelling}>
              {busy === "cancel" || cancelling ? <Spinner label="Cancelling" /> : null} {cancelling ? "Cancelling…" : "Cancel"}
            </button>
          )}
          {!active && (
            <button type="button" data-testid="run-rerun" onClick={rerun} disabled={busy !== null}>
              {busy === "rerun" ? <Spinner label="Starting" /> : null} Re-run
            </button>
          )}
        </div>
      </div>
      {actionError && <ErrorCallout error={actionError} testId="run-action-error" />}
      {run.error && !failedStage && <ErrorCallout error={run.error} testId="run-error" />}

      <StageGraph run={run} now={now} selected={stage} onSelect={selectStage} />
      {shownError?.error && (
        <div className="pl-stage-error">
          <p className="hint">{STAGE_LABEL[shownError.name]} failed:</p>
          <ErrorCallout error={shownError.error} testId="stage-error" />
        </div>
      )}

      <section className="pl-logs" aria-label={`${STAGE_LABEL[stage]} logs`}>
        <h3>
          {STAGE_LABEL[stage]} <span className="muted">· {stageRun ? STATUS_LABEL[stageRun.status] : ""}</span>
        </h3>
        {stepsError && <ErrorCallout error={stepsError} testId="log-steps-error" />}
        {steps !== null && steps.length === 0 && (
          <p className="muted" data-testid="log-empty">
            {stageRun && isActive(stageRun.status) && stageRun.status === "queued"
              ? "This stage has not started yet."
              : "This stage wrote no log."}
          </p>
        )}
        {available.length > 0 && (
          <div className="pl-tabs" role="tablist" aria-label="Steps" data-testid="log-steps">
            {available.map((s) => {
              const st = stepStatus(s, stageRun);
              return (
                <button
                  key={s}
                  type="button"
                  role="tab"
                  className={`pl-tab status-${st ?? "queued"}`}
                  aria-selected={s === step}
                  data-testid="log-step"
                  data-step={s}
                  data-status={st ?? ""}
                  onClick={() => {
                    // Picking a step keeps its stage shown as the run moves on.
                    setPickedStage(stage);
                    setPickedStep(s);
                  }}
                >
                  <span className="pl-dot" aria-hidden="true" />
                  {stepLabel(s)}
                </button>
              );
            })}
          </div>
        )}
        {/* Kept mounted while the steps of another stage are listed: one terminal for the page. */}
        {(step !== null || steps === null) && <LogView run={run.id} stage={stage} step={step} />}
      </section>

      <section className="pl-artifacts" aria-label="Results">
        <h3>Results</h3>
        <RunResults key={run.id} artifacts={run.artifacts} />
      </section>
    </section>
  );
}
