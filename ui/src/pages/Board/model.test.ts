import { describe, expect, test } from "vitest";

import type { Burndown } from "../../bindings/Burndown";
import type { Card } from "../../bindings/Card";
import type { Column } from "../../bindings/Column";
import type { Epic } from "../../bindings/Epic";
import {
  ACTIVE,
  BACKLOG,
  NONE,
  NO_FILTERS,
  applyMove,
  automationNote,
  burndownChart,
  choices,
  columnCounts,
  dropTarget,
  epicColor,
  filterCards,
  groupCards,
  lastMoves,
  linkHref,
  niceMax,
  parseLabels,
  parsePoints,
  sameCardView,
  velocityChart,
  wipState,
} from "./model";

/** Four columns, as a new board has them. */
const col = (id: string, name: string, order: number, category: Column["category"]): Column => ({ id, name, order, category, wipLimit: null });
const columns: Column[] = [col("todo", "To do", 0, "todo"), col("in-progress", "In progress", 1, "inProgress"), col("in-review", "In review", 2, "inProgress"), col("done", "Done", 3, "done")];

function card(key: string, column: string, rank: number, extra: Partial<Card> = {}): Card {
  return {
    key,
    number: Number(key.split("-")[1]),
    kind: "task",
    title: `Card ${key}`,
    description: "",
    epic: null,
    sprint: null,
    points: null,
    assignee: null,
    labels: [],
    links: [],
    column,
    rank,
    createdBy: "user",
    automationKey: null,
    createdAt: 0,
    updatedAt: 0,
    ...extra,
  };
}

function epic(key: string, title: string, color: string | null = null): Epic {
  return { key, number: Number(key.split("-")[1]), title, description: "", color, done: false, createdBy: "user", automationKey: null, createdAt: 0, updatedAt: 0 };
}

const cards = [
  card("S-1", "todo", 0, { title: "Cart totals", epic: "S-10", assignee: "ana", labels: ["api"], points: 5, sprint: 1 }),
  card("S-2", "todo", 1, { title: "Coupon codes", description: "Ten percent off", assignee: "ben", labels: ["api", "ui"], points: 3 }),
  card("S-3", "in-progress", 0, { title: "Payment form", epic: "S-10", labels: ["ui"], points: 2, sprint: 2 }),
  card("S-4", "done", 0, { title: "Search box", epic: "S-11", assignee: "ana", sprint: 2 }),
];
const keys = (cs: Card[]) => cs.map((c) => c.key);

describe("filters", () => {
  test("no filter returns the same list", () => {
    expect(filterCards(cards, NO_FILTERS, null)).toBe(cards);
  });

  test("text matches every word in key, title, description, assignee and labels, any case", () => {
    expect(keys(filterCards(cards, { ...NO_FILTERS, text: "percent" }, null))).toEqual(["S-2"]);
    expect(keys(filterCards(cards, { ...NO_FILTERS, text: "s-3" }, null))).toEqual(["S-3"]);
    expect(keys(filterCards(cards, { ...NO_FILTERS, text: "ANA cart" }, null))).toEqual(["S-1"]);
    expect(keys(filterCards(cards, { ...NO_FILTERS, text: "ui" }, null))).toEqual(["S-2", "S-3"]);
  });

  test("epic, assignee, label and sprint; none means without one", () => {
    expect(keys(filterCards(cards, { ...NO_FILTERS, epic: "S-10" }, null))).toEqual(["S-1", "S-3"]);
    expect(keys(filterCards(cards, { ...NO_FILTERS, epic: NONE }, null))).toEqual(["S-2"]);
    expect(keys(filterCards(cards, { ...NO_FILTERS, assignee: NONE }, null))).toEqual(["S-3"]);
    expect(keys(filterCards(cards, { ...NO_FILTERS, label: "api", assignee: "ana" }, null))).toEqual(["S-1"]);
    expect(keys(filterCards(cards, { ...NO_FILTERS, sprint: BACKLOG }, null))).toEqual(["S-2"]);
    expect(keys(filterCards(cards, { ...NO_FILTERS, sprint: "2" }, null))).toEqual(["S-3", "S-4"]);
    expect(keys(filterCards(cards, { ...NO_FILTERS, sprint: ACTIVE }, 1))).toEqual(["S-1"]);
    expect(keys(filterCards(cards, { ...NO_FILTERS, sprint: ACTIVE }, null))).toEqual([]);
  });

  test("choices are the assignees and labels on the board, sorted", () => {
    expect(choices(cards)).toEqual({ assignees: ["ana", "ben"], labels: ["api", "ui"] });
  });
});

