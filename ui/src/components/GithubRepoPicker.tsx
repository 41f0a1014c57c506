// A repository of the connected GitHub account, found by searching (its own, its collaborations
// and its organisations'), then optionally a branch and that branch's recent commits. Used by the
// GitHub Actions tab and the Project page. Keyboard: type to search (300 ms after the last key),
// arrows to move through the results, Enter to pick, Escape to clear the search.

import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";

import { api } from "../api";
import type { GhBranch } from "../bindings/GhBranch";
import type { GhCommit } from "../bindings/GhCommit";
import type { GhRepo } from "../bindings/GhRepo";
import type { Page } from "../bindings/Page";
import type { RateLimit } from "../bindings/RateLimit";
import type { UserError } from "../bindings/UserError";
import { ghTime, shortSha } from "../pages/Pipelines/githubModel";
import { GithubError, GithubNotConnected, GithubQuota, useGithubConnected } from "./GithubCommon";
import { Spinner } from "./Spinner";

export const SEARCH_DEBOUNCE_MS = 300;
export const COMMITS_SHOWN = 10;

type Props = {
  /** Also pick a branch (the repository's default first) and show its recent commits. */
  withBranch?: boolean;
  onRepo?: (repo: GhRepo | null) => void;
  onBranch?: (branch: string | null) => void;
  /** Given: the caller shows the quota; otherwise the picker shows it under itself. */
  onRate?: (rate: RateLimit) => void;
  label?: string;
  autoFocus?: boolean;
};

