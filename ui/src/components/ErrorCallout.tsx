import type { UserError } from "../bindings/UserError";

/** Shows a UserError as what failed, why, and what to do next. Never a bare "Error". */
export function ErrorCallout({ error, testId }: { error: UserError; testId: string }) {
  return (
    <div className="error-callout" role="alert" data-testid={testId}>
      <p className="error-what" data-testid={`${testId}-what`}>
        {error.what}
      </p>
      <dl className="error-details">
        <dt>Why</dt>
        <dd data-testid={`${testId}-why`}>{error.why}</dd>
        <dt>What to do</dt>
        <dd data-testid={`${testId}-fix`}>{error.fix}</dd>
      </dl>
    </div>
  );
}
