// The board half of MockBackend: a port of crates/core/src/board (ops.rs, burndown.rs, dates.rs,
// exchange.rs) to TypeScript, with the same validation, the same error wording, the same history
// (a CardMove per column change, a ScopeChange per change to what a sprint holds) and the same
// burndown and velocity computed from it. Every command works on a copy of the board's state and
// keeps it only when the operation succeeded, like the store's one-transaction update_board: a
// refused operation (or a refused import) leaves the board exactly as it was. Tests only.

import type { Actor } from "../bindings/Actor";
import type { Board } from "../bindings/Board";
import type { BoardData } from "../bindings/BoardData";
import type { BoardFormat } from "../bindings/BoardFormat";
import type { BoardHistory } from "../bindings/BoardHistory";
import type { BoardState } from "../bindings/BoardState";
import type { Burndown } from "../bindings/Burndown";
import type { BurndownDay } from "../bindings/BurndownDay";
import type { Card } from "../bindings/Card";
import type { CardInput } from "../bindings/CardInput";
import type { CardKind } from "../bindings/CardKind";
import type { Column } from "../bindings/Column";
import type { ColumnCategory } from "../bindings/ColumnCategory";
import type { Epic } from "../bindings/Epic";
import type { EpicInput } from "../bindings/EpicInput";
import type { Event } from "../bindings/Event";
import type { ImportReport } from "../bindings/ImportReport";
import type { ScopeChangeKind } from "../bindings/ScopeChangeKind";
import type { Sprint } from "../bindings/Sprint";
import type { SprintInput } from "../bindings/SprintInput";
import type { UserError } from "../bindings/UserError";
import type { Velocity } from "../bindings/Velocity";

export const MAX_TITLE = 255;
export const MAX_POINTS = 1000;

function refused(what: string, why: string, fix: string): UserError {
  return { what, why, fix };
}

function trimOpt(s: string | null | undefined): string | null {
  const t = s?.trim() ?? "";
  return t === "" ? null : t;
}

/** Structural equality of plain data (what Rust's derived PartialEq compares). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

// ---- dates (dates.rs) ------------------------------------------------------------------------

export const DAY_MS = 86_400_000;

export function daysFromCivil(y0: number, m: number, d: number): number {
  const y = m <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

export function civilFromDays(z0: number): [number, number, number] {
  const z = z0 + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function daysInMonth(y: number, m: number): number {
  if ([1, 3, 5, 7, 8, 10, 12].includes(m)) return 31;
  if ([4, 6, 9, 11].includes(m)) return 30;
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
}

function validDate(y: number, m: number, d: number): boolean {
  return y >= 1900 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/** `YYYY-MM-DD` to a day number. */
export function parseDate(s0: string): number | null {
  const s = s0.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return validDate(y, mo, d) ? daysFromCivil(y, mo, d) : null;
}

export function formatDate(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

export function dayOfMs(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

export function formatTimestamp(ms: number): string {
  const day = dayOfMs(ms);
  const secs = Math.floor((ms - day * DAY_MS) / 1000);
  return `${formatDate(day)} ${String(Math.floor(secs / 3600)).padStart(2, "0")}:${String(Math.floor((secs % 3600) / 60)).padStart(2, "0")}`;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function parseClock(s0: string, ampm: string | null): number | null {
  const s = s0.split(/[.+]/)[0];
  const parts = s.split(":");
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => /^\d+$/.test(p))) return null;
  let h = Number(parts[0]);
  const m = Number(parts[1]);
  const sec = parts.length === 3 ? Number(parts[2]) : 0;
  if (m >= 60 || sec >= 60) return null;
  if (ampm !== null) {
    if (h < 1 || h > 12) return null;
    const p = ampm.toUpperCase();
    if (p === "AM") h = h % 12;
    else if (p === "PM") h = (h % 12) + 12;
    else return null;
  }
  return h < 24 ? h * 3600 + m * 60 + sec : null;
}

/** A timestamp from `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`, `YYYY-MM-DDTHH:MM[:SS][Z]`, or Jira's `dd/MMM/yy h:mm AM`. */
export function parseTimestamp(s0: string): number | null {
  const s = s0.trim();
  if (s.length >= 10) {
    const day = parseDate(s.slice(0, 10));
    if (day !== null) {
      const rest = s.slice(10).replace(/^[T ]+/, "").replace(/Z+$/, "");
      const secs = rest === "" ? 0 : parseClock(rest, null);
      return secs === null ? null : day * DAY_MS + secs * 1000;
    }
  }
  const sp = s.indexOf(" ");
  if (sp === -1) return null;
  const parts = s.slice(0, sp).split("/");
  if (parts.length !== 3) return null;
  const [ds, mon, ys] = parts;
  if (!/^\d+$/.test(ds)) return null;
  const d = Number(ds);
  const m = MONTHS.indexOf(mon.toLowerCase()) + 1;
  if (m === 0) return null;
  let y: number;
  if (ys.length === 2 && /^\d+$/.test(ys)) y = 2000 + Number(ys);
  else if (ys.length === 4 && /^\d+$/.test(ys)) y = Number(ys);
  else return null;
  if (!validDate(y, m, d)) return null;
  const time = s.slice(sp + 1).trim();
  const i = time.lastIndexOf(" ");
  const [clock, ampm] = i === -1 ? [time, null] : [time.slice(0, i), time.slice(i + 1)];
  const secs = parseClock(clock, ampm);
  return secs === null ? null : daysFromCivil(y, m, d) * DAY_MS + secs * 1000;
}

// ---- the board (ops.rs) ----------------------------------------------------------------------

export function defaultColumns(): Column[] {
  const c = (id: string, name: string, order: number, category: ColumnCategory): Column => ({ id, name, order, category, wipLimit: null });
  return [c("todo", "To do", 0, "todo"), c("in-progress", "In progress", 1, "inProgress"), c("in-review", "In review", 2, "inProgress"), c("done", "Done", 3, "done")];
}

/** Like key_prefix_for: `slipway` -> `SLP`, `shop` -> `SHP`, `sample-app` -> `SMP`. */
export function keyPrefixFor(project: string): string {
  const letters = [...project].filter((c) => /[A-Za-z0-9]/.test(c)).map((c) => c.toUpperCase());
  if (letters.length === 0) return "CARD";
  const [first, ...rest] = letters;
  let p = first;
  for (const c of rest.filter((c) => !"AEIOU".includes(c))) {
    if (p.length === 3) break;
    p += c;
  }
  for (const c of rest) {
    if (p.length >= 3) break;
    if (!p.slice(1).includes(c)) p += c;
  }
  if (!/[A-Z]/.test(first)) p = "P" + p;
  return p;
}

/** Splits `SLP-12` into (`SLP`, 12). */
export function splitKey(key: string): [string, number] | null {
  const i = key.lastIndexOf("-");
  if (i === -1) return null;
  const p = key.slice(0, i);
  const n = key.slice(i + 1);
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(p) || !/^\d+$/.test(n) || Number(n) > 0xffffffff) return null;
  return [p, Number(n)];
}

