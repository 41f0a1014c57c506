// The pages, without their components: what the navigation, the URL and the build-time frame
// (prerender.tsx, the markup index.html paints before any script runs) need. routes.ts adds
// the components.

export type PageId = "launch" | "connect" | "project" | "architecture" | "board" | "pipelines" | "deployments" | "insights" | "settings";

export type PageMeta = { id: PageId; label: string; title: string; built: boolean };

/** Every page, in navigation order. The URL is #/<id>. */
export const PAGES: PageMeta[] = [
  { id: "launch", label: "Launch", title: "Launch", built: true },
  { id: "connect", label: "Connect", title: "Connect", built: true },
  { id: "project", label: "Project", title: "Project", built: true },
  { id: "architecture", label: "Architecture", title: "Architecture", built: true },
  { id: "board", label: "Board", title: "Board", built: true },
  { id: "pipelines", label: "Pipelines", title: "Pipelines", built: true },
  { id: "deployments", label: "Deployments", title: "Deployments", built: true },
  { id: "insights", label: "Insights", title: "Insights", built: true },
  { id: "settings", label: "Settings", title: "Settings", built: true },
];

/** The first page on a fresh data folder: the journey; everything else is for the detail. */
export const DEFAULT_PAGE: PageId = "launch";

export function pageFromHash(hash: string): PageId {
  const id = hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  return PAGES.some((r) => r.id === id) ? (id as PageId) : DEFAULT_PAGE;
}
