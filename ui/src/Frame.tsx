import type { ReactNode, Ref } from "react";

import { PAGES, type PageId, type PageMeta } from "./pageMeta";

type FrameProps = {
  page: PageId;
  /** After a page's label in the navigation (the Connect page's count). */
  navExtra?: (page: PageId) => ReactNode;
  headingRef?: Ref<HTMLHeadingElement>;
  mainRef?: Ref<HTMLElement>;
  onSkipToContent?: () => void;
  /** The page itself, under its heading. */
  children?: ReactNode;
  /** Under the page: the status bar. */
  footer?: ReactNode;
};

function NavLink({ route, current, extra }: { route: PageMeta; current: boolean; extra?: ReactNode }) {
  return (
    <a href={`#/${route.id}`} data-testid={`nav-${route.id}`} aria-current={current ? "page" : undefined} className="nav-link">
      <span>{route.label}</span>
      {extra}
      {!route.built && <span className="nav-tag">planned</span>}
    </a>
  );
}

/** The app's frame: the navigation, the page's heading, the page and the status bar. It is pure
 * (no store, no effects), so the build renders it into index.html as well (prerender.tsx): the
 * first frame the window paints is this one, before any script has run. */
export function Frame({ page, navExtra, headingRef, mainRef, onSkipToContent, children, footer }: FrameProps) {
  const route = PAGES.find((r) => r.id === page) ?? PAGES[0];
  const pages = PAGES.filter((r) => r.id !== "settings");
  const settings = PAGES.find((r) => r.id === "settings")!;
  return (
    <div className="app">
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          onSkipToContent?.();
        }}
      >
        Skip to content
      </a>
      <nav className="sidebar" aria-label="Pages">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Slipway
        </div>
        <ul className="nav-list">
          {pages.map((r) => (
            <li key={r.id}>
              <NavLink route={r} current={r.id === page} extra={navExtra?.(r.id)} />
            </li>
          ))}
        </ul>
        <ul className="nav-list nav-bottom">
          <li>
            <NavLink route={settings} current={page === "settings"} />
          </li>
        </ul>
      </nav>
      <div className="main-column">
        <main id="main" ref={mainRef} tabIndex={-1} data-testid={`page-${route.id}`}>
          <h1 ref={headingRef} tabIndex={-1} data-testid="page-title">
            {route.title}
          </h1>
          {children}
        </main>
        {footer}
      </div>
    </div>
  );
}