/** A u32 the way Rust's `s.trim_start_matches('#').parse::<u32>()` reads it, else null. */
function asNumber(s: string): number | null {
  const t = s.replace(/^#+/, "");
  if (!/^\+?\d+$/.test(t)) return null;
  const n = Number(t);
  return n <= 0xffffffff ? n : null;
}

export function newBoardState(project: string, now: number): BoardState {
  return {
    board: {
      project,
      name: project,
      keyPrefix: keyPrefixFor(project),
      columns: defaultColumns(),
      automation: true,
      nextNumber: 1,
      createdAt: now,
      updatedAt: now,
    },
    cards: [],
    epics: [],
    sprints: [],
    moves: [],
    scope: [],
  };
}

const columnNames = (s: BoardState) => s.board.columns.map((c) => c.name).join(", ");
export const columnById = (s: BoardState, id: string) => s.board.columns.find((c) => c.id === id);

/** A column by id or name (names ignore case). */
export function findColumn(s: BoardState, idOrName: string): Column | undefined {
  const t = idOrName.trim();
  const lower = t.toLowerCase();
  return columnById(s, t) ?? s.board.columns.find((c) => c.name.toLowerCase() === lower || c.id.toLowerCase() === lower);
}

function column(s: BoardState, idOrName: string, what: string): Column {
  const c = findColumn(s, idOrName);
  if (!c) {
    throw refused(what, `there is no column "${idOrName.trim()}" on board ${s.board.project} (columns: ${columnNames(s)})`, "Use one of the columns' names or ids");
  }
  return c;
}

export const categoryOf = (s: BoardState, col: string): ColumnCategory | undefined => columnById(s, col)?.category;
export const isDone = (s: BoardState, card: Card) => categoryOf(s, card.column) === "done";

export function firstColumn(s: BoardState, category: ColumnCategory): Column | undefined {
  return s.board.columns.filter((c) => c.category === category).sort((a, b) => a.order - b.order)[0];
}

export function findCard(s: BoardState, keyOrNumber: string): Card | undefined {
  const t = keyOrNumber.trim();
  const n = asNumber(t);
  if (n !== null) return s.cards.find((c) => c.number === n);
  return s.cards.find((c) => c.key.toLowerCase() === t.toLowerCase());
}

function card(s: BoardState, keyOrNumber: string, what: string): Card {
  const c = findCard(s, keyOrNumber);
  if (!c) throw refused(what, `there is no card "${keyOrNumber.trim()}" on board ${s.board.project}`, "Use a card's key (like SLP-12) or number; `slipway board` lists them");
  return c;
}

export function findEpic(s: BoardState, q: string): Epic | undefined {
  const t = q.trim();
  const n = asNumber(t);
  if (n !== null) return s.epics.find((e) => e.number === n);
  const lower = t.toLowerCase();
  return s.epics.find((e) => e.key.toLowerCase() === lower) ?? s.epics.find((e) => e.title.toLowerCase() === lower);
}

function epic(s: BoardState, q: string, what: string): Epic {
  const e = findEpic(s, q);
  if (!e) {
    const names = s.epics.map((x) => `${x.key} ${x.title}`);
    throw refused(what, `there is no epic "${q.trim()}" on board ${s.board.project} (epics: ${names.length ? names.join(", ") : "none"})`, "Use an epic's key or title, or create it first");
  }
  return e;
}

export function findSprint(s: BoardState, q: string): Sprint | undefined {
  const t = q.trim();
  const n = asNumber(t);
  if (n !== null) return s.sprints.find((x) => x.number === n);
  return s.sprints.find((x) => x.name.toLowerCase() === t.toLowerCase());
}

function sprint(s: BoardState, q: string, what: string): Sprint {
  const sp = findSprint(s, q);
  if (!sp) {
    const names = s.sprints.map((x) => `${x.name} (${x.state})`);
    throw refused(what, `there is no sprint "${q.trim()}" on board ${s.board.project} (sprints: ${names.length ? names.join(", ") : "none"})`, "Use a sprint's number or name, or add it first");
  }
  return sp;
}

const activeSprint = (s: BoardState) => s.sprints.find((x) => x.state === "active");
const numberTaken = (s: BoardState, n: number) => s.cards.some((c) => c.number === n) || s.epics.some((e) => e.number === n);

function takeNumber(s: BoardState, wanted: number | null): number {
  let n: number;
  if (wanted !== null && wanted > 0 && !numberTaken(s, wanted)) n = wanted;
  else {
    n = Math.max(s.board.nextNumber, 1);
    while (numberTaken(s, n)) n += 1;
  }
  s.board.nextNumber = Math.max(s.board.nextNumber, n + 1);
  return n;
}

const keyOf = (s: BoardState, n: number) => `${s.board.keyPrefix}-${n}`;
const cardsIn = (s: BoardState, col: string) => s.cards.filter((c) => c.column === col).length;

/** Ranks 0..n within each column in the current order; cards sorted by column order and rank. */
export function normalizeRanks(s: BoardState): void {
  const order = new Map(s.board.columns.map((c) => [c.id, c.order]));
  const idx = s.cards.map((c, i) => [order.get(c.column) ?? Number.MAX_SAFE_INTEGER, c.rank, i] as const);
  idx.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const sorted = idx.map(([, , i]) => s.cards[i]);
  let last: string | null = null;
  let r = 0;
  for (const c of sorted) {
    if (last !== c.column) {
      last = c.column;
      r = 0;
    }
    c.rank = r++;
  }
  s.cards = sorted;
}

const touch = (s: BoardState, now: number) => {
  s.board.updatedAt = now;
};

function recordMove(s: BoardState, cardKey: string, from: string | null, to: string | null, by: Actor, note: string | null, at: number) {
  s.moves.push({ card: cardKey, from, to, at, by, note });
}

function recordScope(s: BoardState, cardKey: string, sp: number, kind: ScopeChangeKind, before: number | null, after: number | null, by: Actor, at: number) {
  s.scope.push({ card: cardKey, sprint: sp, kind, pointsBefore: before, pointsAfter: after, at, by });
}

function recordSprintChange(s: BoardState, key: string, oldSprint: number | null, oldPoints: number | null, newSprint: number | null, newPoints: number | null, by: Actor, at: number) {
  if (oldSprint === newSprint) {
    if (newSprint !== null && oldPoints !== newPoints) recordScope(s, key, newSprint, "points", oldPoints, newPoints, by, at);
    return;
  }
  if (oldSprint !== null) recordScope(s, key, oldSprint, "removed", oldPoints, null, by, at);
  if (newSprint !== null) recordScope(s, key, newSprint, "added", null, newPoints, by, at);
}

function checkTitle(title: string, what: string): string {
  const t = title.trim();
  if (t === "") throw refused(what, "the title is empty", "Give it a title");
  const n = [...t].length;
  if (n > MAX_TITLE) throw refused(what, `the title is ${n} characters long`, `Keep it to ${MAX_TITLE} characters; put the rest in the description`);
  return t;
}

function normalizeInput(input: Partial<CardInput>): CardInput {
  return {
    title: input.title ?? "",
    description: input.description ?? "",
    kind: input.kind ?? "task",
    epic: input.epic ?? null,
    sprint: input.sprint ?? null,
    points: input.points ?? null,
    assignee: input.assignee ?? null,
    labels: input.labels ?? [],
    links: input.links ?? [],
    column: input.column ?? null,
  };
}

function checkCardInput(s: BoardState, raw: Partial<CardInput>, what: string, currentSprint: number | null): CardInput {
  const input = structuredClone(normalizeInput(raw));
  input.title = checkTitle(input.title, what);
  if (input.points !== null && input.points > MAX_POINTS) {
    throw refused(what, `${input.points} story points is more than ${MAX_POINTS}`, "Split the work into smaller cards");
  }
  if (input.epic !== null) input.epic = epic(s, input.epic, what).key;
  if (input.sprint !== null) {
    const sp = s.sprints.find((x) => x.number === input.sprint) ?? sprint(s, String(input.sprint), what);
    if (sp.state === "closed" && currentSprint !== input.sprint) {
      throw refused(what, `${sp.name} is closed`, "Put the card in a planned or the active sprint, or in the backlog");
    }
  }
  input.assignee = trimOpt(input.assignee);
  const labels: string[] = [];
  for (const l of input.labels.flatMap((x) => x.split(/\s+/).filter(Boolean))) if (!labels.includes(l)) labels.push(l);
  input.labels = labels;
  for (const l of input.links) {
    if (l.target.trim() === "") throw refused(what, "a link has no target", "Give every link a target (a run id, a resource, a revision or a URL)");
    if (l.kind === "url" && !(l.target.startsWith("http://") || l.target.startsWith("https://"))) {
      throw refused(what, `"${l.target}" is not an http(s) URL`, "Write the link as https://...");
    }
  }
  return input;
}

function checkWip(s: BoardState, col: Column, what: string) {
  if (col.wipLimit !== null && cardsIn(s, col.id) >= col.wipLimit) {
    throw refused(what, `${col.name} already holds ${col.wipLimit} cards, its work-in-progress limit`, `Finish or move a card out of ${col.name} first, or raise its limit`);
  }
}

export function addCard(s: BoardState, raw: Partial<CardInput>, by: Actor, now: number, opts: { number?: number | null; automationKey?: string | null; note?: string | null } = {}): string {
  const WHAT = "Card not added";
  const input = checkCardInput(s, raw, WHAT, null);
  const col = input.column !== null ? column(s, input.column, WHAT) : [...s.board.columns].sort((a, b) => a.order - b.order)[0];
  if (by === "user") checkWip(s, col, WHAT);
  const number = takeNumber(s, opts.number ?? null);
  const key = keyOf(s, number);
  s.cards.push({
    key,
    number,
    kind: input.kind,
    title: input.title,
    description: input.description,
    epic: input.epic,
    sprint: input.sprint,
    points: input.points,
    assignee: input.assignee,
    labels: input.labels,
    links: input.links,
    column: col.id,
    rank: cardsIn(s, col.id),
    createdBy: by,
    automationKey: opts.automationKey ?? null,
    createdAt: now,
    updatedAt: now,
  });
  recordMove(s, key, null, col.id, by, opts.note ?? null, now);
  if (input.sprint !== null) recordScope(s, key, input.sprint, "added", null, input.points, by, now);
  normalizeRanks(s);
  touch(s, now);
  return key;
}

export function updateCard(s: BoardState, keyIn: string, raw: Partial<CardInput>, by: Actor, now: number): string {
  const WHAT = "Card not saved";
  const key = card(s, keyIn, WHAT).key;
  const i = s.cards.findIndex((c) => c.key === key);
  const old = structuredClone(s.cards[i]);
  const input = checkCardInput(s, raw, WHAT, old.sprint);
  const target = input.column !== null ? column(s, input.column, WHAT).id : null;
  if (target !== null && target !== old.column && by === "user") checkWip(s, columnById(s, target)!, WHAT);
  const c = s.cards[i];
  c.title = input.title;
  c.description = input.description;
  c.kind = input.kind;
  c.epic = input.epic;
  c.sprint = input.sprint;
  c.points = input.points;
  c.assignee = input.assignee;
  c.labels = input.labels;
  c.links = input.links;
  const changed = !deepEqual(c, old);
  if (changed) c.updatedAt = now;
  recordSprintChange(s, key, old.sprint, old.points, c.sprint, c.points, by, now);
  if (target !== null && target !== old.column) moveCardInner(s, key, target, null, by, null, now, false);
  if (changed) touch(s, now);
  return key;
}

export function moveCard(s: BoardState, keyIn: string, col: string, position: number | null, by: Actor, note: string | null, now: number): string {
  const WHAT = "Card not moved";
  const key = card(s, keyIn, WHAT).key;
  const to = column(s, col, WHAT).id;
  moveCardInner(s, key, to, position, by, note, now, by === "user");
  return key;
}

export function moveCardInner(s: BoardState, key: string, to: string, position: number | null, by: Actor, note: string | null, now: number, enforceWip: boolean) {
  const i = s.cards.findIndex((c) => c.key === key);
  const from = s.cards[i].column;
  if (from !== to && enforceWip) checkWip(s, columnById(s, to)!, "Card not moved");
  const others = s.cards.map((c, j) => [c, j] as const).filter(([c, j]) => j !== i && c.column === to);
  others.sort((a, b) => a[0].rank - b[0].rank || a[1] - b[1]);
  const order = others.map(([, j]) => j);
  const at = position === null ? order.length : Math.min(position, order.length);
  order.splice(at, 0, i);
  order.forEach((j, r) => {
    s.cards[j].rank = r;
  });
  s.cards[i].column = to;
  if (from !== to) {
    s.cards[i].updatedAt = now;
    recordMove(s, key, from, to, by, note, now);
  }
  normalizeRanks(s);
  touch(s, now);
}

export function deleteCard(s: BoardState, keyIn: string, by: Actor, now: number): string {
  const key = card(s, keyIn, "Card not deleted").key;
  const i = s.cards.findIndex((c) => c.key === key);
  const [c] = s.cards.splice(i, 1);
  recordMove(s, key, c.column, null, by, null, now);
  if (c.sprint !== null) recordScope(s, key, c.sprint, "removed", c.points, null, by, now);
  normalizeRanks(s);
  touch(s, now);
  return key;
}

export function addEpic(s: BoardState, input: Partial<EpicInput>, by: Actor, now: number, opts: { number?: number | null; automationKey?: string | null } = {}): string {
  const title = checkTitle(input.title ?? "", "Epic not added");
  const number = takeNumber(s, opts.number ?? null);
  const key = keyOf(s, number);
  s.epics.push({
    key,
    number,
    title,
    description: input.description ?? "",
    color: trimOpt(input.color),
    done: input.done ?? false,
    createdBy: by,
    automationKey: opts.automationKey ?? null,
    createdAt: now,
    updatedAt: now,
  });
  touch(s, now);
  return key;
}

export function updateEpic(s: BoardState, keyIn: string, input: Partial<EpicInput>, now: number): string {
  const WHAT = "Epic not saved";
  const key = epic(s, keyIn, WHAT).key;
  const title = checkTitle(input.title ?? "", WHAT);
  const e = s.epics.find((x) => x.key === key)!;
  const old = structuredClone(e);
  e.title = title;
  e.description = input.description ?? "";
  e.color = trimOpt(input.color);
  e.done = input.done ?? false;
  if (!deepEqual(e, old)) {
    e.updatedAt = now;
    touch(s, now);
  }
  return key;
}

export function deleteEpic(s: BoardState, keyIn: string, now: number): string[] {
  const key = epic(s, keyIn, "Epic not deleted").key;
  s.epics = s.epics.filter((e) => e.key !== key);
  const touched: string[] = [];
  for (const c of s.cards.filter((c) => c.epic === key)) {
    c.epic = null;
    c.updatedAt = now;
    touched.push(c.key);
  }
  touch(s, now);
  return touched;
}

function checkSprintFields(s: BoardState, number: number, input: Partial<SprintInput>, what: string): [string, string | null, string | null] {
  const name = trimOpt(input.name) ?? `Sprint ${number}`;
  if ([...name].length > MAX_TITLE) throw refused(what, "the name is too long", `Keep it to ${MAX_TITLE} characters`);
  if (/^\+?\d+$/.test(name) && Number(name) <= 0xffffffff) throw refused(what, `"${name}" is only a number`, 'Give it a name with a word in it, like "Sprint 3"');
  if (s.sprints.some((x) => x.number !== number && x.name.toLowerCase() === name.toLowerCase())) {
    throw refused(what, `there is already a sprint named "${name}"`, "Pick another name");
  }
  const date = (v: string | null | undefined, which: string): string | null => {
    const d = trimOpt(v);
    if (d === null) return null;
    const days = parseDate(d);
    if (days === null) throw refused(what, `the ${which} date "${d}" is not a date`, "Write dates as YYYY-MM-DD");
    return formatDate(days);
  };
  const start = date(input.start, "start");
  const end = date(input.end, "end");
  if (start !== null && end !== null && end < start) {
    throw refused(what, `it would end (${end}) before it starts (${start})`, "Give an end date on or after the start date");
  }
  return [name, start, end];
}

export function addSprint(s: BoardState, input: Partial<SprintInput>, now: number): number {
  const number = Math.max(0, ...s.sprints.map((x) => x.number)) + 1;
  const [name, start, end] = checkSprintFields(s, number, input, "Sprint not added");
  s.sprints.push({ number, name, goal: (input.goal ?? "").trim(), start, end, state: "planned", startedAt: null, closedAt: null });
  touch(s, now);
  return number;
}

export function updateSprint(s: BoardState, q: string, input: Partial<SprintInput>, now: number): number {
  const WHAT = "Sprint not saved";
  const number = sprint(s, q, WHAT).number;
  const [name, start, end] = checkSprintFields(s, number, input, WHAT);
  const sp = s.sprints.find((x) => x.number === number)!;
  if (sp.state === "closed" && (start !== sp.start || end !== sp.end)) throw refused(WHAT, `${sp.name} is closed`, "A closed sprint's dates stay as they were");
  sp.name = name;
  sp.goal = (input.goal ?? "").trim();
  sp.start = start;
  sp.end = end;
  touch(s, now);
  return number;
}

export function startSprint(s: BoardState, q: string, start: string | null, end: string | null, now: number): number {
  const WHAT = "Sprint not started";
  const sp = structuredClone(sprint(s, q, WHAT));
  if (sp.state !== "planned") throw refused(WHAT, `${sp.name} is ${sp.state}`, "Start a planned sprint");
  const a = activeSprint(s);
  if (a) throw refused(WHAT, `${a.name} is still active`, `Close ${a.name} first`);
  const input: SprintInput = {
    name: sp.name,
    goal: sp.goal,
    start: start ?? sp.start ?? formatDate(dayOfMs(now)),
    end: end ?? sp.end,
  };
  const [, st, en] = checkSprintFields(s, sp.number, input, WHAT);
  if (en === null) throw refused(WHAT, `${sp.name} has no end date`, "Give the end date (YYYY-MM-DD)");
  const x = s.sprints.find((y) => y.number === sp.number)!;
  x.start = st;
  x.end = en;
  x.state = "active";
  x.startedAt = now;
  touch(s, now);
  return sp.number;
}

export function closeSprint(s: BoardState, q: string, carryTo: string | null, by: Actor, now: number): string[] {
  const WHAT = "Sprint not closed";
  const sp = structuredClone(sprint(s, q, WHAT));
  if (sp.state !== "active") throw refused(WHAT, `${sp.name} is ${sp.state}`, "Close the active sprint");
  let to: number | null = null;
  if (carryTo !== null) {
    const t = sprint(s, carryTo, WHAT);
    if (t.state !== "planned") throw refused(WHAT, `unfinished cards cannot go to ${t.name}: it is ${t.state}`, "Name a planned sprint, or leave them to the backlog");
    to = t.number;
  }
  const open = s.cards.filter((c) => c.sprint === sp.number && !isDone(s, c)).map((c) => [c.key, c.points] as const);
  for (const [key, points] of open) {
    const c = s.cards.find((x) => x.key === key)!;
    c.sprint = to;
    c.updatedAt = now;
    recordSprintChange(s, key, sp.number, points, to, points, by, now);
  }
  const x = s.sprints.find((y) => y.number === sp.number)!;
  x.state = "closed";
  x.closedAt = now;
  touch(s, now);
  return open.map(([k]) => k);
}

export function deleteSprint(s: BoardState, q: string, by: Actor, now: number): string[] {
  const WHAT = "Sprint not deleted";
  const sp = structuredClone(sprint(s, q, WHAT));
  if (sp.state === "active") throw refused(WHAT, `${sp.name} is active`, "Close it first");
  const keys = s.cards.filter((c) => c.sprint === sp.number).map((c) => [c.key, c.points] as const);
  for (const [key, points] of keys) {
    const c = s.cards.find((x) => x.key === key)!;
    c.sprint = null;
    c.updatedAt = now;
    recordSprintChange(s, key, sp.number, points, null, points, by, now);
  }
  s.sprints = s.sprints.filter((x) => x.number !== sp.number);
  touch(s, now);
  return keys.map(([k]) => k);
}

const isId = (s: string) => s.length > 0 && s.length <= 40 && /^[a-z][a-z0-9-]*$/.test(s) && !s.endsWith("-");

function checkColumns(columns: Column[], what: string) {
  if (columns.length === 0) throw refused(what, "there are no columns", "Keep at least a to-do and a done column");
  const ids = new Set<string>();
  const names = new Set<string>();
  for (const c of columns) {
    if (!isId(c.id)) throw refused(what, `"${c.id}" is not a column id`, "Use lowercase letters, digits and dashes (up to 40), starting with a letter");
    if (ids.has(c.id)) throw refused(what, `two columns have the id "${c.id}"`, "Give every column its own id");
    ids.add(c.id);
    const n = c.name.trim();
    if (n === "" || [...n].length > 60) throw refused(what, `column "${c.id}" needs a name of 1 to 60 characters`, "Name it");
    if (names.has(n.toLowerCase())) throw refused(what, `two columns are named "${n}"`, "Give every column its own name");
    names.add(n.toLowerCase());
    if (c.wipLimit === 0) throw refused(what, `column ${n} has a WIP limit of 0`, "Use a limit of 1 or more, or none");
  }
  if (!columns.some((c) => c.category === "done")) {
    throw refused(what, "no column is a done column", "Mark one column (usually the last) as done: the burndown counts cards there as finished");
  }
  if (columns.every((c) => c.category === "done")) throw refused(what, "every column is a done column", "Keep at least one column for work not finished");
}

export function setColumns(s: BoardState, cols: Column[], now: number) {
  const WHAT = "Columns not saved";
  const columns = cols.map((c) => ({ ...c, id: c.id.trim(), name: c.name.trim() }));
  checkColumns(columns, WHAT);
  for (const old of s.board.columns) {
    const n = cardsIn(s, old.id);
    if (n > 0 && !columns.some((c) => c.id === old.id)) {
      throw refused(WHAT, `column ${old.name} still holds ${n} card${n === 1 ? "" : "s"}`, `Move the cards out of ${old.name} first`);
    }
  }
  columns.forEach((c, i) => {
    c.order = i;
  });
  s.board.columns = columns;
  normalizeRanks(s);
  touch(s, now);
}

/** Checks a whole state (a JSON import), like BoardState::validate. */
export function validate(s: BoardState) {
  const WHAT = "Import refused: the board is unchanged";
  const FIX = "Fix the file (or export the board again) and import it again; nothing was imported";
  const bad = (why: string) => refused(WHAT, why, FIX);
  try {
    checkColumns(s.board.columns, WHAT);
  } catch (e) {
    throw bad((e as UserError).why);
  }
  s.board.columns.sort((a, b) => a.order - b.order);
  s.board.columns.forEach((c, i) => {
    c.order = i;
  });
  if (s.board.keyPrefix === "" || !/^[A-Za-z0-9_]+$/.test(s.board.keyPrefix)) throw bad(`"${s.board.keyPrefix}" is not a key prefix`);
  const keys = new Set<string>();
  const numbers = new Set<number>();
  for (const [key, number] of [...s.cards.map((c) => [c.key, c.number] as const), ...s.epics.map((e) => [e.key, e.number] as const)]) {
    if (keys.has(key)) throw bad(`the key ${key} is used twice`);
    keys.add(key);
    if (numbers.has(number)) throw bad(`the number ${number} is used twice (${key})`);
    numbers.add(number);
  }
  const sprintNumbers = new Set<number>();
  for (const x of s.sprints) {
    if (sprintNumbers.has(x.number)) throw bad(`sprint number ${x.number} is used twice`);
    sprintNumbers.add(x.number);
  }
  if (s.sprints.filter((x) => x.state === "active").length > 1) throw bad("more than one sprint is active");
  for (const c of s.cards) {
    if (c.title.trim() === "") throw bad(`card ${c.key} has no title`);
    if (!columnById(s, c.column)) throw bad(`card ${c.key} is in column "${c.column}", which the board does not have`);
    if (c.epic !== null && !s.epics.some((x) => x.key === c.epic)) throw bad(`card ${c.key} belongs to epic ${c.epic}, which is not in the file`);
    if (c.sprint !== null && !sprintNumbers.has(c.sprint)) throw bad(`card ${c.key} is in sprint ${c.sprint}, which is not in the file`);
    if (c.points !== null && c.points > MAX_POINTS) throw bad(`card ${c.key} has more than ${MAX_POINTS} points`);
  }
  const max = Math.max(0, ...numbers);
  s.board.nextNumber = Math.max(s.board.nextNumber, max + 1);
  normalizeRanks(s);
}

// ---- burndown and velocity (burndown.rs) -----------------------------------------------------

type CardAt = { inSprint: boolean; points: number | null; column: string | null };

function stateAt(s: BoardState, sp: number, cutoff: number, strict: boolean): Map<string, CardAt> {
  const at = new Map<string, CardAt>(s.cards.map((c) => [c.key, { inSprint: c.sprint === sp, points: c.points, column: c.column }]));
  const entry = (k: string) => {
    let e = at.get(k);
    if (!e) {
      e = { inSprint: false, points: null, column: null };
      at.set(k, e);
    }
    return e;
  };
  const after = (t: number) => (strict ? t >= cutoff : t > cutoff);
  for (let i = s.moves.length - 1; i >= 0; i--) {
    const m = s.moves[i];
    if (after(m.at)) entry(m.card).column = m.from;
  }
  for (let i = s.scope.length - 1; i >= 0; i--) {
    const c = s.scope[i];
    if (!after(c.at)) continue;
    const e = entry(c.card);
    if (c.sprint === sp) {
      if (c.kind === "added") e.inSprint = false;
      else if (c.kind === "removed") {
        e.inSprint = true;
        e.points = c.pointsBefore;
      } else e.points = c.pointsBefore;
    } else if (c.kind === "points") e.points = c.pointsBefore;
  }
  return at;
}

function tally(s: BoardState, cards: Map<string, CardAt>): [number, number] {
  let remaining = 0;
  let done = 0;
  for (const c of cards.values()) {
    if (!c.inSprint || c.column === null) continue;
    const p = c.points ?? 0;
    if (categoryOf(s, c.column) === "done") done += p;
    else remaining += p;
  }
  return [remaining, done];
}

export function burndown(s: BoardState, number: number, now: number): Burndown {
  const sp = s.sprints.find((x) => x.number === number);
  if (!sp) throw refused("No burndown", `there is no sprint ${number} on board ${s.board.project}`, "Pick a sprint of this board");
  const startDay = sp.start !== null ? parseDate(sp.start) : null;
  const endDay0 = sp.end !== null ? parseDate(sp.end) : null;
  if (startDay === null || endDay0 === null) throw refused("No burndown", `${sp.name} has no dates`, "Give it a start and an end date (YYYY-MM-DD), or start it");
  const endDay = Math.max(endDay0, startDay);
  const started = sp.startedAt ?? startDay * DAY_MS;
  const [committed] = sp.state === "planned" ? tally(s, stateAt(s, number, now, false)) : tally(s, stateAt(s, number, started, false));
  const [last, strict] = sp.state === "closed" && sp.closedAt !== null ? [sp.closedAt, true] : [now, false];
  const n = endDay - startDay;
  const days: BurndownDay[] = [];
  for (let day = startDay, i = 0; day <= endDay; day++, i++) {
    const ideal = n === 0 ? 0 : (committed * (n - i)) / n;
    const eod = (day + 1) * DAY_MS - 1;
    let remaining: number | null = null;
    // Nothing is known before the day it started (a sprint started after its first day).
    if (!(sp.state === "planned" || day > dayOfMs(last) || day < dayOfMs(started))) {
      const [cut, st] = eod >= last ? [last, strict] : [eod, false];
      remaining = tally(s, stateAt(s, number, cut, st))[0];
    }
    days.push({ date: formatDate(day), remaining, ideal, scopeAdded: 0, scopeRemoved: 0 });
  }
  const scopeChanges = [];
  if (sp.state !== "planned") {
    for (const c of s.scope.filter((c) => c.sprint === number && c.at > started && (!strict || c.at < last))) {
      let added = 0;
      let removed = 0;
      if (c.kind === "added") added = c.pointsAfter ?? 0;
      else if (c.kind === "removed") removed = c.pointsBefore ?? 0;
      else {
        const b = c.pointsBefore ?? 0;
        const a = c.pointsAfter ?? 0;
        added = Math.max(0, a - b);
        removed = Math.max(0, b - a);
      }
      const day = Math.min(Math.max(dayOfMs(c.at), startDay), endDay);
      days[day - startDay].scopeAdded += added;
      days[day - startDay].scopeRemoved += removed;
      scopeChanges.push(structuredClone(c));
    }
  }
  const [remaining, completed] = sp.state === "planned" ? [committed, 0] : tally(s, stateAt(s, number, last, strict));
  return {
    sprint: number,
    name: sp.name,
    state: sp.state,
    start: formatDate(startDay),
    end: formatDate(endDay),
    committed,
    completed,
    remaining,
    scopeAdded: days.reduce((a, d) => a + d.scopeAdded, 0),
    scopeRemoved: days.reduce((a, d) => a + d.scopeRemoved, 0),
    days,
    scopeChanges,
  };
}

export function velocity(s: BoardState): Velocity[] {
  return s.sprints
    .filter((x) => x.state === "closed")
    .sort((a, b) => a.number - b.number)
    .map((sp) => {
      const startDay = (sp.start !== null ? parseDate(sp.start) : null) ?? 0;
      const [committed] = tally(s, stateAt(s, sp.number, sp.startedAt ?? startDay * DAY_MS, false));
      const completed = sp.closedAt !== null ? tally(s, stateAt(s, sp.number, sp.closedAt, true))[1] : 0;
      return { sprint: sp.number, name: sp.name, committed, completed };
    });
}

// ---- export and import (exchange.rs) ---------------------------------------------------------

export const JSON_VERSION = 1;
const REFUSED = "Import refused: the board is unchanged";

export function exportJson(s: BoardState): string {
  return JSON.stringify({ version: JSON_VERSION, ...s }, null, 2);
}

function report(old: BoardState, next: BoardState, format: BoardFormat, ignored: string[]): ImportReport {
  const cards = new Map(old.cards.map((c) => [c.key, c]));
  const epics = new Map(old.epics.map((e) => [e.key, e]));
  const r: ImportReport = { project: next.board.project, format, cardsCreated: 0, cardsUpdated: 0, epicsCreated: 0, epicsUpdated: 0, sprintsCreated: 0, ignoredColumns: ignored };
  for (const c of next.cards) {
    const o = cards.get(c.key);
    if (!o) r.cardsCreated += 1;
    else if (!deepEqual(o, c)) r.cardsUpdated += 1;
  }
  for (const e of next.epics) {
    const o = epics.get(e.key);
    if (!o) r.epicsCreated += 1;
    else if (!deepEqual(o, e)) r.epicsUpdated += 1;
  }
  r.sprintsCreated = next.sprints.filter((x) => !old.sprints.some((o) => o.number === x.number)).length;
  return r;
}

/** Line and column (1-based) of a character offset. */
function lineCol(text: string, pos: number): [number, number] {
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  return [line, pos - before.lastIndexOf("\n")];
}

/** Where a JSON text first breaks its grammar (serde_json names the line and column), or null. */
export function jsonSyntaxError(text: string): { at: number; why: string } | null {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  class Bad {
    constructor(readonly at: number, readonly why: string) {}
  }
  const fail = (why: string): never => {
    throw new Bad(i, why);
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === undefined) fail("EOF while parsing a value");
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("key must be a string");
        string();
        ws();
        if (text[i] !== ":") fail("expected `:`");
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail(text[i] === undefined ? "EOF while parsing an object" : "expected `,` or `}`");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail(text[i] === undefined ? "EOF while parsing a list" : "expected `,` or `]`");
      }
    }
    if (c === '"') return string();
    const m = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail("expected value");
    i += m![0].length;
  };
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") i++;
      else if (text[i] < " ") fail("control character found while parsing a string");
      i++;
    }
    if (i >= text.length) fail("EOF while parsing a string");
    i++;
  };
  try {
    value();
    ws();
    if (i < text.length) fail("trailing characters");
    return null;
  } catch (e) {
    if (e instanceof Bad) return { at: e.at, why: e.why };
    throw e;
  }
}

