import { useCallback, useEffect, useId, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { NotifyWhen } from "../../bindings/NotifyWhen";
import type { SecretStoreKind } from "../../bindings/SecretStoreKind";
import type { SecretsStatus } from "../../bindings/SecretsStatus";
import type { Settings } from "../../bindings/Settings";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { useStore } from "../../state/store";

type Form = {
  defaultRegion: string;
  sandboxAutoStart: boolean;
  sandboxPort: string;
  runLogRetentionDays: string;
  secretStore: SecretStoreKind;
  sandboxContext: string;
  sandboxKubeconfig: string;
  notifications: NotifyWhen;
};

function toForm(s: Settings): Form {
  return {
    defaultRegion: s.defaultRegion,
    sandboxAutoStart: s.sandboxAutoStart,
    sandboxPort: s.sandboxPort == null ? "" : String(s.sandboxPort),
    runLogRetentionDays: String(s.runLogRetentionDays),
    secretStore: s.secretStore,
    sandboxContext: s.sandboxContext ?? "",
    sandboxKubeconfig: s.sandboxKubeconfig ?? "",
    notifications: s.notifications,
  };
}

/**
 * Turns the form into Settings. Only what cannot even be sent is checked here (a port must be a
 * whole number that fits in 16 bits); every rule about values is the Rust side's (save_settings).
 */
export function parseSettingsForm(f: Form): { settings: Settings } | { error: UserError } {
  const port = f.sandboxPort.trim();
  let sandboxPort: number | null = null;
  if (port !== "") {
    const n = Number(port);
    if (!/^\d+$/.test(port) || !Number.isSafeInteger(n) || n < 1 || n > 65535) {
      return {
        error: {
          what: "Settings not saved",
          why: `'${port}' is not a port number`,
          fix: "Enter a whole number from 1024 to 65535, or leave it empty to pick a free port",
        },
      };
    }
    sandboxPort = n;
  }
  const daysText = f.runLogRetentionDays.trim();
  const days = Number(daysText);
  if (!/^\d+$/.test(daysText) || !Number.isSafeInteger(days) || days > 4_294_967_295) {
    return {
      error: {
        what: "Settings not saved",
        why: `'${daysText}' is not a number of days`,
        fix: "Enter a whole number of days, or 0 to keep run logs forever",
      },
    };
  }
  const optional = (v: string) => (v.trim() === "" ? null : v.trim());
  return {
    settings: {
      defaultRegion: f.defaultRegion.trim(),
      sandboxAutoStart: f.sandboxAutoStart,
      sandboxPort,
      runLogRetentionDays: days,
      secretStore: f.secretStore,
      sandboxContext: optional(f.sandboxContext),
      sandboxKubeconfig: optional(f.sandboxKubeconfig),
      notifications: f.notifications,
    },
  };
}

export function SettingsPage() {
  const { state } = useStore();
  const uid = useId();
  const [form, setForm] = useState<Form | null>(null);
  const [dirty, setDirty] = useState(false);
  const [loadError, setLoadError] = useState<UserError | null>(null);
  const [saveError, setSaveError] = useState<UserError | null>(null);
  const [saving, setSaving] = useState(false);
  const [savedAt, setSavedAt] = useState<number | null>(null);
  const [secrets, setSecrets] = useState<SecretsStatus | null>(null);

  useEffect(() => {
    api.secretsStatus().then(setSecrets, () => setSecrets(null));
  }, [state.settingsVersion]);

  const load = useCallback(() => {
    api.getSettings().then(
      (s) => {
        setForm(toForm(s));
        setLoadError(null);
      },
      (e: UserError) => setLoadError(e),
    );
  }, []);

  // Load on open, and again when settings change elsewhere (unless there are unsaved edits).
  useEffect(() => {
    if (!dirty) load();
    // `dirty` is read, not watched: finishing an edit must not reload over it.
  }, [load, state.settingsVersion]);

  const update = (patch: Partial<Form>) => {
    setForm((f) => (f ? { ...f, ...patch } : f));
    setDirty(true);
    setSavedAt(null);
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!form || saving) return;
    const parsed = parseSettingsForm(form);
    if ("error" in parsed) {
      setSaveError(parsed.error);
      return;
    }
    setSaving(true);
    setSaveError(null);
    try {
      const saved = await api.saveSettings(parsed.settings);
      setForm(toForm(saved));
      setDirty(false);
      setSavedAt(Date.now());
    } catch (err) {
      setSaveError(err as UserError);
    } finally {
      setSaving(false);
    }
  }

  return (
    <>
      {loadError && <ErrorCallout error={loadError} testId="settings-load-error" />}
      {form === null && !loadError && (
        <p className="muted">
          <Spinner label="Loading settings" /> Loading settings…
        </p>
      )}
      {form && (
        <form className="panel settings-form" onSubmit={submit} aria-label="Settings" data-testid="settings-form">
          <div className="fields">
            <label htmlFor={`${uid}-region`}>Default AWS region</label>
            <input
              id={`${uid}-region`}
              data-testid="settings-default-region"
              value={form.defaultRegion}
              onChange={(e) => update({ defaultRegion: e.target.value })}
              spellCheck={false}
              aria-describedby={`${uid}-region-hint`}
            />
            <p className="hint" id={`${uid}-region-hint`}>
              Used when a connection does not name a region, e.g. us-east-1.
            </p>

            <label className="checkbox">
              <input
                type="checkbox"
                data-testid="settings-sandbox-autostart"
                checked={form.sandboxAutoStart}
                onChange={(e) => update({ sandboxAutoStart: e.target.checked })}
              />
              Start the sandbox when Slipway starts and no AWS connection exists
            </label>

            <label htmlFor={`${uid}-port`}>Sandbox port</label>
            <input
              id={`${uid}-port`}
              data-testid="settings-sandbox-port"
              inputMode="numeric"
              value={form.sandboxPort}
              onChange={(e) => update({ sandboxPort: e.target.value })}
              placeholder="Empty: a free loopback port"
              aria-describedby={`${uid}-port-hint`}
            />
            <p className="hint" id={`${uid}-port-hint`}>
              The local AWS emulator listens on 127.0.0.1 at this port. Leave it empty to pick a free one.
            </p>

            <label htmlFor={`${uid}-retention`}>Keep run logs (days)</label>
            <input
              id={`${uid}-retention`}
              data-testid="settings-run-log-retention"
              inputMode="numeric"
              value={form.runLogRetentionDays}
              onChange={(e) => update({ runLogRetentionDays: e.target.value })}
              aria-describedby={`${uid}-retention-hint`}
            />
            <p className="hint" id={`${uid}-retention-hint`}>
              The logs and checkout of a finished run are removed after this many days (the run stays listed). 0 keeps them forever.
            </p>

            <label htmlFor={`${uid}-context`}>Sandbox cluster (kubeconfig context)</label>
            <input
              id={`${uid}-context`}
              data-testid="settings-sandbox-context"
              value={form.sandboxContext}
              onChange={(e) => update({ sandboxContext: e.target.value })}
              placeholder="Empty: the first kind, k3d, minikube, Docker Desktop or Rancher Desktop context"
              spellCheck={false}
              aria-describedby={`${uid}-context-hint`}
            />
            <input
              data-testid="settings-sandbox-kubeconfig"
              aria-label="Sandbox cluster's kubeconfig file"
              value={form.sandboxKubeconfig}
              onChange={(e) => update({ sandboxKubeconfig: e.target.value })}
              placeholder="Empty: KUBECONFIG, else ~/.kube/config"
              spellCheck={false}
            />
            <p className="hint" id={`${uid}-context-hint`}>
              The sandbox runs the architecture&apos;s EKS on this local cluster (the emulator cannot run Kubernetes).
            </p>

            <label htmlFor={`${uid}-notify`}>Desktop notifications</label>
            <select
              id={`${uid}-notify`}
              data-testid="settings-notifications"
              value={form.notifications}
              onChange={(e) => update({ notifications: e.target.value as NotifyWhen })}
              aria-describedby={`${uid}-notify-hint`}
            >
              <option value="background">When the window is in the background</option>
              <option value="always">Always</option>
              <option value="never">Never</option>
            </select>
            <p className="hint" id={`${uid}-notify-hint`}>
              When an apply, a pipeline run or a deploy ends or fails.
            </p>

            <fieldset className="radio-group" aria-describedby={`${uid}-secrets-hint`}>
              <legend>Where secrets are kept</legend>
              <label className="checkbox">
                <input
                  type="radio"
                  name={`${uid}-secrets`}
                  data-testid="settings-secret-store-keychain"
                  checked={form.secretStore === "keychain"}
                  onChange={() => update({ secretStore: "keychain" })}
                />
                The OS keychain
              </label>
              <label className="checkbox">
                <input
                  type="radio"
                  name={`${uid}-secrets`}
                  data-testid="settings-secret-store-file"
                  checked={form.secretStore === "file"}
                  onChange={() => update({ secretStore: "file" })}
                />
                A file only you can read (for machines without a keychain; not encrypted)
              </label>
            </fieldset>
            <p className="hint" id={`${uid}-secrets-hint`} data-testid="settings-secrets-status">
              {secrets == null
                ? "Checking the secret store…"
                : secrets.ok
                  ? `In use: ${secrets.kind ?? "other"} (${secrets.location}), working.${secrets.warning ? ` Note: ${secrets.warning}.` : ""}`
                  : `In use: ${secrets.kind ?? "other"} (${secrets.location}), not working: ${secrets.error?.why ?? ""}. ${secrets.error?.fix ?? ""}`}{" "}
              A change takes effect when Slipway starts again.
            </p>
          </div>

          {saveError && <ErrorCallout error={saveError} testId="settings-error" />}

          <div className="actions">
            <button type="submit" className="primary" data-testid="settings-save" disabled={saving}>
              {saving ? (
                <>
                  <Spinner label="Saving" /> Saving…
                </>
              ) : (
                "Save settings"
              )}
            </button>
            {savedAt && !dirty && (
              <span className="saved" role="status" data-testid="settings-saved">
                Saved.
              </span>
            )}
          </div>
        </form>
      )}

      <section className="panel" aria-labelledby={`${uid}-about`}>
        <h2 id={`${uid}-about`}>Data</h2>
        <dl className="facts">
          <dt>Data folder</dt>
          <dd data-testid="settings-data-dir">
            {state.dataDir ? <code>{state.dataDir}</code> : state.loaded ? <span className="muted">unknown</span> : "…"}
          </dd>
          {state.storeSchemaVersion != null && (
            <>
              <dt>Store schema</dt>
              <dd data-testid="settings-store-schema">version {state.storeSchemaVersion}</dd>
            </>
          )}
        </dl>
        {state.notices.map((n, i) => (
          <ErrorCallout key={i} error={n} testId="settings-notice" />
        ))}
      </section>
    </>
  );
}
