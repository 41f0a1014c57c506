import { useId, type FormEvent, type ReactNode } from "react";

import { api } from "../../api";
import type { ConnectionStatus } from "../../bindings/ConnectionStatus";
import { Spinner } from "../../components/Spinner";
import { ConnectionCard } from "./ConnectionCard";
import type { ConnectionAction } from "./useConnectionAction";

/** One way of signing in, shown as a radio card. */
export type SignInChoice<V extends string> = {
  value: V;
  label: string;
  hint: ReactNode;
  testId: string;
  /** data-testid of the hint, when a test reads it. */
  hintTestId?: string;
  /** The radio cannot be picked (yet). */
  disabled?: boolean;
  /** Shown greyed out: this way is known not to be available here. */
  unavailable?: boolean;
};

type Props<V extends string> = {
  kind: "aws" | "github" | "registry";
  title: string;
  description: ReactNode;
  status: ConnectionStatus | undefined;
  action: ConnectionAction;
  /** Above the form (the AWS region picker). */
  header?: ReactNode;
  /** The form's accessible name. */
  formLabel: string;
  legend: string;
  choices: SignInChoice<V>[];
  choice: V;
  onChoose: (value: V) => void;
  /** Between the choices and the buttons: the fields of the chosen way. */
  children: ReactNode;
  /** Whether the fields are complete (the form is never sent while a command runs). */
  complete: boolean;
  submitLabel: string;
  /** Sends the form through `action.run`; clear secrets from state in here, before the call. */
  connect: () => Promise<ConnectionStatus>;
};

/**
 * The card of a connection a person signs in to (AWS, GitHub, the registry): the shared frame,
 * the ways of signing in as radio cards, the chosen way's fields, and the buttons (connect,
 * then check again and disconnect once something is configured), every one disabled while a
 * command runs. Test ids: `<kind>-submit`, `<kind>-check`, `<kind>-disconnect`.
 */
export function SignInCard<V extends string>(p: Props<V>) {
  const uid = useId();
  const { action, kind, status } = p;
  const canSubmit = !action.busy && p.complete;

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!canSubmit) return;
    void action.run(p.connect);
  }

  return (
    <ConnectionCard kind={kind} title={p.title} description={p.description} status={status} busy={action.busy} error={action.error}>
      {p.header}
      <form className="card-form" onSubmit={submit} aria-label={p.formLabel}>
        <fieldset className="choices" disabled={action.busy}>
          <legend>{p.legend}</legend>
          {p.choices.map((c) => (
            <label
              key={c.value}
              className={`choice${p.choice === c.value ? " choice-selected" : ""}${c.unavailable ? " choice-disabled" : ""}`}
            >
              <input
                type="radio"
                name={`${uid}-choice`}
                value={c.value}
                checked={p.choice === c.value}
                disabled={c.disabled}
                onChange={() => p.onChoose(c.value)}
                data-testid={c.testId}
              />
              <span>
                <span className="choice-label">{c.label}</span>
                <span className="choice-hint" data-testid={c.hintTestId}>
                  {c.hint}
                </span>
              </span>
            </label>
          ))}
        </fieldset>

        {p.children}

        <div className="actions">
          <button type="submit" className="primary" data-testid={`${kind}-submit`} disabled={!canSubmit}>
            {action.busy ? (
              <>
                <Spinner label="Checking" /> Checking…
              </>
            ) : (
              p.submitLabel
            )}
          </button>
          {status && status.state !== "notConfigured" && (
            <>
              <button type="button" data-testid={`${kind}-check`} disabled={action.busy} onClick={() => void action.run(() => api.checkConnection(kind))}>
                Check again
              </button>
              <button type="button" data-testid={`${kind}-disconnect`} disabled={action.busy} onClick={() => void action.run(() => api.disconnect(kind))}>
                Disconnect
              </button>
            </>
          )}
        </div>
      </form>
    </ConnectionCard>
  );
}
