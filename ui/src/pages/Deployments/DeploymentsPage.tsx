import { useCallback, useEffect, useState } from "react";

import { api } from "../../api";
import type { Environment } from "../../bindings/Environment";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { ExportDialog } from "../../components/ExportDialog";
import { ProjectSelect, hashParam, projectsPending, useProjects } from "../../components/ProjectPicker";
import { Spinner } from "../../components/Spinner";
import { ConfigPanel } from "./ConfigPanel";
import { EnvironmentForm } from "./EnvironmentForm";
import { EnvironmentView } from "./EnvironmentView";

/** The environment to show: the one asked for, else the one runs deploy to, else the first. */
function pick(envs: Environment[], wanted: string | null): string | null {
  return (envs.find((e) => e.name === wanted) ?? envs.find((e) => e.runs) ?? envs[0])?.name ?? null;
}

/** The Deployments page; `#/deployments?project=<id>&env=<name>` names what to show. */
export function DeploymentsPage() {
  const picker = useProjects();
  const { project } = picker;
  const [envs, setEnvs] = useState<Environment[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<UserError | null>(null);
  /** The open form: null closed; `editing` null adds one. */
  const [form, setForm] = useState<{ editing: Environment | null } | null>(null);

  const loadEnvs = useCallback(async (p: string, wanted: string | null) => {
    try {
      const list = await api.environments(p);
      setEnvs(list);
      setSelected(pick(list, wanted));
      setLoadError(null);
    } catch (e) {
      setLoadError(e as UserError);
    }
  }, []);

  useEffect(() => {
    if (project === null) return;
    setEnvs(null);
    setForm(null);
    void loadEnvs(project, hashParam("env"));
  }, [project, loadEnvs]);

  const pending = projectsPending(
    picker,
    { error: { testId: "deployments-error" }, empty: { testId: "deployments-empty" } },
    "No project yet: a deployment runs a project's services, built by a pipeline run.",
  );
  if (pending || project === null) return pending;

  const shown = envs?.find((e) => e.name === selected) ?? null;
  return (
    <div className="pl dp">
      <div className="pl-toolbar">
        <ProjectSelect p={picker} testId="deploy-project" />
        {envs !== null && envs.length > 0 && (
          <div className="pl-tabs dp-envs" role="tablist" aria-label="Environments" data-testid="env-list">
            {envs.map((e) => (
              <button
                key={e.name}
                type="button"
                role="tab"
                className="pl-tab"
                aria-selected={e.name === selected}
                data-testid="env-tab"
                data-env={e.name}
                data-runs={e.runs ? "true" : "false"}
                onClick={() => {
                  setSelected(e.name);
                  setForm(null);
                }}
              >
                {e.name}
                <span className="dp-tab-kind">{e.target.kind === "local" ? "local" : "k8s"}</span>
              </button>
            ))}
          </div>
        )}
        <button type="button" data-testid="env-add" onClick={() => setForm({ editing: null })} disabled={envs === null}>
          Add environment
        </button>
        <ExportDialog defaultKind="k8s" project={project} environment={selected} />
      </div>
      {loadError && <ErrorCallout error={loadError} testId="deployments-error" />}
      {form && (
        <EnvironmentForm
          key={form.editing?.name ?? "new"}
          project={project}
          editing={form.editing}
          onCancel={() => setForm(null)}
          onSaved={(env) => {
            setForm(null);
            void loadEnvs(project, env.name);
          }}
        />
      )}
      {envs === null && !loadError && (
        <p className="muted">
          <Spinner label="Loading environments" /> Loading environments…
        </p>
      )}
      {envs !== null && envs.length === 0 && !form && (
        <div className="panel" data-testid="env-empty">
          <p>
            {project} has no environment yet, so pipeline runs deploy to the local Docker engine (each service&apos;s replicas
            behind NGINX on a loopback port).
          </p>
          <p>
            To deploy to Kubernetes (kind, minikube, the EKS cluster Slipway created…), add an environment: a context of your
            kubeconfig and a namespace. Then Deploy, Redeploy and Roll back here, with the cluster&apos;s pods and logs live.
          </p>
          <button type="button" className="primary" data-testid="env-empty-add" onClick={() => setForm({ editing: null })}>
            Add a Kubernetes environment
          </button>
        </div>
      )}
      {shown && (
        <EnvironmentView
          key={`${project}/${shown.name}/${JSON.stringify(shown.target)}`}
          project={project}
          env={shown}
          onEdit={() => setForm({ editing: shown })}
          onRemoved={() => void loadEnvs(project, null)}
        />
      )}
      {envs !== null && <ConfigPanel key={project} project={project} env={selected} />}
    </div>
  );
}