export function importJson(current: BoardState, text0: string): [BoardState, ImportReport] {
  const text = text0.replace(/^\uFEFF/, "");
  const fix = "Import a file made by `slipway board export --format json` (or fix the line named); nothing was imported";
  const syntax = jsonSyntaxError(text);
  if (syntax !== null) {
    const [line, col] = lineCol(text, syntax.at);
    throw refused(REFUSED, `line ${line}, column ${col}: ${syntax.why}`, fix);
  }
  const file = JSON.parse(text) as Record<string, unknown>;
  const shape = (why: string) => refused(REFUSED, why, fix);
  if (typeof file !== "object" || file === null || Array.isArray(file)) throw shape("the file is not a JSON object");
  for (const f of ["version", "board", "cards", "epics", "sprints", "moves", "scope"]) if (!(f in file)) throw shape(`missing field \`${f}\``);
  if (typeof file.version !== "number") throw shape("invalid type: `version` is not a number");
  if (file.version !== JSON_VERSION) throw shape(`the file is version ${file.version}; this Slipway reads version ${JSON_VERSION}`);
  for (const f of ["cards", "epics", "sprints", "moves", "scope"]) if (!Array.isArray(file[f])) throw shape(`invalid type: \`${f}\` is not a list`);
  const b = file.board as Board;
  if (typeof b !== "object" || b === null || !Array.isArray(b.columns) || typeof b.keyPrefix !== "string") throw shape("invalid type: `board` is not a board");
  const state: BoardState = structuredClone({
    board: b,
    cards: file.cards as Card[],
    epics: file.epics as Epic[],
    sprints: file.sprints as Sprint[],
    moves: file.moves as BoardState["moves"],
    scope: file.scope as BoardState["scope"],
  });
  state.board.project = current.board.project;
  validate(state);
  return [state, report(current, state, "json", [])];
}

