import { useCallback, useEffect, useId, useMemo, useRef, useState, type ChangeEvent } from "react";

import { api } from "../../api";
import type { BoardFormat } from "../../bindings/BoardFormat";
import type { Card } from "../../bindings/Card";
import type { ImportReport } from "../../bindings/ImportReport";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { downloadText } from "../../download";
import { CardDrawer } from "./CardDrawer";
import { KanbanBoard, type CardExtras } from "./KanbanBoard";
import { ColumnsPanel, EpicsPanel, SprintsPanel } from "./Manage";
import {
  ACTIVE,
  BACKLOG,
  NONE,
  NO_FILTERS,
  activeSprintOf,
  automationNote,
  choices,
  columnCounts,
  defaultSprint,
  dropTarget,
  epicColor,
  filterCards,
  groupCards,
  hasFilters,
  lastMoves,
  sortedColumns,
  type DropOver,
  type Filters,
} from "./model";
import { SprintView } from "./SprintView";
import { useBoard } from "./useBoard";
import "./board.css";

type View = "board" | "sprint";
type Panel = "epics" | "sprints" | "columns" | null;
type Drawer = { kind: "card"; key: string } | { kind: "new"; column: string | null } | null;

/** `#/board?project=<id>&view=sprint&sprint=<n>` */
function fromHash(): { project: string | null; view: View; sprint: number | null } {
  const q = new URLSearchParams(window.location.hash.split("?")[1] ?? "");
  const s = q.get("sprint");
  return { project: q.get("project"), view: q.get("view") === "sprint" ? "sprint" : "board", sprint: s && /^\d+$/.test(s) ? Number(s) : null };
}

