import { useCallback, useEffect, useId, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { ConfigRow } from "../../bindings/ConfigRow";
import type { ConfigView } from "../../bindings/ConfigView";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { Confirm } from "./Confirm";

const ALL = "all";

function envLabel(env: string): string {
  if (env === ALL) return "all environments";
  if (env === "test") return "test (the Test stage)";
  if (env === "local") return "local (the Docker engine)";
  return env;
}

/**
 * A project's configuration per environment: what each service gets there (the repository's
 * defaults from .env, env files and compose, under the values set here), set and removed per
 * environment, secrets kept in the keychain only, and the move of the secrets the repository
 * commits into the keychain after a confirmation.
 */
export function ConfigPanel({ project, env }: { project: string; env: string | null }) {
  const id = useId();
  const [shown, setShown] = useState<string>(env ?? ALL);
  const [view, setView] = useState<ConfigView | null>(null);
  const [loadError, setLoadError] = useState<UserError | null>(null);
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [secret, setSecret] = useState(false);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [confirmMove, setConfirmMove] = useState(false);
  const [moved, setMoved] = useState<string[] | null>(null);

  const load = useCallback(
    async (e: string) => {
      try {
        setView(await api.envConfig(project, e));
        setLoadError(null);
      } catch (err) {
        // An environment the project no longer has: all environments instead.
        if (e !== ALL) {
          setShown(ALL);
          return;
        }
        setLoadError(err as UserError);
      }
    },
    [project],
  );

  useEffect(() => setShown(env ?? ALL), [env]);
  useEffect(() => {
    setView(null);
    void load(shown);
  }, [shown, load]);

  function edit(row: ConfigRow) {
    setName(row.name);
    setSecret(row.secret);
    setValue(row.secret ? "" : (row.value ?? ""));
    setError(null);
  }

  async function save(e: FormEvent) {
    e.preventDefault();
    setSaving(true);
    setError(null);
    try {
      const input = secret ? { value: null, secret: value } : { value, secret: null };
      setView(await api.envConfigSet(project, shown, name.trim(), input));
      setName("");
      setValue("");
      setSecret(false);
    } catch (err) {
      setError(err as UserError);
    } finally {
      setSaving(false);
    }
  }

  async function unset(row: ConfigRow) {
    setError(null);
    try {
      setView(await api.envConfigUnset(project, shown, row.name));
    } catch (err) {
      setError(err as UserError);
    }
  }

  async function move() {
    setConfirmMove(false);
    setError(null);
    try {
      setMoved(await api.moveCommittedSecrets(project));
      await load(shown);
    } catch (err) {
      setError(err as UserError);
    }
  }

  const committed = view?.rows.filter((r) => r.committed) ?? [];
  return (
    <section className="panel dp-config" aria-label="Configuration" data-testid="config-panel">
      <div className="pl-detail-head">
        <h3>Configuration</h3>
        <label className="dp-inline">
          <span>for</span>
          <select data-testid="config-env" value={shown} onChange={(e) => setShown(e.target.value)}>
            {(view?.environments ?? [shown]).map((e) => (
              <option key={e} value={e}>
                {envLabel(e)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p className="muted">
        What each service gets in {envLabel(shown)}: the repository&apos;s defaults (.env, env files, compose), with the values
        set here over them. Secrets stay in the keychain and reach Kubernetes as Secrets.
      </p>
      {loadError && <ErrorCallout error={loadError} testId="config-load-error" />}
      {view === null && !loadError && <Spinner label="Loading the configuration" />}
      {committed.length > 0 && (
        <div className="warn-note" role="note" data-testid="config-committed">
          <strong>Secrets committed in the repository</strong>
          <ul>
            {committed.map((r) => (
              <li key={r.name}>{r.committed}</li>
            ))}
          </ul>
          {confirmMove ? (
            <Confirm
              testId="config-move-confirm"
              yes={{ testId: "config-move-yes", label: "Move them to the keychain" }}
              no={{ testId: "config-move-no" }}
              onYes={() => void move()}
              onNo={() => setConfirmMove(false)}
            >
              <p>
                Their values are read from the repository once and kept in the keychain for every environment; runs and deploys
                take them from there. Then remove them from the repository.
              </p>
            </Confirm>
          ) : (
            <button type="button" data-testid="config-move" onClick={() => setConfirmMove(true)}>
              Move to the keychain…
            </button>
          )}
        </div>
      )}
      {moved && (
        <p className="muted" data-testid="config-moved">
          Moved to the keychain: {moved.length ? moved.join(", ") : "nothing new"}.
        </p>
      )}
      {view && (
        <table className="dp-config-table" data-testid="config-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Value</th>
              <th>From</th>
              <th>Services</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {view.rows.length === 0 && (
              <tr>
                <td colSpan={5} className="muted">
                  No values: the repository gives none and none is set here.
                </td>
              </tr>
            )}
            {view.rows.map((r) => (
              <tr key={r.name} data-testid="config-row" data-name={r.name} data-secret={r.secret ? "true" : "false"}>
                <td>
                  <code>{r.name}</code>
                </td>
                <td data-testid="config-value">{r.secret ? <span className="muted">secret</span> : <code>{r.value ?? ""}</code>}</td>
                <td className="muted" data-testid="config-from">
                  {r.from}
                </td>
                <td className="muted">{r.services.join(", ")}</td>
                <td className="actions">
                  <button type="button" data-testid="config-edit" onClick={() => edit(r)}>
                    Set…
                  </button>
                  {r.setHere && (
                    <button type="button" data-testid="config-unset" onClick={() => void unset(r)}>
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="dp-config-form" onSubmit={(e) => void save(e)} aria-label="Set a value">
        <div className="bp-field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} data-testid="config-name" value={name} onChange={(e) => setName(e.target.value)} spellCheck={false} required />
        </div>
        <div className="bp-field">
          <label htmlFor={`${id}-value`}>{secret ? "Secret value" : "Value"}</label>
          <input
            id={`${id}-value`}
            data-testid="config-value-input"
            type={secret ? "password" : "text"}
            autoComplete="off"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            spellCheck={false}
          />
        </div>
        <label className="checkbox">
          <input type="checkbox" data-testid="config-secret" checked={secret} onChange={(e) => setSecret(e.target.checked)} />
          Secret (kept in the keychain, never shown again)
        </label>
        <button type="submit" className="primary" data-testid="config-save" disabled={saving || view === null}>
          {saving ? <Spinner label="Saving" /> : null} Set for {envLabel(shown)}
        </button>
      </form>
      {error && <ErrorCallout error={error} testId="config-error" />}
    </section>
  );
}
