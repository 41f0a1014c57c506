// The mock board is a port of crates/core/src/board: these are the Rust unit tests of ops.rs,
// burndown.rs and exchange.rs with the same inputs and the same expected values, so the mock the
// UI tests run against answers like the real thing.
import { describe, expect, test } from "vitest";

import type { BoardState } from "../bindings/BoardState";
import type { CardInput } from "../bindings/CardInput";
import {
  DAY_MS,
  MockBoard,
  addCard,
  addEpic,
  addSprint,
  burndown,
  closeSprint,
  daysFromCivil,
  defaultColumns,
  deleteCard,
  deleteEpic,
  exportCsv,
  exportJson,
  findCard,
  findSprint,
  formatTimestamp,
  importCsv,
  importJson,
  keyPrefixFor,
  moveCard,
  newBoardState,
  parseCsv,
  parseTimestamp,
  setColumns,
  splitKey,
  startSprint,
  updateCard,
  updateSprint,
  velocity,
} from "./mockBoard";

const H = 3_600_000;
/** Noon-relative hours of a day of March 2026 (the sprint runs from the 2nd to the 6th). */
const at = (day: number, hour: number) => daysFromCivil(2026, 3, day) * DAY_MS + hour * H;
const card = (title: string, points: number | null, sprint: number | null = null): Partial<CardInput> => ({ title, points, sprint });
const remaining = (s: BoardState, n: number, now: number) => burndown(s, n, now).days.map((d) => d.remaining);

function sprintBoard(): [BoardState, [string, string, string]] {
  const b = newBoardState("shop", at(1, 9));
  const s = addSprint(b, { start: "2026-03-02", end: "2026-03-06" }, at(1, 9));
  const a = addCard(b, card("A", 5, s), "user", at(1, 10));
  const c = addCard(b, card("B", 3, s), "user", at(1, 10));
  const d = addCard(b, card("C", 2, s), "user", at(1, 10));
  addCard(b, card("Not in the sprint", 8), "user", at(1, 10));
  startSprint(b, "1", null, null, at(2, 9));
  return [b, [a, c, d]];
}

function catchErr(f: () => unknown) {
  try {
    f();
  } catch (e) {
    return e as { what: string; why: string; fix: string };
  }
  throw new Error("expected a refusal");
}