export function BoardPage() {
  const uid = useId();
  const initial = useRef(fromHash()).current;
  const [projects, setProjects] = useState<string[] | null>(null);
  /** There is no project: the board shown is the default blueprint's. */
  const [defaultOnly, setDefaultOnly] = useState(false);
  const [projectsError, setProjectsError] = useState<UserError | null>(null);
  const [project, setProject] = useState<string | null>(null);
  const [view, setView] = useState<View>(initial.view);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [swimlanes, setSwimlanes] = useState(false);
  const [panel, setPanel] = useState<Panel>(null);
  const [drawer, setDrawer] = useState<Drawer>(null);
  const [moveError, setMoveError] = useState<UserError | null>(null);
  const [automationError, setAutomationError] = useState<UserError | null>(null);
  const [exchangeError, setExchangeError] = useState<UserError | null>(null);
  const [importReport, setImportReport] = useState<ImportReport | null>(null);
  const [importing, setImporting] = useState(false);
  const [sprintShown, setSprintShown] = useState<number | null>(initial.sprint);
  const board = useBoard(project);
  const { data, history, cards, moving, loadError } = board;

  useEffect(() => {
    let cancelled = false;
    // Boards that exist, and every project (a board is made on first use).
    Promise.allSettled([api.boardProjects(), api.projects()]).then(async ([b, p]) => {
      if (cancelled) return;
      if (b.status === "rejected" && p.status === "rejected") {
        setProjectsError(b.reason as UserError);
        return;
      }
      const ids = new Set<string>();
      if (b.status === "fulfilled") b.value.forEach((x) => ids.add(x));
      if (p.status === "fulfilled") p.value.forEach((x) => ids.add(x.id));
      // A project named in the link has a board too (made on first use).
      if (initial.project) ids.add(initial.project);
      if (ids.size === 0) {
        // No project at all: the board the Rust side picks then (the default blueprint's project).
        try {
          const d = await api.getBoard(null);
          if (cancelled) return;
          ids.add(d.board.project);
          setDefaultOnly(true);
        } catch (e) {
          if (!cancelled) setProjectsError(e as UserError);
          return;
        }
      }
      const list = [...ids].sort();
      setProjects(list);
      setProject(list.find((x) => x === initial.project) ?? list[0]);
    });
    return () => {
      cancelled = true;
    };
  }, [initial.project]);

  useEffect(() => {
    setDrawer(null);
    setMoveError(null);
    setImportReport(null);
    setExchangeError(null);
    setFilters(NO_FILTERS);
  }, [project]);

  const columns = useMemo(() => sortedColumns(data?.board.columns ?? []), [data?.board.columns]);
  const epics = data?.epics;
  const active = data ? activeSprintOf(data.sprints) : null;
  const shown = useMemo(() => filterCards(cards, filters, active?.number ?? null), [cards, filters, active?.number]);
  const lanes = useMemo(() => groupCards(shown, columns, epics ?? [], swimlanes), [shown, columns, epics, swimlanes]);
  const counts = useMemo(() => columnCounts(cards), [cards]);
  const last = useMemo(() => lastMoves(history), [history]);
  const { assignees, labels } = useMemo(() => choices(cards), [cards]);
  const epicByKey = useMemo(() => new Map((epics ?? []).map((e) => [e.key, e])), [epics]);

  const extras = useCallback(
    (c: Card): CardExtras => {
      const e = c.epic !== null ? epicByKey.get(c.epic) : undefined;
      return { automation: automationNote(c, last.get(c.key)), epicTitle: e ? e.title : null, epicColor: e ? epicColor(e) : "transparent" };
    },
    [epicByKey, last],
  );

  const cardsRef = useRef(cards);
  cardsRef.current = cards;
  const onDrop = useCallback(
    (key: string, over: DropOver, below: boolean) => {
      const target = dropTarget(cardsRef.current, key, over, below);
      if (!target) return;
      setMoveError(null);
      board.move(key, target.column, target.position).catch((e: UserError) => setMoveError(e));
    },
    [board.move], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const onOpen = useCallback((key: string) => setDrawer({ kind: "card", key }), []);
  const closeDrawer = useCallback(() => {
    const key = drawer?.kind === "card" ? drawer.key : null;
    setDrawer(null);
    // Back to the card the drawer was opened from.
    if (key) requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-testid="board-card"][data-card="${key.replace(/["\\]/g, "\\$&")}"]`)?.focus());
  }, [drawer]);

  async function toggleAutomation(on: boolean) {
    setAutomationError(null);
    try {
      await board.change((p) => api.setBoardAutomation(p, on));
    } catch (e) {
      setAutomationError(e as UserError);
    }
  }

  async function exportAs(format: BoardFormat) {
    if (!project) return;
    setExchangeError(null);
    try {
      const text = await api.exportBoard(project, format);
      downloadText(`${project}-board.${format}`, text, format === "json" ? "application/json" : "text/csv");
    } catch (e) {
      setExchangeError(e as UserError);
    }
  }

  async function importFile(e: ChangeEvent<HTMLInputElement>) {
    const file = e.target.files?.[0];
    e.target.value = ""; // the same file can be picked again after a fix
    if (!file || !project) return;
    const format: BoardFormat = /\.json$/i.test(file.name) || file.type === "application/json" ? "json" : "csv";
    setExchangeError(null);
    setImportReport(null);
    setImporting(true);
    try {
      const text = await file.text();
      setImportReport(await board.change((p) => api.importBoard(p, format, text)));
    } catch (err) {
      setExchangeError(err as UserError);
    } finally {
      setImporting(false);
    }
  }

  const sprintForView = sprintShown ?? (data ? (defaultSprint(data.sprints)?.number ?? null) : null);
  const drawerCard = drawer?.kind === "card" ? (cards.find((c) => c.key === drawer.key) ?? null) : null;
  const seenInDrawer = useRef<string | null>(null);
  useEffect(() => {
    // The card shown was deleted (here or elsewhere): close its drawer. (A card just added is
    // not on the board until the next read, so only a card seen before counts.)
    if (drawer?.kind !== "card") seenInDrawer.current = null;
    else if (drawerCard) seenInDrawer.current = drawer.key;
    else if (seenInDrawer.current === drawer.key) setDrawer(null);
  }, [drawer, drawerCard]);

  if (projectsError) return <ErrorCallout error={projectsError} testId="board-error" />;
  if (projects === null) {
    return (
      <p className="muted">
        <Spinner label="Loading boards" /> Loading…
      </p>
    );
  }
  if (project === null) {
    return (
      <p className="muted">
        <Spinner label="Loading boards" /> Loading…
      </p>
    );
  }

  const filtered = hasFilters(filters);
  const setF = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));

  return (
    <div className="kb-page">
      <div className="kb-toolbar">
        <div className="bp-field">
          <label htmlFor={`${uid}-project`}>Project</label>
          <select id={`${uid}-project`} data-testid="board-project" value={project} onChange={(e) => setProject(e.target.value)}>
            {projects.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </div>
        <div className="kb-tabs" role="tablist" aria-label="View">
          <button type="button" role="tab" aria-selected={view === "board"} data-testid="board-tab-board" onClick={() => setView("board")}>
            Board
          </button>
          <button type="button" role="tab" aria-selected={view === "sprint"} data-testid="board-tab-sprint" onClick={() => setView("sprint")}>
            Sprint
          </button>
        </div>
        {data && (
          <>
            <label className="kb-switch" title="Plans, applies, pipeline runs and deploys create and move cards">
              <input type="checkbox" data-testid="board-automation" checked={data.board.automation} onChange={(e) => void toggleAutomation(e.target.checked)} />
              Automation moves cards
            </label>
            <span className="kb-toolbar-gap" />
            <button type="button" data-testid="board-export-json" onClick={() => void exportAs("json")}>
              Export JSON
            </button>
            <button type="button" data-testid="board-export-csv" onClick={() => void exportAs("csv")}>
              Export CSV
            </button>
            <label className="kb-file-button">
              {importing ? <Spinner label="Importing" /> : null} Import…
              <input type="file" accept=".json,.csv,application/json,text/csv" data-testid="board-import-file" onChange={(e) => void importFile(e)} disabled={importing} />
            </label>
          </>
        )}
      </div>
      {defaultOnly && (
        <p className="muted" data-testid="board-default-note">
          This is the board of the blueprint&apos;s project, {project}: plans and applies move its cards. Every project has its own board:{" "}
          <a href="#/project">add a project on the Project page</a>.
        </p>
      )}
      {loadError && <ErrorCallout error={loadError} testId="board-error" />}
      {automationError && <ErrorCallout error={automationError} testId="board-automation-error" />}
      {exchangeError && <ErrorCallout error={exchangeError} testId="board-import-error" />}
      {importReport && (
        <p className="kb-report" role="status" data-testid="board-import-report">
          Imported ({importReport.format ?? "file"}): {importReport.cardsCreated} cards added, {importReport.cardsUpdated} updated, {importReport.epicsCreated} epics added,{" "}
          {importReport.epicsUpdated} updated, {importReport.sprintsCreated} sprints added.
          {importReport.ignoredColumns.length > 0 && ` Columns not read: ${importReport.ignoredColumns.join(", ")}.`}
          <button type="button" className="link" onClick={() => setImportReport(null)}>
            Dismiss
          </button>
        </p>
      )}

      {!data && !loadError && (
        <p className="muted">
          <Spinner label="Loading the board" /> Loading the board…
        </p>
      )}

      {data && view === "board" && (
        <>
          <div className="kb-filters" role="search" aria-label="Filter the cards">
            <input
              type="search"
              aria-label="Search cards"
              placeholder="Search cards"
              data-testid="board-filter-text"
              value={filters.text}
              onChange={(e) => setF({ text: e.target.value })}
            />
            <select aria-label="Epic" data-testid="board-filter-epic" value={filters.epic} onChange={(e) => setF({ epic: e.target.value })}>
              <option value="">All epics</option>
              <option value={NONE}>No epic</option>
              {data.epics.map((e) => (
                <option key={e.key} value={e.key}>
                  {e.title}
                </option>
              ))}
            </select>
            <select aria-label="Assignee" data-testid="board-filter-assignee" value={filters.assignee} onChange={(e) => setF({ assignee: e.target.value })}>
              <option value="">Anyone</option>
              <option value={NONE}>Nobody</option>
              {assignees.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
            <select aria-label="Label" data-testid="board-filter-label" value={filters.label} onChange={(e) => setF({ label: e.target.value })}>
              <option value="">Any label</option>
              {labels.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
            <select aria-label="Sprint" data-testid="board-filter-sprint" value={filters.sprint} onChange={(e) => setF({ sprint: e.target.value })}>
              <option value="">Any sprint</option>
              {active && <option value={ACTIVE}>Active sprint ({active.name})</option>}
              <option value={BACKLOG}>Backlog</option>
              {data.sprints.map((s) => (
                <option key={s.number} value={String(s.number)}>
                  {s.name} ({s.state})
                </option>
              ))}
            </select>
            {filtered && (
              <button type="button" className="link" data-testid="board-filter-clear" onClick={() => setFilters(NO_FILTERS)}>
                Clear filters
              </button>
            )}
            <span className="muted" data-testid="board-filter-count" aria-live="polite">
              {filtered ? `${shown.length} of ${cards.length} cards` : `${cards.length} cards`}
            </span>
            <span className="kb-toolbar-gap" />
            <label className="kb-switch" title="A lane per epic. Dragging a card into another lane moves it to that column; its epic stays (edit the card to change it).">
              <input type="checkbox" data-testid="board-swimlanes" checked={swimlanes} onChange={(e) => setSwimlanes(e.target.checked)} />
              Swimlanes by epic
            </label>
            <button type="button" className="primary" data-testid="board-new-card" onClick={() => setDrawer({ kind: "new", column: columns[0]?.id ?? null })}>
              New card
            </button>
            <button type="button" data-testid="board-manage-epics" aria-expanded={panel === "epics"} onClick={() => setPanel((p) => (p === "epics" ? null : "epics"))}>
              Epics
            </button>
            <button type="button" data-testid="board-manage-sprints" aria-expanded={panel === "sprints"} onClick={() => setPanel((p) => (p === "sprints" ? null : "sprints"))}>
              Sprints
            </button>
            <button type="button" data-testid="board-manage-columns" aria-expanded={panel === "columns"} onClick={() => setPanel((p) => (p === "columns" ? null : "columns"))}>
              Columns
            </button>
          </div>
          {panel === "epics" && <EpicsPanel data={data} cards={cards} change={board.change} />}
          {panel === "sprints" && (
            <SprintsPanel
              data={data}
              cards={cards}
              change={board.change}
              onShowBurndown={(n) => {
                setSprintShown(n);
                setView("sprint");
              }}
            />
          )}
          {panel === "columns" && <ColumnsPanel key={data.board.updatedAt} data={data} change={board.change} onDone={() => setPanel(null)} />}
          {moveError && <ErrorCallout error={moveError} testId="board-move-error" />}
          <KanbanBoard
            columns={columns}
            lanes={lanes}
            swimlanes={swimlanes}
            counts={counts}
            allCards={cards}
            extras={extras}
            moving={moving}
            onOpen={onOpen}
            onDrop={onDrop}
          />
        </>
      )}

      {data && view === "sprint" && (
        <SprintView project={project} sprints={data.sprints} sprint={sprintForView} onSprint={setSprintShown} version={data.board.updatedAt} />
      )}

      {data && drawer && (drawer.kind === "new" || drawerCard) && (
        <CardDrawer
          key={drawer.kind === "card" ? drawer.key : "new"}
          project={project}
          data={data}
          history={history}
          card={drawer.kind === "card" ? drawerCard : null}
          newColumn={drawer.kind === "new" ? drawer.column : null}
          onClose={closeDrawer}
          change={board.change}
          onCreated={(key) => setDrawer(key ? { kind: "card", key } : null)}
        />
      )}
    </div>
  );
}
