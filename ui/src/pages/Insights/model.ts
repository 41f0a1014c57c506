// Pure helpers of the Insights page: how each measure reads, its band's label, and the points of
// the weekly trend's small bars. The numbers come from the Rust side (core::insights).
import type { Band } from "../../bindings/Band";
import type { EnvironmentInsights } from "../../bindings/EnvironmentInsights";
import type { WeekTrend } from "../../bindings/WeekTrend";

export const WINDOWS = [7, 30, 90] as const;

/** A duration as the CLI prints it (core::insights::human_duration). */
export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor((s + 30) / 60)} min`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

export function bandLabel(b: Band | null): string {
  return b === null ? "no data" : b;
}

export type MeasureId = "frequency" | "lead" | "failure" | "restore";

export type Measure = {
  id: MeasureId;
  title: string;
  value: string;
  detail: string;
  band: Band | null;
  /** One number per week, for the trend's bars (null: nothing that week). */
  trend: (number | null)[];
};

/** The four measures of an environment, as the page shows them. */
export function measures(e: EnvironmentInsights): Measure[] {
  const f = e.deploymentFrequency;
  const l = e.leadTime;
  const c = e.changeFailureRate;
  const t = e.timeToRestore;
  return [
    {
      id: "frequency",
      title: "Deployment frequency",
      value: `${f.deploys} deploy${f.deploys === 1 ? "" : "s"}`,
      detail: `${f.perWeek.toFixed(1)} a week`,
      band: f.band,
      trend: e.weeks.map((w) => w.deploys),
    },
    {
      id: "lead",
      title: "Lead time for changes",
      value: l.medianMs === null ? "–" : duration(l.medianMs),
      detail: l.p90Ms === null ? "no change deployed" : `median; p90 ${duration(l.p90Ms)} (${l.changes} change${l.changes === 1 ? "" : "s"})`,
      band: l.band,
      trend: e.weeks.map((w) => w.leadTimeMedianMs),
    },
    {
      id: "failure",
      title: "Change failure rate",
      value: c.rate === null ? "–" : `${Math.round(c.rate * 100)}%`,
      detail: c.deploys === 0 ? "no deploy" : `${c.failed} of ${c.deploys} deploy${c.deploys === 1 ? "" : "s"}`,
      band: c.band,
      trend: e.weeks.map((w) => w.changeFailureRate),
    },
    {
      id: "restore",
      title: "Time to restore",
      value: t.medianMs === null ? "–" : duration(t.medianMs),
      detail: t.restores === 0 ? "nothing to restore" : `median of ${t.restores} restore${t.restores === 1 ? "" : "s"}`,
      band: t.band,
      trend: e.weeks.map((w) => w.restoreMedianMs),
    },
  ];
}

/** Bar heights (0 to `height`) for a trend, scaled to its largest value; null stays null. */
export function bars(values: (number | null)[], height: number): (number | null)[] {
  const max = Math.max(0, ...values.map((v) => v ?? 0));
  return values.map((v) => (v === null ? null : v <= 0 || max === 0 ? 0 : Math.max(1, Math.round((v / max) * height))));
}

/** The week labels of a trend ("03-04"). */
export function weekLabels(weeks: WeekTrend[]): string[] {
  return weeks.map((w) => w.week.slice(5));
}