describe("ops (ops.rs)", () => {
  test("key prefixes", () => {
    expect(["slipway", "shop", "sample-app", "aei", "x", "9lives", ""].map(keyPrefixFor)).toEqual(["SLP", "SHP", "SMP", "AEI", "X", "P9LV", "CARD"]);
    expect(splitKey("SLP-12")).toEqual(["SLP", 12]);
    expect(splitKey("SLP-")).toBeNull();
    expect(splitKey("12")).toBeNull();
  });

  test("cards get keys, ranks and history", () => {
    const b = newBoardState("slipway", 1);
    const a = addCard(b, card("First", 3), "user", 10);
    const c = addCard(b, { ...card("Second", null), column: "In Progress" }, "user", 11);
    const d = addCard(b, card("Third", 1), "user", 12);
    expect([a, c, d]).toEqual(["SLP-1", "SLP-2", "SLP-3"]);
    expect(findCard(b, "2")!.column).toBe("in-progress");
    expect(findCard(b, "slp-3")!.rank).toBe(1);
    moveCard(b, "SLP-3", "in-progress", 0, "user", null, 20);
    expect(b.cards.filter((x) => x.column === "in-progress").map((x) => [x.key, x.rank])).toEqual([["SLP-3", 0], ["SLP-2", 1]]);
    expect(findCard(b, "SLP-1")!.rank).toBe(0);
    expect(b.moves.at(-1)).toMatchObject({ from: "todo", to: "in-progress", at: 20, by: "user" });
    const n = b.moves.length;
    moveCard(b, "SLP-2", "in-progress", 0, "user", null, 21);
    expect(b.moves.length).toBe(n);
    deleteCard(b, "SLP-1", "user", 30);
    expect(b.moves.at(-1)!.to).toBeNull();
    expect(addCard(b, card("Fourth", null), "user", 31)).toBe("SLP-4");
  });

  test("moves are validated; WIP limits stop people, not automation", () => {
    const b = newBoardState("shop", 1);
    addCard(b, card("A", null), "user", 2);
    const e = catchErr(() => moveCard(b, "SHP-1", "Blocked", null, "user", null, 3));
    expect(e.what).toBe("Card not moved");
    expect(e.why).toBe('there is no column "Blocked" on board shop (columns: To do, In progress, In review, Done)');
    expect(catchErr(() => moveCard(b, "SHP-9", "done", null, "user", null, 3)).why).toContain('no card "SHP-9"');
    const cols = defaultColumns();
    cols[1].wipLimit = 1;
    setColumns(b, cols, 4);
    addCard(b, card("B", null), "user", 5);
    moveCard(b, "SHP-1", "in-progress", null, "user", null, 6);
    const w = catchErr(() => moveCard(b, "SHP-2", "in-progress", null, "user", null, 7));
    expect(w.why).toBe("In progress already holds 1 cards, its work-in-progress limit");
    moveCard(b, "SHP-2", "in-progress", null, "automation", "apply", 8);
    expect(b.moves.at(-1)!.by).toBe("automation");
  });

  test("card inputs are checked", () => {
    const b = newBoardState("shop", 1);
    expect(catchErr(() => addCard(b, card("  ", null), "user", 2)).why).toBe("the title is empty");
    expect(catchErr(() => addCard(b, { ...card("A", null), epic: "Nope" }, "user", 2)).why).toContain('no epic "Nope"');
    expect(catchErr(() => addCard(b, { ...card("A", null), sprint: 4 }, "user", 2)).why).toContain('no sprint "4"');
    expect(catchErr(() => addCard(b, { ...card("A", null), links: [{ kind: "url", target: "ftp://x", label: null }] }, "user", 2)).why).toContain("not an http(s) URL");
    expect(catchErr(() => addCard(b, card("A", 5000), "user", 2)).why).toContain("more than 1000");
    expect(b.cards).toEqual([]);
    const epic = addEpic(b, { title: "Checkout" }, "user", 3);
    const k = addCard(b, { ...card("A", null), epic: "checkout", labels: ["a b", "a"] }, "user", 4);
    expect(findCard(b, k)!.epic).toBe(epic);
    expect(findCard(b, k)!.labels).toEqual(["a", "b"]);
    expect(deleteEpic(b, epic, 5)).toEqual([k]);
    expect(findCard(b, k)!.epic).toBeNull();
  });

  test("sprints start, close and carry unfinished cards", () => {
    const b = newBoardState("shop", 1);
    const s1 = addSprint(b, { goal: "Ship it", start: "2026-03-02", end: "2026-03-13" }, 2);
    const s2 = addSprint(b, {}, 2);
    expect(findSprint(b, "sprint 2")!.number).toBe(s2);
    expect(catchErr(() => addSprint(b, { start: "2026-03-10", end: "2026-03-01" }, 2)).why).toContain("before it starts");
    expect(catchErr(() => addSprint(b, { name: "Sprint 1" }, 2)).why).toContain("already a sprint");
    const a = addCard(b, card("A", 3, s1), "user", 3);
    const c = addCard(b, card("B", 2, s1), "user", 3);
    startSprint(b, "1", null, null, 4);
    expect(catchErr(() => startSprint(b, "2", null, null, 5)).why).toBe("Sprint 1 is still active");
    moveCard(b, a, "done", null, "user", null, 6);
    expect(closeSprint(b, "1", "2", "user", 8)).toEqual([c]);
    expect(findCard(b, c)!.sprint).toBe(s2);
    expect(findCard(b, a)!.sprint).toBe(s1);
    expect(catchErr(() => updateCard(b, c, { ...card("B", 2, s1) }, "user", 9)).why).toBe("Sprint 1 is closed");
    expect(catchErr(() => startSprint(b, "2", null, null, 9)).why).toBe("Sprint 2 has no end date");
    startSprint(b, "2", "2026-03-16", "2026-03-27", 10);
    expect(b.scope.map((x) => [x.sprint, x.kind])).toEqual([[1, "added"], [1, "added"], [1, "removed"], [2, "added"]]);
  });

  test("columns keep a done column and their cards", () => {
    const b = newBoardState("shop", 1);
    addCard(b, { ...card("A", null), column: "In review" }, "user", 2);
    const cols = defaultColumns().filter((c) => c.id !== "in-review");
    expect(catchErr(() => setColumns(b, cols, 3)).why).toBe("column In review still holds 1 card");
    expect(catchErr(() => setColumns(b, cols.map((c) => ({ ...c, category: "todo" as const })), 3)).why).toBe("no column is a done column");
  });
});

