import { useEffect, useId, useState } from "react";

import { api } from "../../api";
import type { GithubConnectInput } from "../../bindings/GithubConnectInput";
import { useStore } from "../../state/store";
import { SignInCard, type SignInChoice } from "./SignInCard";
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

  const choices: SignInChoice<Mode>[] = [
    { value: "token", label: "Personal access token", hint: "Scopes repo and workflow.", testId: "github-mode-token" },
    {
      value: "cli",
      label: "The gh CLI's token",
      hint:
        cliAvailable === null
          ? "Looking for a gh login…"
          : cliAvailable
            ? "Found a gh login for this host."
            : "No gh login found for this host (run gh auth login).",
      testId: "github-mode-cli",
      hintTestId: "github-cli-availability",
      disabled: cliAvailable !== true,
      unavailable: cliAvailable === false,
    },
  ];

  return (
    <SignInCard
      kind="github"
      title="GitHub"
      description="Where the code lives and where pipeline runs are reported."
      status={status}
      action={action}
      formLabel="Connect GitHub"
      legend="Sign in with"
      choices={choices}
      choice={mode}
      onChoose={setMode}
      complete={useCli || token !== ""}
      submitLabel="Connect GitHub"
      connect={() => {
        const input: GithubConnectInput = { token: useCli ? null : token, baseUrl: normalizedBaseUrl };
        setToken(""); // the token leaves component state as soon as it is sent
        return api.connectGithub(input);
      }}
    >
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
    </SignInCard>
  );
}
