import { useCallback, useEffect, useId, useState, type FormEvent } from "react";

import { api } from "../../api";
import type { JenkinsConnection } from "../../bindings/JenkinsConnection";
import type { JenkinsJob } from "../../bindings/JenkinsJob";
import type { UserError } from "../../bindings/UserError";
import { ErrorCallout } from "../../components/ErrorCallout";
import { Spinner } from "../../components/Spinner";
import { JenkinsJobView } from "./JenkinsJobView";
import { JOB_STATUS_LABEL, cleanFolder, folderCrumbs, jobPath, jobStatus } from "./jenkinsModel";
import "./jenkins.css";

/** The Jenkins tab: the connected server's jobs (folders navigable), a job's builds, a build's stages and console. */
export function JenkinsPanel() {
  const [conn, setConn] = useState<JenkinsConnection | null | undefined>(undefined);
  const [connError, setConnError] = useState<UserError | null>(null);

  useEffect(() => {
    let cancelled = false;
    api.jenkinsConnection().then(
      (c) => {
        if (!cancelled) setConn(c);
      },
      (e: UserError) => {
        if (!cancelled) setConnError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, []);

  if (connError) return <ErrorCallout error={connError} testId="jenkins-connection-error" />;
  if (conn === undefined) {
    return (
      <p className="muted">
        <Spinner label="Loading" /> Reading the Jenkins connection…
      </p>
    );
  }
  if (conn === null) {
    return (
      <div className="panel" data-testid="jenkins-not-connected">
        <p>Jenkins is not connected: Slipway shows a Jenkins server&apos;s jobs, builds, live stage view and console here once it knows the server.</p>
        <p>
          <a href="#/connect">Connect Jenkins on the Connect page</a> with its address, your user and an API token (or{" "}
          <code>slipway jenkins connect --url URL --user USER</code>).
        </p>
      </div>
    );
  }
  return <JenkinsJobs conn={conn} />;
}

function JenkinsJobs({ conn }: { conn: JenkinsConnection }) {
  const uid = useId();
  const [folder, setFolder] = useState("");
  const [folderInput, setFolderInput] = useState("");
  const [jobs, setJobs] = useState<JenkinsJob[] | null>(null);
  const [jobsError, setJobsError] = useState<UserError | null>(null);
  const [loading, setLoading] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);

  const load = useCallback(async (f: string, quiet = false) => {
    if (!quiet) setLoading(true);
    try {
      const list = await api.jenkinsJobs(f === "" ? null : f);
      setJobs(list);
      setJobsError(null);
    } catch (e) {
      setJobsError(e as UserError);
      if (!quiet) setJobs(null);
    } finally {
      if (!quiet) setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load(folder);
  }, [folder, load]);

  function open(f: string) {
    const clean = cleanFolder(f);
    setFolder(clean);
    setFolderInput(clean);
    setJobs(null);
  }

  function go(e: FormEvent) {
    e.preventDefault();
    open(folderInput);
  }

  const crumbs = folderCrumbs(folder);
  const quietReload = useCallback(() => void load(folder, true), [load, folder]);

  return (
    <div className="jk" data-testid="jenkins-panel">
      <div className="pl-toolbar jk-toolbar">
        <p className="jk-server" data-testid="jenkins-server">
          Jenkins at <code>{conn.url}</code> as <strong>{conn.user}</strong>
        </p>
        <form className="jk-folder-form" onSubmit={go} aria-label="Open a folder">
          <div className="bp-field">
            <label htmlFor={`${uid}-folder`}>Folder</label>
            <input
              id={`${uid}-folder`}
              data-testid="jenkins-folder"
              value={folderInput}
              onChange={(e) => setFolderInput(e.target.value)}
              placeholder="empty: the top; folders as team/sub"
              spellCheck={false}
            />
          </div>
          <button type="submit" data-testid="jenkins-folder-go">
            Open
          </button>
        </form>
        <button type="button" data-testid="jenkins-refresh" onClick={() => void load(folder)} disabled={loading}>
          {loading ? <Spinner label="Loading jobs" /> : null} Refresh
        </button>
      </div>

      <div className="jk-layout">
        <section className="jk-jobs panel" aria-label="Jobs">
          <nav className="jk-crumbs" aria-label="Folder" data-testid="jenkins-breadcrumb">
            {folder === "" ? (
              <span aria-current="location">All jobs</span>
            ) : (
              <button type="button" className="link" onClick={() => open("")}>
                All jobs
              </button>
            )}
            {crumbs.map((c, i) => (
              <span key={c.path}>
                <span className="jk-crumb-sep" aria-hidden="true">
                  /
                </span>
                {i === crumbs.length - 1 ? (
                  <span aria-current="location">{c.name}</span>
                ) : (
                  <button type="button" className="link" onClick={() => open(c.path)}>
                    {c.name}
                  </button>
                )}
              </span>
            ))}
          </nav>
          {folder !== "" && (
            <button type="button" className="jk-up" data-testid="jenkins-folder-up" onClick={() => open(folder.split("/").slice(0, -1).join("/"))}>
              ↑ Up
            </button>
          )}
          {jobsError && <ErrorCallout error={jobsError} testId="jenkins-jobs-error" />}
          {jobs === null && !jobsError && (
            <p className="muted">
              <Spinner label="Loading jobs" /> Loading jobs…
            </p>
          )}
          {jobs !== null && jobs.length === 0 && (
            <p className="muted" data-testid="jenkins-jobs-empty">
              {folder === "" ? "This Jenkins has no jobs yet." : `No job in ${folder}.`}
            </p>
          )}
          {jobs !== null && jobs.length > 0 && (
            <ul className="jk-job-list" data-testid="jenkins-jobs">
              {jobs.map((j) => {
                const full = jobPath(folder, j.name);
                const { status, building } = jobStatus(j);
                const isFolder = status === "folder";
                const sel = full === selected;
                return (
                  <li key={j.name}>
                    <button
                      type="button"
                      className={`jk-job jk-status-${status}${building ? " jk-building" : ""}${sel ? " jk-job-selected" : ""}`}
                      data-testid="jenkins-job"
                      data-job={full}
                      data-status={status}
                      data-building={building ? "true" : "false"}
                      aria-pressed={isFolder ? undefined : sel}
                      onClick={() => (isFolder ? open(full) : setSelected(full))}
                      title={isFolder ? `Open folder ${full}` : `${JOB_STATUS_LABEL[status]}${building ? ", building" : ""}`}
                    >
                      <span className="jk-ball" aria-hidden="true" />
                      <span className="jk-job-name">{j.name}</span>
                      <span className="jk-job-state" data-testid="jenkins-job-status">
                        {isFolder ? "folder" : `${JOB_STATUS_LABEL[status]}${building ? " · building" : ""}`}
                      </span>
                      {j.lastBuild !== null && <span className="jk-job-last">#{j.lastBuild}</span>}
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
        </section>

        <div className="jk-main">
          {selected === null ? (
            <p className="muted jk-pick">Pick a job to see its builds.</p>
          ) : (
            <JenkinsJobView
              key={selected}
              job={selected}
              disabled={jobs?.some((j) => jobPath(folder, j.name) === selected && jobStatus(j).status === "disabled") ?? false}
              onChanged={quietReload}
            />
          )}
        </div>
      </div>
    </div>
  );
}
