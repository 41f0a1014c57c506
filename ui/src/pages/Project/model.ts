// Pure helpers of the Project page: the test command as one line of text (split like a shell,
// joined back with quotes where needed), and the editable form of a Project with the few checks
// that must pass before anything is sent. Every rule about values is the Rust side's
// (Project::validate, through save_project).

import type { Project } from "../../bindings/Project";
import type { UserError } from "../../bindings/UserError";

/**
 * Splits a command line into arguments like a POSIX shell would, without expanding anything:
 * whitespace separates, '…' is literal, "…" allows \" and \\, a backslash outside quotes keeps
 * the next character. An unclosed quote is an error.
 */
export function splitCommand(line: string): { args: string[] } | { error: string } {
  const args: string[] = [];
  let cur = "";
  let has = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) return { error: "a ' quote is not closed" };
      cur += line.slice(i + 1, end);
      has = true;
      i = end + 1;
    } else if (c === '"') {
      i += 1;
      let closed = false;
      while (i < line.length) {
        const d = line[i];
        if (d === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) {
          cur += line[i + 1];
          i += 2;
        } else if (d === '"') {
          closed = true;
          i += 1;
          break;
        } else {
          cur += d;
          i += 1;
        }
      }
      if (!closed) return { error: 'a " quote is not closed' };
      has = true;
    } else if (c === "\\" && i + 1 < line.length) {
      cur += line[i + 1];
      has = true;
      i += 2;
    } else if (/\s/.test(c)) {
      if (has) args.push(cur);
      cur = "";
      has = false;
      i += 1;
    } else {
      cur += c;
      has = true;
      i += 1;
    }
  }
  if (has) args.push(cur);
  return { args };
}

/** Joins arguments into one line that splitCommand turns back into the same arguments. */
export function joinCommand(args: string[]): string {
  return args.map((a) => (a !== "" && /^[A-Za-z0-9_@%+=:,./=-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

export type ServiceForm = { name: string; port: string; tests: boolean; testCommand: string };

export type ProjectForm = {
  id: string;
  gitRef: string;
  concurrency: string;
  replicas: string;
  /** "" = the default (the first service nothing depends on). */
  entry: string;
  services: ServiceForm[];
};

export function toForm(p: Project): ProjectForm {
  return {
    id: p.id,
    gitRef: p.gitRef,
    concurrency: String(p.concurrency),
    replicas: String(p.deploy.replicas),
    entry: p.deploy.entry ?? "",
    services: p.services.map((s) => ({
      name: s.name,
      port: s.port === null ? "" : String(s.port),
      tests: s.tests,
      testCommand: s.testCommand === null ? "" : joinCommand(s.testCommand),
    })),
  };
}

function notSaved(why: string, fix: string): { error: UserError } {
  return { error: { what: "Project not saved", why, fix } };
}

function whole(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}

/** The entry service NGINX fronts when none is set (as Project::entry_service picks it). */
export function defaultEntry(p: Project): string | null {
  const needed = new Set(p.services.flatMap((s) => s.dependsOn));
  return (p.services.find((s) => !needed.has(s.name)) ?? p.services[0])?.name ?? null;
}

/**
 * Applies the form to the project it was made from. Only what cannot even be sent is refused
 * here (a number that is not a whole number, a port out of range, an unclosed quote).
 */
export function fromForm(base: Project, f: ProjectForm): { project: Project } | { error: UserError } {
  const concurrency = whole(f.concurrency);
  if (concurrency === null) return notSaved(`concurrency: '${f.concurrency}' is not a whole number`, "Enter how many runs may go at once, e.g. 1");
  const replicas = whole(f.replicas);
  if (replicas === null) return notSaved(`replicas: '${f.replicas}' is not a whole number`, "Enter a whole number of replicas, e.g. 3");
  const services = [];
  for (const s of base.services) {
    const sf = f.services.find((x) => x.name === s.name);
    if (!sf) {
      services.push(s);
      continue;
    }
    let port: number | null = null;
    if (sf.port.trim() !== "") {
      port = whole(sf.port);
      if (port === null || port < 1 || port > 65535) {
        return notSaved(`${s.name}: port '${sf.port}' is not a port number`, "Enter a port from 1 to 65535, or leave it empty");
      }
    }
    const split = splitCommand(sf.testCommand);
    if ("error" in split) return notSaved(`${s.name}: in the test command, ${split.error}`, "Close the quote, or remove it");
    services.push({ ...s, port, tests: sf.tests, testCommand: split.args.length > 0 ? split.args : null });
  }
  return {
    project: {
      ...base,
      id: f.id.trim(),
      gitRef: f.gitRef.trim() || "HEAD",
      concurrency,
      deploy: {
        ...base.deploy,
        replicas,
        entry: f.entry === "" ? null : f.entry,
        // A person's choice replaces detection's reason.
        entryReason: (f.entry === "" ? null : f.entry) === base.deploy.entry ? base.deploy.entryReason : f.entry === "" ? null : "chosen on the Project page",
      },
      services,
    },
  };
}

/** Where the code is: the folder or URL, and the project's folder inside the repository when it has one. */
export function sourceText(p: Pick<Project, "source" | "subdir">): string {
  const where = p.source.kind === "path" ? p.source.path : p.source.url;
  return p.subdir ? `${where} (folder ${p.subdir})` : where;
}
