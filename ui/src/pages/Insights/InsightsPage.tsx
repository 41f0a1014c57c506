import { useCallback, useEffect, useState } from "react";

import { api } from "../../api";
import type { AuditAction } from "../../bindings/AuditAction";
import type { AuditEntry } from "../../bindings/AuditEntry";
import type { AuditFilter } from "../../bindings/AuditFilter";
import type { AuditFormat } from "../../bindings/AuditFormat";
import type { Insights } from "../../bindings/Insights";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { ProjectSelect, projectsPending, useProjects } from "../../components/ProjectPicker";
import { Spinner } from "../../components/Spinner";
import { WINDOWS, bandLabel, bars, measures, weekLabels, type Measure } from "./model";

const ACTIONS: AuditAction[] = ["connect", "disconnect", "plan", "apply", "destroy", "run", "deploy", "redeploy", "rollback", "boardMove"];

/** A measure's card: its value, its DORA band, and the weekly trend as small bars (SVG). */
function MeasureCard({ m, labels }: { m: Measure; labels: string[] }) {
  const h = 28;
  const heights = bars(m.trend, h);
  return (
    <div className="panel" data-testid="insights-measure" data-measure={m.id} data-band={m.band ?? "none"}>
      <h3>{m.title}</h3>
      <p>
        <strong data-testid="insights-measure-value">{m.value}</strong>{" "}
        <span className={`pl-status band-${m.band ?? "none"}`} data-testid="insights-measure-band">
          {bandLabel(m.band)}
        </span>
      </p>
      <p className="muted" data-testid="insights-measure-detail">
        {m.detail}
      </p>
      <svg width={heights.length * 14} height={h + 2} role="img" aria-label={`${m.title} by week`} data-testid="insights-trend">
        {heights.map((v, i) => (
          <rect key={labels[i]} x={i * 14} y={h - (v ?? 0)} width={10} height={v ?? 0} fill="currentColor" data-week={labels[i]}>
            <title>{`week of ${labels[i]}: ${m.trend[i] ?? "nothing"}`}</title>
          </rect>
        ))}
      </svg>
    </div>
  );
}

/** Saves text as a file through the browser (the webview's download). */
function save(text: string, name: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

/** The Insights page: the four DORA measures per environment, and the audit trail. */
export function InsightsPage() {
  const picker = useProjects();
  const { project } = picker;
  const [days, setDays] = useState<number>(30);
  const [data, setData] = useState<Insights | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [action, setAction] = useState<AuditAction | "">("");
  const [text, setText] = useState("");
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [auditError, setAuditError] = useState<UserError | null>(null);

  useEffect(() => {
    if (!project) return;
    let cancelled = false;
    setData(null);
    api.insights(project, null, days).then(
      (i) => !cancelled && (setData(i), setError(null)),
      (e: UserError) => !cancelled && setError(e),
    );
    return () => {
      cancelled = true;
    };
  }, [project, days]);

  const filter = useCallback(
    (): AuditFilter => ({ project, environment: null, action: action || null, by: null, text: text.trim() || null, since: null, until: null, limit: 500 }),
    [project, action, text],
  );

  useEffect(() => {
    if (!project) return;
    let cancelled = false;
    api.auditTrail(filter()).then(
      (es) => !cancelled && (setEntries(es), setAuditError(null)),
      (e: UserError) => !cancelled && setAuditError(e),
    );
    return () => {
      cancelled = true;
    };
  }, [project, filter]);

  const exportAs = async (format: AuditFormat) => {
    try {
      const out = await api.exportAudit(filter(), format);
      save(out, `slipway-audit-${project}.${format}`, format === "csv" ? "text/csv" : "application/json");
    } catch (e) {
      setAuditError(e as UserError);
    }
  };

  const pending = projectsPending(picker, { error: { testId: "insights-projects-error" }, empty: { testId: "insights-empty" } }, "Insights measure a project's deploys.");
  if (pending) return pending;

  return (
    <div data-testid="insights">
      <div className="toolbar">
        <ProjectSelect p={picker} testId="insights-project" />
        <div className="bp-field">
          <label htmlFor="insights-days">Window</label>
          <select id="insights-days" data-testid="insights-days" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {WINDOWS.map((d) => (
              <option key={d} value={d}>
                {d} days
              </option>
            ))}
          </select>
        </div>
      </div>
      {error && <ErrorCallout error={error} testId="insights-error" />}
      {!data && !error && (
        <p className="muted">
          <Spinner label="Measuring" /> Measuring…
        </p>
      )}
      {data && data.environments.length === 0 && (
        <p className="panel" data-testid="insights-no-environment">
          No environment yet: add one on the <a href="#/deployments">Deployments page</a>, then deploy.
        </p>
      )}
      {data?.environments.map((e) => (
        <section key={e.environment} data-testid="insights-env" data-env={e.environment}>
          <h2>
            {e.environment} <span className="muted">the last {e.days} days</span>
          </h2>
          <div className="card-grid">
            {measures(e).map((m) => (
              <MeasureCard key={m.id} m={m} labels={weekLabels(e.weeks)} />
            ))}
          </div>
          {e.notes.map((n) => (
            <p key={n} className="muted" data-testid="insights-note">
              {n}
            </p>
          ))}
        </section>
      ))}

      <section data-testid="audit">
        <h2>Audit trail</h2>
        <div className="toolbar">
          <div className="bp-field">
            <label htmlFor="audit-action">Action</label>
            <select id="audit-action" data-testid="audit-action" value={action} onChange={(e) => setAction(e.target.value as AuditAction | "")}>
              <option value="">all</option>
              {ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </div>
          <div className="bp-field">
            <label htmlFor="audit-text">Find</label>
            <input id="audit-text" data-testid="audit-text" value={text} onChange={(e) => setText(e.target.value)} />
          </div>
          <button type="button" data-testid="audit-export-csv" onClick={() => void exportAs("csv")}>
            Export CSV
          </button>
          <button type="button" data-testid="audit-export-json" onClick={() => void exportAs("json")}>
            Export JSON
          </button>
        </div>
        {auditError && <ErrorCallout error={auditError} testId="audit-error" />}
        {entries && entries.length === 0 && <p className="muted" data-testid="audit-empty">No entry matches.</p>}
        {entries && entries.length > 0 && (
          <table className="plan-table" data-testid="audit-list">
            <thead>
              <tr>
                <th>When (UTC)</th>
                <th>Who</th>
                <th>What</th>
                <th>Outcome</th>
                <th>Detail</th>
                <th>Why</th>
              </tr>
            </thead>
            <tbody>
              {[...entries].reverse().map((e) => (
                <tr key={e.id} data-testid="audit-row" data-action={e.action} data-by={e.by}>
                  <td>{new Date(e.at).toISOString().slice(0, 19).replace("T", " ")}</td>
                  <td>
                    {e.osUser}
                    {e.by === "automation" ? " (automation)" : ""}
                    {e.identity && <div className="muted">{e.identity}</div>}
                  </td>
                  <td>
                    {e.action} {e.subject}
                    {e.environment ? ` on ${e.environment}` : ""}
                  </td>
                  <td>{e.outcome}</td>
                  <td>{e.detail}</td>
                  <td data-testid="audit-reason">{e.reason ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
