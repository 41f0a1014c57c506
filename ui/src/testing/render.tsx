import { mockIPC } from "@tauri-apps/api/mocks";
import { render, screen } from "@testing-library/react";

import { App } from "../App";
import { MockBackend, type MockOptions } from "./mockBackend";

/** Renders the whole app against a fresh MockBackend and waits for doctor() to answer. */
export async function renderApp(opts: MockOptions & { hash?: string } = {}) {
  const backend = new MockBackend(opts);
  mockIPC(backend.handle);
  window.location.hash = opts.hash ?? "#/connect";
  const view = render(<App />);
  await screen.findByTestId("nav-connect-count");
  return { backend, ...view };
}
