import type { ComponentType } from "react";

import { ArchitecturePage } from "./pages/Architecture/ArchitecturePage";
import { BoardPage } from "./pages/Board/BoardPage";
import { ConnectPage } from "./pages/Connect/ConnectPage";
import { DeploymentsPage } from "./pages/Deployments/DeploymentsPage";
import { InsightsPage } from "./pages/Insights/InsightsPage";
import { LaunchPage } from "./pages/Launch/LaunchPage";
import { PipelinesPage } from "./pages/Pipelines/PipelinesPage";
import { ProjectPage } from "./pages/Project/ProjectPage";
import { SettingsPage } from "./pages/Settings/SettingsPage";

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
