//! A project: the repository and the services found in it. Detection (in [`super::detect`])
//! reads a checked-out folder the way a person would: the compose file with its `.env` and env
//! files, otherwise the Dockerfiles; each service's language and test command; the database
//! (an image service, a database URL, a schema folder); the entry service a browser reaches;
//! Kubernetes manifests in any folder; the settings and the secrets the repository commits.
//! Every fact keeps its source ("from .env line 2"). A `slipway.toml` at the root overrides what
//! was found. Detection only reads files; it never runs anything.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use ts_rs::TS;

pub use super::dburl::DbEngine;
pub use super::detect::{detect, detect_full, secret_values, Detected};
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

impl Default for Source {
    fn default() -> Self {
        Source::Path { path: String::new() }
    }
}

/// An environment variable of a service that holds a database URL: Slipway points it at the
/// database it provides, keeping the scheme, the driver and the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DbUrl {
    pub service: String,
    /// The variable, e.g. `SQLALCHEMY_DATABASE_URI`.
    pub name: String,
    /// `mysql+pymysql`, `postgresql`, ...
    pub scheme: String,
    /// The URL's query (`?charset=utf8mb4`), kept as written.
    #[serde(default)]
    pub query: String,
    /// A `TEST_*` variable: it gets the test database.
    pub test: bool,
    pub source: String,
}

/// The database the services need: Slipway provides it (for the tests, the local deployment
/// and Kubernetes) and loads the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DatabaseSpec {
    /// The host name the services use for it (the compose service name, or the host in their
    /// database URLs).
    pub name: String,
    pub image: String,
    /// A SQL file (relative to the repository root) loaded on first start.
    pub schema: Option<String>,
    pub database: String,
    pub user: String,
    #[serde(default)]
    pub engine: DbEngine,
    /// Every script loaded on first start, in order (`schema` is the first when set). SQL
    /// files and shell scripts, as `/docker-entrypoint-initdb.d` runs them.
    #[serde(default)]
    pub schema_files: Vec<String>,
    /// Other host names the services reach it by (a container_name, the host of a URL).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The services' variables that hold database URLs.
    #[serde(default)]
    pub urls: Vec<DbUrl>,
}

impl DatabaseSpec {
    /// The scripts to load, in order.
    pub fn scripts(&self) -> Vec<String> {
        let mut v: Vec<String> = self.schema.iter().cloned().collect();
        for f in &self.schema_files {
            if !v.contains(f) {
                v.push(f.clone());
            }
        }
        v
    }

    pub fn port(&self) -> u16 {
        self.engine.port()
    }
}

/// A service's health check, as the compose file writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ServiceHealth {
    /// `CMD ...`, `CMD-SHELL ...` (compose's forms).
    pub test: Vec<String>,
    pub interval_ms: u32,
    pub timeout_ms: u32,
    pub retries: u32,
    pub start_period_ms: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
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
    /// Environment from the compose file, its env files and `.env`, or slipway.toml. Only
    /// values that are not secret are kept here; the names in `secret_env` get their values
    /// at run time (the environment's settings in the keychain, else the repository's).
    pub env: BTreeMap<String, String>,
    pub depends_on: Vec<String>,
    /// The test command, run in a one-off container of the service's image as its entrypoint
    /// (the image's ENTRYPOINT is replaced, never appended to). Reports go to `/reports`, a
    /// folder Slipway mounts. None: the service has no tests, which fails the Test stage unless
    /// `tests = false` is set for it in slipway.toml.
    pub test_command: Option<Vec<String>>,
    /// False when slipway.toml says the service has no tests to run.
    pub tests: bool,
    pub build_args: BTreeMap<String, String>,
    /// What the detection saw: "python", "node" or "go".
    pub language: Option<String>,
    /// Path the deployment health-checks (HTTP GET); None = the port accepting connections.
    pub health_path: Option<String>,
    /// The compose `image:` of a built service: manifests that run it name this image.
    #[serde(default)]
    pub image: Option<String>,
    /// Other names the service is reached by (compose `container_name`, `hostname`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Compose `command`: replaces the image's CMD.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Compose `entrypoint`: replaces the image's ENTRYPOINT.
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub healthcheck: Option<ServiceHealth>,
    /// depends_on conditions: `service_started`, `service_healthy`,
    /// `service_completed_successfully`.
    #[serde(default)]
    pub depends_conditions: BTreeMap<String, String>,
    /// Variables whose values are secret (never stored by Slipway).
    #[serde(default)]
    pub secret_env: Vec<String>,
    /// Timeout of each of this service's steps (build, start, tests), in seconds; None: the
    /// pipeline's default.
    #[serde(default)]
    pub timeout_secs: Option<u32>,
    /// The least line coverage (percent) the tests must reach; None: no coverage gate.
    #[serde(default)]
    pub coverage_min: Option<u32>,
    /// Timeout of this service's test suite, in seconds (over `timeout_secs`).
    #[serde(default)]
    pub test_timeout_secs: Option<u32>,
}