/** One CSV field, quoted when it must be (like the csv crate's QuoteStyle::Necessary). */
function csvField(f: string): string {
  return /[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f;
}

function csvRecord(fields: string[]): string {
  if (fields.length === 1 && fields[0] === "") return '""\n';
  return fields.map(csvField).join(",") + "\n";
}

const JIRA_KIND: Record<CardKind, string> = { story: "Story", task: "Task", bug: "Bug" };

export function exportCsv(s: BoardState): string {
  const labels = Math.max(1, ...s.cards.map((c) => c.labels.length));
  const header = ["Issue key", "Issue Type", "Summary", "Description", "Status", "Story Points", "Assignee", ...Array<string>(labels).fill("Labels"), "Epic Link", "Epic Name", "Sprint", "Created", "Updated"];
  let out = csvRecord(header);
  const status = (cat: ColumnCategory) => firstColumn(s, cat)?.name ?? "";
  const sprintName = (n: number | null) => (n === null ? "" : (s.sprints.find((x) => x.number === n)?.name ?? ""));
  for (const e of s.epics) {
    out += csvRecord([
      e.key, "Epic", e.title, e.description, status(e.done ? "done" : "todo"), "", "",
      ...Array<string>(labels).fill(""),
      "", e.title, "", formatTimestamp(e.createdAt), formatTimestamp(e.updatedAt),
    ]);
  }
  for (const c of s.cards) {
    out += csvRecord([
      c.key, JIRA_KIND[c.kind], c.title, c.description, columnById(s, c.column)?.name ?? c.column, c.points === null ? "" : String(c.points), c.assignee ?? "",
      ...Array.from({ length: labels }, (_, i) => c.labels[i] ?? ""),
      c.epic ?? "", "", sprintName(c.sprint), formatTimestamp(c.createdAt), formatTimestamp(c.updatedAt),
    ]);
  }
  return out;
}

export type CsvRecord = { line: number; fields: string[] };

/**
 * Reads CSV like the csv crate's reader: quoted fields with doubled quotes, records ended by \n,
 * \r\n or \r, blank lines skipped; each record with the line it starts on (from 1).
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    // Blank lines between records are skipped.
    if (text[i] === "\n" || text[i] === "\r") {
      if (text[i] === "\r" && text[i + 1] === "\n") i++;
      i++;
      line++;
      continue;
    }
    const start = line;
    const fields: string[] = [];
    let field = "";
    let quoted = false;
    let inQuotes = false;
    for (;;) {
      if (i >= n) {
        fields.push(field);
        break;
      }
      const ch = text[i];
      if (inQuotes) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            inQuotes = false;
            i++;
          }
        } else {
          if (ch === "\n" || (ch === "\r" && text[i + 1] !== "\n")) line++;
          field += ch;
          i++;
        }
        continue;
      }
      if (ch === '"' && field === "" && !quoted) {
        inQuotes = true;
        quoted = true;
        i++;
      } else if (ch === ",") {
        fields.push(field);
        field = "";
        quoted = false;
        i++;
      } else if (ch === "\n" || ch === "\r") {
        fields.push(field);
        if (ch === "\r" && text[i + 1] === "\n") i++;
        i++;
        line++;
        break;
      } else {
        field += ch;
        i++;
      }
    }
    records.push({ line: start, fields });
  }
  return records;
}

type Field = "key" | "type" | "summary" | "description" | "status" | "points" | "assignee" | "labels" | "epicLink" | "epicName" | "sprint" | "created" | "updated";

function fieldOf(header: string): Field | null {
  let h = header.trim().toLowerCase();
  if (h.startsWith("custom field (") && h.endsWith(")")) h = h.slice("custom field (".length, -1);
  const map: Record<string, Field> = {
    "issue key": "key", key: "key",
    "issue type": "type", type: "type",
    summary: "summary", title: "summary",
    description: "description",
    status: "status",
    "story points": "points", "story point estimate": "points",
    assignee: "assignee",
    labels: "labels", label: "labels",
    "epic link": "epicLink",
    "epic name": "epicName",
    sprint: "sprint",
    created: "created",
    updated: "updated",
  };
  return map[h] ?? null;
}

type Row = {
  line: number;
  key: string | null;
  epic: boolean;
  kind: CardKind;
  summary: string;
  description: string | undefined;
  status: string | null;
  /** undefined: no column; null: empty. */
  points: number | null | undefined;
  assignee: string | null | undefined;
  labels: string[] | undefined;
  epicLink: string | null | undefined;
  sprint: string | null | undefined;
  created: number | null;
  updated: number | null;
};

