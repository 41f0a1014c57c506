import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { Blueprint } from "../../bindings/Blueprint";
import type { Drift } from "../../bindings/Drift";
import type { Observed } from "../../bindings/Observed";
import type { Operation } from "../../bindings/Operation";
import type { Plan } from "../../bindings/Plan";
import type { ResourceSpec } from "../../bindings/ResourceSpec";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { ExportDialog } from "../../components/ExportDialog";
import { useProjects } from "../../components/ProjectPicker";
import { Spinner } from "../../components/Spinner";
import { useStore } from "../../state/store";
import { Diagram, type NodeState } from "./Diagram";
import {
  BP_FIELDS,
  applyEvents,
  duration,
  fromForm,
  initialProgress,
  toForm,
  type BlueprintForm,
  type Progress,
} from "./model";
import { DriftTable, PlanTable } from "./PlanTable";

type Busy = "plan" | "refresh" | "save" | null;

/** A run is live while its command is pending, or while events say one is going on (from elsewhere). */
export function isLive(running: Operation | null, p: Progress): boolean {
  if (running !== null) return true;
  return p.finished === null && (p.op === "apply" || p.op === "destroy") && p.total > 0 && p.done < p.total;
}

/** The number fields must be whole numbers before anything is sent; every other rule is Rust's. */
export function checkForm(f: BlueprintForm): UserError | null {
  for (const { field, label, kind } of BP_FIELDS) {
    if (kind === "number" && !/^\d+$/.test((f[field] ?? "").trim())) {
      return { what: "Blueprint not saved", why: `${label}: '${f[field] ?? ""}' is not a whole number`, fix: "Enter a whole number" };
    }
  }
  return null;
}

