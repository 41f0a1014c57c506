import { useCallback, useEffect, useLayoutEffect, useState, type FormEvent } from "react";

import { api, reportLaunchInteractive, takeEarlyLaunchState } from "../../api";
import type { EventEnvelope } from "../../bindings/EventEnvelope";
import type { LaunchAction } from "../../bindings/LaunchAction";
import type { LaunchState } from "../../bindings/LaunchState";
import type { LaunchStep } from "../../bindings/LaunchStep";
import type { Plan } from "../../bindings/Plan";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { useStore } from "../../state/store";
import { actionLabel, relevant, sourceOf, stepMark } from "./model";
import "./launch.css";

/**
 * The journey from a fresh install to the app answering through NGINX on Kubernetes: six steps,
 * each done, current, running, failed or blocked, with the one action that moves it on. The
 * state is the Rust side's (launch_state, computed from the store), read again when the work
 * that moves it reports, so the page resumes where it was after a restart.
 */
export function LaunchPage() {
  const { onEvents } = useStore();
  // Shown at once when first-paint.js has it already; the effect below asks again.
  const [state, setState] = useState<LaunchState | null>(takeEarlyLaunchState);
  const [loadError, setLoadError] = useState<UserError | null>(null);
  const [actionError, setActionError] = useState<UserError | null>(null);
  const [busy, setBusy] = useState<LaunchAction | null>(null);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [source, setSource] = useState("");
  /** "3 deploys this week, lead time 12 min" once the project has deployed this week. */
  const [delivery, setDelivery] = useState<string | null>(null);

  const reload = useCallback(() => {
    api.launchState(null).then(
      (s) => {
        setState(s);
        setLoadError(null);
      },
      (e: UserError) => setLoadError(e),
    );
  }, []);

  useEffect(() => reload(), [reload]);
  // The page can be used once its state is shown (scripts/bench.sh measures when): reported from
  // the commit that shows it, before that frame paints (reportLaunchInteractive waits for it).
  const loaded = state !== null;
  useLayoutEffect(() => {
    if (loaded) reportLaunchInteractive();
  }, [loaded]);

  const project = state?.project ?? null;
  const deployDone = state?.steps.some((s) => s.id === "deploy" && s.status === "done") ?? false;
  useEffect(() => {
    if (!project) return;
    let cancelled = false;
    // A line the page can live without: an error leaves it out.
    api.deliveryLine(project).then(
      (line) => !cancelled && setDelivery(line),
      () => !cancelled && setDelivery(null),
    );
    return () => {
      cancelled = true;
    };
  }, [project, deployDone]);

  // The events that move a step (an apply's progress, a run, a deploy, a connection) bring a
  // fresh state, at most every 300 ms.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = onEvents((batch: EventEnvelope[]) => {
      if (!batch.some(relevant) || timer) return;
      timer = setTimeout(() => {
        timer = null;
        reload();
      }, 300);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [onEvents, reload]);

  // Deployed but not answering yet (pods starting, an app waiting for its database): no event
  // will say when it starts to answer, so the state is asked again every 2 s until it does.
  const waitingForAnswer = state?.steps.some((s) => s.id === "open" && s.status === "current") ?? false;
  useEffect(() => {
    if (!waitingForAnswer) return;
    const timer = setInterval(reload, 2_000);
    return () => clearInterval(timer);
  }, [waitingForAnswer, reload]);

  async function act(action: LaunchAction) {
    if (busy) return;
    setBusy(action);
    setActionError(null);
    try {
      switch (action) {
        case "useSandbox":
          await api.connectAws({ source: "sandbox", region: null });
          break;
        case "addProject":
          await api.launchAddProject({ source: sourceOf(source), id: null });
          setSource("");
          break;
        case "plan":
          setPlan(await api.launchPlan(null));
          break;
        case "apply":
          await api.launchApply(null);
          break;
        case "startRun":
          await api.launchRun(null);
          break;
        case "deployLive":
          await api.launchDeploy(null);
          break;
        case "openApp":
          if (state?.url) window.open(state.url, "_blank", "noopener");
          break;
      }
    } catch (e) {
      setActionError(e as UserError);
    } finally {
      setBusy(null);
      reload();
    }
  }

  function submitProject(e: FormEvent) {
    e.preventDefault();
    if (source.trim()) void act("addProject");
  }

  if (loadError) return <ErrorCallout error={loadError} testId="launch-load-error" />;
  if (!state) return <Spinner label="Reading where the journey is" />;

  const done = state.steps.filter((s) => s.status === "done").length;
  return (
    <div className="launch" data-testid="launch-page">
      <p className="launch-intro">
        From here to your app running behind NGINX on Kubernetes, tested against its database. <strong>{done} of {state.steps.length}</strong>{" "}
        steps done{state.project ? <> for <code data-testid="launch-project">{state.project}</code></> : null}.
      </p>
      {delivery && (
        <p className="muted" data-testid="launch-delivery">
          {delivery} (<a href="#/insights">Insights</a>)
        </p>
      )}
      {actionError && <ErrorCallout error={actionError} testId="launch-action-error" />}
      <ol className="launch-steps">
        {state.steps.map((step) => (
          <li key={step.id} className={`launch-step launch-${step.status}`} data-testid={`launch-step-${step.id}`} data-status={step.status}>
            <span className="launch-mark" aria-hidden="true">
              {stepMark(step.status)}
            </span>
            <div className="launch-body">
              <h2 className="launch-title">
                {step.title} <span className="launch-status">{step.status}</span>
              </h2>
              <p className="launch-detail" data-testid={`launch-detail-${step.id}`}>
                {step.detail}
              </p>
              {step.error && <ErrorCallout error={step.error} testId={`launch-error-${step.id}`} />}
              {step.id === "project" && step.action === "addProject" && (
                <form className="launch-form" onSubmit={submitProject}>
                  <label>
                    Folder or Git URL
                    <input
                      data-testid="launch-source"
                      value={source}
                      onChange={(e) => setSource(e.target.value)}
                      placeholder="/home/me/shop or https://github.com/me/shop"
                      spellCheck={false}
                    />
                  </label>
                  <button type="submit" data-testid="launch-action-addProject" disabled={!source.trim() || busy !== null}>
                    {busy === "addProject" ? "Detecting…" : actionLabel("addProject")}
                  </button>
                </form>
              )}
              {step.id === "infrastructure" && <Infrastructure state={state} plan={plan} />}
              {step.id === "open" && state.url && (
                <p>
                  <a href={state.url} target="_blank" rel="noopener noreferrer" data-testid="launch-url">
                    {state.url}
                  </a>
                </p>
              )}
              <Action step={step} busy={busy} onAct={act} />
            </div>
          </li>
        ))}
      </ol>
    </div>
  );
}

