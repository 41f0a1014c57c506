import type { RolloutProgress } from "../../bindings/RolloutProgress";
import { Spinner } from "../../components/Spinner";
import { OPERATION_LABEL, PHASE_LABEL, statusClass } from "./model";
import { PodTable } from "./PodTable";

/** The live rollout: its phase and latest message, each service's replicas, every pod. */
export function RolloutView({ progress, starting }: { progress: RolloutProgress | null; starting: string | null }) {
  if (!progress) {
    return starting ? (
      <section className="dp-rollout" data-testid="rollout-starting" aria-live="polite">
        <Spinner label={starting} /> {starting}…
      </section>
    ) : null;
  }
  const p = progress;
  const live = p.phase === "applying" || p.phase === "rollingOut";
  return (
    <section
      className="dp-rollout"
      aria-label={`Rollout of revision ${p.revision}`}
      data-testid="rollout-progress"
      data-phase={p.phase}
      data-revision={p.revision}
      data-operation={p.operation}
    >
      <h3>
        Revision {p.revision} · {OPERATION_LABEL[p.operation]}{" "}
        <span className={`pl-status status-${statusClass(p.phase)}`} data-testid="rollout-phase">
          {live ? <Spinner label={PHASE_LABEL[p.phase]} /> : <span className="pl-dot" aria-hidden="true" />}
          {PHASE_LABEL[p.phase]}
        </span>
      </h3>
      <p className="dp-rollout-message" data-testid="rollout-message" aria-live="polite">
        {p.message}
      </p>
      {p.workloads.length > 0 && (
        <ul className="dp-bars" aria-label="Services">
          {p.workloads.map((w) => (
            <li key={w.name} data-testid="rollout-workload" data-workload={w.name} data-done={w.done ? "true" : "false"}>
              <span className="dp-bar-name">{w.name}</span>
              <span className="dp-bar" role="meter" aria-valuemin={0} aria-valuemax={w.desired} aria-valuenow={w.ready} aria-label={`${w.name} ready`}>
                <span style={{ width: `${w.desired === 0 ? 100 : Math.min(100, (100 * w.ready) / w.desired)}%` }} />
              </span>
              <span className="dp-bar-counts">
                {w.ready}/{w.desired} ready · {w.updated} updated · {w.available} available{w.done ? " · done" : ""}
              </span>
            </li>
          ))}
        </ul>
      )}
      {p.pods.length > 0 && <PodTable pods={p.pods} testId="rollout-pod" label="Pods of the rollout" />}
    </section>
  );
}
