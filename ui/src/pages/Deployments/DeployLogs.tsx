import { useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { DEFAULT_TAIL, LOG_CAP, PodColours, appendLog, atBottom, emptyLog, type LogBuffer } from "./model";

/**
 * The merged logs of every replica, each line prefixed by its pod (a colour per pod). Follow
 * streams new lines (also from pods a redeploy starts) until it is switched off; the view
 * scrolls with new lines while it is at the bottom; it keeps the last LOG_CAP lines.
 */
export function DeployLogs({ project, environment }: { project: string; environment: string }) {
  const uid = useId();
  const [follow, setFollow] = useState(false);
  const [tailInput, setTailInput] = useState(String(DEFAULT_TAIL));
  const [tail, setTail] = useState<number | null>(DEFAULT_TAIL);
  const [reloads, setReloads] = useState(0);
  const [log, setLog] = useState<LogBuffer>(emptyLog);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [stuck, setStuck] = useState(true);
  const stuckRef = useRef(true);
  const box = useRef<HTMLDivElement>(null);
  const colours = useRef(new PodColours());

  useEffect(() => {
    let active = true;
    setLog(emptyLog());
    setDone(false);
    setError(null);
    stuckRef.current = true;
    setStuck(true);
    const f = api.followDeployLogs(project, environment, follow, tail, (chunk) => {
      if (chunk.lines.length > 0) setLog((b) => appendLog(b, chunk.lines));
      if (chunk.done) setDone(true);
    });
    f.done.then(
      () => {
        if (active) setDone(true);
      },
      (e: UserError) => {
        if (active) setError(e);
      },
    );
    return () => {
      active = false;
      f.stop();
    };
  }, [project, environment, follow, tail, reloads]);

  // New lines keep the view at the bottom while it is there.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && stuckRef.current) el.scrollTop = el.scrollHeight;
  }, [log]);

  function onScroll() {
    const el = box.current;
    if (!el) return;
    const at = atBottom(el.scrollTop, el.clientHeight, el.scrollHeight);
    stuckRef.current = at;
    setStuck(at);
  }

  function toBottom() {
    stuckRef.current = true;
    setStuck(true);
    if (box.current) box.current.scrollTop = box.current.scrollHeight;
  }

  function load(e: FormEvent) {
    e.preventDefault();
    const t = tailInput.trim();
    setTail(t === "" ? null : Math.max(0, Math.floor(Number(t)) || 0));
    setReloads((n) => n + 1);
  }

  return (
    <section className="dp-logs" aria-label="Logs of every replica">
      <h3>Logs</h3>
      <form className="dp-log-toolbar" onSubmit={load} aria-label="Log options">
        <label className="checkbox dp-follow">
          <input type="checkbox" data-testid="deploy-log-follow" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          Follow new lines
        </label>
        <span className="bp-field dp-tail">
          <label htmlFor={`${uid}-tail`}>Last lines per container</label>
          <input
            id={`${uid}-tail`}
            data-testid="deploy-log-tail"
            type="number"
            min={0}
            value={tailInput}
            onChange={(e) => setTailInput(e.target.value)}
            placeholder="all"
          />
        </span>
        <button type="submit" data-testid="deploy-log-load">
          Load
        </button>
        <span className="pl-log-state" role="status">
          {error ? (
            "Not available"
          ) : follow ? (
            <>
              <Spinner label="Following" /> Following · {log.lines.length.toLocaleString()} lines
            </>
          ) : done ? (
            <>Complete · {log.lines.length.toLocaleString()} lines</>
          ) : (
            <>
              <Spinner label="Loading" /> Loading…
            </>
          )}
        </span>
        {!stuck && (
          <button type="button" className="primary" data-testid="deploy-log-bottom" onClick={toBottom}>
            Jump to the end
          </button>
        )}
      </form>
      {error && <ErrorCallout error={error} testId="deploy-log-error" />}
      {!error && done && log.lines.length === 0 && (
        <p className="muted" data-testid="deploy-log-empty">
          No lines: nothing runs in the namespace, or its containers wrote nothing yet.
        </p>
      )}
      {log.dropped > 0 && (
        <p className="hint" data-testid="deploy-log-dropped">
          Showing the last {LOG_CAP.toLocaleString()} lines; {log.dropped.toLocaleString()} older ones were dropped.
        </p>
      )}
      <div
        ref={box}
        className="dp-log"
        role="log"
        aria-label="Merged logs"
        tabIndex={0}
        onScroll={onScroll}
        data-testid="deploy-log-view"
        data-lines={log.lines.length}
        data-done={done ? "true" : "false"}
        data-follow={follow ? "true" : "false"}
        data-at-bottom={stuck ? "true" : "false"}
      >
        {log.lines.map((l) => (
          <div key={l.id} className="dp-log-line" data-testid="deploy-log-line" data-pod={l.pod}>
            <span className={`dp-log-pod dp-pod-${colours.current.of(l.pod)}`} data-testid="deploy-log-pod" title={`container ${l.container}`}>
              {l.pod}
            </span>{" "}
            {l.text}
          </div>
        ))}
      </div>
    </section>
  );
}
