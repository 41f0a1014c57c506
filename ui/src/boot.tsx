import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App";
import "./styles.css";

/** Renders the app into #root. Shared by the real entry (main.tsx) and the mock one (testing/). */
export function boot(): void {
  const el = document.getElementById("root");
  if (!el) throw new Error("index.html has no #root element");
  createRoot(el).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
