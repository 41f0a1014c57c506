//! Detection of a project in a checked-out folder, the way a person would read the repository:
//! the compose file (with `.env`, env files and interpolation) or the Dockerfiles; each
//! service's language, port and tests; the database (an image service, a Dockerfile `FROM
//! mysql`, database URLs in the environment, a `db/`, `database/` or `sql/` folder); the entry
//! service (the one an NGINX config proxies to, else the one serving HTML or calling the others);
//! Kubernetes manifests in any folder; the settings and the secrets the repository commits.
//! Every fact records its source.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::compose::{self, find_line, words, yaml_line, ComposeDoc, EnvValue};
use super::dburl::{self, DbEngine};
use super::project::*;
use crate::UserError;

/// A detection with the secret values it read (never stored).
#[derive(Debug, Clone)]
pub struct Detected {
    pub project: Project,
    /// The repository's values of the services' secret variables: (service, variable) -> value.
    pub secrets: BTreeMap<(String, String), String>,
}

const COMPOSE_FILES: [&str; 4] = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];
const SKIP_DIRS: [&str; 9] = [".git", "node_modules", "target", ".venv", "venv", "__pycache__", "dist", "build", ".tox"];
const SCHEMA_DIRS: [&str; 3] = ["db", "database", "sql"];
const INITDB: &str = "/docker-entrypoint-initdb.d";

/// Detects the project in a repository folder (its files as they are). The project is
/// validated; secret values are not in it.
pub fn detect(root: &Path, id: &str, source: Source) -> Result<Project, UserError> {
    detect_full(root, id, source, &BTreeMap::new()).map(|d| d.project)
}

/// Detects the project; `vars` win over `.env` in the compose file's interpolation (an
/// environment's settings).
pub fn detect_full(root: &Path, id: &str, source: Source, vars: &BTreeMap<String, String>) -> Result<Detected, UserError> {
    let d = detect_inner(root, id, source, vars, None)?;
    d.project.validate()?;
    Ok(d)
}

/// The repository's values of a project's secret variables in a checkout: (service,
/// variable) -> value. `vars` are the environment's settings (they win over `.env`).
pub fn secret_values(repo: &Path, project: &Project, vars: &BTreeMap<String, String>) -> Result<BTreeMap<(String, String), String>, UserError> {
    // A checkout's folder is named after the run: a service at the root keeps its name.
    let root_service = project.services.iter().find(|s| s.context == ".").map(|s| s.name.as_str());
    Ok(detect_inner(repo, &project.id, project.source.clone(), vars, root_service)?.secrets)
}

fn rel_path(root: &Path, p: &Path) -> String {
    match p.strip_prefix(root) {
        Ok(r) if r.as_os_str().is_empty() => ".".into(),
        Ok(r) => r.to_string_lossy().replace('\\', "/"),
        Err(_) => p.to_string_lossy().into_owned(),
    }
}

fn dir_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "app".into())
}

pub(crate) fn find_files(root: &Path, depth: usize, want: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out = vec![];
    fn walk(dir: &Path, depth: usize, want: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        let mut entries: Vec<_> = rd.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if depth > 0 && !SKIP_DIRS.contains(&name.as_str()) {
                    walk(&e.path(), depth - 1, want, out);
                }
            } else if ft.is_file() && want(&name) {
                out.push(e.path());
            }
        }
    }
    walk(root, depth, want, &mut out);
    out
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

// --- Dockerfiles ------------------------------------------------------------------------------

/// What Slipway reads from a Dockerfile (its final stage).
#[derive(Debug, Default, Clone)]
pub struct DockerfileInfo {
    /// The final stage's base image (ARG defaults resolved).
    pub from: String,
    pub from_line: usize,
    pub entrypoint: Option<Vec<String>>,
    pub entrypoint_line: usize,
    pub cmd: Option<Vec<String>>,
    pub expose: Option<u16>,
    /// Sources of COPY/ADD into /docker-entrypoint-initdb.d (relative to the context).
    pub initdb: Vec<String>,
    pub initdb_line: usize,
    pub env: Vec<(String, String, usize)>,
}

fn exec_form(rest: &str) -> Vec<String> {
    let t = rest.trim();
    if t.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<String>>(t) {
            return v;
        }
    }
    vec!["/bin/sh".into(), "-c".into(), t.to_string()]
}

pub fn parse_dockerfile(text: &str) -> DockerfileInfo {
    let mut info = DockerfileInfo::default();
    let mut args: BTreeMap<String, String> = BTreeMap::new();
    // Join continuation lines, keeping the first line number.
    let mut instrs: Vec<(usize, String)> = vec![];
    let mut cur: Option<(usize, String)> = None;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if cur.is_none() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        if cur.is_some() && t.starts_with('#') {
            continue;
        }
        let (start, mut acc) = cur.take().unwrap_or((i + 1, String::new()));
        if let Some(body) = t.strip_suffix('\\') {
            acc.push_str(body);
            acc.push(' ');
            cur = Some((start, acc));
        } else {
            acc.push_str(t);
            instrs.push((start, acc));
        }
    }
    if let Some(c) = cur {
        instrs.push(c);
    }
    let expand = |s: &str, args: &BTreeMap<String, String>| compose::interpolate(s, &|n| args.get(n).cloned()).map(|r| r.value).unwrap_or_else(|_| s.to_string());
    for (line, ins) in instrs {
        let (kw, rest) = ins.split_once(char::is_whitespace).unwrap_or((ins.as_str(), ""));
        let rest = rest.trim();
        match kw.to_ascii_uppercase().as_str() {
            "ARG" => {
                if let Some((k, v)) = rest.split_once('=') {
                    args.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
                }
            }
            "FROM" => {
                let img = rest.split_whitespace().find(|w| !w.starts_with("--")).unwrap_or("").to_string();
                info = DockerfileInfo { from: expand(&img, &args), from_line: line, ..Default::default() };
            }
            "ENTRYPOINT" => {
                info.entrypoint = Some(exec_form(rest));
                info.entrypoint_line = line;
            }
            "CMD" => info.cmd = Some(exec_form(rest)),
            "EXPOSE" if info.expose.is_none() => {
                info.expose = rest.split_whitespace().next().and_then(|p| p.split('/').next()).and_then(|p| expand(p, &args).parse().ok());
            }
            "ENV" => {
                if rest.contains('=') {
                    for w in words(rest) {
                        if let Some((k, v)) = w.split_once('=') {
                            info.env.push((k.to_string(), v.to_string(), line));
                        }
                    }
                } else if let Some((k, v)) = rest.split_once(char::is_whitespace) {
                    info.env.push((k.to_string(), v.trim().to_string(), line));
                }
            }
            "COPY" | "ADD" => {
                let ws: Vec<String> = if rest.trim_start().starts_with('[') {
                    serde_json::from_str(rest).unwrap_or_default()
                } else {
                    words(rest)
                };
                let ws: Vec<String> = ws.into_iter().filter(|w| !w.starts_with("--")).collect();
                if ws.len() >= 2 && ws.last().is_some_and(|d| d.trim_end_matches('/').starts_with(INITDB)) {
                    let dest = ws.last().cloned().unwrap_or_default();
                    for src in &ws[..ws.len() - 1] {
                        let s = src.trim_start_matches("./").to_string();
                        // `COPY x.sql /docker-entrypoint-initdb.d/01.sql` keeps its order by the
                        // destination's name; the source is what Slipway loads.
                        let _ = &dest;
                        info.initdb.push(if s.is_empty() { ".".into() } else { s });
                    }
                    info.initdb_line = line;
                }
            }
            _ => {}
        }
    }
    info
}

// --- secrets ----------------------------------------------------------------------------------

/// What a value is when it looks secret: "a database password", "a secret key", ... None for
/// a value that does not.
pub fn secret_kind(name: &str, value: &str) -> Option<&'static str> {
    if value.trim().is_empty() {
        return None;
    }
    if dburl::has_credentials(value) {
        return Some(if dburl::parse(value).is_some() { "a database URL with its password" } else { "a URL with a password" });
    }
    let up = name.to_ascii_uppercase();
    let parts: Vec<&str> = up.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()).collect();
    let has = |w: &str| parts.contains(&w);
    let dbish = ["DB", "MYSQL", "POSTGRES", "MARIADB", "PG", "DATABASE", "SQL"].iter().any(|w| has(w) || up.starts_with(w));
    if has("PASSWORD") || has("PASSWD") || has("PWD") || has("PASS") || up.ends_with("PASSWORD") {
        return Some(if dbish { "a database password" } else { "a password" });
    }
    if has("SECRET") || up.contains("SECRET") {
        return Some(if has("KEY") || up.contains("KEY") { "a secret key" } else { "a secret" });
    }
    if has("TOKEN") || up.ends_with("TOKEN") {
        return Some("a token");
    }
    if has("KEY") || up.ends_with("APIKEY") || up.ends_with("_KEY") || has("CREDENTIALS") {
        return Some("a key");
    }
    None
}

// --- the detection ----------------------------------------------------------------------------

/// A database found while reading the repository.
#[derive(Debug, Default, Clone)]
struct DbFound {
    name: String,
    image: String,
    engine: DbEngine,
    scripts: Vec<String>,
    database: Option<String>,
    user: Option<String>,
    aliases: Vec<String>,
    source: String,
    schema_source: String,
}

struct Ctx<'a> {
    root: &'a Path,
    p: Project,
    secrets: BTreeMap<(String, String), String>,
    /// Every service variable as read, with its source: (service, value).
    env: Vec<(String, EnvValue)>,
    db: Option<DbFound>,
    /// Compose names of skipped or ignored services (never dependencies of Slipway's).
    ignored: BTreeSet<String>,
    /// Compose service name -> Slipway service name.
    renamed: BTreeMap<String, String>,
}

impl Ctx<'_> {
    fn fact(&mut self, topic: &str, subject: &str, text: impl Into<String>, source: impl Into<String>) {
        let f = Fact::new(topic, subject, text, source);
        if !self.p.facts.contains(&f) {
            self.p.facts.push(f);
        }
    }

    fn committed(&mut self, name: &str, what: &str, file: &str, line: usize) {
        let c = CommittedSecret { name: name.into(), what: what.into(), file: file.into(), line: line as u32 };
        if !self.p.committed_secrets.iter().any(|x| x.file == c.file && x.line == c.line && x.name == c.name) {
            let msg = c.message();
            self.p.committed_secrets.push(c);
            self.fact("secret", name, msg, format!("{file} line {line}"));
        }
    }
}

