// Pure helpers of the Board page: filters, swimlanes, the optimistic move (the same ranks the
// Rust side gives), where a drop lands, what automation did last to each card, link targets, and
// the geometry of the burndown and velocity charts. No React here, so it is easy to test.

import type { BoardHistory } from "../../bindings/BoardHistory";
import type { Burndown } from "../../bindings/Burndown";
import type { Card } from "../../bindings/Card";
import type { CardInput } from "../../bindings/CardInput";
import type { CardLink } from "../../bindings/CardLink";
import type { CardMove } from "../../bindings/CardMove";
import type { Column } from "../../bindings/Column";
import type { Epic } from "../../bindings/Epic";
import type { EventEnvelope } from "../../bindings/EventEnvelope";
import type { ScopeChange } from "../../bindings/ScopeChange";
import type { Sprint } from "../../bindings/Sprint";
import type { Velocity } from "../../bindings/Velocity";

// ---- filters -------------------------------------------------------------------------------

/** "" is "any"; NONE is "without one". */
export const NONE = "__none__";
export const BACKLOG = "backlog";
export const ACTIVE = "active";

export type Filters = {
  /** Words that must all appear in the key, title, description, assignee or labels (any case). */
  text: string;
  /** An epic's key, NONE, or "". */
  epic: string;
  /** An assignee, NONE, or "". */
  assignee: string;
  /** A label, or "". */
  label: string;
  /** A sprint's number, BACKLOG (no sprint), ACTIVE (the active sprint), or "". */
  sprint: string;
};

export const NO_FILTERS: Filters = { text: "", epic: "", assignee: "", label: "", sprint: "" };

export function hasFilters(f: Filters): boolean {
  return f.text.trim() !== "" || f.epic !== "" || f.assignee !== "" || f.label !== "" || f.sprint !== "";
}

/** A predicate for the filters (built once per change of filters, then applied to every card). */
export function cardMatcher(f: Filters, activeSprint: number | null): (c: Card) => boolean {
  const words = f.text.toLowerCase().split(/\s+/).filter(Boolean);
  return (c) => {
    if (f.epic === NONE ? c.epic !== null : f.epic !== "" && c.epic !== f.epic) return false;
    if (f.assignee === NONE ? c.assignee !== null : f.assignee !== "" && c.assignee !== f.assignee) return false;
    if (f.label !== "" && !c.labels.includes(f.label)) return false;
    if (f.sprint === BACKLOG) {
      if (c.sprint !== null) return false;
    } else if (f.sprint === ACTIVE) {
      if (activeSprint === null || c.sprint !== activeSprint) return false;
    } else if (f.sprint !== "" && c.sprint !== Number(f.sprint)) return false;
    if (words.length > 0) {
      const hay = `${c.key} ${c.title} ${c.description} ${c.assignee ?? ""} ${c.labels.join(" ")}`.toLowerCase();
      if (!words.every((w) => hay.includes(w))) return false;
    }
    return true;
  };
}

export function filterCards(cards: Card[], f: Filters, activeSprint: number | null): Card[] {
  if (!hasFilters(f)) return cards;
  return cards.filter(cardMatcher(f, activeSprint));
}

/** Every assignee and label on the board, sorted (the filter choices). */
export function choices(cards: Card[]): { assignees: string[]; labels: string[] } {
  const a = new Set<string>();
  const l = new Set<string>();
  for (const c of cards) {
    if (c.assignee) a.add(c.assignee);
    for (const x of c.labels) l.add(x);
  }
  return { assignees: [...a].sort(), labels: [...l].sort() };
}

// ---- columns and swimlanes -----------------------------------------------------------------

export function sortedColumns(columns: Column[]): Column[] {
  return [...columns].sort((a, b) => a.order - b.order);
}

export const NO_EPIC_LANE = "no-epic";
export const ALL_LANE = "all";

export type Lane = {
  /** The epic's key, NO_EPIC_LANE, or ALL_LANE (swimlanes off). */
  id: string;
  epic: Epic | null;
  /** Cards by column id, each list by rank. */
  byColumn: Map<string, Card[]>;
  count: number;
  points: number;
};

