import { render } from "@testing-library/react";
import { describe, expect, test } from "vitest";

import { Markdown, parseInline, parseMarkdown, safeHref } from "./markdown";

describe("Markdown", () => {
  test("blocks: headings, paragraphs, lists, quotes, fenced code", () => {
    const blocks = parseMarkdown("# Title\n\nOne line\nand the next\n\n- a\n- b\n\n1. first\n2. second\n\n> quoted\n\n```\nlet x = 1;\n```");
    expect(blocks.map((b) => b.type)).toEqual(["heading", "paragraph", "list", "list", "quote", "code"]);
    expect(blocks[2]).toMatchObject({ type: "list", ordered: false, items: [[{ type: "text", text: "a" }], [{ type: "text", text: "b" }]] });
    expect(blocks[3]).toMatchObject({ ordered: true });
    expect(blocks[5]).toEqual({ type: "code", text: "let x = 1;" });
  });

  test("inline: code, strong, em, links", () => {
    expect(parseInline("a `b*c*` **d** *e* _f_ [g](https://x.io/y)")).toEqual([
      { type: "text", text: "a " },
      { type: "code", text: "b*c*" },
      { type: "text", text: " " },
      { type: "strong", children: [{ type: "text", text: "d" }] },
      { type: "text", text: " " },
      { type: "em", children: [{ type: "text", text: "e" }] },
      { type: "text", text: " " },
      { type: "em", children: [{ type: "text", text: "f" }] },
      { type: "text", text: " " },
      { type: "link", href: "https://x.io/y", children: [{ type: "text", text: "g" }] },
    ]);
    expect(parseInline("snake_case_name")).toEqual([{ type: "text", text: "snake_case_name" }]);
  });

  test("only http(s) and mailto links", () => {
    expect(safeHref("https://a.b")).toBe("https://a.b");
    expect(safeHref("mailto:x@y.z")).toBe("mailto:x@y.z");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("data:text/html,x")).toBeNull();
    expect(parseInline("[x](javascript:alert(1))").some((n) => n.type === "link")).toBe(false);
  });

  test("HTML in the input is shown as text, never interpreted", () => {
    const { container } = render(<Markdown text={'<img src=x onerror="alert(1)"> **bold** <script>alert(2)</script>\n\n[bad](javascript:alert(3))'} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("strong")?.textContent).toBe("bold");
    expect(container.textContent).toContain('<img src=x onerror="alert(1)">');
    expect(container.querySelector("a")).toBeNull();
  });

  test("links open outside with noopener", () => {
    const { container } = render(<Markdown text="See https://example.com/run." />);
    const a = container.querySelector("a")!;
    expect(a.getAttribute("href")).toBe("https://example.com/run");
    expect(a.getAttribute("rel")).toBe("noopener noreferrer");
  });
});
