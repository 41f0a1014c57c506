// Managing a board: its epics, its sprints (add with dates and a goal, start, close with the
// unfinished cards carried over), and its columns (names, categories, WIP limits, order).

import { useId, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { BoardData } from "../../bindings/BoardData";
import type { Card } from "../../bindings/Card";
import type { Column } from "../../bindings/Column";
import type { ColumnCategory } from "../../bindings/ColumnCategory";
import type { Epic } from "../../bindings/Epic";
import type { Sprint } from "../../bindings/Sprint";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { addDays, epicColor, sortedColumns, todayIso } from "./model";

type Change = <T>(f: (project: string) => Promise<T>) => Promise<T>;

function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const run = async (f: () => Promise<unknown>, after?: () => void) => {
    setBusy(true);
    setError(null);
    try {
      await f();
      after?.();
    } catch (e) {
      setError(e as UserError);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}

const tally = (cards: Card[], pick: (c: Card) => boolean) => {
  const mine = cards.filter(pick);
  return `${mine.length} card${mine.length === 1 ? "" : "s"}, ${mine.reduce((a, c) => a + (c.points ?? 0), 0)} pts`;
};

// ---- epics ---------------------------------------------------------------------------------

export function EpicsPanel({ data, cards, change }: { data: BoardData; cards: Card[]; change: Change }) {
  const [editing, setEditing] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const { busy, error, run } = useAction();
  return (
    <section className="panel kb-panel" data-testid="epics-panel" aria-label="Epics">
      <h2>Epics</h2>
      {data.epics.length === 0 && <p className="muted">No epic yet.</p>}
      <ul className="kb-manage-list">
        {data.epics.map((e) =>
          editing === e.key ? (
            <li key={e.key}>
              <EpicForm epic={e} change={change} onDone={() => setEditing(null)} />
            </li>
          ) : (
            <li key={e.key} className="kb-manage-row" data-testid="epic-row" data-epic={e.key} data-done={e.done ? "true" : "false"}>
              <span className="kb-epic-swatch" style={{ background: epicColor(e) }} aria-hidden="true" />
              <span className="kb-manage-key">{e.key}</span>
              <span className="kb-manage-title">{e.title}</span>
              {e.done && <span className="badge badge-connected">done</span>}
              {e.createdBy === "automation" && <span className="kb-auto kb-auto-inline">automation</span>}
              <span className="muted">{tally(cards, (c) => c.epic === e.key)}</span>
              <span className="kb-manage-actions">
                <button type="button" data-testid="epic-edit" onClick={() => setEditing(e.key)}>
                  Edit
                </button>
                {confirm === e.key ? (
                  <>
                    <button type="button" className="danger" data-testid="epic-delete-confirm" disabled={busy} onClick={() => run(() => change((p) => api.deleteEpic(p, e.key)), () => setConfirm(null))}>
                      Delete (cards stay)
                    </button>
                    <button type="button" onClick={() => setConfirm(null)}>
                      Keep
                    </button>
                  </>
                ) : (
                  <button type="button" className="danger" data-testid="epic-delete" onClick={() => setConfirm(e.key)}>
                    Delete…
                  </button>
                )}
              </span>
            </li>
          ),
        )}
      </ul>
      {error && <ErrorCallout error={error} testId="epic-action-error" />}
      {editing === "" ? (
        <EpicForm epic={null} change={change} onDone={() => setEditing(null)} />
      ) : (
        <button type="button" data-testid="epic-add" onClick={() => setEditing("")}>
          Add an epic
        </button>
      )}
    </section>
  );
}

function EpicForm({ epic, change, onDone }: { epic: Epic | null; change: Change; onDone: () => void }) {
  const uid = useId();
  const [title, setTitle] = useState(epic?.title ?? "");
  const [color, setColor] = useState(epic?.color ?? "");
  const [description, setDescription] = useState(epic?.description ?? "");
  const [done, setDone] = useState(epic?.done ?? false);
  const { busy, error, run } = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const input = { title, description, color: color.trim() === "" ? null : color.trim(), done };
    void run(() => change((p) => (epic ? api.updateEpic(p, epic.key, input) : api.createEpic(p, input))), onDone);
  };
  return (
    <form className="kb-form kb-inline-form" data-testid="epic-form" onSubmit={submit} aria-label={epic ? `Edit epic ${epic.key}` : "New epic"}>
      <div className="kb-form-row">
        <div className="bp-field kb-grow">
          <label htmlFor={`${uid}-t`}>Title</label>
          <input id={`${uid}-t`} data-testid="epic-form-title" value={title} onChange={(e) => setTitle(e.target.value)} autoFocus />
        </div>
        <div className="bp-field">
          <label htmlFor={`${uid}-c`}>Colour</label>
          <input id={`${uid}-c`} data-testid="epic-form-color" value={color} placeholder="#2563eb" onChange={(e) => setColor(e.target.value)} size={9} />
        </div>
        <label className="kb-check">
          <input type="checkbox" data-testid="epic-form-done" checked={done} onChange={(e) => setDone(e.target.checked)} /> Done
        </label>
      </div>
      <div className="bp-field">
        <label htmlFor={`${uid}-d`}>Description (Markdown)</label>
        <textarea id={`${uid}-d`} data-testid="epic-form-description" rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      {error && <ErrorCallout error={error} testId="epic-form-error" />}
      <div className="kb-drawer-actions">
        <button type="submit" className="primary" data-testid="epic-form-save" disabled={busy}>
          {epic ? "Save epic" : "Add epic"}
        </button>
        <button type="button" data-testid="epic-form-cancel" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// ---- sprints -------------------------------------------------------------------------------

const STATE_LABEL: Record<Sprint["state"], string> = { planned: "planned", active: "active", closed: "closed" };

export function SprintsPanel({ data, cards, change, onShowBurndown }: { data: BoardData; cards: Card[]; change: Change; onShowBurndown: (n: number) => void }) {
  const [form, setForm] = useState<{ kind: "new" } | { kind: "edit" | "start" | "close"; sprint: number } | null>(null);
  const [confirm, setConfirm] = useState<number | null>(null);
  const { busy, error, run } = useAction();
  const active = data.sprints.find((s) => s.state === "active") ?? null;
  return (
    <section className="panel kb-panel" data-testid="sprints-panel" aria-label="Sprints">
      <h2>Sprints</h2>
      {data.sprints.length === 0 && <p className="muted">No sprint yet.</p>}
      <ul className="kb-manage-list">
        {data.sprints.map((s) => {
          const open = form && form.kind !== "new" && form.sprint === s.number ? form.kind : null;
          return (
            <li key={s.number} className="kb-sprint" data-testid="sprint-row" data-sprint={s.number} data-state={s.state}>
              <div className="kb-manage-row">
                <span className={`kb-sprint-state state-${s.state}`}>{STATE_LABEL[s.state]}</span>
                <span className="kb-manage-title">{s.name}</span>
                <span className="muted" data-testid="sprint-dates">
                  {s.start ?? "no start"} – {s.end ?? "no end"}
                </span>
                <span className="muted">{tally(cards, (c) => c.sprint === s.number)}</span>
                <span className="kb-manage-actions">
                  {s.state === "planned" && (
                    <>
                      <button type="button" className="primary" data-testid="sprint-start" disabled={active !== null} title={active ? `Close ${active.name} first` : undefined} onClick={() => setForm({ kind: "start", sprint: s.number })}>
                        Start…
                      </button>
                      <button type="button" data-testid="sprint-edit" onClick={() => setForm({ kind: "edit", sprint: s.number })}>
                        Edit
                      </button>
                    </>
                  )}
                  {s.state === "active" && (
                    <button type="button" className="primary" data-testid="sprint-close" onClick={() => setForm({ kind: "close", sprint: s.number })}>
                      Close…
                    </button>
                  )}
                  {s.start && s.end && (
                    <button type="button" className="link" data-testid="sprint-burndown" onClick={() => onShowBurndown(s.number)}>
                      Burndown
                    </button>
                  )}
                  {s.state !== "active" &&
                    (confirm === s.number ? (
                      <>
                        <button type="button" className="danger" data-testid="sprint-delete-confirm" disabled={busy} onClick={() => run(() => change((p) => api.deleteSprint(p, s.number)), () => setConfirm(null))}>
                          Delete (cards go to the backlog)
                        </button>
                        <button type="button" onClick={() => setConfirm(null)}>
                          Keep
                        </button>
                      </>
                    ) : (
                      <button type="button" className="danger" data-testid="sprint-delete" onClick={() => setConfirm(s.number)}>
                        Delete…
                      </button>
                    ))}
                </span>
              </div>
              {s.goal && (
                <p className="kb-sprint-goal" data-testid="sprint-goal">
                  Goal: {s.goal}
                </p>
              )}
              {open === "edit" && <SprintForm sprint={s} change={change} onDone={() => setForm(null)} />}
              {open === "start" && <StartForm sprint={s} change={change} onDone={() => setForm(null)} />}
              {open === "close" && <CloseForm sprint={s} planned={data.sprints.filter((x) => x.state === "planned")} cards={cards} data={data} change={change} onDone={() => setForm(null)} />}
            </li>
          );
        })}
      </ul>
      {error && <ErrorCallout error={error} testId="sprint-action-error" />}
      {form?.kind === "new" ? (
        <SprintForm sprint={null} change={change} onDone={() => setForm(null)} />
      ) : (
        <button type="button" data-testid="sprint-add" onClick={() => setForm({ kind: "new" })}>
          Add a sprint
        </button>
      )}
    </section>
  );
}

function SprintForm({ sprint, change, onDone }: { sprint: Sprint | null; change: Change; onDone: () => void }) {
  const uid = useId();
  const [name, setName] = useState(sprint?.name ?? "");
  const [goal, setGoal] = useState(sprint?.goal ?? "");
  const [start, setStart] = useState(sprint?.start ?? "");
  const [end, setEnd] = useState(sprint?.end ?? "");
  const { busy, error, run } = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const input = { name: name.trim() === "" ? null : name.trim(), goal, start: start.trim() === "" ? null : start.trim(), end: end.trim() === "" ? null : end.trim() };
    void run(() => change((p) => (sprint ? api.updateSprint(p, sprint.number, input) : api.createSprint(p, input))), onDone);
  };
  return (
    <form className="kb-form kb-inline-form" data-testid="sprint-form" onSubmit={submit} aria-label={sprint ? `Edit ${sprint.name}` : "New sprint"}>
      <div className="kb-form-row">
        <div className="bp-field">
          <label htmlFor={`${uid}-n`}>Name</label>
          <input id={`${uid}-n`} data-testid="sprint-form-name" value={name} placeholder="Sprint N" onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="bp-field">
          <label htmlFor={`${uid}-s`}>Start (YYYY-MM-DD)</label>
          <input id={`${uid}-s`} data-testid="sprint-form-start" value={start} placeholder="2026-03-02" onChange={(e) => setStart(e.target.value)} size={11} />
        </div>
        <div className="bp-field">
          <label htmlFor={`${uid}-e`}>End (YYYY-MM-DD)</label>
          <input id={`${uid}-e`} data-testid="sprint-form-end" value={end} placeholder="2026-03-13" onChange={(e) => setEnd(e.target.value)} size={11} />
        </div>
      </div>
      <div className="bp-field">
        <label htmlFor={`${uid}-g`}>Goal</label>
        <input id={`${uid}-g`} data-testid="sprint-form-goal" value={goal} onChange={(e) => setGoal(e.target.value)} />
      </div>
      {error && <ErrorCallout error={error} testId="sprint-form-error" />}
      <div className="kb-drawer-actions">
        <button type="submit" className="primary" data-testid="sprint-form-save" disabled={busy}>
          {sprint ? "Save sprint" : "Add sprint"}
        </button>
        <button type="button" data-testid="sprint-form-cancel" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function StartForm({ sprint, change, onDone }: { sprint: Sprint; change: Change; onDone: () => void }) {
  const uid = useId();
  const today = todayIso();
  const [start, setStart] = useState(sprint.start ?? today);
  const [end, setEnd] = useState(sprint.end ?? addDays(sprint.start ?? today, 13));
  const { busy, error, run } = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(() => change((p) => api.startSprint(p, sprint.number, start.trim() || null, end.trim() || null)), onDone);
  };
  return (
    <form className="kb-form kb-inline-form" data-testid="sprint-start-form" onSubmit={submit} aria-label={`Start ${sprint.name}`}>
      <p className="muted">What the sprint holds when it starts is its commitment (the top of the burndown's ideal line).</p>
      <div className="kb-form-row">
        <div className="bp-field">
          <label htmlFor={`${uid}-s`}>Start</label>
          <input id={`${uid}-s`} data-testid="sprint-start-date" value={start} onChange={(e) => setStart(e.target.value)} size={11} />
        </div>
        <div className="bp-field">
          <label htmlFor={`${uid}-e`}>End</label>
          <input id={`${uid}-e`} data-testid="sprint-end-date" value={end} onChange={(e) => setEnd(e.target.value)} size={11} />
        </div>
      </div>
      {error && <ErrorCallout error={error} testId="sprint-start-error" />}
      <div className="kb-drawer-actions">
        <button type="submit" className="primary" data-testid="sprint-start-confirm" disabled={busy}>
          Start {sprint.name}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function CloseForm({ sprint, planned, cards, data, change, onDone }: { sprint: Sprint; planned: Sprint[]; cards: Card[]; data: BoardData; change: Change; onDone: () => void }) {
  const uid = useId();
  const [to, setTo] = useState(planned[0] ? String(planned[0].number) : "");
  const { busy, error, run } = useAction();
  const doneCols = new Set(data.board.columns.filter((c) => c.category === "done").map((c) => c.id));
  const open = cards.filter((c) => c.sprint === sprint.number && !doneCols.has(c.column));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(() => change((p) => api.closeSprint(p, sprint.number, to === "" ? null : Number(to))), onDone);
  };
  return (
    <form className="kb-form kb-inline-form" data-testid="sprint-close-form" onSubmit={submit} aria-label={`Close ${sprint.name}`}>
      <p>
        {open.length === 0
          ? "Every card of the sprint is done."
          : `${open.length} unfinished card${open.length === 1 ? "" : "s"} (${open.reduce((a, c) => a + (c.points ?? 0), 0)} pts) leave the sprint.`}
      </p>
      <div className="bp-field">
        <label htmlFor={`${uid}-to`}>Unfinished cards go to</label>
        <select id={`${uid}-to`} data-testid="sprint-close-carry" value={to} onChange={(e) => setTo(e.target.value)}>
          {planned.map((s) => (
            <option key={s.number} value={String(s.number)}>
              {s.name}
            </option>
          ))}
          <option value="">the backlog</option>
        </select>
      </div>
      {error && <ErrorCallout error={error} testId="sprint-close-error" />}
      <div className="kb-drawer-actions">
        <button type="submit" className="primary" data-testid="sprint-close-confirm" disabled={busy}>
          Close {sprint.name}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// ---- columns -------------------------------------------------------------------------------

const CATEGORIES: { value: ColumnCategory; label: string }[] = [
  { value: "todo", label: "to do" },
  { value: "inProgress", label: "in progress" },
  { value: "done", label: "done (counts as finished)" },
];

/** A column id from a name: "In review" -> "in-review". */
export function columnIdFrom(name: string, taken: string[]): string {
  let base = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "")
    .slice(0, 36);
  if (!base) base = "column";
  let id = base;
  for (let i = 2; taken.includes(id); i++) id = `${base}-${i}`;
  return id;
}

export function ColumnsPanel({ data, change, onDone }: { data: BoardData; change: Change; onDone: () => void }) {
  const [cols, setCols] = useState<(Column & { fresh?: boolean })[]>(() => sortedColumns(data.board.columns).map((c) => ({ ...c })));
  const [wipText, setWipText] = useState<string[]>(() => sortedColumns(data.board.columns).map((c) => (c.wipLimit === null ? "" : String(c.wipLimit))));
  const { busy, error, run, setError } = useAction();
  const set = (i: number, patch: Partial<Column>) => setCols((cs) => cs.map((c, j) => (j === i ? { ...c, ...patch } : c)));
  const swap = (i: number, j: number) => {
    if (j < 0 || j >= cols.length) return;
    setCols((cs) => {
      const n = [...cs];
      [n[i], n[j]] = [n[j], n[i]];
      return n;
    });
    setWipText((ws) => {
      const n = [...ws];
      [n[i], n[j]] = [n[j], n[i]];
      return n;
    });
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const out: Column[] = [];
    for (let i = 0; i < cols.length; i++) {
      const w = wipText[i].trim();
      if (w !== "" && !/^\d+$/.test(w)) {
        setError({ what: "Columns not saved", why: `the WIP limit of ${cols[i].name || "a column"} ("${w}") is not a whole number`, fix: "Write a whole number, or leave it empty for no limit" });
        return;
      }
      const c = cols[i];
      const id = c.fresh ? columnIdFrom(c.name, out.map((x) => x.id).concat(cols.filter((x) => !x.fresh).map((x) => x.id))) : c.id;
      out.push({ id, name: c.name, order: i, category: c.category, wipLimit: w === "" ? null : Number(w) });
    }
    void run(() => change((p) => api.setBoardColumns(p, out)), onDone);
  };
  return (
    <form className="panel kb-panel kb-form" data-testid="columns-panel" onSubmit={submit} aria-label="Columns">
      <h2>Columns</h2>
      <p className="muted">Left to right. Cards in a done column count as finished in the burndown; automation moves cards to the first column of the category it wants.</p>
      <ol className="kb-manage-list">
        {cols.map((c, i) => (
          <li key={i} className="kb-form-row" data-testid="column-row">
            <input aria-label="Column name" data-testid="column-name" value={c.name} onChange={(e) => set(i, { name: e.target.value })} />
            <select aria-label="Category" data-testid="column-category" value={c.category} onChange={(e) => set(i, { category: e.target.value as ColumnCategory })}>
              {CATEGORIES.map((k) => (
                <option key={k.value} value={k.value}>
                  {k.label}
                </option>
              ))}
            </select>
            <input aria-label="WIP limit" data-testid="column-wip" placeholder="no limit" size={7} value={wipText[i]} onChange={(e) => setWipText((ws) => ws.map((w, j) => (j === i ? e.target.value : w)))} />
            <button type="button" aria-label={`Move ${c.name} left`} onClick={() => swap(i, i - 1)} disabled={i === 0}>
              ←
            </button>
            <button type="button" aria-label={`Move ${c.name} right`} onClick={() => swap(i, i + 1)} disabled={i === cols.length - 1}>
              →
            </button>
            <button
              type="button"
              className="danger"
              data-testid="column-remove"
              onClick={() => {
                setCols((cs) => cs.filter((_, j) => j !== i));
                setWipText((ws) => ws.filter((_, j) => j !== i));
              }}
            >
              Remove
            </button>
          </li>
        ))}
      </ol>
      <button
        type="button"
        data-testid="column-add"
        onClick={() => {
          setCols((cs) => [...cs, { id: "", name: "", order: cs.length, category: "inProgress", wipLimit: null, fresh: true }]);
          setWipText((ws) => [...ws, ""]);
        }}
      >
        Add a column
      </button>
      {error && <ErrorCallout error={error} testId="columns-error" />}
      <div className="kb-drawer-actions">
        <button type="submit" className="primary" data-testid="columns-save" disabled={busy}>
          Save columns
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