export function GithubRepoPicker({ withBranch = false, onRepo, onBranch, onRate, label = "Repository", autoFocus = false }: Props) {
  const uid = useId();
  const connected = useGithubConnected();
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<GhRepo[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [searching, setSearching] = useState(false);
  const [moreLoading, setMoreLoading] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [active, setActive] = useState(-1);
  const [picked, setPicked] = useState<GhRepo | null>(null);
  const [rate, setRate] = useState<RateLimit | null>(null);
  const seq = useRef(0);
  const first = useRef(true);
  const input = useRef<HTMLInputElement>(null);
  /** The query the results shown answer (null: the plain list). */
  const [shownQuery, setShownQuery] = useState<string | null>(null);
  const cb = useRef({ onRepo, onBranch, onRate });
  cb.current = { onRepo, onBranch, onRate };

  const sawPage = (p: Page<unknown>) => {
    if (!p.rate) return;
    if (cb.current.onRate) cb.current.onRate(p.rate);
    else setRate(p.rate);
  };

  // The first page at once, then a search 300 ms after the last change of the query.
  useEffect(() => {
    if (connected !== "yes" || picked !== null) return;
    const q = query.trim() === "" ? null : query.trim();
    const run = () => {
      const mine = ++seq.current;
      setSearching(true);
      api.githubRepos(q, 1).then(
        (p) => {
          if (mine !== seq.current) return;
          sawPage(p);
          setShownQuery(q);
          setResults(p.items);
          setNext(p.nextPage);
          setActive(p.items.length > 0 ? 0 : -1);
          setError(null);
          setSearching(false);
        },
        (e: UserError) => {
          if (mine !== seq.current) return;
          setError(e);
          setSearching(false);
        },
      );
    };
    if (first.current) {
      first.current = false;
      run();
      return;
    }
    const t = setTimeout(run, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [query, connected, picked]);

  async function more() {
    if (next === null || moreLoading) return;
    const mine = seq.current;
    setMoreLoading(true);
    try {
      const p = await api.githubRepos(shownQuery, next);
      if (mine !== seq.current) return;
      sawPage(p);
      setResults((r) => {
        const have = new Set((r ?? []).map((x) => x.fullName));
        return [...(r ?? []), ...p.items.filter((x) => !have.has(x.fullName))];
      });
      setNext(p.nextPage);
      setError(null);
    } catch (e) {
      setError(e as UserError);
    } finally {
      setMoreLoading(false);
    }
  }

  function pick(repo: GhRepo) {
    setPicked(repo);
    cb.current.onRepo?.(repo);
  }

  function change() {
    first.current = true;
    setPicked(null);
    setResults(null);
    cb.current.onRepo?.(null);
    cb.current.onBranch?.(null);
    setTimeout(() => input.current?.focus(), 0);
  }

  /** The results shown are not yet those of the query typed (the search is on its way). */
  const stale = (query.trim() === "" ? null : query.trim()) !== shownQuery;

  function onKey(e: KeyboardEvent<HTMLInputElement>) {
    const n = results?.length ?? 0;
    if (e.key === "ArrowDown" && n > 0) {
      e.preventDefault();
      setActive((a) => Math.min(a + 1, n - 1));
    } else if (e.key === "ArrowUp" && n > 0) {
      e.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (e.key === "Enter") {
      e.preventDefault(); // never submits the form around the picker
      if (results && !stale && active >= 0 && active < n) pick(results[active]);
    } else if (e.key === "Escape" && query !== "") {
      e.preventDefault();
      setQuery("");
    }
  }

  useEffect(() => {
    if (active < 0) return;
    document.getElementById(`${uid}-opt-${active}`)?.scrollIntoView?.({ block: "nearest" });
  }, [active, uid]);

  if (connected === "no") {
    return (
      <GithubNotConnected testId="gh-picker-not-connected">Slipway lists your repositories once it is.</GithubNotConnected>
    );
  }

  const listId = `${uid}-results`;
  return (
    <div className="gh-picker" data-testid="gh-repo-picker">
      {picked ? (
        <div className="gh-picked" data-testid="gh-repo-picked" data-repo={picked.fullName}>
          <span>
            {label}: <strong>{picked.fullName}</strong> {picked.private && <span className="gh-private">private</span>}
          </span>
          <button type="button" data-testid="gh-repo-change" onClick={change}>
            Change
          </button>
        </div>
      ) : (
        <>
          <div className="bp-field gh-search">
            <label htmlFor={`${uid}-q`}>{label}</label>
            <input
              id={`${uid}-q`}
              ref={input}
              type="search"
              data-testid="gh-repo-search"
              role="combobox"
              aria-expanded={results !== null}
              aria-controls={listId}
              aria-autocomplete="list"
              aria-activedescendant={active >= 0 && results?.[active] ? `${uid}-opt-${active}` : undefined}
              placeholder="Search by name or description"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              onKeyDown={onKey}
              autoFocus={autoFocus}
              spellCheck={false}
              autoComplete="off"
            />
            {searching && <Spinner label="Searching" />}
          </div>
          {error && <GithubError error={error} testId="gh-repo-error" />}
          {results !== null && results.length === 0 && (
            <p className="muted" data-testid="gh-repo-empty">
              {shownQuery ? `No repository matches “${shownQuery}”.` : "The token sees no repository."}
            </p>
          )}
          {results !== null && results.length > 0 && (
            <ul
              className={stale ? "gh-options gh-options-stale" : "gh-options"}
              role="listbox"
              id={listId}
              aria-label="Repositories"
              aria-busy={stale}
              data-testid="gh-repo-results"
              data-query={shownQuery ?? ""}
            >
              {results.map((r, i) => (
                <li
                  key={r.fullName}
                  id={`${uid}-opt-${i}`}
                  role="option"
                  aria-selected={i === active}
                  className={i === active ? "gh-option gh-option-active" : "gh-option"}
                  data-testid="gh-repo-option"
                  data-repo={r.fullName}
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => pick(r)}
                >
                  <span className="gh-option-name">
                    <span className="muted">{r.owner}/</span>
                    <strong>{r.name}</strong>
                    {r.private && (
                      <span className="gh-private" data-testid="gh-repo-private">
                        private
                      </span>
                    )}
                  </span>
                  <span className="gh-option-branch" title="Default branch">
                    {r.defaultBranch}
                  </span>
                  {r.description && <span className="gh-option-desc">{r.description}</span>}
                </li>
              ))}
            </ul>
          )}
          {next !== null && (
            <button type="button" data-testid="gh-repo-more" onClick={() => void more()} disabled={moreLoading}>
              {moreLoading ? <Spinner label="Loading" /> : null} More repositories
            </button>
          )}
        </>
      )}
      {picked && withBranch && <BranchAndCommits key={picked.fullName} repo={picked} sawPage={sawPage} onBranch={(b) => cb.current.onBranch?.(b)} />}
      {!onRate && <GithubQuota rate={rate} testId="gh-picker-quota" />}
    </div>
  );
}

function BranchAndCommits({ repo, sawPage, onBranch }: { repo: GhRepo; sawPage: (p: Page<unknown>) => void; onBranch: (b: string | null) => void }) {
  const uid = useId();
  const [branches, setBranches] = useState<GhBranch[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [branch, setBranch] = useState<string | null>(null);
  const [branchError, setBranchError] = useState<UserError | null>(null);
  const [commits, setCommits] = useState<GhCommit[] | null>(null);
  const [commitsError, setCommitsError] = useState<UserError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const saw = useRef(sawPage);
  saw.current = sawPage;
  const tell = useRef(onBranch);
  tell.current = onBranch;

  useEffect(() => {
    let cancelled = false;
    api.githubBranches(repo.fullName, 1).then(
      (p) => {
        if (cancelled) return;
        saw.current(p);
        setBranches(p.items);
        setNext(p.nextPage);
        const b = p.items.find((x) => x.name === repo.defaultBranch)?.name ?? p.items[0]?.name ?? null;
        setBranch(b);
        tell.current(b);
      },
      (e: UserError) => {
        if (!cancelled) setBranchError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [repo]);

  useEffect(() => {
    if (branch === null) return;
    let cancelled = false;
    setCommits(null);
    setCommitsError(null);
    api.githubCommits(repo.fullName, branch, COMMITS_SHOWN).then(
      (p) => {
        if (cancelled) return;
        saw.current(p);
        setCommits(p.items);
      },
      (e: UserError) => {
        if (!cancelled) setCommitsError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [repo, branch]);

  async function more() {
    if (next === null) return;
    setLoadingMore(true);
    try {
      const p = await api.githubBranches(repo.fullName, next);
      saw.current(p);
      setBranches((b) => [...(b ?? []), ...p.items]);
      setNext(p.nextPage);
    } catch (e) {
      setBranchError(e as UserError);
    } finally {
      setLoadingMore(false);
    }
  }

  function choose(b: string) {
    setBranch(b);
    tell.current(b);
  }

  return (
    <div className="gh-branch">
      {branchError && <GithubError error={branchError} testId="gh-branch-error" />}
      {branches === null && !branchError && (
        <p className="muted">
          <Spinner label="Loading branches" /> Loading branches…
        </p>
      )}
      {branches !== null && (
        <div className="gh-branch-row">
          <div className="bp-field">
            <label htmlFor={`${uid}-branch`}>Branch</label>
            <select id={`${uid}-branch`} data-testid="gh-branch-select" value={branch ?? ""} onChange={(e) => choose(e.target.value)}>
              {branches.map((b) => (
                <option key={b.name} value={b.name}>
                  {b.name}
                  {b.name === repo.defaultBranch ? " (default)" : ""}
                  {b.protected ? " · protected" : ""}
                </option>
              ))}
            </select>
          </div>
          {next !== null && (
            <button type="button" data-testid="gh-branch-more" onClick={() => void more()} disabled={loadingMore}>
              More branches
            </button>
          )}
        </div>
      )}
      {branch !== null && (
        <section className="gh-commits" aria-label={`Recent commits of ${branch}`}>
          <h3>Recent commits of {branch}</h3>
          {commitsError && <GithubError error={commitsError} testId="gh-commits-error" />}
          {commits === null && !commitsError && (
            <p className="muted">
              <Spinner label="Loading commits" /> Loading commits…
            </p>
          )}
          {commits !== null && commits.length === 0 && <p className="muted">No commit on this branch.</p>}
          {commits !== null && commits.length > 0 && (
            <ol className="gh-commit-list" data-testid="gh-commits">
              {commits.map((c) => (
                <li key={c.sha} data-testid="gh-commit" data-sha={c.sha}>
                  <a href={c.htmlUrl} target="_blank" rel="noreferrer" title="The commit on GitHub">
                    <code>{shortSha(c.sha)}</code>
                  </a>{" "}
                  <span className="gh-commit-msg">{c.message}</span>{" "}
                  <span className="muted">
                    {c.author} · {ghTime(c.date)}
                  </span>
                </li>
              ))}
            </ol>
          )}
        </section>
      )}
    </div>
  );
}
