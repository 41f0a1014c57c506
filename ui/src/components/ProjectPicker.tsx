// The project a page is about (Pipelines, Deployments): the saved projects, the one picked (from
// the hash, else the first), what to show while they load or when there is none, and the select.

import { useEffect, useId, useState, type ReactNode } from "react";

import { api } from "../api";
import type { Project } from "../bindings/Project";
import type { UserError } from "../bindings/UserError";
import { ErrorCallout } from "./ErrorCallout";
import { Spinner } from "./Spinner";

/** A parameter of the page's hash: `#/pipelines?project=sample-app` has project "sample-app". */
export function hashParam(name: string): string | null {
  const q = window.location.hash.split("?")[1];
  return q ? new URLSearchParams(q).get(name) : null;
}

export type Projects = {
  /** Null until projects() answered. */
  projects: Project[] | null;
  project: string | null;
  setProject: (id: string) => void;
  error: UserError | null;
};

/** The saved projects, and the one shown: the hash's `project`, else the first. */
export function useProjects(): Projects {
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [project, setProject] = useState<string | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  useEffect(() => {
    let cancelled = false;
    api.projects().then(
      (ps) => {
        if (cancelled) return;
        setProjects(ps);
        const wanted = hashParam("project");
        setProject(ps.find((p) => p.id === wanted)?.id ?? ps[0]?.id ?? null);
      },
      (e: UserError) => {
        if (!cancelled) setError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, []);
  return { projects, project, setProject, error };
}

/**
 * What a page about one project shows instead of itself: a spinner while the projects load,
 * their error, or, with none saved, `why` and a link to the Project page. Null once there is one.
 */
export function projectsPending(p: Projects, ids: { error: { testId: string }; empty: { testId: string } }, why: ReactNode): ReactNode {
  if (p.error && p.projects === null) return <ErrorCallout error={p.error} testId={ids.error.testId} />;
  if (p.projects === null) {
    return (
      <p className="muted">
        <Spinner label="Loading projects" /> Loading…
      </p>
    );
  }
  if (p.projects.length > 0 && p.project !== null) return null;
  return (
    <div className="panel" data-testid={ids.empty.testId}>
      <p>{why}</p>
      <p>
        <a href="#/project">Add a project on the Project page</a> (or <code>slipway project add PATH</code>).
      </p>
    </div>
  );
}

/** The project `<select>` of a page's toolbar. */
export function ProjectSelect({ p, testId }: { p: Projects; testId: string }) {
  const uid = useId();
  return (
    <div className="bp-field">
      <label htmlFor={`${uid}-project`}>Project</label>
      <select id={`${uid}-project`} data-testid={testId} value={p.project ?? ""} onChange={(e) => p.setProject(e.target.value)}>
        {(p.projects ?? []).map((x) => (
          <option key={x.id} value={x.id}>
            {x.id}
          </option>
        ))}
      </select>
    </div>
  );
}
