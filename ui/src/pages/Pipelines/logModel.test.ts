import { describe, expect, test } from "vitest";

import { CrlfConverter, FollowState, countLines, logFileName, utf8Length } from "./logModel";

describe("CrlfConverter: lone \\n becomes \\r\\n for xterm", () => {
  test("within one chunk", () => {
    const c = new CrlfConverter();
    expect(c.push("a\nb\n")).toBe("a\r\nb\r\n");
    expect(c.push("\n\n")).toBe("\r\n\r\n");
    expect(c.push("no newline")).toBe("no newline");
  });

  test("an existing \\r\\n and a lone \\r (progress lines) are left alone", () => {
    const c = new CrlfConverter();
    expect(c.push("a\r\nb\rc\n")).toBe("a\r\nb\rc\r\n");
  });

  test("a \\r at the end of one chunk and a \\n at the start of the next are one line end", () => {
    const c = new CrlfConverter();
    expect(c.push("line one\r")).toBe("line one\r");
    expect(c.push("\nline two\n")).toBe("\nline two\r\n");
  });

  test("a \\n at the start of a chunk after one that did not end in \\r is converted", () => {
    const c = new CrlfConverter();
    expect(c.push("abc")).toBe("abc");
    expect(c.push("\ndef")).toBe("\r\ndef");
  });

  test("an empty chunk keeps what the last one ended with", () => {
    const c = new CrlfConverter();
    c.push("x\r");
    expect(c.push("")).toBe("");
    expect(c.push("\n")).toBe("\n");
  });

  test("any cut of a text gives the same result as the whole text", () => {
    const text = "Step 1/3 : FROM python\r\n ---> abc\nDownloading 10%\rDownloading 100%\n\n\r\nend";
    const whole = new CrlfConverter().push(text);
    expect(whole.replace(/\r\n/g, "").includes("\n")).toBe(false);
    for (let cut = 0; cut <= text.length; cut++) {
      const c = new CrlfConverter();
      expect(c.push(text.slice(0, cut)) + c.push(text.slice(cut))).toBe(whole);
    }
    // and cut in many pieces
    const c = new CrlfConverter();
    expect([...text].map((ch) => c.push(ch)).join("")).toBe(whole);
  });

  test("reset forgets the last chunk", () => {
    const c = new CrlfConverter();
    c.push("a\r");
    c.reset();
    expect(c.push("\n")).toBe("\r\n");
  });
});

describe("FollowState", () => {
  test("follows at first; scrolling up stops it; the viewport at the bottom again resumes it", () => {
    const f = new FollowState();
    expect(f.following).toBe(true);
    expect(f.shouldScroll()).toBe(true);
    // output arrives: xterm moves the viewport with it, still at the bottom
    expect(f.scrolled(120, 120)).toBe(false);
    expect(f.following).toBe(true);
    // the person scrolls up
    expect(f.scrolled(80, 120)).toBe(true);
    expect(f.following).toBe(false);
    expect(f.shouldScroll()).toBe(false);
    // more output while scrolled up: the base moves, the viewport stays
    expect(f.scrolled(80, 150)).toBe(false);
    expect(f.following).toBe(false);
    // scrolled back down to the end
    expect(f.scrolled(150, 150)).toBe(true);
    expect(f.following).toBe(true);
  });

  test("resume (the Follow button) follows again", () => {
    const f = new FollowState();
    f.scrolled(0, 10);
    expect(f.following).toBe(false);
    f.resume();
    expect(f.following).toBe(true);
    expect(f.shouldScroll()).toBe(true);
  });
});

describe("log helpers", () => {
  test("utf8Length counts bytes like the Rust offsets", () => {
    expect(utf8Length("abc")).toBe(3);
    expect(utf8Length("añb€")).toBe(1 + 2 + 1 + 3);
    expect(utf8Length("✓ ok\n")).toBe(3 + 4);
  });

  test("file name of a download", () => {
    expect(logFileName("sample-app-4", "build", "backend")).toBe("sample-app-4-build-backend.log");
    expect(logFileName("a-1", "test", "we ird/step")).toBe("a-1-test-we_ird_step.log");
  });

  test("countLines", () => {
    expect(countLines("")).toBe(0);
    expect(countLines("a\nb\nc")).toBe(2);
  });
});