describe("burndown (burndown.rs)", () => {
  test("remaining per day against the ideal line", () => {
    const [b, [a, c]] = sprintBoard();
    moveCard(b, a, "in-progress", null, "user", null, at(2, 10));
    moveCard(b, a, "done", null, "user", null, at(3, 15));
    moveCard(b, c, "done", null, "automation", "deployed", at(4, 11));
    const bd = burndown(b, 1, at(4, 18));
    expect([bd.start, bd.end, bd.committed]).toEqual(["2026-03-02", "2026-03-06", 10]);
    expect(bd.days.map((d) => d.remaining)).toEqual([10, 5, 2, null, null]);
    expect(bd.days.map((d) => d.ideal)).toEqual([10, 7.5, 5, 2.5, 0]);
    expect([bd.completed, bd.remaining, bd.scopeAdded, bd.scopeRemoved]).toEqual([8, 2, 0, 0]);
    moveCard(b, a, "In review", null, "user", null, at(5, 9));
    expect(remaining(b, 1, at(5, 10))).toEqual([10, 5, 2, 7, null]);
  });

  test("scope added and removed mid-sprint moves the remaining but not the ideal line", () => {
    const [b, [a, c, d]] = sprintBoard();
    moveCard(b, a, "done", null, "user", null, at(2, 16));
    const e = addCard(b, card("E", 4, 1), "user", at(3, 10));
    const pulled = b.cards.find((x) => x.title === "Not in the sprint")!.key;
    updateCard(b, pulled, card("Not in the sprint", 8, 1), "user", at(3, 11));
    updateCard(b, c, card("B", 3, null), "user", at(4, 10));
    updateCard(b, d, card("C", 6, 1), "user", at(4, 12));
    deleteCard(b, pulled, "user", at(5, 9));
    const bd = burndown(b, 1, at(6, 20));
    expect(bd.committed).toBe(10);
    expect(bd.days.map((x) => x.remaining)).toEqual([5, 17, 18, 10, 10]);
    expect(bd.days.map((x) => x.scopeAdded)).toEqual([0, 12, 4, 0, 0]);
    expect(bd.days.map((x) => x.scopeRemoved)).toEqual([0, 0, 3, 8, 0]);
    expect([bd.scopeAdded, bd.scopeRemoved]).toEqual([16, 11]);
    expect(bd.scopeChanges.length).toBe(5);
    expect(bd.scopeChanges[0].card).toBe(e);
    expect([bd.remaining, bd.completed]).toEqual([10, 5]);
  });

  test("a closed sprint ends as it was before unfinished cards left; velocity counts it", () => {
    const [b, [a, c]] = sprintBoard();
    moveCard(b, a, "done", null, "user", null, at(3, 10));
    moveCard(b, c, "done", null, "user", null, at(5, 10));
    addSprint(b, {}, at(5, 11));
    const carried = closeSprint(b, "1", "2", "user", at(6, 17));
    expect(carried.length).toBe(1);
    moveCard(b, carried[0], "done", null, "user", null, at(9, 10));
    const bd = burndown(b, 1, at(12, 0));
    expect(bd.state).toBe("closed");
    expect(bd.days.map((x) => x.remaining)).toEqual([10, 5, 5, 2, 2]);
    expect([bd.committed, bd.completed, bd.remaining, bd.scopeRemoved]).toEqual([10, 8, 2, 0]);
    expect(velocity(b)).toEqual([{ sprint: 1, name: "Sprint 1", committed: 10, completed: 8 }]);
    updateSprint(b, "2", { name: null, goal: "", start: "2026-03-09", end: "2026-03-13" }, at(8, 0));
    startSprint(b, "2", null, null, at(9, 8));
    closeSprint(b, "2", null, "user", at(13, 17));
    expect(velocity(b).map((v) => [v.sprint, v.committed, v.completed])).toEqual([[1, 10, 8], [2, 2, 2]]);
  });

  test("planned sprints and sprints without dates", () => {
    const b = newBoardState("shop", 0);
    addSprint(b, {}, 0);
    expect(catchErr(() => burndown(b, 1, 0)).why).toBe("Sprint 1 has no dates");
    expect(catchErr(() => burndown(b, 7, 0)).why).toContain("no sprint 7");
    updateSprint(b, "1", { start: "2026-03-02", end: "2026-03-03" }, 1);
    addCard(b, card("A", 3, 1), "user", 2);
    const bd = burndown(b, 1, 3);
    expect([bd.committed, bd.days.map((d) => d.remaining)]).toEqual([3, [null, null]]);
    expect(bd.days.map((d) => d.ideal)).toEqual([3, 0]);
    // Started two days late: the days before are unknown, not zero.
    startSprint(b, "1", "2026-03-02", "2026-03-05", at(4, 9));
    const late = burndown(b, 1, at(4, 10));
    expect(late.days.map((d) => d.remaining)).toEqual([null, null, 3, null]);
    expect(late.committed).toBe(3);
  });
});

