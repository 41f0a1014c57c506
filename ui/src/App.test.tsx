import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";

import { ROUTES } from "./routes";
import { renderApp } from "./testing/render";

describe("App shell", () => {
  test("the navigation reaches every page; pages not built say so", async () => {
    const user = userEvent.setup();
    await renderApp();
    for (const r of ROUTES) {
      await user.click(screen.getByTestId(`nav-${r.id}`));
      expect(await screen.findByTestId(`page-${r.id}`)).toBeInTheDocument();
      expect(screen.getByTestId(`nav-${r.id}`)).toHaveAttribute("aria-current", "page");
      expect(screen.getByTestId("page-title")).toHaveTextContent(r.title);
      if (!r.built) expect(screen.getByTestId("not-built")).toHaveTextContent(/^Not built yet/);
      else expect(screen.queryByTestId("not-built")).toBeNull();
    }
  });

  test("the status bar shows the AWS endpoint only when it is not AWS itself", async () => {
    const user = userEvent.setup();
    await renderApp();
    expect(screen.queryByTestId("status-aws-endpoint")).toBeNull();
    await user.click(screen.getByTestId("connect-aws-sandbox"));
    await user.click(screen.getByTestId("aws-submit"));
    expect(await screen.findByTestId("status-aws-endpoint")).toHaveTextContent("http://127.0.0.1:45500");
    await user.click(screen.getByTestId("connect-aws-profile"));
    await user.click(screen.getByTestId("aws-submit")); // profile "default": AWS itself
    await screen.findByText("210987654321");
    expect(screen.queryByTestId("status-aws-endpoint")).toBeNull();
  });

  test("a failing doctor() is shown as what/why/fix", async () => {
    const { mockIPC } = await import("@tauri-apps/api/mocks");
    const { render } = await import("@testing-library/react");
    const { App } = await import("./App");
    mockIPC((cmd) => {
      if (cmd === "doctor") throw { what: "Reading the store failed", why: "database is locked", fix: "Close the other Slipway window" };
      return null;
    });
    window.location.hash = "#/connect";
    render(<App />);
    expect(await screen.findByTestId("load-error-why")).toHaveTextContent("database is locked");
  });
});
