import { api } from "../../api";
import { Spinner } from "../../components/Spinner";
import { useStore } from "../../state/store";
import { ConnectionCard } from "./ConnectionCard";
import { useConnectionAction } from "./useConnectionAction";

const DETECTED = {
  docker: {
    title: "Docker engine",
    description: (
      <>
        Builds images and runs the local environment. Detected from <code>DOCKER_HOST</code> or the local socket.
      </>
    ),
  },
  kubernetes: {
    title: "Kubernetes",
    description: (
      <>
        Where the services are deployed. Detected from the current context of <code>~/.kube/config</code>.
      </>
    ),
  },
} as const;

/** Docker and Kubernetes are detected, not signed in to: the only action is to check again. */
export function DetectedCard({ kind }: { kind: "docker" | "kubernetes" }) {
  const { state } = useStore();
  const action = useConnectionAction();
  const { title, description } = DETECTED[kind];
  return (
    <ConnectionCard
      kind={kind}
      title={title}
      description={description}
      status={state.connections[kind]}
      busy={action.busy}
      error={action.error}
    >
      <div className="actions">
        <button
          type="button"
          data-testid={`${kind}-check`}
          disabled={action.busy}
          onClick={() => void action.run(() => api.checkConnection(kind))}
        >
          {action.busy ? (
            <>
              <Spinner label="Checking" /> Checking…
            </>
          ) : (
            "Check again"
          )}
        </button>
      </div>
    </ConnectionCard>
  );
}
