// A small, safe Markdown renderer for card and epic descriptions: headings, paragraphs, lists,
// block quotes, fenced code, inline code, bold, italics and links. It parses into a tree and
// renders React elements, so every character of the input ends up as text (React escapes it);
// no HTML from the input is ever interpreted, and links are kept only for http(s) and mailto.

import { Fragment, type ReactNode } from "react";

export type Inline =
  | { type: "text"; text: string }
  | { type: "code"; text: string }
  | { type: "strong"; children: Inline[] }
  | { type: "em"; children: Inline[] }
  | { type: "link"; href: string; children: Inline[] };

export type Block =
  | { type: "heading"; level: 1 | 2 | 3 | 4; children: Inline[] }
  | { type: "paragraph"; children: Inline[] }
  | { type: "list"; ordered: boolean; items: Inline[][] }
  | { type: "quote"; children: Inline[] }
  | { type: "code"; text: string };

/** Only these URLs become links; anything else (javascript:, data:, relative) stays text. */
export function safeHref(href: string): string | null {
  const h = href.trim();
  return /^(https?:\/\/|mailto:)[^\s]+$/i.test(h) ? h : null;
}

/** Inline Markdown: `code`, **strong**, *em* / _em_, [text](url). */
export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  let buf = "";
  const flush = () => {
    if (buf) out.push({ type: "text", text: buf });
    buf = "";
  };
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    if (rest[0] === "\\" && rest.length > 1 && /[\\`*_[\]()#>-]/.test(rest[1])) {
      buf += rest[1];
      i += 2;
      continue;
    }
    let m: RegExpExecArray | null;
    if ((m = /^`([^`]+)`/.exec(rest))) {
      flush();
      out.push({ type: "code", text: m[1] });
      i += m[0].length;
      continue;
    }
    if ((m = /^\*\*(?=\S)([\s\S]*?\S)\*\*/.exec(rest)) || (m = /^__(?=\S)([\s\S]*?\S)__/.exec(rest))) {
      flush();
      out.push({ type: "strong", children: parseInline(m[1]) });
      i += m[0].length;
      continue;
    }
    if ((m = /^\*(?=\S)([^*]*?\S)\*/.exec(rest)) || (/^_/.test(rest) && !/\w/.test(text[i - 1] ?? "") && (m = /^_(?=\S)([^_]*?\S)_(?!\w)/.exec(rest)))) {
      flush();
      out.push({ type: "em", children: parseInline(m[1]) });
      i += m[0].length;
      continue;
    }
    if ((m = /^\[([^\]]+)\]\(([^)\s]+)\)/.exec(rest))) {
      const href = safeHref(m[2]);
      if (href) {
        flush();
        out.push({ type: "link", href, children: parseInline(m[1]) });
        i += m[0].length;
        continue;
      }
    }
    if ((m = /^https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/.exec(rest)) && !/\w/.test(text[i - 1] ?? "")) {
      flush();
      out.push({ type: "link", href: m[0], children: [{ type: "text", text: m[0] }] });
      i += m[0].length;
      continue;
    }
    buf += rest[0];
    i += 1;
  }
  flush();
  return out;
}

const LIST_ITEM = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;

export function parseMarkdown(src: string): Block[] {
  const lines = src.replace(/\r\n?/g, "\n").split("\n");
  const blocks: Block[] = [];
  let para: string[] = [];
  const endPara = () => {
    if (para.length) blocks.push({ type: "paragraph", children: parseInline(para.join("\n")) });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = /^\s{0,3}(```|~~~)/.exec(line);
    if (fence) {
      endPara();
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence[1])) body.push(lines[i++]);
      blocks.push({ type: "code", text: body.join("\n") });
      continue;
    }
    if (line.trim() === "") {
      endPara();
      continue;
    }
    const h = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      endPara();
      blocks.push({ type: "heading", level: Math.min(4, h[1].length) as 1 | 2 | 3 | 4, children: parseInline(h[2]) });
      continue;
    }
    if (/^\s{0,3}>/.test(line)) {
      endPara();
      const body: string[] = [];
      while (i < lines.length && /^\s{0,3}>/.test(lines[i])) body.push(lines[i++].replace(/^\s{0,3}>\s?/, ""));
      i--;
      blocks.push({ type: "quote", children: parseInline(body.join("\n")) });
      continue;
    }
    const li = LIST_ITEM.exec(line);
    if (li) {
      endPara();
      const ordered = /\d/.test(li[1]);
      const items: string[] = [];
      while (i < lines.length) {
        const m = LIST_ITEM.exec(lines[i]);
        if (m && /\d/.test(m[1]) === ordered) items.push(m[2]);
        else if (lines[i].trim() !== "" && /^\s{2,}/.test(lines[i]) && items.length) items[items.length - 1] += "\n" + lines[i].trim();
        else break;
        i++;
      }
      i--;
      blocks.push({ type: "list", ordered, items: items.map(parseInline) });
      continue;
    }
    para.push(line);
  }
  endPara();
  return blocks;
}

function renderInline(nodes: Inline[]): ReactNode {
  return nodes.map((n, i) => {
    switch (n.type) {
      case "text":
        return <Fragment key={i}>{n.text}</Fragment>;
      case "code":
        return <code key={i}>{n.text}</code>;
      case "strong":
        return <strong key={i}>{renderInline(n.children)}</strong>;
      case "em":
        return <em key={i}>{renderInline(n.children)}</em>;
      case "link":
        return (
          <a key={i} href={n.href} target="_blank" rel="noopener noreferrer">
            {renderInline(n.children)}
          </a>
        );
    }
  });
}

/** Markdown as React elements (never as HTML). */
export function Markdown({ text, testId }: { text: string; testId?: string }) {
  const blocks = parseMarkdown(text);
  return (
    <div className="md" data-testid={testId}>
      {blocks.map((b, i) => {
        switch (b.type) {
          case "heading": {
            const H = (["h3", "h4", "h5", "h6"] as const)[b.level - 1];
            return <H key={i}>{renderInline(b.children)}</H>;
          }
          case "paragraph":
            return <p key={i}>{renderInline(b.children)}</p>;
          case "quote":
            return <blockquote key={i}>{renderInline(b.children)}</blockquote>;
          case "code":
            return (
              <pre key={i}>
                <code>{b.text}</code>
              </pre>
            );
          case "list": {
            const L = b.ordered ? "ol" : "ul";
            return (
              <L key={i}>
                {b.items.map((it, j) => (
                  <li key={j}>{renderInline(it)}</li>
                ))}
              </L>
            );
          }
        }
      })}
    </div>
  );
}
