import { useEffect, useState } from "react";

import { sandboxStatusLabel } from "../format";
import { useStore } from "../state/store";

const PROGRESS_VISIBLE_MS = 6_000;

/** The bottom bar: sandbox state, the AWS endpoint when it is not AWS itself, the latest progress line. */
export function StatusBar() {
  const { state } = useStore();
  const sandbox = state.sandbox;
  const status = sandbox?.status ?? null;
  const aws = state.connections.aws;
  const endpoint = aws?.identity?.kind === "aws" ? aws.identity.endpoint : null;

  const progress = state.progress;
  const [showProgress, setShowProgress] = useState(false);
  useEffect(() => {
    if (!progress) return;
    setShowProgress(true);
    const t = setTimeout(() => setShowProgress(false), PROGRESS_VISIBLE_MS);
    return () => clearTimeout(t);
  }, [progress]);

  return (
    <footer className="statusbar" data-testid="statusbar">
      <span className={`status-item sandbox-badge sandbox-${status ?? "unknown"}`} data-testid="sandbox-badge" data-status={status ?? "unknown"}>
        <span className="dot" aria-hidden="true" />
        Sandbox {status ? sandboxStatusLabel(status) : "…"}
        {status === "running" && sandbox?.endpoint ? <span className="muted"> · {sandbox.endpoint}</span> : null}
      </span>
      {endpoint && (
        <span className="status-item" data-testid="status-aws-endpoint" title="AWS calls go to this endpoint, not to AWS itself">
          AWS endpoint <code>{endpoint}</code>
        </span>
      )}
      <span className="status-item status-progress" aria-live="polite" data-testid="status-progress">
        {showProgress && progress ? `${progress.task}: ${progress.message}` : ""}
      </span>
    </footer>
  );
}
