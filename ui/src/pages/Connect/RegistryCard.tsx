import { useEffect, useId, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { DockerConfigEntry } from "../../bindings/DockerConfigEntry";
import type { RegistryConnectInput } from "../../bindings/RegistryConnectInput";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { useStore } from "../../state/store";
import { ConnectionCard } from "./ConnectionCard";
import { useConnectionAction } from "./useConnectionAction";

type Mode = "password" | "dockerConfig";

export function RegistryCard() {
  const { state } = useStore();
  const status = state.connections.registry;
  const action = useConnectionAction();
  const uid = useId();

  const [mode, setMode] = useState<Mode>("password");
  const [registry, setRegistry] = useState("docker.io");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");

  const [entries, setEntries] = useState<DockerConfigEntry[] | null>(null);
  const [entriesError, setEntriesError] = useState<UserError | null>(null);
  useEffect(() => {
    api.dockerConfigEntries().then(setEntries, (e: UserError) => {
      setEntries([]);
      setEntriesError(e);
    });
  }, []);
  const [entryIndex, setEntryIndex] = useState(0);
  const entry = entries?.[entryIndex] ?? null;

  const canSubmit =
    !action.busy &&
    (mode === "dockerConfig"
      ? entry !== null
      : registry.trim() !== "" && username.trim() !== "" && password !== "");

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!canSubmit) return;
    let input: RegistryConnectInput;
    if (mode === "dockerConfig" && entry) {
      input = { registry: entry.registry, username: entry.username ?? "", password: null };
    } else {
      input = { registry: registry.trim(), username: username.trim(), password };
      setPassword(""); // the password leaves component state as soon as it is sent
    }
    await action.run(() => api.connectRegistry(input));
  }

  return (
    <ConnectionCard
      kind="registry"
      title="Container registry"
      description="Where the pipeline pushes the images it builds."
      status={status}
      busy={action.busy}
      error={action.error}
    >
      <form className="card-form" onSubmit={submit} aria-label="Connect the container registry">
        <fieldset className="choices" disabled={action.busy}>
          <legend>Sign in with</legend>
          <label className={`choice${mode === "password" ? " choice-selected" : ""}`}>
            <input
              type="radio"
              name={`${uid}-mode`}
              checked={mode === "password"}
              onChange={() => setMode("password")}
              data-testid="registry-mode-password"
            />
            <span>
              <span className="choice-label">User name and password</span>
              <span className="choice-hint">Or an access token in place of the password.</span>
            </span>
          </label>
          <label className={`choice${mode === "dockerConfig" ? " choice-selected" : ""}${entries?.length === 0 ? " choice-disabled" : ""}`}>
            <input
              type="radio"
              name={`${uid}-mode`}
              checked={mode === "dockerConfig"}
              disabled={!entries || entries.length === 0}
              onChange={() => setMode("dockerConfig")}
              data-testid="registry-mode-docker-config"
            />
            <span>
              <span className="choice-label">A saved docker login</span>
              <span className="choice-hint">
                {entries === null
                  ? "Reading ~/.docker/config.json…"
                  : entries.length === 0
                    ? "No saved logins in ~/.docker/config.json."
                    : `${entries.length} saved in ~/.docker/config.json.`}
              </span>
            </span>
          </label>
        </fieldset>
        {entriesError && <ErrorCallout error={entriesError} testId="registry-entries-error" />}

        {mode === "password" ? (
          <div className="fields">
            <label htmlFor={`${uid}-registry`}>Registry</label>
            <input
              id={`${uid}-registry`}
              data-testid="registry-url"
              value={registry}
              onChange={(e) => setRegistry(e.target.value)}
              spellCheck={false}
              placeholder="docker.io, ghcr.io, 127.0.0.1:5000…"
              disabled={action.busy}
            />
            <label htmlFor={`${uid}-user`}>User name</label>
            <input
              id={`${uid}-user`}
              data-testid="registry-username"
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              disabled={action.busy}
            />
            <label htmlFor={`${uid}-password`}>Password or token</label>
            <input
              id={`${uid}-password`}
              data-testid="registry-password"
              type="password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete="off"
              disabled={action.busy}
            />
          </div>
        ) : (
          <div className="fields">
            <label htmlFor={`${uid}-entry`}>Saved login</label>
            <select
              id={`${uid}-entry`}
              data-testid="registry-config-entry"
              value={entryIndex}
              onChange={(e) => setEntryIndex(Number(e.target.value))}
              disabled={action.busy}
            >
              {(entries ?? []).map((en, i) => (
                <option key={`${en.registry}|${i}`} value={i}>
                  {en.username ? `${en.username}@` : ""}
                  {en.registry}
                  {en.helper ? ` (via ${en.helper} helper)` : ""}
                </option>
              ))}
            </select>
            <p className="hint">The password stays where docker keeps it; Slipway reads it only to check the login.</p>
          </div>
        )}

        <div className="actions">
          <button type="submit" className="primary" data-testid="registry-submit" disabled={!canSubmit}>
            {action.busy ? (
              <>
                <Spinner label="Checking" /> Checking…
              </>
            ) : (
              "Connect registry"
            )}
          </button>
          {status && status.state !== "notConfigured" && (
            <>
              <button type="button" data-testid="registry-check" disabled={action.busy} onClick={() => void action.run(() => api.checkConnection("registry"))}>
                Check again
              </button>
              <button type="button" data-testid="registry-disconnect" disabled={action.busy} onClick={() => void action.run(() => api.disconnect("registry"))}>
                Disconnect
              </button>
            </>
          )}
        </div>
      </form>
    </ConnectionCard>
  );
}