fn detect_inner(root: &Path, id: &str, source: Source, vars: &BTreeMap<String, String>, root_service: Option<&str>) -> Result<Detected, UserError> {
    if !root.is_dir() {
        return Err(detect_error(format!("{} is not a folder", root.display()), "Check the repository path"));
    }
    super::confine::check_detect_inputs(root)?;
    let p = Project { id: id.to_string(), source, git_ref: "HEAD".into(), concurrency: 1, ..Default::default() };
    let mut cx = Ctx { root, p, secrets: BTreeMap::new(), env: vec![], db: None, ignored: BTreeSet::new(), renamed: BTreeMap::new() };
    if let Some(f) = COMPOSE_FILES.iter().find(|f| root.join(f).is_file()) {
        let doc = compose::load(root, f, vars)?;
        cx.p.compose_file = Some(f.to_string());
        cx.p.detected_from.push(f.to_string());
        from_compose(&mut cx, &doc)?;
    }
    if cx.p.services.is_empty() {
        from_dockerfiles(&mut cx, root_service);
    }
    for i in 0..cx.p.services.len() {
        service_facts(&mut cx, i);
    }
    database(&mut cx);
    settings(&mut cx);
    cx.p.manifests = manifests(&mut cx);
    cx.p.env_vars = env_vars(root, &cx.p);
    let toml_path = root.join("slipway.toml");
    if toml_path.is_file() {
        let text = std::fs::read_to_string(&toml_path).map_err(|e| detect_error(format!("cannot read slipway.toml: {e}"), "Check the file's permissions"))?;
        apply_overrides(&mut cx.p, &text)?;
        cx.p.detected_from.push("slipway.toml".into());
        // Values slipway.toml writes are the repository's too.
        let overrides: Vec<(String, String, String)> = cx.p.services.iter().flat_map(|s| s.env.iter().map(move |(k, v)| (s.name.clone(), k.clone(), v.clone()))).collect();
        for (svc, k, v) in overrides {
            if let Some(what) = secret_kind(&k, &v) {
                if cx.env.iter().any(|(s, e)| s == &svc && e.name == k && e.value == v) {
                    continue;
                }
                let line = find_line(&text, 1, &k).unwrap_or(1);
                cx.committed(&k, what, "slipway.toml", line);
                cx.secrets.insert((svc.clone(), k.clone()), v);
                if let Some(s) = cx.p.services.iter_mut().find(|s| s.name == svc) {
                    s.env.remove(&k);
                    if !s.secret_env.contains(&k) {
                        s.secret_env.push(k);
                    }
                }
            }
        }
    }
    if cx.p.services.is_empty() {
        return Err(detect_error(
            format!("no Dockerfile and no compose service with a build section in {}", root.display()),
            "Add a Dockerfile for each service (or a compose file), or list the services in slipway.toml",
        ));
    }
    entry(&mut cx);
    cx.p.services.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Detected { project: cx.p, secrets: cx.secrets })
}

fn depends_list(d: &docker_compose_types::DependsOnOptions) -> Vec<(String, String)> {
    match d {
        docker_compose_types::DependsOnOptions::Simple(v) => v.iter().map(|n| (n.clone(), "service_started".to_string())).collect(),
        docker_compose_types::DependsOnOptions::Conditional(m) => m.iter().map(|(n, c)| (n.clone(), c.condition.clone())).collect(),
    }
}

fn command_words(c: &docker_compose_types::Command) -> Vec<String> {
    match c {
        docker_compose_types::Command::Simple(s) => words(s),
        docker_compose_types::Command::Args(v) => v.clone(),
    }
}

fn health_of(h: &docker_compose_types::Healthcheck) -> Option<ServiceHealth> {
    if h.disable {
        return None;
    }
    let test = match h.test.as_ref()? {
        docker_compose_types::HealthcheckTest::Single(s) => vec!["CMD-SHELL".to_string(), s.clone()],
        docker_compose_types::HealthcheckTest::Multiple(v) => v.clone(),
    };
    if test.first().map(String::as_str) == Some("NONE") {
        return None;
    }
    let ms = |v: &Option<String>, d: u64| v.as_deref().and_then(compose::duration_ms).unwrap_or(d).min(u32::MAX as u64) as u32;
    Some(ServiceHealth {
        test,
        interval_ms: ms(&h.interval, 30_000),
        timeout_ms: ms(&h.timeout, 30_000),
        retries: if h.retries > 0 { h.retries as u32 } else { 3 },
        start_period_ms: ms(&h.start_period, 0),
    })
}

/// The container port of a compose `ports` entry: "8000", "8080:80", "127.0.0.1:8080:80/tcp".
fn short_port(s: &str) -> Option<u16> {
    let s = s.split('/').next().unwrap_or(s);
    s.rsplit(':').next().and_then(|p| p.split('-').next()).and_then(|p| p.trim().parse().ok())
}

fn db_env(env: &[EnvValue], keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| env.iter().rev().find(|e| e.name == *k).map(|e| e.value.clone())).filter(|v| !v.is_empty())
}

/// Scripts a compose database service loads from its volumes (`./db:/docker-entrypoint-initdb.d`
/// or a single file there), relative to the repository root.
fn initdb_volumes(root: &Path, volumes: &[String]) -> Vec<String> {
    let mut out = vec![];
    for v in volumes {
        let mut parts = v.splitn(3, ':');
        let (Some(host), Some(target)) = (parts.next(), parts.next()) else { continue };
        if !target.starts_with(INITDB) || !(host.starts_with('.') || host.starts_with('/') || host.contains('/')) {
            continue;
        }
        let host = compose::join_rel("", host);
        out.extend(scripts_at(root, &host));
    }
    out
}

/// The SQL and shell scripts at a path (a file, or a folder's files in name order).
fn scripts_at(root: &Path, rel: &str) -> Vec<String> {
    let full = root.join(rel);
    if full.is_file() {
        return vec![rel.to_string()];
    }
    if full.is_dir() {
        return find_files(&full, 0, &|n| n.ends_with(".sql") || n.ends_with(".sh") || n.ends_with(".sql.gz")).iter().map(|f| rel_path(root, f)).collect();
    }
    vec![]
}

