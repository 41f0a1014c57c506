import { NotBuilt } from "../../components/NotBuilt";

export function DeploymentsPage() {
  return (
    <NotBuilt>
      This page will show each environment (the local Docker engine, a Kubernetes cluster) with its services,
      replicas, pod health and load balancer URL, the revision history, one-click redeploy and rollback with a
      recorded reason, and the logs of all replicas together.
    </NotBuilt>
  );
}