/**
 * The cards by lane and column, in one pass (cards arrive by column order and rank, and keep
 * that order). Swimlanes on: a lane per epic that has cards, in the epics' order, then the
 * cards without an epic; off: one lane.
 */
export function groupCards(cards: Card[], columns: Column[], epics: Epic[], swimlanes: boolean): Lane[] {
  const lanes = new Map<string, Lane>();
  const lane = (id: string, epic: Epic | null) => {
    let l = lanes.get(id);
    if (!l) {
      l = { id, epic, byColumn: new Map(columns.map((c) => [c.id, [] as Card[]])), count: 0, points: 0 };
      lanes.set(id, l);
    }
    return l;
  };
  const epicByKey = new Map(epics.map((e) => [e.key, e]));
  if (!swimlanes) lane(ALL_LANE, null);
  for (const c of cards) {
    const e = swimlanes && c.epic !== null ? epicByKey.get(c.epic) : undefined;
    const l = swimlanes ? (e ? lane(e.key, e) : lane(NO_EPIC_LANE, null)) : lane(ALL_LANE, null);
    const list = l.byColumn.get(c.column);
    if (!list) continue; // a column the board no longer has
    list.push(c);
    l.count += 1;
    l.points += c.points ?? 0;
  }
  if (!swimlanes) return [...lanes.values()];
  const order = new Map(epics.map((e, i) => [e.key, i]));
  return [...lanes.values()].sort((a, b) => (order.get(a.id) ?? Infinity) - (order.get(b.id) ?? Infinity));
}

/** Cards per column on the whole board (WIP limits count every card, filtered or not). */
export function columnCounts(cards: Card[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of cards) m.set(c.column, (m.get(c.column) ?? 0) + 1);
  return m;
}

export type Wip = "none" | "under" | "at" | "over";

export function wipState(column: Column, count: number): Wip {
  if (column.wipLimit === null) return "none";
  if (count > column.wipLimit) return "over";
  return count === column.wipLimit ? "at" : "under";
}

// ---- moves ---------------------------------------------------------------------------------

/**
 * The board after moving `key` to `column` at `position` from the top (null: the bottom),
 * ranked like the Rust side's move_card (so the optimistic view matches what comes back).
 * Cards whose place does not change are kept as they are (same objects).
 */
export function applyMove(cards: Card[], columns: Column[], key: string, column: string, position: number | null): Card[] {
  const moving = cards.find((c) => c.key === key);
  if (!moving) return cards;
  const target = cards.filter((c) => c.column === column && c.key !== key).sort((a, b) => a.rank - b.rank);
  const at = position === null ? target.length : Math.max(0, Math.min(position, target.length));
  target.splice(at, 0, moving);
  const next = new Map<string, Card>();
  target.forEach((c, r) => {
    if (c === moving) next.set(c.key, { ...c, column, rank: r });
    else if (c.rank !== r) next.set(c.key, { ...c, rank: r });
  });
  if (moving.column !== column) {
    cards
      .filter((c) => c.column === moving.column && c.key !== key)
      .sort((a, b) => a.rank - b.rank)
      .forEach((c, r) => {
        if (c.rank !== r) next.set(c.key, { ...c, rank: r });
      });
  }
  const order = new Map(columns.map((c) => [c.id, c.order]));
  return cards
    .map((c) => next.get(c.key) ?? c)
    .sort((a, b) => (order.get(a.column) ?? Infinity) - (order.get(b.column) ?? Infinity) || a.rank - b.rank);
}

/** What a drop lands on: a card (with its column), or a column's empty space. */
export type DropOver = { kind: "card"; key: string; column: string } | { kind: "column"; column: string };

/**
 * Where a dropped card goes: its column and its position among that column's other cards (all
 * of them, filtered out or not), or null when nothing changes. Within its own column a card
 * takes the place of the card it is dropped on (like a sortable list); in another column it
 * goes before that card, or after it when `below` (the dragged card's middle is below the
 * other's).
 */
