import { useEffect, useState } from "react";

import { api } from "../../api";
import type { Environment } from "../../bindings/Environment";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { ClusterView } from "./ClusterView";
import { Confirm } from "./Confirm";
import { DeployLogs } from "./DeployLogs";
import { History } from "./History";
import { OPERATION_LABEL, defaultRollbackTarget, isKube, targetLabel } from "./model";
import { RollbackForm } from "./RollbackForm";
import { RolloutView } from "./RolloutView";
import { useDeployment } from "./useDeployment";

/**
 * One environment: where it deploys, Deploy / Redeploy / Roll back / Tear down with the live
 * rollout, what runs now, the revision history and the merged logs.
 */
export function EnvironmentView({ project, env, onEdit, onRemoved }: { project: string; env: Environment; onEdit: () => void; onRemoved: () => void }) {
  const d = useDeployment(project, env.name);
  /** The open rollback form: undefined closed, null the default target, else a revision. */
  const [rollbackTo, setRollbackTo] = useState<number | null | undefined>(undefined);
  const [confirm, setConfirm] = useState<"teardown" | "remove" | null>(null);
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<UserError | null>(null);
  const [now, setNow] = useState(() => Date.now());

  const ticking = d.busy !== null || d.revisions.some((r) => r.status === "inProgress");
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [ticking]);

  const kube = isKube(env);
  const busy = d.busy !== null;
  const fallback = defaultRollbackTarget(d.revisions, d.current);
  const rollbackTarget = rollbackTo === undefined ? null : rollbackTo === null ? fallback : (d.revisions.find((r) => r.number === rollbackTo) ?? null);

  async function remove() {
    setRemoving(true);
    setRemoveError(null);
    try {
      await api.deleteEnvironment(project, env.name);
      onRemoved();
    } catch (e) {
      setRemoveError(e as UserError);
    } finally {
      setRemoving(false);
      setConfirm(null);
    }
  }

  return (
    <section className="dp-env" aria-label={`Environment ${env.name}`} data-testid="env-view" data-env={env.name}>
      <div className="pl-detail-head">
        <div>
          <h2>
            {env.name}{" "}
            {env.runs && (
              <span className="dp-runs" data-testid="env-runs-badge">
                pipeline runs deploy here
              </span>
            )}
          </h2>
          <p className="hint" data-testid="env-target">
            {targetLabel(env)}
          </p>
        </div>
        <div className="actions">
          <button type="button" data-testid="env-edit" onClick={onEdit} disabled={busy}>
            Edit
          </button>
          <button type="button" className="danger" data-testid="env-remove" onClick={() => setConfirm("remove")} disabled={busy || removing}>
            {removing ? <Spinner label="Removing" /> : null} Remove
          </button>
        </div>
      </div>
      {confirm === "remove" && (
        <Confirm testId="env-remove-box" yes={{ testId: "env-remove-confirm", label: "Remove" }} no={{ testId: "env-remove-cancel" }} onYes={remove} onNo={() => setConfirm(null)}>
          Remove {env.name} and its revision history from Slipway? The cluster is not touched: tear it down first to remove
          what it runs.
        </Confirm>
      )}
      {removeError && <ErrorCallout error={removeError} testId="env-remove-error" />}

      <div className="actions dp-ops" role="toolbar" aria-label="Operations">
        <button type="button" className="primary" data-testid="deploy-deploy" disabled={busy} onClick={d.deploy} title="Deploy the images of the newest run that built them">
          {d.busy === "deploy" ? <Spinner label="Deploying" /> : null} Deploy
        </button>
        {kube && (
          <>
            <button
              type="button"
              data-testid="deploy-redeploy"
              disabled={busy || d.current === null}
              onClick={d.redeploy}
              title="A rolling restart of the revision serving now: the same images, new pods"
            >
              {d.busy === "redeploy" ? <Spinner label="Redeploying" /> : null} Redeploy
            </button>
            <button
              type="button"
              data-testid="deploy-rollback"
              disabled={busy || fallback === null}
              onClick={() => {
                setConfirm(null);
                setRollbackTo(null);
              }}
              title="Apply the previous image set again, with a reason"
            >
              {d.busy === "rollback" ? <Spinner label="Rolling back" /> : null} Roll back…
            </button>
            <button
              type="button"
              className="danger"
              data-testid="deploy-teardown"
              disabled={busy}
              onClick={() => {
                setRollbackTo(undefined);
                setConfirm("teardown");
              }}
            >
              {d.busy === "teardown" ? <Spinner label="Tearing down" /> : null} Tear down…
            </button>
          </>
        )}
      </div>
      {rollbackTo !== undefined && (
        <RollbackForm
          key={rollbackTo ?? "default"}
          environment={env.name}
          target={rollbackTarget}
          onCancel={() => setRollbackTo(undefined)}
          onSubmit={(reason) => {
            setRollbackTo(undefined);
            d.rollback(rollbackTo, reason);
          }}
        />
      )}
      {confirm === "teardown" && (
        <Confirm
          testId="teardown-box"
          yes={{ testId: "teardown-confirm", label: "Tear down" }}
          no={{ testId: "teardown-cancel" }}
          onYes={() => {
            setConfirm(null);
            d.teardown();
          }}
          onNo={() => setConfirm(null)}
        >
          Delete namespace {d.status?.namespace ?? "of this environment"} and everything in it (the app, its database and its
          data)? The history stays; Redeploy brings the serving revision back.
        </Confirm>
      )}
      {d.opError && <ErrorCallout error={d.opError} testId="deploy-op-error" />}
      {d.result && (
        <p className="dp-result" role="status" data-testid="deploy-op-result">
          {d.result}
        </p>
      )}
      <RolloutView progress={d.progress} starting={d.busy && d.busy !== "teardown" ? OPERATION_LABEL[d.busy] : null} />

      {d.status ? (
        <ClusterView status={d.status} current={d.current} deployed={d.revisions.length > 0} />
      ) : d.loadError ? (
        <ErrorCallout error={d.loadError} testId="deploy-load-error" />
      ) : (
        <p className="muted" data-testid="deploy-status-loading">
          <Spinner label="Reading the environment" /> Reading the environment…
        </p>
      )}
      {d.status && d.revisions.length === 0 && (
        <p className="muted" data-testid="deploy-nothing">
          Nothing deployed to {env.name} yet. Deploy sends the images of the newest run that built them (run the pipeline at least
          until Build first).
        </p>
      )}
      {d.revisions.length > 0 && (
        <History
          project={project}
          revisions={d.revisions}
          current={d.current}
          now={now}
          disabled={busy}
          onRollback={(to) => {
            setConfirm(null);
            setRollbackTo(to);
          }}
        />
      )}
      {kube && <DeployLogs project={project} environment={env.name} />}
    </section>
  );
}
