import { useId, useState, type FormEvent } from "react";

import type { Revision } from "../../bindings/Revision";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { shortSha } from "../Pipelines/model";
import { checkReason } from "./model";

/** Asks why before a rollback (the reason is required and kept in the history). */
export function RollbackForm({
  environment,
  target,
  onSubmit,
  onCancel,
}: {
  environment: string;
  target: Revision | null;
  onSubmit: (reason: string) => void;
  onCancel: () => void;
}) {
  const uid = useId();
  const [reason, setReason] = useState("");
  const [error, setError] = useState<UserError | null>(null);

  function submit(e: FormEvent) {
    e.preventDefault();
    const err = checkReason(reason);
    setError(err);
    if (!err) onSubmit(reason.trim());
  }

  return (
    <form className="dp-confirm" onSubmit={submit} aria-label="Roll back" data-testid="rollback-form" noValidate>
      <p>
        Roll {environment} back to{" "}
        {target ? (
          <>
            revision {target.number}
            {target.run && <> (run {target.run}{target.commit && <>, commit <code>{shortSha(target.commit)}</code></>})</>}
          </>
        ) : (
          "the previous revision"
        )}
        ? Its images are applied again as a new revision.
      </p>
      <div className="bp-field">
        <label htmlFor={`${uid}-reason`}>Why? (kept in the history)</label>
        <input
          id={`${uid}-reason`}
          data-testid="rollback-reason"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          placeholder="checkout page returns 500"
          aria-required="true"
          aria-invalid={error ? "true" : "false"}
          autoFocus
        />
      </div>
      {error && <ErrorCallout error={error} testId="rollback-reason-error" />}
      <div className="actions">
        <button type="submit" className="danger" data-testid="rollback-confirm">
          Roll back
        </button>
        <button type="button" data-testid="rollback-cancel" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
