import type { PodInfo } from "../../bindings/PodInfo";
import { podState } from "./model";

/** Pods with phase, readiness, restarts and why one is not ready; the rows of older revisions say so. */
export function PodTable({ pods, testId, label }: { pods: PodInfo[]; testId: "pod-row" | "rollout-pod"; label: string }) {
  return (
    <table className="plan-table dp-pods" aria-label={label}>
      <thead>
        <tr>
          <th>Pod</th>
          <th>Service</th>
          <th>Phase</th>
          <th>Ready</th>
          <th className="num">Restarts</th>
          <th>Reason</th>
          <th>Node</th>
        </tr>
      </thead>
      <tbody>
        {pods.map((p) => (
          <tr
            key={p.name}
            className={`dp-pod dp-pod-${podState(p)}`}
            data-testid={testId}
            data-pod={p.name}
            data-workload={p.workload}
            data-phase={p.phase}
            data-ready={p.ready ? "true" : "false"}
            data-restarts={p.restarts}
            data-current={p.current ? "true" : "false"}
          >
            <td>
              <code>{p.name}</code>
              {!p.current && <span className="muted"> (previous revision)</span>}
            </td>
            <td>{p.workload}</td>
            <td data-testid="pod-phase">{p.phase}</td>
            <td data-testid="pod-ready">{p.ready ? "ready" : "not ready"}</td>
            <td className="num" data-testid="pod-restarts">
              {p.restarts}
            </td>
            <td data-testid="pod-reason" title={p.message ?? undefined}>
              {p.reason ?? ""}
              {p.message && <span className="dp-pod-message">{p.message}</span>}
            </td>
            <td data-testid="pod-node">{p.node ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
