// The columns and cards, with drag and drop by pointer and by keyboard (dnd-kit): space picks a
// focused card up, the arrow keys carry it between columns and up and down, space drops it,
// escape cancels; every step is announced to screen readers. Cards are memoised and compared by
// what they show, so a board of thousands re-renders only what changed.

import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  PointerSensor,
  closestCorners,
  useDroppable,
  useSensor,
  useSensors,
  type Announcements,
  type CollisionDetection,
  type DragEndEvent,
  type DragStartEvent,
  type ScreenReaderInstructions,
} from "@dnd-kit/core";
import { SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { CSS as DndCSS } from "@dnd-kit/utilities";
import { createContext, memo, useCallback, useContext, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";

import type { Card } from "../../bindings/Card";
import type { Column } from "../../bindings/Column";
import { NO_EPIC_LANE, epicColor, sameCardView, wipState, type DropOver, type Lane } from "./model";

export type CardExtras = {
  /** The automation marker's text, or null. */
  automation: string | null;
  epicTitle: string | null;
  epicColor: string;
};

type Props = {
  columns: Column[];
  lanes: Lane[];
  swimlanes: boolean;
  /** Cards per column on the whole board (for WIP limits). */
  counts: Map<string, number>;
  /** Every card (filtered or not), to name positions. */
  allCards: Card[];
  extras: (card: Card) => CardExtras;
  moving: ReadonlySet<string>;
  onOpen: (key: string) => void;
  onDrop: (key: string, over: DropOver, below: boolean) => void;
};

type DragData = { type: "card"; column: string; lane: string } | { type: "column"; column: string; lane: string };

const SCREEN_READER: ScreenReaderInstructions = {
  draggable:
    "To move a card, press space to pick it up. Use the arrow keys to move it to another column or up and down, press space again to drop it, or escape to cancel. Press enter to open the card.",
};

type Hit = { card: HTMLElement | null; column: HTMLElement | null };

/** The card and the column under a point of the viewport (the drag overlay is not one). */
function hitTest(x: number, y: number): Hit {
  const hit: Hit = { card: null, column: null };
  for (const el of document.elementsFromPoint(x, y)) {
    const h = el as HTMLElement;
    if (hit.card === null && h.dataset?.testid === "board-card" && h.dataset.card) hit.card = h;
    if (hit.column === null && h.dataset?.testid === "board-column" && h.dataset.column) hit.column = h;
    if (hit.card !== null && hit.column !== null) break;
  }
  return hit;
}

/**
 * With the pointer: what is under it, found by the browser's hit testing, so a move costs the
 * same on a board of 20 cards or 2,000 (dnd-kit's own detections read every droppable's
 * rectangle on every pointer move). A card counts only in the dragged card's own column (where
 * the list makes room for it); elsewhere the column does, so crossing other cards changes
 * nothing until the drop (which finds the card under the pointer then). With the keyboard: the
 * closest.
 */
const collision: CollisionDetection = (args) => {
  const p = args.pointerCoordinates;
  if (!p) return closestCorners(args);
  const { card, column } = hitTest(p.x, p.y);
  const from = args.active.data.current as DragData | undefined;
  const own = !!column && !!from && column.dataset.column === from.column && column.dataset.lane === from.lane;
  const ids = [own && card ? card.dataset.card! : null, column ? `column:${column.dataset.lane}:${column.dataset.column}` : null];
  for (const id of ids) {
    if (id === null) continue;
    const droppableContainer = args.droppableContainers.find((c) => c.id === id);
    if (droppableContainer) return [{ id, data: { droppableContainer, value: 0 } }];
  }
  return [];
};

/** Boards above this many cards register as drop targets only the cards near the visible area. */
export const LARGE_BOARD = 300;

/** Tells a card whether it is near the visible part of its scrolling container. */
type NearObserver = (el: Element, onChange: (near: boolean) => void) => () => void;
const NearContext = createContext<NearObserver | null>(null);

/** One IntersectionObserver per column, rooted at what scrolls (the column, or the page), with a margin. */
function useNearObserver(enabled: boolean, rootOf: (el: Element) => Element | null): NearObserver | null {
  const observer = useRef<{ io: IntersectionObserver; listeners: Map<Element, (near: boolean) => void> } | null>(null);
  useEffect(
    () => () => {
      observer.current?.io.disconnect();
      observer.current = null;
    },
    [],
  );
  return useMemo(() => {
    if (!enabled || typeof IntersectionObserver === "undefined") return null;
    return (el, onChange) => {
      if (!observer.current) {
        const listeners = new Map<Element, (near: boolean) => void>();
        const io = new IntersectionObserver((entries) => entries.forEach((e) => listeners.get(e.target)?.(e.isIntersecting)), {
          root: rootOf(el),
          rootMargin: "800px 0px",
        });
        observer.current = { io, listeners };
      }
      const o = observer.current;
      o.listeners.set(el, onChange);
      o.io.observe(el);
      return () => {
        o.io.unobserve(el);
        o.listeners.delete(el);
      };
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [enabled]);
}

export function KanbanBoard({ columns, lanes, swimlanes, counts, allCards, extras, moving, onOpen, onDrop }: Props) {
  const [activeKey, setActiveKey] = useState<string | null>(null);
  const dragging = useRef(false);
  const justDropped = useRef(0);
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(KeyboardSensor, {
      coordinateGetter: sortableKeyboardCoordinates,
      keyboardCodes: { start: ["Space"], cancel: ["Escape"], end: ["Space", "Enter"] },
    }),
  );

  const byKey = useMemo(() => new Map(allCards.map((c) => [c.key, c])), [allCards]);
  const columnName = useCallback((id: string) => columns.find((c) => c.id === id)?.name ?? id, [columns]);
  const byKeyRef = useRef(byKey);
  byKeyRef.current = byKey;

  /** "position 2 of 5 in In progress" among every card of the column. */
  const place = useCallback(
    (key: string, column: string) => {
      const inCol = allCards.filter((c) => c.column === column).sort((a, b) => a.rank - b.rank);
      const i = inCol.findIndex((c) => c.key === key);
      return i === -1 ? `${columnName(column)}` : `${columnName(column)}, position ${i + 1} of ${inCol.length}`;
    },
    [allCards, columnName],
  );

  const announcements: Announcements = useMemo(
    () => ({
      onDragStart: ({ active }) => {
        const c = byKeyRef.current.get(String(active.id));
        return c ? `Picked up card ${c.key}, ${c.title}, in ${place(c.key, c.column)}.` : `Picked up card ${active.id}.`;
      },
      onDragOver: ({ active, over }) => {
        if (!over) return `Card ${active.id} is no longer over a column.`;
        const d = over.data.current as DragData | undefined;
        if (!d) return undefined;
        if (d.type === "column") return `Card ${active.id} is over column ${columnName(d.column)}.`;
        // Over its own place: nothing new to say (and the pick-up message stays to be heard).
        if (over.id === active.id) return undefined;
        return `Card ${active.id} is over card ${over.id} in ${columnName(d.column)}.`;
      },
      onDragEnd: ({ active, over }) => {
        const d = over?.data.current as DragData | undefined;
        if (!d) return `Card ${active.id} was dropped where it was.`;
        return `Card ${active.id} was dropped in ${columnName(d.column)}.`;
      },
      onDragCancel: ({ active }) => {
        const c = byKeyRef.current.get(String(active.id));
        return `Moving card ${active.id} was cancelled. It stays in ${c ? columnName(c.column) : "its column"}.`;
      },
    }),
    [columnName, place],
  );

  /** Where the pointer is while a card is dragged with it (null with the keyboard). */
  const pointer = useRef<{ x: number; y: number } | null>(null);
  const trackPointer = useCallback((e: PointerEvent) => {
    pointer.current = { x: e.clientX, y: e.clientY };
  }, []);
  const stopTracking = useCallback(() => {
    window.removeEventListener("pointermove", trackPointer, true);
  }, [trackPointer]);
  useEffect(() => stopTracking, [stopTracking]);

  const onDragStart = useCallback(
    (e: DragStartEvent) => {
      dragging.current = true;
      setActiveKey(String(e.active.id));
      const ev = e.activatorEvent;
      if (typeof PointerEvent !== "undefined" && ev instanceof PointerEvent) {
        pointer.current = { x: ev.clientX, y: ev.clientY };
        window.addEventListener("pointermove", trackPointer, true);
      } else pointer.current = null;
    },
    [trackPointer],
  );

  const onDragEnd = useCallback(
    (e: DragEndEvent) => {
      dragging.current = false;
      justDropped.current = Date.now();
      setActiveKey(null);
      stopTracking();
      const over = e.over;
      const d = over?.data.current as DragData | undefined;
      if (!over || !d) return;
      const key = String(e.active.id);
      if (d.type === "column") {
        // Dropped on another column: before or after the card under the pointer, if any.
        const p = pointer.current;
        const hit = p ? hitTest(p.x, p.y).card : null;
        if (p && hit && hit.dataset.column === d.column && hit.dataset.card !== key) {
          const r = hit.getBoundingClientRect();
          onDrop(key, { kind: "card", key: hit.dataset.card!, column: d.column }, p.y > r.top + r.height / 2);
        } else onDrop(key, { kind: "column", column: d.column }, false);
        return;
      }
      const rect = e.active.rect.current.translated;
      const overRect =
        over.rect ?? document.querySelector(`[data-testid="board-card"][data-card="${String(over.id).replace(/["\\]/g, "\\$&")}"]`)?.getBoundingClientRect() ?? null;
      // Below the other card's middle (measured from the tops, so a keyboard move, which puts
      // the card exactly where the other is, counts as before it).
      const below = rect && overRect ? rect.top + Math.min(rect.height, overRect.height) / 2 > overRect.top + overRect.height / 2 : false;
      onDrop(key, { kind: "card", key: String(over.id), column: d.column }, below);
    },
    [onDrop, stopTracking],
  );

  const onDragCancel = useCallback(() => {
    dragging.current = false;
    justDropped.current = Date.now();
    setActiveKey(null);
    stopTracking();
  }, [stopTracking]);

  const open = useCallback(
    (key: string, byKeyboard = false) => {
      // A click that ends a drag is not a click on the card (nor is Enter while carrying one).
      if (dragging.current || (!byKeyboard && Date.now() - justDropped.current < 150)) return;
      onOpen(key);
    },
    [onOpen],
  );

  const active = activeKey ? byKey.get(activeKey) : undefined;
  const large = allCards.length > LARGE_BOARD;
  const gridStyle = { gridTemplateColumns: `repeat(${columns.length}, minmax(170px, 1fr))` };

  return (
    <DndContext
      sensors={sensors}
      collisionDetection={collision}
      onDragStart={onDragStart}
      onDragEnd={onDragEnd}
      onDragCancel={onDragCancel}
      accessibility={{ announcements, screenReaderInstructions: SCREEN_READER }}
    >
      <div className={`kb ${swimlanes ? "kb-lanes" : "kb-flat"}`} data-testid="board-columns" data-dragging={activeKey ?? undefined}>
        <div className="kb-head" style={gridStyle} role="presentation">
          {columns.map((col) => {
            const n = counts.get(col.id) ?? 0;
            const wip = wipState(col, n);
            return (
              <div key={col.id} className={`kb-head-cell wip-${wip}`} data-testid="board-column-head" data-column={col.id} data-wip={wip}>
                <span className="kb-head-name">{col.name}</span>
                <span className="kb-head-count" data-testid="board-column-count" title={col.wipLimit !== null ? `Work-in-progress limit: ${col.wipLimit}` : undefined}>
                  {n}
                  {col.wipLimit !== null ? ` / ${col.wipLimit}` : ""}
                </span>
              </div>
            );
          })}
        </div>
        {lanes.map((lane) => (
          <LaneView key={lane.id} lane={lane} columns={columns} swimlanes={swimlanes} large={large} gridStyle={gridStyle} extras={extras} moving={moving} onOpen={open} />
        ))}
      </div>
      <DragOverlay dropAnimation={null}>{active ? <CardFace card={active} {...extras(active)} overlay /> : null}</DragOverlay>
    </DndContext>
  );
}

function LaneView({
  lane,
  columns,
  swimlanes,
  large,
  gridStyle,
  extras,
  moving,
  onOpen,
}: {
  lane: Lane;
  columns: Column[];
  swimlanes: boolean;
  large: boolean;
  gridStyle: { gridTemplateColumns: string };
  extras: (card: Card) => CardExtras;
  moving: ReadonlySet<string>;
  onOpen: (key: string, byKeyboard?: boolean) => void;
}) {
  const [collapsed, setCollapsed] = useState(false);
  const title = lane.epic ? lane.epic.title : lane.id === NO_EPIC_LANE ? "No epic" : "";
  return (
    <section className="kb-lane" data-testid="board-lane" data-lane={lane.id} aria-label={swimlanes ? `Epic lane: ${title}` : "Cards"}>
      {swimlanes && (
        <h3 className="kb-lane-head">
          <button
            type="button"
            className="kb-lane-toggle"
            data-testid="board-lane-toggle"
            aria-expanded={!collapsed}
            onClick={() => setCollapsed((c) => !c)}
          >
            <span className="kb-epic-swatch" style={{ background: lane.epic ? epicColor(lane.epic) : "var(--border-strong)" }} aria-hidden="true" />
            <span className="kb-lane-title">{title}</span>
            {lane.epic && <span className="kb-lane-key">{lane.epic.key}</span>}
            <span className="kb-lane-stats">
              {lane.count} card{lane.count === 1 ? "" : "s"} · {lane.points} pts
            </span>
          </button>
        </h3>
      )}
      {!collapsed && (
        <div className="kb-row" style={gridStyle}>
          {columns.map((col) => (
            <ColumnView
              key={col.id}
              lane={lane.id}
              column={col}
              cards={lane.byColumn.get(col.id) ?? EMPTY}
              large={large}
              scrolls={!swimlanes}
              extras={extras}
              moving={moving}
              onOpen={onOpen}
            />
          ))}
        </div>
      )}
    </section>
  );
}

const EMPTY: Card[] = [];

const ColumnView = memo(function ColumnView({
  lane,
  column,
  cards,
  large,
  scrolls,
  extras,
  moving,
  onOpen,
}: {
  lane: string;
  column: Column;
  cards: Card[];
  /** A large board: cards are drop targets only near the visible area. */
  large: boolean;
  /** The column scrolls itself (else the page does). */
  scrolls: boolean;
  extras: (card: Card) => CardExtras;
  moving: ReadonlySet<string>;
  onOpen: (key: string, byKeyboard?: boolean) => void;
}) {
  const { setNodeRef, isOver } = useDroppable({ id: `column:${lane}:${column.id}`, data: { type: "column", column: column.id, lane } satisfies DragData });
  const items = useMemo(() => cards.map((c) => c.key), [cards]);
  // Cards' refs are set before their column's: find the root from the card.
  const near = useNearObserver(large, (el) => (scrolls ? el.closest('[data-testid="board-column"]') : document.getElementById("main")));
  return (
    <NearContext.Provider value={near}>
    <div
      ref={setNodeRef}
      className={`kb-col${isOver ? " kb-col-over" : ""}`}
      data-testid="board-column"
      data-column={column.id}
      data-lane={lane}
      data-cards={cards.length}
      role="list"
      aria-label={`${column.name}: ${cards.length} card${cards.length === 1 ? "" : "s"}`}
    >
      <SortableContext id={`${lane}:${column.id}`} items={items} strategy={verticalListSortingStrategy}>
        {cards.map((c) => (
          <SortableCard key={c.key} card={c} lane={lane} {...extras(c)} pending={moving.has(c.key)} onOpen={onOpen} />
        ))}
      </SortableContext>
      {cards.length === 0 && (
        <p className="kb-col-empty" aria-hidden="true">
          No cards
        </p>
      )}
    </div>
    </NearContext.Provider>
  );
});

type CardProps = CardExtras & { card: Card; lane: string; pending: boolean; onOpen: (key: string, byKeyboard?: boolean) => void };

const SortableCard = memo(
  function SortableCard({ card, lane, pending, onOpen, ...extra }: CardProps) {
    const observeNear = useContext(NearContext);
    // On a large board a card far from view is not a drop target (nothing to measure at the
    // start of a drag); it becomes one as it scrolls near.
    const [near, setNear] = useState(observeNear === null);
    const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({
      id: card.key,
      data: { type: "card", column: card.column, lane } satisfies DragData,
      disabled: { draggable: false, droppable: !near },
    });
    const unobserve = useRef<(() => void) | null>(null);
    const ref = useCallback(
      (el: HTMLDivElement | null) => {
        setNodeRef(el);
        unobserve.current?.();
        unobserve.current = el && observeNear ? observeNear(el, setNear) : null;
        if (!observeNear) setNear(true);
      },
      [setNodeRef, observeNear],
    );
    const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
      if (e.key === "Enter" && !e.repeat) {
        e.preventDefault();
        onOpen(card.key, true);
        return;
      }
      listeners?.onKeyDown?.(e);
    };
    return (
      <div
        ref={ref}
        role="listitem"
        className={`kb-card-wrap${isDragging ? " kb-card-placeholder" : ""}`}
        style={{ transform: DndCSS.Translate.toString(transform), transition }}
      >
        <div
          {...attributes}
          {...listeners}
          onKeyDown={onKeyDown}
          onClick={() => onOpen(card.key)}
          role="button"
          aria-roledescription="draggable card"
          aria-label={`${card.key}: ${card.title}`}
          className="kb-card-handle"
          data-testid="board-card"
          data-card={card.key}
          data-column={card.column}
          data-pending={pending ? "true" : undefined}
          data-automation={extra.automation ? "true" : undefined}
        >
          <CardFace card={card} {...extra} pending={pending} />
        </div>
      </div>
    );
  },
  (a, b) =>
    sameCardView(a.card, b.card) &&
    a.lane === b.lane &&
    a.pending === b.pending &&
    a.automation === b.automation &&
    a.epicTitle === b.epicTitle &&
    a.epicColor === b.epicColor &&
    a.onOpen === b.onOpen,
);

const KIND_MARK: Record<Card["kind"], string> = { story: "Story", task: "Task", bug: "Bug" };

/** What a card shows: key, kind, title, epic, points, assignee, labels, the automation marker. */
export const CardFace = memo(function CardFace({
  card,
  automation,
  epicTitle,
  epicColor,
  pending = false,
  overlay = false,
}: CardExtras & { card: Card; pending?: boolean; overlay?: boolean }) {
  return (
    <article className={`kb-card kind-${card.kind}${pending ? " kb-card-pending" : ""}${overlay ? " kb-card-overlay" : ""}`} style={{ borderLeftColor: epicColor }}>
      <header className="kb-card-top">
        <span className="kb-card-key" data-testid="card-key">
          {card.key}
        </span>
        <span className={`kb-kind kb-kind-${card.kind}`}>{KIND_MARK[card.kind]}</span>
        {automation && (
          <span className="kb-auto" data-testid="card-automation" title={automation}>
            <span aria-hidden="true">⚙</span> <span className="kb-auto-text">auto</span>
            <span className="visually-hidden">{automation}</span>
          </span>
        )}
        {card.points !== null && (
          <span className="kb-points" data-testid="card-points" title={`${card.points} story point${card.points === 1 ? "" : "s"}`}>
            {card.points}
          </span>
        )}
      </header>
      <p className="kb-card-title" data-testid="card-title">
        {card.title}
      </p>
      <footer className="kb-card-foot">
        {epicTitle && (
          <span className="kb-card-epic" data-testid="card-epic" style={{ borderColor: epicColor }}>
            {epicTitle}
          </span>
        )}
        {card.labels.map((l) => (
          <span key={l} className="kb-label" data-testid="card-label">
            {l}
          </span>
        ))}
        {card.assignee && (
          <span className="kb-assignee" data-testid="card-assignee" title={`Assigned to ${card.assignee}`}>
            {card.assignee}
          </span>
        )}
        {card.links.length > 0 && (
          <span className="kb-links">
            {card.links.length} link{card.links.length === 1 ? "" : "s"}
          </span>
        )}
      </footer>
    </article>
  );
});