export function dropTarget(cards: Card[], activeKey: string, over: DropOver, below: boolean): { column: string; position: number | null } | null {
  const active = cards.find((c) => c.key === activeKey);
  if (!active) return null;
  const inColumn = cards.filter((c) => c.column === over.column).sort((a, b) => a.rank - b.rank);
  if (over.kind === "column") {
    if (active.column === over.column) return null; // dropped on its own column's empty space
    return { column: over.column, position: null };
  }
  if (over.key === activeKey) return null;
  const others = inColumn.filter((c) => c.key !== activeKey);
  const idx = others.findIndex((c) => c.key === over.key);
  if (idx === -1) return { column: over.column, position: null };
  let position: number;
  if (active.column === over.column) {
    const from = inColumn.findIndex((c) => c.key === activeKey);
    const to = inColumn.findIndex((c) => c.key === over.key);
    position = from < to ? idx + 1 : idx;
    if (position === from) return null;
  } else {
    position = below ? idx + 1 : idx;
  }
  return { column: over.column, position };
}

// ---- history -------------------------------------------------------------------------------

/** Each card's latest column change (creation included). */
export function lastMoves(history: BoardHistory | null): Map<string, CardMove> {
  const m = new Map<string, CardMove>();
  if (!history) return m;
  for (const mv of history.moves) if (mv.to !== null) m.set(mv.card, mv);
  return m;
}

/**
 * Why a card carries the automation marker, or null: automation made it, or moved it last
 * (with the note it left, e.g. "test failed in run shop-4").
 */
export function automationNote(card: Card, last: CardMove | undefined): string | null {
  if (last && last.by === "automation") {
    const verb = last.from === null ? "Created" : "Moved";
    return `${verb} by automation${last.note ? `: ${last.note}` : ""}`;
  }
  if (card.createdBy === "automation") return "Created by automation";
  return null;
}

/** A history line: "To do → In progress", "created in To do", "deleted from Done". */
export function describeMove(m: CardMove, columnName: (id: string) => string): string {
  if (m.from === null) return `created in ${columnName(m.to ?? "")}`;
  if (m.to === null) return `deleted from ${columnName(m.from)}`;
  return `${columnName(m.from)} → ${columnName(m.to)}`;
}

export function describeScope(s: ScopeChange, sprintName: (n: number) => string): string {
  const pts = (p: number | null) => (p === null ? "no estimate" : `${p} pt${p === 1 ? "" : "s"}`);
  switch (s.kind) {
    case "added":
      return `joined ${sprintName(s.sprint)} (${pts(s.pointsAfter)})`;
    case "removed":
      return `left ${sprintName(s.sprint)} (${pts(s.pointsBefore)})`;
    case "points":
      return `re-estimated in ${sprintName(s.sprint)}: ${pts(s.pointsBefore)} → ${pts(s.pointsAfter)}`;
  }
}

/** Whether a batch of events changed this project's board. */
export function boardChangedIn(batch: EventEnvelope[], project: string): boolean {
  return batch.some((env) => env.event.type === "boardChanged" && env.event.project === project);
}

// ---- cards ---------------------------------------------------------------------------------

/** Whether two versions of a card look the same on the board (rank alone does not show). */
export function sameCardView(a: Card, b: Card): boolean {
  if (a === b) return true;
  return (
    a.key === b.key &&
    a.title === b.title &&
    a.kind === b.kind &&
    a.points === b.points &&
    a.assignee === b.assignee &&
    a.epic === b.epic &&
    a.sprint === b.sprint &&
    a.column === b.column &&
    a.createdBy === b.createdBy &&
    a.updatedAt === b.updatedAt &&
    a.labels.length === b.labels.length &&
    a.labels.every((l, i) => l === b.labels[i]) &&
    a.links.length === b.links.length
  );
}

/** A card's editable fields as an input that changes nothing. */
export function inputOf(c: Card): CardInput {
  return {
    title: c.title,
    description: c.description,
    kind: c.kind,
    epic: c.epic,
    sprint: c.sprint,
    points: c.points,
    assignee: c.assignee,
    labels: [...c.labels],
    links: c.links.map((l) => ({ ...l })),
    column: null,
  };
}

export function emptyInput(column: string | null): CardInput {
  return { title: "", description: "", kind: "task", epic: null, sprint: null, points: null, assignee: null, labels: [], links: [], column };
}

