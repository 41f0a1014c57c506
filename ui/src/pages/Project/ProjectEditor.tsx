import { useId, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { CommittedSecret } from "../../bindings/CommittedSecret";
import type { Project } from "../../bindings/Project";
import type { ServiceSpec } from "../../bindings/ServiceSpec";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { defaultEntry, fromForm, sourceText, toForm, type ProjectForm, type ServiceForm } from "./model";

/** "this repository commits a database password in .env line 1 (MYSQL_PASSWORD)", as the Rust side words it. */
function secretText(c: CommittedSecret): string {
  return `this repository commits ${c.what} in ${c.file} line ${c.line} (${c.name})`;
}

/** The database's scripts in load order (DatabaseSpec::scripts). */
function schemaFiles(p: Project): string[] {
  const db = p.database;
  if (!db) return [];
  const v = db.schema ? [db.schema] : [];
  for (const f of db.schemaFiles) if (!v.includes(f)) v.push(f);
  return v;
}

/** What detection found, editable where a person may disagree with it, and Save. */
export function ProjectEditor({
  project,
  alreadySaved,
  onSaved,
}: {
  project: Project;
  alreadySaved: boolean;
  onSaved: (p: Project) => void;
}) {
  const uid = useId();
  const [form, setForm] = useState<ProjectForm>(() => toForm(project));
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<UserError | null>(null);

  const update = (patch: Partial<ProjectForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    setSaved(false);
  };
  const updateService = (name: string, patch: Partial<ServiceForm>) => {
    setForm((f) => ({ ...f, services: f.services.map((s) => (s.name === name ? { ...s, ...patch } : s)) }));
    setSaved(false);
  };

  async function save(e: FormEvent) {
    e.preventDefault();
    if (saving) return;
    const parsed = fromForm(project, form);
    if ("error" in parsed) {
      setError(parsed.error);
      return;
    }
    setSaving(true);
    setError(null);
    try {
      const p = await api.saveProject(parsed.project);
      setForm(toForm(p));
      setSaved(true);
      onSaved(p);
    } catch (err) {
      setError(err as UserError);
    } finally {
      setSaving(false);
    }
  }

  const auto = defaultEntry(project);

  return (
    <form className="panel project-detected" data-testid="project-detected" onSubmit={save} aria-label="Project">
      <div className="project-head">
        <h2>{alreadySaved ? `Project ${project.id}` : "Found in the repository"}</h2>
        <p className="hint">
          <code data-testid="project-source">{sourceText(project)}</code> · detected from{" "}
          <span data-testid="project-detected-from">{project.detectedFrom.length ? project.detectedFrom.join(", ") : "nothing"}</span>
        </p>
      </div>

      <div className="project-grid">
        <div className="bp-field">
          <label htmlFor={`${uid}-id`}>Project id</label>
          <input id={`${uid}-id`} data-testid="project-id" value={form.id} onChange={(e) => update({ id: e.target.value })} spellCheck={false} />
        </div>
        <div className="bp-field">
          <label htmlFor={`${uid}-ref`}>Git ref to run</label>
          <input
            id={`${uid}-ref`}
            data-testid="project-git-ref"
            value={form.gitRef}
            onChange={(e) => update({ gitRef: e.target.value })}
            placeholder="HEAD"
            spellCheck={false}
          />
        </div>
        <div className="bp-field">
          <label htmlFor={`${uid}-conc`}>Runs at once</label>
          <input
            id={`${uid}-conc`}
            data-testid="project-concurrency"
            value={form.concurrency}
            inputMode="numeric"
            onChange={(e) => update({ concurrency: e.target.value })}
          />
        </div>
        <div className="bp-field">
          <label htmlFor={`${uid}-rep`}>Replicas per service</label>
          <input
            id={`${uid}-rep`}
            data-testid="project-replicas"
            value={form.replicas}
            inputMode="numeric"
            onChange={(e) => update({ replicas: e.target.value })}
          />
        </div>
        <div className="bp-field">
          <label htmlFor={`${uid}-entry`}>Entry service (behind NGINX)</label>
          <select id={`${uid}-entry`} data-testid="project-entry" value={form.entry} onChange={(e) => update({ entry: e.target.value })}>
            <option value="">automatic{auto ? ` (${auto})` : ""}</option>
            {project.services.map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </select>
          {project.deploy.entryReason && form.entry === (project.deploy.entry ?? "") && (
            <p className="hint" data-testid="project-entry-reason">
              Why: {project.deploy.entryReason}
            </p>
          )}
        </div>
      </div>

      {project.committedSecrets.length > 0 && (
        <div className="warn-note" role="note" data-testid="project-committed-secrets">
          <strong>Secrets committed in the repository</strong>
          <ul className="plain-list">
            {project.committedSecrets.map((c) => (
              <li key={`${c.file}:${c.line}:${c.name}`} data-testid="project-committed-secret">
                {secretText(c)}
              </li>
            ))}
          </ul>
          <span className="hint">
            Move them to the keychain on the <a href={`#/deployments?project=${encodeURIComponent(project.id)}`}>Deployments page</a> (Configuration) or with <code>slipway env config move-secrets</code>, then remove them from the repository.
          </span>
        </div>
      )}

      <h3>Services</h3>
      <div className="service-list">
        {project.services.map((s) => (
          <ServiceCard
            key={s.name}
            spec={s}
            form={form.services.find((x) => x.name === s.name)!}
            onChange={(patch) => updateService(s.name, patch)}
          />
        ))}
      </div>

      <h3>Database</h3>
      {project.database ? (
        <dl className="facts" data-testid="project-database">
          <dt>Service</dt>
          <dd>{project.database.name}</dd>
          <dt>Image</dt>
          <dd>
            <code>{project.database.image}</code>
          </dd>
          <dt>Engine</dt>
          <dd data-testid="project-database-engine">{project.database.engine === "postgres" ? "PostgreSQL" : "MySQL"}</dd>
          <dt>Schema</dt>
          <dd>
            {schemaFiles(project).length ? (
              schemaFiles(project).map((f) => (
                <code key={f} className="chip">
                  {f}
                </code>
              ))
            ) : (
              <span className="muted">none</span>
            )}
          </dd>
          <dt>Database</dt>
          <dd>
            {project.database.database} (user {project.database.user})
          </dd>
        </dl>
      ) : (
        <p className="muted" data-testid="project-database">
          No database found (no database image, database URL or schema folder).
        </p>
      )}

      <h3>Kubernetes manifests</h3>
      {project.manifests.length ? (
        <ul className="plain-list" data-testid="project-manifests">
          {project.manifests.map((m) => (
            <li key={m}>
              <code>{m}</code>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted" data-testid="project-manifests">
          None found.
        </p>
      )}

      <h3>Environment variables the code reads</h3>
      {project.envVars.length ? (
        <p className="chips" data-testid="project-env-vars">
          {project.envVars.map((v) => (
            <code key={v} className="chip">
              {v}
            </code>
          ))}
        </p>
      ) : (
        <p className="muted" data-testid="project-env-vars">
          None found.
        </p>
      )}

      <h3>What was found, and where</h3>
      {project.facts.length ? (
        <ul className="plain-list project-facts" data-testid="project-facts">
          {project.facts.map((f, i) => (
            <li key={i} data-testid="project-fact" data-topic={f.topic}>
              <span className="chip">{f.topic}</span> <strong>{f.subject}</strong>: {f.text}
              {f.source && <span className="muted" data-testid="project-fact-source"> (from {f.source})</span>}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted" data-testid="project-facts">
          Nothing recorded.
        </p>
      )}

      {error && <ErrorCallout error={error} testId="project-save-error" />}
      <div className="actions">
        <button type="submit" className="primary" data-testid="project-save" disabled={saving}>
          {saving ? <Spinner label="Saving" /> : null} Save project
        </button>
        {saved && (
          <span className="saved" role="status" data-testid="project-saved">
            Saved. <a href={`#/pipelines?project=${encodeURIComponent(form.id.trim())}`}>Run it on the Pipelines page</a>
          </span>
        )}
      </div>
    </form>
  );
}

function ServiceCard({ spec, form, onChange }: { spec: ServiceSpec; form: ServiceForm; onChange: (p: Partial<ServiceForm>) => void }) {
  const uid = useId();
  const env = Object.entries(spec.env);
  return (
    <section className="service-card" data-testid="service" data-service={spec.name} aria-label={`Service ${spec.name}`}>
      <div className="service-head">
        <strong>{spec.name}</strong>
        {spec.language && <span className="chip">{spec.language}</span>}
      </div>
      <dl className="facts">
        <dt>Build</dt>
        <dd data-testid="service-build">
          <code>{spec.context === "." ? spec.dockerfile : `${spec.context}/${spec.dockerfile}`}</code>{" "}
          <span className="muted">(context {spec.context})</span>
        </dd>
        <dt>Depends on</dt>
        <dd data-testid="service-depends">{spec.dependsOn.length ? spec.dependsOn.join(", ") : <span className="muted">nothing</span>}</dd>
        <dt>Health check</dt>
        <dd>{spec.healthPath ? <code>GET {spec.healthPath}</code> : <span className="muted">the port accepting connections</span>}</dd>
        <dt>Environment</dt>
        <dd data-testid="service-env">
          {env.length ? (
            <span className="chips">
              {env.map(([k, v]) => (
                <code key={k} className="chip" title={v}>
                  {k}={v}
                </code>
              ))}
            </span>
          ) : (
            <span className="muted">none</span>
          )}
        </dd>
      </dl>
      <div className="service-edit">
        <div className="bp-field service-port">
          <label htmlFor={`${uid}-port`}>Port</label>
          <input
            id={`${uid}-port`}
            data-testid="service-port"
            value={form.port}
            inputMode="numeric"
            placeholder="none"
            onChange={(e) => onChange({ port: e.target.value })}
          />
        </div>
        <label className="checkbox">
          <input type="checkbox" data-testid="service-tests" checked={form.tests} onChange={(e) => onChange({ tests: e.target.checked })} />
          Run its tests
        </label>
        {form.tests ? (
          <div className="bp-field service-test">
            <label htmlFor={`${uid}-test`}>Test command (run inside its image)</label>
            <input
              id={`${uid}-test`}
              data-testid="service-test-command"
              value={form.testCommand}
              placeholder="no test command found"
              spellCheck={false}
              onChange={(e) => onChange({ testCommand: e.target.value })}
            />
            {form.testCommand.trim() === "" && (
              <p className="warn-note" data-testid="service-no-test-command">
                No test command: the Test stage will fail. Enter one, or turn tests off to skip them knowingly.
              </p>
            )}
          </div>
        ) : (
          <p className="muted" data-testid="service-no-tests">
            no tests
          </p>
        )}
      </div>
    </section>
  );
}
