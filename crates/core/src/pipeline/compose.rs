//! Compose files as compose reads them: `.env` (through `dotenvy`) and `${VAR}`,
//! `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `${VAR:+alt}` and
//! `$$` interpolation, `env_file` (short and long syntax), then the typed model of the
//! `docker-compose-types` crate for each service. Every value keeps where it came from (file and
//! line), so detection can say "from .env line 2". Nothing here runs anything.

use docker_compose_types as dct;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

use crate::UserError;

/// A value read from a file, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced {
    pub value: String,
    /// Path relative to the repository root.
    pub file: String,
    pub line: usize,
}

impl Sourced {
    pub fn source(&self) -> String {
        format!("{} line {}", self.file, self.line)
    }
}

/// One variable of a service's environment after interpolation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvValue {
    pub name: String,
    pub value: String,
    /// Where the value itself is written: the `.env` line of a `${VAR}` it is made of, the
    /// env_file line, or the compose file's line.
    pub file: String,
    pub line: usize,
    /// The `.env` variables it was interpolated from.
    pub vars: Vec<String>,
}

impl EnvValue {
    pub fn source(&self) -> String {
        format!("{} line {}", self.file, self.line)
    }
}

/// A compose service: the crate's typed model plus what Slipway reads around it.
#[derive(Debug, Clone)]
pub struct ComposeService {
    pub name: String,
    /// The line of `  name:` in the compose file.
    pub line: usize,
    pub svc: dct::Service,
    /// The environment as the container gets it: env_file entries first, `environment` over
    /// them.
    pub env: Vec<EnvValue>,
    /// The env files read, relative to the repository root.
    pub env_files: Vec<String>,
    /// Volumes in their short form `source:target[:mode]` (long ones converted).
    pub volumes: Vec<String>,
}

impl ComposeService {
    pub fn env_value(&self, name: &str) -> Option<&EnvValue> {
        self.env.iter().rev().find(|e| e.name == name)
    }
}

/// A loaded compose file.
#[derive(Debug, Clone)]
pub struct ComposeDoc {
    /// The compose file, relative to the repository root.
    pub file: String,
    pub text: String,
    pub services: Vec<ComposeService>,
    /// The `.env` next to the compose file (None when there is none).
    pub dotenv: Option<String>,
    /// The `.env` variables with where each is defined.
    pub vars: BTreeMap<String, Sourced>,
    /// Things worth telling the user (an unset variable, a key Slipway does not use).
    pub warnings: Vec<(String, String)>,
}

impl ComposeDoc {
    pub fn service(&self, name: &str) -> Option<&ComposeService> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The line of a key path (`services`, `backend`, `depends_on`) in the compose file.
    pub fn line_of(&self, path: &[&str]) -> Option<usize> {
        yaml_line(&self.text, path)
    }
}

fn compose_error(why: String, fix: impl Into<String>) -> UserError {
    UserError::new("Project detection failed", why, fix)
}

// --- .env files -------------------------------------------------------------------------------

/// Reads a `.env`-style file with dotenvy: each variable with its line (the last definition
/// wins, as in compose). A line dotenvy cannot parse is an error naming the file and line.
pub fn read_env_file(root: &Path, rel: &str) -> Result<Vec<Sourced>, std::io::Error> {
    let path = super::confine::inside(root, "the env file", rel).map_err(|e| std::io::Error::new(std::io::ErrorKind::PermissionDenied, e.why))?;
    let text = std::fs::read_to_string(path)?;
    Ok(parse_env_text(&text, rel).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?.into_iter().map(|(_, v)| v).collect())
}

/// Parses the text of an env file: (name, value with its line), in file order.
pub fn parse_env_text(text: &str, rel: &str) -> Result<Vec<(String, Sourced)>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let line_of = |key: &str| -> usize {
        lines
            .iter()
            .rposition(|l| {
                let t = l.trim_start();
                let t = t.strip_prefix("export ").map(str::trim_start).unwrap_or(t);
                t.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map(|i| i + 1)
            .unwrap_or(1)
    };
    let mut out: Vec<(String, Sourced)> = vec![];
    let text = lenient_env_text(text);
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((k, v)) => {
                let line = line_of(&k);
                out.retain(|(n, _)| n != &k);
                out.push((k, Sourced { value: v, file: rel.to_string(), line }));
            }
            Err(dotenvy::Error::LineParse(content, at)) => {
                let n = lines.iter().position(|l| l.contains(content.trim_end())).map(|i| i + 1).unwrap_or(1);
                return Err(format!("{rel} line {n} cannot be read (at character {}): {}", at + 1, content.trim_end()));
            }
            Err(e) => return Err(format!("{rel}: {e}")),
        }
    }
    Ok(out)
}

