import { Suspense, useEffect, useRef, useState } from "react";

import { reportFirstPaint } from "./api";
import { Spinner } from "./components/Spinner";
import { StatusBar } from "./components/StatusBar";
import { ROUTES, pageFromHash, type PageId, type Route } from "./routes";
import { StoreProvider, useStore } from "./state/store";

function useHashPage(): PageId {
  const [page, setPage] = useState<PageId>(() => pageFromHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setPage(pageFromHash(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return page;
}

export function App() {
  return (
    <StoreProvider>
      <Shell />
    </StoreProvider>
  );
}

function NavLink({ route, current, extra }: { route: Route; current: boolean; extra?: React.ReactNode }) {
  return (
    <a href={`#/${route.id}`} data-testid={`nav-${route.id}`} aria-current={current ? "page" : undefined} className="nav-link">
      <span>{route.label}</span>
      {extra}
      {!route.built && <span className="nav-tag">planned</span>}
    </a>
  );
}

function Shell() {
  const page = useHashPage();
  const route = ROUTES.find((r) => r.id === page) ?? ROUTES[0];
  const { state } = useStore();
  const heading = useRef<HTMLHeadingElement>(null);
  const main = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  useEffect(() => {
    document.title = `${route.title} · Slipway`;
    // Move focus to the new page's heading so keyboard and screen reader users land on it.
    if (firstRender.current) firstRender.current = false;
    else heading.current?.focus();
  }, [route]);

  useEffect(() => reportFirstPaint(), []);

  const kinds = ["aws", "github", "registry", "docker", "kubernetes"] as const;
  const connected = kinds.filter((k) => state.connections[k]?.state === "connected").length;
  const pages = ROUTES.filter((r) => r.id !== "settings");
  const settings = ROUTES.find((r) => r.id === "settings")!;
  const Page = route.component;

  return (
    <div className="app">
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          main.current?.focus();
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
              <NavLink
                route={r}
                current={r.id === page}
                extra={
                  r.id === "connect" && state.loaded ? (
                    <span className="nav-count" data-testid="nav-connect-count" aria-label={`${connected} of 5 connected`}>
                      {connected}/5
                    </span>
                  ) : null
                }
              />
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
        <main id="main" ref={main} tabIndex={-1} data-testid={`page-${route.id}`}>
          <h1 ref={heading} tabIndex={-1} data-testid="page-title">
            {route.title}
          </h1>
          <Suspense fallback={<Spinner label={`Loading the ${route.title} page`} />}>
            <Page />
          </Suspense>
        </main>
        <StatusBar />
      </div>
    </div>
  );
}
