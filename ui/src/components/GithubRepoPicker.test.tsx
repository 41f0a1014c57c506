import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";

import type { MockBackend } from "../testing/mockBackend";
import { REPOS_PER_PAGE, SAMPLE_REPO } from "../testing/mockGithub";
import { renderApp } from "../testing/render";

const id = (testId: string) => screen.getByTestId(testId);
const options = () => screen.getAllByTestId("gh-repo-option");
const repos = () => options().map((o) => o.getAttribute("data-repo"));
const calls = (b: MockBackend, cmd: string) => b.calls.filter((c) => c.cmd === cmd).map((c) => c.args as Record<string, unknown>);

/** The Project page with GitHub connected; its watch form holds a picker with branches. */
async function openProjectPage() {
  const r = await renderApp({ hash: "#/project" });
  await act(async () => {
    await r.backend.handle("connect_github", { input: { token: "ghp_0123456789abcdef", baseUrl: null } });
  });
  await screen.findByTestId("gh-watch");
  await waitFor(() => expect(options()).toHaveLength(REPOS_PER_PAGE));
  r.backend.calls.length = 0; // from here on, only what the test does
  return r;
}

describe("GitHub repository picker", () => {
  test("lists the token's repositories a page at a time, most recently pushed first, with owner, private badge, description and default branch", async () => {
    const user = userEvent.setup();
    const { backend } = await openProjectPage();
    expect(repos().slice(0, 3)).toEqual([SAMPLE_REPO, "harbor-works/shop-api", "harbor-works/infra"]);
    expect(new Set(repos().map((r) => r!.split("/")[0]))).toEqual(new Set(["octo-dev", "harbor-works"]));
    const shop = options()[1];
    expect(within(shop).getByTestId("gh-repo-private")).toHaveTextContent("private");
    expect(shop).toHaveTextContent("Orders and payments API (Go)");
    expect(shop).toHaveTextContent("trunk");
    expect(within(options()[0]).queryByTestId("gh-repo-private")).toBeNull();

    await user.click(id("gh-repo-more"));
    await waitFor(() => expect(options().length).toBeGreaterThan(REPOS_PER_PAGE));
    expect(options()).toHaveLength(62);
    expect(new Set(repos()).size).toBe(62);
    expect(calls(backend, "github_repos")).toEqual([{ query: null, page: 2 }]);
    expect(screen.queryByTestId("gh-repo-more")).toBeNull(); // the last page
  });

  test("the search waits 300 ms after the last key: one call for a whole word, matching name or description", async () => {
    const user = userEvent.setup();
    const { backend } = await openProjectPage();
    await user.type(id("gh-repo-search"), "terraform");
    await waitFor(() => expect(repos()).toEqual(["harbor-works/infra", "octo-dev/terraform-sandbox", "harbor-works/terraform-modules"]));
    // "harbor-works/infra" matches by its description ("Terraform for the shared AWS accounts").
    expect(calls(backend, "github_repos")).toEqual([{ query: "terraform", page: 1 }]);
    expect(screen.queryByTestId("gh-repo-more")).toBeNull(); // a search answers on one page

    await user.clear(id("gh-repo-search"));
    await user.type(id("gh-repo-search"), "zzz-nothing");
    expect(await screen.findByTestId("gh-repo-empty")).toHaveTextContent("No repository matches “zzz-nothing”.");
    expect(calls(backend, "github_repos").map((c) => c.query)).toEqual(["terraform", "zzz-nothing"]);
  });

  test("keyboard: arrows move through the results, Enter picks, Escape clears the search", async () => {
    const user = userEvent.setup();
    await openProjectPage();
    const search = id("gh-repo-search");
    await user.type(search, "shop");
    // sample-app matches by its description ("The sample shop: ...").
    await waitFor(() => expect(repos()).toEqual([SAMPLE_REPO, "harbor-works/shop-api", "harbor-works/web-storefront", "harbor-works/legacy-php-shop"]));
    expect(options()[0]).toHaveAttribute("aria-selected", "true");
    await user.keyboard("{ArrowDown}{ArrowDown}{ArrowDown}{ArrowDown}{ArrowUp}");
    expect(options()[2]).toHaveAttribute("aria-selected", "true");
    expect(options().filter((o) => o.getAttribute("aria-selected") === "true")).toHaveLength(1);
    expect(search).toHaveAttribute("aria-activedescendant", options()[2].id);
    await user.keyboard("{Escape}");
    expect(search).toHaveValue("");
    // Until the answer for the new text arrives, the list shown is marked stale and Enter picks nothing.
    await user.type(search, "storefront");
    expect(id("gh-repo-results")).toHaveAttribute("aria-busy", "true");
    await user.keyboard("{Enter}");
    expect(screen.queryByTestId("gh-repo-picked")).toBeNull();
    await waitFor(() => expect(id("gh-repo-results")).toHaveAttribute("data-query", "storefront"));
    expect(id("gh-repo-results")).toHaveAttribute("aria-busy", "false");
    expect(repos()).toEqual(["harbor-works/web-storefront"]);
    await user.keyboard("{Enter}");
    expect(await screen.findByTestId("gh-repo-picked")).toHaveAttribute("data-repo", "harbor-works/web-storefront");
  });

  test("a picked repository: its branches (the default one chosen) and the branch's 10 newest commits", async () => {
    const user = userEvent.setup();
    const { backend } = await openProjectPage();
    await user.type(id("gh-repo-search"), "shop-api");
    await waitFor(() => expect(repos()).toEqual(["harbor-works/shop-api"]));
    await user.click(options()[0]);
    const select = await screen.findByTestId("gh-branch-select");
    expect(select).toHaveValue("trunk");
    expect(within(select).getAllByRole("option").map((o) => o.getAttribute("value"))).toEqual(["trunk", "staging", "feat/refunds"]);
    await waitFor(() => expect(screen.getAllByTestId("gh-commit")).toHaveLength(10));
    expect(calls(backend, "github_branches")).toEqual([{ repo: "harbor-works/shop-api", page: 1 }]);
    expect(calls(backend, "github_commits")).toEqual([{ repo: "harbor-works/shop-api", branch: "trunk", limit: 10 }]);
    const first = screen.getAllByTestId("gh-commit")[0];
    expect(within(first).getByRole("link").getAttribute("href")).toBe(`https://github.com/harbor-works/shop-api/commit/${first.getAttribute("data-sha")}`);

    const trunkShas = screen.getAllByTestId("gh-commit").map((c) => c.getAttribute("data-sha"));
    await user.selectOptions(select, "staging");
    await waitFor(() => expect(screen.getAllByTestId("gh-commit")[0].getAttribute("data-sha")).not.toBe(trunkShas[0]));
    expect(calls(backend, "github_commits").at(-1)).toEqual({ repo: "harbor-works/shop-api", branch: "staging", limit: 10 });
    expect(screen.getByText("Recent commits of staging")).toBeInTheDocument();

    // Change: back to the search.
    await user.click(id("gh-repo-change"));
    expect(await screen.findByTestId("gh-repo-search")).toHaveFocus();
    expect(screen.queryByTestId("gh-branch-select")).toBeNull();
  });

  test("the picker fills a new project's Git URL with the repository's clone URL", async () => {
    const user = userEvent.setup();
    await openProjectPage();
    await user.click(id("project-source-git"));
    await user.click(id("project-github-pick"));
    const pickers = screen.getAllByTestId("gh-repo-picker");
    const search = within(pickers[0]).getByTestId("gh-repo-search");
    expect(search).toHaveFocus();
    await user.type(search, "inventory");
    await waitFor(() => expect(within(pickers[0]).getAllByTestId("gh-repo-option").map((o) => o.getAttribute("data-repo"))).toEqual(["harbor-works/inventory"]));
    await user.keyboard("{Enter}");
    expect(id("project-git-url")).toHaveValue("https://github.com/harbor-works/inventory.git");
    expect(screen.getAllByTestId("gh-repo-picker")).toHaveLength(1); // closed again
    await user.click(id("project-detect"));
    expect(await screen.findByTestId("project-detected")).toBeInTheDocument();
    expect(id("project-id")).toHaveValue("inventory");
  });
});
