import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, vi } from "vitest";

// findBy* / waitFor wait up to 5 s (default 1 s): a simulated apply or pipeline run on a busy
// 2-core machine can take longer than a second; a passing condition still returns at once.
configure({ asyncUtilTimeout: 5_000 });

// The log view's xterm.js cannot run in jsdom: every test gets the stand-in (fakeTerminal.ts).
vi.mock("../pages/Pipelines/terminal", () => import("./fakeTerminal"));

afterEach(() => {
  cleanup();
  clearMocks();
  window.location.hash = "";
});

// jsdom lacks what @xyflow/react measures with; minimal stand-ins (the diagram's geometry is
// not tested in jsdom, only its content).
class ResizeObserverStub {
  observe() {}
  unobserve() {}
  disconnect() {}
}
if (!("ResizeObserver" in globalThis)) {
  (globalThis as unknown as { ResizeObserver: unknown }).ResizeObserver = ResizeObserverStub;
}
if (!("DOMMatrixReadOnly" in globalThis)) {
  (globalThis as unknown as { DOMMatrixReadOnly: unknown }).DOMMatrixReadOnly = class {
    m22: number;
    constructor(transform?: string) {
      const scale = transform?.match(/scale\(([\d.]+)\)/)?.[1];
      this.m22 = scale !== undefined ? Number(scale) : 1;
    }
  };
}