describe("export and import (exchange.rs)", () => {
  function sample(): BoardState {
    const b = newBoardState("shop", 1_700_000_000_000);
    const now = 1_700_000_100_000;
    const e = addEpic(b, { title: "Checkout", description: 'Pay, "quickly"' }, "user", now);
    addSprint(b, { name: "Sprint A", goal: "Go", start: "2026-03-02", end: "2026-03-13" }, now);
    addCard(
      b,
      {
        title: "Card form",
        description: 'Line one\nline "two", with a comma',
        kind: "story",
        epic: e,
        sprint: 1,
        points: 5,
        assignee: "ana",
        labels: ["ui", "payments"],
        links: [{ kind: "url", target: "https://example.com/x", label: null }],
        column: "In progress",
      },
      "user",
      now,
    );
    addCard(b, { title: "Flaky test", kind: "bug", points: 2 }, "automation", now);
    addCard(b, { title: "Done thing", column: "done", sprint: 1, points: 1 }, "user", now);
    return b;
  }

  test("JSON round-trips the whole board", () => {
    const b = sample();
    const other = newBoardState("shop", 5);
    addCard(other, card("Will be replaced", null), "user", 6);
    const [got, r] = importJson(other, exportJson(b));
    expect(got).toEqual(b);
    expect([r.cardsCreated, r.cardsUpdated, r.epicsCreated]).toEqual([3, 0, 1]);
  });

  test("bad JSON is refused with the line or the card", () => {
    const b = sample();
    const e = catchErr(() => importJson(b, '{\n  "version": 1,\n  "board": nope\n}'));
    expect(e.what).toBe("Import refused: the board is unchanged");
    expect(e.why).toMatch(/^line 3, column/);
    const v = JSON.parse(exportJson(b));
    v.cards[0].column = "blocked";
    expect(catchErr(() => importJson(b, JSON.stringify(v))).why).toContain('card SHP-3 is in column "blocked"');
    v.version = 9;
    expect(catchErr(() => importJson(b, JSON.stringify(v))).why).toContain("version 9");
  });

  test("CSV has Jira's columns and repeats Labels", () => {
    const text = exportCsv(sample());
    expect(text.split("\n")[0]).toBe("Issue key,Issue Type,Summary,Description,Status,Story Points,Assignee,Labels,Labels,Epic Link,Epic Name,Sprint,Created,Updated");
    const rows = parseCsv(text).slice(1).map((r) => r.fields);
    expect(rows[0].slice(0, 5)).toEqual(["SHP-1", "Epic", "Checkout", 'Pay, "quickly"', "To do"]);
    expect(rows.map((r) => r[0])).toEqual(["SHP-1", "SHP-3", "SHP-2", "SHP-4"]);
    expect(rows[2].slice(0, 9)).toEqual(["SHP-2", "Story", "Card form", 'Line one\nline "two", with a comma', "In progress", "5", "ana", "ui", "payments"]);
    expect(rows[2][12]).toBe("2023-11-14 22:15");
  });

  test("CSV round trip changes nothing; into a new board it keeps every field", () => {
    const b = sample();
    const text = exportCsv(b);
    const [same, r] = importCsv(b, text, 9);
    expect(same).toEqual(b);
    expect([r.cardsCreated, r.cardsUpdated, r.epicsUpdated]).toEqual([0, 0, 0]);
    const [fresh, r2] = importCsv(newBoardState("shop", 1), text, 9);
    expect([r2.cardsCreated, r2.epicsCreated, r2.sprintsCreated]).toEqual([3, 1, 1]);
    const strip = (s: BoardState) => s.cards.map((c) => [c.key, c.kind, c.title, c.description, c.column, c.points, c.assignee, c.labels, c.epic, c.sprint]);
    expect(strip(fresh)).toEqual(strip(b));
    const [again] = importCsv(fresh, text, 10);
    expect(again).toEqual(fresh);
  });

  test("a malformed CSV names every bad line and changes nothing", () => {
    const b = sample();
    const before = structuredClone(b);
    const text =
      "Issue key,Summary,Story Points,Status,Labels,Labels,Epic Link,Created\n" +
      "SHP-2,Card form,5,In progress,ui,,,\n" +
      ",New one,3,To do,a,b,Checkout,2026-01-01 10:00\n" +
      ",Bad points,abc,To do,,,,\n" +
      ",Bad status,1,Blocked,,,,\n" +
      "X,Bad key,1,,,,,\n" +
      ",,2,,,,,\n" +
      ",Bad epic,1,,,,Nope,\n" +
      ",Bad date,1,,,,,tomorrow\n";
    const e = catchErr(() => importCsv(b, text, 9));
    expect(e.what).toBe("Import refused: the board is unchanged");
    expect(e.why.startsWith('line 4: Story Points "abc" is not a number')).toBe(true);
    for (const part of [
      'line 5: Status "Blocked" is not a column of this board (columns: To do, In progress, In review, Done)',
      'line 6: Issue key "X" is not a key like SLP-12',
      "line 7: Summary is empty",
      'line 8: Epic Link "Nope" is not an epic',
      'line 9: Created "tomorrow" is not a date (use YYYY-MM-DD HH:MM)',
    ]) {
      expect(e.why).toContain(part);
    }
    expect(e.fix).toContain("from line 4");
    const u = catchErr(() => importCsv(b, "Summary,Story Points\nA,1\nB,2,3\n", 9));
    expect(u.why).toBe("line 3: it has 3 fields where the header has 2");
    expect(u.fix).toBe("Fix line 3 and import the file again; nothing was imported");
    expect(catchErr(() => importCsv(b, "Key,Title Of Thing\nA,1\n", 9)).why).toMatch(/^line 1: there is no Summary column/);
    expect(catchErr(() => importCsv(b, "Summary,Status,Status\nA,To do,Done\n", 9)).why).toContain('"Status" appears twice');
    expect(catchErr(() => importCsv(b, "Issue key,Summary\nSHP-7,A\nshp-7,B\n", 9)).why).toContain("line 3: Issue key shp-7 appears twice (first on line 2)");
    expect(catchErr(() => importCsv(b, "Issue key,Issue Type,Summary\nSHP-1,Task,A\n", 9)).why).toContain("line 2: SHP-1 is an epic on this board");
    expect(b).toEqual(before);
  });

  test("a Jira export merges in", () => {
    const b = sample();
    const text =
      "\uFEFFSummary,Issue key,Issue id,Issue Type,Status,Custom field (Story Points),Labels,Labels,Sprint,Sprint,Custom field (Epic Link),Created\n" +
      "Card form renamed,SHP-2,10002,Story,Done,8.0,ui payments,,Sprint A,,Checkout,14/Nov/23 10:15 PM\n" +
      "From Jira,JRA-41,10041,Improvement,In Review,3,,,Sprint A,Sprint 9,SHP-1,01/Dec/25 9:00 AM\n";
    const [s, r] = importCsv(b, text, 1_800_000_000_000);
    expect(r.ignoredColumns).toEqual(["Issue id"]);
    expect([r.cardsCreated, r.cardsUpdated, r.sprintsCreated]).toEqual([1, 1, 1]);
    const c = findCard(s, "SHP-2")!;
    expect([c.title, c.points, c.column]).toEqual(["Card form renamed", 8, "done"]);
    expect(c.labels).toEqual(["ui", "payments"]);
    expect(c.links.length).toBe(1);
    expect(s.moves.at(-1)).toMatchObject({ card: "SHP-5", note: "imported" });
    const n = findCard(s, "SHP-5")!;
    expect([n.kind, n.column, n.epic, n.points]).toEqual(["story", "in-review", "SHP-1", 3]);
    expect(findSprint(s, "Sprint 9")!.number).toBe(n.sprint);
    expect(s.scope.filter((x) => x.kind === "points").length).toBe(1);
    const [s2] = importCsv(newBoardState("shop", 1), "Issue key,Summary\nSHP-40,A\n,B\n", 2);
    expect(s2.cards.map((x) => x.key)).toEqual(["SHP-40", "SHP-41"]);
  });

  test("timestamps (dates.rs)", () => {
    const t = parseTimestamp("2026-11-27 04:05")!;
    expect(formatTimestamp(t)).toBe("2026-11-27 04:05");
    expect(parseTimestamp("2026-11-27T04:05:00Z")).toBe(t);
    expect(parseTimestamp("27/Nov/26 4:05 AM")).toBe(t);
    expect(parseTimestamp("27/Nov/26 4:05 PM")).toBe(t + 12 * H);
    expect(parseTimestamp("27/Nov/26 12:05 AM")).toBe(t - 4 * H);
    expect(parseTimestamp("yesterday")).toBeNull();
    expect(parseTimestamp("2026-11-27 25:00")).toBeNull();
  });
});