export function ArchitecturePage() {
  const { onEvents } = useStore();
  const uid = useId();
  const [blueprint, setBlueprint] = useState<Blueprint | null>(null);
  const [form, setForm] = useState<BlueprintForm | null>(null);
  const [specs, setSpecs] = useState<ResourceSpec[]>([]);
  const [observed, setObserved] = useState<Observed[]>([]);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [drift, setDrift] = useState<Drift[] | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [saveError, setSaveError] = useState<UserError | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState<Busy>(null);
  const [running, setRunning] = useState<Operation | null>(null);
  const [startedAt, setStartedAt] = useState<number | null>(null);
  const [endedAt, setEndedAt] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [progress, setProgress] = useState<Progress>(initialProgress);
  const [confirming, setConfirming] = useState(false);
  const [confirmText, setConfirmText] = useState("");
  const [cancelRequested, setCancelRequested] = useState(false);
  const projects = useProjects();
  // The blueprint shown: the picked project's (before any project exists, the default one).
  const wanted = projects.projects === null ? undefined : projects.project;
  const project = blueprint?.project ?? null;
  const projectRef = useRef<string | null>(null);
  projectRef.current = project;

  // Live progress: every event batch from the store's channel.
  useEffect(
    () =>
      onEvents((batch) => {
        setProgress((p) => applyEvents(p, batch, projectRef.current));
      }),
    [onEvents],
  );

  const loadState = useCallback(async (proj: string | null) => {
    const [rs, obs] = await Promise.all([api.blueprintResources(proj), api.projectResources(proj)]);
    setSpecs(rs);
    setObserved(obs);
  }, []);

  useEffect(() => {
    if (wanted === undefined) return;
    let cancelled = false;
    (async () => {
      try {
        const bp = await api.getBlueprint(wanted);
        if (cancelled) return;
        setBlueprint(bp);
        setForm(toForm(bp));
        await loadState(bp.project);
      } catch (e) {
        if (!cancelled) setError(e as UserError);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [loadState, wanted]);

  const live = isLive(running, progress);
  useEffect(() => {
    if (!live) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [live]);

  const observedById = useMemo(() => new Map(observed.filter((o) => o.logicalId).map((o) => [o.logicalId!, o])), [observed]);
  const stateOf = useCallback(
    (id: string): NodeState => {
      const p = progress.byId[id];
      if (p && (live || p.phase === "failed" || p.phase === "cancelled")) return { source: "live", progress: p };
      const o = observedById.get(id);
      if (o) return { source: "recorded", observed: o };
      if (p) return { source: "live", progress: p };
      return { source: "none" };
    },
    [progress.byId, live, observedById],
  );

  async function runPlan() {
    setBusy("plan");
    setError(null);
    setDrift(null);
    try {
      setPlan(await api.plan(project));
    } catch (e) {
      setError(e as UserError);
    } finally {
      setBusy(null);
    }
  }

  async function runRefresh() {
    setBusy("refresh");
    setError(null);
    setPlan(null);
    try {
      setDrift(await api.refresh(project));
      setObserved(await api.projectResources(project));
    } catch (e) {
      setError(e as UserError);
    } finally {
      setBusy(null);
    }
  }

  async function provision(op: "apply" | "destroy") {
    setRunning(op);
    setError(null);
    setCancelRequested(false);
    setProgress((p) => ({ ...initialProgress, log: p.log, lastSeq: p.lastSeq }));
    const t0 = Date.now();
    setStartedAt(t0);
    setNow(t0);
    setEndedAt(null);
    try {
      if (op === "apply") {
        const report = await api.apply(project);
        setObserved(report.resources);
      } else {
        await api.destroy(project);
      }
      setPlan(null);
      setDrift(null);
    } catch (e) {
      setError(e as UserError);
    } finally {
      setRunning(null);
      setEndedAt(Date.now());
      try {
        setObserved(await api.projectResources(project));
      } catch {
        // the error of the run itself is what matters here
      }
    }
  }

  async function cancel() {
    setCancelRequested(true);
    try {
      await api.cancelProvisioning();
    } catch (e) {
      setError(e as UserError);
    }
  }

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!form || !blueprint) return;
    const local = checkForm(form);
    if (local) {
      setSaveError(local);
      return;
    }
    setBusy("save");
    setSaveError(null);
    setSaved(false);
    try {
      const bp = await api.saveBlueprint(fromForm(blueprint, form));
      setBlueprint(bp);
      setForm(toForm(bp));
      setSaved(true);
      setPlan(null);
      setDrift(null);
      await loadState(bp.project);
    } catch (err) {
      setSaveError(err as UserError);
    } finally {
      setBusy(null);
    }
  }

  // Keep the log scrolled to its newest line.
  const logRef = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [progress.log]);

  const elapsed = startedAt === null ? null : (endedAt ?? now) - startedAt;
  const disabled = running !== null || busy !== null || blueprint === null;

  return (
    <div className="arch">
      <div className="arch-main">
        <div className="arch-toolbar" role="toolbar" aria-label="Provisioning">
          {projects.projects && projects.projects.length > 0 ? (
            <label className="arch-project">
              Project{" "}
              <select
                data-testid="arch-project"
                value={projects.project ?? ""}
                onChange={(e) => projects.setProject(e.target.value)}
                disabled={running !== null}
              >
                {projects.projects.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.id}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <span className="muted" data-testid="arch-no-project">
              No project yet: this is the default blueprint ({project ?? "…"}). <a href="#/launch">Add a project</a> to plan its own.
            </span>
          )}
          <button type="button" data-testid="arch-plan" onClick={runPlan} disabled={disabled}>
            {busy === "plan" ? <Spinner label="Planning" /> : null} Plan
          </button>
          <button type="button" className="primary" data-testid="arch-apply" onClick={() => provision("apply")} disabled={disabled}>
            Apply
          </button>
          <button type="button" data-testid="arch-refresh" onClick={runRefresh} disabled={disabled}>
            {busy === "refresh" ? <Spinner label="Checking" /> : null} Refresh
          </button>
          <button
            type="button"
            className="danger"
            data-testid="arch-destroy"
            onClick={() => {
              setConfirming(true);
              setConfirmText("");
            }}
            disabled={disabled}
          >
            Destroy…
          </button>
          <ExportDialog defaultKind="terraform" project={project} />
          {live && (
            <button type="button" data-testid="arch-cancel" onClick={cancel} disabled={cancelRequested}>
              {cancelRequested ? "Cancelling…" : "Cancel"}
            </button>
          )}
          {(live || progress.total > 0) && (
            <span className="arch-progress" data-testid="arch-progress" role="status">
              {live && <Spinner label="Provisioning" />}
              {progress.op === "destroy" ? "Destroy" : "Apply"}: {progress.done} of {progress.total}
              {elapsed !== null && <span className="muted"> · {duration(elapsed)}</span>}
              {progress.finished && <span className="muted"> · {progress.finished.summary}</span>}
            </span>
          )}
        </div>

        {confirming && project && (
          <form
            className="arch-confirm panel"
            aria-label="Confirm destroy"
            onSubmit={(e) => {
              e.preventDefault();
              if (confirmText !== project) return;
              setConfirming(false);
              void provision("destroy");
            }}
          >
            <label htmlFor={`${uid}-confirm`}>
              Destroy removes every resource of <strong>{project}</strong> from AWS, databases included. Type the project
              name to confirm.
            </label>
            <div className="actions">
              <input
                id={`${uid}-confirm`}
                data-testid="destroy-confirm-input"
                value={confirmText}
                onChange={(e) => setConfirmText(e.target.value)}
                placeholder={project}
                autoComplete="off"
                spellCheck={false}
              />
              <button type="submit" className="danger" data-testid="destroy-confirm" disabled={confirmText !== project}>
                Destroy {project}
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                Keep it
              </button>
            </div>
          </form>
        )}

        {error && <ErrorCallout error={error} testId="arch-error" />}

        {specs.length > 0 ? (
          <Diagram specs={specs} stateOf={stateOf} />
        ) : (
          !error && (
            <p className="muted">
              <Spinner label="Loading the blueprint" /> Loading the blueprint…
            </p>
          )
        )}

        {plan && <PlanTable plan={plan} />}
        {drift && <DriftTable drift={drift} />}

        {progress.log.length > 0 && (
          <section aria-label="Progress log">
            <h2>Log</h2>
            <ol className="arch-log" data-testid="arch-log" ref={logRef} aria-live="off">
              {progress.log.map((line, i) => (
                <li key={i}>{line}</li>
              ))}
            </ol>
          </section>
        )}
      </div>

      <aside className="arch-side panel" aria-label="Blueprint parameters">
        <h2>Parameters</h2>
        {form ? (
          <form onSubmit={save}>
            <div className="fields">
              {BP_FIELDS.map(({ field, label, kind, options, help }) =>
                kind === "toggle" ? (
                  <div key={field} className="bp-field bp-toggle">
                    <label htmlFor={`${uid}-${field}`}>
                      <input
                        id={`${uid}-${field}`}
                        type="checkbox"
                        data-testid={`bp-${field}`}
                        checked={form[field] === "true"}
                        aria-describedby={`${uid}-${field}-help`}
                        onChange={(e) => {
                          setForm((f) => (f ? { ...f, [field]: String(e.target.checked) } : f));
                          setSaved(false);
                        }}
                      />{" "}
                      {label} <span className="muted">(opt-in)</span>
                    </label>
                    <p id={`${uid}-${field}-help`} className="muted bp-help" data-testid={`bp-help-${field}`}>
                      {help}
                    </p>
                  </div>
                ) : (
                <div key={field} className="bp-field">
                  <label htmlFor={`${uid}-${field}`}>{label}</label>
                  {kind === "select" ? (
                    <select
                      id={`${uid}-${field}`}
                      data-testid={`bp-${field}`}
                      value={form[field]}
                      onChange={(e) => {
                        setForm((f) => (f ? { ...f, [field]: e.target.value } : f));
                        setSaved(false);
                      }}
                    >
                      {options?.map((o) => (
                        <option key={o.value} value={o.value}>
                          {o.label}
                        </option>
                      ))}
                    </select>
                  ) : (
                    <input
                      id={`${uid}-${field}`}
                      data-testid={`bp-${field}`}
                      value={form[field]}
                      inputMode={kind === "number" ? "numeric" : undefined}
                      spellCheck={false}
                      onChange={(e) => {
                        setForm((f) => (f ? { ...f, [field]: e.target.value } : f));
                        setSaved(false);
                      }}
                    />
                  )}
                </div>
                ),
              )}
            </div>
            {saveError && <ErrorCallout error={saveError} testId="bp-error" />}
            <div className="actions">
              <button type="submit" className="primary" data-testid="bp-save" disabled={busy === "save" || running !== null}>
                {busy === "save" ? <Spinner label="Saving" /> : null} Save
              </button>
              {saved && (
                <span className="saved" role="status" data-testid="bp-saved">
                  Saved.
                </span>
              )}
            </div>
          </form>
        ) : (
          !error && <Spinner label="Loading parameters" />
        )}
      </aside>
    </div>
  );
}