impl ServiceSpec {
    pub fn new(name: impl Into<String>, context: impl Into<String>) -> Self {
        ServiceSpec { name: name.into(), context: context.into(), dockerfile: "Dockerfile".into(), tests: true, ..Default::default() }
    }

    /// Every name other containers may use for this service.
    pub fn names(&self) -> Vec<String> {
        let mut v = vec![self.name.clone()];
        for a in &self.aliases {
            if !v.contains(a) {
                v.push(a.clone());
            }
        }
        v
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DeploySpec {
    /// Replicas per service in the local deployment.
    pub replicas: u32,
    /// The service NGINX sends `/` to: the one a browser reaches.
    pub entry: Option<String>,
    /// Loopback port of the NGINX proxy (0 = a free port).
    pub proxy_port: u16,
    /// Why `entry` is the entry service ("nginx/default.conf line 9 proxies / to frontend").
    #[serde(default)]
    pub entry_reason: Option<String>,
}

impl Default for DeploySpec {
    fn default() -> Self {
        Self { replicas: 3, entry: None, proxy_port: 0, entry_reason: None }
    }
}

/// One thing detection found, with where it found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Fact {
    /// `service`, `database`, `entry`, `test`, `manifest`, `setting`, `secret` or `warning`.
    pub topic: String,
    /// What it is about: a service, the database, a variable, a file.
    pub subject: String,
    pub text: String,
    /// "docker-compose.yml services.backend.depends_on", ".env line 2", "database/Create.sql".
    pub source: String,
}

impl Fact {
    pub fn new(topic: &str, subject: impl Into<String>, text: impl Into<String>, source: impl Into<String>) -> Self {
        Fact { topic: topic.into(), subject: subject.into(), text: text.into(), source: source.into() }
    }
}

/// A configuration value of the project (from `.env`, an env file, the compose file or
/// slipway.toml): each environment (test, local, a Kubernetes one) may set its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Setting {
    pub name: String,
    /// The repository's value; None for a secret (never stored).
    pub value: Option<String>,
    /// It looks secret (PASSWORD, SECRET, KEY, TOKEN, a URL with credentials).
    pub secret: bool,
    /// The services that get it.
    pub services: Vec<String>,
    pub source: String,
}

/// A secret the repository commits: reported, and moved to the keychain once the user says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CommittedSecret {
    /// The variable (or `Secret/<name>.<key>` for a Kubernetes Secret in the manifests).
    pub name: String,
    /// "a database password", "a secret key", "a database URL with its password", "a token".
    pub what: String,
    pub file: String,
    pub line: u32,
}

