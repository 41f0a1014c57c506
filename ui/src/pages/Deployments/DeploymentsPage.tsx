import { useCallback, useEffect, useId, useState } from "react";

import { api } from "../../api";
import type { Environment } from "../../bindings/Environment";
import type { Project } from "../../bindings/Project";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { EnvironmentForm } from "./EnvironmentForm";
import { EnvironmentView } from "./EnvironmentView";

/** `#/deployments?project=<id>&env=<name>` names what to show. */
function fromHash(name: "project" | "env"): string | null {
  const q = window.location.hash.split("?")[1];
  return q ? new URLSearchParams(q).get(name) : null;
}

/** The environment to show: the one asked for, else the one runs deploy to, else the first. */
function pick(envs: Environment[], wanted: string | null): string | null {
  return (envs.find((e) => e.name === wanted) ?? envs.find((e) => e.runs) ?? envs[0])?.name ?? null;
}

export function DeploymentsPage() {
  const uid = useId();
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [project, setProject] = useState<string | null>(null);
  const [envs, setEnvs] = useState<Environment[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<UserError | null>(null);
  /** The open form: null closed; `editing` null adds one. */
  const [form, setForm] = useState<{ editing: Environment | null } | null>(null);

  useEffect(() => {
    let cancelled = false;
    api.projects().then(
      (ps) => {
        if (cancelled) return;
        setProjects(ps);
        const wanted = fromHash("project");
        setProject(ps.find((p) => p.id === wanted)?.id ?? ps[0]?.id ?? null);
      },
      (e: UserError) => {
        if (!cancelled) setLoadError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, []);

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
    void loadEnvs(project, fromHash("env"));
  }, [project, loadEnvs]);

  if (loadError && projects === null) return <ErrorCallout error={loadError} testId="deployments-error" />;
  if (projects === null) {
    return (
      <p className="muted">
        <Spinner label="Loading projects" /> Loading…
      </p>
    );
  }
  if (projects.length === 0 || project === null) {
    return (
      <div className="panel" data-testid="deployments-empty">
        <p>No project yet: a deployment runs a project&apos;s services, built by a pipeline run.</p>
        <p>
          <a href="#/project">Add a project on the Project page</a> (or <code>slipway project add PATH</code>).
        </p>
      </div>
    );
  }

  const shown = envs?.find((e) => e.name === selected) ?? null;
  return (
    <div className="pl dp">
      <div className="pl-toolbar">
        <div className="bp-field">
          <label htmlFor={`${uid}-project`}>Project</label>
          <select id={`${uid}-project`} data-testid="deploy-project" value={project} onChange={(e) => setProject(e.target.value)}>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.id}
              </option>
            ))}
          </select>
        </div>
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
    </div>
  );
}