/// Compose takes an unquoted value as written up to an inline ` #` comment, spaces included
/// (`SIGNATURE=-- the team`); dotenvy wants such a value quoted. Those lines are given double
/// quotes (escaped), so dotenvy reads what compose reads; every other line is left as it is.
fn lenient_env_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b.strip_suffix('\r').unwrap_or(b), &line[b.len()..]),
            None => (line, ""),
        };
        let t = body.trim_start();
        let rewritten = (|| {
            if t.starts_with('#') {
                return None;
            }
            let (key, value) = body.split_once('=')?;
            let value = value.trim_start();
            if value.starts_with('"') || value.starts_with('\'') {
                return None;
            }
            let value = match value.find(" #") {
                Some(i) => &value[..i],
                None => value,
            }
            .trim_end();
            if !value.contains(char::is_whitespace) {
                return None;
            }
            Some(format!("{key}=\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\"")))
        })();
        out.push_str(rewritten.as_deref().unwrap_or(body));
        out.push_str(nl);
    }
    out
}

// --- interpolation -----------------------------------------------------------------------------

/// What interpolating one string found.
#[derive(Debug, Default)]
pub struct Interpolated {
    pub value: String,
    /// Variables used (set or not).
    pub used: Vec<String>,
    /// Variables used without a value and without a default.
    pub unset: Vec<String>,
}

/// An unset `${VAR?message}`: the variable and its message.
#[derive(Debug, PartialEq, Eq)]
pub struct Required {
    pub var: String,
    pub message: String,
}