describe("swimlanes", () => {
  const epics = [epic("S-11", "Search"), epic("S-10", "Checkout")];

  test("off: one lane with every column, cards in rank order", () => {
    const [lane, ...rest] = groupCards(cards, columns, epics, false);
    expect(rest).toEqual([]);
    expect(lane.id).toBe("all");
    expect([...lane.byColumn.keys()]).toEqual(["todo", "in-progress", "in-review", "done"]);
    expect(keys(lane.byColumn.get("todo")!)).toEqual(["S-1", "S-2"]);
    expect(lane.byColumn.get("in-review")).toEqual([]);
    expect([lane.count, lane.points]).toEqual([4, 10]);
  });

  test("on: a lane per epic with cards, in the epics' order, then the cards without one", () => {
    const lanes = groupCards(cards, columns, epics, true);
    expect(lanes.map((l) => l.id)).toEqual(["S-11", "S-10", "no-epic"]);
    expect(keys(lanes[1].byColumn.get("todo")!)).toEqual(["S-1"]);
    expect(keys(lanes[1].byColumn.get("in-progress")!)).toEqual(["S-3"]);
    expect([lanes[1].count, lanes[1].points]).toEqual([2, 7]);
    expect(keys(lanes[2].byColumn.get("todo")!)).toEqual(["S-2"]);
  });

  test("a card of an unknown epic goes to the no-epic lane; of an unknown column nowhere", () => {
    const odd = [card("S-7", "todo", 0, { epic: "S-99" }), card("S-8", "gone", 0)];
    const lanes = groupCards(odd, columns, epics, true);
    expect(lanes.map((l) => [l.id, l.count])).toEqual([["no-epic", 1]]);
  });

  test("grouping 2,000 cards is one pass (well under 50 ms)", () => {
    const many = Array.from({ length: 2000 }, (_, i) => card(`S-${i + 1}`, columns[i % 4].id, Math.floor(i / 4), { epic: i % 3 ? "S-10" : null }));
    const t = performance.now();
    for (let i = 0; i < 10; i++) groupCards(many, columns, epics, true);
    expect((performance.now() - t) / 10).toBeLessThan(50);
  });
});

