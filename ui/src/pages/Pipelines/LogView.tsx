import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";

import { api } from "../../api";
import type { StageName } from "../../bindings/StageName";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { downloadText } from "../../download";
import { CrlfConverter, FollowState, countLines, logFileName, utf8Length } from "./logModel";
import { SCROLLBACK, createTerminal, type LogTerminal, type SearchResults } from "./terminal";

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * One step's log in xterm.js, streamed through follow_log from the start of the file until the
 * step ends. Follows the output while the view is at the bottom; search (next / previous) and
 * download of the whole text.
 */
export function LogView({ run, stage, step }: { run: string; stage: StageName; step: string | null }) {
  const uid = useId();
  const host = useRef<HTMLDivElement>(null);
  const term = useRef<LogTerminal | null>(null);
  const follow = useRef(new FollowState());
  const text = useRef<string[]>([]);
  const [following, setFollowing] = useState(true);
  const [bytes, setBytes] = useState(0);
  const [lines, setLines] = useState(0);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<SearchResults | null>(null);
  const [noMatch, setNoMatch] = useState(false);
  // Which step the figures above belong to. React paints the new step's name before the effect
  // below resets them: until then, the previous step's "Complete" and size must not show as the
  // new one's (a test read a finished empty step as the next one's, once pages loaded lazily).
  const key = `${run}\u0000${stage}\u0000${step ?? ""}`;
  const [shownKey, setShownKey] = useState(key);
  const current = shownKey === key;
  const shownDone = current && done;
  const shownBytes = current ? bytes : 0;

  // The terminal lives as long as the view; a new step empties it.
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const t = createTerminal(el);
    term.current = t;
    t.onScroll(() => {
      const { viewportY, baseY } = t.viewport();
      if (follow.current.scrolled(viewportY, baseY)) setFollowing(follow.current.following);
    });
    t.onSearchResults((r) => {
      setResults(r);
      setNoMatch(r.count === 0);
    });
    const ro = new ResizeObserver(() => {
      t.fit();
      if (follow.current.shouldScroll()) t.scrollToBottom();
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      t.dispose();
      term.current = null;
    };
  }, []);

  useEffect(() => {
    const t = term.current;
    if (!t) return;
    t.clear();
    follow.current = new FollowState();
    const crlf = new CrlfConverter();
    text.current = [];
    setFollowing(true);
    setBytes(0);
    setLines(0);
    setDone(false);
    setError(null);
    setResults(null);
    setNoMatch(false);
    setShownKey(`${run}\u0000${stage}\u0000${step ?? ""}`);
    // No step yet (the stage's steps are being listed): an empty view, kept for the next one.
    if (step === null) return;
    let received = 0;
    let lineCount = 0;
    const f = api.followLog(run, stage, step, 0, (chunk) => {
      if (chunk.run !== run || chunk.stage !== stage || chunk.step !== step) return;
      if (chunk.text !== "") {
        text.current.push(chunk.text);
        received = chunk.offset + utf8Length(chunk.text);
        lineCount += countLines(chunk.text);
        setBytes(received);
        setLines(lineCount);
        t.write(crlf.push(chunk.text), () => {
          if (follow.current.shouldScroll()) t.scrollToBottom();
        });
      }
      if (chunk.done) setDone(true);
    });
    // A stream this view has left (another step, run or stage) may still end later: its end
    // must not mark the step shown now as complete (it did, flakily, in a Vitest run).
    let live = true;
    f.done.then(
      () => {
        if (live) setDone(true);
      },
      (e: UserError) => {
        if (live) setError(e);
      },
    );
    return () => {
      live = false;
      f.stop();
    };
  }, [run, stage, step]);

  function resume() {
    follow.current.resume();
    term.current?.scrollToBottom();
    setFollowing(true);
  }

  function find(direction: "next" | "previous") {
    const t = term.current;
    const q = query.trim();
    if (!t || q === "") return;
    const found = direction === "next" ? t.findNext(q) : t.findPrevious(q);
    if (!found) {
      setNoMatch(true);
      setResults(null);
    }
  }

  function onSearchKey(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === "Enter") {
      e.preventDefault();
      find(e.shiftKey ? "previous" : "next");
    } else if (e.key === "Escape") {
      setQuery("");
      setResults(null);
      setNoMatch(false);
      term.current?.clearSearch();
    }
  }

  function download() {
    if (step === null) return;
    downloadText(logFileName(run, stage, step), text.current);
  }

  return (
    <div className="pl-log">
      <div className="pl-log-toolbar" role="toolbar" aria-label="Log">
        <span className="pl-log-state" role="status">
          {error ? (
            "Not available"
          ) : shownDone ? (
            <>Complete · {formatBytes(shownBytes)}</>
          ) : (
            <>
              <Spinner label="Streaming" /> Live · {formatBytes(shownBytes)}
            </>
          )}
        </span>
        {!following && (
          <button type="button" className="primary" data-testid="log-follow" onClick={resume} title="Scroll to the end and keep following">
            Follow
          </button>
        )}
        <span className="pl-log-search">
          <label htmlFor={`${uid}-search`} className="visually-hidden">
            Search the log
          </label>
          <input
            id={`${uid}-search`}
            data-testid="log-search"
            type="search"
            placeholder="Search the log"
            value={query}
            onChange={(e) => {
              setQuery(e.target.value);
              setNoMatch(false);
              setResults(null);
            }}
            onKeyDown={onSearchKey}
            spellCheck={false}
          />
          <button type="button" data-testid="log-search-prev" onClick={() => find("previous")} disabled={query.trim() === ""} aria-label="Previous match">
            ↑
          </button>
          <button type="button" data-testid="log-search-next" onClick={() => find("next")} disabled={query.trim() === ""} aria-label="Next match">
            ↓
          </button>
          <span className="pl-log-count" data-testid="log-search-count" aria-live="polite">
            {noMatch
              ? "No match"
              : results && results.count > 0
                ? results.index >= 0
                  ? `${results.index + 1} of ${results.count}`
                  : `${results.count} matches`
                : ""}
          </span>
        </span>
        <button type="button" data-testid="log-download" onClick={download} disabled={shownBytes === 0} title="The step's whole log as a .log file">
          Download
        </button>
      </div>
      {error && <ErrorCallout error={error} testId="log-error" />}
      <div
        className="pl-term"
        ref={host}
        data-testid="log-view"
        data-step={step ?? ""}
        data-following={following ? "true" : "false"}
        data-done={shownDone ? "true" : "false"}
        data-bytes={shownBytes}
      />
      {lines > SCROLLBACK && (
        <p className="hint" data-testid="log-truncated">
          The view keeps the last {SCROLLBACK.toLocaleString()} of {lines.toLocaleString()} lines; Download has all of them.
        </p>
      )}
    </div>
  );
}
