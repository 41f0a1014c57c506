// Vitest (jsdom) runs the UI's own logic: view models, formatting, markdown, the API module with
// Tauri's mocked IPC. Pages are tested in Chromium against the real commands (tests/browser).
import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach } from "vitest";

afterEach(() => {
  cleanup();
  clearMocks();
});
