import { lazy, type ComponentType } from "react";

import { PAGES, type PageId, type PageMeta } from "./pageMeta";

// The first page loads with the app; every other page (with the libraries only it uses: React
// Flow, xterm.js, dnd-kit) loads the first time it is opened, so the first paint waits for none.
import { LaunchPage } from "./pages/Launch/LaunchPage";

const COMPONENTS: Record<PageId, ComponentType> = {
  launch: LaunchPage,
  connect: lazy(() => import("./pages/Connect/ConnectPage").then((m) => ({ default: m.ConnectPage }))),
  project: lazy(() => import("./pages/Project/ProjectPage").then((m) => ({ default: m.ProjectPage }))),
  architecture: lazy(() => import("./pages/Architecture/ArchitecturePage").then((m) => ({ default: m.ArchitecturePage }))),
  board: lazy(() => import("./pages/Board/BoardPage").then((m) => ({ default: m.BoardPage }))),
  pipelines: lazy(() => import("./pages/Pipelines/PipelinesPage").then((m) => ({ default: m.PipelinesPage }))),
  deployments: lazy(() => import("./pages/Deployments/DeploymentsPage").then((m) => ({ default: m.DeploymentsPage }))),
  insights: lazy(() => import("./pages/Insights/InsightsPage").then((m) => ({ default: m.InsightsPage }))),
  settings: lazy(() => import("./pages/Settings/SettingsPage").then((m) => ({ default: m.SettingsPage }))),
};

export type Route = PageMeta & { component: ComponentType };

/** Every page, in navigation order, with its component. */
export const ROUTES: Route[] = PAGES.map((p) => ({ ...p, component: COMPONENTS[p.id] }));
