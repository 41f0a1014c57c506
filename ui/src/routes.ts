import { lazy, type ComponentType } from "react";

// The first page loads with the app; every other page (with the libraries only it uses: React
// Flow, xterm.js, dnd-kit) loads the first time it is opened, so the first paint waits for none.
import { LaunchPage } from "./pages/Launch/LaunchPage";

const ConnectPage = lazy(() => import("./pages/Connect/ConnectPage").then((m) => ({ default: m.ConnectPage })));
const ProjectPage = lazy(() => import("./pages/Project/ProjectPage").then((m) => ({ default: m.ProjectPage })));
const ArchitecturePage = lazy(() => import("./pages/Architecture/ArchitecturePage").then((m) => ({ default: m.ArchitecturePage })));
const BoardPage = lazy(() => import("./pages/Board/BoardPage").then((m) => ({ default: m.BoardPage })));
const PipelinesPage = lazy(() => import("./pages/Pipelines/PipelinesPage").then((m) => ({ default: m.PipelinesPage })));
const DeploymentsPage = lazy(() => import("./pages/Deployments/DeploymentsPage").then((m) => ({ default: m.DeploymentsPage })));
const InsightsPage = lazy(() => import("./pages/Insights/InsightsPage").then((m) => ({ default: m.InsightsPage })));
const SettingsPage = lazy(() => import("./pages/Settings/SettingsPage").then((m) => ({ default: m.SettingsPage })));

export type PageId = "launch" | "connect" | "project" | "architecture" | "board" | "pipelines" | "deployments" | "insights" | "settings";

export type Route = { id: PageId; label: string; title: string; component: ComponentType; built: boolean };

/** Every page, in navigation order. The URL is #/<id>. */
export const ROUTES: Route[] = [
  { id: "launch", label: "Launch", title: "Launch", component: LaunchPage, built: true },
  { id: "connect", label: "Connect", title: "Connect", component: ConnectPage, built: true },
  { id: "project", label: "Project", title: "Project", component: ProjectPage, built: true },
  { id: "architecture", label: "Architecture", title: "Architecture", component: ArchitecturePage, built: true },
  { id: "board", label: "Board", title: "Board", component: BoardPage, built: true },
  { id: "pipelines", label: "Pipelines", title: "Pipelines", component: PipelinesPage, built: true },
  { id: "deployments", label: "Deployments", title: "Deployments", component: DeploymentsPage, built: true },
  { id: "insights", label: "Insights", title: "Insights", component: InsightsPage, built: true },
  { id: "settings", label: "Settings", title: "Settings", component: SettingsPage, built: true },
];

/** The first page on a fresh data folder: the journey; everything else is for the detail. */
export const DEFAULT_PAGE: PageId = "launch";

export function pageFromHash(hash: string): PageId {
  const id = hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  return ROUTES.some((r) => r.id === id) ? (id as PageId) : DEFAULT_PAGE;
}
