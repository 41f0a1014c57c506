// The board of one project, live: what the Rust side last answered (the board and its whole
// history), with the moves still on their way applied on top (optimistic), reloaded whenever a
// boardChanged event names the project. A move that the Rust side refuses simply drops out of
// the pending list, which puts the card back where the last answer had it (the rollback).

import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { api } from "../../api";
import type { BoardData } from "../../bindings/BoardData";
import type { BoardHistory } from "../../bindings/BoardHistory";
import type { Card } from "../../bindings/Card";
import type { UserError } from "../../bindings/UserError";
import { useStore } from "../../state/store";
import { applyMove, boardChangedIn } from "./model";

type PendingMove = {
  id: number;
  key: string;
  column: string;
  position: number | null;
  /** The reload counter when the Rust side accepted it; null while the call is on its way. */
  acceptedAt: number | null;
};

export type BoardView = {
  data: BoardData | null;
  history: BoardHistory | null;
  /** The cards as shown: the last answer with the pending moves applied. */
  cards: Card[];
  /** Keys of cards whose move is on its way. */
  moving: ReadonlySet<string>;
  loadError: UserError | null;
  /** Reads the board again (coalesced: at most one read on the way and one queued). */
  reload: () => void;
  /** Moves a card at once on screen, then on the Rust side; rejects (and rolls back) when refused. */
  move: (key: string, column: string, position: number | null) => Promise<void>;
  /** Runs a change on the Rust side, then reads the board again (the change's errors propagate). */
  change: <T>(f: (project: string) => Promise<T>) => Promise<T>;
};

const NO_CARDS: Card[] = [];

export function useBoard(project: string | null): BoardView {
  const { onEvents } = useStore();
  const [server, setServer] = useState<{ project: string; data: BoardData; history: BoardHistory } | null>(null);
  const [pending, setPending] = useState<PendingMove[]>([]);
  const [loadError, setLoadError] = useState<UserError | null>(null);
  const projectRef = useRef(project);
  projectRef.current = project;
  const started = useRef(0);
  const inFlight = useRef(false);
  const again = useRef(false);
  const opSeq = useRef(0);

  const reload = useCallback(() => {
    const p = projectRef.current;
    if (p === null) return;
    if (inFlight.current) {
      again.current = true;
      return;
    }
    inFlight.current = true;
    const seq = ++started.current;
    Promise.all([api.getBoard(p), api.boardHistory(p, null)])
      .then(
        ([data, history]) => {
          if (projectRef.current !== p) return;
          setServer({ project: p, data, history });
          setLoadError(null);
          // A move accepted before this read started is in the answer now.
          setPending((list) => {
            const next = list.filter((m) => m.acceptedAt === null || seq <= m.acceptedAt);
            return next.length === list.length ? list : next;
          });
        },
        (e: UserError) => {
          if (projectRef.current === p) setLoadError(e);
        },
      )
      .finally(() => {
        inFlight.current = false;
        if (again.current) {
          again.current = false;
          reload();
        }
      });
  }, []);

  useEffect(() => {
    setServer(null);
    setPending([]);
    setLoadError(null);
    inFlight.current = false;
    again.current = false;
    reload();
  }, [project, reload]);

  useEffect(
    () =>
      onEvents((batch) => {
        const p = projectRef.current;
        if (p !== null && boardChangedIn(batch, p)) reload();
      }),
    [onEvents, reload],
  );

  const current = server !== null && server.project === project ? server : null;
  const columns = current?.data.board.columns;
  const cards = useMemo(() => {
    if (!current) return NO_CARDS;
    return pending.reduce((cs, m) => applyMove(cs, columns ?? [], m.key, m.column, m.position), current.data.cards);
  }, [current, pending, columns]);
  const moving = useMemo(() => new Set(pending.filter((m) => m.acceptedAt === null).map((m) => m.key)), [pending]);

  const move = useCallback(
    async (key: string, column: string, position: number | null) => {
      const p = projectRef.current;
      if (p === null) return;
      const id = ++opSeq.current;
      setPending((list) => [...list, { id, key, column, position, acceptedAt: null }]);
      try {
        await api.moveCard(p, key, column, position);
      } catch (e) {
        setPending((list) => list.filter((m) => m.id !== id));
        throw e;
      }
      setPending((list) => list.map((m) => (m.id === id ? { ...m, acceptedAt: started.current } : m)));
      reload();
    },
    [reload],
  );

  const change = useCallback(
    async <T,>(f: (project: string) => Promise<T>): Promise<T> => {
      const p = projectRef.current;
      if (p === null) throw { what: "Nothing changed", why: "no project is chosen", fix: "Pick a project first" } satisfies UserError;
      const result = await f(p);
      reload();
      return result;
    },
    [reload],
  );

  return { data: current?.data ?? null, history: current?.history ?? null, cards, moving, loadError, reload, move, change };
}
