import { Suspense, useEffect, useRef, useState } from "react";

import { Spinner } from "./components/Spinner";
import { StatusBar } from "./components/StatusBar";
import { Frame } from "./Frame";
import { pageFromHash, type PageId } from "./pageMeta";
import { ROUTES } from "./routes";
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

  const kinds = ["aws", "github", "registry", "docker", "kubernetes"] as const;
  const connected = kinds.filter((k) => state.connections[k]?.state === "connected").length;
  const Page = route.component;

  return (
    <Frame
      page={route.id}
      headingRef={heading}
      mainRef={main}
      onSkipToContent={() => main.current?.focus()}
      navExtra={(id) =>
        id === "connect" && state.loaded ? (
          <span className="nav-count" data-testid="nav-connect-count" aria-label={`${connected} of 5 connected`}>
            {connected}/5
          </span>
        ) : null
      }
      footer={<StatusBar />}
    >
      <Suspense fallback={<Spinner label={`Loading the ${route.title} page`} />}>
        <Page />
      </Suspense>
    </Frame>
  );
}