fn from_compose(cx: &mut Ctx, doc: &ComposeDoc) -> Result<(), UserError> {
    let f = doc.file.clone();
    for (msg, src) in &doc.warnings {
        cx.fact("warning", "compose", msg.clone(), src.clone());
    }
    for cs in &doc.services {
        let src = |key: &str| if key.is_empty() { format!("{f} services.{}", cs.name) } else { format!("{f} services.{}.{key}", cs.name) };
        if !cs.svc.profiles.is_empty() {
            cx.ignored.insert(cs.name.clone());
            cx.fact("service", &cs.name, format!("not started: only in the profile {} (compose starts it only when asked)", cs.svc.profiles.join(", ")), src("profiles"));
            continue;
        }
        let image = cs.svc.image.clone();
        let (context, dockerfile, args) = match &cs.svc.build_ {
            Some(docker_compose_types::BuildStep::Simple(c)) => (Some(c.clone()), None, BTreeMap::new()),
            Some(docker_compose_types::BuildStep::Advanced(b)) => {
                let args = match &b.args {
                    Some(docker_compose_types::BuildArgs::KvPair(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    Some(docker_compose_types::BuildArgs::List(l)) => l.iter().map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).unwrap_or((kv.clone(), String::new()))).collect(),
                    Some(docker_compose_types::BuildArgs::Simple(s)) => s.split_once('=').map(|(k, v)| BTreeMap::from([(k.to_string(), v.to_string())])).unwrap_or_default(),
                    None => BTreeMap::new(),
                };
                (Some(b.context.clone()), b.dockerfile.clone(), args)
            }
            None => (None, None, BTreeMap::new()),
        };
        match context {
            Some(ctx) => {
                let ctx = compose::join_rel("", &ctx);
                let dockerfile = dockerfile.unwrap_or_else(|| "Dockerfile".into());
                let df_rel = compose::join_rel(&ctx, &dockerfile);
                let info = parse_dockerfile(&read(&cx.root.join(&df_rel)));
                if let Some(engine) = DbEngine::of_image(&info.from) {
                    // A database built from the repository: Slipway provides the engine and
                    // loads the scripts the Dockerfile copies.
                    let mut scripts = vec![];
                    for s in &info.initdb {
                        scripts.extend(scripts_at(cx.root, &compose::join_rel(&ctx, s)));
                    }
                    scripts.extend(initdb_volumes(cx.root, &cs.volumes));
                    let dfenv: Vec<EnvValue> = info.env.iter().map(|(k, v, l)| EnvValue { name: k.clone(), value: v.clone(), file: df_rel.clone(), line: *l, vars: vec![] }).collect();
                    let mut all_env = dfenv;
                    all_env.extend(cs.env.iter().cloned());
                    db_service(cx, cs, &all_env, &info.from, engine, scripts, format!("{df_rel} line {} (FROM {})", info.from_line, info.from), if info.initdb.is_empty() { src("volumes") } else { format!("{df_rel} line {}", info.initdb_line) });
                    continue;
                }
                let name = id_from_name(&cs.name);
                if name != cs.name {
                    cx.renamed.insert(cs.name.clone(), name.clone());
                }
                let mut s = ServiceSpec::new(name.clone(), ctx.clone());
                s.dockerfile = dockerfile;
                s.build_args = args;
                s.image = image.clone();
                s.port = match &cs.svc.ports {
                    docker_compose_types::Ports::Short(v) => v.iter().find_map(|p| short_port(p)),
                    docker_compose_types::Ports::Long(v) => v.first().map(|p| p.target),
                }
                .or_else(|| cs.svc.expose.iter().find_map(|e| short_port(e)));
                if let Some(port) = s.port {
                    cx.fact("service", &name, format!("listens on port {port}"), src("ports"));
                }
                for a in [Some(cs.name.clone()), cs.svc.container_name.clone(), cs.svc.hostname.clone()].into_iter().flatten() {
                    if a != name && !s.aliases.contains(&a) {
                        s.aliases.push(a);
                    }
                }
                if let Some(c) = &cs.svc.container_name {
                    cx.fact("service", &name, format!("also reached as {c} (container_name)"), src("container_name"));
                }
                s.command = cs.svc.command.as_ref().map(command_words);
                if let Some(c) = &s.command {
                    cx.fact("service", &name, format!("runs `{}` (command)", c.join(" ")), src("command"));
                }
                s.entrypoint = cs.svc.entrypoint.as_ref().map(|e| match e {
                    docker_compose_types::Entrypoint::Simple(s) => words(s),
                    docker_compose_types::Entrypoint::List(v) => v.clone(),
                });
                if let Some(e) = &s.entrypoint {
                    cx.fact("service", &name, format!("entrypoint `{}` (compose)", e.join(" ")), src("entrypoint"));
                }
                s.healthcheck = cs.svc.healthcheck.as_ref().and_then(health_of);
                if let Some(h) = &s.healthcheck {
                    cx.fact("service", &name, format!("health check: {}", h.test.join(" ")), src("healthcheck"));
                }
                for (d, cond) in depends_list(&cs.svc.depends_on) {
                    s.depends_on.push(d.clone());
                    s.depends_conditions.insert(d.clone(), cond.clone());
                    cx.fact("service", &name, format!("depends on {d} ({cond})"), src("depends_on"));
                }
                cx.fact("service", &name, format!("built from {df_rel}{}", image.as_ref().map(|i| format!(", tagged {i}")).unwrap_or_default()), src("build"));
                for e in &cs.env {
                    cx.env.push((name.clone(), e.clone()));
                }
                for ef in &cs.env_files {
                    cx.fact("setting", &name, format!("reads {ef} (env_file)"), src("env_file"));
                }
                cx.p.services.push(s);
            }
            None => {
                let img = image.unwrap_or_default();
                if let Some(engine) = DbEngine::of_image(&img) {
                    let scripts = initdb_volumes(cx.root, &cs.volumes);
                    let schema_src = src("volumes");
                    db_service(cx, cs, &cs.env, &img, engine, scripts, src("image"), schema_src);
                } else {
                    cx.ignored.insert(cs.name.clone());
                    cx.fact("warning", &cs.name, format!("runs the image {} that Slipway does not build or provide: it is left out", if img.is_empty() { "(none)" } else { &img }), src("image"));
                }
            }
        }
    }
    // Dependencies on services Slipway leaves out are dropped; names follow renames.
    let known: BTreeSet<String> = cx.p.services.iter().map(|s| s.name.clone()).chain(cx.db.iter().map(|d| d.name.clone())).collect();
    let renamed = cx.renamed.clone();
    for s in &mut cx.p.services {
        s.depends_on = s.depends_on.iter().map(|d| renamed.get(d).cloned().unwrap_or_else(|| d.clone())).filter(|d| known.contains(d)).collect();
        s.depends_conditions = s.depends_conditions.iter().map(|(d, c)| (renamed.get(d).cloned().unwrap_or_else(|| d.clone()), c.clone())).filter(|(d, _)| known.contains(d)).collect();
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn db_service(cx: &mut Ctx, cs: &compose::ComposeService, env: &[EnvValue], image: &str, engine: DbEngine, scripts: Vec<String>, source: String, schema_source: String) {
    let f = cx.p.compose_file.clone().unwrap_or_default();
    if cx.db.is_some() {
        cx.fact("warning", &cs.name, format!("a second database ({image}): Slipway provides one database per project"), format!("{f} services.{}", cs.name));
        cx.ignored.insert(cs.name.clone());
        return;
    }
    for e in env {
        if let Some(what) = secret_kind(&e.name, &e.value) {
            cx.committed(&e.name, what, &e.file, e.line);
            cx.secrets.insert((cs.name.clone(), e.name.clone()), e.value.clone());
        }
    }
    let (db_keys, user_keys): (&[&str], &[&str]) = match engine {
        DbEngine::Mysql => (&["MARIADB_DATABASE", "MYSQL_DATABASE"], &["MARIADB_USER", "MYSQL_USER"]),
        DbEngine::Postgres => (&["POSTGRES_DB"], &["POSTGRES_USER"]),
    };
    let mut aliases = vec![];
    for a in [cs.svc.container_name.clone(), cs.svc.hostname.clone()].into_iter().flatten() {
        if a != cs.name {
            aliases.push(a);
        }
    }
    cx.db = Some(DbFound {
        name: cs.name.clone(),
        image: image.to_string(),
        engine,
        scripts,
        database: db_env(env, db_keys),
        user: db_env(env, user_keys).or_else(|| (engine == DbEngine::Postgres).then(|| "postgres".to_string())),
        aliases,
        source,
        schema_source,
    });
}

fn from_dockerfiles(cx: &mut Ctx, root_service: Option<&str>) {
    let root = cx.root;
    for df in find_files(root, 3, &|name| name == "Dockerfile") {
        let dir = df.parent().unwrap_or(root);
        let rel = rel_path(root, dir);
        let info = parse_dockerfile(&read(&df));
        let df_rel = rel_path(root, &df);
        if let Some(engine) = DbEngine::of_image(&info.from) {
            if cx.db.is_none() {
                let mut scripts = vec![];
                for s in &info.initdb {
                    scripts.extend(scripts_at(root, &compose::join_rel(&rel, s)));
                }
                let env: Vec<EnvValue> = info.env.iter().map(|(k, v, l)| EnvValue { name: k.clone(), value: v.clone(), file: df_rel.clone(), line: *l, vars: vec![] }).collect();
                for e in &env {
                    if let Some(what) = secret_kind(&e.name, &e.value) {
                        cx.committed(&e.name, what, &e.file, e.line);
                        cx.secrets.insert(("db".to_string(), e.name.clone()), e.value.clone());
                    }
                }
                let (db_keys, user_keys): (&[&str], &[&str]) = match engine {
                    DbEngine::Mysql => (&["MARIADB_DATABASE", "MYSQL_DATABASE"], &["MARIADB_USER", "MYSQL_USER"]),
                    DbEngine::Postgres => (&["POSTGRES_DB"], &["POSTGRES_USER"]),
                };
                cx.db = Some(DbFound {
                    name: "db".into(),
                    image: info.from.clone(),
                    engine,
                    scripts,
                    database: db_env(&env, db_keys),
                    user: db_env(&env, user_keys),
                    aliases: vec![],
                    source: format!("{df_rel} line {} (FROM {})", info.from_line, info.from),
                    schema_source: format!("{df_rel} line {}", info.initdb_line),
                });
            }
            continue;
        }
        let name = match (rel.as_str(), root_service) {
            (".", Some(n)) => n.to_string(),
            (".", None) => id_from_name(&dir_name(root)),
            _ => id_from_name(&dir_name(dir)),
        };
        if cx.p.services.iter().any(|s| s.name == name) {
            continue;
        }
        cx.fact("service", &name, format!("built from {df_rel}"), df_rel.clone());
        cx.p.services.push(ServiceSpec::new(name, rel));
        cx.p.detected_from.push(df_rel);
    }
}

fn is_python(ctx: &Path) -> Option<&'static str> {
    ["requirements.txt", "pyproject.toml", "setup.py", "Pipfile", "setup.cfg"].into_iter().find(|f| ctx.join(f).is_file())
}

fn python_test_files(ctx: &Path) -> Vec<PathBuf> {
    find_files(ctx, 3, &|n| n.ends_with(".py") && (n.starts_with("test_") || n.ends_with("_test.py") || n == "tests.py" || n == "test.py"))
}

/// The first port a program's code or command line names (`app.run(port=5000)`,
/// `--bind 0.0.0.0:8000`, `.listen(3000)`, `PORT || 3000`).
fn port_in_text(t: &str) -> Option<u16> {
    let num_after = |t: &str, pat: &str| -> Option<u16> {
        t.match_indices(pat).find_map(|(i, _)| {
            let rest = &t[i + pat.len()..];
            let rest = rest.trim_start_matches([' ', '=', '(', '"', '\'']);
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse::<u16>().ok().filter(|p| *p >= 80)
        })
    };
    ["port=", "port =", "0.0.0.0:", ".listen(", "PORT || ", "PORT ?? ", "\"PORT\", ", "'PORT', ", ":="]
        .iter()
        .find_map(|p| num_after(t, p))
}

fn service_facts(cx: &mut Ctx, i: usize) {
    let root = cx.root;
    let s = cx.p.services[i].clone();
    let ctx = root.join(&s.context);
    let df_rel = compose::join_rel(&s.context, &s.dockerfile);
    let info = parse_dockerfile(&read(&root.join(&df_rel)));
    let mut s2 = s.clone();
    if let Some(ep) = &info.entrypoint {
        cx.fact(
            "test",
            &s.name,
            format!("the image's ENTRYPOINT is {}: its tests run with the entrypoint replaced, never appended to", serde_json::to_string(ep).unwrap_or_default()),
            format!("{df_rel} line {}", info.entrypoint_line),
        );
    }
    if s2.port.is_none() {
        if let Some(p) = info.expose {
            s2.port = Some(p);
            cx.fact("service", &s.name, format!("listens on port {p} (EXPOSE)"), df_rel.clone());
        } else if let Some(p) = info.entrypoint.iter().chain(info.cmd.iter()).find_map(|c| port_in_text(&c.join(" "))) {
            s2.port = Some(p);
            cx.fact("service", &s.name, format!("listens on port {p} (its command line)"), df_rel.clone());
        }
    }
    let code_files = find_files(&ctx, 3, &|n| [".py", ".js", ".mjs", ".ts", ".go"].iter().any(|e| n.ends_with(e)) && !n.starts_with("test") && !n.contains(".test.") && !n.ends_with("_test.go"));
    if s2.port.is_none() {
        for f in &code_files {
            if let Some(p) = port_in_text(&read(f)) {
                s2.port = Some(p);
                cx.fact("service", &s.name, format!("listens on port {p}"), rel_path(root, f));
                break;
            }
        }
    }
    if s2.health_path.is_none() {
        for path in ["/healthz", "/health"] {
            if let Some(f) = code_files.iter().find(|f| read(f).contains(&format!("\"{path}\"")) || read(f).contains(&format!("'{path}'"))) {
                s2.health_path = Some(path.into());
                cx.fact("service", &s.name, format!("answers health checks on {path}"), rel_path(root, f));
                break;
            }
        }
    }
    if let Some(req) = is_python(&ctx) {
        s2.language = Some("python".into());
        let req_rel = compose::join_rel(&s.context, req);
        let tests = python_test_files(&ctx);
        let has_tests = !tests.is_empty() || ctx.join("tests").is_dir() || read(&ctx.join(req)).contains("pytest");
        if s2.test_command.is_none() && has_tests {
            s2.test_command = Some(python_test_command(&req_rel));
            let first = tests.first().map(|f| rel_path(root, f)).unwrap_or_else(|| format!("{}/tests", s.context));
            let text = read(&ctx.join(req)).to_ascii_lowercase();
            let kind = if tests.iter().any(|f| read(f).contains("flask_testing")) {
                "flask_testing"
            } else if tests.iter().any(|f| read(f).contains("unittest")) {
                "unittest"
            } else {
                "pytest"
            };
            cx.fact("test", &s.name, format!("Python tests ({kind}), run by pytest"), first);
            if !text.contains("pytest") {
                cx.fact(
                    "test",
                    &s.name,
                    format!("pytest is not in {req_rel}: Slipway installs it into the test container (add the line \"pytest\" and \"pytest-cov\" to {req_rel} to pin it)"),
                    req_rel.clone(),
                );
            }
        }
    } else if ctx.join("package.json").is_file() {
        s2.language = Some("node".into());
        let pj: Value = serde_json::from_str(&read(&ctx.join("package.json"))).unwrap_or(Value::Null);
        let test = pj["scripts"]["test"].as_str().unwrap_or("");
        let pj_rel = compose::join_rel(&s.context, "package.json");
        if s2.test_command.is_none() && !test.is_empty() && !test.contains("no test specified") {
            let dev = |n: &str| pj["devDependencies"].get(n).is_some() || pj["dependencies"].get(n).is_some();
            let runner = if test.contains("vitest") || dev("vitest") { "vitest" } else { "jest" };
            s2.test_command = Some(node_test_command(runner));
            cx.fact("test", &s.name, format!("npm test ({runner}: `{test}`) with a JUnit reporter"), format!("{pj_rel} scripts.test"));
        }
    } else if ctx.join("go.mod").is_file() {
        s2.language = Some("go".into());
        if s2.test_command.is_none() && !find_files(&ctx, 4, &|n| n.ends_with("_test.go")).is_empty() {
            s2.test_command = Some(go_test_command());
            cx.fact("test", &s.name, "go test -json, turned into JUnit", compose::join_rel(&s.context, "go.mod"));
        }
    }
    if s2.tests && s2.test_command.is_none() {
        cx.fact("warning", &s.name, "no tests found: the Test stage fails until tests exist or slipway.toml says `tests = false`", s.context.clone());
    }
    cx.p.services[i] = s2;
}

/// Does the service's code or dependency list use a database driver?
fn uses_driver(root: &Path, svc: &ServiceSpec) -> bool {
    let ctx = root.join(&svc.context);
    let deps = ["requirements.txt", "pyproject.toml", "package.json", "go.mod", "Pipfile"].iter().map(|f| read(&ctx.join(f)).to_ascii_lowercase()).collect::<Vec<_>>().join("\n");
    ["pymysql", "mysqlclient", "mysql-connector", "psycopg", "sqlalchemy", "asyncpg", "\"mysql\"", "\"mysql2\"", "\"pg\"", "go-sql-driver", "jackc/pgx", "lib/pq", "gorm"].iter().any(|d| deps.contains(d))
}

fn sql_database_name(text: &str) -> Option<String> {
    for l in text.lines() {
        let t = l.trim();
        let up = t.to_ascii_uppercase();
        let rest = if let Some(r) = up.strip_prefix("USE ") {
            &t[t.len() - r.len()..]
        } else if up.starts_with("CREATE DATABASE") || up.starts_with("CREATE SCHEMA") {
            let r = t.split_whitespace().skip(2).collect::<Vec<_>>().join(" ");
            let r = r.trim_start_matches(|c: char| c.is_whitespace());
            let r = if r.to_ascii_uppercase().starts_with("IF NOT EXISTS") { r[13..].trim_start().to_string() } else { r.to_string() };
            let name: String = r.trim_matches(|c| c == '`' || c == '"').chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                return Some(name);
            }
            continue;
        } else {
            continue;
        };
        let name: String = rest.trim().trim_matches(|c| c == '`' || c == '"').chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !name.is_empty() {
            return Some(name);
        }
    }
    None
}