/** Labels as typed: separated by spaces or commas, each once. */
export function parseLabels(text: string): string[] {
  const out: string[] = [];
  for (const l of text.split(/[\s,]+/).filter(Boolean)) if (!out.includes(l)) out.push(l);
  return out;
}

/** Story points as typed: "" is no estimate; anything but a whole number of 0 or more is refused (null). */
export function parsePoints(text: string): { ok: true; points: number | null } | { ok: false } {
  const t = text.trim();
  if (t === "") return { ok: true, points: null };
  if (!/^\d+$/.test(t)) return { ok: false };
  return { ok: true, points: Number(t) };
}

/** Where a link goes: a page of the app for runs, resources and revisions; the URL itself for URLs (http(s) only). */
export function linkHref(link: CardLink, project: string): { href: string; external: boolean } | null {
  const q = (o: Record<string, string>) => new URLSearchParams(o).toString();
  switch (link.kind) {
    case "run":
      return { href: `#/pipelines?${q({ project, run: link.target })}`, external: false };
    case "resource": {
      const [bp, ...rest] = link.target.split("/");
      return { href: `#/architecture?${q(rest.length ? { project: bp, resource: rest.join("/") } : { resource: bp })}`, external: false };
    }
    case "revision": {
      const [p, env, n] = link.target.split("/");
      return { href: `#/deployments?${q({ project: p ?? project, env: env ?? "", revision: n ?? "" })}`, external: false };
    }
    case "url":
      return /^https?:\/\//i.test(link.target) ? { href: link.target, external: true } : null;
  }
}

export function linkLabel(link: CardLink): string {
  if (link.label) return link.label;
  return link.kind === "url" ? link.target : `${link.kind} ${link.target}`;
}

const EPIC_PALETTE = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#db2777", "#0891b2", "#65a30d", "#dc2626"];

