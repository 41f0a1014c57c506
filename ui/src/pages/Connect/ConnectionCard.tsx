import type { ReactNode } from "react";

import type { ConnectionKind } from "../../bindings/ConnectionKind";
import type { ConnectionStatus } from "../../bindings/ConnectionStatus";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { StateBadge } from "../../components/StateBadge";
import { formatCheckedAt } from "../../format";
import { IdentitySummary } from "./IdentitySummary";

type Props = {
  kind: ConnectionKind;
  title: string;
  description: ReactNode;
  status: ConnectionStatus | undefined;
  busy: boolean;
  /** An error from the last command this card ran (shown instead of status.error). */
  error: UserError | null;
  children?: ReactNode;
};

/**
 * The frame every connection card shares: title and state, who you are (the last identity a
 * check confirmed stays visible after a failed check), the last error, and when it was checked.
 */
export function ConnectionCard({ kind, title, description, status, busy, error, children }: Props) {
  const shownError = error ?? (status?.state === "failed" ? status.error : null);
  const headingId = `card-${kind}-title`;
  return (
    <section className="card" data-testid={`card-${kind}`} aria-labelledby={headingId} aria-busy={busy}>
      <header className="card-header">
        <div>
          <h2 id={headingId}>{title}</h2>
          <p className="card-description">{description}</p>
        </div>
        <StateBadge state={status?.state ?? null} busy={busy} testId={`${kind}-state`} />
      </header>

      {status?.identity && (
        <div className={`identity${status.state === "connected" ? "" : " identity-stale"}`} data-testid={`${kind}-identity`}>
          {status.state !== "connected" && <p className="identity-note">Last confirmed identity:</p>}
          <IdentitySummary identity={status.identity} />
        </div>
      )}

      {shownError && <ErrorCallout error={shownError} testId={`${kind}-error`} />}

      {status?.checkedAt != null && (
        <p className="checked-at" data-testid={`${kind}-checked-at`}>
          Checked{" "}
          <time dateTime={new Date(status.checkedAt).toISOString()} title={new Date(status.checkedAt).toString()}>
            {formatCheckedAt(status.checkedAt)}
          </time>
        </p>
      )}

      {children}
    </section>
  );
}