describe("the seeded sample-app board", () => {
  const env = { now: () => Date.now(), emit: () => {}, projects: () => ["sample-app"] };

  test("Sprint 2 is the mid-sprint scope change, closed; velocity of Sprints 1 and 2", () => {
    const m = new MockBoard(env, { seed: true });
    const bd = m.burndown("sample-app", 2);
    expect(bd.state).toBe("closed");
    expect(bd.days.map((d) => d.remaining)).toEqual([5, 17, 18, 10, 10]);
    expect(bd.days.map((d) => d.ideal)).toEqual([10, 7.5, 5, 2.5, 0]);
    expect(bd.days.map((d) => [d.scopeAdded, d.scopeRemoved])).toEqual([[0, 0], [12, 0], [4, 3], [0, 8], [0, 0]]);
    expect(m.velocity("sample-app")).toEqual([
      { sprint: 1, name: "Sprint 1", committed: 8, completed: 8 },
      { sprint: 2, name: "Sprint 2", committed: 10, completed: 5 },
    ]);
    const active = m.data("sample-app").sprints.find((s) => s.state === "active")!;
    const b3 = m.burndown("sample-app", active.number);
    expect(b3.committed).toBe(15); // carried 6 + 4, new 3 + 2
    // Started two days ago: day 1 Search by tag done (-3) and a 1-point card added (+1); today as yesterday; then days to come.
    expect(b3.days.map((d) => d.remaining).slice(0, 4)).toEqual([15, 13, 13, null]);
  });

  test("a refused command leaves the board as it was and emits nothing", () => {
    const events: unknown[] = [];
    const m = new MockBoard({ ...env, emit: (e) => events.push(...e) }, { seed: true });
    const before = JSON.stringify(m.boards.get("sample-app"));
    expect(() => m.importBoard("sample-app", "csv", "Summary,Story Points\nA,x\n")).toThrow();
    expect(() => m.moveCard("sample-app", "SMP-1", "Nowhere", null)).toThrow();
    expect(JSON.stringify(m.boards.get("sample-app"))).toBe(before);
    expect(events).toEqual([]);
  });
});
