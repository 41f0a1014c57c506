// jsdom cannot run xterm.js (no canvas, no layout), so Vitest replaces the log view's terminal
// (src/pages/Pipelines/terminal.ts) with this stand-in: it keeps what was written, answers
// searches over it, and lets a test scroll it. The Chromium suite runs the real xterm.js.

import type { LogTerminal, SearchResults } from "../pages/Pipelines/terminal";

export const SCROLLBACK = 50_000;

export class FakeTerminal implements LogTerminal {
  /** Everything written since the last clear, as written ("\r\n" line ends). */
  written = "";
  /** Lines scrolled up from the bottom (0 = at the bottom). */
  up = 0;
  scrolledToBottom = 0;
  disposed = false;
  private scrollListeners: (() => void)[] = [];
  private searchListeners: ((r: SearchResults) => void)[] = [];
  private match = -1;

  constructor(readonly element: HTMLElement) {
    element.setAttribute("data-fake-terminal", "");
  }

  /** The text as a person would see it. */
  get text(): string {
    return this.written.replace(/\r\n/g, "\n");
  }

  private lines(): number {
    return this.written.split("\r\n").length - 1;
  }

  write(text: string, done?: () => void): void {
    if (text.replace(/\r\n/g, "").includes("\n")) throw new Error(`a lone \\n reached the terminal: ${JSON.stringify(text.slice(0, 80))}`);
    this.written += text;
    this.element.textContent = this.text;
    queueMicrotask(() => done?.());
  }

  clear(): void {
    this.written = "";
    this.up = 0;
    this.element.textContent = "";
  }

  scrollToBottom(): void {
    this.scrolledToBottom += 1;
    if (this.up !== 0) {
      this.up = 0;
      this.scrollListeners.forEach((l) => l());
    }
  }

  /** What a person scrolling up by `lines` does (xterm fires onScroll). */
  scrollUp(lines: number): void {
    this.up = Math.min(this.lines(), this.up + lines);
    this.scrollListeners.forEach((l) => l());
  }

  viewport(): { viewportY: number; baseY: number } {
    const baseY = Math.max(0, this.lines() - 20);
    return { viewportY: Math.max(0, baseY - this.up), baseY };
  }

  onScroll(listener: () => void): void {
    this.scrollListeners.push(listener);
  }

  private find(term: string, step: 1 | -1): boolean {
    const hay = this.text.toLowerCase();
    const q = term.toLowerCase();
    const at: number[] = [];
    for (let i = hay.indexOf(q); i !== -1; i = hay.indexOf(q, i + 1)) at.push(i);
    if (at.length === 0) {
      this.match = -1;
      this.searchListeners.forEach((l) => l({ index: -1, count: 0 }));
      return false;
    }
    this.match = this.match === -1 ? (step === 1 ? 0 : at.length - 1) : (this.match + step + at.length) % at.length;
    this.searchListeners.forEach((l) => l({ index: this.match, count: at.length }));
    return true;
  }

  findNext(term: string): boolean {
    return this.find(term, 1);
  }

  findPrevious(term: string): boolean {
    return this.find(term, -1);
  }

  clearSearch(): void {
    this.match = -1;
  }

  onSearchResults(listener: (r: SearchResults) => void): void {
    this.searchListeners.push(listener);
  }

  fit(): void {}

  dispose(): void {
    this.disposed = true;
  }
}

/** Every fake terminal made, newest last. */
export const terminals: FakeTerminal[] = [];

export function createTerminal(element: HTMLElement): LogTerminal {
  const t = new FakeTerminal(element);
  terminals.push(t);
  return t;
}