function parseKind(s: string): [boolean, CardKind] | null {
  switch (s.trim().toLowerCase()) {
    case "":
    case "task":
    case "sub-task":
    case "subtask":
      return [false, "task"];
    case "story":
    case "improvement":
    case "new feature":
    case "feature":
      return [false, "story"];
    case "bug":
      return [false, "bug"];
    case "epic":
      return [true, "task"];
    default:
      return null;
  }
}

const RUST_FLOAT = /^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf|infinity|nan)$/i;

function parsePoints(s: string): number | null {
  const t = s.trim();
  if (t === "") return null;
  if (!RUST_FLOAT.test(t)) throw `Story Points "${t}" is not a number`;
  const v = /inf/i.test(t) ? (t.startsWith("-") ? -Infinity : Infinity) : /nan/i.test(t) ? NaN : Number(t);
  if (!Number.isFinite(v) || v < 0 || !Number.isInteger(v)) throw `Story Points "${t}" is not a whole number of 0 or more`;
  if (v > MAX_POINTS) throw `Story Points "${t}" is more than ${MAX_POINTS}`;
  return v;
}

const lineOf = (e: string) => Number(/^line (\d+)/.exec(e)?.[1] ?? 0);

export function importCsv(current: BoardState, text0: string, now: number): [BoardState, ImportReport] {
  const fixLine = (errors: string[]) => {
    const first = /^line (\d+)/.exec(errors[0] ?? "")?.[1] ?? "";
    if (first === "") return "Fix the file and import it again; nothing was imported";
    if (errors.length === 1) return `Fix line ${first} and import the file again; nothing was imported`;
    return `Fix the ${errors.length} lines named (from line ${first}) and import the file again; nothing was imported`;
  };
  const refuse = (errors: string[]) => refused(REFUSED, errors.join("; "), fixLine(errors));

  const text = text0.replace(/^\uFEFF/, "");
  const records = parseCsv(text);
  if (records.length === 0) throw refuse(["line 1: there is no Summary column (the header has: )"]);
  const headers = records[0].fields;
  const cols: [number, Field][] = [];
  const ignored: string[] = [];
  const seen = new Set<Field>();
  headers.forEach((h, i) => {
    const f = fieldOf(h);
    if (f !== null) {
      if (seen.has(f) && f !== "labels" && f !== "sprint") throw refuse([`line 1: the column "${h.trim()}" appears twice`]);
      seen.add(f);
      cols.push([i, f]);
    } else if (h.trim() !== "") ignored.push(h.trim());
  });
  if (!seen.has("summary")) throw refuse([`line 1: there is no Summary column (the header has: ${headers.join(", ")})`]);

  // Pass 1: every row on its own.
  const errors: string[] = [];
  const rows: Row[] = [];
  for (const record of records.slice(1)) {
    const line = record.line;
    if (record.fields.length !== headers.length) {
      // The csv crate stops at the first record of another length.
      errors.push(`line ${line}: it has ${record.fields.length} fields where the header has ${headers.length}`);
      break;
    }
    if (record.fields.every((f) => f.trim() === "")) continue;
    const err = (why: string) => errors.push(`line ${line}: ${why}`);
    const get = (f: Field) => cols.filter(([, x]) => x === f).map(([i]) => record.fields[i] ?? "");
    const one = (f: Field): string | undefined => get(f)[0];
    const has = (f: Field) => seen.has(f);

    const keyRaw = one("key")?.trim();
    const key = keyRaw ? keyRaw : null;
    if (key !== null && splitKey(key) === null) err(`Issue key "${key}" is not a key like SLP-12`);
    let kindParsed = parseKind(one("type") ?? "");
    if (kindParsed === null) {
      err(`Issue Type "${(one("type") ?? "").trim()}" is not Story, Task, Bug or Epic`);
      kindParsed = [false, "task"];
    }
    const [isEpic, kind] = kindParsed;
    let summary = (one("summary") ?? "").trim();
    const epicName = one("epicName")?.trim() || null;
    if (summary === "" && isEpic) summary = epicName ?? "";
    if (summary === "") err("Summary is empty");
    else if ([...summary].length > MAX_TITLE) err(`Summary is longer than ${MAX_TITLE} characters`);
    const status = one("status")?.trim() || null;
    if (status !== null && !findColumn(current, status)) err(`Status "${status}" is not a column of this board (columns: ${columnNames(current)})`);
    let points: number | null | undefined;
    if (has("points")) {
      try {
        points = parsePoints(one("points") ?? "");
      } catch (e) {
        err(e as string);
        points = undefined;
      }
    }
    if (isEpic && points !== undefined && points !== null) err("an Epic cannot have Story Points here");
    let labels: string[] | undefined;
    if (has("labels")) {
      labels = [];
      for (const l of get("labels").flatMap((x) => x.split(/\s+/).filter(Boolean))) if (!labels.includes(l)) labels.push(l);
    }
    const stamp = (f: Field, name: string): number | null => {
      const v = one(f)?.trim();
      if (!v) return null;
      const t = parseTimestamp(v);
      if (t === null) err(`${name} "${v}" is not a date (use YYYY-MM-DD HH:MM)`);
      return t;
    };
    const created = stamp("created", "Created");
    const updated = stamp("updated", "Updated");
    const opt = (f: Field) => (has(f) ? one(f)?.trim() || null : undefined);
    rows.push({
      line,
      key,
      epic: isEpic,
      kind,
      summary,
      description: has("description") ? (one("description") ?? "") : undefined,
      status,
      points,
      assignee: opt("assignee"),
      labels,
      epicLink: opt("epicLink"),
      sprint: has("sprint") ? ([...get("sprint")].reverse().map((x) => x.trim()).find((x) => x !== "") ?? null) : undefined,
      created,
      updated,
    });
  }

  // Pass 2: the rows together and against the board.
  const keys = new Map<string, number>();
  for (const r of rows) {
    if (r.key === null) continue;
    const first = keys.get(r.key.toUpperCase());
    if (first !== undefined) errors.push(`line ${r.line}: Issue key ${r.key} appears twice (first on line ${first})`);
    keys.set(r.key.toUpperCase(), r.line);
    const k = r.key.toLowerCase();
    const isCard = current.cards.some((c) => c.key.toLowerCase() === k);
    const isEpicKey = current.epics.some((e) => e.key.toLowerCase() === k);
    if (r.epic && isCard) errors.push(`line ${r.line}: ${r.key} is a card on this board, not an epic`);
    if (!r.epic && isEpicKey) errors.push(`line ${r.line}: ${r.key} is an epic on this board, not a ${JIRA_KIND[r.kind]}`);
  }
  const fileEpics = rows.filter((r) => r.epic);
  const epicRefOk = (link: string) =>
    findEpic(current, link) !== undefined ||
    fileEpics.some((r) => (r.key !== null && r.key.toLowerCase() === link.toLowerCase()) || r.summary.toLowerCase() === link.toLowerCase());
  for (const r of rows.filter((r) => !r.epic)) {
    if (r.epicLink && !epicRefOk(r.epicLink)) errors.push(`line ${r.line}: Epic Link "${r.epicLink}" is not an epic of this board or of the file`);
    if (r.sprint && /^\+?\d+$/.test(r.sprint) && Number(r.sprint) <= 0xffffffff) errors.push(`line ${r.line}: Sprint "${r.sprint}" is a number; use the sprint's name`);
  }
  if (errors.length > 0) {
    errors.sort((a, b) => lineOf(a) - lineOf(b));
    throw refuse(errors);
  }

  // Pass 3: apply to a copy (a refusal here, too, names the line and changes nothing).
  const s = structuredClone(current);
  const wantedNumber = (key: string | null) => {
    const sk = key === null ? null : splitKey(key);
    return sk !== null && sk[0].toLowerCase() === s.board.keyPrefix.toLowerCase() ? sk[1] : null;
  };
  const atLine = <T>(line: number, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw refuse([`line ${line}: ${(e as UserError).why}`]);
    }
  };
  const epicKeys = new Map<number, string>();
  for (const r of fileEpics) {
    const existing = r.key === null ? undefined : s.epics.find((e) => e.key.toLowerCase() === r.key!.toLowerCase());
    const col = r.status === null ? undefined : findColumn(s, r.status);
    const done = col === undefined ? undefined : col.category === "done";
    if (existing) {
      const e = structuredClone(existing);
      atLine(r.line, () => updateEpic(s, e.key, { title: r.summary, description: r.description ?? e.description, color: e.color, done: done ?? e.done }, now));
      epicKeys.set(r.line, e.key);
    } else {
      const k = atLine(r.line, () =>
        addEpic(s, { title: r.summary, description: r.description ?? "", color: null, done: done ?? false }, "user", now, { number: wantedNumber(r.key) }),
      );
      const e = s.epics.find((x) => x.key === k)!;
      e.createdAt = r.created ?? now;
      e.updatedAt = r.updated ?? now;
      epicKeys.set(r.line, k);
    }
  }
  const resolveEpic = (link: string): string | null => {
    const l = link.toLowerCase();
    const byFile = fileEpics.find((r) => r.key !== null && r.key.toLowerCase() === l) ?? fileEpics.find((r) => r.summary.toLowerCase() === l);
    if (byFile) return epicKeys.get(byFile.line) ?? null;
    return findEpic(s, link)?.key ?? null;
  };
  const note = "imported";
  for (const r of rows.filter((r) => !r.epic)) {
    let sp: number | null | undefined;
    if (r.sprint === undefined) sp = undefined;
    else if (r.sprint === null) sp = null;
    else {
      const name = r.sprint;
      sp = findSprint(s, name)?.number ?? atLine(r.line, () => addSprint(s, { name, goal: "", start: null, end: null }, now));
    }
    const ep = r.epicLink === undefined ? undefined : r.epicLink === null ? null : resolveEpic(r.epicLink);
    const existing = r.key === null ? undefined : s.cards.find((c) => c.key.toLowerCase() === r.key!.toLowerCase());
    if (existing) {
      const c = structuredClone(existing);
      atLine(r.line, () =>
        updateCard(
          s,
          c.key,
          {
            title: r.summary,
            description: r.description ?? c.description,
            kind: r.kind,
            epic: ep === undefined ? c.epic : ep,
            sprint: sp === undefined ? c.sprint : sp,
            points: r.points === undefined ? c.points : r.points,
            assignee: r.assignee === undefined ? c.assignee : r.assignee,
            labels: r.labels ?? c.labels,
            links: c.links,
            column: null,
          },
          "user",
          now,
        ),
      );
      if (r.status !== null) {
        const to = findColumn(s, r.status)!.id;
        if (to !== c.column) atLine(r.line, () => moveCardInner(s, c.key, to, null, "user", note, now, false));
      }
    } else {
      const k = atLine(r.line, () =>
        addCard(
          s,
          {
            title: r.summary,
            description: r.description ?? "",
            kind: r.kind,
            epic: ep ?? null,
            sprint: sp ?? null,
            points: r.points ?? null,
            assignee: r.assignee ?? null,
            labels: r.labels ?? [],
            links: [],
            column: r.status,
          },
          "user",
          now,
          { number: wantedNumber(r.key), note },
        ),
      );
      const c = s.cards.find((x) => x.key === k)!;
      c.createdAt = r.created ?? now;
      c.updatedAt = r.updated ?? now;
    }
  }
  return [s, report(current, s, "csv", ignored)];
}

