import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from "react";

import { api } from "../../api";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { downloadText } from "../../download";
import { appendConsole, consoleFileName, findMatches } from "./jenkinsModel";

/** How close to the bottom (px) still counts as "at the bottom". */
const BOTTOM_SLACK = 8;

/**
 * A build's console, streamed from its first byte (follow_jenkins_log) until the build ends.
 * It keeps the bottom in view only while the reader is there; search highlights the matches;
 * Download saves what arrived as a .log file. The stream stops when the console goes away.
 */
export function JenkinsConsole({ job, number, onEnded }: { job: string; number: number; onEnded?: () => void }) {
  const uid = useId();
  const [text, setText] = useState("");
  const [bytes, setBytes] = useState(0);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [following, setFollowing] = useState(true);
  const [query, setQuery] = useState("");
  const [current, setCurrent] = useState(0);
  const pre = useRef<HTMLPreElement>(null);
  const followingRef = useRef(true);
  followingRef.current = following;
  const onEndedRef = useRef(onEnded);
  onEndedRef.current = onEnded;

  // The console ending is the first sign the build has: the builds list is asked at once.
  useEffect(() => {
    if (done) onEndedRef.current?.();
  }, [done]);

  useEffect(() => {
    setText("");
    setBytes(0);
    setDone(false);
    setError(null);
    const h = api.followJenkinsLog(job, number, 0, (chunk) => {
      if (chunk.text) setText((t) => appendConsole(t, chunk.text));
      setBytes(chunk.nextOffset);
      if (!chunk.more) setDone(true);
    });
    let live = true;
    h.done.then(
      () => {
        if (live) setDone(true);
      },
      (e: UserError) => {
        if (live) setError(e);
      },
    );
    return () => {
      live = false;
      h.stop();
    };
  }, [job, number]);

  // New text keeps the bottom in view while following.
  useLayoutEffect(() => {
    const el = pre.current;
    if (!el || !followingRef.current) return;
    el.scrollTop = el.scrollHeight;
  }, [text]);

  function onScroll() {
    const el = pre.current;
    if (!el) return;
    // The view's own scrolls (to the bottom while following) land at the bottom too.
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    setFollowing(atBottom);
  }

  function follow() {
    const el = pre.current;
    setFollowing(true);
    if (el) el.scrollTop = el.scrollHeight;
  }

  const matches = useMemo(() => findMatches(text, query), [text, query]);
  const index = matches.length === 0 ? -1 : Math.min(current, matches.length - 1);

  function goTo(i: number) {
    if (matches.length === 0) return;
    const n = (i + matches.length) % matches.length;
    setCurrent(n);
    setFollowing(false);
  }

  // The current match in view.
  useEffect(() => {
    if (index < 0 || following) return;
    const m = pre.current?.querySelector("mark.jk-match-current") as HTMLElement | null;
    if (m && typeof m.scrollIntoView === "function") m.scrollIntoView({ block: "center" });
  }, [index, query, following]);

  function onSearchKey(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === "Enter") {
      e.preventDefault();
      goTo(e.shiftKey ? index - 1 : index + 1);
    } else if (e.key === "Escape") {
      e.preventDefault();
      setQuery("");
      setCurrent(0);
    }
  }

  function download() {
    downloadText(consoleFileName(job, number), text);
  }

  const body = useMemo(() => {
    if (matches.length === 0) return text;
    const parts: ReactNode[] = [];
    let at = 0;
    matches.forEach((m, i) => {
      if (m > at) parts.push(text.slice(at, m));
      parts.push(
        <mark key={m} className={i === index ? "jk-match jk-match-current" : "jk-match"}>
          {text.slice(m, m + query.length)}
        </mark>,
      );
      at = m + query.length;
    });
    parts.push(text.slice(at));
    return parts;
  }, [text, matches, index, query.length]);

  return (
    <section className="jk-console-section" aria-label="Console">
      <div className="pl-log-toolbar jk-console-toolbar">
        <span className="pl-log-state">
          {!done && !error && <Spinner label="Streaming" />}
          {error ? "Console not read" : done ? "Console (build ended)" : "Console (live)"}
        </span>
        <div className="pl-log-search">
          <label htmlFor={`${uid}-search`} className="visually-hidden">
            Search the console
          </label>
          <input
            id={`${uid}-search`}
            type="search"
            data-testid="jenkins-console-search"
            value={query}
            onChange={(e) => {
              setQuery(e.target.value);
              setCurrent(0);
            }}
            onKeyDown={onSearchKey}
            placeholder="Search (Enter: next)"
            spellCheck={false}
          />
          <button type="button" data-testid="jenkins-console-search-prev" onClick={() => goTo(index - 1)} disabled={matches.length === 0} aria-label="Previous match">
            ↑
          </button>
          <button type="button" data-testid="jenkins-console-search-next" onClick={() => goTo(index + 1)} disabled={matches.length === 0} aria-label="Next match">
            ↓
          </button>
          {query !== "" && (
            <span className="pl-log-count" data-testid="jenkins-console-search-count" aria-live="polite">
              {matches.length === 0 ? "No match" : `${index + 1} of ${matches.length}`}
            </span>
          )}
        </div>
        {!following && (
          <button type="button" data-testid="jenkins-console-follow" onClick={follow}>
            Follow
          </button>
        )}
        <button type="button" data-testid="jenkins-console-download" onClick={download} disabled={text === ""}>
          Download
        </button>
      </div>
      {error && <ErrorCallout error={error} testId="jenkins-console-error" />}
      <pre
        ref={pre}
        className="jk-console"
        data-testid="jenkins-console"
        data-bytes={bytes}
        data-done={done ? "true" : "false"}
        data-following={following ? "true" : "false"}
        onScroll={onScroll}
        tabIndex={0}
        aria-label={`Console of ${job} #${number}`}
      >
        {body}
      </pre>
    </section>
  );
}
