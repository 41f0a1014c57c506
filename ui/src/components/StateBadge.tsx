import type { ConnectionState } from "../bindings/ConnectionState";
import { connectionStateLabel } from "../format";
import { Spinner } from "./Spinner";

/** The pill at the top right of a connection card. */
export function StateBadge({ state, busy, testId }: { state: ConnectionState | null; busy: boolean; testId: string }) {
  if (busy) {
    return (
      <span className="badge badge-busy" data-testid={testId} data-state="checking">
        <Spinner label="Checking" /> Checking…
      </span>
    );
  }
  const s = state ?? "notConfigured";
  return (
    <span className={`badge badge-${s}`} data-testid={testId} data-state={s}>
      {connectionStateLabel(s)}
    </span>
  );
}
