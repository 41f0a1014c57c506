import type { DeployStatus } from "../../bindings/DeployStatus";
import type { WorkloadStatus } from "../../bindings/WorkloadStatus";
import { ErrorCallout } from "../../components/ErrorCallout";
import { PodTable } from "./PodTable";

/** The replica counts of a service, in column order. */
const COUNTS = [
  { key: "desired", label: "Desired", testId: "workload-desired" },
  { key: "updated", label: "Updated", testId: "workload-updated" },
  { key: "ready", label: "Ready", testId: "workload-ready" },
  { key: "available", label: "Available", testId: "workload-available" },
] as const;

function health(w: WorkloadStatus): "ok" | "progressing" | "down" {
  if (w.ready === 0 && w.desired > 0) return "down";
  return w.ready >= w.desired && w.updated >= w.desired ? "ok" : "progressing";
}

/**
 * What the cluster runs for an environment: where (context, server, namespace), the app's URL,
 * each service's replicas and images, every pod, and how each Service is reached. A cluster
 * that cannot be read shows its error above what the store knows.
 */
export function ClusterView({ status, current, deployed }: { status: DeployStatus; current: number | null; deployed: boolean }) {
  const local = status.environment.target.kind === "local";
  return (
    <section className="dp-cluster" aria-label="What runs now">
      <dl className="dp-facts">
        {local ? (
          <div>
            <dt>Target</dt>
            <dd>the local Docker engine</dd>
          </div>
        ) : (
          <>
            <div>
              <dt>Context</dt>
              <dd data-testid="deploy-context">{status.context ?? <span className="muted">not reached</span>}</dd>
            </div>
            <div>
              <dt>Server</dt>
              <dd data-testid="deploy-server">{status.server ?? <span className="muted">not reached</span>}</dd>
            </div>
            <div>
              <dt>Namespace</dt>
              <dd data-testid="deploy-namespace">{status.namespace ?? ""}</dd>
            </div>
          </>
        )}
        <div>
          <dt>Serving</dt>
          <dd data-testid="deploy-current">{current === null ? <span className="muted">nothing yet</span> : `revision ${current}`}</dd>
        </div>
        <div>
          <dt>App</dt>
          <dd>
            {status.url ? (
              <a href={status.url} target="_blank" rel="noreferrer" data-testid="deploy-app-url">
                {status.url}
              </a>
            ) : (
              <span className="muted">no address</span>
            )}
          </dd>
        </div>
      </dl>
      {status.error && (
        <>
          <p className="hint">The cluster could not be read; below is what Slipway recorded.</p>
          <ErrorCallout error={status.error} testId="deploy-status-error" />
        </>
      )}
      {local && (
        <p className="hint" data-testid="deploy-local-note">
          Deploy starts the run&apos;s services here as containers behind NGINX. Replicas, pods, redeploy, rollback and logs
          are for Kubernetes environments.
        </p>
      )}
      {!local && !status.error && deployed && status.workloads.length === 0 && (
        <p className="muted" data-testid="deploy-not-running">
          Nothing runs in namespace {status.namespace} (torn down, or deleted outside Slipway). Redeploy brings revision {current} back.
        </p>
      )}
      {status.workloads.length > 0 && (
        <>
          <h3>Services</h3>
          <table className="plan-table dp-workloads" aria-label="Services" data-testid="deploy-workloads">
            <thead>
              <tr>
                <th>Service</th>
                {COUNTS.map((c) => (
                  <th key={c.key} className="num">
                    {c.label}
                  </th>
                ))}
                <th>Images</th>
                <th>Revision</th>
              </tr>
            </thead>
            <tbody>
              {status.workloads.map((w) => (
                <tr key={w.name} className={`dp-health-${health(w)}`} data-testid="workload-row" data-workload={w.name} data-role={w.role}>
                  <td>
                    {w.name} <span className="dp-role">{w.role}</span>
                  </td>
                  {COUNTS.map((c) => (
                    <td key={c.key} className="num" data-testid={c.testId}>
                      {w[c.key]}
                    </td>
                  ))}
                  <td className="dp-images" data-testid="workload-images">
                    {w.images.join(", ")}
                  </td>
                  <td>{w.revision === null ? <span className="muted">not stamped</span> : w.revision}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {status.pods.length > 0 && (
        <>
          <h3>Pods</h3>
          <PodTable pods={status.pods} testId="pod-row" label="Pods" />
        </>
      )}
      {status.endpoints.length > 0 && (
        <>
          <h3>Endpoints</h3>
          <table className="plan-table" aria-label="Endpoints">
            <thead>
              <tr>
                <th>Service</th>
                <th>Type</th>
                <th className="num">Port</th>
                <th className="num">Node port</th>
                <th>Reached at</th>
              </tr>
            </thead>
            <tbody>
              {status.endpoints.map((e) => (
                <tr key={e.service} data-testid="endpoint-row" data-service={e.service}>
                  <td>{e.service}</td>
                  <td>{e.serviceType}</td>
                  <td className="num">{e.port}</td>
                  <td className="num">{e.nodePort ?? ""}</td>
                  <td>
                    {e.url && (
                      <a href={e.url} target="_blank" rel="noreferrer">
                        {e.url}
                      </a>
                    )}
                    {e.note && <span className="hint"> {e.note}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
