// A board with weeks of history, for the Board page's tests: three epics, Sprint 1 and Sprint 2
// closed (Sprint 2 with scope added, removed and re-estimated mid-sprint: the history of
// burndown.rs's scope test, remaining 5, 17, 18, 10, 10), Sprint 3 active (started two days ago,
// ten days long), Sprint 4 planned, a backlog, and two cards automation made.
//
// Every change is made by the real board commands, one after the other, on a scratch board. The
// commands stamp each change with the time it happened; the export is then moved back in time:
// every timestamp a command wrote during change i becomes the moment the story says it happened.
// The result is imported as JSON into the board the tests use, where the real burndown reads it.
import type { Suite } from "./harness";

const DAY = 86_400_000;
const HOUR = 3_600_000;

type Card = { key: string; title: string; description: string; kind: string; epic: string | null; sprint: number | null; points: number | null; assignee: string | null; labels: string[]; links: unknown[]; column: string; createdBy: string; automationKey: string | null };
type State = { board: Record<string, unknown>; cards: Card[]; epics: Record<string, unknown>[]; sprints: Record<string, unknown>[]; moves: { card: string; by: string; note: string | null; from: string | null; to: string | null }[]; scope: Record<string, unknown>[] };

const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export async function boardFixture(t: Suite, project: string): Promise<string> {
  const scratch = project; // built in place, then replaced by its own export moved back in time
  const today = Math.floor(Date.now() / DAY) * DAY;
  const at = (day: number, hour: number) => today + day * DAY + hour * HOUR;
  /** The wall-clock window each change was made in, and when it should have happened. */
  const windows: { from: number; to: number; when: number }[] = [];
  const run = async <T>(when: number, cmd: string, args: Record<string, unknown>): Promise<T> => {
    await new Promise((r) => setTimeout(r, 3));
    const from = Date.now();
    const out = await t.invoke<T>(cmd, { project: scratch, ...args });
    const to = Date.now();
    windows.push({ from, to, when });
    await new Promise((r) => setTimeout(r, 3));
    return out;
  };
  const card = (input: Partial<Card> & { title: string; column?: string | null }) => ({
    description: "",
    kind: "task",
    epic: null,
    sprint: null,
    points: null,
    assignee: null,
    labels: [],
    links: [],
    column: null,
    ...input,
  });
  const cards: Record<string, Card> = {};
  const add = async (when: number, input: Parameters<typeof card>[0]) => {
    const c = await run<Card>(when, "create_card", { input: card(input) });
    cards[c.key] = c;
    return c.key;
  };
  const edit = async (when: number, key: string, patch: Partial<Card>) => {
    const c = { ...cards[key], ...patch };
    cards[key] = await run<Card>(when, "update_card", {
      card: key,
      input: { title: c.title, description: c.description, kind: c.kind, epic: c.epic, sprint: c.sprint, points: c.points, assignee: c.assignee, labels: c.labels, links: c.links, column: null },
    });
  };
  const move = (when: number, key: string, column: string) => run(when, "move_card", { card: key, column, position: null });
  const epic = async (when: number, title: string, description: string, color: string) => (await run<{ key: string }>(when, "create_epic", { input: { title, description, color, done: false } })).key;
  const sprint = async (when: number, name: string, goal: string, start: number | null, end: number | null) =>
    (await run<{ number: number }>(when, "create_sprint", { input: { name, goal, start: start === null ? null : date(start), end: end === null ? null : date(end) } })).number;

  const checkout = await epic(at(-40, 9), "Checkout flow", "Pay for the **cart** in one step.", "#2563eb");
  const search = await epic(at(-40, 9), "Search", "Find items by name and tag.", "#16a34a");
  const ops = await epic(at(-40, 9), "Observability", "Logs, metrics and alerts for the sample app.", "#d97706");

  // Sprint 1: days -30..-26, 8 points, all done.
  const d1 = -30;
  const s1 = await sprint(at(d1 - 1, 9), "Sprint 1", "A first page of items", at(d1, 0), at(d1 + 4, 0));
  const a1 = await add(at(d1 - 1, 10), { title: "List items from the database", points: 5, sprint: s1, epic: search, assignee: "ana", labels: ["api"] });
  const b1 = await add(at(d1 - 1, 10), { title: "Items page", points: 3, sprint: s1, epic: search, assignee: "ben", labels: ["ui"] });
  await run(at(d1, 9), "start_sprint", { sprint: s1, start: null, end: null });
  await move(at(d1, 10), a1, "in-progress");
  await move(at(d1 + 1, 15), a1, "done");
  await move(at(d1 + 2, 10), b1, "in-progress");
  await move(at(d1 + 3, 11), b1, "in-review");
  await move(at(d1 + 3, 16), b1, "done");
  await run(at(d1 + 4, 17), "close_sprint", { sprint: s1, carryTo: null });

  // Sprint 2: days -11..-7, 10 points committed, then scope added, removed and re-estimated.
  const d2 = -11;
  const s2 = await sprint(at(d2 - 1, 9), "Sprint 2", "Pay for the cart", at(d2, 0), at(d2 + 4, 0));
  const a = await add(at(d2 - 1, 10), { title: "Cart totals", points: 5, sprint: s2, epic: checkout, assignee: "ana", labels: ["api"] });
  const b = await add(at(d2 - 1, 10), { title: "Coupon codes", points: 3, sprint: s2, epic: checkout, assignee: "ben", labels: ["api"] });
  const c = await add(at(d2 - 1, 10), { title: "Payment form", points: 2, sprint: s2, epic: checkout, assignee: "chen", labels: ["ui"] });
  const pulled = await add(at(d2 - 1, 10), { title: "Receipt e-mail", points: 8, epic: checkout, labels: ["api"] });
  await run(at(d2, 9), "start_sprint", { sprint: s2, start: null, end: null });
  await move(at(d2, 16), a, "done");
  const e = await add(at(d2 + 1, 10), { title: "Card declined message", points: 4, sprint: s2, epic: checkout, assignee: "chen", labels: ["ui"], description: "Show *why* the card was declined." });
  await edit(at(d2 + 1, 11), pulled, { sprint: s2 });
  await edit(at(d2 + 2, 10), b, { sprint: null });
  await edit(at(d2 + 2, 12), c, { points: 6 });
  await run(at(d2 + 3, 9), "delete_card", { card: pulled });
  const s3 = await sprint(at(d2 + 4, 11), "Sprint 3", "Checkout in production, searchable items", null, null);
  await run(at(d2 + 4, 17), "close_sprint", { sprint: s2, carryTo: s3 });

  // Sprint 3: active, days -2..+7 (carried: Payment form 6, Card declined message 4).
  const d3 = -2;
  const f = await add(at(d3 - 1, 10), { title: "Search by tag", points: 3, sprint: s3, epic: search, assignee: "ana", labels: ["api", "search"] });
  await add(at(d3 - 1, 10), { title: "Request metrics", points: 2, sprint: s3, epic: ops, assignee: "dara", labels: ["infra"] });
  await run(at(d3 - 1, 11), "update_sprint", { sprint: s3, input: { name: "Sprint 3", goal: "Checkout in production, searchable items", start: date(at(d3, 0)), end: date(at(d3 + 9, 0)) } });
  await run(at(d3, 9), "start_sprint", { sprint: s3, start: null, end: null });
  await move(at(d3, 10), c, "in-progress");
  await move(at(d3, 11), f, "in-progress");
  await move(at(d3 + 1, 15), f, "done");
  await move(at(d3 + 1, 16), e, "in-review");
  await add(at(d3 + 1, 17), { title: "Alert on 5xx rate", points: 1, sprint: s3, epic: ops, assignee: "dara", labels: ["infra"] });

  // What automation made: a card for run sample-app-2's failed Test stage, and the deploy card
  // run sample-app-1 moved to Done (made here as cards, marked as automation's below).
  const now = Date.now();
  const bug = await add(now - 5 * HOUR, {
    title: "Test stage fails on sample-app",
    kind: "bug",
    description: "The Test stage of project sample-app failed in run sample-app-2.\n\n**Tests of backend failed**: 1 of 9 failed: test_items_lists_the_seed_rows\n\nNext: fix them",
    labels: ["pipeline"],
    links: [{ kind: "run", target: "sample-app-2", label: "run sample-app-2" }],
  });
  const dep = await add(now - 26 * HOUR, {
    title: "Deploy sample-app to local",
    description: "Deploys of project sample-app to environment local: moved to Done when a deploy succeeds.",
    labels: ["deploy"],
    links: [
      { kind: "run", target: "sample-app-1", label: "run sample-app-1" },
      { kind: "revision", target: "sample-app/local/1", label: "revision 1" },
    ],
    column: "in-progress",
  });
  await move(now - 25 * HOUR, dep, "done");

  // The backlog and Sprint 4.
  await add(at(-3, 10), { title: "Search suggestions", points: 5, epic: search, labels: ["ui", "search"] });
  await add(at(-3, 10), { title: "Dashboards for the API", points: 3, epic: ops, labels: ["infra"], description: "Grafana or the cloud's own.\n\n- latency\n- error rate\n- `db` connections" });
  await add(at(-1, 10), { title: "Flaky login test", kind: "bug", labels: ["bug"], assignee: "ben" });
  await sprint(at(-1, 11), "Sprint 4", "Observability", at(d3 + 10, 0), at(d3 + 19, 0));

  const exported = await t.invoke<string>("export_board", { project: scratch, format: "json" });
  const file = JSON.parse(exported) as State & { version: number };
  // Every timestamp a command wrote moves to its change's moment.
  const shift = (v: unknown) => {
    if (typeof v !== "number") return v;
    const w = windows.find((x) => v >= x.from && v <= x.to);
    if (!w) throw new Error(`timestamp ${v} was not written by a change of the fixture`);
    return w.when;
  };
  const walk = (o: Record<string, unknown>) => {
    for (const k of ["createdAt", "updatedAt", "at", "startedAt", "closedAt"]) if (k in o && o[k] !== null) o[k] = shift(o[k]);
  };
  walk(file.board);
  file.cards.forEach((x) => walk(x as unknown as Record<string, unknown>));
  file.epics.forEach(walk);
  file.sprints.forEach(walk);
  file.moves.forEach((x) => walk(x as unknown as Record<string, unknown>));
  file.scope.forEach(walk);
  // The two automation cards, as automation records them.
  const mark = (key: string, automationKey: string, notes: Record<string, string>) => {
    const k = file.cards.find((x) => x.key === key)!;
    k.createdBy = "automation";
    k.automationKey = automationKey;
    for (const m of file.moves.filter((x) => x.card === key)) {
      m.by = "automation";
      m.note = notes[m.to ?? ""] ?? null;
    }
  };
  mark(bug, "pipeline:sample-app:test", { todo: "test failed in run sample-app-2" });
  mark(dep, "deploy:sample-app:local", { "in-progress": "deploy started by run sample-app-1", done: "deployed by run sample-app-1" });
  const text = JSON.stringify(file);
  await t.invoke("import_board", { project, format: "json", text });
  return text;
}