/// Compose's interpolation of one string. `vars` holds the values (an empty value counts as
/// set for `-`, `?` and `+`, and as unset for `:-`, `:?` and `:+`).
pub fn interpolate(s: &str, vars: &dyn Fn(&str) -> Option<String>) -> Result<Interpolated, Required> {
    let mut out = Interpolated::default();
    let b = s.as_bytes();
    let mut i = 0;
    let mut value = String::new();
    while i < b.len() {
        if b[i] != b'$' {
            let next = s[i..].find('$').map(|n| i + n).unwrap_or(b.len());
            value.push_str(&s[i..next]);
            i = next;
            continue;
        }
        // `$$` is a literal dollar.
        if b.get(i + 1) == Some(&b'$') {
            value.push('$');
            i += 2;
            continue;
        }
        if b.get(i + 1) == Some(&b'{') {
            // Find the matching brace (defaults may nest `${...}`).
            let mut depth = 0usize;
            let mut j = i + 1;
            let mut end = None;
            while j < b.len() {
                match b[j] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(j);
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            let Some(end) = end else {
                value.push_str(&s[i..]);
                break;
            };
            let inner = &s[i + 2..end];
            let name_len = inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(inner.len());
            let (name, rest) = inner.split_at(name_len);
            out.used.push(name.to_string());
            let got = vars(name);
            let (colon, op, arg) = if let Some(r) = rest.strip_prefix(':') {
                (true, r.chars().next(), r.get(1..).unwrap_or(""))
            } else {
                (false, rest.chars().next(), rest.get(1..).unwrap_or(""))
            };
            let is_set = match &got {
                Some(v) => !(colon && v.is_empty()),
                None => false,
            };
            let sub = |t: &str, out: &mut Interpolated| -> Result<String, Required> {
                let r = interpolate(t, vars)?;
                out.used.extend(r.used);
                out.unset.extend(r.unset);
                Ok(r.value)
            };
            match op {
                None => {
                    if got.is_none() {
                        out.unset.push(name.to_string());
                    }
                    value.push_str(got.as_deref().unwrap_or(""));
                }
                Some('-') => {
                    if is_set {
                        value.push_str(got.as_deref().unwrap_or(""));
                    } else {
                        value.push_str(&sub(arg, &mut out)?);
                    }
                }
                Some('?') => {
                    if is_set {
                        value.push_str(got.as_deref().unwrap_or(""));
                    } else {
                        let message = sub(arg, &mut out)?;
                        return Err(Required { var: name.to_string(), message });
                    }
                }
                Some('+') => {
                    if is_set {
                        value.push_str(&sub(arg, &mut out)?);
                    }
                }
                Some(_) => value.push_str(&s[i..=end]),
            }
            i = end + 1;
            continue;
        }
        // `$NAME`
        let rest = &s[i + 1..];
        let n = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        if n == 0 || rest.starts_with(|c: char| c.is_ascii_digit()) {
            value.push('$');
            i += 1;
            continue;
        }
        let name = &rest[..n];
        out.used.push(name.to_string());
        match vars(name) {
            Some(v) => value.push_str(&v),
            None => out.unset.push(name.to_string()),
        }
        i += 1 + n;
    }
    out.value = value;
    Ok(out)
}

/// The 1-based line of the first line containing `needle` at or after `from` (1-based).
pub fn find_line(text: &str, from: usize, needle: &str) -> Option<usize> {
    text.lines().enumerate().skip(from.saturating_sub(1)).find(|(_, l)| l.contains(needle)).map(|(i, _)| i + 1)
}

/// The 1-based line of a key path in a block-style YAML document: `["services", "backend",
/// "ports"]`. Keys inside list items are not followed.
pub fn yaml_line(text: &str, path: &[&str]) -> Option<usize> {
    let mut stack: Vec<(usize, String)> = vec![];
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
            if trimmed.starts_with("---") {
                stack.clear();
            }
            continue;
        }
        let indent = raw.len() - trimmed.len();
        if trimmed.starts_with("- ") || trimmed == "-" {
            while stack.last().is_some_and(|(d, _)| *d > indent) {
                stack.pop();
            }
            continue;
        }
        let Some(key) = yaml_key(trimmed) else { continue };
        while stack.last().is_some_and(|(d, _)| *d >= indent) {
            stack.pop();
        }
        stack.push((indent, key));
        if stack.len() == path.len() && stack.iter().zip(path).all(|((_, k), p)| k == p) {
            return Some(i + 1);
        }
    }
    None
}

/// The key of a `key: value` line (quotes removed).
fn yaml_key(line: &str) -> Option<String> {
    let (key, rest) = if let Some(q) = line.strip_prefix('"') {
        let end = q.find('"')?;
        (q[..end].to_string(), &q[end + 1..])
    } else if let Some(q) = line.strip_prefix('\'') {
        let end = q.find('\'')?;
        (q[..end].to_string(), &q[end + 1..])
    } else {
        let end = line.find(':')?;
        (line[..end].trim_end().to_string(), &line[end..])
    };
    let rest = rest.trim_start();
    let after = rest.strip_prefix(':')?;
    (after.is_empty() || after.starts_with(' ') || after.starts_with('\t')).then_some(key)
}

