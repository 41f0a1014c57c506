import { useEffect, useId, useState } from "react";

import { api } from "../../api";
import type { AwsConnectInput } from "../../bindings/AwsConnectInput";
import type { AwsProfile } from "../../bindings/AwsProfile";
import type { SandboxState } from "../../bindings/SandboxState";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { profileKindLabel, sandboxStatusLabel } from "../../format";
import { useStore } from "../../state/store";
import { SignInCard, type SignInChoice } from "./SignInCard";
import { useConnectionAction } from "./useConnectionAction";

type Choice = "sandbox" | "profile" | "staticKeys";

const CHOICES: SignInChoice<Choice>[] = [
  { value: "sandbox", label: "Sandbox", hint: "Local emulator, no account.", testId: "connect-aws-sandbox" },
  { value: "profile", label: "AWS profile", hint: "From ~/.aws.", testId: "connect-aws-profile" },
  { value: "staticKeys", label: "Access keys", hint: "Key id and secret.", testId: "connect-aws-static" },
];

export function AwsCard() {
  const { state, applySandbox } = useStore();
  const status = state.connections.aws;
  const identity = status?.identity?.kind === "aws" ? status.identity : null;
  const action = useConnectionAction();
  const uid = useId();

  const [profiles, setProfiles] = useState<AwsProfile[] | null>(null);
  const [profilesError, setProfilesError] = useState<UserError | null>(null);
  useEffect(() => {
    api.awsProfiles().then(setProfiles, (e: UserError) => {
      setProfiles([]);
      setProfilesError(e);
    });
  }, []);

  // The choice shown until the person picks one: what is connected now, else a profile when
  // there are any, else the sandbox (no AWS credentials on this machine).
  const [picked, setPicked] = useState<Choice | null>(null);
  const current: Choice | null =
    identity?.source.source === "sandbox" || identity?.source.source === "profile" || identity?.source.source === "staticKeys"
      ? identity.source.source
      : null;
  const choice: Choice = picked ?? current ?? (profiles && profiles.length > 0 ? "profile" : "sandbox");

  const [profileName, setProfileName] = useState("");
  const currentProfile = identity?.source.source === "profile" ? identity.source.name : "";
  const selectedProfileName = profileName || currentProfile || profiles?.[0]?.name || "";
  const selectedProfile = profiles?.find((p) => p.name === selectedProfileName) ?? null;

  const [accessKeyId, setAccessKeyId] = useState("");
  const [secretAccessKey, setSecretAccessKey] = useState("");
  const [sessionToken, setSessionToken] = useState("");
  const [endpoint, setEndpoint] = useState("");

  const complete =
    choice === "sandbox" ||
    (choice === "profile" && selectedProfileName !== "") ||
    (choice === "staticKeys" && accessKeyId.trim() !== "" && secretAccessKey !== "");

  function connect() {
    let input: AwsConnectInput;
    if (choice === "sandbox") {
      input = { source: "sandbox", region: null };
    } else if (choice === "profile") {
      input = { source: "profile", name: selectedProfileName, region: null };
    } else {
      input = {
        source: "staticKeys",
        accessKeyId: accessKeyId.trim(),
        secretAccessKey,
        sessionToken: sessionToken === "" ? null : sessionToken,
        region: null,
        endpoint: endpoint.trim() === "" ? null : endpoint.trim(),
      };
      // Secrets leave component state as soon as they are sent.
      setSecretAccessKey("");
      setSessionToken("");
    }
    return api.connectAws(input);
  }

  // Regions come from DescribeRegions, so they are read only once AWS answers as connected.
  const connectedKey =
    status?.state === "connected" && identity
      ? `${identity.account}|${identity.endpoint ?? ""}|${JSON.stringify(identity.source)}`
      : null;
  const [regions, setRegions] = useState<string[] | null>(null);
  const [regionsError, setRegionsError] = useState<UserError | null>(null);
  useEffect(() => {
    setRegions(null);
    setRegionsError(null);
    if (!connectedKey) return;
    let cancelled = false;
    api.awsRegions().then(
      (r) => !cancelled && setRegions([...r].sort()),
      (e: UserError) => !cancelled && setRegionsError(e),
    );
    return () => {
      cancelled = true;
    };
  }, [connectedKey]);

  const regionOptions = regions && identity && !regions.includes(identity.region) ? [identity.region, ...regions] : regions;

  const regionPicker = identity && status?.state === "connected" && (
    <div className="region-picker">
      <label htmlFor={`${uid}-region`}>Region</label>
      {regionOptions ? (
        <select
          id={`${uid}-region`}
          data-testid="aws-region-select"
          value={identity.region}
          disabled={action.busy}
          onChange={(e) => void action.run(() => api.setAwsRegion(e.target.value))}
        >
          {regionOptions.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      ) : regionsError ? (
        <ErrorCallout error={regionsError} testId="aws-regions-error" />
      ) : (
        <span className="muted" data-testid="aws-regions-loading">
          <Spinner label="Loading regions" /> Loading regions…
        </span>
      )}
    </div>
  );

  return (
    <SignInCard
      kind="aws"
      title="AWS"
      description="Where Slipway creates the network, VMs, databases and the Kubernetes cluster."
      status={status}
      action={action}
      header={regionPicker}
      formLabel="Connect AWS"
      legend="Credentials"
      choices={CHOICES}
      choice={choice}
      onChoose={setPicked}
      complete={complete}
      submitLabel={choice === "sandbox" ? "Use the sandbox" : choice === "profile" ? "Use this profile" : "Use these keys"}
      connect={connect}
    >
      {choice === "sandbox" && <SandboxControls sandbox={state.sandbox} onChange={applySandbox} disabled={action.busy} />}

      {choice === "profile" && (
        <div className="fields">
          {profilesError && <ErrorCallout error={profilesError} testId="aws-profiles-error" />}
          {profiles === null ? (
            <p className="muted">
              <Spinner label="Reading profiles" /> Reading ~/.aws…
            </p>
          ) : profiles.length === 0 ? (
            <p className="muted" data-testid="aws-profiles-empty">
              No profiles found in ~/.aws/config or ~/.aws/credentials. Use the sandbox or access keys, or
              create a profile with <code>aws configure</code>.
            </p>
          ) : (
            <>
              <label htmlFor={`${uid}-profile`}>Profile</label>
              <select
                id={`${uid}-profile`}
                data-testid="aws-profile-select"
                value={selectedProfileName}
                onChange={(e) => setProfileName(e.target.value)}
                disabled={action.busy}
              >
                {profiles.map((p) => (
                  <option key={p.name} value={p.name}>
                    {p.name} ({profileKindLabel(p.kind)}
                    {p.region ? `, ${p.region}` : ""})
                  </option>
                ))}
              </select>
              {selectedProfile && (
                <p className="hint" data-testid="aws-profile-details">
                  <span className="chip" data-testid="aws-profile-kind">
                    {profileKindLabel(selectedProfile.kind)}
                  </span>{" "}
                  {selectedProfile.region ? `Region ${selectedProfile.region}. ` : "No region set. "}
                  Found in {selectedProfile.files.join(", ")}.
                </p>
              )}
            </>
          )}
        </div>
      )}

      {choice === "staticKeys" && (
        <div className="fields">
          <label htmlFor={`${uid}-akid`}>Access key id</label>
          <input
            id={`${uid}-akid`}
            data-testid="aws-access-key-id"
            value={accessKeyId}
            onChange={(e) => setAccessKeyId(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            required
            placeholder="AKIA…"
          />
          <label htmlFor={`${uid}-secret`}>Secret access key</label>
          <input
            id={`${uid}-secret`}
            data-testid="aws-secret-access-key"
            type="password"
            value={secretAccessKey}
            onChange={(e) => setSecretAccessKey(e.target.value)}
            autoComplete="off"
            required
          />
          <label htmlFor={`${uid}-session`}>
            Session token <span className="optional">optional</span>
          </label>
          <input
            id={`${uid}-session`}
            data-testid="aws-session-token"
            type="password"
            value={sessionToken}
            onChange={(e) => setSessionToken(e.target.value)}
            autoComplete="off"
          />
          <label htmlFor={`${uid}-endpoint`}>
            Endpoint <span className="optional">optional</span>
          </label>
          <input
            id={`${uid}-endpoint`}
            data-testid="aws-endpoint-input"
            value={endpoint}
            onChange={(e) => setEndpoint(e.target.value)}
            placeholder="Empty for AWS itself, or e.g. http://127.0.0.1:45500"
            spellCheck={false}
          />
          <p className="hint">Keys are checked with STS and stored in the OS keychain, never on disk in clear.</p>
        </div>
      )}
    </SignInCard>
  );
}

function SandboxControls({
  sandbox,
  onChange,
  disabled,
}: {
  sandbox: SandboxState | null;
  onChange: (s: SandboxState) => void;
  disabled: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const run = async (command: () => Promise<SandboxState>) => {
    setBusy(true);
    setError(null);
    try {
      onChange(await command());
    } catch (e) {
      setError(e as UserError);
    } finally {
      setBusy(false);
    }
  };
  const s = sandbox?.status ?? "stopped";
  const transitional = s === "installing" || s === "starting";
  return (
    <div className="fields sandbox-controls">
      <p data-testid="aws-sandbox-state">
        The sandbox is <strong>{sandboxStatusLabel(s)}</strong>
        {sandbox?.endpoint ? (
          <>
            {" "}
            at <code>{sandbox.endpoint}</code>
          </>
        ) : null}
        . Connecting starts it when needed.
      </p>
      {sandbox?.status === "failed" && sandbox.error && <ErrorCallout error={sandbox.error} testId="sandbox-error" />}
      {error && <ErrorCallout error={error} testId="sandbox-action-error" />}
      <div className="actions">
        {s === "running" || transitional ? (
          <button type="button" data-testid="sandbox-stop" disabled={disabled || busy} onClick={() => void run(api.sandboxStop)}>
            {busy ? <Spinner label="Stopping" /> : null} Stop sandbox
          </button>
        ) : (
          <button type="button" data-testid="sandbox-start" disabled={disabled || busy} onClick={() => void run(api.sandboxStart)}>
            {busy ? <Spinner label="Starting" /> : null} Start sandbox
          </button>
        )}
      </div>
    </div>
  );
}