fn looks_postgres(sql: &str) -> bool {
    let u = sql.to_ascii_uppercase();
    u.contains(" SERIAL") || u.contains("BIGSERIAL") || sql.contains("\\c ") || u.contains("::TEXT") || u.contains("CREATE EXTENSION")
}

fn database(cx: &mut Ctx) {
    let root = cx.root;
    // Database URLs in the services' environment.
    let mut urls: Vec<(DbUrl, dburl::DbUrlParts)> = vec![];
    for (svc, e) in &cx.env {
        let Some(parts) = dburl::parse(&e.value) else { continue };
        urls.push((
            DbUrl { service: svc.clone(), name: e.name.clone(), scheme: parts.scheme.clone(), query: parts.query.clone(), test: dburl::is_test_name(&e.name), source: e.source() },
            parts,
        ));
    }
    // A schema folder.
    let mut folder: Option<(String, Vec<String>, Option<DockerfileInfo>)> = None;
    for d in SCHEMA_DIRS {
        let dir = root.join(d);
        if !dir.is_dir() {
            continue;
        }
        let df = dir.join("Dockerfile");
        if df.is_file() {
            let info = parse_dockerfile(&read(&df));
            if !info.initdb.is_empty() || DbEngine::of_image(&info.from).is_some() {
                let mut scripts = vec![];
                for s in &info.initdb {
                    scripts.extend(scripts_at(root, &compose::join_rel(d, s)));
                }
                folder = Some((d.to_string(), scripts, Some(info)));
                break;
            }
        }
        let files: Vec<String> = find_files(&dir, 1, &|n| n.ends_with(".sql")).iter().map(|f| rel_path(root, f)).collect();
        if !files.is_empty() {
            folder = Some((d.to_string(), files, None));
            break;
        }
    }
    if cx.db.is_none() {
        if let Some((u, parts)) = urls.iter().find(|(u, _)| !u.test).or(urls.first()) {
            let engine = parts.engine();
            let host = parts.host.clone();
            let name = if is_id(&host) && !["localhost"].contains(&host.as_str()) && cx.p.service(&host).is_none() { host.clone() } else { "db".into() };
            cx.db = Some(DbFound {
                name,
                image: engine.default_image().into(),
                engine,
                scripts: vec![],
                database: parts.database.clone(),
                user: parts.user.clone(),
                aliases: vec![],
                source: format!("{} in {} ({})", u.name, u.service, u.source),
                schema_source: String::new(),
            });
        } else if let Some((d, scripts, info)) = &folder {
            let sql: String = scripts.iter().map(|f| read(&root.join(f))).collect::<Vec<_>>().join("\n");
            let engine = info.as_ref().and_then(|i| DbEngine::of_image(&i.from)).unwrap_or(if looks_postgres(&sql) { DbEngine::Postgres } else { DbEngine::Mysql });
            let users: Vec<String> = cx.p.services.iter().filter(|s| uses_driver(root, s)).map(|s| s.name.clone()).collect();
            if !users.is_empty() || info.is_some() {
                let image = info.as_ref().map(|i| i.from.clone()).filter(|f| DbEngine::of_image(f).is_some()).unwrap_or_else(|| engine.default_image().into());
                cx.db = Some(DbFound {
                    name: "db".into(),
                    image,
                    engine,
                    scripts: vec![],
                    database: None,
                    user: None,
                    aliases: vec![],
                    source: format!("the {d}/ folder"),
                    schema_source: String::new(),
                });
            }
        }
    }
    let Some(mut db) = cx.db.take() else { return };
    if db.scripts.is_empty() {
        if let Some((d, scripts, info)) = &folder {
            db.scripts = scripts.clone();
            db.schema_source = match info {
                Some(i) if i.initdb_line > 0 => format!("{d}/Dockerfile line {}", i.initdb_line),
                _ => format!("the {d}/ folder"),
            };
            if let Some(i) = info {
                if db.image == db.engine.default_image() && DbEngine::of_image(&i.from) == Some(db.engine) {
                    db.image = i.from.clone();
                }
            }
        }
    }
    let sql: String = db.scripts.iter().map(|f| read(&root.join(f))).collect::<Vec<_>>().join("\n");
    // Which services use it, and through what.
    let mut names: BTreeSet<String> = [db.name.clone()].into_iter().chain(db.aliases.iter().cloned()).collect();
    for (u, parts) in &urls {
        if !parts.host.is_empty() && parts.host != "localhost" && parts.host != "127.0.0.1" && cx.p.service(&parts.host).is_none() && is_id(&parts.host) {
            names.insert(parts.host.clone());
        }
        let _ = u;
    }
    let mut users: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (u, _) in &urls {
        users.entry(u.service.clone()).or_insert_with(|| (u.name.clone(), u.source.clone()));
    }
    for (svc, e) in &cx.env {
        if names.contains(&e.value) && !users.contains_key(svc) {
            users.insert(svc.clone(), (format!("{}={}", e.name, e.value), e.source()));
        }
    }
    let compose = cx.p.compose_file.clone().unwrap_or_default();
    for s in &cx.p.services {
        if s.depends_on.contains(&db.name) && !users.contains_key(&s.name) {
            users.insert(s.name.clone(), (format!("depends_on {}", db.name), format!("{compose} services.{}.depends_on", s.aliases.first().unwrap_or(&s.name))));
        }
    }
    if users.is_empty() && urls.is_empty() {
        for s in &cx.p.services {
            if uses_driver(root, s) {
                users.insert(s.name.clone(), ("a database driver in its dependencies".into(), s.context.clone()));
            }
        }
    }
    let database = db.database.clone().or_else(|| urls.iter().find(|(u, _)| !u.test).or(urls.first()).and_then(|(_, p)| p.database.clone())).or_else(|| sql_database_name(&sql)).unwrap_or_else(|| "app".into());
    let user = db.user.clone().or_else(|| urls.iter().find(|(u, _)| !u.test).or(urls.first()).and_then(|(_, p)| p.user.clone())).unwrap_or_else(|| "app".into());
    for (svc, (why, src)) in &users {
        if let Some(s) = cx.p.services.iter_mut().find(|s| &s.name == svc) {
            if !s.depends_on.contains(&db.name) {
                s.depends_on.push(db.name.clone());
            }
        }
        cx.fact("database", svc, format!("uses the database through {why}"), src.clone());
    }
    // Facts: the engine, the schema.
    cx.fact("database", &db.name, format!("{} database {} ({}), database {database}, user {user}", db.engine.as_str(), db.name, db.image), db.source.clone());
    for f in &db.scripts {
        let src = if db.schema_source.is_empty() { f.clone() } else { format!("{f} (from {})", db.schema_source) };
        cx.fact("database", &db.name, format!("schema loaded from {f}"), src);
    }
    for (u, _) in &urls {
        cx.fact("database", &u.service, format!("{} is a {} URL ({}): Slipway points it at {}", u.name, db.engine.as_str(), u.scheme, if u.test { "the test database" } else { "the database it provides" }), u.source.clone());
    }
    let aliases: Vec<String> = names.into_iter().filter(|n| n != &db.name).collect();
    cx.p.database = Some(DatabaseSpec {
        name: db.name.clone(),
        image: db.image.clone(),
        schema: db.scripts.first().cloned(),
        database,
        user,
        engine: db.engine,
        schema_files: db.scripts.iter().skip(1).cloned().collect(),
        aliases,
        urls: urls.into_iter().map(|(u, _)| u).collect(),
    });
}