describe("moves", () => {
  test("applyMove ranks both columns like the Rust side and keeps untouched cards", () => {
    const next = applyMove(cards, columns, "S-1", "in-progress", 0);
    expect(next.map((c) => [c.key, c.column, c.rank])).toEqual([
      ["S-2", "todo", 0],
      ["S-1", "in-progress", 0],
      ["S-3", "in-progress", 1],
      ["S-4", "done", 0],
    ]);
    expect(next[3]).toBe(cards[3]);
    expect(applyMove(cards, columns, "S-2", "todo", 0).map((c) => c.key)).toEqual(["S-2", "S-1", "S-3", "S-4"]);
    expect(applyMove(cards, columns, "S-1", "done", null).filter((c) => c.column === "done").map((c) => c.key)).toEqual(["S-4", "S-1"]);
    expect(applyMove(cards, columns, "S-9", "done", null)).toBe(cards);
  });

  test("dropTarget: another column before or after the card dropped on, or at the bottom", () => {
    expect(dropTarget(cards, "S-1", { kind: "card", key: "S-3", column: "in-progress" }, false)).toEqual({ column: "in-progress", position: 0 });
    expect(dropTarget(cards, "S-1", { kind: "card", key: "S-3", column: "in-progress" }, true)).toEqual({ column: "in-progress", position: 1 });
    expect(dropTarget(cards, "S-1", { kind: "column", column: "in-review" }, false)).toEqual({ column: "in-review", position: null });
  });

  test("dropTarget: within a column the card takes the other's place; no change is null", () => {
    expect(dropTarget(cards, "S-1", { kind: "card", key: "S-2", column: "todo" }, false)).toEqual({ column: "todo", position: 1 });
    expect(dropTarget(cards, "S-2", { kind: "card", key: "S-1", column: "todo" }, true)).toEqual({ column: "todo", position: 0 });
    expect(dropTarget(cards, "S-1", { kind: "card", key: "S-1", column: "todo" }, false)).toBeNull();
    expect(dropTarget(cards, "S-1", { kind: "column", column: "todo" }, false)).toBeNull();
  });

  test("sameCardView ignores the rank only", () => {
    expect(sameCardView(cards[0], { ...cards[0], rank: 9 })).toBe(true);
    expect(sameCardView(cards[0], { ...cards[0], title: "x" })).toBe(false);
    expect(sameCardView(cards[0], { ...cards[0], labels: ["ui"] })).toBe(false);
    expect(sameCardView(cards[0], { ...cards[0], column: "done" })).toBe(false);
  });

  test("column counts and WIP states", () => {
    expect([...columnCounts(cards)]).toEqual([["todo", 2], ["in-progress", 1], ["done", 1]]);
    const col = { ...columns[1], wipLimit: 2 };
    expect([wipState(columns[1], 9), wipState(col, 1), wipState(col, 2), wipState(col, 3)]).toEqual(["none", "under", "at", "over"]);
  });
});

