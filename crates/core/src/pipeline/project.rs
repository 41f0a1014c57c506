//! A project: the repository and the services found in it. Detection reads a checked-out
//! folder: a compose file's services (build context, ports, environment, depends_on), otherwise
//! the Dockerfiles; each service's test command (pytest for Python services); Kubernetes
//! manifests; the environment variables the code reads. A `slipway.toml` at the root overrides
//! and extends what was found. Detection only reads files; it never runs anything.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use ts_rs::TS;

use crate::UserError;

/// Where the code comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum Source {
    /// A Git repository on this machine (its committed state is what runs).
    #[serde(rename_all = "camelCase")]
    Path { path: String },
    /// A Git URL (https, ssh or file). GitHub HTTPS URLs use the connected token.
    #[serde(rename_all = "camelCase")]
    Git { url: String },
}

impl Source {
    pub fn display(&self) -> &str {
        match self {
            Source::Path { path } => path,
            Source::Git { url } => url,
        }
    }
}

/// The database the services need: started next to the tests and the local deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DatabaseSpec {
    /// The compose service name, used as the host name the services connect to.
    pub name: String,
    pub image: String,
    /// A SQL file (relative to the repository root) loaded on first start.
    pub schema: Option<String>,
    pub database: String,
    pub user: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ServiceSpec {
    pub name: String,
    /// Build context, relative to the repository root ("." for the root).
    pub context: String,
    /// Dockerfile, relative to the context.
    pub dockerfile: String,
    /// The port the service listens on inside its container.
    pub port: Option<u16>,
    /// Environment from the compose file or slipway.toml. Values here are not secret: secrets
    /// are referenced by name and resolved at run time.
    pub env: BTreeMap<String, String>,
    pub depends_on: Vec<String>,
    /// The test command, run inside the service's image. None: the service has no tests, which
    /// fails the Test stage unless `tests = false` is set for it in slipway.toml.
    pub test_command: Option<Vec<String>>,
    /// False when slipway.toml says the service has no tests to run.
    pub tests: bool,
    pub build_args: BTreeMap<String, String>,
    /// What the detection saw (e.g. "python"), for the Project page.
    pub language: Option<String>,
    /// Path the deployment health-checks (HTTP GET); None = the port accepting connections.
    pub health_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DeploySpec {
    /// Replicas per service in the local deployment.
    pub replicas: u32,
    /// The service NGINX sends `/` to (the first service nothing depends on, by default).
    pub entry: Option<String>,
    /// Loopback port of the NGINX proxy (0 = a free port).
    pub proxy_port: u16,
}

impl Default for DeploySpec {
    fn default() -> Self {
        Self { replicas: 3, entry: None, proxy_port: 0 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Project {
    /// A short id: lowercase letters, digits and dashes (used in image names and labels).
    pub id: String,
    pub source: Source,
    /// The project's folder inside the repository ("" = the repository's root).
    #[serde(default)]
    pub subdir: String,
    /// Branch, tag or commit to run when none is given ("HEAD" = the default branch).
    pub git_ref: String,
    pub services: Vec<ServiceSpec>,
    pub database: Option<DatabaseSpec>,
    /// Kubernetes manifest files, relative to the repository root.
    pub manifests: Vec<String>,
    /// Environment variable names the code reads (from os.environ / os.getenv / getenv calls).
    pub env_vars: Vec<String>,
    pub deploy: DeploySpec,
    /// How many runs of this project may run at once; more wait in the queue.
    pub concurrency: u32,
    /// Where the detection found its facts ("docker-compose.yml", "slipway.toml", ...).
    pub detected_from: Vec<String>,
}

impl Project {
    pub fn service(&self, name: &str) -> Option<&ServiceSpec> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The service NGINX fronts.
    pub fn entry_service(&self) -> Option<&ServiceSpec> {
        if let Some(e) = &self.deploy.entry {
            return self.service(e);
        }
        let needed: BTreeSet<&str> = self.services.iter().flat_map(|s| s.depends_on.iter().map(String::as_str)).collect();
        self.services.iter().find(|s| !needed.contains(s.name.as_str())).or(self.services.first())
    }

    /// Checks what a person may have edited on the Project page.
    pub fn validate(&self) -> Result<(), UserError> {
        let bad = |why: String, fix: &str| Err(UserError::new("Project settings are not valid", why, fix));
        if !is_id(&self.id) {
            return bad(format!("the project id \"{}\" is not a short name", self.id), "Use lowercase letters, digits and dashes (up to 40), starting with a letter");
        }
        if self.subdir.contains("..") || Path::new(&self.subdir).is_absolute() {
            return bad(format!("the folder \"{}\" is outside the repository", self.subdir), "Use a folder inside the repository");
        }
        if self.services.is_empty() {
            return bad("no services".into(), "Add a Dockerfile or a compose file with a build section to the repository, or list services in slipway.toml");
        }
        let mut seen = BTreeSet::new();
        for s in &self.services {
            if !is_id(&s.name) {
                return bad(format!("the service name \"{}\" is not a short name", s.name), "Use lowercase letters, digits and dashes");
            }
            if !seen.insert(&s.name) {
                return bad(format!("two services are called \"{}\"", s.name), "Rename one of them");
            }
            if s.context.contains("..") || Path::new(&s.context).is_absolute() {
                return bad(format!("service {}: the build context \"{}\" is outside the repository", s.name, s.context), "Use a folder inside the repository");
            }
        }
        for s in &self.services {
            for d in &s.depends_on {
                if self.service(d).is_none() && self.database.as_ref().map(|db| &db.name) != Some(d) {
                    return bad(format!("service {} depends on \"{d}\", which is neither a service nor the database", s.name), "Fix depends_on in the compose file or slipway.toml");
                }
            }
        }
        if self.deploy.replicas == 0 || self.deploy.replicas > 20 {
            return bad(format!("{} replicas per service", self.deploy.replicas), "Use 1 to 20 replicas");
        }
        if self.concurrency == 0 {
            return bad("a concurrency of 0 would never run anything".into(), "Use 1 or more");
        }
        if let Some(e) = &self.deploy.entry {
            if self.service(e).is_none() {
                return bad(format!("the entry service \"{e}\" does not exist"), "Pick one of the project's services");
            }
        }
        super::confine::check_project(self)
    }
}

pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.ends_with('-')
}

/// Turns a folder or repository name into a project id.
pub fn id_from_name(name: &str) -> String {
    let mut id: String = name
        .trim_end_matches(".git")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect();
    while id.contains("--") {
        id = id.replace("--", "-");
    }
    let id = id.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-').trim_end_matches('-').to_string();
    let id: String = id.chars().take(40).collect();
    let id = id.trim_end_matches('-').to_string();
    if id.is_empty() {
        "project".into()
    } else {
        id
    }
}

fn detect_error(why: String, fix: &str) -> UserError {
    UserError::new("Project detection failed", why, fix)
}

const COMPOSE_FILES: [&str; 4] = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];
const DB_IMAGES: [&str; 3] = ["mariadb", "mysql", "postgres"];

/// Detects the project in a checked-out repository folder.
pub fn detect(root: &Path, id: &str, source: Source) -> Result<Project, UserError> {
    if !root.is_dir() {
        return Err(detect_error(format!("{} is not a folder", root.display()), "Check the repository path"));
    }
    super::confine::check_detect_inputs(root)?;
    let mut p = Project {
        id: id.to_string(),
        source,
        subdir: String::new(),
        git_ref: "HEAD".into(),
        services: vec![],
        database: None,
        manifests: vec![],
        env_vars: vec![],
        deploy: DeploySpec::default(),
        concurrency: 1,
        detected_from: vec![],
    };
    if let Some(f) = COMPOSE_FILES.iter().find(|f| root.join(f).is_file()) {
        from_compose(root, f, &mut p)?;
        p.detected_from.push(f.to_string());
    }
    if p.services.is_empty() {
        for df in find_files(root, 3, &|name| name == "Dockerfile") {
            let dir = df.parent().unwrap_or(root);
            let rel = rel_path(root, dir);
            let name = if rel == "." { id_from_name(&dir_name(root)) } else { id_from_name(&dir_name(dir)) };
            p.services.push(new_service(name, rel));
            p.detected_from.push(rel_path(root, &df));
        }
    }
    for s in &mut p.services {
        let ctx = root.join(&s.context);
        if is_python(&ctx) {
            s.language = Some("python".into());
            if s.test_command.is_none() && has_python_tests(&ctx) {
                s.test_command = Some(default_pytest());
            }
        }
        if s.port.is_none() {
            s.port = dockerfile_expose(&ctx.join(&s.dockerfile));
        }
        if s.health_path.is_none() && file_mentions(&ctx, "/healthz") {
            s.health_path = Some("/healthz".into());
        }
    }
    p.manifests = find_manifests(root);
    p.env_vars = find_env_vars(root, &p);
    let toml_path = root.join("slipway.toml");
    if toml_path.is_file() {
        let text = std::fs::read_to_string(&toml_path)
            .map_err(|e| detect_error(format!("cannot read slipway.toml: {e}"), "Check the file's permissions"))?;
        apply_overrides(&mut p, &text)?;
        p.detected_from.push("slipway.toml".into());
    }
    if p.services.is_empty() {
        return Err(detect_error(
            format!("no Dockerfile and no compose service with a build section in {}", root.display()),
            "Add a Dockerfile for each service (or a compose file), or list the services in slipway.toml",
        ));
    }
    p.services.sort_by(|a, b| a.name.cmp(&b.name));
    p.validate()?;
    Ok(p)
}

/// The test command used for Python services unless slipway.toml sets one: JUnit XML and
/// Cobertura coverage land in /reports, where the Test stage collects them.
pub fn default_pytest() -> Vec<String> {
    ["pytest", "-q", "--junitxml=/reports/junit.xml", "--cov=.", "--cov-report=xml:/reports/coverage.xml"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn new_service(name: String, context: String) -> ServiceSpec {
    ServiceSpec {
        name,
        context,
        dockerfile: "Dockerfile".into(),
        port: None,
        env: BTreeMap::new(),
        depends_on: vec![],
        test_command: None,
        tests: true,
        build_args: BTreeMap::new(),
        language: None,
        health_path: None,
    }
}

fn dir_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "app".into())
}

fn rel_path(root: &Path, p: &Path) -> String {
    match p.strip_prefix(root) {
        Ok(r) if r.as_os_str().is_empty() => ".".into(),
        Ok(r) => r.to_string_lossy().replace('\\', "/"),
        Err(_) => p.to_string_lossy().into_owned(),
    }
}

const SKIP_DIRS: [&str; 6] = [".git", "node_modules", "target", ".venv", "venv", "__pycache__"];

fn find_files(root: &Path, depth: usize, want: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
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

// --- compose ---------------------------------------------------------------------------------

#[derive(Deserialize)]
struct ComposeFile {
    #[serde(default)]
    services: BTreeMap<String, ComposeService>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ComposeBuild {
    Context(String),
    Full {
        #[serde(default)]
        context: Option<String>,
        #[serde(default)]
        dockerfile: Option<String>,
        #[serde(default)]
        args: Option<KeyValues>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum KeyValues {
    Map(BTreeMap<String, Option<serde_json::Value>>),
    List(Vec<String>),
}

impl KeyValues {
    fn into_map(self) -> BTreeMap<String, String> {
        match self {
            KeyValues::Map(m) => m
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        None | Some(serde_json::Value::Null) => String::new(),
                        Some(serde_json::Value::String(s)) => s,
                        Some(other) => other.to_string(),
                    };
                    (k, v)
                })
                .collect(),
            KeyValues::List(l) => l
                .into_iter()
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (kv, String::new()),
                })
                .collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ComposePort {
    Short(serde_json::Value),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum DependsOn {
    List(Vec<String>),
    Map(BTreeMap<String, serde_json::Value>),
}

#[derive(Deserialize)]
struct ComposeService {
    #[serde(default)]
    build: Option<ComposeBuild>,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    ports: Vec<ComposePort>,
    #[serde(default)]
    expose: Vec<serde_json::Value>,
    #[serde(default)]
    environment: Option<KeyValues>,
    #[serde(default)]
    depends_on: Option<DependsOn>,
    #[serde(default)]
    volumes: Vec<serde_json::Value>,
}

/// The container port of a compose `ports` entry: "8000", "8080:80", "127.0.0.1:8080:80/tcp",
/// a number, or the long form `{target: 80}`.
fn container_port(v: &serde_json::Value) -> Option<u16> {
    match v {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        serde_json::Value::String(s) => {
            let s = s.split('/').next().unwrap_or(s);
            s.rsplit(':').next().and_then(|p| p.split('-').next()).and_then(|p| p.trim().parse().ok())
        }
        serde_json::Value::Object(o) => o.get("target").and_then(container_port),
        _ => None,
    }
}

fn from_compose(root: &Path, file: &str, p: &mut Project) -> Result<(), UserError> {
    let text = std::fs::read_to_string(root.join(file)).map_err(|e| detect_error(format!("cannot read {file}: {e}"), "Check the file's permissions"))?;
    let compose: ComposeFile = serde_saphyr::from_str(&text).map_err(|e| {
        detect_error(format!("{file} is not a valid compose file: {e}"), "Fix the YAML (docker compose config shows the same problem), then detect again")
    })?;
    let mut db_names = BTreeSet::new();
    for (name, svc) in compose.services {
        let env = svc.environment.map(KeyValues::into_map).unwrap_or_default();
        let depends_on = match svc.depends_on {
            Some(DependsOn::List(l)) => l,
            Some(DependsOn::Map(m)) => m.into_keys().collect(),
            None => vec![],
        };
        match svc.build {
            Some(build) => {
                let (context, dockerfile, args) = match build {
                    ComposeBuild::Context(c) => (c, None, None),
                    ComposeBuild::Full { context, dockerfile, args } => (context.unwrap_or_else(|| ".".into()), dockerfile, args),
                };
                let context = context.trim_start_matches("./").trim_end_matches('/').to_string();
                let context = if context.is_empty() { ".".into() } else { context };
                let mut s = new_service(id_from_name(&name), context);
                if let Some(d) = dockerfile {
                    s.dockerfile = d;
                }
                s.build_args = args.map(KeyValues::into_map).unwrap_or_default();
                s.port = svc.ports.iter().find_map(|ComposePort::Short(v)| container_port(v)).or_else(|| svc.expose.iter().find_map(container_port));
                s.env = env;
                s.depends_on = depends_on;
                p.services.push(s);
            }
            None => {
                let image = svc.image.unwrap_or_default();
                let base = image.rsplit('/').next().unwrap_or(&image).split(':').next().unwrap_or("").to_string();
                if p.database.is_none() && DB_IMAGES.contains(&base.as_str()) && base != "postgres" {
                    let get = |keys: &[&str]| keys.iter().find_map(|k| env.get(*k).cloned()).unwrap_or_default();
                    let schema = svc.volumes.iter().find_map(|v| {
                        let s = v.as_str()?;
                        let (host, target) = s.split_once(':')?;
                        let target = target.split(':').next()?;
                        if !target.starts_with("/docker-entrypoint-initdb.d") || !host.ends_with(".sql") {
                            return None;
                        }
                        Some(host.trim_start_matches("./").to_string())
                    });
                    p.database = Some(DatabaseSpec {
                        name: name.clone(),
                        image,
                        schema,
                        database: get(&["MARIADB_DATABASE", "MYSQL_DATABASE"]),
                        user: get(&["MARIADB_USER", "MYSQL_USER"]),
                    });
                    db_names.insert(name);
                }
            }
        }
    }
    // depends_on may name image-only services other than the database (a cache, say): keep
    // only what Slipway runs.
    let known: BTreeSet<String> = p.services.iter().map(|s| s.name.clone()).chain(db_names).collect();
    for s in &mut p.services {
        s.depends_on.retain(|d| known.contains(d));
    }
    Ok(())
}

// --- facts from files -------------------------------------------------------------------------

fn is_python(ctx: &Path) -> bool {
    ["requirements.txt", "pyproject.toml", "setup.py", "Pipfile"].iter().any(|f| ctx.join(f).is_file())
}

fn has_python_tests(ctx: &Path) -> bool {
    ctx.join("tests").is_dir()
        || !find_files(ctx, 2, &|n| (n.starts_with("test_") || n.ends_with("_test.py")) && n.ends_with(".py")).is_empty()
        || std::fs::read_to_string(ctx.join("requirements.txt")).map(|t| t.contains("pytest")).unwrap_or(false)
}

fn dockerfile_expose(path: &Path) -> Option<u16> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let l = l.trim();
        let rest = l.strip_prefix("EXPOSE ").or_else(|| l.strip_prefix("expose "))?;
        rest.split_whitespace().next()?.split('/').next()?.parse().ok()
    })
}

fn file_mentions(ctx: &Path, needle: &str) -> bool {
    find_files(ctx, 2, &|n| n.ends_with(".py") && !n.starts_with("test_"))
        .iter()
        .any(|f| std::fs::read_to_string(f).map(|t| t.contains(needle)).unwrap_or(false))
}

const MANIFEST_DIRS: [&str; 5] = ["k8s", "kubernetes", "manifests", "deploy", ".k8s"];

fn find_manifests(root: &Path) -> Vec<String> {
    let mut out = vec![];
    for d in MANIFEST_DIRS {
        let dir = root.join(d);
        if !dir.is_dir() {
            continue;
        }
        for f in find_files(&dir, 2, &|n| n.ends_with(".yaml") || n.ends_with(".yml")) {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            if text.lines().any(|l| l.starts_with("apiVersion:")) && text.lines().any(|l| l.starts_with("kind:")) {
                out.push(rel_path(root, &f));
            }
        }
    }
    out
}

/// Names read through `os.environ["X"]`, `os.environ.get("X")`, `os.getenv("X")`,
/// `process.env.X` or `std::env::var("X")` in the services' code, plus the compose environment.
fn find_env_vars(root: &Path, p: &Project) -> Vec<String> {
    let mut names: BTreeSet<String> = p.services.iter().flat_map(|s| s.env.keys().cloned()).collect();
    let patterns = ["os.environ[\"", "os.environ['", "os.environ.get(\"", "os.environ.get('", "os.getenv(\"", "os.getenv('", "env::var(\"", "process.env."];
    for s in &p.services {
        let ctx = root.join(&s.context);
        for f in find_files(&ctx, 3, &|n| [".py", ".js", ".ts", ".rs"].iter().any(|e| n.ends_with(e))) {
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

// --- slipway.toml ----------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Overrides {
    #[serde(default)]
    project: Option<ProjectOverrides>,
    #[serde(default)]
    services: BTreeMap<String, ServiceOverrides>,
    #[serde(default)]
    database: Option<DatabaseOverrides>,
    #[serde(default)]
    deploy: Option<DeployOverrides>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectOverrides {
    id: Option<String>,
    git_ref: Option<String>,
    concurrency: Option<u32>,
    manifests: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceOverrides {
    context: Option<String>,
    dockerfile: Option<String>,
    port: Option<u16>,
    test: Option<TestOverride>,
    tests: Option<bool>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    depends_on: Option<Vec<String>>,
    #[serde(default)]
    build_args: BTreeMap<String, String>,
    health_path: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TestOverride {
    Line(String),
    Argv(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseOverrides {
    name: Option<String>,
    image: Option<String>,
    schema: Option<String>,
    database: Option<String>,
    user: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeployOverrides {
    replicas: Option<u32>,
    entry: Option<String>,
    proxy_port: Option<u16>,
}

/// Applies a slipway.toml to a detected project. An unknown key or a wrong type is an error
/// naming the line.
pub fn apply_overrides(p: &mut Project, text: &str) -> Result<(), UserError> {
    let o: Overrides = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
        detect_error(format!("slipway.toml is not valid{at}: {}", e.message()), "Fix slipway.toml (examples/sample-app/slipway.toml lists every key), then detect again")
    })?;
    if let Some(po) = o.project {
        if let Some(id) = po.id {
            p.id = id;
        }
        if let Some(r) = po.git_ref {
            p.git_ref = r;
        }
        if let Some(c) = po.concurrency {
            p.concurrency = c;
        }
        if let Some(m) = po.manifests {
            p.manifests = m;
        }
    }
    for (name, so) in o.services {
        let idx = match p.services.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                let ctx = so.context.clone().ok_or_else(|| {
                    detect_error(format!("slipway.toml names a service \"{name}\" that was not detected and gives it no context"), "Add `context = \"folder\"` for it, or fix the name")
                })?;
                p.services.push(new_service(name.clone(), ctx));
                p.services.len() - 1
            }
        };
        let s = &mut p.services[idx];
        if let Some(c) = so.context {
            s.context = c;
        }
        if let Some(d) = so.dockerfile {
            s.dockerfile = d;
        }
        if let Some(port) = so.port {
            s.port = Some(port);
        }
        match so.test {
            Some(TestOverride::Line(l)) => s.test_command = Some(vec!["sh".into(), "-c".into(), l]),
            Some(TestOverride::Argv(v)) => s.test_command = Some(v),
            None => {}
        }
        if let Some(t) = so.tests {
            s.tests = t;
        }
        s.env.extend(so.env);
        if let Some(d) = so.depends_on {
            s.depends_on = d;
        }
        s.build_args.extend(so.build_args);
        if let Some(h) = so.health_path {
            s.health_path = Some(h);
        }
    }
    if let Some(d) = o.database {
        let db = p.database.get_or_insert_with(|| DatabaseSpec {
            name: "db".into(),
            image: "mariadb:10.11".into(),
            schema: None,
            database: "app".into(),
            user: "app".into(),
        });
        if let Some(v) = d.name {
            db.name = v;
        }
        if let Some(v) = d.image {
            db.image = v;
        }
        if let Some(v) = d.schema {
            db.schema = Some(v);
        }
        if let Some(v) = d.database {
            db.database = v;
        }
        if let Some(v) = d.user {
            db.user = v;
        }
    }
    if let Some(d) = o.deploy {
        if let Some(r) = d.replicas {
            p.deploy.replicas = r;
        }
        if let Some(e) = d.entry {
            p.deploy.entry = Some(e);
        }
        if let Some(port) = d.proxy_port {
            p.deploy.proxy_port = port;
        }
    }
    Ok(())
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
        assert_eq!(b.test_command, Some(default_pytest()), "pytest in requirements.txt");
        assert_eq!(b.health_path.as_deref(), Some("/healthz"));
        let f = p.service("frontend").unwrap();
        assert_eq!((f.dockerfile.as_str(), f.port), ("Dockerfile.prod", Some(8080)));
        assert_eq!(f.build_args.get("BASE_IMAGE").map(String::as_str), Some("python:3.11-slim"));
        assert_eq!(f.depends_on, vec!["backend".to_string()]);
        assert!(f.test_command.is_some(), "a tests/ folder");
        let db = p.database.clone().unwrap();
        assert_eq!((db.name.as_str(), db.image.as_str(), db.schema.as_deref(), db.database.as_str()), ("db", "mariadb:10.11", Some("db/schema.sql"), "sample"));
        assert_eq!(p.manifests, vec!["k8s/backend.yaml".to_string()]);
        assert_eq!(p.env_vars, ["BACKEND_URL", "DB_HOST", "DB_NAME", "DB_PASSWORD"]);
        assert_eq!(p.entry_service().unwrap().name, "frontend");
    }

    #[test]
    fn dockerfiles_are_used_when_there_is_no_compose_file() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "api/Dockerfile", "FROM x\nEXPOSE 5000/tcp\n");
        write(d.path(), "web/Dockerfile", "FROM x\n");
        write(d.path(), "node_modules/x/Dockerfile", "FROM x\n");
        let p = detect(d.path(), "two", src()).unwrap();
        let v: Vec<(&str, &str, Option<u16>)> = p.services.iter().map(|s| (s.name.as_str(), s.context.as_str(), s.port)).collect();
        assert_eq!(v, [("api", "api", Some(5000)), ("web", "web", None)]);
        assert!(p.services.iter().all(|s| s.test_command.is_none()));
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
[services.worker]
context = "backend"
tests = false
[deploy]
replicas = 2
entry = "frontend"
"#,
        );
        let p = detect(d.path(), "sample", src()).unwrap();
        assert_eq!(p.concurrency, 2);
        assert_eq!(p.deploy.replicas, 2);
        let b = p.service("backend").unwrap();
        assert_eq!(b.test_command.clone().unwrap(), ["sh", "-c", "pytest -x"]);
        assert_eq!(b.env.get("EXTRA").map(String::as_str), Some("1"));
        assert_eq!(b.env.get("DB_HOST").map(String::as_str), Some("db"), "compose env kept");
        let w = p.service("worker").unwrap();
        assert!(!w.tests);
        assert!(p.detected_from.contains(&"slipway.toml".to_string()));
    }

    #[test]
    fn bad_input_is_a_clear_error() {
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

        write(empty.path(), "compose.yaml", "services: [not, a, map");
        let e = detect(empty.path(), "x", src()).unwrap_err();
        assert!(e.why.contains("compose.yaml is not a valid compose file"), "{e}");
    }

    #[test]
    fn ids_from_names() {
        assert_eq!(id_from_name("My_App.git"), "my-app");
        assert_eq!(id_from_name("2048-game"), "game");
        assert_eq!(id_from_name("--"), "project");
        assert!(is_id("sample-app") && !is_id("Sample") && !is_id("a-") && !is_id("1a"));
    }
}
