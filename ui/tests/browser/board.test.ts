// The Board page in Chromium against the mock backend (dist-mock/, whose board is a port of
// crates/core/src/board): a card dragged with the mouse and moved with the keyboard (with the
// screen reader announcements), the burndown's points for a sprint with a mid-sprint scope
// change, a malformed CSV refused by line with the board unchanged, and a benchmark of a
// 2,000-card board (render and drag times, printed). Screenshots: tests/artifacts/ui/.
import { join } from "node:path";

import type { Locator } from "playwright-core";
import { describe, expect, test } from "vitest";

import { ARTIFACTS, browserSuite } from "./harness";

const t = browserSuite();

const byId = (id: string) => t.page.getByTestId(id);
const card = (key: string) => t.page.locator(`[data-testid="board-card"][data-card="${key}"]`);
const column = (id: string, lane = "all") => t.page.locator(`[data-testid="board-column"][data-column="${id}"][data-lane="${lane}"]`);
/** The keys of a column's cards, top to bottom, as shown. */
const keysIn = (id: string) => column(id).locator('[data-testid="board-card"]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.card));
/** The mock's board (what the "Rust side" holds). */
const mockCards = (project = "sample-app") =>
  t.page.evaluate((p) => {
    const s = (window as any).__slipwayMock.board.boards.get(p);
    return s.cards.map((c: any) => ({ key: c.key, column: c.column, rank: c.rank }));
  }, project);
const mockState = (project = "sample-app") => t.page.evaluate((p) => JSON.stringify((window as any).__slipwayMock.board.boards.get(p)), project);
const liveRegion = () => t.page.locator('[id^="DndLiveRegion"]');

async function open(query: string, hash: string) {
  await t.page.goto(`${t.server.url}${query}${hash}`);
  await byId("nav-connect-count").waitFor(); // doctor() answered
}

async function settled(key: string, columnId: string, timeout = 10_000) {
  await t.page.locator(`[data-testid="board-card"][data-card="${key}"][data-column="${columnId}"]:not([data-pending])`).waitFor({ timeout });
}

/** Drags with the real mouse: press on the card, move in steps (dnd-kit starts after 5 px), release over `to`. */
async function drag(from: Locator, to: { x: number; y: number }, steps = 12) {
  const a = (await from.boundingBox())!;
  await t.page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await t.page.mouse.down();
  await t.page.mouse.move(a.x + a.width / 2 + 8, a.y + a.height / 2 + 8, { steps: 2 });
  await t.page.mouse.move(to.x, to.y, { steps });
  await t.page.mouse.up();
}

describe("Board page in Chromium (mock backend)", () => {
  test("drag a card with the mouse to another column; the move reaches the backend", async () => {
    await open("?delay=0", "#/board");
    await card("SMP-7").waitFor();
    expect(await keysIn("in-progress")).toEqual(["SMP-8"]);

    // Into the empty space of In progress, under its one card: the bottom of that column.
    const target = (await column("in-progress").boundingBox())!;
    const below = (await card("SMP-8").boundingBox())!;
    await drag(card("SMP-7"), { x: target.x + target.width / 2, y: below.y + below.height + 120 });
    await settled("SMP-7", "in-progress");
    expect(await keysIn("in-progress")).toEqual(["SMP-8", "SMP-7"]);
    expect(await byId("board-move-error").count()).toBe(0);

    const calls = await t.page.evaluate(() => (window as any).__slipwayMock.calls.filter((c: any) => c.cmd === "move_card").map((c: any) => c.args));
    expect(calls).toEqual([{ project: "sample-app", card: "SMP-7", column: "in-progress", position: null }]);
    const moved = (await mockCards()).filter((c: any) => c.column === "in-progress").map((c: any) => c.key);
    expect(moved).toEqual(["SMP-8", "SMP-7"]);
    const last = await t.page.evaluate(() => (window as any).__slipwayMock.board.boards.get("sample-app").moves.at(-1));
    expect(last).toMatchObject({ card: "SMP-7", from: "todo", to: "in-progress", by: "user" });
    // The column headers count the move.
    expect(await t.page.locator('[data-testid="board-column-head"][data-column="in-progress"] [data-testid="board-column-count"]').textContent()).toBe("2");
    await t.page.screenshot({ path: join(ARTIFACTS, "board-dragged.png") });

    // Onto the top half of another card: it goes before that card (the position is sent).
    const top = (await card("SMP-8").boundingBox())!;
    await drag(card("SMP-12"), { x: top.x + top.width / 2, y: top.y + 6 });
    await settled("SMP-12", "in-progress");
    expect(await keysIn("in-progress")).toEqual(["SMP-12", "SMP-8", "SMP-7"]);
    expect((await mockCards()).filter((c: any) => c.column === "in-progress").map((c: any) => c.key)).toEqual(["SMP-12", "SMP-8", "SMP-7"]);
  });

  test("a refused move (WIP limit) rolls back and says why", async () => {
    await open("?delay=0", "#/board");
    await card("SMP-7").waitFor();
    await t.page.evaluate(() => {
      const s = (window as any).__slipwayMock.board.boards.get("sample-app");
      s.board.columns.find((c: any) => c.id === "in-review").wipLimit = 1;
    });
    // The page learns about the limit on its next read (any board change does it).
    await t.page.evaluate(() => (window as any).__slipwayMock.emit([{ type: "boardChanged", project: "sample-app", cards: [], by: "user" }]));
    await t.page.locator('[data-testid="board-column-head"][data-column="in-review"][data-wip="at"]').waitFor();
    const target = (await column("in-review").boundingBox())!;
    await drag(card("SMP-7"), { x: target.x + target.width / 2, y: target.y + 250 });
    await byId("board-move-error").waitFor();
    expect(await byId("board-move-error-what").textContent()).toBe("Card not moved");
    expect(await byId("board-move-error-why").textContent()).toBe("In review already holds 1 cards, its work-in-progress limit");
    await settled("SMP-7", "todo");
    expect(await keysIn("in-review")).toEqual(["SMP-10"]);
    expect((await mockCards()).find((c: any) => c.key === "SMP-7").column).toBe("todo");
  });

  test("move a card by keyboard: space, arrows, space; announced for screen readers", async () => {
    await open("?delay=0", "#/board");
    await card("SMP-12").waitFor();
    // Every announcement the live region makes, in order.
    await t.page.evaluate(() => {
      const said: string[] = ((window as any).__said = []);
      new MutationObserver(() => {
        const t = document.querySelector('[id^="DndLiveRegion"]')?.textContent ?? "";
        if (t && said.at(-1) !== t) said.push(t);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const said = () => t.page.evaluate(() => (window as any).__said as string[]);
    await card("SMP-12").focus();
    await t.page.keyboard.press("Space");
    await expect.poll(said).toContain("Picked up card SMP-12, Request metrics, in To do, position 2 of 7.");
    await t.page.locator('[data-testid="board-columns"][data-dragging="SMP-12"]').waitFor();
    await t.page.waitForTimeout(150); // dnd-kit listens for the arrows from the next task on
    await t.page.keyboard.press("ArrowRight");
    await expect.poll(async () => (await said()).at(-1)).toMatch(/^Card SMP-12 is over (card SMP-8 in|column) In progress\.$/);
    await t.page.keyboard.press("Space");
    await settled("SMP-12", "in-progress");
    await expect.poll(async () => (await said()).at(-1)).toBe("Card SMP-12 was dropped in In progress.");
    expect(await liveRegion().getAttribute("aria-live")).toBe("assertive");
    expect(await keysIn("in-progress")).toEqual(["SMP-12", "SMP-8"]);
    expect((await mockCards()).find((c: any) => c.key === "SMP-12").column).toBe("in-progress");
    // The card keeps the focus, so it can go on moving.
    expect(await t.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.card)).toBe("SMP-12");

    // Picked up again, carried right, then Escape: nothing moves.
    await t.page.keyboard.press("Space");
    await t.page.locator('[data-testid="board-columns"][data-dragging="SMP-12"]').waitFor();
    await t.page.waitForTimeout(150);
    await t.page.keyboard.press("ArrowRight");
    await expect.poll(async () => (await said()).at(-1)).toMatch(/^Card SMP-12 is over (card SMP-10 in|column) In review\.$/);
    await t.page.keyboard.press("Escape");
    await expect.poll(async () => (await said()).at(-1)).toBe("Moving card SMP-12 was cancelled. It stays in In progress.");
    await t.page.locator('[data-testid="board-columns"]:not([data-dragging])').waitFor();
    expect((await mockCards()).find((c: any) => c.key === "SMP-12").column).toBe("in-progress");

    // Enter opens the card: its history has both moves.
    await card("SMP-12").focus();
    await t.page.keyboard.press("Enter");
    await t.page.locator('[data-testid="card-drawer"][data-card="SMP-12"]').waitFor();
    await expect.poll(() => t.page.locator('[data-testid="card-history-row"]').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining("To do → In progress")]),
    );
    await t.page.keyboard.press("Escape");
    await expect.poll(() => byId("card-drawer").count()).toBe(0);
  });

  test("the burndown renders the right points for a sprint with a mid-sprint scope change", async () => {
    await open("?delay=0", "#/board?view=sprint");
    // The active sprint first: two days done, today, and the days to come without points.
    await t.page.locator('[data-testid="burndown"][data-sprint="3"]').waitFor();
    const values = () => t.page.locator('[data-testid="burndown-point"]').evaluateAll((els) => els.map((e) => Number((e as SVGElement).dataset.remaining)));
    expect(await values()).toEqual([15, 13, 13]);
    expect(await t.page.locator('[data-testid="burndown-ideal-point"]').count()).toBe(10);

    await byId("sprint-select").selectOption("2");
    await t.page.locator('[data-testid="burndown"][data-sprint="2"]').waitFor();
    // Sprint 2 (closed): 10 committed; day 1 A done (5); day 2 +4 and +8 (17); day 3 one card
    // out (-3) and one re-estimated 2 -> 6 (+4) (18); day 4 the pulled-in card deleted (10).
    expect(await values()).toEqual([5, 17, 18, 10, 10]);
    const ideal = await t.page.locator('[data-testid="burndown-ideal-point"]').evaluateAll((els) => els.map((e) => Number((e as SVGElement).dataset.ideal)));
    expect(ideal).toEqual([10, 7.5, 5, 2.5, 0]);
    const scope = await t.page.locator('[data-testid="burndown-scope"]').evaluateAll((els) =>
      els.map((e) => [Number((e as SVGElement).dataset.added), Number((e as SVGElement).dataset.removed)]),
    );
    expect(scope).toEqual([[12, 0], [4, 3], [0, 8]]);
    // Drawn where the values say: higher remaining is higher up; the line goes through every point.
    const cy = await t.page.locator('[data-testid="burndown-point"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute("cy"))));
    expect(cy[2]).toBeLessThan(cy[1]);
    expect(cy[1]).toBeLessThan(cy[3]);
    expect(cy[3]).toBe(cy[4]);
    expect(cy[0]).toBeGreaterThan(cy[3]);
    const d = await byId("burndown-remaining-line").getAttribute("d");
    expect(d!.split(/[ML]/).filter(Boolean).length).toBe(5);
    expect(await byId("sprint-committed").textContent()).toBe("10");
    expect(await byId("sprint-completed").textContent()).toBe("5");
    expect(await byId("sprint-remaining").textContent()).toBe("10");
    expect(await byId("sprint-scope-added").textContent()).toBe("+16");
    expect(await byId("sprint-scope-removed").textContent()).toBe("−11");
    // Velocity: Sprint 1 8 of 8, Sprint 2 5 of 10.
    const bars = await t.page.locator('[data-testid="velocity-bar"]').evaluateAll((els) =>
      els.map((e) => `${(e as SVGElement).dataset.sprint}:${(e as SVGElement).dataset.kind}=${(e as SVGElement).dataset.value}`),
    );
    expect(bars).toEqual(["1:committed=8", "1:completed=8", "2:committed=10", "2:completed=5"]);
    await t.page.screenshot({ path: join(ARTIFACTS, "board-burndown.png"), fullPage: true });
  });

  test("scope added to the active sprint today shows in its burndown", async () => {
    await open("?delay=0", "#/board");
    await byId("board-new-card").click();
    await byId("card-form-title").fill("Refund button");
    await byId("card-form-points").fill("5");
    await byId("card-form-sprint").selectOption("3");
    await byId("card-form-save").click();
    await t.page.locator('[data-testid="card-drawer"][data-card="SMP-19"]').waitFor();
    expect(await byId("card-sprint").textContent()).toBe("Sprint 3 (active)");
    await byId("card-drawer-close").click();
    await card("SMP-19").waitFor();

    await byId("board-tab-sprint").click();
    await t.page.locator('[data-testid="burndown"][data-sprint="3"]').waitFor();
    const values = () => t.page.locator('[data-testid="burndown-point"]').evaluateAll((els) => els.map((e) => Number((e as SVGElement).dataset.remaining)));
    await expect.poll(values).toEqual([15, 13, 18]);
    const today = await t.page.evaluate(() => new Date().toISOString().slice(0, 10));
    const marker = t.page.locator(`[data-testid="burndown-scope"][data-date="${today}"]`);
    expect(await marker.getAttribute("data-added")).toBe("5");
    expect(await byId("sprint-committed").textContent()).toBe("15"); // the commitment stays
  });

  test("a malformed CSV is refused naming the line, and the board is unchanged", async () => {
    await open("?delay=0", "#/board");
    await card("SMP-7").waitFor();
    const before = await mockState();
    const shown = await t.page.locator('[data-testid="board-card"]').evaluateAll((els) => els.map((e) => `${(e as HTMLElement).dataset.card}@${(e as HTMLElement).dataset.column}`));

    const csv = "Issue key,Summary,Story Points,Status\nSMP-7,Coupon codes renamed,3,Done\n,Broken one,lots,To do\n,Fine one,2,To do\n";
    await byId("board-import-file").setInputFiles({ name: "jira-export.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await byId("board-import-error").waitFor();
    expect(await byId("board-import-error-what").textContent()).toBe("Import refused: the board is unchanged");
    expect(await byId("board-import-error-why").textContent()).toBe('line 3: Story Points "lots" is not a number');
    expect(await byId("board-import-error-fix").textContent()).toBe("Fix line 3 and import the file again; nothing was imported");
    expect(await byId("board-import-error").getAttribute("role")).toBe("alert");
    await t.page.screenshot({ path: join(ARTIFACTS, "board-import-refused.png") });

    // Nothing changed: not the backend's board, not the page (the valid row 2 was not applied either).
    expect(await mockState()).toBe(before);
    expect(await t.page.locator('[data-testid="board-card"]').evaluateAll((els) => els.map((e) => `${(e as HTMLElement).dataset.card}@${(e as HTMLElement).dataset.column}`))).toEqual(shown);
    expect(await card("SMP-7").getByTestId("card-title").textContent()).toBe("Coupon codes");

    // A row with a field too many is named by its line too.
    await byId("board-import-file").setInputFiles({ name: "short.csv", mimeType: "text/csv", buffer: Buffer.from("Summary,Story Points\nA,1\nB,2,3\n") });
    await expect.poll(() => byId("board-import-error-why").textContent()).toBe("line 3: it has 3 fields where the header has 2");
    expect(await mockState()).toBe(before);

    // The fixed file goes in.
    await byId("board-import-file").setInputFiles({ name: "jira-export.csv", mimeType: "text/csv", buffer: Buffer.from(csv.replace("lots", "1")) });
    await byId("board-import-report").waitFor();
    expect(await byId("board-import-error").count()).toBe(0);
    await settled("SMP-7", "done");
    expect(await card("SMP-7").getByTestId("card-title").textContent()).toBe("Coupon codes renamed");
    expect(await t.page.locator('[data-testid="board-card"]').count()).toBe(shown.length + 2);
  });

  test("export hands over JSON and CSV files with Jira's column names", async () => {
    await open("?delay=0", "#/board");
    await card("SMP-7").waitFor();
    const csv = t.page.waitForEvent("download");
    await byId("board-export-csv").click();
    const d = await csv;
    expect(d.suggestedFilename()).toBe("sample-app-board.csv");
    const text = await (await import("node:fs/promises")).readFile((await d.path())!, "utf8");
    expect(text.split("\n")[0]).toBe("Issue key,Issue Type,Summary,Description,Status,Story Points,Assignee,Labels,Labels,Epic Link,Epic Name,Sprint,Created,Updated");
    const json = t.page.waitForEvent("download");
    await byId("board-export-json").click();
    const j = await json;
    expect(j.suggestedFilename()).toBe("sample-app-board.json");
    const parsed = JSON.parse(await (await import("node:fs/promises")).readFile((await j.path())!, "utf8"));
    expect(parsed.version).toBe(1);
    expect(parsed.cards.length).toBe(await t.page.locator('[data-testid="board-card"]').count());
  });

  test("works in a 960x600 window: the four columns fit, nothing overflows the page", async () => {
    await t.page.setViewportSize({ width: 960, height: 600 });
    await open("?delay=0", "#/board");
    await card("SMP-7").waitFor();
    expect(await t.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    const board = (await byId("board-columns").boundingBox())!;
    const done = (await t.page.locator('[data-testid="board-column-head"][data-column="done"]').boundingBox())!;
    expect(done.x + done.width).toBeLessThanOrEqual(board.x + board.width + 1);
    await t.page.screenshot({ path: join(ARTIFACTS, "board-960x600.png") });
  });

  test("benchmark: a board of 2,000 cards, time to render and to complete a drag (printed)", async () => {
    await open("?delay=0", "#/connect");
    await t.page.evaluate(() => (window as any).__slipwayMock.board.seedLarge("bench", 2000));
    // Render: from the route change to every card in the DOM and the next frame painted.
    const renderMs = await t.page.evaluate(async () => {
      const t0 = performance.now();
      window.location.hash = "#/board?project=bench";
      await new Promise<void>((ok) => {
        const check = () => (document.querySelectorAll('[data-testid="board-card"]').length === 2000 ? ok() : requestAnimationFrame(check));
        check();
      });
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      return performance.now() - t0;
    });
    expect(await t.page.locator('[data-testid="board-card"]').count()).toBe(2000);
    expect(await keysIn("todo").then((k) => k.length)).toBe(500);

    // A drag from To do to Done with the real mouse; the page records when the button went up
    // and when the card sat in Done with its move accepted by the backend.
    const key = (await keysIn("todo"))[1]!;
    await t.page.evaluate((k) => {
      const w = window as any;
      w.__bench = { down: 0, up: 0, shown: 0, done: 0 };
      document.addEventListener("pointerdown", () => (w.__bench.down ||= performance.now()), { capture: true });
      document.addEventListener("pointerup", () => (w.__bench.up ||= performance.now()), { capture: true });
      new MutationObserver(() => {
        const el = document.querySelector(`[data-testid="board-card"][data-card="${k}"]`) as HTMLElement | null;
        if (!el || el.dataset.column !== "done") return;
        w.__bench.shown ||= performance.now();
        if (!el.dataset.pending) w.__bench.done ||= performance.now();
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-column", "data-pending"] });
    }, key);
    const done = (await column("done").boundingBox())!;
    const t0 = Date.now();
    await drag(card(key), { x: done.x + done.width / 2, y: done.y + 40 }, 10);
    await settled(key, "done", 30_000);
    const wall = Date.now() - t0;
    const b = await t.page.evaluate(() => (window as any).__bench as { down: number; up: number; shown: number; done: number });
    const dropToShown = b.shown - b.up;
    const dropToDone = b.done - b.up;
    const whole = b.done - b.down;
    expect((await mockCards("bench")).find((c: any) => c.key === key).column).toBe("done");
    await t.page.screenshot({ path: join(ARTIFACTS, "board-2000-cards.png") });

    console.log(
      [
        "Board benchmark (2,000 cards, all 2,000 in the DOM; off-screen ones skip layout and paint via content-visibility):",
        `  render (route change -> 2,000 cards in the DOM, next frame): ${renderMs.toFixed(0)} ms`,
        `  drag: drop -> card shown in Done (optimistic): ${dropToShown.toFixed(0)} ms`,
        `  drag: drop -> move accepted by the backend and settled: ${dropToDone.toFixed(0)} ms`,
        `  drag: press -> settled, including the 12-step mouse movement: ${whole.toFixed(0)} ms (wall clock from the test: ${wall} ms)`,
      ].join("\n"),
    );
    // Loose bounds only: the job of this test is to print the numbers.
    expect(renderMs).toBeLessThan(20_000);
    expect(dropToDone).toBeLessThan(10_000);
  }, 120_000);
});
