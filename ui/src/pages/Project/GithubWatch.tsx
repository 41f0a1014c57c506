// The Project page's GitHub parts: "Start a run on each new commit" (a repository and branch
// watched by polling or through the webhook receiver on 127.0.0.1, reported back as commit
// statuses when asked), the watches Slipway keeps, the webhook secret (shown only on Reveal;
// Rotate asks first), and the picker that fills the Git URL of a new project from GitHub.

import { useCallback, useEffect, useId, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { GhRepo } from "../../bindings/GhRepo";
import type { Project } from "../../bindings/Project";
import type { UserError } from "../../bindings/UserError";
import type { WatchInfo } from "../../bindings/WatchInfo";
import type { WatchSetting } from "../../bindings/WatchSetting";
import { ErrorCallout } from "../../components/ErrorCallout";
import { GithubError, GithubNotConnected, useGithubConnected } from "../../components/GithubCommon";
import { GithubRepoPicker } from "../../components/GithubRepoPicker";
import { Spinner } from "../../components/Spinner";
import { useStore } from "../../state/store";
import { Confirm } from "../Deployments/Confirm";
import "../Pipelines/github.css";

export const DEFAULT_POLL_SECS = 30;
export const MIN_POLL_SECS = 5;

type Mode = "poll" | "webhook";

/** The form's values checked before anything is sent; an error names the field. */
export function watchSetting(input: {
  project: string;
  repo: string;
  branch: string;
  mode: Mode;
  every: string;
  port: string;
  report: boolean;
  linkBase: string;
}): WatchSetting | UserError {
  const bad = (why: string, fix: string): UserError => ({ what: "Watch not started", why, fix });
  let everySecs: number | null = null;
  let webhookPort: number | null = null;
  if (input.mode === "poll") {
    const n = Number(input.every.trim());
    if (input.every.trim() === "" || !Number.isInteger(n)) return bad(`"${input.every}" is not a whole number of seconds`, `Give the poll interval in seconds, ${MIN_POLL_SECS} or more`);
    if (n < MIN_POLL_SECS) return bad(`a poll every ${n} s is too often`, `Use ${MIN_POLL_SECS} seconds or more (an unchanged branch costs no quota, a changed one costs one request)`);
    everySecs = n;
  } else {
    const p = input.port.trim();
    if (p === "") webhookPort = 0;
    else {
      const n = Number(p);
      if (!Number.isInteger(n) || n < 1024 || n > 65535) return bad(`"${p}" is not a port Slipway can listen on`, "Use a port from 1024 to 65535, or leave it empty to pick a free one");
      webhookPort = n;
    }
  }
  const link = input.linkBase.trim().replace(/\/+$/, "");
  if (link !== "" && !/^https?:\/\/[^\s/]+/.test(link)) {
    return bad(`"${input.linkBase}" is not an http(s) address`, "Give the page each status links to, like https://ci.example.com/slipway, or leave it empty");
  }
  return {
    watch: { project: input.project, repo: input.repo, branch: input.branch, reportStatus: input.report, linkBase: link === "" ? null : link },
    everySecs,
    webhookPort,
  };
}

function isUserError(x: WatchSetting | UserError): x is UserError {
  return (x as UserError).what !== undefined;
}

export function GithubWatch({ projects, selected }: { projects: Project[]; selected: string | null }) {
  const uid = useId();
  const connected = useGithubConnected();
  const [project, setProject] = useState<string>(selected ?? projects[0]?.id ?? "");
  const [repo, setRepo] = useState<GhRepo | null>(null);
  const [branch, setBranch] = useState<string | null>(null);
  const [mode, setMode] = useState<Mode>("poll");
  const [every, setEvery] = useState(String(DEFAULT_POLL_SECS));
  const [port, setPort] = useState("");
  const [report, setReport] = useState(false);
  const [linkBase, setLinkBase] = useState("");
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<UserError | null>(null);
  const [started, setStarted] = useState<WatchInfo | null>(null);
  const [watches, setWatches] = useState<WatchInfo[] | null>(null);
  const [listError, setListError] = useState<UserError | null>(null);
  const [stopError, setStopError] = useState<UserError | null>(null);
  const [stopping, setStopping] = useState<string | null>(null);

  useEffect(() => {
    if (selected) setProject(selected);
  }, [selected]);
  useEffect(() => {
    if (!projects.some((p) => p.id === project) && projects[0]) setProject(projects[0].id);
  }, [projects, project]);

  const load = useCallback(async () => {
    try {
      setWatches(await api.githubWatches());
      setListError(null);
    } catch (e) {
      setListError(e as UserError);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  // A watch that stops by itself (a revoked token, a deleted branch...) is announced as a
  // "github" progress event: read the list again so it shows stopped, with its reason.
  const { onEvents } = useStore();
  useEffect(
    () =>
      onEvents((batch) => {
        if (batch.some((e) => e.event.type === "progress" && (e.event.task === "github" || e.event.task === "github-webhook"))) void load();
      }),
    [onEvents, load],
  );

  async function start(e: FormEvent) {
    e.preventDefault();
    if (starting || repo === null || branch === null) return;
    const setting = watchSetting({ project, repo: repo.fullName, branch, mode, every, port, report, linkBase });
    if (isUserError(setting)) {
      setStartError(setting);
      return;
    }
    setStarting(true);
    setStartError(null);
    setStarted(null);
    try {
      setStarted(await api.githubWatchStart(setting));
      await load();
    } catch (err) {
      setStartError(err as UserError);
    } finally {
      setStarting(false);
    }
  }

  async function stop(w: WatchInfo) {
    const key = `${w.setting.watch.repo}@${w.setting.watch.branch}`;
    setStopping(key);
    setStopError(null);
    try {
      await api.githubWatchStop(w.setting.watch.repo, w.setting.watch.branch);
      if (started && started.setting.watch.repo === w.setting.watch.repo && started.setting.watch.branch === w.setting.watch.branch) setStarted(null);
      await load();
    } catch (err) {
      setStopError(err as UserError);
    } finally {
      setStopping(null);
    }
  }

  return (
    <section className="panel gh" aria-label="Runs on new commits" data-testid="gh-watch">
      <h2>Start a run on each new commit</h2>
      <p className="hint">
        Slipway watches a GitHub branch and runs the project's pipeline at every new commit, by polling (GitHub's ETags make an
        unchanged branch free) or through a webhook receiver on this machine.
      </p>
      {connected === "no" ? (
        <GithubNotConnected testId="gh-watch-not-connected">Polling a branch needs it; the watches below keep their settings.</GithubNotConnected>
      ) : (
        <form className="gh-watch-form" onSubmit={start} aria-label="Watch a branch" noValidate>
          <div className="bp-field">
            <label htmlFor={`${uid}-project`}>Project to run</label>
            <select id={`${uid}-project`} data-testid="gh-watch-project" value={project} onChange={(e) => setProject(e.target.value)}>
              {projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.id}
                </option>
              ))}
            </select>
          </div>
          <GithubRepoPicker
            withBranch
            onRepo={(r) => {
              setRepo(r);
              if (r === null) setBranch(null);
            }}
            onBranch={setBranch}
          />
          <fieldset className="choices">
            <legend>How Slipway learns about new commits</legend>
            <label className={`choice ${mode === "poll" ? "choice-selected" : ""}`}>
              <input type="radio" name={`${uid}-mode`} data-testid="gh-watch-mode-poll" checked={mode === "poll"} onChange={() => setMode("poll")} />
              <span>
                <span className="choice-label">Poll GitHub</span>
                <span className="choice-hint">Reads the branch head every few seconds; slows down by itself when the quota runs low</span>
              </span>
            </label>
            <label className={`choice ${mode === "webhook" ? "choice-selected" : ""}`}>
              <input type="radio" name={`${uid}-mode`} data-testid="gh-watch-mode-webhook" checked={mode === "webhook"} onChange={() => setMode("webhook")} />
              <span>
                <span className="choice-label">Webhook receiver</span>
                <span className="choice-hint">Listens on 127.0.0.1 for GitHub's signed push events; expose it with a tunnel of your own</span>
              </span>
            </label>
          </fieldset>
          <div className="gh-watch-grid">
            {mode === "poll" ? (
              <div className="bp-field">
                <label htmlFor={`${uid}-every`}>Poll every (seconds, {MIN_POLL_SECS} or more)</label>
                <input id={`${uid}-every`} type="number" min={MIN_POLL_SECS} step={1} data-testid="gh-watch-every" value={every} onChange={(e) => setEvery(e.target.value)} />
              </div>
            ) : (
              <div className="bp-field">
                <label htmlFor={`${uid}-port`}>
                  Port on 127.0.0.1 <span className="optional">(empty: a free one)</span>
                </label>
                <input id={`${uid}-port`} type="number" min={1024} max={65535} data-testid="gh-watch-port" value={port} onChange={(e) => setPort(e.target.value)} placeholder="any" />
              </div>
            )}
            <div className="bp-field">
              <label htmlFor={`${uid}-link`}>
                Link base <span className="optional">(optional: statuses link to &lt;base&gt;/runs/&lt;run&gt;)</span>
              </label>
              <input
                id={`${uid}-link`}
                data-testid="gh-watch-link"
                value={linkBase}
                onChange={(e) => setLinkBase(e.target.value)}
                placeholder="https://ci.example.com/slipway"
                spellCheck={false}
                autoComplete="off"
              />
            </div>
          </div>
          <label className="checkbox">
            <input type="checkbox" data-testid="gh-watch-report" checked={report} onChange={(e) => setReport(e.target.checked)} />
            Report each run as a commit status on GitHub (pending, then success or failure; needs the <code>repo:status</code> scope)
          </label>
          {startError && <GithubError error={startError} testId="gh-watch-start-error" />}
          {started && (
            <p className="saved" data-testid="gh-watch-started" role="status">
              Watching {started.setting.watch.repo} {started.setting.watch.branch}
              {started.address ? `: the webhook receiver listens at ${started.address}` : ""}.
            </p>
          )}
          <div className="actions">
            <button type="submit" className="primary" data-testid="gh-watch-start" disabled={starting || repo === null || branch === null || project === ""}>
              {starting ? <Spinner label="Starting" /> : null} Start watching
            </button>
          </div>
        </form>
      )}

      <h3>Watched branches</h3>
      {listError && <ErrorCallout error={listError} testId="gh-watches-error" />}
      {stopError && <ErrorCallout error={stopError} testId="gh-watch-stop-error" />}
      {watches === null && !listError && (
        <p className="muted">
          <Spinner label="Loading watches" /> Loading…
        </p>
      )}
      {watches !== null && watches.length === 0 && (
        <p className="muted" data-testid="gh-watches-empty">
          No branch is watched.
        </p>
      )}
      {watches !== null && watches.length > 0 && (
        <ul className="gh-watch-rows" data-testid="gh-watches">
          {watches.map((w) => {
            const s = w.setting;
            const key = `${s.watch.repo}@${s.watch.branch}`;
            return (
              <li key={key} className="gh-watch-row" data-testid="gh-watch-row" data-repo={s.watch.repo} data-branch={s.watch.branch} data-project={s.watch.project} data-active={w.active ? "true" : "false"}>
                <div>
                  <div>
                    <strong>
                      {s.watch.repo} {s.watch.branch}
                    </strong>{" "}
                    → project {s.watch.project}{" "}
                    <span className={w.active ? "badge badge-connected" : "badge badge-failed"} data-testid="gh-watch-state">
                      {w.active ? "watching" : "stopped"}
                    </span>
                  </div>
                  <div className="hint">
                    {s.webhookPort !== null ? (
                      <>
                        webhook receiver{" "}
                        {w.address ? (
                          <>
                            at <code data-testid="gh-watch-address">{w.address}</code> (point GitHub's webhook at it through your tunnel, content type
                            application/json, with the secret below)
                          </>
                        ) : (
                          `on port ${s.webhookPort === 0 ? "(any)" : s.webhookPort}`
                        )}
                      </>
                    ) : (
                      `polls every ${Number(s.everySecs ?? DEFAULT_POLL_SECS)} s`
                    )}
                    {" · "}
                    {s.watch.reportStatus ? "reports commit statuses" : "no commit statuses"}
                    {s.watch.linkBase ? ` linking to ${s.watch.linkBase}/runs/…` : ""}
                  </div>
                  {w.error && (
                    <p className="warn-note" data-testid="gh-watch-error">
                      Stopped: {w.error}
                      {/[.!?]$/.test(w.error) ? "" : "."} Start it again to retry.
                    </p>
                  )}
                </div>
                <div className="actions">
                  <button type="button" data-testid="gh-watch-stop" onClick={() => void stop(w)} disabled={stopping === key} aria-label={`Stop watching ${key}`}>
                    {stopping === key ? <Spinner label="Stopping" /> : null} Stop
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
      )}

      <WebhookSecret />
    </section>
  );
}

/** The webhook secret: hidden until Reveal; Copy; Rotate after a confirmation. */
function WebhookSecret() {
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState(false);
  const [copied, setCopied] = useState(false);
  const [rotated, setRotated] = useState(false);

  async function read(rotate: boolean) {
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      setSecret(await api.githubWebhookSecret(rotate));
      setRotated(rotate);
    } catch (e) {
      setError(e as UserError);
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    if (secret === null) return;
    try {
      if (!navigator.clipboard) throw new Error("the clipboard is not available here");
      await navigator.clipboard.writeText(secret);
      setCopied(true);
    } catch (e) {
      setError({
        what: "Secret not copied",
        why: e instanceof Error ? e.message : String(e),
        fix: "Select the secret and copy it by hand",
      });
    }
  }

  return (
    <div className="gh-webhook" data-testid="gh-webhook">
      <h3>Webhook secret</h3>
      <p className="hint">
        GitHub signs each push with this secret (X-Hub-Signature-256); the receiver refuses anything unsigned, forged or replayed. Paste it into
        the repository's Settings › Webhooks form.
      </p>
      {error && <ErrorCallout error={error} testId="gh-secret-error" />}
      <div className="gh-secret">
        {secret === null ? (
          <button type="button" data-testid="gh-secret-reveal" onClick={() => void read(false)} disabled={busy}>
            {busy ? <Spinner label="Reading" /> : null} Reveal
          </button>
        ) : (
          <>
            <code data-testid="gh-secret">{secret}</code>
            <button type="button" data-testid="gh-secret-copy" onClick={() => void copy()}>
              Copy
            </button>
            <button
              type="button"
              data-testid="gh-secret-hide"
              onClick={() => {
                setSecret(null);
                setCopied(false);
                setRotated(false);
              }}
            >
              Hide
            </button>
          </>
        )}
        {!asking && (
          <button type="button" className="danger" data-testid="gh-secret-rotate" onClick={() => setAsking(true)} disabled={busy}>
            Rotate…
          </button>
        )}
        {copied && (
          <span className="saved" data-testid="gh-secret-copied" role="status">
            Copied
          </span>
        )}
      </div>
      {rotated && (
        <p className="warn-note" data-testid="gh-secret-rotated" role="status">
          A new secret was made, and receivers already listening check deliveries against it from now on. Paste it into GitHub's
          webhook settings, or GitHub's deliveries will be refused.
        </p>
      )}
      {asking && (
        <Confirm
          testId="gh-secret-rotate-box"
          yes={{ testId: "gh-secret-rotate-confirm", label: "Rotate the secret" }}
          no={{ testId: "gh-secret-rotate-cancel" }}
          onYes={() => {
            setAsking(false);
            void read(true);
          }}
          onNo={() => setAsking(false)}
        >
          Make a new webhook secret? Every GitHub webhook that points at Slipway needs the new one pasted in; a receiver already
          listening keeps checking the old one until its watch is started again.
        </Confirm>
      )}
    </div>
  );
}

/** A "Pick from GitHub" button for the Git URL field: fills it with the repository's clone URL. */
export function GithubUrlPick({ onUrl }: { onUrl: (url: string) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="gh-url-pick">
      <button type="button" data-testid="project-github-pick" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        {open ? "Close the GitHub list" : "Pick from GitHub…"}
      </button>
      {open && (
        <GithubRepoPicker
          autoFocus
          label="GitHub repository"
          onRepo={(r) => {
            if (r === null) return;
            onUrl(r.cloneUrl);
            setOpen(false);
          }}
        />
      )}
    </div>
  );
}
