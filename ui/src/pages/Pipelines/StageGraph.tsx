import { Handle, MarkerType, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { createContext, memo, useContext, useMemo } from "react";

import type { Run } from "../../bindings/Run";
import type { StageName } from "../../bindings/StageName";
import { GRAPH_NODE_H, GRAPH_NODE_W, STATUS_LABEL, graphEdges, graphPositions, stageViews, type StageView } from "./model";

type Graph = { views: Map<StageName, StageView>; selected: StageName | null; onSelect: (s: StageName) => void };

/**
 * Live state reaches the nodes through context, so the node objects handed to React Flow stay
 * the same while the run changes (a new node object would be hidden until measured again).
 */
const GraphContext = createContext<Graph>({ views: new Map(), selected: null, onSelect: () => {} });

type StageNode = Node<{ stage: StageName }, "stage">;

const StageNodeView = memo(function StageNodeView({ data }: NodeProps<StageNode>) {
  const { views, selected, onSelect } = useContext(GraphContext);
  const v = views.get(data.stage);
  if (!v) return null;
  const note = v.afterUntil && v.status === "skipped" ? "not in this run" : v.steps > 0 ? `${v.steps} step${v.steps === 1 ? "" : "s"}` : "";
  return (
    <>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <button
        type="button"
        className={`pl-stage status-${v.status} ${selected === v.name ? "pl-stage-selected" : ""} nodrag nopan`}
        data-testid={`stage-node-${v.name}`}
        data-status={v.status}
        aria-pressed={selected === v.name}
        aria-label={`${v.label}: ${STATUS_LABEL[v.status]}${v.duration ? `, ${v.duration}` : ""}`}
        onClick={() => onSelect(v.name)}
        style={{ width: GRAPH_NODE_W, height: GRAPH_NODE_H }}
      >
        <span className="pl-stage-top">
          <span className="pl-stage-name">{v.label}</span>
          <span className="pl-stage-duration" data-testid="stage-duration">
            {v.duration ?? ""}
          </span>
        </span>
        <span className="pl-stage-status">
          <span className="pl-dot" aria-hidden="true" />
          {STATUS_LABEL[v.status]}
        </span>
        <span className="pl-stage-note">{v.status === "failed" && v.error ? v.error.what : note}</span>
      </button>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </>
  );
});

const nodeTypes = { stage: StageNodeView };

/** Checkout -> Build -> Test -> Push -> Deploy, each with its live status and duration. */
export function StageGraph({
  run,
  now,
  selected,
  onSelect,
}: {
  run: Run;
  now: number;
  selected: StageName | null;
  onSelect: (s: StageName) => void;
}) {
  const nodes: StageNode[] = useMemo(
    () =>
      graphPositions().map((p) => ({
        id: p.id,
        type: "stage",
        position: { x: p.x, y: p.y },
        data: { stage: p.id },
        draggable: false,
        connectable: false,
        selectable: false,
      })),
    [],
  );
  const edges: Edge[] = useMemo(
    () => graphEdges(run).map((e) => ({ ...e, markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 } })),
    [run],
  );
  const views = useMemo(() => new Map(stageViews(run, now).map((v) => [v.name, v])), [run, now]);
  const ctx = useMemo(() => ({ views, selected, onSelect }), [views, selected, onSelect]);
  return (
    <div className="pl-graph" data-testid="stage-graph" aria-label="Stages">
      <GraphContext.Provider value={ctx}>
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          // Also gives the nodes pointer events (React Flow leaves inert nodes without).
          onNodeClick={(_, node) => onSelect(node.id as StageName)}
          fitView
          fitViewOptions={{ padding: 0.06, maxZoom: 1 }}
          minZoom={0.3}
          maxZoom={1}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          panOnDrag={false}
          zoomOnScroll={false}
          zoomOnPinch={false}
          zoomOnDoubleClick={false}
          preventScrolling={false}
        />
      </GraphContext.Provider>
    </div>
  );
}
