import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { createContext, memo, useContext, useMemo } from "react";

import type { Observed } from "../../bindings/Observed";
import type { ResourceProgress } from "../../bindings/ResourceProgress";
import type { ResourceSpec } from "../../bindings/ResourceSpec";
import { AREA_LABEL, KIND_LABEL, NODE_H, NODE_W, edges, layout, phaseWord, type Area } from "./model";

/** What one node shows: live progress while a run goes on, else the last recorded state. */
export type NodeState =
  | { source: "live"; progress: ResourceProgress }
  | { source: "recorded"; observed: Observed }
  | { source: "none" };

type ResourceNodeData = { spec: ResourceSpec; area: Area };

/**
 * The nodes' live state comes through context, not node data: the node objects handed to React
 * Flow stay the same while progress events arrive, so it never drops their measured size (a new
 * node object without `measured` is hidden until measured again).
 */
const StateOf = createContext<(id: string) => NodeState>(() => ({ source: "none" }));
type ResourceNode = Node<ResourceNodeData, "resource">;

export function barPercent(p: ResourceProgress): number {
  if (p.phase === "ready" || p.phase === "unchanged" || p.phase === "deleted") return 100;
  if (p.expectedMs <= 0) return 0;
  return Math.min(100, Math.round((p.elapsedMs / p.expectedMs) * 100));
}

function stateText(s: NodeState): { text: string; phase: string; title?: string; physicalId?: string | null } {
  if (s.source === "live") {
    const p = s.progress;
    const bits = [phaseWord(p.phase)];
    if (p.cloudState) bits.push(p.cloudState);
    return {
      text: bits.join(" · "),
      phase: p.phase,
      physicalId: p.physicalId,
      title: `${p.physicalId ?? ""} ${Math.round(p.elapsedMs / 1000)}s of ~${Math.round(p.expectedMs / 1000)}s`.trim(),
    };
  }
  if (s.source === "recorded") {
    const o = s.observed;
    return { text: o.state, phase: o.failed ? "failed" : o.ready ? "ready" : "waiting", title: o.physicalId, physicalId: o.physicalId };
  }
  return { text: "not created", phase: "none" };
}

const ResourceNodeView = memo(function ResourceNodeView({ data }: NodeProps<ResourceNode>) {
  const { spec, area } = data;
  const state = useContext(StateOf)(spec.id);
  const st = stateText(state);
  return (
    <div
      className={`arch-node area-${area} phase-${st.phase}`}
      data-testid={`arch-node-${spec.id}`}
      data-phase={st.phase}
      title={st.title}
      style={{ width: NODE_W, minHeight: NODE_H - 10 }}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="arch-node-label">
        <span className="arch-node-kind">{KIND_LABEL[spec.kind]}</span> <span className="arch-node-name">{spec.name}</span>
      </div>
      <div className="arch-node-state">
        {st.text}
        {st.physicalId && <code className="arch-node-id"> {st.physicalId}</code>}
      </div>
      {state.source === "live" && (
        <div className="arch-bar" aria-label={`${barPercent(state.progress)}% of the expected time`}>
          <span style={{ width: `${barPercent(state.progress)}%` }} />
        </div>
      )}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { resource: ResourceNodeView };

export function Diagram({ specs, stateOf }: { specs: ResourceSpec[]; stateOf: (id: string) => NodeState }) {
  const placed = useMemo(() => layout(specs), [specs]);
  const byId = useMemo(() => new Map(specs.map((s) => [s.id, s])), [specs]);
  const nodes: ResourceNode[] = useMemo(
    () =>
      placed.map((p) => ({
        id: p.id,
        type: "resource",
        position: { x: p.x, y: p.y },
        data: { spec: byId.get(p.id)!, area: p.area },
        draggable: false,
        connectable: false,
      })),
    [placed, byId],
  );
  const flowEdges: Edge[] = useMemo(
    () => edges(specs).map((e) => ({ ...e, className: `arch-edge area-${placed.find((p) => p.id === e.target)?.area}` })),
    [specs, placed],
  );
  const areas = [...new Set(placed.map((p) => p.area))];
  return (
    <div className="arch-diagram" data-testid="architecture-diagram">
      <StateOf.Provider value={stateOf}>
        <ReactFlow
          nodes={nodes}
          edges={flowEdges}
          nodeTypes={nodeTypes}
          fitView
          fitViewOptions={{ padding: 0.05 }}
          minZoom={0.2}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
        >
          <Background gap={20} />
          <Controls showInteractive={false} />
        </ReactFlow>
      </StateOf.Provider>
      <ul className="arch-legend" aria-label="Areas">
        {areas.map((a) => (
          <li key={a} className={`area-${a}`}>
            <span className="swatch" /> {AREA_LABEL[a]}
          </li>
        ))}
      </ul>
    </div>
  );
}
