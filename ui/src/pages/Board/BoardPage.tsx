import { NotBuilt } from "../../components/NotBuilt";

export function BoardPage() {
  return (
    <NotBuilt>
      This page will show a Kanban board with epics, sprints, story points and a burndown chart. Cards for
      provisioning, pipeline and deploy work will be created and moved by the work itself, and you will be able
      to add your own.
    </NotBuilt>
  );
}
