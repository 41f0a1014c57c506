import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { createPortal } from "react-dom";

import { api } from "../api";
import type { Environment } from "../bindings/Environment";
import type { Export } from "../bindings/Export";
import type { ExportKind } from "../bindings/ExportKind";
import type { Project } from "../bindings/Project";
import type { UserError } from "../bindings/UserError";
import { downloadText } from "../download";
import { ErrorCallout } from "./ErrorCallout";
import { Spinner } from "./Spinner";
import "./export.css";

export const EXPORT_KINDS: { kind: ExportKind; label: string; hint: string }[] = [
  { kind: "terraform", label: "Terraform", hint: "The architecture for the AWS provider: main.tf, variables.tf, outputs.tf." },
  { kind: "k8s", label: "Kubernetes YAML", hint: "What a deploy applies to an environment, as one multi-document file." },
  { kind: "jenkinsfile", label: "Jenkinsfile", hint: "The pipeline's five stages as a declarative Jenkinsfile." },
  { kind: "github-actions", label: "GitHub Actions workflow", hint: "The pipeline's five stages as .github/workflows/slipway.yml." },
];

/** The name a file downloads as: its path's last part. */
export function downloadName(path: string): string {
  return path.split("/").filter(Boolean).pop() ?? "export.txt";
}

type Props = {
  /** The format picked when the dialog opens. */
  defaultKind: ExportKind;
  /** The project (Terraform: the blueprint's) picked when it opens; null: the default. */
  project?: string | null;
  /** The environment picked when it opens (Kubernetes, Jenkinsfile, workflow); null: the default. */
  environment?: string | null;
};

/** "Export…": a button and the dialog it opens (format, project, environment; the files, their notes, Download, Copy). */
export function ExportDialog({ defaultKind, project = null, environment = null }: Props) {
  const [open, setOpen] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  return (
    <>
      <button type="button" ref={opener} data-testid="export-open" onClick={() => setOpen(true)} aria-haspopup="dialog">
        Export…
      </button>
      {open &&
        createPortal(
          <ExportBox
            defaultKind={defaultKind}
            project={project}
            environment={environment}
            onClose={() => {
              setOpen(false);
              opener.current?.focus();
            }}
          />,
          document.body,
        )}
    </>
  );
}

const FOCUSABLE = 'button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), a[href]';