fn settings(cx: &mut Ctx) {
    let mut by_name: BTreeMap<String, Setting> = BTreeMap::new();
    let env = cx.env.clone();
    for (svc, e) in &env {
        let kind = secret_kind(&e.name, &e.value);
        if let Some(what) = kind {
            cx.committed(&e.name, what, &e.file, e.line);
            cx.secrets.insert((svc.clone(), e.name.clone()), e.value.clone());
        }
        if let Some(s) = cx.p.services.iter_mut().find(|s| &s.name == svc) {
            if kind.is_some() {
                s.env.remove(&e.name);
                if !s.secret_env.contains(&e.name) {
                    s.secret_env.push(e.name.clone());
                }
            } else {
                s.env.insert(e.name.clone(), e.value.clone());
            }
        }
        let st = by_name.entry(e.name.clone()).or_insert_with(|| Setting { name: e.name.clone(), value: None, secret: kind.is_some(), services: vec![], source: e.source() });
        if !st.services.contains(svc) {
            st.services.push(svc.clone());
        }
        st.secret |= kind.is_some();
        st.value = if st.secret { None } else { Some(e.value.clone()) };
        if !e.vars.is_empty() && e.file.ends_with(".env") {
            // The compose file took it from .env.
        }
    }
    for (_, s) in by_name {
        let text = if s.secret { format!("{} (secret) for {}", s.name, s.services.join(", ")) } else { format!("{}={} for {}", s.name, s.value.clone().unwrap_or_default(), s.services.join(", ")) };
        cx.fact("setting", &s.name, text, s.source.clone());
        cx.p.settings.push(s);
    }
}

// --- manifests --------------------------------------------------------------------------------

/// How a container image of a manifest relates to the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageMatch {
    /// It runs this service (its image is replaced by the one the run built).
    Service(String),
    /// A database engine's image.
    Database,
    /// An image from a public library (`nginx:stable`, `redis:7`, `bitnami/...`): kept.
    ThirdParty,
    /// A repository image that is none of the services.
    Unknown,
}

const PUBLIC_NAMESPACES: &[&str] = &["library", "bitnami", "nginxinc", "grafana", "prom", "curlimages", "busybox", "traefik", "envoyproxy", "registry.k8s.io", "k8s.gcr.io", "quay.io", "gcr.io", "mcr.microsoft.com", "docker.elastic.co", "public.ecr.aws", "hashicorp", "jaegertracing", "openzipkin", "rabbitmq"];

/// The repository part of an image reference: `reg:5000/team/app-backend:v1@sha..` gives
/// `app-backend`.
pub fn image_base(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split(':').next().unwrap_or(last)
}

/// The repository of an image reference without its tag or digest.
pub fn image_repo(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rfind(':') {
        Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
        _ => no_digest,
    }
}

/// Which service (if any) a manifest's container runs: by the service's compose image, the
/// container's name, the workload's name, or an image named after the service
/// (`<service>`, `<anything>-<service>`).
pub fn match_image(p: &Project, workload: &str, container: &str, image: &str) -> ImageMatch {
    let base = image_base(image);
    let repo = image_repo(image);
    if let Some(s) = p.services.iter().find(|s| s.image.as_deref().is_some_and(|i| image_repo(i) == repo || image_base(i) == base)) {
        return ImageMatch::Service(s.name.clone());
    }
    if DbEngine::of_image(image).is_some() {
        return ImageMatch::Database;
    }
    let named = |n: &str| p.services.iter().find(|s| s.names().iter().any(|a| a == n)).map(|s| s.name.clone());
    if let Some(s) = named(base).or_else(|| p.services.iter().find(|s| base.ends_with(&format!("-{}", s.name)) || base.ends_with(&format!("_{}", s.name))).map(|s| s.name.clone())) {
        return ImageMatch::Service(s);
    }
    let segments: Vec<&str> = repo.split('/').collect();
    let public = segments.len() == 1 || PUBLIC_NAMESPACES.iter().any(|n| segments[0] == *n || (segments.len() > 2 && segments[1] == *n)) || repo.starts_with("docker.io/library/");
    if public && named(container).is_none() {
        return ImageMatch::ThirdParty;
    }
    if let Some(s) = named(container).or_else(|| named(workload)) {
        return ImageMatch::Service(s);
    }
    if public {
        ImageMatch::ThirdParty
    } else {
        ImageMatch::Unknown
    }
}

/// A Kubernetes object read from a manifest file, with where it is.
#[derive(Debug, Clone)]
pub struct ManifestDoc {
    pub file: String,
    /// The line its document starts on.
    pub line: usize,
    pub object: Value,
}

/// The Kubernetes objects of a YAML text (several documents; `kind: List` unpacked), each
/// with the line its document starts on. None when the file holds no Kubernetes object.
pub fn kube_documents(text: &str, file: &str) -> Result<Vec<ManifestDoc>, String> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| e.to_string())?;
    // The line each document starts on: after each `---` separator.
    let mut starts = vec![1usize];
    for (i, l) in text.lines().enumerate() {
        if l.starts_with("---") {
            starts.push(i + 2);
        }
    }
    let first_content = text.lines().position(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && !l.starts_with("---")).map(|i| i + 1).unwrap_or(1);
    if starts.len() > 1 && first_content >= starts[1] {
        starts.remove(0);
    }
    let mut out = vec![];
    for (i, d) in docs.into_iter().enumerate() {
        if d.is_null() {
            continue;
        }
        let line = starts.get(i).copied().unwrap_or(1);
        if d["kind"] == "List" {
            for item in d["items"].as_array().cloned().unwrap_or_default() {
                out.push(ManifestDoc { file: file.into(), line, object: item });
            }
        } else {
            out.push(ManifestDoc { file: file.into(), line, object: d });
        }
    }
    Ok(out)
}

fn is_kube(v: &Value) -> bool {
    v["apiVersion"].is_string() && v["kind"].is_string()
}

/// Candidate manifest files: YAML anywhere in the repository (not compose files, CI workflows
/// or Helm templates) holding Kubernetes kinds.
pub fn find_manifest_files(root: &Path) -> Vec<String> {
    let mut out = vec![];
    for f in find_files(root, 6, &|n| n.ends_with(".yaml") || n.ends_with(".yml")) {
        let rel = rel_path(root, &f);
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if COMPOSE_FILES.contains(&name.as_str()) || name.starts_with("docker-compose") || name.starts_with("compose.") || rel.starts_with(".github/") || rel.contains("/templates/") && root.join(rel.split("/templates/").next().unwrap_or("")).join("Chart.yaml").is_file() {
            continue;
        }
        let text = read(&f);
        if !(text.contains("apiVersion") && text.contains("kind")) || text.contains("{{") {
            continue;
        }
        if kube_documents(&text, &rel).is_ok_and(|d| d.iter().any(|d| is_kube(&d.object))) {
            out.push(rel);
        }
    }
    out
}

fn manifests(cx: &mut Ctx) -> Vec<String> {
    let root = cx.root;
    let files = find_manifest_files(root);
    for f in &files {
        let text = read(&root.join(f));
        let Ok(docs) = kube_documents(&text, f) else { continue };
        let kinds: Vec<String> = docs.iter().filter(|d| is_kube(&d.object)).map(|d| format!("{}/{}", d.object["kind"].as_str().unwrap_or(""), d.object["metadata"]["name"].as_str().unwrap_or(""))).collect();
        cx.fact("manifest", f, format!("Kubernetes objects: {}", kinds.join(", ")), f.clone());
        for d in &docs {
            let o = &d.object;
            let kind = o["kind"].as_str().unwrap_or("");
            let name = o["metadata"]["name"].as_str().unwrap_or("");
            if kind == "Secret" {
                for field in ["data", "stringData"] {
                    for (k, _) in o[field].as_object().into_iter().flatten() {
                        let line = find_line(&text, d.line, &format!("{k}:")).unwrap_or(d.line);
                        cx.committed(&format!("Secret/{name}.{k}"), "a Kubernetes Secret value", f, line);
                    }
                }
            }
            let spec = &o["spec"]["template"]["spec"];
            for c in ["initContainers", "containers"].iter().flat_map(|k| spec[k].as_array().into_iter().flatten()) {
                let image = c["image"].as_str().unwrap_or("");
                let cname = c["name"].as_str().unwrap_or("");
                let line = find_line(&text, d.line, &format!("image: {image}")).or_else(|| find_line(&text, d.line, image)).unwrap_or(d.line);
                match match_image(&cx.p, name, cname, image) {
                    ImageMatch::Service(s) => cx.fact("manifest", f, format!("{kind}/{name} runs {s} (its image {image} is replaced by the one the run builds)"), format!("{f} line {line}")),
                    ImageMatch::Unknown => cx.fact("warning", f, format!("{kind}/{name} runs the image {image}, which matches no service: a Kubernetes deploy refuses it until it is named after a service (or `image` is set for the service in slipway.toml)"), format!("{f} line {line}")),
                    ImageMatch::Database => cx.fact("manifest", f, format!("{kind}/{name} runs the database image {image}"), format!("{f} line {line}")),
                    ImageMatch::ThirdParty => {}
                }
                for e in c["env"].as_array().into_iter().flatten() {
                    let (Some(n), Some(v)) = (e["name"].as_str(), e["value"].as_str()) else { continue };
                    if let Some(what) = secret_kind(n, v) {
                        let line = find_line(&text, d.line, n).unwrap_or(d.line);
                        cx.committed(n, what, f, line);
                    }
                }
            }
            for (k, v) in o["data"].as_object().into_iter().flatten() {
                if kind == "ConfigMap" && v.as_str().is_some_and(|t| t.contains("proxy_pass")) {
                    let line = find_line(&text, d.line, &format!("{k}:")).unwrap_or(d.line);
                    cx.fact("manifest", f, format!("ConfigMap/{name} holds an NGINX configuration ({k})"), format!("{f} line {line}"));
                }
            }
        }
    }
    files
}

// --- the entry service ------------------------------------------------------------------------

/// The hosts an NGINX configuration proxies to, with their line and whether it is `location /`.
pub fn nginx_targets(text: &str) -> Vec<(String, usize, bool)> {
    let mut upstreams: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_root = false;
    let mut out = vec![];
    let host_of = |s: &str| -> String {
        let s = s.trim().trim_end_matches(';');
        let s = s.split("://").nth(1).unwrap_or(s);
        let s = s.split(['/', ' ']).next().unwrap_or(s);
        s.split(':').next().unwrap_or(s).to_string()
    };
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if let Some(r) = t.strip_prefix("upstream ") {
            current = Some(r.trim_end_matches('{').trim().to_string());
            continue;
        }
        if current.is_some() && t.starts_with('}') {
            current = None;
            continue;
        }
        if let (Some(u), Some(r)) = (&current, t.strip_prefix("server ")) {
            upstreams.entry(u.clone()).or_default().push((host_of(r), i + 1));
            continue;
        }
        if t.starts_with("location") {
            let loc = t.trim_start_matches("location").trim_start_matches([' ', '=', '~', '^']).trim();
            in_root = loc.starts_with("/ ") || loc.starts_with("/{") || loc == "/";
        }
        if let Some(r) = t.strip_prefix("proxy_pass ") {
            let h = host_of(r);
            match upstreams.get(&h) {
                Some(servers) => out.extend(servers.iter().map(|(s, l)| (s.clone(), *l, in_root))),
                None => out.push((h, i + 1, in_root)),
            }
        }
    }
    out.sort_by_key(|(_, _, root)| !*root);
    out
}

