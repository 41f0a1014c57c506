import { describe, expect, test } from "vitest";

import { appendConsole, buildStatus, cleanFolder, CONSOLE_CUT_NOTE, CONSOLE_KEEP, consoleFileName, findMatches, folderCrumbs, jobPath, jobStatus, newestNumber, stageStatus, stageViewLive } from "./jenkinsModel";

describe("jenkinsModel", () => {
  test("ball colours: result, building while _anime, no colour is a folder", () => {
    expect(jobStatus({ color: "blue" })).toEqual({ status: "success", building: false });
    expect(jobStatus({ color: "red_anime" })).toEqual({ status: "failed", building: true });
    expect(jobStatus({ color: "yellow" }).status).toBe("unstable");
    expect(jobStatus({ color: "notbuilt_anime" })).toEqual({ status: "notbuilt", building: true });
    expect(jobStatus({ color: "grey" }).status).toBe("notbuilt");
    expect(jobStatus({ color: "disabled" }).status).toBe("disabled");
    expect(jobStatus({ color: "aborted" }).status).toBe("aborted");
    expect(jobStatus({ color: null })).toEqual({ status: "folder", building: false });
    expect(jobStatus({ color: "chartreuse" }).status).toBe("unknown");
  });

  test("builds and stages as data values", () => {
    expect(buildStatus({ building: true, result: null })).toBe("building");
    expect(buildStatus({ building: false, result: "FAILURE" })).toBe("failure");
    expect(stageStatus("IN_PROGRESS")).toBe("in-progress");
    expect(stageStatus("PAUSED_PENDING_INPUT")).toBe("paused-pending-input");
    expect(stageViewLive("IN_PROGRESS")).toBe(true);
    expect(stageViewLive("PAUSED_PENDING_INPUT")).toBe(true);
    expect(stageViewLive("SUCCESS")).toBe(false);
    expect(newestNumber([{ number: 3 }, { number: 9 }, { number: 4 }])).toBe(9);
    expect(newestNumber([])).toBe(0);
  });

  test("folders, paths, file names and search", () => {
    expect(jobPath("", "app")).toBe("app");
    expect(jobPath("team/svc", "api")).toBe("team/svc/api");
    expect(cleanFolder(" /team//svc/ ")).toBe("team/svc");
    expect(folderCrumbs("team/svc")).toEqual([
      { name: "team", path: "team" },
      { name: "svc", path: "team/svc" },
    ]);
    expect(folderCrumbs("")).toEqual([]);
    expect(consoleFileName("team/api build", 7)).toBe("team-api-build-7.log");
    expect(findMatches("Abc abc ABC", "abc")).toEqual([0, 4, 8]);
    expect(findMatches("aaaa", "aa")).toEqual([0, 2]);
    expect(findMatches("abc", "")).toEqual([]);
  });

  test("the console view keeps a bounded tail of a long log and says lines were cut", () => {
    expect(appendConsole("a\n", "b\n")).toBe("a\nb\n");
    let text = "";
    let lines = 0;
    for (let i = 0; i < 2000; i++) {
      text = appendConsole(text, `line ${i} ${"x".repeat(90)}\n`, 50_000);
      lines++;
      expect(text.length).toBeLessThanOrEqual(50_000 + CONSOLE_CUT_NOTE.length);
    }
    expect(text.startsWith(CONSOLE_CUT_NOTE)).toBe(true);
    const kept = text.slice(CONSOLE_CUT_NOTE.length);
    expect(kept.startsWith("line ")).toBe(true);
    expect(kept.endsWith(`line 1999 ${"x".repeat(90)}\n`)).toBe(true);
    expect(kept.split("\n").length).toBeLessThan(lines);
    // The default keeps about 4 MB.
    expect(CONSOLE_KEEP).toBe(4_000_000);
    const big = appendConsole("", "y".repeat(5_000_000));
    expect(big.length).toBeLessThanOrEqual(CONSOLE_KEEP + CONSOLE_CUT_NOTE.length);
  });
});
