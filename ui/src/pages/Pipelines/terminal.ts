// The log view's terminal: xterm.js with the fit and search addons, behind the few calls the
// view makes. (jsdom cannot run xterm.js, so the page's Vitest tests replace this module; the
// Chromium suite runs the real one.)

import { FitAddon } from "@xterm/addon-fit";
import { SearchAddon, type ISearchOptions } from "@xterm/addon-search";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";

export type SearchResults = { index: number; count: number };

export interface LogTerminal {
  /** Writes text (already with "\r\n" line ends); `done` runs once xterm has parsed it. */
  write(text: string, done?: () => void): void;
  /** Empties the terminal (another step is shown). */
  clear(): void;
  scrollToBottom(): void;
  /** The first line shown and the first line of the last screen (equal: at the bottom). */
  viewport(): { viewportY: number; baseY: number };
  onScroll(listener: () => void): void;
  findNext(term: string): boolean;
  findPrevious(term: string): boolean;
  clearSearch(): void;
  onSearchResults(listener: (r: SearchResults) => void): void;
  /** Fits the rows and columns to the element's size. */
  fit(): void;
  dispose(): void;
}

/** Lines kept for scrolling back; the Download button always has the whole log. */
export const SCROLLBACK = 50_000;

const SEARCH: ISearchOptions = {
  caseSensitive: false,
  decorations: {
    matchBackground: "#5c4a00",
    matchOverviewRuler: "#d4a800",
    activeMatchBackground: "#b8860b",
    activeMatchColorOverviewRuler: "#ffcc33",
  },
};

export function createTerminal(element: HTMLElement): LogTerminal {
  const term = new Terminal({
    disableStdin: true,
    convertEol: false,
    scrollback: SCROLLBACK,
    fontFamily: "ui-monospace, monospace", // as --mono in styles.css
    fontSize: 12,
    lineHeight: 1.2,
    cursorBlink: false,
    cursorInactiveStyle: "none",
    allowProposedApi: true, // the search addon's match decorations
    theme: { background: "#0f141a", foreground: "#d1d9e0", selectionBackground: "#3a4a5e" },
  });
  const fitAddon = new FitAddon();
  const search = new SearchAddon();
  term.loadAddon(fitAddon);
  term.loadAddon(search);
  term.open(element);
  // A log is read, not typed into: no cursor.
  term.write("\x1b[?25l");
  const safeFit = () => {
    try {
      fitAddon.fit();
    } catch {
      // not laid out yet (hidden): the next resize fits it
    }
  };
  safeFit();
  // WebKitGTK (the desktop app's web view on Linux) sometimes leaves rows that xterm.js filled
  // unpainted until something else repaints them (seen in about half of the e2e runs). Once the
  // output settles, a one-frame opacity change repaints the screen.
  const screen = element.querySelector<HTMLElement>(".xterm-screen");
  let settle: ReturnType<typeof setTimeout> | undefined;
  term.onRender(() => {
    clearTimeout(settle);
    settle = setTimeout(() => {
      if (disposed || !screen) return;
      screen.style.opacity = "0.999";
      requestAnimationFrame(() => requestAnimationFrame(() => (screen.style.opacity = "")));
    }, 120);
  });
  // Callbacks can outlive the terminal (a write's completion, a resize, a late chunk): once it is
  // disposed every call is a no-op, as xterm.js throws on a disposed terminal.
  let disposed = false;
  const live = <T>(f: () => T, otherwise: T): T => (disposed ? otherwise : f());
  return {
    write: (text, done) =>
      live(() => term.write(text, () => live(() => done?.(), undefined)), undefined),
    clear: () =>
      live(() => {
        search.clearDecorations();
        term.reset();
        term.write("\x1b[?25l");
      }, undefined),
    scrollToBottom: () => live(() => term.scrollToBottom(), undefined),
    viewport: () => live(() => ({ viewportY: term.buffer.active.viewportY, baseY: term.buffer.active.baseY }), { viewportY: 0, baseY: 0 }),
    onScroll: (listener) => {
      term.onScroll(() => live(listener, undefined));
    },
    findNext: (q) => live(() => search.findNext(q, SEARCH), false),
    findPrevious: (q) => live(() => search.findPrevious(q, SEARCH), false),
    clearSearch: () => live(() => search.clearDecorations(), undefined),
    onSearchResults: (listener) => {
      search.onDidChangeResults((r) => live(() => listener({ index: r.resultIndex, count: r.resultCount }), undefined));
    },
    fit: () => live(safeFit, undefined),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      clearTimeout(settle);
      term.dispose();
    },
  };
}
