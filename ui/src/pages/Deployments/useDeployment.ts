import { useCallback, useEffect, useRef, useState } from "react";

import { api } from "../../api";
import type { DeployStatus } from "../../bindings/DeployStatus";
import type { Revision } from "../../bindings/Revision";
import type { RolloutProgress } from "../../bindings/RolloutProgress";
import type { UserError } from "../../bindings/UserError";
import { useStore } from "../../state/store";
import { POLL_MS, currentRevision, foldProgress, mergeRevision, mergeRevisions, progressFromEvents, revisionsFromEvents } from "./model";

export type OpKind = "deploy" | "redeploy" | "rollback" | "teardown";

export type Deployment = {
  /** The latest deploy_status answer (null until the first). */
  status: DeployStatus | null;
  /** deploy_status itself was refused (the environment is gone, ...). */
  loadError: UserError | null;
  /** Newest first: the store's history with every revisionUpdated event folded in. */
  revisions: Revision[];
  /** The revision serving now. */
  current: number | null;
  /** The live (or last) rollout of this environment. */
  progress: RolloutProgress | null;
  /** The operation this page runs now. */
  busy: OpKind | null;
  opError: UserError | null;
  /** What the last operation did, in words. */
  result: string | null;
  deploy: () => void;
  redeploy: () => void;
  rollback: (to: number | null, reason: string) => void;
  teardown: () => void;
};

function served(r: Revision): string {
  return `Revision ${r.number} ${r.url ? `serves at ${r.url}` : "succeeded"}`;
}

/**
 * One environment of a project, live: deploy_status now, again every POLL_MS while the page is
 * visible and after every revision that ends; revisionUpdated and deployProgress events folded
 * in as they come; deploy, redeploy, rollback and teardown one at a time.
 */
export function useDeployment(project: string, environment: string): Deployment {
  const { onEvents } = useStore();
  const [status, setStatus] = useState<DeployStatus | null>(null);
  const [loadError, setLoadError] = useState<UserError | null>(null);
  const [revisions, setRevisions] = useState<Revision[]>([]);
  const [progress, setProgress] = useState<RolloutProgress | null>(null);
  const [busy, setBusy] = useState<OpKind | null>(null);
  const [opError, setOpError] = useState<UserError | null>(null);
  const [result, setResult] = useState<string | null>(null);
  /** Requests made, and requests still out: only the newest answer is shown, polls never overlap. */
  const asked = useRef(0);
  const waiting = useRef(0);

  const load = useCallback(async () => {
    const n = ++asked.current;
    waiting.current += 1;
    try {
      const st = await api.deployStatus(project, environment);
      if (n !== asked.current) return;
      setStatus(st);
      setLoadError(null);
      setRevisions((list) => mergeRevisions(list, st.revisions));
    } catch (e) {
      if (n === asked.current) setLoadError(e as UserError);
    } finally {
      waiting.current -= 1;
    }
  }, [project, environment]);

  useEffect(() => {
    void load();
    const poll = () => {
      if (document.visibilityState === "visible" && waiting.current === 0) void load();
    };
    const t = setInterval(poll, POLL_MS);
    document.addEventListener("visibilitychange", poll);
    return () => {
      clearInterval(t);
      document.removeEventListener("visibilitychange", poll);
    };
  }, [load]);

  useEffect(
    () =>
      onEvents((batch) => {
        const revs = revisionsFromEvents(batch, project, environment);
        if (revs.length) setRevisions((list) => revs.reduce(mergeRevision, list));
        const snaps = progressFromEvents(batch, project, environment);
        if (snaps.length) setProgress((prev) => snaps.reduce<RolloutProgress | null>(foldProgress, prev));
        // A revision ended (here, or from the CLI): the cluster changed.
        if (revs.some((r) => r.status !== "inProgress")) void load();
      }),
    [onEvents, project, environment, load],
  );

  const operate = useCallback(
    async (kind: OpKind, run: () => Promise<string>) => {
      setBusy(kind);
      setOpError(null);
      setResult(null);
      setProgress(null);
      try {
        setResult(await run());
      } catch (e) {
        setOpError(e as UserError);
      } finally {
        setBusy(null);
        void load();
      }
    },
    [load],
  );

  const withRevision = useCallback(
    (kind: OpKind, call: () => Promise<Revision>) =>
      void operate(kind, async () => {
        const r = await call();
        setRevisions((list) => mergeRevision(list, r));
        return served(r);
      }),
    [operate],
  );

  const namespace = status?.namespace ?? null;
  return {
    status,
    loadError,
    revisions,
    current: currentRevision(revisions),
    progress,
    busy,
    opError,
    result,
    deploy: () => withRevision("deploy", () => api.deploy(project, environment, null)),
    redeploy: () => withRevision("redeploy", () => api.redeploy(project, environment)),
    rollback: (to, reason) => withRevision("rollback", () => api.rollback(project, environment, to, reason)),
    teardown: () =>
      void operate("teardown", async () => {
        const ns = namespace ? `namespace ${namespace}` : "the namespace";
        return (await api.teardown(project, environment)) ? `Tearing down: ${ns} is being deleted` : `Nothing to tear down: ${ns} does not exist`;
      }),
  };
}
