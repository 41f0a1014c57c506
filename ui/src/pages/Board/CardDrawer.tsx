// The card drawer: a side panel that shows a card (its Markdown description, links to runs,
// resources and revisions, and every move it made), edits it, or adds a new one.

import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { BoardData } from "../../bindings/BoardData";
import type { BoardHistory } from "../../bindings/BoardHistory";
import type { Card } from "../../bindings/Card";
import type { CardInput } from "../../bindings/CardInput";
import type { CardKind } from "../../bindings/CardKind";
import type { CardLink } from "../../bindings/CardLink";
import type { LinkKind } from "../../bindings/LinkKind";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { Markdown } from "./markdown";
import { describeMove, describeScope, emptyInput, epicColor, inputOf, linkHref, linkLabel, parseLabels, parsePoints, sortedColumns } from "./model";

type Props = {
  project: string;
  data: BoardData;
  history: BoardHistory | null;
  /** The card shown, or null for a new card. */
  card: Card | null;
  /** For a new card: the column it starts in. */
  newColumn?: string | null;
  onClose: () => void;
  change: <T>(f: (project: string) => Promise<T>) => Promise<T>;
  /** After a new card was added: its key. */
  onCreated?: (key: string) => void;
};

const when = (ms: number) => new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

export function CardDrawer({ project, data, history, card, newColumn = null, onClose, change, onCreated }: Props) {
  const [editing, setEditing] = useState(card === null);
  const heading = useRef<HTMLHeadingElement>(null);
  const headingId = useId();

  useEffect(() => {
    heading.current?.focus();
  }, [card?.key]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape" && !e.defaultPrevented) onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const title = card === null ? "New card" : `${card.key}`;
  return (
    <aside className="kb-drawer" role="dialog" aria-modal="false" aria-labelledby={headingId} data-testid="card-drawer" data-card={card?.key ?? ""}>
      <header className="kb-drawer-head">
        <h2 id={headingId} ref={heading} tabIndex={-1}>
          {title}
          {card && <span className="kb-drawer-title">{card.title}</span>}
        </h2>
        <button type="button" className="kb-drawer-close" data-testid="card-drawer-close" aria-label="Close the card" onClick={onClose}>
          ✕
        </button>
      </header>
      {editing ? (
        <CardForm
          project={project}
          data={data}
          card={card}
          initial={card ? inputOf(card) : emptyInput(newColumn)}
          change={change}
          onCancel={() => (card ? setEditing(false) : onClose())}
          onSaved={(key) => {
            if (card === null) onCreated?.(key);
            else setEditing(false);
          }}
        />
      ) : card ? (
        <CardDetails project={project} data={data} history={history} card={card} onEdit={() => setEditing(true)} onClose={onClose} change={change} />
      ) : null}
    </aside>
  );
}

function CardDetails({
  project,
  data,
  history,
  card,
  onEdit,
  onClose,
  change,
}: {
  project: string;
  data: BoardData;
  history: BoardHistory | null;
  card: Card;
  onEdit: () => void;
  onClose: () => void;
  change: Props["change"];
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const epic = data.epics.find((e) => e.key === card.epic) ?? null;
  const sprint = data.sprints.find((s) => s.number === card.sprint) ?? null;
  const column = data.board.columns.find((c) => c.id === card.column);
  const columnName = (id: string) => data.board.columns.find((c) => c.id === id)?.name ?? id;
  const sprintName = (n: number) => data.sprints.find((s) => s.number === n)?.name ?? `sprint ${n}`;

  const events = useMemo(() => {
    if (!history) return [];
    const moves = history.moves.filter((m) => m.card === card.key).map((m) => ({ at: m.at, by: m.by, text: describeMove(m, columnName), note: m.note, kind: "move" as const }));
    const scope = history.scope.filter((s) => s.card === card.key).map((s) => ({ at: s.at, by: s.by, text: describeScope(s, sprintName), note: null, kind: "scope" as const }));
    return [...moves, ...scope].sort((a, b) => a.at - b.at);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [history, card.key, data]);

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await change((p) => api.deleteCard(p, card.key));
      onClose();
    } catch (e) {
      setError(e as UserError);
      setBusy(false);
    }
  }

  return (
    <div className="kb-drawer-body">
      <dl className="kb-facts">
        <dt>Column</dt>
        <dd data-testid="card-column">{column?.name ?? card.column}</dd>
        <dt>Kind</dt>
        <dd>{card.kind}</dd>
        <dt>Epic</dt>
        <dd data-testid="card-drawer-epic">
          {epic ? (
            <span className="kb-card-epic" style={{ borderColor: epicColor(epic) }}>
              {epic.key} {epic.title}
            </span>
          ) : (
            <span className="muted">none</span>
          )}
        </dd>
        <dt>Sprint</dt>
        <dd data-testid="card-sprint">{sprint ? `${sprint.name} (${sprint.state})` : <span className="muted">backlog</span>}</dd>
        <dt>Points</dt>
        <dd data-testid="card-drawer-points">{card.points ?? <span className="muted">no estimate</span>}</dd>
        <dt>Assignee</dt>
        <dd data-testid="card-drawer-assignee">{card.assignee ?? <span className="muted">nobody</span>}</dd>
        <dt>Labels</dt>
        <dd data-testid="card-drawer-labels">{card.labels.length ? card.labels.join(", ") : <span className="muted">none</span>}</dd>
        <dt>Made by</dt>
        <dd data-testid="card-created-by">
          {card.createdBy === "automation" ? "automation" : "a person"}, {when(card.createdAt)}
        </dd>
      </dl>

      <section aria-label="Description" className="kb-desc">
        {card.description.trim() ? <Markdown text={card.description} testId="card-description" /> : <p className="muted">No description.</p>}
      </section>

      {card.links.length > 0 && (
        <section aria-label="Links">
          <h3>Links</h3>
          <ul className="kb-link-list" data-testid="card-links">
            {card.links.map((l, i) => {
              const h = linkHref(l, project);
              return (
                <li key={i} data-testid="card-link" data-kind={l.kind}>
                  <span className="kb-link-kind">{l.kind}</span>{" "}
                  {h ? (
                    <a href={h.href} {...(h.external ? { target: "_blank", rel: "noopener noreferrer" } : {})}>
                      {linkLabel(l)}
                    </a>
                  ) : (
                    <span>{linkLabel(l)}</span>
                  )}
                </li>
              );
            })}
          </ul>
        </section>
      )}

      <section aria-label="History">
        <h3>History</h3>
        {history === null ? (
          <p className="muted">
            <Spinner label="Loading the history" /> Loading…
          </p>
        ) : (
          <ol className="kb-history" data-testid="card-history">
            {events.map((e, i) => (
              <li key={i} data-testid="card-history-row" data-by={e.by} data-kind={e.kind}>
                <span className="kb-history-when">{when(e.at)}</span> <span className="kb-history-text">{e.text}</span>
                {e.by === "automation" && <span className="kb-auto kb-auto-inline">automation</span>}
                {e.note && <span className="kb-history-note"> — {e.note}</span>}
              </li>
            ))}
          </ol>
        )}
      </section>

      {error && <ErrorCallout error={error} testId="card-delete-error" />}
      <div className="kb-drawer-actions">
        <button type="button" className="primary" data-testid="card-edit" onClick={onEdit}>
          Edit
        </button>
        {!confirming ? (
          <button type="button" className="danger" data-testid="card-delete" onClick={() => setConfirming(true)}>
            Delete…
          </button>
        ) : (
          <span className="kb-confirm" role="group" aria-label="Delete the card?">
            Delete {card.key}? Its history stays.
            <button type="button" className="danger" data-testid="card-delete-confirm" disabled={busy} onClick={remove}>
              Delete
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </span>
        )}
      </div>
    </div>
  );
}

const KINDS: CardKind[] = ["story", "task", "bug"];
const LINK_KINDS: LinkKind[] = ["run", "resource", "revision", "url"];

function CardForm({
  project,
  data,
  card,
  initial,
  change,
  onCancel,
  onSaved,
}: {
  project: string;
  data: BoardData;
  card: Card | null;
  initial: CardInput;
  change: Props["change"];
  onCancel: () => void;
  onSaved: (key: string) => void;
}) {
  const uid = useId();
  const [title, setTitle] = useState(initial.title);
  const [description, setDescription] = useState(initial.description);
  const [preview, setPreview] = useState(false);
  const [kind, setKind] = useState<CardKind>(initial.kind);
  const [column, setColumn] = useState(card?.column ?? initial.column ?? sortedColumns(data.board.columns)[0]?.id ?? "");
  const [epic, setEpic] = useState(initial.epic ?? "");
  const [sprint, setSprint] = useState(initial.sprint === null ? "" : String(initial.sprint));
  const [points, setPoints] = useState(initial.points === null ? "" : String(initial.points));
  const [assignee, setAssignee] = useState(initial.assignee ?? "");
  const [labels, setLabels] = useState(initial.labels.join(" "));
  const [links, setLinks] = useState<CardLink[]>(initial.links);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  void project;

  const sprints = data.sprints.filter((s) => s.state !== "closed" || s.number === initial.sprint);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const p = parsePoints(points);
    if (!p.ok) {
      setError({ what: card ? "Card not saved" : "Card not added", why: `"${points.trim()}" is not a whole number of story points`, fix: "Write a whole number (0, 1, 2, 3, 5, 8...), or leave it empty" });
      return;
    }
    const input: CardInput = {
      title,
      description,
      kind,
      epic: epic === "" ? null : epic,
      sprint: sprint === "" ? null : Number(sprint),
      points: p.points,
      assignee: assignee.trim() === "" ? null : assignee.trim(),
      labels: parseLabels(labels),
      links: links.map((l) => ({ ...l, target: l.target.trim(), label: l.label?.trim() ? l.label.trim() : null })),
      column: card === null || column !== card.column ? column : null,
    };
    setBusy(true);
    setError(null);
    try {
      const saved = await change((pr) => (card ? api.updateCard(pr, card.key, input) : api.createCard(pr, input)));
      setBusy(false);
      // The command answers with the card (a key alone is taken too).
      const answered = saved as unknown;
      onSaved(typeof answered === "string" ? answered : ((answered as Card | null)?.key ?? card?.key ?? ""));
    } catch (err) {
      setError(err as UserError);
      setBusy(false);
    }
  }

  const setLink = (i: number, patch: Partial<CardLink>) => setLinks((ls) => ls.map((l, j) => (j === i ? { ...l, ...patch } : l)));

  return (
    <form className="kb-form kb-drawer-body" data-testid="card-form" onSubmit={submit} aria-label={card ? `Edit ${card.key}` : "New card"}>
      <div className="bp-field">
        <label htmlFor={`${uid}-title`}>Title</label>
        <input id={`${uid}-title`} data-testid="card-form-title" value={title} onChange={(e) => setTitle(e.target.value)} required autoFocus={card === null} />
      </div>
      <div className="kb-form-row">
        <div className="bp-field">
          <label htmlFor={`${uid}-kind`}>Kind</label>
          <select id={`${uid}-kind`} data-testid="card-form-kind" value={kind} onChange={(e) => setKind(e.target.value as CardKind)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
        <div className="bp-field">
          <label htmlFor={`${uid}-column`}>Column</label>
          <select id={`${uid}-column`} data-testid="card-form-column" value={column} onChange={(e) => setColumn(e.target.value)}>
            {sortedColumns(data.board.columns).map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        <div className="bp-field">
          <label htmlFor={`${uid}-points`}>Story points</label>
          <input id={`${uid}-points`} data-testid="card-form-points" inputMode="numeric" value={points} onChange={(e) => setPoints(e.target.value)} size={5} />
        </div>
      </div>
      <div className="kb-form-row">
        <div className="bp-field">
          <label htmlFor={`${uid}-epic`}>Epic</label>
          <select id={`${uid}-epic`} data-testid="card-form-epic" value={epic} onChange={(e) => setEpic(e.target.value)}>
            <option value="">none</option>
            {data.epics.map((ep) => (
              <option key={ep.key} value={ep.key}>
                {ep.key} {ep.title}
              </option>
            ))}
          </select>
        </div>
        <div className="bp-field">
          <label htmlFor={`${uid}-sprint`}>Sprint</label>
          <select id={`${uid}-sprint`} data-testid="card-form-sprint" value={sprint} onChange={(e) => setSprint(e.target.value)}>
            <option value="">backlog</option>
            {sprints.map((s) => (
              <option key={s.number} value={String(s.number)}>
                {s.name} ({s.state})
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="kb-form-row">
        <div className="bp-field">
          <label htmlFor={`${uid}-assignee`}>Assignee</label>
          <input id={`${uid}-assignee`} data-testid="card-form-assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)} />
        </div>
        <div className="bp-field kb-grow">
          <label htmlFor={`${uid}-labels`}>Labels (separated by spaces)</label>
          <input id={`${uid}-labels`} data-testid="card-form-labels" value={labels} onChange={(e) => setLabels(e.target.value)} />
        </div>
      </div>
      <div className="bp-field">
        <label htmlFor={`${uid}-description`}>
          Description (Markdown){" "}
          <button type="button" className="link" data-testid="card-form-preview" aria-pressed={preview} onClick={() => setPreview((v) => !v)}>
            {preview ? "Edit" : "Preview"}
          </button>
        </label>
        {preview ? (
          <div className="kb-preview">
            <Markdown text={description} testId="card-form-preview-text" />
          </div>
        ) : (
          <textarea id={`${uid}-description`} data-testid="card-form-description" rows={6} value={description} onChange={(e) => setDescription(e.target.value)} />
        )}
      </div>
      <fieldset className="kb-links-edit">
        <legend>Links</legend>
        {links.map((l, i) => (
          <div key={i} className="kb-form-row" data-testid="card-form-link">
            <select aria-label="Link kind" data-testid="card-link-kind" value={l.kind} onChange={(e) => setLink(i, { kind: e.target.value as LinkKind })}>
              {LINK_KINDS.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
            <input
              aria-label="Link target"
              data-testid="card-link-target"
              placeholder={l.kind === "run" ? "shop-12" : l.kind === "resource" ? "slipway/vpc" : l.kind === "revision" ? "shop/staging/4" : "https://…"}
              value={l.target}
              onChange={(e) => setLink(i, { target: e.target.value })}
            />
            <input aria-label="Link label" data-testid="card-link-label" placeholder="label (optional)" value={l.label ?? ""} onChange={(e) => setLink(i, { label: e.target.value })} />
            <button type="button" data-testid="card-link-remove" aria-label="Remove the link" onClick={() => setLinks((ls) => ls.filter((_, j) => j !== i))}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" data-testid="card-link-add" onClick={() => setLinks((ls) => [...ls, { kind: "url", target: "", label: null }])}>
          Add a link
        </button>
      </fieldset>
      {error && <ErrorCallout error={error} testId="card-form-error" />}
      <div className="kb-drawer-actions">
        <button type="submit" className="primary" data-testid="card-form-save" disabled={busy}>
          {busy ? <Spinner label="Saving" /> : null} {card ? "Save" : "Add card"}
        </button>
        <button type="button" data-testid="card-form-cancel" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