impl CommittedSecret {
    /// "this repository commits a database password in .env line 1 (MYSQL_PASSWORD)".
    pub fn message(&self) -> String {
        format!("this repository commits {} in {} line {} ({})", self.what, self.file, self.line, self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
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
    /// Every detected fact with its source, for the Project page.
    #[serde(default)]
    pub facts: Vec<Fact>,
    /// The configuration values the repository gives (per-environment values are kept apart).
    #[serde(default)]
    pub settings: Vec<Setting>,
    /// Secrets written in the repository's files.
    #[serde(default)]
    pub committed_secrets: Vec<CommittedSecret>,
    /// The compose file read, relative to the project folder.
    #[serde(default)]
    pub compose_file: Option<String>,
}

impl Project {
    pub fn service(&self, name: &str) -> Option<&ServiceSpec> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The service NGINX fronts.
    pub fn entry_service(&self) -> Option<&ServiceSpec> {
        if let Some(e) = &self.deploy.entry {
            if let Some(s) = self.service(e) {
                return Some(s);
            }
        }
        let needed: BTreeSet<&str> = self.services.iter().flat_map(|s| s.depends_on.iter().map(String::as_str)).collect();
        self.services.iter().find(|s| !needed.contains(s.name.as_str())).or(self.services.first())
    }

    /// Does this service use the database (directly)?
    pub fn uses_db(&self, svc: &ServiceSpec) -> bool {
        let Some(db) = &self.database else { return false };
        svc.depends_on.contains(&db.name) || db.urls.iter().any(|u| u.service == svc.name)
    }

    /// Services (transitively) needed by `svc`, dependencies first.
    pub fn dependencies<'a>(&'a self, svc: &ServiceSpec) -> Vec<&'a ServiceSpec> {
        let mut out: Vec<&ServiceSpec> = vec![];
        let mut seen = BTreeSet::new();
        fn visit<'a>(p: &'a Project, name: &str, seen: &mut BTreeSet<String>, out: &mut Vec<&'a ServiceSpec>) {
            let Some(s) = p.service(name) else { return };
            if !seen.insert(name.to_string()) {
                return;
            }
            for d in &s.depends_on {
                visit(p, d, seen, out);
            }
            out.push(s);
        }
        for d in &svc.depends_on {
            visit(self, d, &mut seen, &mut out);
        }
        out.retain(|s| s.name != svc.name);
        out
    }

    /// Every service in start order: a service after the ones it depends on.
    pub fn start_order(&self) -> Vec<&ServiceSpec> {
        let mut out: Vec<&ServiceSpec> = vec![];
        for s in &self.services {
            for d in self.dependencies(s) {
                if !out.iter().any(|o| o.name == d.name) {
                    out.push(d);
                }
            }
            if !out.iter().any(|o| o.name == s.name) {
                out.push(s);
            }
        }
        out
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
            for t in [s.timeout_secs, s.test_timeout_secs].into_iter().flatten() {
                if !(5..=7200).contains(&t) {
                    return bad(format!("service {}: a timeout of {t} s", s.name), "Use 5 to 7200 seconds");
                }
            }
            if let Some(c) = s.coverage_min {
                if c > 100 {
                    return bad(format!("service {}: a coverage threshold of {c}%", s.name), "Use a percentage from 0 to 100");
                }
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

pub(crate) fn detect_error(why: String, fix: &str) -> UserError {
    UserError::new("Project detection failed", why, fix)
}

/// The test command of a Python service: pytest (which also runs unittest and flask_testing
/// suites) writing JUnit XML and Cobertura coverage to /reports. When pytest (or pytest-cov)
/// is not in the image it is installed into the test container; when that fails, the message
/// names the line to add to `requirements` (the service's requirements file).
pub fn python_test_command(requirements: &str) -> Vec<String> {
    let script = format!(
        "PY=$(command -v python3 || command -v python) || {{ echo 'slipway: python is not in the image' >&2; exit 3; }}\n\
if ! \"$PY\" -c 'import pytest' 2>/dev/null || ! \"$PY\" -c 'import pytest_cov' 2>/dev/null; then\n\
  echo 'slipway: pytest or pytest-cov is not in the image: installing them into this test container'\n\
  \"$PY\" -m pip install --no-cache-dir --disable-pip-version-check -q pytest pytest-cov || {{ echo 'slipway: pytest could not be installed: add the line \"pytest\" (and \"pytest-cov\") to {requirements}' >&2; exit 3; }}\n\
fi\n\
exec \"$PY\" -m pytest -q -p no:cacheprovider -o 'python_files=test_*.py *_test.py tests.py test.py' --junitxml=/reports/junit.xml --cov=. --cov-report=xml:/reports/coverage.xml"
    );
    vec!["sh".into(), "-c".into(), script]
}

/// The test command used for Python services without a requirements file.
pub fn default_pytest() -> Vec<String> {
    python_test_command("requirements.txt")
}

/// `npm test` with a JUnit reporter (jest-junit for jest, the built-in one for vitest) and
/// Cobertura coverage, reports in /reports.
pub fn node_test_command(runner: &str) -> Vec<String> {
    let script = match runner {
        "vitest" => "exec npm test -- --run --reporter=default --reporter=junit --outputFile.junit=/reports/junit.xml --coverage.enabled=true --coverage.reporter=cobertura --coverage.reportsDirectory=/reports".to_string(),
        _ => "if ! node -e \"require.resolve('jest-junit')\" 2>/dev/null; then\n  echo 'slipway: jest-junit is not in the image: installing it into this test container (add it to devDependencies to pin it)'\n  npm install --no-save --no-audit --no-fund jest-junit >/dev/null || { echo 'slipway: jest-junit could not be installed: add \"jest-junit\" to devDependencies in package.json' >&2; exit 3; }\nfi\n\
JEST_JUNIT_OUTPUT_DIR=/reports JEST_JUNIT_OUTPUT_NAME=junit.xml exec npm test -- --ci --reporters=default --reporters=jest-junit --coverage --coverageReporters=cobertura --coverageDirectory=/reports".to_string(),
    };
    vec!["sh".into(), "-c".into(), script]
}

/// `go test -json` into /reports/go-test.json (Slipway turns it into JUnit) with a cover
/// profile in /reports/cover.out.
pub fn go_test_command() -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        "command -v go >/dev/null || { echo 'slipway: go is not in the image (a multi-stage build leaves it out): set `test` for this service in slipway.toml' >&2; exit 3; }\ngo test -json -coverprofile=/reports/cover.out ./... > /reports/go-test.json; code=$?\ncat /reports/go-test.json\nexit $code".into(),
    ]
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
    /// The image name the manifests use for this service.
    image: Option<String>,
    /// Seconds each step of this service may take (build, start, tests).
    timeout: Option<u32>,
    /// Seconds its tests may run (over `timeout`).
    test_timeout: Option<u32>,
    /// The least line coverage (percent) its tests must reach.
    coverage: Option<u32>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TestOverride {
    Line(String),
    Argv(Vec<String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseOverrides {
    name: Option<String>,
    image: Option<String>,
    schema: Option<OneOrMany>,
    database: Option<String>,
    user: Option<String>,
    /// "mysql" or "postgres".
    engine: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeployOverrides {
    replicas: Option<u32>,
    entry: Option<String>,
    proxy_port: Option<u16>,
}

/// The 1-based line of `key = ` (or `[section]`) in a TOML text.
fn toml_line(text: &str, section: &str, key: &str) -> usize {
    let mut in_section = section.is_empty();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            in_section = t.trim_matches(|c| c == '[' || c == ']').trim() == section;
            if key.is_empty() && in_section {
                return i + 1;
            }
            continue;
        }
        if in_section && t.split('=').next().map(str::trim) == Some(key) {
            return i + 1;
        }
    }
    1
}

/// Applies a slipway.toml to a detected project. An unknown key or a wrong type is an error
/// naming the line.
pub fn apply_overrides(p: &mut Project, text: &str) -> Result<(), UserError> {
    let o: Overrides = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
        detect_error(format!("slipway.toml is not valid{at}: {}", e.message()), "Fix slipway.toml (examples/sample-app/slipway.toml lists every key), then detect again")
    })?;
    let line = |section: &str, key: &str| format!("slipway.toml line {}", toml_line(text, section, key));
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
            p.facts.push(Fact::new("manifest", "manifests", format!("Kubernetes manifests: {}", m.join(", ")), line("project", "manifests")));
            p.manifests = m;
        }
    }
    for (name, so) in o.services {
        let section = format!("services.{name}");
        let idx = match p.services.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                let ctx = so.context.clone().ok_or_else(|| {
                    detect_error(format!("slipway.toml names a service \"{name}\" that was not detected and gives it no context"), "Add `context = \"folder\"` for it, or fix the name")
                })?;
                p.services.push(ServiceSpec::new(name.clone(), ctx));
                p.facts.push(Fact::new("service", name.clone(), "a service listed in slipway.toml", line(&section, "")));
                p.services.len() - 1
            }
        };
        let mut facts = vec![];
        let s = &mut p.services[idx];
        if let Some(c) = so.context {
            s.context = c;
        }
        if let Some(d) = so.dockerfile {
            s.dockerfile = d;
        }
        if let Some(port) = so.port {
            s.port = Some(port);
            facts.push(Fact::new("service", name.clone(), format!("listens on port {port}"), line(&section, "port")));
        }
        match so.test {
            Some(TestOverride::Line(l)) => {
                facts.push(Fact::new("test", name.clone(), format!("tests: {l}"), line(&section, "test")));
                s.test_command = Some(vec!["sh".into(), "-c".into(), l]);
            }
            Some(TestOverride::Argv(v)) => {
                facts.push(Fact::new("test", name.clone(), format!("tests: {}", v.join(" ")), line(&section, "test")));
                s.test_command = Some(v);
            }
            None => {}
        }
        if let Some(t) = so.tests {
            s.tests = t;
            if !t {
                facts.push(Fact::new("test", name.clone(), "has no tests to run (tests = false)", line(&section, "tests")));
            }
        }
        for (k, v) in so.env {
            s.secret_env.retain(|n| n != &k);
            s.env.insert(k, v);
        }
        if let Some(d) = so.depends_on {
            facts.push(Fact::new("service", name.clone(), format!("depends on {}", d.join(", ")), line(&section, "depends_on")));
            s.depends_on = d;
        }
        s.build_args.extend(so.build_args);
        if let Some(h) = so.health_path {
            s.health_path = Some(h);
        }
        if let Some(i) = so.image {
            facts.push(Fact::new("service", name.clone(), format!("manifests run it as {i}"), line(&section, "image")));
            s.image = Some(i);
        }
        if let Some(t) = so.timeout {
            facts.push(Fact::new("test", name.clone(), format!("each step may take {t} s"), line(&section, "timeout")));
            s.timeout_secs = Some(t);
        }
        if let Some(t) = so.test_timeout {
            facts.push(Fact::new("test", name.clone(), format!("its tests may run {t} s"), line(&section, "test_timeout")));
            s.test_timeout_secs = Some(t);
        }
        if let Some(c) = so.coverage {
            facts.push(Fact::new("test", name.clone(), format!("its tests must cover at least {c}% of the lines"), line(&section, "coverage")));
            s.coverage_min = Some(c);
        }
        p.facts.extend(facts);
    }
    if let Some(d) = o.database {
        let made = p.database.is_none();
        let db = p.database.get_or_insert_with(|| DatabaseSpec {
            name: "db".into(),
            image: "mariadb:10.11".into(),
            database: "app".into(),
            user: "app".into(),
            ..Default::default()
        });
        if let Some(e) = d.engine {
            db.engine = match e.to_ascii_lowercase().as_str() {
                "mysql" | "mariadb" => DbEngine::Mysql,
                "postgres" | "postgresql" => DbEngine::Postgres,
                other => {
                    return Err(detect_error(
                        format!("slipway.toml line {}: the database engine \"{other}\" is not one Slipway provides", toml_line(text, "database", "engine")),
                        "Use engine = \"mysql\" or engine = \"postgres\"",
                    ))
                }
            };
            if made {
                db.image = db.engine.default_image().into();
            }
        }
        if let Some(v) = d.name {
            db.name = v;
        }
        if let Some(v) = d.image {
            if let Some(e) = DbEngine::of_image(&v) {
                db.engine = e;
            }
            db.image = v;
        }
        match d.schema {
            Some(OneOrMany::One(v)) => {
                db.schema = Some(v);
                db.schema_files.clear();
            }
            Some(OneOrMany::Many(v)) => {
                db.schema = None;
                db.schema_files = v;
            }
            None => {}
        }
        if let Some(v) = d.database {
            db.database = v;
        }
        if let Some(v) = d.user {
            db.user = v;
        }
        let text_f = format!("{} database {} ({}), schema {}", db.engine.as_str(), db.name, db.image, if db.scripts().is_empty() { "none".to_string() } else { db.scripts().join(", ") });
        p.facts.push(Fact::new("database", "database", text_f, line("database", "")));
    }
    if let Some(d) = o.deploy {
        if let Some(r) = d.replicas {
            p.deploy.replicas = r;
        }
        if let Some(e) = d.entry {
            let src = line("deploy", "entry");
            p.deploy.entry_reason = Some(format!("set in {src}"));
            p.facts.push(Fact::new("entry", e.clone(), format!("{e} is the entry service"), src));
            p.deploy.entry = Some(e);
        }
        if let Some(port) = d.proxy_port {
            p.deploy.proxy_port = port;
        }
    }
    Ok(())
}