// ---- the mock's commands ---------------------------------------------------------------------

export type BoardEnv = {
  now: () => number;
  emit: (events: Event[]) => void;
  /** Pipeline projects (a board exists for each, empty until something is added). */
  projects: () => string[];
};

export type BoardOptions = { seed: boolean };

const HOUR = 3_600_000;

export class MockBoard {
  boards = new Map<string, BoardState>();

  constructor(
    private env: BoardEnv,
    opts: BoardOptions,
  ) {
    if (opts.seed) this.seed();
  }

  /** Like Slipway::board_projects: projects with a board, and every pipeline project (sorted). */
  projects(): string[] {
    return [...new Set([...this.boards.keys(), ...this.env.projects()])].sort();
  }

  /** Like Slipway::board_project: the one named, else the only one, else `slipway`. */
  project(project: string | null | undefined): string {
    const p = project?.trim() ?? "";
    if (p !== "") {
      // eslint-disable-next-line no-control-regex
      if (p.length > 100 || /[\u0000-\u001f\u007f/]/.test(p)) {
        throw refused("Invalid project", `"${p}" is not a project id`, "Use the project's id, as `slipway project list` shows it");
      }
      return p;
    }
    const all = this.projects();
    if (all.length === 0) return "slipway";
    if (all.length === 1) return all[0];
    throw refused("Which board?", `there are ${all.length} projects with boards: ${all.join(", ")}`, "Name one with --project");
  }

