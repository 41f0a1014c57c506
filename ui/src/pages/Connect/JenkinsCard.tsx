import { useEffect, useId, useRef, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { JenkinsConnectInput } from "../../bindings/JenkinsConnectInput";
import type { JenkinsConnection } from "../../bindings/JenkinsConnection";
import type { JenkinsServer } from "../../bindings/JenkinsServer";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";

type Busy = "connect" | "disconnect" | null;

/**
 * Jenkins: address, user and API token, checked live (crates/ci). The token goes to the
 * keychain and never comes back; the address and user are kept and shown on load. A failed
 * connect keeps the last good connection (the Rust side stores nothing then).
 */
export function JenkinsCard() {
  const uid = useId();
  const [saved, setSaved] = useState<JenkinsConnection | null>(null);
  const [loaded, setLoaded] = useState(false);
  /** What the last successful connect in this session reported (version, job count). */
  const [server, setServer] = useState<JenkinsServer | null>(null);
  const [url, setUrl] = useState("");
  const [user, setUser] = useState("");
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState<Busy>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [loadError, setLoadError] = useState<UserError | null>(null);
  const running = useRef(false);

  useEffect(() => {
    let cancelled = false;
    api.jenkinsConnection().then(
      (c) => {
        if (cancelled) return;
        setSaved(c);
        setLoaded(true);
        if (c) {
          setUrl((u) => (u === "" ? c.url : u));
          setUser((u) => (u === "" ? c.user : u));
        }
      },
      (e: UserError) => {
        if (cancelled) return;
        setLoadError(e);
        setLoaded(true);
      },
    );
    return () => {
      cancelled = true;
    };
  }, []);

  const canSubmit = busy === null && url.trim() !== "" && user.trim() !== "" && token !== "";

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!canSubmit || running.current) return;
    running.current = true;
    const input: JenkinsConnectInput = { url: url.trim(), user: user.trim(), token };
    setToken(""); // the token leaves component state as soon as it is sent, whatever happens
    setBusy("connect");
    setError(null);
    try {
      const s = await api.connectJenkins(input);
      setServer(s);
      setSaved({ url: s.url, user: s.user });
      setUrl(s.url);
    } catch (err) {
      setError(err as UserError);
    } finally {
      running.current = false;
      setBusy(null);
    }
  }

  async function disconnect() {
    if (running.current) return;
    running.current = true;
    setBusy("disconnect");
    setError(null);
    try {
      await api.disconnectJenkins();
      setSaved(null);
      setServer(null);
    } catch (err) {
      setError(err as UserError);
    } finally {
      running.current = false;
      setBusy(null);
    }
  }

  const state = busy === "connect" ? "checking" : error ? "failed" : saved ? "connected" : "notConfigured";
  const label = { checking: "Checking…", failed: "Failed", connected: "Connected", notConfigured: "Not connected" }[state];
  const shown = server && saved && server.url === saved.url && server.user === saved.user ? server : null;

  return (
    <section className="card" data-testid="card-jenkins" aria-labelledby={`${uid}-title`} aria-busy={busy !== null}>
      <header className="card-header">
        <div>
          <h2 id={`${uid}-title`}>Jenkins</h2>
          <p className="card-description">A Jenkins server your team already runs: its jobs, builds, stage view and console on the Pipelines page.</p>
        </div>
        <span className={`badge ${state === "checking" ? "badge-busy" : `badge-${state}`}`} data-testid="jenkins-state" data-state={state}>
          {state === "checking" && <Spinner label="Checking" />}
          {label}
        </span>
      </header>

      {loadError && <ErrorCallout error={loadError} testId="jenkins-load-error" />}

      {saved && (
        <div className={`identity${error ? " identity-stale" : ""}`} data-testid="jenkins-connection">
          {error && <p className="identity-note">Last good connection (kept):</p>}
          <dl className="facts">
            <dt>Server</dt>
            <dd data-testid="jenkins-server-url">
              <code>{saved.url}</code>
            </dd>
            <dt>User</dt>
            <dd data-testid="jenkins-server-user">{saved.user}</dd>
            {shown && (
              <>
                <dt>Version</dt>
                <dd data-testid="jenkins-version">{shown.version ?? "unknown (no X-Jenkins header)"}</dd>
                <dt>Jobs</dt>
                <dd data-testid="jenkins-job-count">
                  {shown.jobs} {shown.jobs === 1 ? "job" : "jobs"} at the top level
                </dd>
              </>
            )}
          </dl>
        </div>
      )}

      {error && <ErrorCallout error={error} testId="jenkins-error" />}

      <form className="card-form" onSubmit={submit} aria-label="Connect Jenkins">
        <div className="fields">
          <label htmlFor={`${uid}-url`}>Jenkins address</label>
          <input
            id={`${uid}-url`}
            data-testid="jenkins-url"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            placeholder="https://jenkins.example.com"
            spellCheck={false}
            autoComplete="url"
            disabled={busy !== null}
          />
          <label htmlFor={`${uid}-user`}>User</label>
          <input
            id={`${uid}-user`}
            data-testid="jenkins-user"
            value={user}
            onChange={(e) => setUser(e.target.value)}
            placeholder="Your Jenkins user name"
            spellCheck={false}
            autoComplete="username"
            disabled={busy !== null}
          />
          <label htmlFor={`${uid}-token`}>API token</label>
          <input
            id={`${uid}-token`}
            data-testid="jenkins-token"
            type="password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            autoComplete="off"
            placeholder={saved ? "Paste a token to connect again" : "Your name > Security > API Token"}
            disabled={busy !== null}
            aria-describedby={`${uid}-token-hint`}
          />
        </div>
        <p className="hint" id={`${uid}-token-hint`}>
          The token is checked against Jenkins, then kept in the OS keychain; it is never shown again.
        </p>
        <div className="actions">
          <button type="submit" className="primary" data-testid="jenkins-submit" disabled={!canSubmit}>
            {busy === "connect" ? (
              <>
                <Spinner label="Checking" /> Checking…
              </>
            ) : saved ? (
              "Connect again"
            ) : (
              "Connect Jenkins"
            )}
          </button>
          {saved && (
            <button type="button" data-testid="jenkins-disconnect" disabled={busy !== null} onClick={() => void disconnect()}>
              {busy === "disconnect" ? <Spinner label="Disconnecting" /> : null} Disconnect
            </button>
          )}
          {loaded && saved && (
            <a href="#/pipelines" className="muted">
              Its jobs on the Pipelines page
            </a>
          )}
        </div>
      </form>
    </section>
  );
}