fn entry(cx: &mut Ctx) {
    if cx.p.deploy.entry.is_some() {
        return;
    }
    let root = cx.root;
    if cx.p.services.len() == 1 {
        let n = cx.p.services[0].name.clone();
        cx.p.deploy.entry = Some(n.clone());
        cx.p.deploy.entry_reason = Some("the only service".into());
        cx.fact("entry", &n, format!("{n} is the entry service: the only service"), "");
        return;
    }
    // A host name -> the service it is (service names, aliases, Kubernetes Services).
    let mut hosts: BTreeMap<String, String> = BTreeMap::new();
    for s in &cx.p.services {
        for n in s.names() {
            hosts.insert(n, s.name.clone());
        }
    }
    let mut configs: Vec<(String, String)> = vec![];
    for f in find_files(root, 4, &|n| n.ends_with(".conf") || n.starts_with("nginx") || n.ends_with(".conf.template")) {
        configs.push((rel_path(root, &f), read(&f)));
    }
    let mut workloads: Vec<(BTreeMap<String, String>, String)> = vec![];
    let mut kube_services: Vec<(String, BTreeMap<String, String>)> = vec![];
    for m in &cx.p.manifests {
        let text = read(&root.join(m));
        for d in kube_documents(&text, m).unwrap_or_default() {
            let o = &d.object;
            for (k, v) in o["data"].as_object().into_iter().flatten() {
                if let Some(t) = v.as_str().filter(|t| t.contains("proxy_pass")) {
                    let line = find_line(&text, d.line, &format!("{k}:")).unwrap_or(d.line);
                    // Lines inside the ConfigMap value count from its key.
                    configs.push((format!("{m}@{line}"), t.to_string()));
                }
            }
            let labels = |v: &Value| -> BTreeMap<String, String> { v.as_object().into_iter().flatten().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect() };
            if o["kind"] == "Service" {
                kube_services.push((o["metadata"]["name"].as_str().unwrap_or("").to_string(), labels(&o["spec"]["selector"])));
            }
            let spec = &o["spec"]["template"]["spec"];
            for c in spec["containers"].as_array().into_iter().flatten() {
                if let ImageMatch::Service(s) = match_image(&cx.p, o["metadata"]["name"].as_str().unwrap_or(""), c["name"].as_str().unwrap_or(""), c["image"].as_str().unwrap_or("")) {
                    workloads.push((labels(&o["spec"]["template"]["metadata"]["labels"]), s));
                }
            }
        }
    }
    for (name, sel) in kube_services {
        if sel.is_empty() || hosts.contains_key(&name) {
            continue;
        }
        if let Some((_, s)) = workloads.iter().find(|(l, _)| sel.iter().all(|(k, v)| l.get(k) == Some(v))) {
            hosts.insert(name, s.clone());
        }
    }
    for (file, text) in &configs {
        for (host, line, _) in nginx_targets(text) {
            if let Some(s) = hosts.get(&host) {
                let (f, l) = match file.split_once('@') {
                    Some((f, base)) => (f.to_string(), base.parse::<usize>().unwrap_or(1) + line),
                    None => (file.clone(), line),
                };
                let reason = format!("{f} line {l} proxies to it ({host})");
                cx.p.deploy.entry = Some(s.clone());
                cx.p.deploy.entry_reason = Some(reason.clone());
                cx.fact("entry", s, format!("{s} is the entry service: {reason}"), format!("{f} line {l}"));
                return;
            }
        }
    }
    // Serves HTML.
    let names: Vec<String> = cx.p.services.iter().map(|s| s.name.clone()).collect();
    let mut html: Vec<(String, String)> = vec![];
    for s in &cx.p.services {
        let ctx = root.join(&s.context);
        let found = find_files(&ctx, 3, &|n| n.ends_with(".html") || n.ends_with(".jinja") || n.ends_with(".j2") || n.ends_with(".ejs") || n.ends_with(".hbs"))
            .into_iter()
            .find(|f| f.components().any(|c| ["templates", "views", "static", "public"].contains(&c.as_os_str().to_string_lossy().as_ref())) || f.file_name().is_some_and(|n| n == "index.html"));
        if let Some(f) = found {
            html.push((s.name.clone(), rel_path(root, &f)));
        }
    }
    // Calls between services: a service's variables or code naming another by host name.
    let mut calls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &cx.p.services {
        let mut text: String = cx.env.iter().filter(|(n, _)| n == &s.name).map(|(_, e)| e.value.clone()).collect::<Vec<_>>().join("\n");
        for f in find_files(&root.join(&s.context), 3, &|n| [".py", ".js", ".ts", ".go", ".mjs"].iter().any(|e| n.ends_with(e)) && !n.starts_with("test")) {
            text.push('\n');
            text.push_str(&read(&f));
        }
        for o in &cx.p.services {
            if o.name == s.name {
                continue;
            }
            if o.names().iter().any(|n| text.contains(&format!("://{n}:")) || text.contains(&format!("://{n}/")) || text.contains(&format!("://{n}\"")) || text.contains(&format!("://{n}'"))) {
                calls.entry(s.name.clone()).or_default().insert(o.name.clone());
            }
        }
    }
    let called: BTreeSet<String> = calls.values().flatten().cloned().collect();
    let pick = |cx: &mut Ctx, s: &str, reason: String, source: String| {
        cx.p.deploy.entry = Some(s.to_string());
        cx.p.deploy.entry_reason = Some(reason.clone());
        cx.fact("entry", s, format!("{s} is the entry service: {reason}"), source);
    };
    if let Some((s, f)) = html.iter().find(|(s, _)| !called.contains(s)).or(html.first()) {
        pick(cx, s, format!("it serves HTML ({f})"), f.clone());
        return;
    }
    if let Some((s, targets)) = calls.iter().find(|(s, _)| !called.contains(*s)) {
        let (s, t) = (s.clone(), targets.iter().cloned().collect::<Vec<_>>().join(", "));
        pick(cx, &s, format!("it calls {t} and no service calls it"), String::new());
        return;
    }
    let needed: BTreeSet<&str> = cx.p.services.iter().flat_map(|s| s.depends_on.iter().map(String::as_str)).collect();
    if let Some(s) = names.iter().find(|n| !needed.contains(n.as_str())).cloned() {
        pick(cx, &s, "no service depends on it".into(), cx.p.compose_file.clone().unwrap_or_default());
    }
}

/// Names read through `os.environ["X"]`, `os.environ.get("X")`, `os.getenv("X")`,
/// `process.env.X` or `std::env::var("X")` in the services' code, plus the services' settings.
fn env_vars(root: &Path, p: &Project) -> Vec<String> {
    let mut names: BTreeSet<String> = p.services.iter().flat_map(|s| s.env.keys().cloned().chain(s.secret_env.iter().cloned())).collect();
    let patterns = ["os.environ[\"", "os.environ['", "os.environ.get(\"", "os.environ.get('", "os.getenv(\"", "os.getenv('", "env::var(\"", "process.env.", "os.Getenv(\""];
    for s in &p.services {
        let ctx = root.join(&s.context);
        for f in find_files(&ctx, 3, &|n| [".py", ".js", ".ts", ".rs", ".go"].iter().any(|e| n.ends_with(e))) {
            let Ok(text) = std::fs::read_to_string(&f) else { continue };
            for pat in patterns {
                for (i, _) in text.match_indices(pat) {
                    let rest = &text[i + pat.len()..];
                    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if !name.is_empty() && name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
                        names.insert(name);
                    }
                }
            }
        }
    }
    names.into_iter().collect()
}