  private state(project: string): BoardState {
    return this.boards.get(project) ?? newBoardState(project, this.env.now());
  }

  /**
   * Like Slipway::board_change: runs `f` on a copy of the board (a new one when it has none)
   * and keeps the copy only when it succeeds (one transaction), then announces the cards `f`
   * says it touched.
   */
  private change<T>(project: string | null, f: (s: BoardState, now: number) => [T, string[]]): T {
    const p = this.project(project);
    const s = structuredClone(this.state(p));
    const [out, cards] = f(s, this.env.now());
    s.board.project = p;
    this.boards.set(p, s);
    this.env.emit([{ type: "boardChanged", project: p, cards, by: "user" }]);
    return out;
  }

  data(project: string | null): BoardData {
    const s = this.state(this.project(project));
    return structuredClone({ board: s.board, cards: s.cards, epics: s.epics, sprints: s.sprints });
  }

  history(project: string | null, cardKey: string | null): BoardHistory {
    const s = this.state(this.project(project));
    let key: string | null = null;
    if (cardKey !== null) {
      const c = findCard(s, cardKey);
      if (c) key = c.key;
      else if (s.moves.some((m) => m.card === cardKey)) key = cardKey;
      else card(s, cardKey, "No history");
    }
    const keep = (k: string) => key === null || key === k;
    return structuredClone({ moves: s.moves.filter((m) => keep(m.card)), scope: s.scope.filter((x) => keep(x.card)) });
  }

  private static cardOf(s: BoardState, key: string): Card {
    return structuredClone(s.cards.find((c) => c.key === key)!);
  }

  createCard(project: string | null, input: CardInput): Card {
    return this.change(project, (s, now) => {
      const key = addCard(s, input, "user", now);
      return [MockBoard.cardOf(s, key), [key]];
    });
  }

  updateCard(project: string | null, key: string, input: CardInput): Card {
    return this.change(project, (s, now) => {
      const k = updateCard(s, key, input, "user", now);
      return [MockBoard.cardOf(s, k), [k]];
    });
  }

  moveCard(project: string | null, key: string, col: string, position: number | null): Card {
    return this.change(project, (s, now) => {
      const k = moveCard(s, key, col, position, "user", null, now);
      return [MockBoard.cardOf(s, k), [k]];
    });
  }

  deleteCard(project: string | null, key: string): string {
    return this.change(project, (s, now) => {
      const k = deleteCard(s, key, "user", now);
      return [k, [k]];
    });
  }

  createEpic(project: string | null, input: EpicInput): Epic {
    return this.change(project, (s, now) => {
      const k = addEpic(s, input, "user", now);
      return [structuredClone(findEpic(s, k)!), []];
    });
  }

  updateEpic(project: string | null, key: string, input: EpicInput): Epic {
    return this.change(project, (s, now) => {
      const k = updateEpic(s, key, input, now);
      return [structuredClone(findEpic(s, k)!), []];
    });
  }

  deleteEpic(project: string | null, key: string): null {
    return this.change(project, (s, now) => [null, deleteEpic(s, key, now)]);
  }

  createSprint(project: string | null, input: SprintInput): Sprint {
    return this.change(project, (s, now) => {
      const n = addSprint(s, input, now);
      return [structuredClone(findSprint(s, String(n))!), []];
    });
  }

  updateSprint(project: string | null, number: number, input: SprintInput): Sprint {
    return this.change(project, (s, now) => {
      const n = updateSprint(s, String(number), input, now);
      return [structuredClone(findSprint(s, String(n))!), []];
    });
  }

  /** `number` null: the oldest planned sprint. */
  startSprint(project: string | null, number: number | null, start: string | null, end: string | null): Sprint {
    return this.change(project, (s, now) => {
      let which = number === null ? null : String(number);
      if (which === null) {
        const planned = s.sprints.filter((x) => x.state === "planned").sort((a, b) => a.number - b.number)[0];
        if (!planned) throw refused("Sprint not started", "there is no planned sprint", "Add one first (`slipway board sprint add`)");
        which = String(planned.number);
      }
      const n = startSprint(s, which, start, end, now);
      return [structuredClone(findSprint(s, String(n))!), []];
    });
  }

  /** `number` null: the active sprint. */
  closeSprint(project: string | null, number: number | null, carryTo: number | null): Sprint {
    return this.change(project, (s, now) => {
      let which = number === null ? null : String(number);
      if (which === null) {
        const a = activeSprint(s);
        if (!a) throw refused("Sprint not closed", "no sprint is active", "Name the sprint to close");
        which = String(a.number);
      }
      const n = sprint(s, which, "Sprint not closed").number;
      const moved = closeSprint(s, which, carryTo === null ? null : String(carryTo), "user", now);
      return [structuredClone(findSprint(s, String(n))!), moved];
    });
  }

  deleteSprint(project: string | null, number: number): null {
    return this.change(project, (s, now) => [null, deleteSprint(s, String(number), "user", now)]);
  }

  setColumns(project: string | null, columns: Column[]): Board {
    return this.change(project, (s, now) => {
      setColumns(s, columns, now);
      return [structuredClone(s.board), []];
    });
  }

  setAutomation(project: string | null, on: boolean): Board {
    return this.change(project, (s, now) => {
      s.board.automation = on;
      touch(s, now);
      return [structuredClone(s.board), []];
    });
  }

  /** `number` null: the active sprint, else the newest closed one. */
  burndown(project: string | null, number: number | null): Burndown {
    const p = this.project(project);
    const s = this.state(p);
    let n = number;
    if (n === null) {
      const pick = activeSprint(s) ?? s.sprints.filter((x) => x.state === "closed").sort((a, b) => b.number - a.number)[0];
      if (!pick) throw refused("No burndown", `board ${p} has no active or closed sprint`, "Start a sprint first (`slipway board sprint start`)");
      n = pick.number;
    } else {
      n = sprint(s, String(n), "No burndown").number;
    }
    return burndown(s, n, this.env.now());
  }

  velocity(project: string | null): Velocity[] {
    return velocity(this.state(this.project(project)));
  }

  exportBoard(project: string | null, format: BoardFormat): string {
    const s = this.state(this.project(project));
    return format === "json" ? exportJson(s) : exportCsv(s);
  }

  /** JSON replaces the board, CSV merges its issues; any refusal leaves it as it was. */
  importBoard(project: string | null, format: BoardFormat, text: string): ImportReport {
    return this.change(project, (s, now) => {
      const [next, rep] = format === "json" ? importJson(s, text) : importCsv(s, text, now);
      Object.assign(s, next);
      return [rep, []];
    });
  }

  /**
   * What automation does to a card (a run failed, an apply finished, a deploy succeeded): moves
   * it to the first column of `category` with a note, as `automation`, unless the board's
   * automation is off. Tests call it to see a card move by itself.
   */
  automove(project: string, key: string, category: ColumnCategory, note: string): boolean {
    const s = structuredClone(this.state(project));
    if (!s.board.automation) return false;
    const c = s.cards.find((x) => x.key === key);
    if (!c || categoryOf(s, c.column) === category) return false;
    const to = firstColumn(s, category);
    if (!to) return false;
    moveCardInner(s, key, to.id, null, "automation", note, this.env.now(), false);
    this.boards.set(project, s);
    this.env.emit([{ type: "boardChanged", project, cards: [key], by: "automation" }]);
    return true;
  }

