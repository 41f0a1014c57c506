import { Fragment } from "react";

import type { Revision } from "../../bindings/Revision";
import { ErrorCallout } from "../../components/ErrorCallout";
import { formatCheckedAt } from "../../format";
import { formatDuration, shortSha } from "../Pipelines/model";
import { OPERATION_LABEL, REVISION_STATUS_LABEL, canRollBackTo, imagesLabel, statusClass } from "./model";

function when(r: Revision, now: number): string {
  const started = formatCheckedAt(r.startedAt, now);
  if (r.finishedAt !== null) return `${started} · ${formatDuration(r.finishedAt - r.startedAt)}`;
  return r.status === "inProgress" ? `${started} · ${formatDuration(now - r.startedAt)} so far` : started;
}

/** Every revision, newest first: what, how it ended, when, why, from which run; older good ones can be rolled back to. */
export function History({
  project,
  revisions,
  current,
  now,
  disabled,
  onRollback,
}: {
  project: string;
  revisions: Revision[];
  current: number | null;
  now: number;
  disabled: boolean;
  onRollback: (to: number) => void;
}) {
  return (
    <section className="dp-history" aria-label="Revision history">
      <h3>History</h3>
      <div className="dp-scroll">
        <table className="plan-table" data-testid="revision-list">
          <thead>
            <tr>
              <th>Revision</th>
              <th>Operation</th>
              <th>Status</th>
              <th>When</th>
              <th>Why</th>
              <th>Commit</th>
              <th>Run</th>
              <th>Images</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {revisions.map((r) => (
              <Fragment key={r.number}>
                <tr
                  className={r.number === current ? "dp-rev-current" : undefined}
                  data-testid="revision-row"
                  data-revision={r.number}
                  data-status={r.status}
                  data-operation={r.operation}
                >
                  <td>
                    #{r.number}
                    {r.number === current && (
                      <span className="dp-serving" data-testid="revision-current">
                        serving
                      </span>
                    )}
                  </td>
                  <td data-testid="revision-operation">{OPERATION_LABEL[r.operation]}</td>
                  <td>
                    <span className={`pl-status status-${statusClass(r.status)}`} data-testid="revision-status">
                      <span className="pl-dot" aria-hidden="true" />
                      {REVISION_STATUS_LABEL[r.status]}
                    </span>
                  </td>
                  <td className="dp-when" data-testid="revision-when" title={new Date(r.startedAt).toLocaleString()}>
                    {when(r, now)}
                  </td>
                  <td data-testid="revision-reason">{r.reason}</td>
                  <td data-testid="revision-commit">{r.commit ? <code>{shortSha(r.commit)}</code> : ""}</td>
                  <td data-testid="revision-run">{r.run ? <a href={`#/pipelines?project=${encodeURIComponent(project)}`}>{r.run}</a> : ""}</td>
                  <td className="dp-images" data-testid="revision-images" title={imagesLabel(r)}>
                    {r.images.map((i) => (
                      <span key={`${i.workload}/${i.container}`} className="dp-image">
                        {i.workload} {i.image}
                      </span>
                    ))}
                  </td>
                  <td>
                    {canRollBackTo(r, current) && (
                      <button type="button" data-testid="revision-rollback" disabled={disabled} onClick={() => onRollback(r.number)}>
                        Roll back to this
                      </button>
                    )}
                  </td>
                </tr>
                {(r.error || r.note) && (
                  <tr className="dp-rev-detail" data-testid="revision-detail" data-revision={r.number}>
                    <td colSpan={9}>
                      {r.error && <ErrorCallout error={r.error} testId="revision-error" />}
                      {r.note && (
                        <p className="hint" data-testid="revision-note">
                          {r.note}
                        </p>
                      )}
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
