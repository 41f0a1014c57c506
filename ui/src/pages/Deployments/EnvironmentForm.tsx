import { useCallback, useEffect, useId, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { Environment } from "../../bindings/Environment";
import type { KubeContextInfo } from "../../bindings/KubeContextInfo";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { emptyForm, environmentFromForm, formFromEnvironment, type EnvForm } from "./model";

const KINDS = [
  { kind: "kubernetes", testId: "env-kind-kubernetes", label: "Kubernetes cluster", hint: "a context of your kubeconfig: kind, minikube, EKS…" },
  { kind: "local", testId: "env-kind-local", label: "Local Docker engine", hint: "replicas behind NGINX on a loopback port" },
] as const;

/**
 * Adds or edits an environment: the local Docker engine, or a Kubernetes context (picked from the
 * kubeconfig's), namespace, database and progress deadline. The Rust side validates; its error
 * is shown as it comes.
 */
export function EnvironmentForm({
  project,
  editing,
  onSaved,
  onCancel,
}: {
  project: string;
  editing: Environment | null;
  onSaved: (env: Environment) => void;
  onCancel: () => void;
}) {
  const uid = useId();
  const [form, setForm] = useState<EnvForm>(() => (editing ? formFromEnvironment(editing) : emptyForm()));
  const [contexts, setContexts] = useState<KubeContextInfo[] | null>(null);
  const [contextsError, setContextsError] = useState<UserError | null>(null);
  const [listing, setListing] = useState(false);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const set = <K extends keyof EnvForm>(k: K, v: EnvForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const id = (k: string) => `${uid}-${k}`;

  const listContexts = useCallback(async (kubeconfig: string) => {
    setListing(true);
    setContextsError(null);
    try {
      setContexts(await api.kubeContexts(kubeconfig.trim() === "" ? null : kubeconfig.trim()));
    } catch (e) {
      setContexts(null);
      setContextsError(e as UserError);
    } finally {
      setListing(false);
    }
  }, []);

  // The default kubeconfig's contexts, once, when the form is about a cluster.
  const kube = form.kind === "kubernetes";
  useEffect(() => {
    if (kube && contexts === null && contextsError === null) void listContexts(form.kubeconfig);
    // Only when switching to Kubernetes: a changed kubeconfig path is listed by the button.
  }, [kube]);

  async function save(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const r = environmentFromForm(form, project);
    if ("error" in r) {
      setError(r.error);
      return;
    }
    setSaving(true);
    try {
      onSaved(await api.saveEnvironment(r.environment));
    } catch (err) {
      setError(err as UserError);
    } finally {
      setSaving(false);
    }
  }

  const known = contexts?.some((c) => c.name === form.context) ?? false;
  return (
    <form className="panel dp-form" onSubmit={save} aria-label={editing ? `Edit environment ${editing.name}` : "Add an environment"} data-testid="env-form">
      <h2>{editing ? `Edit ${editing.name}` : "Add an environment"}</h2>
      <div className="dp-form-grid">
        <div className="bp-field">
          <label htmlFor={id("name")}>Name</label>
          <input
            id={id("name")}
            data-testid="env-name"
            value={form.name}
            onChange={(e) => set("name", e.target.value)}
            disabled={editing !== null}
            placeholder="staging"
            spellCheck={false}
            required
          />
        </div>
        <fieldset className="choices dp-kind">
          <legend>Deploys to</legend>
          {KINDS.map((k) => (
            <label key={k.kind} className={`choice${form.kind === k.kind ? " choice-selected" : ""}`}>
              <input type="radio" name={id("kind")} data-testid={k.testId} checked={form.kind === k.kind} onChange={() => set("kind", k.kind)} />
              <span>
                <span className="choice-label">{k.label}</span>
                <span className="choice-hint">{k.hint}</span>
              </span>
            </label>
          ))}
        </fieldset>
      </div>
      {kube && (
        <div className="dp-form-grid">
          <div className="bp-field">
            <label htmlFor={id("kubeconfig")}>
              Kubeconfig <span className="optional">(optional)</span>
            </label>
            <span className="dp-inline">
              <input
                id={id("kubeconfig")}
                data-testid="env-kubeconfig"
                value={form.kubeconfig}
                onChange={(e) => set("kubeconfig", e.target.value)}
                placeholder="the connected one, else KUBECONFIG, else ~/.kube/config"
                spellCheck={false}
              />
              <button type="button" data-testid="env-contexts-load" onClick={() => void listContexts(form.kubeconfig)} disabled={listing}>
                {listing ? <Spinner label="Listing contexts" /> : null} List contexts
              </button>
            </span>
          </div>
          <div className="bp-field">
            <label htmlFor={id("context")}>Context</label>
            <select id={id("context")} data-testid="env-context" value={form.context} onChange={(e) => set("context", e.target.value)}>
              <option value="">the connected or current context</option>
              {form.context !== "" && !known && <option value={form.context}>{form.context}</option>}
              {contexts?.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name} ({c.server ?? c.cluster}){c.current ? " · current" : ""}
                  {c.exec ? " · exec" : ""}
                </option>
              ))}
            </select>
          </div>
          <div className="bp-field">
            <label htmlFor={id("namespace")}>
              Namespace <span className="optional">(optional)</span>
            </label>
            <input
              id={id("namespace")}
              data-testid="env-namespace"
              value={form.namespace}
              onChange={(e) => set("namespace", e.target.value)}
              placeholder="the manifests', else the project id"
              spellCheck={false}
            />
          </div>
          <div className="bp-field">
            <label htmlFor={id("database")}>Database</label>
            <select id={id("database")} data-testid="env-database" value={form.database} onChange={(e) => set("database", e.target.value as EnvForm["database"])}>
              <option value="inCluster">MariaDB in the cluster (local clusters)</option>
              <option value="rds">the RDS database Slipway created</option>
            </select>
          </div>
          {form.database === "rds" && (
            <>
              <div className="bp-field">
                <label htmlFor={id("blueprint")}>
                  Blueprint <span className="optional">(optional)</span>
                </label>
                <input id={id("blueprint")} data-testid="env-rds-blueprint" value={form.rdsBlueprint} onChange={(e) => set("rdsBlueprint", e.target.value)} placeholder="slipway" />
              </div>
              <div className="bp-field">
                <label htmlFor={id("instance")}>
                  Database resource <span className="optional">(optional)</span>
                </label>
                <input id={id("instance")} data-testid="env-rds-instance" value={form.rdsInstance} onChange={(e) => set("rdsInstance", e.target.value)} placeholder="db-live" />
              </div>
            </>
          )}
          <div className="bp-field">
            <label htmlFor={id("deadline")}>
              Progress deadline, seconds <span className="optional">(optional)</span>
            </label>
            <input
              id={id("deadline")}
              data-testid="env-deadline"
              inputMode="numeric"
              value={form.deadline}
              onChange={(e) => set("deadline", e.target.value)}
              placeholder="the manifests' own (600)"
            />
          </div>
        </div>
      )}
      {contextsError && kube && <ErrorCallout error={contextsError} testId="env-contexts-error" />}
      <label className="checkbox">
        <input type="checkbox" data-testid="env-runs" checked={form.runs} onChange={(e) => set("runs", e.target.checked)} />
        Pipeline runs of {project} deploy here (instead of the local Docker engine)
      </label>
      {error && <ErrorCallout error={error} testId="env-save-error" />}
      <div className="actions">
        <button type="submit" className="primary" data-testid="env-save" disabled={saving}>
          {saving ? <Spinner label="Saving" /> : null} Save
        </button>
        <button type="button" data-testid="env-cancel" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