  /** A board of `count` cards (benchmarks): spread over the columns, epics, assignees and labels. */
  seedLarge(project: string, count: number): void {
    const t0 = this.env.now() - 30 * 24 * HOUR;
    const s = newBoardState(project, t0);
    const epics = ["Checkout", "Search", "Accounts", "Payments", "Observability", "Mobile"].map((title, i) =>
      addEpic(s, { title, color: EPIC_COLORS[i % EPIC_COLORS.length] }, "user", t0),
    );
    const sp = addSprint(s, { goal: "Everything", start: formatDate(dayOfMs(t0)), end: formatDate(dayOfMs(t0) + 13) }, t0);
    const people = ["ana", "ben", "chen", "dara", null];
    const labels = ["ui", "api", "db", "infra", "bug", "perf"];
    const columns = s.board.columns.map((c) => c.id);
    // Built directly (addCard's per-card normalize would be quadratic for thousands of cards).
    for (let i = 0; i < count; i++) {
      const number = takeNumber(s, null);
      const key = keyOf(s, number);
      const column = columns[i % columns.length];
      s.cards.push({
        key,
        number,
        kind: i % 7 === 0 ? "bug" : i % 3 === 0 ? "story" : "task",
        title: `Card ${i + 1}: ${["Tidy the", "Speed up the", "Test the", "Document the", "Fix the"][i % 5]} ${["cart", "search box", "login", "invoice", "log view", "deploy"][i % 6]}`,
        description: `Generated card ${i + 1}.`,
        epic: epics[i % epics.length],
        sprint: i % 4 === 0 ? sp : null,
        points: [1, 2, 3, 5, 8][i % 5],
        assignee: people[i % people.length],
        labels: [labels[i % labels.length]],
        links: [],
        column,
        rank: i,
        createdBy: i % 10 === 0 ? "automation" : "user",
        automationKey: null,
        createdAt: t0 + i,
        updatedAt: t0 + i,
      });
      s.moves.push({ card: key, from: null, to: column, at: t0 + i, by: i % 10 === 0 ? "automation" : "user", note: null });
    }
    normalizeRanks(s);
    this.boards.set(project, s);
  }

  // ---- the seeded board --------------------------------------------------------------------

  /**
   * The sample-app board: three epics, a backlog, Sprint 1 and Sprint 2 closed (Sprint 2 with
   * scope added, removed and re-estimated mid-sprint, the same history as the scope test of
   * burndown.rs: remaining 5, 17, 18, 10, 10), Sprint 3 active (started two days ago, ten days
   * long), Sprint 4 planned, and cards automation made (a failed Test stage linked to run
   * sample-app-2, the local deploy it finished).
   */
  private seed() {
    const today = dayOfMs(this.env.now());
    const at = (day: number, hour: number) => day * DAY_MS + hour * HOUR;
    const s = newBoardState("sample-app", at(today - 40, 9));
    const t = (day: number, hour: number) => at(day, hour);
    const add = (input: Partial<CardInput>, when: number, by: Actor = "user", opts: { automationKey?: string; note?: string } = {}) => addCard(s, input, by, when, opts);
    const move = (key: string, col: string, when: number, by: Actor = "user", note: string | null = null) => moveCard(s, key, col, null, by, note, when);

    const checkout = addEpic(s, { title: "Checkout flow", description: "Pay for the **cart** in one step.", color: EPIC_COLORS[0] }, "user", t(today - 40, 9));
    const search = addEpic(s, { title: "Search", description: "Find items by name and tag.", color: EPIC_COLORS[1] }, "user", t(today - 40, 9));
    const ops = addEpic(s, { title: "Observability", description: "Logs, metrics and alerts for the sample app.", color: EPIC_COLORS[2] }, "user", t(today - 40, 9));

    // Sprint 1: days -30..-26, 8 points, all done.
    const d1 = today - 30;
    const s1 = addSprint(s, { name: "Sprint 1", goal: "A first page of items", start: formatDate(d1), end: formatDate(d1 + 4) }, t(d1 - 1, 9));
    const a1 = add({ title: "List items from the database", points: 5, sprint: s1, epic: search, assignee: "ana", labels: ["api"] }, t(d1 - 1, 10));
    const b1 = add({ title: "Items page", points: 3, sprint: s1, epic: search, assignee: "ben", labels: ["ui"] }, t(d1 - 1, 10));
    startSprint(s, String(s1), null, null, t(d1, 9));
    move(a1, "in-progress", t(d1, 10));
    move(a1, "done", t(d1 + 1, 15));
    move(b1, "in-progress", t(d1 + 2, 10));
    move(b1, "in-review", t(d1 + 3, 11));
    move(b1, "done", t(d1 + 3, 16));
    closeSprint(s, String(s1), null, "user", t(d1 + 4, 17));

    // Sprint 2: days -11..-7, 10 points committed; the scope test of burndown.rs.
    const d2 = today - 11;
    const s2 = addSprint(s, { name: "Sprint 2", goal: "Pay for the cart", start: formatDate(d2), end: formatDate(d2 + 4) }, t(d2 - 1, 9));
    const a = add({ title: "Cart totals", points: 5, sprint: s2, epic: checkout, assignee: "ana", labels: ["api"] }, t(d2 - 1, 10));
    const b = add({ title: "Coupon codes", points: 3, sprint: s2, epic: checkout, assignee: "ben", labels: ["api"] }, t(d2 - 1, 10));
    const c = add({ title: "Payment form", points: 2, sprint: s2, epic: checkout, assignee: "chen", labels: ["ui"] }, t(d2 - 1, 10));
    const pulled = add({ title: "Receipt e-mail", points: 8, epic: checkout, labels: ["api"] }, t(d2 - 1, 10));
    startSprint(s, String(s2), null, null, t(d2, 9));
    move(a, "done", t(d2, 16));
    const e = add({ title: "Card declined message", points: 4, sprint: s2, epic: checkout, assignee: "chen", labels: ["ui"], description: "Show *why* the card was declined." }, t(d2 + 1, 10));
    updateCard(s, pulled, { ...inputOf(s, pulled), sprint: s2 }, "user", t(d2 + 1, 11));
    updateCard(s, b, { ...inputOf(s, b), sprint: null }, "user", t(d2 + 2, 10));
    updateCard(s, c, { ...inputOf(s, c), points: 6 }, "user", t(d2 + 2, 12));
    deleteCard(s, pulled, "user", t(d2 + 3, 9));
    const s3 = addSprint(s, { name: "Sprint 3", goal: "Checkout in production, searchable items" }, t(d2 + 4, 11));
    closeSprint(s, String(s2), String(s3), "user", t(d2 + 4, 17));

    // Sprint 3: active, days -2..+7 (carried: Payment form 6, Card declined message 4).
    const d3 = today - 2;
    const f = add({ title: "Search by tag", points: 3, sprint: s3, epic: search, assignee: "ana", labels: ["api", "search"] }, t(d3 - 1, 10));
    const g = add({ title: "Request metrics", points: 2, sprint: s3, epic: ops, assignee: "dara", labels: ["infra"] }, t(d3 - 1, 10));
    updateSprint(s, String(s3), { name: "Sprint 3", goal: "Checkout in production, searchable items", start: formatDate(d3), end: formatDate(d3 + 9) }, t(d3 - 1, 11));
    startSprint(s, String(s3), null, null, t(d3, 9));
    move(c, "in-progress", t(d3, 10));
    move(f, "in-progress", t(d3, 11));
    move(f, "done", t(d3 + 1, 15));
    move(e, "in-review", t(d3 + 1, 16));
    add({ title: "Alert on 5xx rate", points: 1, sprint: s3, epic: ops, assignee: "dara", labels: ["infra"] }, t(d3 + 1, 17));
    void g;

    // Automation: the Test stage of run sample-app-2 failed; run sample-app-1 deployed locally.
    add(
      {
        title: "Test stage fails on sample-app",
        kind: "bug",
        description: "The Test stage of project sample-app failed in run sample-app-2.\n\n**Tests of backend failed**: 1 of 9 failed: test_items_lists_the_seed_rows\n\nNext: fix them",
        labels: ["pipeline"],
        links: [{ kind: "run", target: "sample-app-2", label: "run sample-app-2" }],
      },
      this.env.now() - 5 * HOUR,
      "automation",
      { automationKey: "pipeline:sample-app:test", note: "test failed in run sample-app-2" },
    );
    const dep = add(
      {
        title: "Deploy sample-app to local",
        description: "Deploys of project sample-app to environment local: moved to Done when a deploy succeeds.",
        labels: ["deploy"],
        links: [
          { kind: "run", target: "sample-app-1", label: "run sample-app-1" },
          { kind: "revision", target: "sample-app/local/1", label: "revision 1" },
        ],
        column: "in-progress",
      },
      this.env.now() - 26 * HOUR,
      "automation",
      { automationKey: "deploy:sample-app:local", note: "deploy started by run sample-app-1" },
    );
    move(dep, "done", this.env.now() - 25 * HOUR, "automation", "deployed by run sample-app-1");

    // Backlog and Sprint 4.
    add({ title: "Search suggestions", points: 5, epic: search, labels: ["ui", "search"] }, t(today - 3, 10));
    add({ title: "Dashboards for the API", points: 3, epic: ops, labels: ["infra"], description: "Grafana or the cloud's own.\n\n- latency\n- error rate\n- `db` connections" }, t(today - 3, 10));
    add({ title: "Flaky login test", kind: "bug", labels: ["bug"], assignee: "ben" }, t(today - 1, 10));
    addSprint(s, { name: "Sprint 4", goal: "Observability", start: formatDate(d3 + 10), end: formatDate(d3 + 19) }, t(today - 1, 11));
    this.boards.set("sample-app", s);
  }
}

/** A card's editable fields, as an input that changes nothing. */
export function inputOf(s: BoardState, key: string): CardInput {
  const c = s.cards.find((x) => x.key === key)!;
  return structuredClone({ title: c.title, description: c.description, kind: c.kind, epic: c.epic, sprint: c.sprint, points: c.points, assignee: c.assignee, labels: c.labels, links: c.links, column: null });
}

export const EPIC_COLORS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#db2777", "#0891b2"];
