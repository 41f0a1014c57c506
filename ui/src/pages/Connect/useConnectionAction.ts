import { useCallback, useRef, useState } from "react";

import type { ConnectionStatus } from "../../bindings/ConnectionStatus";
import type { UserError } from "../../bindings/UserError";
import { useStore } from "../../state/store";

/**
 * Runs one command of a connection card at a time: `busy` while it runs (buttons disabled,
 * progress shown), the resulting status applied to the store, a rejection kept as `error`.
 * A failure leaves the last status (and so the last good identity) in place.
 */
export function useConnectionAction() {
  const { applyStatus } = useStore();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const running = useRef(false);

  const run = useCallback(
    async (command: () => Promise<ConnectionStatus>): Promise<ConnectionStatus | null> => {
      if (running.current) return null;
      running.current = true;
      setBusy(true);
      setError(null);
      try {
        const status = await command();
        applyStatus(status);
        return status;
      } catch (e) {
        setError(e as UserError); // api.ts guarantees the UserError shape
        return null;
      } finally {
        running.current = false;
        setBusy(false);
      }
    },
    [applyStatus],
  );

  return { busy, error, setError, run };
}

export type ConnectionAction = ReturnType<typeof useConnectionAction>;
