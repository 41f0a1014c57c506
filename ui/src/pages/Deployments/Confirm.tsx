import type { ReactNode } from "react";

/** An inline confirmation: what will happen, a button that does it and one that does not. */
export function Confirm({
  testId,
  yes,
  no,
  onYes,
  onNo,
  children,
}: {
  testId: string;
  yes: { testId: string; label: string };
  no: { testId: string };
  onYes: () => void;
  onNo: () => void;
  children: ReactNode;
}) {
  return (
    <div className="dp-confirm" role="group" aria-label={yes.label} data-testid={testId}>
      <div>{children}</div>
      <div className="actions">
        <button type="button" className="danger" data-testid={yes.testId} onClick={onYes} autoFocus>
          {yes.label}
        </button>
        <button type="button" data-testid={no.testId} onClick={onNo}>
          Cancel
        </button>
      </div>
    </div>
  );
}