describe("automation and links", () => {
  test("the marker says what automation did last, with its note", () => {
    const history = {
      moves: [
        { card: "S-1", from: null, to: "todo", at: 1, by: "automation" as const, note: "test failed in run shop-4" },
        { card: "S-2", from: null, to: "todo", at: 1, by: "user" as const, note: null },
        { card: "S-2", from: "todo", to: "done", at: 2, by: "automation" as const, note: "deployed by run shop-5" },
        { card: "S-3", from: null, to: "todo", at: 1, by: "automation" as const, note: null },
        { card: "S-3", from: "todo", to: "in-progress", at: 3, by: "user" as const, note: null },
      ],
      scope: [],
    };
    const last = lastMoves(history);
    expect(automationNote(cards[0], last.get("S-1"))).toBe("Created by automation: test failed in run shop-4");
    expect(automationNote(cards[1], last.get("S-2"))).toBe("Moved by automation: deployed by run shop-5");
    expect(automationNote(cards[2], last.get("S-3"))).toBeNull();
    expect(automationNote({ ...cards[2], createdBy: "automation" }, last.get("S-3"))).toBe("Created by automation");
  });

  test("links go to the app's pages; URLs only when http(s)", () => {
    expect(linkHref({ kind: "run", target: "shop-4", label: null }, "shop")).toEqual({ href: "#/pipelines?project=shop&run=shop-4", external: false });
    expect(linkHref({ kind: "resource", target: "slipway/vpc", label: null }, "shop")!.href).toBe("#/architecture?project=slipway&resource=vpc");
    expect(linkHref({ kind: "revision", target: "shop/staging/4", label: null }, "shop")!.href).toBe("#/deployments?project=shop&env=staging&revision=4");
    expect(linkHref({ kind: "url", target: "https://example.com/a", label: null }, "shop")).toEqual({ href: "https://example.com/a", external: true });
    expect(linkHref({ kind: "url", target: "javascript:alert(1)", label: null }, "shop")).toBeNull();
  });

  test("epic colours: a CSS colour as given, else the palette; never arbitrary CSS", () => {
    expect(epicColor(epic("S-1", "a", "#ff0000"))).toBe("#ff0000");
    expect(epicColor(epic("S-1", "a", "red; background: url(x)"))).toMatch(/^#[0-9a-f]{6}$/);
    expect(epicColor(null)).toBe("transparent");
  });

  test("labels and points as typed", () => {
    expect(parseLabels("ui, api  ui,db")).toEqual(["ui", "api", "db"]);
    expect(parsePoints(" 5 ")).toEqual({ ok: true, points: 5 });
    expect(parsePoints("")).toEqual({ ok: true, points: null });
    expect(parsePoints("2.5")).toEqual({ ok: false });
    expect(parsePoints("abc")).toEqual({ ok: false });
  });
});

describe("charts", () => {
  // The scope test of burndown.rs: 10 committed over five days; remaining 5, 17, 18, 10, 10.
  const bd: Burndown = {
    sprint: 2,
    name: "Sprint 2",
    state: "closed",
    start: "2026-03-02",
    end: "2026-03-06",
    committed: 10,
    completed: 5,
    remaining: 10,
    scopeAdded: 16,
    scopeRemoved: 11,
    days: [
      { date: "2026-03-02", remaining: 5, ideal: 10, scopeAdded: 0, scopeRemoved: 0 },
      { date: "2026-03-03", remaining: 17, ideal: 7.5, scopeAdded: 12, scopeRemoved: 0 },
      { date: "2026-03-04", remaining: 18, ideal: 5, scopeAdded: 4, scopeRemoved: 3 },
      { date: "2026-03-05", remaining: 10, ideal: 2.5, scopeAdded: 0, scopeRemoved: 8 },
      { date: "2026-03-06", remaining: null, ideal: 0, scopeAdded: 0, scopeRemoved: 0 },
    ],
    scopeChanges: [],
  };
  const box = { width: 440, height: 240, left: 40, right: 0, top: 20, bottom: 20 };

  test("nice axis tops", () => {
    expect([0, 1, 3, 10, 18, 21, 55, 101].map(niceMax)).toEqual([1, 1, 5, 10, 20, 50, 100, 200]);
  });

  test("burndown geometry: a point per day with a value, ideal from committed to 0, scope days marked", () => {
    const g = burndownChart(bd, box);
    // Plot area 400 x 200; top of the axis 20 (the highest value is 18).
    expect(g.top).toBe(20);
    expect(g.points.map((p) => [p.date, p.remaining, p.x, p.y])).toEqual([
      ["2026-03-02", 5, 40, 170],
      ["2026-03-03", 17, 140, 50],
      ["2026-03-04", 18, 240, 40],
      ["2026-03-05", 10, 340, 120],
    ]);
    expect(g.ideal.map((p) => [p.x, p.y])).toEqual([[40, 120], [140, 145], [240, 170], [340, 195], [440, 220]]);
    expect(g.remainingPath).toBe("M40 170 L140 50 L240 40 L340 120");
    expect(g.idealPath.startsWith("M40 120 L140 145")).toBe(true);
    expect(g.scope.map((s) => [s.date, s.added, s.removed])).toEqual([["2026-03-03", 12, 0], ["2026-03-04", 4, 3], ["2026-03-05", 0, 8]]);
    expect(g.ticks.map((t) => t.value)).toEqual([0, 5, 10, 15, 20]);
  });

  test("a one-day sprint sits in the middle", () => {
    const one = { ...bd, days: [{ ...bd.days[0] }] };
    expect(burndownChart(one, box).points[0].x).toBe(240);
  });

  test("velocity: two bars per sprint, heights to scale, the average completed", () => {
    const g = velocityChart(
      [
        { sprint: 1, name: "Sprint 1", committed: 8, completed: 8 },
        { sprint: 2, name: "Sprint 2", committed: 10, completed: 5 },
      ],
      box,
    );
    expect(g.top).toBe(10);
    expect(g.bars.map((b) => [b.sprint, b.committed.height, b.completed.height])).toEqual([
      [1, 160, 160],
      [2, 200, 100],
    ]);
    expect(g.bars[0].x).toBeLessThan(g.bars[1].x);
    expect(g.average).toBe(6.5);
  });
});