/// The line of `key` under `path` in a YAML text, for facts ("docker-compose.yml line 12").
pub fn line_of(text: &str, path: &[&str]) -> Option<usize> {
    yaml_line(text, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn src() -> Source {
        Source::Path { path: "/repo".into() }
    }

    fn has_fact(p: &Project, topic: &str, text: &str, source: &str) -> bool {
        p.facts.iter().any(|f| f.topic == topic && f.text.contains(text) && f.source.contains(source))
    }

    fn compose_repo() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        write(
            r,
            "docker-compose.yml",
            r#"
services:
  db:
    image: mariadb:10.11
    environment:
      MARIADB_DATABASE: sample
      MARIADB_USER: sample
      MARIADB_PASSWORD: pw
    volumes:
      - ./db/schema.sql:/docker-entrypoint-initdb.d/schema.sql:ro
  cache:
    image: redis:7
  backend:
    build: ./backend
    ports: ["8000"]
    environment:
      - DB_HOST=db
      - DB_NAME=sample
    depends_on: [db, cache]
  frontend:
    build:
      context: frontend
      dockerfile: Dockerfile.prod
      args: { BASE_IMAGE: "python:3.11-slim" }
    ports:
      - "127.0.0.1:9080:8080/tcp"
    environment:
      BACKEND_URL: http://backend:8000
    depends_on:
      backend: { condition: service_started }
"#,
        );
        write(r, "backend/Dockerfile", "FROM python\nEXPOSE 8000\n");
        write(r, "backend/requirements.txt", "flask\npytest\n");
        write(r, "backend/app.py", "import os\nHOST = os.environ.get(\"DB_HOST\")\nPW = os.environ['DB_PASSWORD']\n@app.get('/healthz')\n");
        write(r, "frontend/Dockerfile.prod", "FROM python\n");
        write(r, "frontend/requirements.txt", "flask\n");
        write(r, "frontend/tests/test_pages.py", "def test_x(): pass\n");
        write(r, "frontend/app.py", "import os\nURL = os.getenv(\"BACKEND_URL\", \"x\")\n");
        write(r, "db/schema.sql", "CREATE TABLE t (id INT);\n");
        write(r, "k8s/backend.yaml", "apiVersion: apps/v1\nkind: Deployment\n");
        write(r, "k8s/notes.yaml", "just: yaml\n");
        d
    }

    #[test]
    fn compose_services_database_tests_manifests_and_env_are_found() {
        let d = compose_repo();
        let p = detect(d.path(), "sample", src()).unwrap();
        let names: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["backend", "frontend"]);
        let b = p.service("backend").unwrap();
        assert_eq!((b.context.as_str(), b.port, b.depends_on.clone()), ("backend", Some(8000), vec!["db".to_string()]));
        assert_eq!(b.env.get("DB_HOST").map(String::as_str), Some("db"));
        assert_eq!(b.test_command, Some(python_test_command("backend/requirements.txt")), "pytest in requirements.txt");
        assert_eq!(b.health_path.as_deref(), Some("/healthz"));
        let f = p.service("frontend").unwrap();
        assert_eq!((f.dockerfile.as_str(), f.port), ("Dockerfile.prod", Some(8080)));
        assert_eq!(f.build_args.get("BASE_IMAGE").map(String::as_str), Some("python:3.11-slim"));
        assert_eq!(f.depends_on, vec!["backend".to_string()]);
        assert_eq!(f.depends_conditions.get("backend").map(String::as_str), Some("service_started"));
        assert!(f.test_command.is_some(), "a tests/ folder");
        let db = p.database.clone().unwrap();
        assert_eq!((db.name.as_str(), db.image.as_str(), db.schema.as_deref(), db.database.as_str(), db.engine), ("db", "mariadb:10.11", Some("db/schema.sql"), "sample", DbEngine::Mysql));
        assert_eq!(p.manifests, vec!["k8s/backend.yaml".to_string()]);
        assert_eq!(p.env_vars, ["BACKEND_URL", "DB_HOST", "DB_NAME", "DB_PASSWORD"]);
        assert_eq!(p.entry_service().unwrap().name, "frontend");
        assert_eq!(p.deploy.entry_reason.as_deref(), Some("it calls backend and no service calls it"));
        // Facts with their sources.
        assert!(has_fact(&p, "service", "depends on db (service_started)", "docker-compose.yml services.backend.depends_on"), "{:#?}", p.facts);
        assert!(has_fact(&p, "database", "schema loaded from db/schema.sql", "db/schema.sql (from docker-compose.yml services.db.volumes)"), "{:#?}", p.facts);
        assert!(has_fact(&p, "warning", "redis:7", "docker-compose.yml services.cache.image"), "{:#?}", p.facts);
        // The database's committed password is reported with its line.
        assert!(p.committed_secrets.iter().any(|c| c.name == "MARIADB_PASSWORD" && c.file == "docker-compose.yml" && c.line == 8), "{:?}", p.committed_secrets);
    }

    #[test]
    fn env_file_and_dotenv_interpolation_keep_their_sources_and_secrets_stay_out() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        write(r, ".env", "MYSQL_PASSWORD=hunter2\nAPP_PORT=5000\nSECRET_KEY=very-secret\n");
        write(
            r,
            "docker-compose.yml",
            "services:\n  mysql:\n    image: mysql:8\n    environment:\n      MYSQL_ROOT_PASSWORD: ${MYSQL_PASSWORD}\n      MYSQL_DATABASE: flaskdb\n  api:\n    build: ./api\n    env_file: ./api/api.env\n    ports:\n      - target: ${APP_PORT}\n        published: \"8080\"\n    environment:\n      DATABASE_URI: mysql+pymysql://root:${MYSQL_PASSWORD}@mysql:3306/flaskdb\n      TEST_DATABASE_URI: mysql+pymysql://root:${MYSQL_PASSWORD}@mysql:3306/flaskdb_test\n      SECRET_KEY: ${SECRET_KEY}\n      GREETING: ${GREETING:-hello}\n    container_name: flask-api\n    entrypoint: [\"python3\", \"app.py\"]\n    healthcheck:\n      test: [\"CMD\", \"python3\", \"-c\", \"print(1)\"]\n      interval: 2s\n      retries: 5\n    depends_on:\n      mysql:\n        condition: service_healthy\n  debug:\n    build: ./api\n    profiles: [debug]\n",
        );
        write(r, "api/api.env", "# settings\nLOG_LEVEL=info\nAPI_TOKEN=tok-123\n");
        write(r, "api/Dockerfile", "FROM python:3.9\nENTRYPOINT [\"python3\", \"app.py\"]\n");
        write(r, "api/requirements.txt", "flask\nflask_testing\npymysql\n");
        write(r, "api/test_app.py", "import unittest\nfrom flask_testing import TestCase\n");
        let det = detect_full(r, "shop", src(), &BTreeMap::new()).unwrap();
        let p = &det.project;
        assert_eq!(p.services.len(), 1, "the debug profile is left out: {:?}", p.services);
        let a = p.service("api").unwrap();
        assert_eq!(a.port, Some(5000), "long ports syntax, interpolated");
        assert_eq!(a.aliases, ["flask-api"]);
        assert_eq!(a.entrypoint.as_deref(), Some(&["python3".to_string(), "app.py".to_string()][..]));
        assert_eq!(a.healthcheck.as_ref().map(|h| (h.interval_ms, h.retries)), Some((2000, 5)));
        assert_eq!(a.depends_conditions.get("mysql").map(String::as_str), Some("service_healthy"));
        assert_eq!(a.env.get("LOG_LEVEL").map(String::as_str), Some("info"), "from env_file");
        assert_eq!(a.env.get("GREETING").map(String::as_str), Some("hello"), "a default");
        let mut secret = a.secret_env.clone();
        secret.sort();
        assert_eq!(secret, ["API_TOKEN", "DATABASE_URI", "SECRET_KEY", "TEST_DATABASE_URI"]);
        assert!(!serde_json::to_string(p).unwrap().contains("hunter2") && !serde_json::to_string(p).unwrap().contains("very-secret") && !serde_json::to_string(p).unwrap().contains("tok-123"), "no secret value in the project");
        assert_eq!(det.secrets[&("api".to_string(), "SECRET_KEY".to_string())], "very-secret");
        // Committed secrets with the file and line the value is written on.
        let c: Vec<String> = p.committed_secrets.iter().map(|c| c.message()).collect();
        assert!(c.contains(&"this repository commits a database password in .env line 1 (MYSQL_ROOT_PASSWORD)".to_string()), "{c:?}");
        assert!(c.contains(&"this repository commits a secret key in .env line 3 (SECRET_KEY)".to_string()), "{c:?}");
        assert!(c.contains(&"this repository commits a token in api/api.env line 3 (API_TOKEN)".to_string()), "{c:?}");
        // The database: from the image, URLs with their scheme, the test one marked.
        let db = p.database.as_ref().unwrap();
        assert_eq!((db.name.as_str(), db.image.as_str(), db.database.as_str(), db.user.as_str()), ("mysql", "mysql:8", "flaskdb", "root"));
        let urls: Vec<(&str, &str, bool)> = db.urls.iter().map(|u| (u.name.as_str(), u.scheme.as_str(), u.test)).collect();
        assert_eq!(urls, [("DATABASE_URI", "mysql+pymysql", false), ("TEST_DATABASE_URI", "mysql+pymysql", true)]);
        assert!(has_fact(p, "test", "flask_testing", "api/test_app.py"), "{:#?}", p.facts);
        assert!(has_fact(p, "test", "pytest is not in api/requirements.txt", "api/requirements.txt"), "{:#?}", p.facts);
        assert!(has_fact(p, "test", "ENTRYPOINT is [\"python3\",\"app.py\"]", "api/Dockerfile line 2"), "{:#?}", p.facts);
        assert!(has_fact(p, "setting", "LOG_LEVEL=info", "api/api.env line 2"), "{:#?}", p.facts);
        assert!(has_fact(p, "service", "only in the profile debug", "services.debug.profiles"), "{:#?}", p.facts);
        // An environment's value wins over .env in the interpolation.
        let vars: BTreeMap<String, String> = [("SECRET_KEY".to_string(), "from-settings".to_string())].into();
        let det = detect_full(r, "shop", src(), &vars).unwrap();
        assert_eq!(det.secrets[&("api".to_string(), "SECRET_KEY".to_string())], "from-settings");
    }

    #[test]
    fn a_schema_folder_with_its_own_dockerfile_and_database_urls_make_the_database() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        write(r, "database/Dockerfile", "FROM mysql:5.7\nENV MYSQL_ROOT_PASSWORD=rootpw\nCOPY ./Create.sql /docker-entrypoint-initdb.d/\n");
        write(r, "database/Create.sql", "CREATE DATABASE IF NOT EXISTS shopdb;\nUSE shopdb;\nCREATE TABLE items (id INT);\n");
        write(r, "backend/Dockerfile", "FROM python:3.9\nEXPOSE 5000\nENTRYPOINT [\"python3\", \"app.py\"]\n");
        write(r, "backend/requirements.txt", "flask\npymysql\n");
        write(r, "backend/app.py", "import os\nURI = os.environ.get('DATABASE_URI', 'mysql+pymysql://u:p@localhost/shopdb')\n");
        write(r, "frontend/Dockerfile", "FROM python:3.9\nEXPOSE 8080\n");
        write(r, "frontend/requirements.txt", "flask\nrequests\n");
        write(r, "frontend/templates/index.html", "<html></html>");
        write(r, "frontend/app.py", "import requests\nAPI = 'http://backend:5000'\n");
        let p = detect(r, "shop", src()).unwrap();
        let names: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["backend", "frontend"], "the database's Dockerfile is not a service");
        let db = p.database.as_ref().unwrap();
        assert_eq!((db.image.as_str(), db.schema.as_deref(), db.database.as_str(), db.engine), ("mysql:5.7", Some("database/Create.sql"), "shopdb", DbEngine::Mysql));
        assert_eq!(p.service("backend").unwrap().depends_on, ["db"], "pymysql in its requirements");
        assert!(!p.service("frontend").unwrap().depends_on.contains(&"db".to_string()));
        assert_eq!(p.deploy.entry.as_deref(), Some("frontend"));
        assert_eq!(p.deploy.entry_reason.as_deref(), Some("it serves HTML (frontend/templates/index.html)"));
        assert!(p.committed_secrets.iter().any(|c| c.file == "database/Dockerfile" && c.line == 2), "{:?}", p.committed_secrets);
        assert!(has_fact(&p, "database", "schema loaded from database/Create.sql", "database/Dockerfile line 3"), "{:#?}", p.facts);
    }

    #[test]
    fn postgres_from_a_url_and_manifests_in_any_folder_with_their_nginx_and_secrets() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        write(r, "docker-compose.yml", "services:\n  web:\n    build: web\n    image: acme/shop-web:1.0\n    environment:\n      - DATABASE_URL=postgresql://shop:pw@pg:5432/shop\n  api:\n    build: api\n    image: acme/shop-api\n");
        write(r, "web/Dockerfile", "FROM node:18\nEXPOSE 3000\n");
        write(r, "web/package.json", r#"{"scripts": {"test": "jest"}, "devDependencies": {"jest": "29"}}"#);
        write(r, "api/Dockerfile", "FROM golang:1.19\nEXPOSE 8080\n");
        write(r, "api/go.mod", "module x\n");
        write(r, "api/main_test.go", "package main\n");
        write(r, "sql/init.sql", "CREATE TABLE t (id SERIAL PRIMARY KEY);\n");
        write(
            r,
            "ops/cluster/app.yml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: proxy\ndata:\n  default.conf: |\n    server {\n      location / {\n        proxy_pass http://web-svc:3000;\n      }\n    }\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: acme/shop-web:latest\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web-svc\nspec:\n  selector: {app: web}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: hunter2\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\nspec:\n  template:\n    spec:\n      containers:\n        - name: worker\n          image: acme/mystery:2\n",
        );
        write(r, "charts/x/Chart.yaml", "apiVersion: v2\nname: x\n");
        write(r, "charts/x/templates/d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n");
        let p = detect(r, "shop", src()).unwrap();
        let db = p.database.as_ref().unwrap();
        assert_eq!((db.engine, db.name.as_str(), db.image.as_str(), db.schema.as_deref()), (DbEngine::Postgres, "pg", "postgres:15", Some("sql/init.sql")));
        assert_eq!(p.service("web").unwrap().language.as_deref(), Some("node"));
        assert_eq!(p.service("web").unwrap().test_command, Some(node_test_command("jest")));
        assert_eq!(p.service("api").unwrap().test_command, Some(go_test_command()));
        assert_eq!(p.manifests, ["ops/cluster/app.yml"], "Helm templates are not manifests");
        assert_eq!(p.deploy.entry.as_deref(), Some("web"));
        assert_eq!(p.deploy.entry_reason.as_deref(), Some("ops/cluster/app.yml line 9 proxies to it (web-svc)"));
        assert!(p.committed_secrets.iter().any(|c| c.name == "Secret/creds.password" && c.file == "ops/cluster/app.yml" && c.line == 38), "{:?}", p.committed_secrets);
        assert!(has_fact(&p, "warning", "acme/mystery:2, which matches no service", "ops/cluster/app.yml line 49"), "{:#?}", p.facts);
        assert!(has_fact(&p, "manifest", "Deployment/web runs web", "ops/cluster/app.yml line 24"), "{:#?}", p.facts);
        assert_eq!(match_image(&p, "x", "x", "nginx:stable"), ImageMatch::ThirdParty);
        assert_eq!(match_image(&p, "x", "x", "registry:5000/acme/shop-api:abc"), ImageMatch::Service("api".into()));
        assert_eq!(match_image(&p, "x", "x", "postgres:16"), ImageMatch::Database);
    }

    #[test]
    fn nginx_configs_name_their_targets() {
        let t = "upstream app {\n  server frontend:5000;\n}\nserver {\n  location /api {\n    proxy_pass http://backend:8000;\n  }\n  location / {\n    proxy_pass http://app;\n  }\n}\n";
        let v = nginx_targets(t);
        assert_eq!(v[0], ("frontend".to_string(), 2, true), "{v:?}");
        assert!(v.contains(&("backend".to_string(), 6, false)));
    }

    #[test]
    fn bad_input_is_a_clear_error_naming_the_file_and_line() {
        let d = compose_repo();
        write(d.path(), "slipway.toml", "[project]\nconcurrency = 1\n\n[servics.backend]\ntest = \"x\"\n");
        let e = detect(d.path(), "sample", src()).unwrap_err();
        assert!(e.why.contains("line 4") && e.why.contains("servics"), "{e}");

        write(d.path(), "slipway.toml", "[deploy]\nreplicas = 0\n");
        let e = detect(d.path(), "sample", src()).unwrap_err();
        assert!(e.why.contains("0 replicas"), "{e}");

        let empty = tempfile::tempdir().unwrap();
        write(empty.path(), "README.md", "hi");
        let e = detect(empty.path(), "x", src()).unwrap_err();
        assert!(e.why.contains("no Dockerfile"), "{e}");
        assert!(e.fix.contains("Dockerfile"), "{e}");

        write(empty.path(), "compose.yaml", "services:\n  web:\n    build: .\n    ports: [not, a, map\n");
        let e = detect(empty.path(), "x", src()).unwrap_err();
        assert!(e.why.contains("compose.yaml is not a valid compose file") && e.why.contains("line"), "{e}");

        write(empty.path(), "compose.yaml", "services:\n  web:\n    build: .\n    portz: [\"80\"]\n");
        let e = detect(empty.path(), "x", src()).unwrap_err();
        assert!(e.why.contains("compose.yaml line 2") && e.why.contains("portz"), "{e}");

        write(empty.path(), "compose.yaml", "services:\n  web:\n    build: .\n    environment:\n      KEY: ${SECRET_KEY?set SECRET_KEY in .env}\n");
        let e = detect(empty.path(), "x", src()).unwrap_err();
        assert_eq!(e.why, "compose.yaml line 5 requires the variable SECRET_KEY: set SECRET_KEY in .env");
        assert!(e.fix.contains("Set SECRET_KEY in .env"), "{e}");

        write(empty.path(), "compose.yaml", "services:\n  web:\n    build: .\n    env_file:\n      - config/web.env\n");
        let e = detect(empty.path(), "x", src()).unwrap_err();
        assert!(e.why.contains("compose.yaml line 5") && e.why.contains("config/web.env, which does not exist"), "{e}");
        write(empty.path(), "compose.yaml", "services:\n  web:\n    build: .\n    env_file:\n      - path: config/web.env\n        required: false\n");
        write(empty.path(), "Dockerfile", "FROM x\n");
        assert!(detect(empty.path(), "x", src()).is_ok(), "an optional env file may be missing");

        write(empty.path(), ".env", "GOOD=1\nthis line is broken\n");
        let e = detect(empty.path(), "x", src()).unwrap_err();
        assert!(e.why.contains(".env line 2"), "{e}");
    }

    #[test]
    fn slipway_toml_overrides_and_extends() {
        let d = compose_repo();
        write(
            d.path(),
            "slipway.toml",
            r#"
[project]
concurrency = 2
[services.backend]
test = "pytest -x"
env = { EXTRA = "1" }
timeout = 30
coverage = 80
image = "team/api"
[services.worker]
context = "backend"
tests = false
[database]
engine = "postgres"
schema = ["db/schema.sql", "db/seed.sql"]
[deploy]
replicas = 2
entry = "backend"
"#,
        );
        let p = detect(d.path(), "sample", src()).unwrap();
        assert_eq!(p.concurrency, 2);
        assert_eq!(p.deploy.replicas, 2);
        assert_eq!(p.deploy.entry.as_deref(), Some("backend"));
        assert_eq!(p.deploy.entry_reason.as_deref(), Some("set in slipway.toml line 18"));
        let b = p.service("backend").unwrap();
        assert_eq!(b.test_command.clone().unwrap(), ["sh", "-c", "pytest -x"]);
        assert_eq!(b.env.get("EXTRA").map(String::as_str), Some("1"));
        assert_eq!(b.env.get("DB_HOST").map(String::as_str), Some("db"), "compose env kept");
        assert_eq!((b.timeout_secs, b.coverage_min, b.image.as_deref()), (Some(30), Some(80), Some("team/api")));
        let w = p.service("worker").unwrap();
        assert!(!w.tests);
        let db = p.database.as_ref().unwrap();
        assert_eq!((db.engine, db.scripts()), (DbEngine::Postgres, vec!["db/schema.sql".to_string(), "db/seed.sql".to_string()]));
        assert!(p.detected_from.contains(&"slipway.toml".to_string()));
        assert!(has_fact(&p, "test", "at least 80%", "slipway.toml line 8"), "{:#?}", p.facts);
    }

    #[test]
    fn dockerfiles_are_used_when_there_is_no_compose_file() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "api/Dockerfile", "FROM x\nEXPOSE 5000/tcp\n");
        write(d.path(), "web/Dockerfile", "FROM x\nCMD [\"gunicorn\", \"--bind\", \"0.0.0.0:8080\", \"app:app\"]\n");
        write(d.path(), "node_modules/x/Dockerfile", "FROM x\n");
        let p = detect(d.path(), "two", src()).unwrap();
        let v: Vec<(&str, &str, Option<u16>)> = p.services.iter().map(|s| (s.name.as_str(), s.context.as_str(), s.port)).collect();
        assert_eq!(v, [("api", "api", Some(5000)), ("web", "web", Some(8080))]);
        assert!(p.services.iter().all(|s| s.test_command.is_none()));
    }

    #[test]
    fn secrets_are_recognised_by_name_and_by_credentials_in_urls() {
        assert_eq!(secret_kind("MYSQL_PASSWORD", "x"), Some("a database password"));
        assert_eq!(secret_kind("SECRET_KEY", "x"), Some("a secret key"));
        assert_eq!(secret_kind("GITHUB_TOKEN", "x"), Some("a token"));
        assert_eq!(secret_kind("STRIPE_API_KEY", "x"), Some("a key"));
        assert_eq!(secret_kind("REDIS_URL", "redis://:pw@cache:6379"), Some("a URL with a password"));
        assert_eq!(secret_kind("DATABASE_URI", "mysql+pymysql://u:p@db/x"), Some("a database URL with its password"));
        assert_eq!(secret_kind("DB_HOST", "db"), None);
        assert_eq!(secret_kind("SECRET_KEY", ""), None, "an empty value commits nothing");
        assert_eq!(secret_kind("KEYBOARD_LAYOUT", "us"), None);
    }

    #[test]
    fn a_run_reads_the_secrets_of_its_checkout_whose_folder_has_another_name() {
        let d = tempfile::tempdir().unwrap();
        let repo = d.path().join("hello");
        write(&repo, "Dockerfile", "FROM x\nEXPOSE 80\n");
        write(&repo, "slipway.toml", "[services.hello]\nenv = { API_TOKEN = \"tok-1\" }\n");
        let p = detect(&repo, "hello", src()).unwrap();
        assert_eq!(p.services[0].secret_env, ["API_TOKEN"]);
        assert!(!p.services[0].env.contains_key("API_TOKEN"));
        let checkout = d.path().join("hello-7");
        std::fs::rename(&repo, &checkout).unwrap();
        let v = secret_values(&checkout, &p, &BTreeMap::new()).unwrap();
        assert_eq!(v.get(&("hello".to_string(), "API_TOKEN".to_string())).map(String::as_str), Some("tok-1"));
    }

    #[test]
    fn ids_from_names() {
        assert_eq!(id_from_name("My_App.git"), "my-app");
        assert_eq!(id_from_name("2048-game"), "game");
        assert_eq!(id_from_name("--"), "project");
        assert!(is_id("sample-app") && !is_id("Sample") && !is_id("a-") && !is_id("1a"));
    }
}