/** An epic's colour: its own when it is a plain CSS colour, else one from the palette by number. */
export function epicColor(epic: Epic | undefined | null): string {
  if (!epic) return "transparent";
  if (epic.color && /^(#[0-9a-f]{3,8}|[a-z]+|(rgb|hsl)a?\([\d\s.,%]+\))$/i.test(epic.color.trim())) return epic.color.trim();
  return EPIC_PALETTE[epic.number % EPIC_PALETTE.length];
}

export function activeSprintOf(sprints: Sprint[]): Sprint | null {
  return sprints.find((s) => s.state === "active") ?? null;
}

/** The sprint the Sprint view opens on: the active one, else the newest closed, else the first. */
export function defaultSprint(sprints: Sprint[]): Sprint | null {
  const closed = sprints.filter((s) => s.state === "closed").sort((a, b) => b.number - a.number);
  return activeSprintOf(sprints) ?? closed[0] ?? sprints[0] ?? null;
}

// ---- charts --------------------------------------------------------------------------------

export type Box = { width: number; height: number; left: number; right: number; top: number; bottom: number };

export const CHART: Box = { width: 640, height: 260, left: 40, right: 28, top: 14, bottom: 34 };

/** A round top for an axis: 1, 2, 5 or 10 times a power of ten, at or above `max`. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/** About five ticks from 0 to `top`. */
export function ticks(top: number): number[] {
  const step = Math.max(1, niceMax(top / 5));
  const out: number[] = [];
  for (let v = 0; v <= top + 1e-9; v += step) out.push(Math.round(v * 100) / 100);
  return out;
}

export type BurndownPoint = { date: string; x: number; y: number; remaining: number; scopeAdded: number; scopeRemoved: number };
export type IdealPoint = { date: string; x: number; y: number; ideal: number };
export type ScopeMarker = { date: string; x: number; y: number; added: number; removed: number };

export type BurndownChart = {
  box: Box;
  top: number;
  ticks: { value: number; y: number }[];
  /** Days that have a value (to today, or to the close). */
  points: BurndownPoint[];
  ideal: IdealPoint[];
  /** Days where scope joined or left after the start. */
  scope: ScopeMarker[];
  /** SVG path of the remaining points and of the ideal line. */
  remainingPath: string;
  idealPath: string;
  /** Every day's x (for the date labels). */
  days: { date: string; x: number }[];
};

/** The burndown chart's geometry: day i at x, points at y (0 at the bottom). */
export function burndownChart(bd: Burndown, box: Box = CHART): BurndownChart {
  const n = bd.days.length;
  const max = Math.max(bd.committed, ...bd.days.map((d) => Math.max(d.remaining ?? 0, d.ideal)));
  const top = niceMax(max);
  const w = box.width - box.left - box.right;
  const h = box.height - box.top - box.bottom;
  const x = (i: number) => box.left + (n <= 1 ? w / 2 : (w * i) / (n - 1));
  const y = (v: number) => box.top + h - (h * v) / top;
  const r = (v: number) => Math.round(v * 10) / 10;
  const points: BurndownPoint[] = [];
  const ideal: IdealPoint[] = [];
  const scope: ScopeMarker[] = [];
  bd.days.forEach((d, i) => {
    ideal.push({ date: d.date, x: r(x(i)), y: r(y(d.ideal)), ideal: d.ideal });
    if (d.remaining !== null) {
      points.push({ date: d.date, x: r(x(i)), y: r(y(d.remaining)), remaining: d.remaining, scopeAdded: d.scopeAdded, scopeRemoved: d.scopeRemoved });
    }
    if (d.scopeAdded > 0 || d.scopeRemoved > 0) {
      scope.push({ date: d.date, x: r(x(i)), y: r(y(d.remaining ?? d.ideal)), added: d.scopeAdded, removed: d.scopeRemoved });
    }
  });
  const path = (ps: { x: number; y: number }[]) => ps.map((p, i) => `${i === 0 ? "M" : "L"}${p.x} ${p.y}`).join(" ");
  return {
    box,
    top,
    ticks: ticks(top).map((v) => ({ value: v, y: r(y(v)) })),
    points,
    ideal,
    scope,
    remainingPath: path(points),
    idealPath: path(ideal),
    days: bd.days.map((d, i) => ({ date: d.date, x: r(x(i)) })),
  };
}

export type VelocityBar = { sprint: number; name: string; x: number; width: number; committed: { y: number; height: number; value: number }; completed: { y: number; height: number; value: number } };

/** Two bars per closed sprint (committed, completed), oldest left; the average completed. */
export function velocityChart(v: Velocity[], box: Box = { ...CHART, height: 220 }): { box: Box; top: number; bars: VelocityBar[]; ticks: { value: number; y: number }[]; average: number | null; averageY: number | null } {
  const top = niceMax(Math.max(0, ...v.flatMap((x) => [x.committed, x.completed])));
  const w = box.width - box.left - box.right;
  const h = box.height - box.top - box.bottom;
  const slot = v.length ? w / v.length : w;
  const bw = Math.min(28, slot / 3);
  const y = (n: number) => box.top + h - (h * n) / top;
  const r = (n: number) => Math.round(n * 10) / 10;
  const bars = v.map((s, i) => {
    const x0 = box.left + slot * i + slot / 2 - bw;
    return {
      sprint: s.sprint,
      name: s.name,
      x: r(x0),
      width: r(bw),
      committed: { y: r(y(s.committed)), height: r(box.top + h - y(s.committed)), value: s.committed },
      completed: { y: r(y(s.completed)), height: r(box.top + h - y(s.completed)), value: s.completed },
    };
  });
  const average = v.length ? Math.round((v.reduce((a, s) => a + s.completed, 0) / v.length) * 10) / 10 : null;
  return { box, top, bars, ticks: ticks(top).map((t) => ({ value: t, y: r(y(t)) })), average, averageY: average === null ? null : r(y(average)) };
}

/** "Mar 2" for a `YYYY-MM-DD` (UTC, like the burndown's days). */
export function shortDate(date: string): string {
  const [y, m, d] = date.split("-").map(Number);
  if (!y || !m || !d) return date;
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
}

/** Today as `YYYY-MM-DD` (UTC). */
export function todayIso(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD` plus `days`. */
export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`);
  return Number.isNaN(t) ? date : new Date(t + days * 86_400_000).toISOString().slice(0, 10);
}
