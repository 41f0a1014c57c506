import { useCallback, useEffect, useId, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { Project } from "../../bindings/Project";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { GithubUrlPick, GithubWatch } from "./GithubWatch";
import { sourceText } from "./model";
import { ProjectEditor } from "./ProjectEditor";

type SourceKind = "path" | "git";

export function ProjectPage() {
  const uid = useId();
  const [kind, setKind] = useState<SourceKind>("path");
  const [path, setPath] = useState("");
  const [url, setUrl] = useState("");
  const [idInput, setIdInput] = useState("");
  const [detecting, setDetecting] = useState(false);
  const [detectError, setDetectError] = useState<UserError | null>(null);
  /** The project being edited: just detected, or a saved one picked from the list. */
  const [draft, setDraft] = useState<{ project: Project; saved: boolean; key: number } | null>(null);
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [loadError, setLoadError] = useState<UserError | null>(null);

  const load = useCallback(async () => {
    try {
      setProjects(await api.projects());
      setLoadError(null);
    } catch (e) {
      setLoadError(e as UserError);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function detect(e: FormEvent) {
    e.preventDefault();
    if (detecting) return;
    setDetecting(true);
    setDetectError(null);
    try {
      const project = await api.detectProject({
        source: kind === "path" ? { kind: "path", path: path.trim() } : { kind: "git", url: url.trim() },
        id: idInput.trim() === "" ? null : idInput.trim(),
      });
      setDraft({ project, saved: false, key: Date.now() });
    } catch (err) {
      setDetectError(err as UserError);
    } finally {
      setDetecting(false);
    }
  }

  return (
    <div className="project-page">
      <p className="lede">
        Point Slipway at a repository: it reads the compose file, the Dockerfiles, the tests, the Kubernetes manifests
        and the environment variables the code reads. Nothing runs and nothing is saved until you save.
      </p>

      <form className="panel project-source" onSubmit={detect} aria-label="Repository">
        <h2>Repository</h2>
        <fieldset className="choices">
          <legend>Where the code is</legend>
          <label className={`choice ${kind === "path" ? "choice-selected" : ""}`}>
            <input
              type="radio"
              name={`${uid}-kind`}
              data-testid="project-source-path"
              checked={kind === "path"}
              onChange={() => setKind("path")}
            />
            <span>
              <span className="choice-label">Local folder</span>
              <span className="choice-hint">A Git repository on this machine (its committed state runs)</span>
            </span>
          </label>
          <label className={`choice ${kind === "git" ? "choice-selected" : ""}`}>
            <input
              type="radio"
              name={`${uid}-kind`}
              data-testid="project-source-git"
              checked={kind === "git"}
              onChange={() => setKind("git")}
            />
            <span>
              <span className="choice-label">Git URL</span>
              <span className="choice-hint">https, ssh or file; GitHub uses the connected token</span>
            </span>
          </label>
        </fieldset>
        <div className="fields">
          {kind === "path" ? (
            <>
              <label htmlFor={`${uid}-path`}>Folder</label>
              <input
                id={`${uid}-path`}
                data-testid="project-path"
                value={path}
                onChange={(e) => setPath(e.target.value)}
                placeholder="/home/you/code/shop"
                spellCheck={false}
                autoComplete="off"
              />
            </>
          ) : (
            <>
              <label htmlFor={`${uid}-url`}>Git URL</label>
              <input
                id={`${uid}-url`}
                data-testid="project-git-url"
                value={url}
                onChange={(e) => setUrl(e.target.value)}
                placeholder="https://github.com/you/shop.git"
                spellCheck={false}
                autoComplete="off"
              />
            </>
          )}
          <label htmlFor={`${uid}-id`}>
            Project id <span className="optional">(optional: from the folder or repository name)</span>
          </label>
          <input
            id={`${uid}-id`}
            data-testid="project-id-input"
            value={idInput}
            onChange={(e) => setIdInput(e.target.value)}
            spellCheck={false}
            autoComplete="off"
          />
        </div>
        {kind === "git" && <GithubUrlPick onUrl={setUrl} />}
        {detectError && <ErrorCallout error={detectError} testId="project-detect-error" />}
        <div className="actions">
          <button type="submit" className="primary" data-testid="project-detect" disabled={detecting}>
            {detecting ? <Spinner label="Detecting" /> : null} {detecting ? "Detecting…" : "Detect"}
          </button>
        </div>
      </form>

      {draft && (
        <ProjectEditor
          key={draft.key}
          project={draft.project}
          alreadySaved={draft.saved}
          onSaved={(p) => {
            setDraft({ project: p, saved: true, key: draft.key });
            void load();
          }}
        />
      )}

      <section className="panel project-list" aria-label="Saved projects">
        <h2>Saved projects</h2>
        {loadError && <ErrorCallout error={loadError} testId="projects-error" />}
        {projects === null && !loadError && (
          <p className="muted">
            <Spinner label="Loading projects" /> Loading…
          </p>
        )}
        {projects !== null && projects.length === 0 && (
          <p className="muted" data-testid="projects-empty">
            No project yet. Detect one above and save it.
          </p>
        )}
        {projects !== null && projects.length > 0 && (
          <ul className="project-rows" data-testid="projects-list">
            {projects.map((p) => (
              <li key={p.id} className="project-row" data-testid="project-row" data-project={p.id}>
                <div>
                  <strong>{p.id}</strong> <code className="muted">{sourceText(p)}</code>
                  <div className="hint">
                    {p.services.map((s) => s.name).join(", ")} · ref {p.gitRef} · {p.deploy.replicas} replicas · concurrency{" "}
                    {p.concurrency}
                  </div>
                </div>
                <div className="actions">
                  <button type="button" data-testid="project-edit" onClick={() => setDraft({ project: p, saved: true, key: Date.now() })}>
                    Edit
                  </button>
                  <a className="button-link" href={`#/pipelines?project=${encodeURIComponent(p.id)}`} data-testid="project-open-pipelines">
                    Pipelines
                  </a>
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>

      {projects !== null && projects.length > 0 && <GithubWatch projects={projects} selected={draft?.saved ? draft.project.id : null} />}
    </div>
  );
}
