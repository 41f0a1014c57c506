// A finished GitHub Actions job's log: numbered lines with GitHub's timestamps as local times,
// group headers and errors marked, a search (Enter: next match, Shift+Enter: previous) and a
// download of the whole text.

import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from "react";

import { api } from "../../api";
import type { UserError } from "../../bindings/UserError";
import type { WorkflowJob } from "../../bindings/WorkflowJob";
import { GithubError } from "../../components/GithubCommon";
import { Spinner } from "../../components/Spinner";
import { downloadText } from "../../download";
import { jobLogFileName, logClock, matchingLines, parseLog } from "./githubModel";

export function GithubJobLog({ repo, job }: { repo: string; job: WorkflowJob }) {
  const uid = useId();
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [query, setQuery] = useState("");
  const [current, setCurrent] = useState(0);
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    let cancelled = false;
    api.githubJobLog(repo, job.id).then(
      (t) => {
        if (!cancelled) setText(t);
      },
      (e: UserError) => {
        if (!cancelled) setError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [repo, job.id]);

  const lines = useMemo(() => (text === null ? [] : parseLog(text)), [text]);
  const matches = useMemo(() => matchingLines(lines, query), [lines, query]);
  const matchSet = useMemo(() => new Set(matches), [matches]);
  const currentLine = matches.length > 0 ? matches[Math.min(current, matches.length - 1)] : null;

  useEffect(() => setCurrent(0), [query]);
  useEffect(() => {
    if (currentLine === null) return;
    // Only the log scrolls (the page stays where it is): the match to the middle of the box.
    const el = document.getElementById(`${uid}-l${currentLine}`);
    const b = box.current;
    if (el && b) b.scrollTop = Math.max(0, el.offsetTop - b.clientHeight / 2);
  }, [currentLine, uid]);

  function step(by: number) {
    if (matches.length === 0) return;
    setCurrent((c) => (c + by + matches.length) % matches.length);
  }

  function onKey(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === "Enter") {
      e.preventDefault();
      step(e.shiftKey ? -1 : 1);
    }
  }

  function download() {
    if (text === null) return;
    downloadText(jobLogFileName(repo, job.id, job.name), text.replace(/^\uFEFF/, ""));
  }

  return (
    <div className="gh-log" aria-label={`Log of ${job.name}`}>
      <div className="pl-log-toolbar" role="toolbar" aria-label="Log">
        <strong>{job.name}</strong>
        <span className="pl-log-state">{text === null ? "" : `${lines.length.toLocaleString("en-US")} lines`}</span>
        <span className="pl-log-search">
          <label htmlFor={`${uid}-q`} className="visually-hidden">
            Search the log
          </label>
          <input
            id={`${uid}-q`}
            type="search"
            data-testid="gh-log-search"
            placeholder="Search the log"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={onKey}
            disabled={text === null}
          />
          <button type="button" data-testid="gh-log-prev" onClick={() => step(-1)} disabled={matches.length === 0} aria-label="Previous match">
            ↑
          </button>
          <button type="button" data-testid="gh-log-next" onClick={() => step(1)} disabled={matches.length === 0} aria-label="Next match">
            ↓
          </button>
          <span className="pl-log-count" data-testid="gh-log-count" aria-live="polite">
            {query.trim() === "" ? "" : matches.length === 0 ? "no match" : `${Math.min(current, matches.length - 1) + 1} of ${matches.length}`}
          </span>
        </span>
        <button type="button" data-testid="gh-log-download" onClick={download} disabled={text === null} title="The job's whole log as a .log file">
          Download
        </button>
        <a href={job.htmlUrl} target="_blank" rel="noreferrer">
          GitHub ↗
        </a>
      </div>
      {error && <GithubError error={error} testId="gh-log-error" />}
      {text === null && !error && (
        <p className="muted">
          <Spinner label="Loading the log" /> Loading the log…
        </p>
      )}
      {text !== null && (
        <pre className="gh-log-lines" ref={box} data-testid="gh-log" data-job={job.id} data-lines={lines.length} tabIndex={0} aria-label={`Log of ${job.name}`}>
          {lines.map((l) => {
            const cls = ["gh-log-line", `gh-log-${l.kind}`];
            if (matchSet.has(l.n)) cls.push("gh-log-match");
            if (l.n === currentLine) cls.push("gh-log-current");
            return (
              <div
                key={l.n}
                id={`${uid}-l${l.n}`}
                className={cls.join(" ")}
                data-testid="gh-log-line"
                data-line={l.n}
                data-match={matchSet.has(l.n) ? (l.n === currentLine ? "current" : "true") : undefined}
              >
                <span className="gh-ln" aria-hidden="true">
                  {l.n}
                </span>
                {l.time && (
                  <span className="gh-ts" title={l.time}>
                    {logClock(l.time)}
                  </span>
                )}
                <span className="gh-text">{l.kind === "group" ? `▸ ${l.text}` : l.text}</span>
              </div>
            );
          })}
        </pre>
      )}
    </div>
  );
}
