// App-wide state that more than one page shows: the five connections, the sandbox, the data
// folder, and the latest progress line. It is filled by doctor() at startup and then kept current
// by the event channel and by the results of the commands the pages run.

import { createContext, useCallback, useContext, useEffect, useMemo, useReducer, useRef, type ReactNode } from "react";

import { api } from "../api";
import type { ConnectionKind } from "../bindings/ConnectionKind";
import type { ConnectionStatus } from "../bindings/ConnectionStatus";
import type { DoctorReport } from "../bindings/DoctorReport";
import type { EventEnvelope } from "../bindings/EventEnvelope";
import type { SandboxState } from "../bindings/SandboxState";
import type { UserError } from "../bindings/UserError";

export type Progress = { task: string; message: string; at: number };

export type AppState = {
  /** doctor() has answered (successfully or not). */
  loaded: boolean;
  loadError: UserError | null;
  connections: Partial<Record<ConnectionKind, ConnectionStatus>>;
  sandbox: SandboxState | null;
  dataDir: string | null;
  storeSchemaVersion: number | null;
  /** What needs attention without being a failure (doctor()'s notices: data kept under the old default project). */
  notices: UserError[];
  progress: Progress | null;
  /** Bumped on every settingsChanged event, so the Settings page can reload. */
  settingsVersion: number;
  /** Highest event sequence number applied (events are numbered from 1 per process). */
  lastSeq: number;
};

export const initialState: AppState = {
  loaded: false,
  loadError: null,
  connections: {},
  sandbox: null,
  dataDir: null,
  storeSchemaVersion: null,
  notices: [],
  progress: null,
  settingsVersion: 0,
  lastSeq: 0,
};

export type Action =
  | { type: "doctor"; report: DoctorReport }
  | { type: "loadError"; error: UserError }
  | { type: "status"; status: ConnectionStatus }
  | { type: "sandbox"; state: SandboxState }
  | { type: "events"; batch: EventEnvelope[] };

/**
 * Folds a new status into the one shown. A status older than the one on screen (by checkedAt)
 * is ignored, and a failed check never wipes the last identity a check confirmed.
 */
export function mergeStatus(prev: ConnectionStatus | undefined, next: ConnectionStatus): ConnectionStatus {
  if (!prev) return next;
  if (prev.checkedAt != null && next.checkedAt != null && next.checkedAt < prev.checkedAt) return prev;
  if (next.state === "failed" && next.identity == null && prev.identity != null) {
    return { ...next, identity: prev.identity };
  }
  return next;
}

function applyEvent(state: AppState, env: EventEnvelope): AppState {
  const e = env.event;
  switch (e.type) {
    case "connectionChecked":
      return {
        ...state,
        connections: { ...state.connections, [e.status.kind]: mergeStatus(state.connections[e.status.kind], e.status) },
      };
    case "sandboxChanged":
      return { ...state, sandbox: e.state };
    case "progress":
      return { ...state, progress: { task: e.task, message: e.message, at: env.at } };
    case "settingsChanged":
      return { ...state, settingsVersion: state.settingsVersion + 1 };
    case "resourceProgress":
      // The Architecture page shows these itself (onEvents); the status bar gets one line.
      return {
        ...state,
        progress: { task: e.op, message: `${e.id}: ${e.phase} (${e.done} of ${e.total})`, at: env.at },
      };
    case "provisionFinished":
      return { ...state, progress: { task: e.op, message: e.summary, at: env.at } };
    case "runUpdated":
      // The Pipelines page folds runs itself (onEvents); the end of a run reaches the status bar
      // as the "pipeline" progress event that follows it.
      return state;
    case "deployProgress":
    case "revisionUpdated":
      // The Deployments page folds these itself (onEvents): live rollout progress and the
      // revision history; each line of a deploy also arrives as a "deploy" progress event.
      return state;
    case "boardChanged":
      // The Board page reads its board again itself (onEvents) when the event names its project.
      return state;
  }
}

export function reducer(state: AppState, action: Action): AppState {
  switch (action.type) {
    case "doctor": {
      const connections = { ...state.connections };
      for (const s of action.report.connections) connections[s.kind] = mergeStatus(connections[s.kind], s);
      return {
        ...state,
        loaded: true,
        loadError: null,
        connections,
        sandbox: action.report.sandbox,
        dataDir: action.report.dataDir,
        storeSchemaVersion: action.report.storeSchemaVersion,
        notices: action.report.notices ?? [],
      };
    }
    case "loadError":
      return { ...state, loaded: true, loadError: action.error };
    case "status":
      return {
        ...state,
        connections: {
          ...state.connections,
          [action.status.kind]: mergeStatus(state.connections[action.status.kind], action.status),
        },
      };
    case "sandbox":
      return { ...state, sandbox: action.state };
    case "events": {
      let next = state;
      for (const env of action.batch) {
        if (env.seq <= next.lastSeq) continue; // already applied
        next = { ...applyEvent(next, env), lastSeq: env.seq };
      }
      return next;
    }
  }
}

type Store = {
  state: AppState;
  applyStatus: (status: ConnectionStatus) => void;
  applySandbox: (state: SandboxState) => void;
  reload: () => Promise<void>;
  /** Also hands every event batch to `listener` (pages with their own event views); returns unsubscribe. */
  onEvents: (listener: (batch: EventEnvelope[]) => void) => () => void;
};

const StoreContext = createContext<Store | null>(null);

export function StoreProvider({ children }: { children: ReactNode }) {
  const [state, dispatch] = useReducer(reducer, initialState);
  const listeners = useRef(new Set<(batch: EventEnvelope[]) => void>());
  const onEvents = useCallback((listener: (batch: EventEnvelope[]) => void) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  const reload = useCallback(async () => {
    try {
      dispatch({ type: "doctor", report: await api.doctor() });
    } catch (e) {
      dispatch({ type: "loadError", error: e as UserError });
    }
  }, []);

  useEffect(() => {
    let stop: (() => void) | null = null;
    let cancelled = false;
    // Subscribe first, then read the full state, so nothing that happens in between is lost.
    api
      .subscribeEvents((batch) => {
        dispatch({ type: "events", batch });
        listeners.current.forEach((l) => l(batch));
      })
      .then((unsubscribe) => {
        if (cancelled) unsubscribe();
        else stop = unsubscribe;
      })
      .catch((e: unknown) => dispatch({ type: "loadError", error: e as UserError }))
      .finally(() => {
        if (!cancelled) void reload();
      });
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [reload]);

  const store = useMemo<Store>(
    () => ({
      state,
      applyStatus: (status) => dispatch({ type: "status", status }),
      applySandbox: (s) => dispatch({ type: "sandbox", state: s }),
      reload,
      onEvents,
    }),
    [state, reload, onEvents],
  );
  return <StoreContext.Provider value={store}>{children}</StoreContext.Provider>;
}

export function useStore(): Store {
  const store = useContext(StoreContext);
  if (!store) throw new Error("useStore must be used inside <StoreProvider>");
  return store;
}