function ExportBox({ defaultKind, project, environment, onClose }: Props & { project: string | null; environment: string | null; onClose: () => void }) {
  const uid = useId();
  const box = useRef<HTMLDivElement>(null);
  const first = useRef<HTMLSelectElement>(null);
  const [kind, setKind] = useState<ExportKind>(defaultKind);
  const [blueprintProject, setBlueprintProject] = useState(defaultKind === "terraform" ? (project ?? "") : "");
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [pipelineProject, setPipelineProject] = useState(defaultKind === "terraform" ? "" : (project ?? ""));
  const [envs, setEnvs] = useState<Environment[] | null>(null);
  const [env, setEnv] = useState(environment ?? "");
  const [loadError, setLoadError] = useState<UserError | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [result, setResult] = useState<Export | null>(null);
  const [tab, setTab] = useState(0);
  const [copied, setCopied] = useState<string | null>(null);
  const [copyError, setCopyError] = useState<UserError | null>(null);
  const pipeline = kind !== "terraform";

  useEffect(() => {
    first.current?.focus();
  }, []);

  // The pipeline projects (for everything but Terraform).
  useEffect(() => {
    if (!pipeline || projects !== null) return;
    let cancelled = false;
    api.projects().then(
      (ps) => {
        if (cancelled) return;
        setProjects(ps);
        setPipelineProject((p) => (p !== "" ? p : (ps[0]?.id ?? "")));
      },
      (e: UserError) => {
        if (!cancelled) setLoadError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [pipeline, projects]);

  // Its environments, offered in the environment field.
  useEffect(() => {
    if (!pipeline || pipelineProject === "") return;
    let cancelled = false;
    setEnvs(null);
    api.environments(pipelineProject).then(
      (list) => {
        if (!cancelled) setEnvs(list);
      },
      (e: UserError) => {
        if (!cancelled) setLoadError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [pipeline, pipelineProject]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    // The dialog is a portal: React would carry the submit on to a form around the button.
    e.stopPropagation();
    if (busy) return;
    setBusy(true);
    setError(null);
    setResult(null);
    setCopied(null);
    setCopyError(null);
    const p = (pipeline ? pipelineProject : blueprintProject).trim();
    try {
      const r = await api.export(kind, p === "" ? null : p, pipeline && env.trim() !== "" ? env.trim() : null);
      setResult(r);
      setTab(0);
    } catch (err) {
      setError(err as UserError);
    } finally {
      setBusy(false);
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (e.key === "Escape") {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== "Tab" || !box.current) return;
    // Focus stays inside the dialog.
    const items = [...box.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    if (items.length === 0) return;
    const firstItem = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === firstItem) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      firstItem.focus();
    }
  }

  const file = result?.files[Math.min(tab, result.files.length - 1)] ?? null;

  function download() {
    if (!file) return;
    downloadText(downloadName(file.path), file.content);
  }

  async function copy() {
    if (!file) return;
    setCopyError(null);
    try {
      if (!navigator.clipboard?.writeText) throw new Error("this window has no clipboard access");
      await navigator.clipboard.writeText(file.content);
      setCopied(file.path);
    } catch (e) {
      setCopied(null);
      setCopyError({
        what: `Could not copy ${file.path}`,
        why: e instanceof Error ? e.message : String(e),
        fix: "Select the text and copy it with the keyboard, or use Download",
      });
    }
  }

  const hint = EXPORT_KINDS.find((k) => k.kind === kind)?.hint;

  return (
    <div className="ex-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={box}
        className="ex-dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${uid}-title`}
        data-testid="export-dialog"
        onKeyDown={onKeyDown}
      >
        <header className="ex-head">
          <h2 id={`${uid}-title`}>Export</h2>
          <button type="button" className="ex-close" data-testid="export-close" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        <form className="ex-form" onSubmit={submit} aria-label="What to export">
          <div className="bp-field">
            <label htmlFor={`${uid}-kind`}>Format</label>
            <select
              id={`${uid}-kind`}
              ref={first}
              data-testid="export-kind"
              value={kind}
              onChange={(e) => {
                setKind(e.target.value as ExportKind);
                setResult(null);
                setError(null);
              }}
            >
              {EXPORT_KINDS.map((k) => (
                <option key={k.kind} value={k.kind}>
                  {k.label}
                </option>
              ))}
            </select>
          </div>
          {pipeline ? (
            <>
              <div className="bp-field">
                <label htmlFor={`${uid}-project`}>Project</label>
                <select id={`${uid}-project`} data-testid="export-project" value={pipelineProject} onChange={(e) => setPipelineProject(e.target.value)} disabled={projects === null}>
                  {projects === null && <option value={pipelineProject}>{pipelineProject || "Loading…"}</option>}
                  {projects?.length === 0 && <option value="">No project yet</option>}
                  {projects?.map((p) => (
                    <option key={p.id} value={p.id}>
                      {p.id}
                    </option>
                  ))}
                </select>
              </div>
              <div className="bp-field">
                <label htmlFor={`${uid}-env`}>Environment</label>
                <input
                  id={`${uid}-env`}
                  data-testid="export-env"
                  list={`${uid}-envs`}
                  value={env}
                  onChange={(e) => setEnv(e.target.value)}
                  placeholder="default: the one runs deploy to"
                  spellCheck={false}
                />
                <datalist id={`${uid}-envs`}>
                  {envs?.map((x) => (
                    <option key={x.name} value={x.name}>
                      {x.target.kind === "local" ? "local Docker engine" : "Kubernetes"}
                      {x.runs ? " (runs deploy here)" : ""}
                    </option>
                  ))}
                </datalist>
              </div>
            </>
          ) : (
            <div className="bp-field">
              <label htmlFor={`${uid}-bp`}>Blueprint project</label>
              <input
                id={`${uid}-bp`}
                data-testid="export-project"
                value={blueprintProject}
                onChange={(e) => setBlueprintProject(e.target.value)}
                placeholder="slipway"
                spellCheck={false}
              />
            </div>
          )}
          <button type="submit" className="primary" data-testid="export-submit" disabled={busy}>
            {busy ? <Spinner label="Exporting" /> : null} Export
          </button>
        </form>
        {hint && <p className="muted ex-hint">{hint}</p>}
        {pipeline && envs !== null && envs.length > 0 && (
          <p className="muted ex-hint" data-testid="export-env-names">
            Environments of {pipelineProject}: {envs.map((x) => x.name).join(", ")}
          </p>
        )}
        {loadError && <ErrorCallout error={loadError} testId="export-load-error" />}
        {error && <ErrorCallout error={error} testId="export-error" />}
        {result && (
          <div className="ex-result" data-testid="export-result" data-kind={result.kind}>
            {result.notes.length > 0 && (
              <ul className="ex-notes" data-testid="export-notes" aria-label="Notes">
                {result.notes.map((n) => (
                  <li key={n} data-testid="export-note">
                    {n}
                  </li>
                ))}
              </ul>
            )}
            <div className="ex-files-bar">
              <div className="pl-tabs ex-tabs" role="tablist" aria-label="Files" data-testid="export-files">
                {result.files.map((f, i) => (
                  <button
                    key={f.path}
                    type="button"
                    role="tab"
                    className="pl-tab"
                    aria-selected={f === file}
                    data-testid="export-file-tab"
                    data-path={f.path}
                    onClick={() => {
                      setTab(i);
                      setCopied(null);
                    }}
                  >
                    {f.path}
                  </button>
                ))}
              </div>
              <button type="button" data-testid="export-download" onClick={download}>
                Download
              </button>
              <button type="button" data-testid="export-copy" onClick={() => void copy()}>
                Copy
              </button>
              {copied && file && copied === file.path && (
                <span className="saved" data-testid="export-copied" role="status">
                  Copied.
                </span>
              )}
            </div>
            {copyError && <ErrorCallout error={copyError} testId="export-copy-error" />}
            {file && (
              <pre className="ex-content" data-testid="export-file-content" data-path={file.path} tabIndex={0} role="tabpanel" aria-label={file.path}>
                {file.content}
              </pre>
            )}
          </div>
        )}
      </div>
    </div>
  );
}
