import { useState } from "react";

import type { Action } from "../../bindings/Action";
import type { Drift } from "../../bindings/Drift";
import type { DriftStatus } from "../../bindings/DriftStatus";
import type { Plan } from "../../bindings/Plan";
import { KIND_LABEL, money } from "./model";

export const ACTION_SIGN: Record<Action, string> = {
  create: "+",
  update: "~",
  replace: "-/+",
  delete: "-",
  noChange: " ",
};

export const ACTION_WORD: Record<Action, string> = {
  create: "create",
  update: "update",
  replace: "replace",
  delete: "delete",
  noChange: "unchanged",
};

/** "21 to create, 1 to update" style summary of a plan. */
export function planSummary(plan: Plan): string {
  const n: Record<Action, number> = { create: 0, update: 0, replace: 0, delete: 0, noChange: 0 };
  plan.changes.forEach((c) => (n[c.action] += 1));
  const parts = (["create", "update", "replace", "delete"] as Action[]).filter((a) => n[a] > 0).map((a) => `${n[a]} to ${ACTION_WORD[a]}`);
  if (n.noChange > 0) parts.push(`${n.noChange} unchanged`);
  return parts.length ? parts.join(", ") : "nothing to do";
}

export function PlanTable({ plan }: { plan: Plan }) {
  const [showUnchanged, setShowUnchanged] = useState(false);
  const unchanged = plan.changes.filter((c) => c.action === "noChange").length;
  const rows = plan.changes.filter((c) => showUnchanged || c.action !== "noChange");
  const cur = plan.prices.currency;
  return (
    <section className="arch-plan" data-testid="plan-table" aria-label="Plan">
      <h2>
        Plan for {plan.project} in {plan.region}: <span data-testid="plan-summary">{planSummary(plan)}</span>
      </h2>
      <table className="plan-table">
        <thead>
          <tr>
            <th scope="col" aria-label="Action" />
            <th scope="col">Resource</th>
            <th scope="col">Why</th>
            <th scope="col">Physical id</th>
            <th scope="col" className="num">
              Per month
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={c.id} className={`plan-${c.action}`} data-testid={`plan-row-${c.id}`} data-action={c.action}>
              <td className="plan-sign" title={ACTION_WORD[c.action]}>
                <code>{ACTION_SIGN[c.action]}</code> <span className="plan-action">{ACTION_WORD[c.action]}</span>
              </td>
              <td>
                {KIND_LABEL[c.kind]} <strong>{c.name}</strong> <span className="muted">({c.id})</span>
              </td>
              <td>{c.reason ?? ""}</td>
              <td>
                <code>{c.physicalId ?? "—"}</code>
              </td>
              <td className="num">
                {c.monthlyCost == null ? "no price" : money(c.monthlyCost, cur)}
                {c.costNote && (
                  <div className="muted plan-note" data-testid={`plan-note-${c.id}`}>
                    {c.costNote}
                  </div>
                )}
              </td>
            </tr>
          ))}
          {unchanged > 0 && (
            <tr className="plan-unchanged-toggle">
              <td colSpan={5}>
                <button type="button" className="link" data-testid="plan-toggle-unchanged" onClick={() => setShowUnchanged((v) => !v)}>
                  {showUnchanged ? `Hide ${unchanged} unchanged` : `Show ${unchanged} unchanged`}
                </button>
              </td>
            </tr>
          )}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={4}>
              Total per month
            </th>
            <td className="num" data-testid="plan-total">
              {money(plan.monthlyTotal, cur)}
            </td>
          </tr>
        </tfoot>
      </table>
      <p className="muted" data-testid="plan-prices">
        On-demand prices of {plan.prices.date}, {plan.prices.region} ({cur}).{plan.prices.note ? ` ${plan.prices.note}.` : ""}
      </p>
      {plan.optIns.length > 0 && (
        <div className="plan-opt-ins" data-testid="plan-opt-ins">
          <h3>Opt-in parts (turned on or off in the parameters)</h3>
          <ul>
            {plan.optIns.map((o) => (
              <li key={o.field} data-testid={`plan-optin-${o.field}`} data-enabled={String(o.enabled)}>
                <strong>{o.label}</strong> {o.enabled ? "on" : "off"}: {o.purpose}
                {o.enabled ? ` Adds ${o.resources.join(", ")}.` : ""}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

export const DRIFT_WORD: Record<DriftStatus, string> = {
  inSync: "in sync",
  changed: "changed",
  deleted: "deleted outside Slipway",
  notCreated: "not created",
  extra: "not in the blueprint",
};

export function DriftTable({ drift }: { drift: Drift[] }) {
  const off = drift.filter((d) => d.status !== "inSync").length;
  return (
    <section className="arch-drift" data-testid="arch-drift" aria-label="Drift">
      <h2>{off === 0 ? "Everything matches the blueprint" : `${off} of ${drift.length} differ from the blueprint`}</h2>
      <table className="plan-table">
        <thead>
          <tr>
            <th scope="col">Resource</th>
            <th scope="col">Status</th>
            <th scope="col">Physical id</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {drift.map((d) => (
            <tr key={d.id} data-testid={`drift-row-${d.id}`} data-status={d.status} className={`drift-${d.status}`}>
              <td>
                {KIND_LABEL[d.kind]} <strong>{d.name}</strong> <span className="muted">({d.id})</span>
              </td>
              <td>{DRIFT_WORD[d.status]}</td>
              <td>
                <code>{d.physicalId ?? "—"}</code>
              </td>
              <td>{d.details.join("; ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
