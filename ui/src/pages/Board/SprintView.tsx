// The Sprint view: a sprint's burndown (remaining points per day against the ideal line, with
// the days scope joined or left marked) and the velocity of past sprints (committed against
// completed). Both charts are inline SVG; every point carries its value in data attributes, and
// a table under each chart says the same in words.

import { useEffect, useId, useState } from "react";

import { api } from "../../api";
import type { Burndown } from "../../bindings/Burndown";
import type { Sprint } from "../../bindings/Sprint";
import type { UserError } from "../../bindings/UserError";
import type { Velocity } from "../../bindings/Velocity";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { burndownChart, shortDate, velocityChart } from "./model";

type Props = {
  project: string;
  sprints: Sprint[];
  sprint: number | null;
  onSprint: (n: number) => void;
  /** Changes whenever the board changed (the charts are read again). */
  version: number;
};

export function SprintView({ project, sprints, sprint, onSprint, version }: Props) {
  const uid = useId();
  const [burndown, setBurndown] = useState<Burndown | null>(null);
  const [burndownError, setBurndownError] = useState<UserError | null>(null);
  const [velocity, setVelocity] = useState<Velocity[] | null>(null);
  const [velocityError, setVelocityError] = useState<UserError | null>(null);

  useEffect(() => {
    if (sprint === null) return;
    let cancelled = false;
    api.burndown(project, sprint).then(
      (b) => {
        if (cancelled) return;
        setBurndown(b);
        setBurndownError(null);
      },
      (e: UserError) => {
        if (cancelled) return;
        setBurndown(null);
        setBurndownError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [project, sprint, version]);

  useEffect(() => {
    let cancelled = false;
    api.velocity(project).then(
      (v) => {
        if (cancelled) return;
        setVelocity(v);
        setVelocityError(null);
      },
      (e: UserError) => {
        if (!cancelled) setVelocityError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [project, version]);

  const current = sprints.find((s) => s.number === sprint) ?? null;
  const shown = burndown && burndown.sprint === sprint ? burndown : null;

  return (
    <div className="kb-sprint-view" data-testid="sprint-view">
      {sprints.length === 0 ? (
        <p className="muted" data-testid="sprint-view-empty">
          No sprint yet: add one under Sprints, put cards in it, and start it.
        </p>
      ) : (
        <div className="bp-field kb-sprint-pick">
          <label htmlFor={`${uid}-sprint`}>Sprint</label>
          <select id={`${uid}-sprint`} data-testid="sprint-select" value={sprint ?? ""} onChange={(e) => onSprint(Number(e.target.value))}>
            {sprints.map((s) => (
              <option key={s.number} value={s.number}>
                {s.name} ({s.state})
              </option>
            ))}
          </select>
        </div>
      )}
      {current && (
        <section className="panel kb-chart-panel" aria-label={`Burndown of ${current.name}`}>
          <h2>
            Burndown: {current.name} <span className={`kb-sprint-state state-${current.state}`}>{current.state}</span>
          </h2>
          {current.goal && (
            <p className="kb-sprint-goal" data-testid="sprint-view-goal">
              Goal: {current.goal}
            </p>
          )}
          {burndownError && <ErrorCallout error={burndownError} testId="burndown-error" />}
          {!shown && !burndownError && (
            <p className="muted">
              <Spinner label="Loading the burndown" /> Loading…
            </p>
          )}
          {shown && <BurndownChart bd={shown} />}
        </section>
      )}
      <section className="panel kb-chart-panel" aria-label="Velocity">
        <h2>Velocity</h2>
        {velocityError && <ErrorCallout error={velocityError} testId="velocity-error" />}
        {velocity && velocity.length === 0 && (
          <p className="muted" data-testid="velocity-empty">
            No closed sprint yet: velocity is committed against completed points of every closed sprint.
          </p>
        )}
        {velocity && velocity.length > 0 && <VelocityChart v={velocity} />}
      </section>
    </div>
  );
}

function BurndownChart({ bd }: { bd: Burndown }) {
  const g = burndownChart(bd);
  const { box } = g;
  const bottom = box.height - box.bottom;
  const every = Math.max(1, Math.ceil(g.days.length / 10));
  return (
    <div data-testid="burndown" data-sprint={bd.sprint} data-committed={bd.committed}>
      <dl className="kb-summary" data-testid="sprint-summary">
        <div>
          <dt>Committed</dt>
          <dd data-testid="sprint-committed">{bd.committed}</dd>
        </div>
        <div>
          <dt>Completed</dt>
          <dd data-testid="sprint-completed">{bd.completed}</dd>
        </div>
        <div>
          <dt>Remaining</dt>
          <dd data-testid="sprint-remaining">{bd.remaining}</dd>
        </div>
        <div>
          <dt>Scope added</dt>
          <dd data-testid="sprint-scope-added">+{bd.scopeAdded}</dd>
        </div>
        <div>
          <dt>Scope removed</dt>
          <dd data-testid="sprint-scope-removed">−{bd.scopeRemoved}</dd>
        </div>
        <div>
          <dt>Dates</dt>
          <dd>
            {bd.start} – {bd.end}
          </dd>
        </div>
      </dl>
      <svg
        className="kb-chart"
        data-testid="burndown-chart"
        viewBox={`0 0 ${box.width} ${box.height}`}
        role="img"
        aria-label={`Burndown of ${bd.name}: ${bd.committed} points committed, ${bd.remaining} remaining`}
      >
        {g.ticks.map((t) => (
          <g key={t.value} className="kb-grid">
            <line x1={box.left} x2={box.width - box.right} y1={t.y} y2={t.y} />
            <text x={box.left - 6} y={t.y + 4} textAnchor="end">
              {t.value}
            </text>
          </g>
        ))}
        {g.days.map((d, i) =>
          i % every === 0 || i === g.days.length - 1 ? (
            <text key={d.date} className="kb-axis-label" x={d.x} y={bottom + 16} textAnchor="middle">
              {shortDate(d.date)}
            </text>
          ) : null,
        )}
        {g.scope.map((s) => (
          <g key={s.date} className="kb-scope" data-testid="burndown-scope" data-date={s.date} data-added={s.added} data-removed={s.removed}>
            <line x1={s.x} x2={s.x} y1={box.top} y2={bottom} />
            <text x={s.x + 3} y={box.top + 10}>
              {s.added > 0 ? `+${s.added}` : ""}
              {s.added > 0 && s.removed > 0 ? " " : ""}
              {s.removed > 0 ? `−${s.removed}` : ""}
            </text>
            <title>
              {shortDate(s.date)}: scope {s.added > 0 ? `+${s.added}` : ""} {s.removed > 0 ? `−${s.removed}` : ""} points
            </title>
          </g>
        ))}
        <path className="kb-ideal-line" data-testid="burndown-ideal-line" d={g.idealPath} />
        {g.ideal.map((p) => (
          <circle key={p.date} className="kb-ideal-point" data-testid="burndown-ideal-point" data-date={p.date} data-ideal={p.ideal} cx={p.x} cy={p.y} r={2} />
        ))}
        <path className="kb-remaining-line" data-testid="burndown-remaining-line" d={g.remainingPath} />
        {g.points.map((p) => (
          <circle key={p.date} className="kb-remaining-point" data-testid="burndown-point" data-date={p.date} data-remaining={p.remaining} cx={p.x} cy={p.y} r={4}>
            <title>
              {shortDate(p.date)}: {p.remaining} points remaining
            </title>
          </circle>
        ))}
      </svg>
      <p className="kb-legend" aria-hidden="true">
        <span className="kb-legend-remaining">remaining</span> <span className="kb-legend-ideal">ideal</span> <span className="kb-legend-scope">scope change</span>
      </p>
      <details className="kb-table-details">
        <summary>Show as a table</summary>
        <table className="plan-table" data-testid="burndown-table">
          <thead>
            <tr>
              <th>Day</th>
              <th className="num">Remaining</th>
              <th className="num">Ideal</th>
              <th className="num">Scope added</th>
              <th className="num">Scope removed</th>
            </tr>
          </thead>
          <tbody>
            {bd.days.map((d) => (
              <tr key={d.date}>
                <td>{d.date}</td>
                <td className="num">{d.remaining ?? "—"}</td>
                <td className="num">{Math.round(d.ideal * 10) / 10}</td>
                <td className="num">{d.scopeAdded || ""}</td>
                <td className="num">{d.scopeRemoved || ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}

function VelocityChart({ v }: { v: Velocity[] }) {
  const g = velocityChart(v);
  const { box } = g;
  const bottom = box.height - box.bottom;
  return (
    <div>
      <svg className="kb-chart" data-testid="velocity-chart" viewBox={`0 0 ${box.width} ${box.height}`} role="img" aria-label={`Velocity of ${v.length} closed sprints`}>
        {g.ticks.map((t) => (
          <g key={t.value} className="kb-grid">
            <line x1={box.left} x2={box.width - box.right} y1={t.y} y2={t.y} />
            <text x={box.left - 6} y={t.y + 4} textAnchor="end">
              {t.value}
            </text>
          </g>
        ))}
        {g.bars.map((b) => (
          <g key={b.sprint}>
            <rect className="kb-bar-committed" data-testid="velocity-bar" data-sprint={b.sprint} data-kind="committed" data-value={b.committed.value} x={b.x} y={b.committed.y} width={b.width} height={b.committed.height}>
              <title>
                {b.name}: {b.committed.value} committed
              </title>
            </rect>
            <rect className="kb-bar-completed" data-testid="velocity-bar" data-sprint={b.sprint} data-kind="completed" data-value={b.completed.value} x={b.x + b.width} y={b.completed.y} width={b.width} height={b.completed.height}>
              <title>
                {b.name}: {b.completed.value} completed
              </title>
            </rect>
            <text className="kb-axis-label" x={b.x + b.width} y={bottom + 16} textAnchor="middle">
              {b.name}
            </text>
          </g>
        ))}
        {g.averageY !== null && <line className="kb-average" x1={box.left} x2={box.width - box.right} y1={g.averageY} y2={g.averageY} />}
      </svg>
      <p className="kb-legend">
        <span className="kb-legend-committed">committed</span> <span className="kb-legend-completed">completed</span>{" "}
        <span data-testid="velocity-average">average completed: {g.average ?? 0} pts</span>
      </p>
    </div>
  );
}
