import type { ReactNode } from "react";

/** What a page that is not built yet shows: a plain statement, never sample data. */
export function NotBuilt({ children }: { children: ReactNode }) {
  return (
    <div className="panel not-built" data-testid="not-built">
      <p className="not-built-title">Not built yet</p>
      <p>{children}</p>
      <p className="muted">(planned)</p>
    </div>
  );
}