/// A line/column in a YAML parser's message ("line 3 column 5" / "at line 3").
fn line_in_message(msg: &str) -> Option<usize> {
    let i = msg.find("line ")?;
    msg[i + 5..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

// --- loading ----------------------------------------------------------------------------------

/// Service keys of the compose specification the typed model does not have: dropped before the
/// typed read (Slipway does not use them), noted for the user.
const SPEC_ONLY_KEYS: &[&str] = &[
    "annotations", "attach", "blkio_config", "cgroup", "configs", "cpu_count", "cpu_percent", "cpu_shares", "cpu_period",
    "cpu_quota", "cpu_rt_runtime", "cpu_rt_period", "cpus", "cpuset", "credential_spec", "develop", "device_cgroup_rules",
    "dns_search", "driver_opts", "external_links", "gpus", "isolation", "label_file", "mac_address", "memswap_limit",
    "oom_kill_disable", "oom_score_adj", "pids_limit", "platform", "post_start", "pre_stop", "provider", "stop_grace_period",
    "storage_opt", "use_api_socket", "uts", "models",
];

/// Keys of `build` the typed model knows.
const BUILD_KEYS: &[&str] = &["context", "dockerfile", "dockerfile_inline", "args", "shm_size", "target", "network", "cache_from", "labels"];
const HEALTH_KEYS: &[&str] = &["test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"];
const VOLUME_KEYS: &[&str] = &["source", "target", "type", "read_only", "bind", "volume", "tmpfs"];

/// Keys the typed `Service` model has (serde names).
const MODEL_KEYS: &[&str] = &[
    "hostname", "domainname", "privileged", "read_only", "healthcheck", "deploy", "image", "container_name", "build", "pid", "ports",
    "environment", "network_mode", "devices", "restart", "labels", "tmpfs", "ulimits", "volumes", "networks", "cap_add", "cap_drop",
    "depends_on", "command", "entrypoint", "env_file", "profiles", "links", "dns", "dns_opt", "ipc", "net", "stop_signal", "user",
    "userns_mode", "working_dir", "expose", "volumes_from", "extends", "logging", "scale", "init", "stdin_open", "shm_size",
    "extra_hosts", "group_add", "tty", "sysctls", "security_opt", "secrets", "pull_policy", "cgroup_parent", "mem_limit",
    "mem_reservation", "mem_swappiness", "runtime",
];

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Interpolates every string of a YAML value (keys stay as written, as in compose).
fn interpolate_tree(v: &mut Value, vars: &dyn Fn(&str) -> Option<String>, unset: &mut Vec<String>) -> Result<(), Required> {
    match v {
        Value::String(s) => {
            let r = interpolate(s, vars)?;
            unset.extend(r.unset);
            *s = r.value;
        }
        Value::Array(a) => {
            for x in a {
                interpolate_tree(x, vars, unset)?;
            }
        }
        Value::Object(o) => {
            for (_, x) in o.iter_mut() {
                interpolate_tree(x, vars, unset)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Makes a service's YAML fit the typed model where compose accepts more than it does
/// (numbers where it wants strings, long env_file entries, keys it does not model).
fn normalize_service(name: &str, o: &mut Map<String, Value>, warnings: &mut Vec<String>) -> Result<(), String> {
    let keys: Vec<String> = o.keys().cloned().collect();
    for k in keys {
        if MODEL_KEYS.contains(&k.as_str()) || k.starts_with("x-") {
            continue;
        }
        if SPEC_ONLY_KEYS.contains(&k.as_str()) {
            o.remove(&k);
            warnings.push(format!("services.{name}.{k} is not used by Slipway"));
            continue;
        }
        return Err(format!("services.{name} has an unknown key \"{k}\""));
    }
    for key in ["ports", "expose", "dns", "profiles", "cap_add", "cap_drop", "devices", "links", "extra_hosts"] {
        if let Some(Value::Array(a)) = o.get_mut(key) {
            for x in a.iter_mut() {
                if let (Value::Number(_) | Value::Bool(_), Some(s)) = (&*x, scalar_string(x)) {
                    *x = Value::String(s);
                }
                if let Value::Object(p) = x {
                    if let Some(t) = p.get("target").and_then(scalar_string) {
                        if let Ok(n) = t.parse::<u64>() {
                            p.insert("target".into(), Value::from(n));
                        }
                    }
                    if let Some(Value::String(s)) = p.get("published") {
                        if let Ok(n) = s.parse::<u64>() {
                            p.insert("published".into(), Value::from(n));
                        }
                    }
                    p.retain(|k, _| ["target", "host_ip", "published", "protocol", "mode", "name", "app_protocol"].contains(&k.as_str()));
                    p.remove("name");
                    p.remove("app_protocol");
                }
            }
        }
    }
    if let Some(Value::Object(b)) = o.get_mut("build") {
        b.retain(|k, _| BUILD_KEYS.contains(&k.as_str()));
        b.entry("context").or_insert_with(|| Value::String(".".into()));
        if let Some(Value::Object(args)) = b.get_mut("args") {
            for (_, v) in args.iter_mut() {
                *v = Value::String(scalar_string(v).unwrap_or_default());
            }
        }
    }
    if let Some(Value::Object(h)) = o.get_mut("healthcheck") {
        h.retain(|k, _| HEALTH_KEYS.contains(&k.as_str()));
        if let Some(r) = h.get("retries").and_then(scalar_string) {
            h.insert("retries".into(), Value::from(r.parse::<i64>().unwrap_or(0)));
        }
        for k in ["interval", "timeout", "start_period", "start_interval"] {
            if let Some(v) = h.get(k).and_then(scalar_string) {
                h.insert(k.into(), Value::String(v));
            }
        }
    }
    if let Some(Value::Object(d)) = o.get_mut("depends_on") {
        for (_, c) in d.iter_mut() {
            match c {
                Value::Object(c) => {
                    c.entry("condition").or_insert_with(|| Value::String("service_started".into()));
                    c.retain(|k, _| ["condition", "restart", "required"].contains(&k.as_str()));
                }
                other => *other = serde_json::json!({"condition": "service_started"}),
            }
        }
    }
    if let Some(Value::Array(vs)) = o.get_mut("volumes") {
        for v in vs.iter_mut() {
            if let Value::Object(m) = v {
                m.retain(|k, _| VOLUME_KEYS.contains(&k.as_str()));
            }
        }
    }
    if let Some(Value::Object(env)) = o.get_mut("environment") {
        for (_, v) in env.iter_mut() {
            if let Value::Object(_) | Value::Array(_) = v {
                return Err(format!("services.{name}.environment holds a map or list as a value"));
            }
        }
    }
    // env_file is read by Slipway itself (with `required`), after this.
    o.remove("env_file");
    Ok(())
}

/// One env_file entry: (path relative to the compose file's folder, required).
fn env_file_entries(v: Option<&Value>) -> Vec<(String, bool)> {
    let one = |x: &Value| -> Option<(String, bool)> {
        match x {
            Value::String(s) => Some((s.clone(), true)),
            Value::Object(o) => Some((o.get("path").and_then(scalar_string)?, o.get("required").and_then(Value::as_bool).unwrap_or(true))),
            _ => None,
        }
    };
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(one).collect(),
        Some(x) => one(x).into_iter().collect(),
        None => vec![],
    }
}

/// Joins a path to a folder relative to the root, dropping `./` and resolving `..` inside it.
pub fn join_rel(dir: &str, p: &str) -> String {
    let mut parts: Vec<&str> = if dir.is_empty() || dir == "." { vec![] } else { dir.split('/').collect() };
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Loads `file` (relative to `root`). `overrides` are variables that win over `.env` (a
/// project's settings for an environment). A YAML error, an unset `${VAR?message}`, a missing
/// env_file or a value of the wrong type is an error naming the file and line.
pub fn load(root: &Path, file: &str, overrides: &BTreeMap<String, String>) -> Result<ComposeDoc, UserError> {
    let text = std::fs::read_to_string(root.join(file)).map_err(|e| compose_error(format!("cannot read {file}: {e}"), "Check the file's permissions"))?;
    let dir = Path::new(file).parent().map(|p| p.to_string_lossy().replace('\\', "/")).unwrap_or_default();
    let dotenv_rel = join_rel(&dir, ".env");
    let mut vars: BTreeMap<String, Sourced> = BTreeMap::new();
    let dotenv = if root.join(&dotenv_rel).is_file() {
        let t = std::fs::read_to_string(root.join(&dotenv_rel)).map_err(|e| compose_error(format!("cannot read {dotenv_rel}: {e}"), "Check the file's permissions"))?;
        for (k, v) in parse_env_text(&t, &dotenv_rel).map_err(|e| compose_error(e, format!("Fix {dotenv_rel} (one NAME=value per line), then detect again")))? {
            vars.insert(k, v);
        }
        Some(dotenv_rel)
    } else {
        None
    };
    let lookup = |n: &str| overrides.get(n).cloned().or_else(|| vars.get(n).map(|s| s.value.clone()));
    let mut tree: Value = serde_saphyr::from_str(&text).map_err(|e| {
        let msg = e.to_string();
        let at = line_in_message(&msg).map(|l| format!(" (line {l})")).unwrap_or_default();
        compose_error(format!("{file} is not a valid compose file{at}: {msg}"), "Fix the YAML (docker compose config shows the same problem), then detect again")
    })?;
    if !tree.is_object() {
        return Err(compose_error(format!("{file} is not a valid compose file: it is not a map of keys"), "Fix the YAML (docker compose config shows the same problem), then detect again"));
    }
    let mut unset = vec![];
    if let Err(r) = interpolate_tree(&mut tree, &lookup, &mut unset) {
        let line = find_line(&text, 1, &format!("${{{}:?", r.var)).or_else(|| find_line(&text, 1, &format!("${{{}?", r.var))).unwrap_or(1);
        let msg = if r.message.is_empty() { format!("{} is not set", r.var) } else { r.message };
        let where_set = dotenv.clone().unwrap_or_else(|| join_rel(&dir, ".env"));
        return Err(compose_error(
            format!("{file} line {line} requires the variable {}: {msg}", r.var),
            format!("Set {} in {where_set} (or as a setting of the project), then detect again", r.var),
        ));
    }
    let mut warnings: Vec<(String, String)> = vec![];
    unset.sort();
    unset.dedup();
    for v in unset {
        let line = find_line(&text, 1, &format!("${{{v}")).or_else(|| find_line(&text, 1, &format!("${v}"))).unwrap_or(1);
        warnings.push((format!("{v} is not set: compose uses an empty value"), format!("{file} line {line}")));
    }
    let services_v = tree.get_mut("services").map(std::mem::take).unwrap_or(Value::Null);
    let services_map = match services_v {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        _ => {
            let line = yaml_line(&text, &["services"]).unwrap_or(1);
            return Err(compose_error(format!("{file} line {line}: services is not a map of services"), "Fix the YAML (docker compose config shows the same problem), then detect again"));
        }
    };
    let mut services = vec![];
    for (name, raw) in services_map {
        let line = yaml_line(&text, &["services", &name]).unwrap_or(1);
        let mut raw = match raw {
            Value::Null => Value::Object(Map::new()),
            v => v,
        };
        let Some(o) = raw.as_object_mut() else {
            return Err(compose_error(format!("{file} line {line}: services.{name} is not a map"), "Fix the YAML, then detect again"));
        };
        let env_files = env_file_entries(o.get("env_file"));
        let raw_env = o.get("environment").cloned();
        let raw_volumes = o.get("volumes").cloned();
        let mut notes = vec![];
        normalize_service(&name, o, &mut notes).map_err(|why| compose_error(format!("{file} line {line}: {why}"), "Fix the compose file (docker compose config shows the same problem), then detect again"))?;
        for n in notes {
            warnings.push((n, format!("{file} line {line}")));
        }
        let svc: dct::Service = serde_json::from_value(raw).map_err(|e| {
            compose_error(
                format!("{file} line {line}: services.{name} is not valid: {e}"),
                "Fix the compose file (docker compose config shows the same problem), then detect again",
            )
        })?;
        // env_file entries, in order, then `environment` over them.
        let mut env: Vec<EnvValue> = vec![];
        let mut read_files = vec![];
        for (path, required) in env_files {
            let rel = join_rel(&dir, &path);
            let full = super::confine::inside(root, &format!("services.{name}.env_file"), &rel)?;
            if !full.is_file() {
                if !required {
                    continue;
                }
                let at = find_line(&text, line, &path).unwrap_or(line);
                return Err(compose_error(
                    format!("{file} line {at}: services.{name}.env_file names {path}, which does not exist ({rel})"),
                    format!("Create {rel}, fix the path, or mark it `required: false`, then detect again"),
                ));
            }
            let t = std::fs::read_to_string(&full).map_err(|e| compose_error(format!("cannot read {rel}: {e}"), "Check the file's permissions"))?;
            for (k, v) in parse_env_text(&t, &rel).map_err(|e| compose_error(e, format!("Fix {rel} (one NAME=value per line), then detect again")))? {
                env.retain(|e| e.name != k);
                env.push(EnvValue { name: k, value: v.value, file: rel.clone(), line: v.line, vars: vec![] });
            }
            read_files.push(rel);
        }
        let env_line = yaml_line(&text, &["services", &name, "environment"]).unwrap_or(line);
        let mut add = |k: String, raw_value: Option<String>, value: Option<String>| {
            let at = yaml_line(&text, &["services", &name, "environment", &k])
                .or_else(|| find_line(&text, env_line, &format!("{k}=")))
                .or_else(|| find_line(&text, env_line, &k))
                .unwrap_or(env_line);
            let value = match value {
                Some(v) => v,
                // `- NAME` without a value: taken from the variables, as compose does.
                None => match lookup(&k) {
                    Some(v) => v,
                    None => return,
                },
            };
            let used = raw_value.as_deref().map(|r| interpolate(r, &|_| None).map(|i| i.used).unwrap_or_default()).unwrap_or_else(|| vec![k.clone()]);
            // A value that is exactly one `${VAR}` (or `- NAME` taken from .env) is written in .env.
            let whole = raw_value.as_deref().map(|r| {
                let r = r.trim();
                used.len() == 1 && (r == format!("${{{}}}", used[0]) || r == format!("${}", used[0]) || (r.starts_with(&format!("${{{}:-", used[0])) && r.ends_with('}')) || (r.starts_with(&format!("${{{}?", used[0])) && r.ends_with('}')) || (r.starts_with(&format!("${{{}:?", used[0])) && r.ends_with('}')))
            }).unwrap_or(true);
            let (vfile, vline) = match (whole, used.first().and_then(|u| if overrides.contains_key(u) { None } else { vars.get(u) })) {
                (true, Some(s)) => (s.file.clone(), s.line),
                _ => (file.to_string(), at),
            };
            env.retain(|e| e.name != k);
            env.push(EnvValue { name: k, value, file: vfile, line: vline, vars: used.into_iter().filter(|u| vars.contains_key(u)).collect() });
        };
        // The raw (not interpolated) text of each value, to tell where it came from.
        let raw_text: BTreeMap<String, String> = raw_environment(&text, &name);
        match svc.environment.clone() {
            dct::Environment::List(items) => {
                for item in items {
                    match item.split_once('=') {
                        Some((k, v)) => add(k.to_string(), raw_text.get(k).cloned(), Some(v.to_string())),
                        None => add(item.clone(), None, None),
                    }
                }
            }
            dct::Environment::KvPair(m) => {
                for (k, v) in m {
                    let value = v.map(|v| v.to_string());
                    let rv = raw_text.get(&k).cloned();
                    match value {
                        Some(v) => add(k, rv, Some(v)),
                        None => add(k, None, None),
                    }
                }
            }
        }
        let _ = raw_env;
        let volumes = match raw_volumes {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(o) => {
                        let src = o.get("source").and_then(scalar_string)?;
                        let target = o.get("target").and_then(scalar_string)?;
                        Some(format!("{src}:{target}"))
                    }
                    _ => None,
                })
                .map(|s| interpolate(&s, &lookup).map(|i| i.value).unwrap_or(s))
                .collect(),
            _ => vec![],
        };
        services.push(ComposeService { name, line, svc, env, env_files: read_files, volumes });
    }
    services.sort_by_key(|s| s.line);
    Ok(ComposeDoc { file: file.to_string(), text, services, dotenv, vars, warnings })
}

/// The raw text of each `environment` value of a service (before interpolation), from the
/// file's lines: `KEY: value` and `- KEY=value` forms.
fn raw_environment(text: &str, service: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(start) = yaml_line(text, &["services", service, "environment"]) else { return out };
    let lines: Vec<&str> = text.lines().collect();
    let head = lines[start - 1];
    let base = head.len() - head.trim_start().len();
    for l in lines.iter().skip(start) {
        let t = l.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let indent = l.len() - t.len();
        if indent <= base {
            break;
        }
        let unquote = |s: &str| -> String {
            let s = s.trim();
            let s = s.split(" #").next().unwrap_or(s).trim();
            if (s.starts_with('"') && s.ends_with('"') && s.len() >= 2) || (s.starts_with('\'') && s.ends_with('\'') && s.len() >= 2) {
                s[1..s.len() - 1].to_string()
            } else {
                s.to_string()
            }
        };
        if let Some(item) = t.strip_prefix("- ") {
            let item = unquote(item);
            if let Some((k, v)) = item.split_once('=') {
                out.insert(k.trim().to_string(), v.to_string());
            }
        } else if let Some((k, v)) = t.split_once(':') {
            let k = k.trim().trim_matches(|c| c == '"' || c == '\'').to_string();
            out.insert(k, unquote(v));
        }
    }
    out
}

/// A compose `command`/`entrypoint`/healthcheck test as an argument list (the string form
/// split like a shell would, without expansions).
pub fn words(s: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// A compose duration (`1m30s`, `500ms`, `10s`, `2`) in milliseconds.
pub fn duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Some((n * 1000.0) as u64);
    }
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "ms" => 1.0,
            "s" => 1000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            "us" | "µs" => 0.001,
            "ns" => 0.000_001,
            _ => return None,
        };
        any = true;
    }
    if !num.is_empty() {
        return None;
    }
    any.then_some(total as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |n: &str| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string())
    }

    #[test]
    fn interpolation_follows_compose() {
        let v = vars(&[("A", "1"), ("EMPTY", ""), ("B", "two")]);
        let i = |s: &str| interpolate(s, &v).map(|r| r.value);
        assert_eq!(i("x${A}y$B-$$A").unwrap(), "x1ytwo-$A");
        assert_eq!(i("${MISSING:-d}|${EMPTY:-d}|${EMPTY-d}|${MISSING-d}").unwrap(), "d|d||d");
        assert_eq!(i("${A:+set}|${MISSING:+set}|${EMPTY+set}|${EMPTY:+set}").unwrap(), "set||set|");
        assert_eq!(i("${MISSING:-${B}}").unwrap(), "two", "nested default");
        assert_eq!(i("$1 costs $ 5").unwrap(), "$1 costs $ 5", "not variables");
        assert_eq!(interpolate("${MISSING}", &v).unwrap().unset, ["MISSING"]);
        assert_eq!(interpolate("${MISSING?needs a key}", &v).unwrap_err(), Required { var: "MISSING".into(), message: "needs a key".into() });
        assert_eq!(interpolate("${EMPTY:?empty}", &v).unwrap_err().var, "EMPTY");
        assert_eq!(i("${EMPTY?fine}").unwrap(), "", "set but empty passes `?`");
    }

    #[test]
    fn yaml_lines_of_key_paths() {
        let t = "# c\nservices:\n  db:\n    image: x\n  web:\n    ports:\n      - \"80\"\n    depends_on: [db]\n\"quoted\": 1\n";
        assert_eq!(yaml_line(t, &["services", "web", "depends_on"]), Some(8));
        assert_eq!(yaml_line(t, &["services", "db"]), Some(3));
        assert_eq!(yaml_line(t, &["quoted"]), Some(9));
        assert_eq!(yaml_line(t, &["services", "nope"]), None);
    }

    #[test]
    fn env_files_keep_their_lines_and_refuse_bad_lines() {
        let got = parse_env_text("# comment\nA=1\nexport B='two words'\nA=3\nSIG=-- the \"team\" # who\n", ".env").unwrap();
        let m: Vec<(String, String, usize)> = got.into_iter().map(|(k, v)| (k, v.value, v.line)).collect();
        assert_eq!(m, [("B".into(), "two words".into(), 3), ("A".into(), "3".into(), 4), ("SIG".into(), "-- the \"team\"".into(), 5)]);
        let e = parse_env_text("A=1\nthis is not a line\n", "x/.env").unwrap_err();
        assert!(e.contains("x/.env line 2"), "{e}");
    }

    #[test]
    fn words_and_durations() {
        assert_eq!(words("python3 -m pytest 'a b' \"c\\\"d\""), ["python3", "-m", "pytest", "a b", "c\"d"]);
        assert_eq!(duration_ms("1m30s"), Some(90_000));
        assert_eq!(duration_ms("500ms"), Some(500));
        assert_eq!(duration_ms("2"), Some(2000));
        assert_eq!(duration_ms("soon"), None);
        assert_eq!(join_rel("app", "../.env"), ".env");
        assert_eq!(join_rel("", "./config/app.env"), "config/app.env");
    }
}