function Action({ step, busy, onAct }: { step: LaunchStep; busy: LaunchAction | null; onAct: (a: LaunchAction) => void }) {
  const a = step.action;
  if (!a || a === "addProject") return null;
  const primary = step.status === "current" || step.status === "failed";
  return (
    <button
      type="button"
      className={primary ? "primary" : undefined}
      data-testid={`launch-action-${a}`}
      disabled={busy !== null}
      onClick={() => onAct(a)}
    >
      {busy === a ? <><Spinner label={actionLabel(a)} /> {actionLabel(a)}…</> : actionLabel(a)}
    </button>
  );
}

/** What the plan creates and costs, and (in the sandbox) what stands in for EKS, ECR and RDS. */
function Infrastructure({ state, plan }: { state: LaunchState; plan: Plan | null }) {
  const creates = plan ? plan.changes.filter((c) => c.action === "create").length : null;
  return (
    <>
      {plan && (
        <p className="launch-plan" data-testid="launch-plan">
          {creates} to create, about <strong>${plan.monthlyTotal.toFixed(2)}</strong> a month ({plan.prices.region} on-demand prices of {plan.prices.date}).
        </p>
      )}
      {state.mappings.length > 0 && (
        <ul className="launch-mappings" data-testid="launch-mappings" aria-label="What the sandbox runs locally">
          {state.mappings.map((m) => (
            <li key={m.part} data-testid={`launch-mapping-${m.part}`}>
              <strong>{m.part}</strong> → {m.mapsTo}
              {m.error && <ErrorCallout error={m.error} testId={`launch-mapping-error-${m.part}`} />}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
