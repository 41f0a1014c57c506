import { NotBuilt } from "../../components/NotBuilt";

export function PipelinesPage() {
  return (
    <NotBuilt>
      This page will show pipeline runs (Checkout, Build, Test, Push, Deploy) as a graph with live logs per
      stage, test results and coverage, with cancel and re-run. Runs from GitHub Actions or Jenkins will be
      watchable here too.
    </NotBuilt>
  );
}
