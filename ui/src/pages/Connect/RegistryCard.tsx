import { useEffect, useId, useState } from "react";

import { api } from "../../api";
import type { DockerConfigEntry } from "../../bindings/DockerConfigEntry";
import type { RegistryConnectInput } from "../../bindings/RegistryConnectInput";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { useStore } from "../../state/store";
import { SignInCard, type SignInChoice } from "./SignInCard";
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

  const choices: SignInChoice<Mode>[] = [
    {
      value: "password",
      label: "User name and password",
      hint: "Or an access token in place of the password.",
      testId: "registry-mode-password",
    },
    {
      value: "dockerConfig",
      label: "A saved docker login",
      hint:
        entries === null
          ? "Reading ~/.docker/config.json…"
          : entries.length === 0
            ? "No saved logins in ~/.docker/config.json."
            : `${entries.length} saved in ~/.docker/config.json.`,
      testId: "registry-mode-docker-config",
      disabled: !entries || entries.length === 0,
      unavailable: entries?.length === 0,
    },
  ];

  return (
    <SignInCard
      kind="registry"
      title="Container registry"
      description="Where the pipeline pushes the images it builds."
      status={status}
      action={action}
      formLabel="Connect the container registry"
      legend="Sign in with"
      choices={choices}
      choice={mode}
      onChoose={setMode}
      complete={mode === "dockerConfig" ? entry !== null : registry.trim() !== "" && username.trim() !== "" && password !== ""}
      submitLabel="Connect registry"
      connect={() => {
        let input: RegistryConnectInput;
        if (mode === "dockerConfig" && entry) {
          input = { registry: entry.registry, username: entry.username ?? "", password: null };
        } else {
          input = { registry: registry.trim(), username: username.trim(), password };
          setPassword(""); // the password leaves component state as soon as it is sent
        }
        return api.connectRegistry(input);
      }}
    >
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
    </SignInCard>
  );
}
