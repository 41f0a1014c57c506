import { useEffect, useId, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { GithubConnectInput } from "../../bindings/GithubConnectInput";
import { Spinner } from "../../components/Spinner";
import { useStore } from "../../state/store";
import { ConnectionCard } from "./ConnectionCard";
import { useConnectionAction } from "./useConnectionAction";

type Mode = "token" | "cli";

export function GithubCard() {
  const { state } = useStore();
  const status = state.connections.github;
  const action = useConnectionAction();
  const uid = useId();

  const [mode, setMode] = useState<Mode>("token");
  const [token, setToken] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  // The base URL the gh CLI lookup ran for: checked on mount and again when the field is left.
  const [cliQuery, setCliQuery] = useState<string | null>(null);
  const [cliAvailable, setCliAvailable] = useState<boolean | null>(null);

  const normalizedBaseUrl = baseUrl.trim() === "" ? null : baseUrl.trim();

  useEffect(() => {
    let cancelled = false;
    setCliAvailable(null);
    api.githubCliTokenAvailable(cliQuery).then(
      (ok) => {
        if (cancelled) return;
        setCliAvailable(ok);
        if (!ok) setMode("token");
      },
      () => {
        if (cancelled) return;
        setCliAvailable(false);
        setMode("token");
      },
    );
    return () => {
      cancelled = true;
    };
  }, [cliQuery]);

  const useCli = mode === "cli" && cliAvailable === true;
  const canSubmit = !action.busy && (useCli || token !== "");

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!canSubmit) return;
    const input: GithubConnectInput = { token: useCli ? null : token, baseUrl: normalizedBaseUrl };
    setToken(""); // the token leaves component state as soon as it is sent
    await action.run(() => api.connectGithub(input));
  }

  return (
    <ConnectionCard
      kind="github"
      title="GitHub"
      description="Where the code lives and where pipeline runs are reported."
      status={status}
      busy={action.busy}
      error={action.error}
    >
      <form className="card-form" onSubmit={submit} aria-label="Connect GitHub">
        <fieldset className="choices" disabled={action.busy}>
          <legend>Sign in with</legend>
          <label className={`choice${mode === "token" ? " choice-selected" : ""}`}>
            <input
              type="radio"
              name={`${uid}-mode`}
              checked={mode === "token"}
              onChange={() => setMode("token")}
              data-testid="github-mode-token"
            />
            <span>
              <span className="choice-label">Personal access token</span>
              <span className="choice-hint">Scopes repo and workflow.</span>
            </span>
          </label>
          <label className={`choice${mode === "cli" ? " choice-selected" : ""}${cliAvailable === false ? " choice-disabled" : ""}`}>
            <input
              type="radio"
              name={`${uid}-mode`}
              checked={mode === "cli"}
              disabled={cliAvailable !== true}
              onChange={() => setMode("cli")}
              data-testid="github-mode-cli"
            />
            <span>
              <span className="choice-label">The gh CLI's token</span>
              <span className="choice-hint" data-testid="github-cli-availability">
                {cliAvailable === null
                  ? "Looking for a gh login…"
                  : cliAvailable
                    ? "Found a gh login for this host."
                    : "No gh login found for this host (run gh auth login)."}
              </span>
            </span>
          </label>
        </fieldset>

        <div className="fields">
          {mode === "token" && (
            <>
              <label htmlFor={`${uid}-token`}>Token</label>
              <input
                id={`${uid}-token`}
                data-testid="github-token"
                type="password"
                value={token}
                onChange={(e) => setToken(e.target.value)}
                autoComplete="off"
                placeholder="ghp_… or github_pat_…"
                disabled={action.busy}
              />
            </>
          )}
          <label htmlFor={`${uid}-base`}>
            GitHub Enterprise API URL <span className="optional">optional</span>
          </label>
          <input
            id={`${uid}-base`}
            data-testid="github-base-url"
            value={baseUrl}
            onChange={(e) => setBaseUrl(e.target.value)}
            onBlur={() => setCliQuery(normalizedBaseUrl)}
            placeholder="Empty for github.com, or e.g. https://github.example.com/api/v3"
            spellCheck={false}
            disabled={action.busy}
          />
        </div>

        <div className="actions">
          <button type="submit" className="primary" data-testid="github-submit" disabled={!canSubmit}>
            {action.busy ? (
              <>
                <Spinner label="Checking" /> Checking…
              </>
            ) : (
              "Connect GitHub"
            )}
          </button>
          {status && status.state !== "notConfigured" && (
            <>
              <button type="button" data-testid="github-check" disabled={action.busy} onClick={() => void action.run(() => api.checkConnection("github"))}>
                Check again
              </button>
              <button type="button" data-testid="github-disconnect" disabled={action.busy} onClick={() => void action.run(() => api.disconnect("github"))}>
                Disconnect
              </button>
            </>
          )}
        </div>
      </form>
    </ConnectionCard>
  );
}
