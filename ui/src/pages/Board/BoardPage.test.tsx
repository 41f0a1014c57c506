import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";

import { renderApp } from "../../testing/render";

const card = (key: string) => document.querySelector<HTMLElement>(`[data-testid="board-card"][data-card="${key}"]`);
const keysIn = (column: string, lane = "all") =>
  [...document.querySelectorAll<HTMLElement>(`[data-testid="board-column"][data-column="${column}"][data-lane="${lane}"] [data-testid="board-card"]`)].map((e) => e.dataset.card);
const allKeys = () => [...document.querySelectorAll<HTMLElement>('[data-testid="board-card"]')].map((e) => e.dataset.card);

async function openBoard(hash = "#/board") {
  const view = await renderApp({ hash });
  if (hash.includes("view=sprint")) await screen.findByTestId("sprint-view");
  else await waitFor(() => expect(card("SMP-7")).not.toBeNull());
  return view;
}

describe("Board page", () => {
  test("columns with counts, and cards with key, title, points, assignee, labels, epic and the automation marker", async () => {
    await openBoard();
    expect(screen.getByTestId("page-board")).toBeInTheDocument();
    expect(screen.queryByTestId("not-built")).toBeNull();
    const heads = screen.getAllByTestId("board-column-head").map((h) => [h.dataset.column, within(h).getByTestId("board-column-count").textContent]);
    expect(heads).toEqual([["todo", "7"], ["in-progress", "1"], ["in-review", "1"], ["done", "5"]]);
    expect(keysIn("in-progress")).toEqual(["SMP-8"]);

    const c = card("SMP-7")!;
    expect(within(c).getByTestId("card-key")).toHaveTextContent("SMP-7");
    expect(within(c).getByTestId("card-title")).toHaveTextContent("Coupon codes");
    expect(within(c).getByTestId("card-points")).toHaveTextContent("3");
    expect(within(c).getByTestId("card-assignee")).toHaveTextContent("ben");
    expect(within(c).getAllByTestId("card-label").map((l) => l.textContent)).toEqual(["api"]);
    expect(within(c).getByTestId("card-epic")).toHaveTextContent("Checkout flow");
    expect(within(c).queryByTestId("card-automation")).toBeNull();

    // Made by automation after a failed Test stage; moved to Done by a deploy.
    const bug = card("SMP-14")!;
    expect(bug.dataset.automation).toBe("true");
    expect(within(bug).getByTestId("card-automation").title).toBe("Created by automation: test failed in run sample-app-2");
    expect(within(card("SMP-15")!).getByTestId("card-automation").title).toBe("Moved by automation: deployed by run sample-app-1");
    // Cards are keyboard-reachable buttons that say how to move them.
    expect(c.getAttribute("tabindex")).toBe("0");
    expect(c.getAttribute("aria-roledescription")).toBe("draggable card");
    await waitFor(() => expect(document.getElementById(c.getAttribute("aria-describedby")!)?.textContent).toMatch(/press space to pick it up/));
  });

  test("filters: text, epic, assignee, label, sprint; and clear", async () => {
    const user = userEvent.setup();
    await openBoard();
    const count = () => screen.getByTestId("board-filter-count").textContent;
    expect(count()).toBe(`${allKeys().length} cards`);
    expect(allKeys()).toHaveLength(14);
    await user.type(screen.getByTestId("board-filter-text"), "coupon");
    expect(allKeys()).toEqual(["SMP-7"]);
    expect(count()).toMatch(/^1 of \d+ cards$/);
    await user.clear(screen.getByTestId("board-filter-text"));

    await user.selectOptions(screen.getByTestId("board-filter-epic"), "Observability");
    expect(allKeys().sort()).toEqual(["SMP-12", "SMP-13", "SMP-17"]);
    await user.selectOptions(screen.getByTestId("board-filter-assignee"), "dara");
    expect(allKeys().sort()).toEqual(["SMP-12", "SMP-13"]);
    await user.click(screen.getByTestId("board-filter-clear"));
    expect(screen.queryByTestId("board-filter-clear")).toBeNull();

    await user.selectOptions(screen.getByTestId("board-filter-label"), "deploy");
    expect(allKeys()).toEqual(["SMP-15"]);
    await user.selectOptions(screen.getByTestId("board-filter-label"), "");
    await user.selectOptions(screen.getByTestId("board-filter-sprint"), "active");
    expect(allKeys().sort()).toEqual(["SMP-10", "SMP-11", "SMP-12", "SMP-13", "SMP-8"]);
    await user.selectOptions(screen.getByTestId("board-filter-sprint"), "backlog");
    expect(allKeys()).toContain("SMP-14");
    expect(allKeys()).not.toContain("SMP-8");
    // The WIP counts stay those of the whole board.
    expect(within(screen.getAllByTestId("board-column-head")[0]).getByTestId("board-column-count")).toHaveTextContent("7");
  });

  test("swimlanes by epic: a lane per epic in the epics' order, then the cards without one", async () => {
    const user = userEvent.setup();
    await openBoard();
    await user.click(screen.getByTestId("board-swimlanes"));
    const lanes = screen.getAllByTestId("board-lane").map((l) => l.dataset.lane);
    expect(lanes).toEqual(["SMP-1", "SMP-2", "SMP-3", "no-epic"]);
    expect(keysIn("todo", "SMP-3")).toEqual(["SMP-12", "SMP-13", "SMP-17"]);
    expect(keysIn("done", "no-epic")).toEqual(["SMP-15"]);
    expect(within(screen.getAllByTestId("board-lane")[0]).getByTestId("board-lane-toggle")).toHaveTextContent("Checkout flow");
    await user.click(within(screen.getAllByTestId("board-lane")[0]).getByTestId("board-lane-toggle"));
    expect(keysIn("todo", "SMP-1")).toEqual([]);
  });

  test("the drawer: Markdown description, links to the run, the history; edit with a bad then a good estimate", async () => {
    const user = userEvent.setup();
    const { backend } = await openBoard();
    await user.click(card("SMP-14")!);
    const drawer = await screen.findByTestId("card-drawer");
    expect(drawer.dataset.card).toBe("SMP-14");
    const desc = within(drawer).getByTestId("card-description");
    expect(desc.querySelector("strong")?.textContent).toBe("Tests of backend failed");
    const link = within(drawer).getByTestId("card-link");
    expect(link.dataset.kind).toBe("run");
    expect(within(link).getByRole("link")).toHaveAttribute("href", "#/pipelines?project=sample-app&run=sample-app-2");
    const rows = await within(drawer).findAllByTestId("card-history-row");
    expect(rows[0]).toHaveTextContent("created in To do");
    expect(rows[0].dataset.by).toBe("automation");
    expect(rows[0]).toHaveTextContent("test failed in run sample-app-2");

    await user.click(within(drawer).getByTestId("card-edit"));
    await user.clear(screen.getByTestId("card-form-points"));
    await user.type(screen.getByTestId("card-form-points"), "lots");
    await user.click(screen.getByTestId("card-form-save"));
    expect(screen.getByTestId("card-form-error-why")).toHaveTextContent('"lots" is not a whole number of story points');
    expect(backend.calls.some((c) => c.cmd === "save_card")).toBe(false);

    await user.clear(screen.getByTestId("card-form-points"));
    await user.type(screen.getByTestId("card-form-points"), "8");
    await user.clear(screen.getByTestId("card-form-labels"));
    await user.type(screen.getByTestId("card-form-labels"), "pipeline flaky");
    await user.click(screen.getByTestId("card-form-save"));
    await waitFor(() => expect(screen.getByTestId("card-drawer-points")).toHaveTextContent("8"));
    expect(backend.board.boards.get("sample-app")!.cards.find((c) => c.key === "SMP-14")).toMatchObject({ points: 8, labels: ["pipeline", "flaky"] });
    await waitFor(() => expect(within(card("SMP-14")!).getByTestId("card-points")).toHaveTextContent("8"));

    await user.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByTestId("card-drawer")).toBeNull());
  });

  test("a card created, then moved by editing its column (the desktop e2e's path)", async () => {
    const user = userEvent.setup();
    const { backend } = await openBoard();
    await user.click(screen.getByTestId("board-new-card"));
    await user.type(screen.getByTestId("card-form-title"), "E2E card");
    await user.type(screen.getByTestId("card-form-points"), "3");
    await user.click(screen.getByTestId("card-form-save"));
    await waitFor(() => expect(card("SMP-19")).not.toBeNull());
    expect(card("SMP-19")!.dataset.column).toBe("todo");
    const drawer = await screen.findByTestId("card-drawer");
    await waitFor(() => expect(drawer.dataset.card).toBe("SMP-19"));
    await user.click(within(screen.getByTestId("card-drawer")).getByTestId("card-edit"));
    await user.selectOptions(screen.getByTestId("card-form-column"), "in-progress");
    await user.click(screen.getByTestId("card-form-save"));
    await waitFor(() => expect(card("SMP-19")!.dataset.column).toBe("in-progress"));
    expect(screen.queryByTestId("card-form-error")).toBeNull();
    expect(backend.calls.filter((c) => c.cmd === "update_card").map((c) => (c.args as { input: { column: string } }).input.column)).toEqual(["in-progress"]);
    expect(backend.board.boards.get("sample-app")!.moves.at(-1)).toMatchObject({ card: "SMP-19", from: "todo", to: "in-progress", by: "user" });
  });

  test("a new card: the backend's refusal is shown; a good one lands at the bottom of its column", async () => {
    const user = userEvent.setup();
    const { backend } = await openBoard();
    await user.click(screen.getByTestId("board-new-card"));
    await user.type(screen.getByTestId("card-form-title"), "   ");
    await user.click(screen.getByTestId("card-form-save"));
    expect(await screen.findByTestId("card-form-error-what")).toHaveTextContent("Card not added");
    expect(screen.getByTestId("card-form-error-why")).toHaveTextContent("the title is empty");

    await user.type(screen.getByTestId("card-form-title"), "Receipt PDF");
    await user.selectOptions(screen.getByTestId("card-form-column"), "in-review");
    await user.selectOptions(screen.getByTestId("card-form-epic"), "SMP-1");
    await user.type(screen.getByTestId("card-form-description"), "Uses **the** template");
    await user.click(screen.getByTestId("card-link-add"));
    await user.type(screen.getByTestId("card-link-target"), "ftp://nope");
    await user.click(screen.getByTestId("card-form-save"));
    expect(await screen.findByTestId("card-form-error-why")).toHaveTextContent('"ftp://nope" is not an http(s) URL');
    await user.clear(screen.getByTestId("card-link-target"));
    await user.type(screen.getByTestId("card-link-target"), "https://example.com/receipts");
    await user.click(screen.getByTestId("card-form-save"));

    await waitFor(() => expect(screen.getByTestId("card-drawer").dataset.card).toBe("SMP-19"));
    expect(keysIn("in-review")).toEqual(["SMP-10", "SMP-19"]);
    expect(screen.getByTestId("card-description").querySelector("strong")?.textContent).toBe("the");
    expect(within(screen.getByTestId("card-link")).getByRole("link")).toHaveAttribute("href", "https://example.com/receipts");
    expect(backend.board.boards.get("sample-app")!.moves.at(-1)).toMatchObject({ card: "SMP-19", from: null, to: "in-review", by: "user" });
  });

  test("live: automation moves a card and the board follows; switched off, nothing moves", async () => {
    const user = userEvent.setup();
    const { backend } = await openBoard();
    act(() => {
      expect(backend.board.automove("sample-app", "SMP-7", "done", "deployed by run sample-app-6")).toBe(true);
    });
    await waitFor(() => expect(card("SMP-7")!.dataset.column).toBe("done"));
    expect(within(card("SMP-7")!).getByTestId("card-automation").title).toBe("Moved by automation: deployed by run sample-app-6");

    await user.click(screen.getByTestId("board-automation"));
    await waitFor(() => expect(backend.board.boards.get("sample-app")!.board.automation).toBe(false));
    expect(screen.getByTestId("board-automation")).not.toBeChecked();
    expect(backend.board.automove("sample-app", "SMP-12", "done", "never")).toBe(false);
    expect(card("SMP-12")!.dataset.column).toBe("todo");
  });

  test("sprints: a refused sprint; close the active one carrying its cards, start the next", async () => {
    const user = userEvent.setup();
    const { backend } = await openBoard();
    await user.click(screen.getByTestId("board-manage-sprints"));
    const panel = screen.getByTestId("sprints-panel");
    expect(within(panel).getAllByTestId("sprint-row").map((r) => `${r.dataset.sprint}:${r.dataset.state}`)).toEqual(["1:closed", "2:closed", "3:active", "4:planned"]);

    await user.click(within(panel).getByTestId("sprint-add"));
    await user.type(screen.getByTestId("sprint-form-start"), "2026-03-10");
    await user.type(screen.getByTestId("sprint-form-end"), "2026-03-01");
    await user.click(screen.getByTestId("sprint-form-save"));
    expect(await screen.findByTestId("sprint-form-error-why")).toHaveTextContent("it would end (2026-03-01) before it starts (2026-03-10)");
    await user.click(screen.getByTestId("sprint-form-cancel"));

    const row4 = () => screen.getAllByTestId("sprint-row").find((r) => r.dataset.sprint === "4")!;
    expect(within(row4()).getByTestId("sprint-start")).toBeDisabled();
    const row3 = screen.getAllByTestId("sprint-row").find((r) => r.dataset.sprint === "3")!;
    await user.click(within(row3).getByTestId("sprint-close"));
    expect(screen.getByTestId("sprint-close-form")).toHaveTextContent("4 unfinished cards (13 pts) leave the sprint.");
    expect(screen.getByTestId("sprint-close-carry")).toHaveValue("4");
    await user.click(screen.getByTestId("sprint-close-confirm"));
    await waitFor(() => expect(row4()).toBeInTheDocument());
    await waitFor(() => expect(screen.getAllByTestId("sprint-row").find((r) => r.dataset.sprint === "3")!.dataset.state).toBe("closed"));
    const s = backend.board.boards.get("sample-app")!;
    expect(s.cards.filter((c) => c.sprint === 4).map((c) => c.key).sort()).toEqual(["SMP-10", "SMP-12", "SMP-13", "SMP-8"]);

    await user.click(within(row4()).getByTestId("sprint-start"));
    await user.click(screen.getByTestId("sprint-start-confirm"));
    await waitFor(() => expect(row4().dataset.state).toBe("active"));
  });

  test("the Sprint view: burndown points of Sprint 2 and velocity bars", async () => {
    const user = userEvent.setup();
    await openBoard("#/board?view=sprint&sprint=2");
    await waitFor(() => expect(screen.getByTestId("burndown").dataset.sprint).toBe("2"));
    const points = screen.getAllByTestId("burndown-point").map((p) => Number(p.dataset.remaining));
    expect(points).toEqual([5, 17, 18, 10, 10]);
    expect(screen.getAllByTestId("burndown-scope").map((s) => `+${s.dataset.added}-${s.dataset.removed}`)).toEqual(["+12-0", "+4-3", "+0-8"]);
    await waitFor(() => expect(screen.getAllByTestId("velocity-bar")).toHaveLength(4));
    expect(screen.getByTestId("velocity-average")).toHaveTextContent("average completed: 6.5 pts");
    await user.selectOptions(screen.getByTestId("sprint-select"), "4");
    expect(await screen.findByTestId("burndown")).toHaveAttribute("data-sprint", "4");
    expect(screen.queryAllByTestId("burndown-point")).toEqual([]); // planned: no day has a value yet
  });

  test("no project at all: the default blueprint's board, which a first card creates", async () => {
    const user = userEvent.setup();
    const { backend } = await renderApp({ scenario: "fresh", hash: "#/board" });
    expect(await screen.findByTestId("board-default-note")).toHaveTextContent("the blueprint's project, slipway");
    expect(screen.getByTestId("board-project")).toHaveValue("slipway");
    await waitFor(() => expect(screen.getAllByTestId("board-column-head")).toHaveLength(4));
    expect(allKeys()).toEqual([]);
    expect(backend.board.boards.size).toBe(0); // looking stores nothing
    await user.click(screen.getByTestId("board-new-card"));
    await user.type(screen.getByTestId("card-form-title"), "Pick an instance type");
    await user.click(screen.getByTestId("card-form-save"));
    await waitFor(() => expect(allKeys()).toEqual(["SLP-1"]));
    expect(backend.board.boards.get("slipway")!.cards.map((c) => c.title)).toEqual(["Pick an instance type"]);
  });

  test("import: a malformed CSV names the line and changes nothing", async () => {
    const { backend } = await openBoard();
    const before = JSON.stringify(backend.board.boards.get("sample-app"));
    const keys = allKeys();
    const file = new File(["Summary,Story Points\nGood,1\nBad,many\n"], "issues.csv", { type: "text/csv" });
    fireEvent.change(screen.getByTestId("board-import-file"), { target: { files: [file] } });
    expect(await screen.findByTestId("board-import-error-why")).toHaveTextContent('line 3: Story Points "many" is not a number');
    expect(screen.getByTestId("board-import-error-fix")).toHaveTextContent("Fix line 3 and import the file again; nothing was imported");
    expect(JSON.stringify(backend.board.boards.get("sample-app"))).toBe(before);
    expect(allKeys()).toEqual(keys);
  });
});
