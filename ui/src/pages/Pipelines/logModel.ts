// Pure helpers of the log view: line endings for xterm, the follow state, and the bytes a log
// holds. The view (LogView.tsx) wires them to xterm.js.

/**
 * xterm.js moves to the next line on "\n" without returning to column 0, so a lone "\n" must
 * become "\r\n". A log arrives in chunks cut anywhere, so a "\r" at the end of one chunk and a
 * "\n" at the start of the next are one "\r\n": the converter remembers how the last chunk ended.
 */
export class CrlfConverter {
  private endedWithCr = false;

  push(text: string): string {
    if (text === "") return text;
    let out = "";
    let from = 0;
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) {
      const before = i === 0 ? this.endedWithCr : text.charCodeAt(i - 1) === 13;
      if (!before) {
        out += text.slice(from, i) + "\r\n";
        from = i + 1;
      }
    }
    out += text.slice(from);
    this.endedWithCr = text.charCodeAt(text.length - 1) === 13;
    return out;
  }

  reset(): void {
    this.endedWithCr = false;
  }
}

/**
 * Follow mode: new output scrolls the view to the bottom only while it is at the bottom. The
 * person scrolling up stops following; scrolling back to the bottom, or resume() (the Follow
 * button), starts it again.
 */
export class FollowState {
  following = true;

  /** The viewport moved (xterm's onScroll): follow exactly when it shows the last line. Returns whether that changed. */
  scrolled(viewportY: number, baseY: number): boolean {
    const next = viewportY >= baseY;
    const changed = next !== this.following;
    this.following = next;
    return changed;
  }

  /** The Follow button: follow again (the view then scrolls to the bottom). */
  resume(): void {
    this.following = true;
  }

  /** After output was written: whether to scroll to the bottom. */
  shouldScroll(): boolean {
    return this.following;
  }
}

const encoder = new TextEncoder();

/** Bytes of `text` in UTF-8 (the offsets of LogChunk count bytes). */
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/** "sample-app-4-build-backend.log" */
export function logFileName(run: string, stage: string, step: string): string {
  return `${run}-${stage}-${step}.log`.replace(/[^A-Za-z0-9._-]+/g, "_");
}

/** Counts "\n" in a text (lines a log has, for the scrollback notice). */
export function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n += 1;
  return n;
}
