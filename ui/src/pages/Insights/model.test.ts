import { describe, expect, test } from "vitest";

import type { EnvironmentInsights } from "../../bindings/EnvironmentInsights";
import { bars, duration, measures, weekLabels } from "./model";

const week = (week: string, deploys: number, lead: number | null) => ({
  week,
  start: 0,
  deploys,
  leadTimeMedianMs: lead,
  ended: deploys,
  failed: 0,
  changeFailureRate: deploys ? 0 : null,
  restores: 0,
  restoreMedianMs: null,
});

// The Rust side's fixed history `the_four_measures_of_a_fixed_history` (core/src/insights.rs).
const fixture: EnvironmentInsights = {
  project: "shop",
  environment: "live",
  days: 7,
  from: 0,
  to: 0,
  deploymentFrequency: { deploys: 4, perWeek: 4, band: "high" },
  leadTime: { changes: 3, medianMs: 7_200_000, p90Ms: 86_400_000, withoutCommitTime: 0, skewed: 0, band: "elite" },
  changeFailureRate: { deploys: 5, failed: 1, rate: 0.2, band: "low", failedRevisions: [3] },
  timeToRestore: { restores: 1, medianMs: 32 * 60_000, skewed: 0, openSince: null, band: "elite" },
  weeks: [week("2024-02-26", 0, null), week("2024-03-04", 4, 7_200_000)],
  notes: [],
};

describe("insights model", () => {
  test("the four measures read as the CLI prints them", () => {
    const m = measures(fixture);
    expect(m.map((x) => [x.id, x.value, x.band])).toEqual([
      ["frequency", "4 deploys", "high"],
      ["lead", "2.0 h", "elite"],
      ["failure", "20%", "low"],
      ["restore", "32 min", "elite"],
    ]);
    expect(m[1].detail).toBe("median; p90 1.0 d (3 changes)");
    expect(m[2].detail).toBe("1 of 5 deploys");
    expect(m[0].trend).toEqual([0, 4]);
    expect(m[1].trend).toEqual([null, 7_200_000]);
  });

  test("durations, bars and labels", () => {
    expect(duration(45_000)).toBe("45 s");
    expect(duration(12 * 60_000)).toBe("12 min");
    expect(duration(3 * 86_400_000)).toBe("3.0 d");
    expect(bars([0, 2, 4, null], 20)).toEqual([0, 10, 20, null]);
    expect(bars([0, 0], 20)).toEqual([0, 0]);
    expect(weekLabels(fixture.weeks)).toEqual(["02-26", "03-04"]);
  });
});
