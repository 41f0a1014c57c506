//! ~/.docker/config.json (or $DOCKER_CONFIG/config.json): the registries a person already
//! logged in to, inline (`auths`) or through credential helpers (`credsStore`, `credHelpers`).

use base64::Engine as _;
use serde::Deserialize;
use slipway_core::connections::DockerConfigEntry;
use slipway_core::secrets::Secret;
use slipway_core::UserError;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Default, Deserialize)]
pub struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(skip)]
    path: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

fn host_of(key: &str) -> String {
    let k = key.split_once("://").map(|(_, r)| r).unwrap_or(key);
    let host = k.split('/').next().unwrap_or(k);
    if host == "index.docker.io" || host == "registry-1.docker.io" {
        "docker.io".into()
    } else {
        host.into()
    }
}

impl DockerConfig {
    pub fn default_path() -> PathBuf {
        match std::env::var_os("DOCKER_CONFIG") {
            Some(d) => PathBuf::from(d).join("config.json"),
            None => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".docker/config.json"),
        }
    }

    pub fn load_default() -> Result<Self, UserError> {
        Self::load(Self::default_path())
    }

    pub fn load(path: PathBuf) -> Result<Self, UserError> {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self { path, ..Default::default() }),
            Err(e) => return Err(UserError::new("Cannot read Docker's config", format!("{}: {e}", path.display()), "Check the file's permissions")),
        };
        let mut cfg: DockerConfig = serde_json::from_str(&text).map_err(|e| {
            UserError::new(
                "Cannot read Docker's config",
                format!("{} is not valid JSON (line {}, column {}): {e}", path.display(), e.line(), e.column()),
                "Fix the file, or move it aside and log in again with `docker login`",
            )
        })?;
        cfg.path = path;
        Ok(cfg)
    }

    pub fn entries(&self) -> Result<Vec<DockerConfigEntry>, UserError> {
        let mut out: BTreeMap<String, DockerConfigEntry> = BTreeMap::new();
        for (key, e) in &self.auths {
            let registry = host_of(key);
            let username = e.username.clone().or_else(|| decode_auth(e.auth.as_deref()).map(|(u, _)| u));
            let helper = if username.is_none() { self.helper_for(&registry) } else { None };
            out.insert(registry.clone(), DockerConfigEntry { registry, username, helper });
        }
        for (key, helper) in &self.cred_helpers {
            let registry = host_of(key);
            out.entry(registry.clone()).or_insert(DockerConfigEntry { registry, username: None, helper: Some(helper.clone()) });
        }
        Ok(out.into_values().collect())
    }

    fn helper_for(&self, registry: &str) -> Option<String> {
        self.cred_helpers
            .iter()
            .find(|(k, _)| host_of(k) == registry)
            .map(|(_, h)| h.clone())
            .or_else(|| self.creds_store.clone())
    }

    /// Username and password for `registry` (a host, or docker.io), inline or from the helper.
    pub fn credentials(&self, registry: &str) -> Result<Option<(String, Secret)>, UserError> {
        let want = host_of(&crate::registry::parse_registry(registry)?.config_key);
        for (key, e) in &self.auths {
            if host_of(key) != want {
                continue;
            }
            if let (Some(u), Some(p)) = (&e.username, &e.password) {
                return Ok(Some((u.clone(), Secret::new(p.clone()))));
            }
            if let Some((u, p)) = decode_auth(e.auth.as_deref()) {
                return Ok(Some((u, Secret::new(p))));
            }
        }
        match self.helper_for(&want) {
            Some(h) => helper_get(&h, &want).map(Some),
            None => Ok(None),
        }
    }
}

fn decode_auth(auth: Option<&str>) -> Option<(String, String)> {
    let raw = base64::engine::general_purpose::STANDARD.decode(auth?.trim()).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Runs `docker-credential-<helper> get` with the server URL on stdin.
fn helper_get(helper: &str, registry: &str) -> Result<(String, Secret), UserError> {
    let bin = format!("docker-credential-{helper}");
    let server = if registry == "docker.io" { "https://index.docker.io/v1/".to_string() } else { registry.to_string() };
    let mut child = std::process::Command::new(&bin)
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| {
            UserError::new(
                "Cannot read registry credentials",
                format!("Docker's config names the credential helper {bin}, which could not be run: {e}"),
                format!("Install {bin}, or enter the username and password here instead"),
            )
        })?;
    child.stdin.take().expect("piped stdin").write_all(server.as_bytes()).ok();
    let out = child.wait_with_output().map_err(|e| UserError::new("Cannot read registry credentials", e.to_string(), "Try again"))?;
    if !out.status.success() {
        return Err(UserError::new(
            "Cannot read registry credentials",
            format!("{bin} has no credentials for {registry}: {}", String::from_utf8_lossy(&out.stdout).trim()),
            format!("Run `docker login {registry}`, or enter the username and password here instead"),
        ));
    }
    #[derive(Deserialize)]
    struct Out {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let o: Out = serde_json::from_slice(&out.stdout)
        .map_err(|e| UserError::new("Cannot read registry credentials", format!("{bin} answered something that is not JSON: {e}"), "Update the credential helper"))?;
    Ok((o.username, Secret::new(o.secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.json");
        std::fs::write(&p, text).unwrap();
        (d, p)
    }

    #[test]
    fn entries_and_inline_credentials() {
        let auth = base64::engine::general_purpose::STANDARD.encode("alice:pw1");
        let (_d, p) = write(&format!(
            r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},"127.0.0.1:45510":{{"username":"bob","password":"pw2"}},"ghcr.io":{{}}}},"credHelpers":{{"123.dkr.ecr.us-east-1.amazonaws.com":"ecr-login"}},"credsStore":"desktop"}}"#
        ));
        let cfg = DockerConfig::load(p).unwrap();
        let e = cfg.entries().unwrap();
        let names: Vec<_> = e.iter().map(|e| (e.registry.as_str(), e.username.as_deref(), e.helper.as_deref())).collect();
        assert_eq!(
            names,
            vec![
                ("123.dkr.ecr.us-east-1.amazonaws.com", None, Some("ecr-login")),
                ("127.0.0.1:45510", Some("bob"), None),
                ("docker.io", Some("alice"), None),
                ("ghcr.io", None, Some("desktop")),
            ]
        );
        let (u, pw) = cfg.credentials("docker.io").unwrap().unwrap();
        assert_eq!((u.as_str(), pw.expose()), ("alice", "pw1"));
        let (u, pw) = cfg.credentials("127.0.0.1:45510").unwrap().unwrap();
        assert_eq!((u.as_str(), pw.expose()), ("bob", "pw2"));
    }

    #[test]
    fn missing_helper_is_a_clear_error() {
        let (_d, p) = write(r#"{"credHelpers":{"ghcr.io":"slipway-no-such-helper"}}"#);
        let e = DockerConfig::load(p).unwrap().credentials("ghcr.io").unwrap_err();
        assert!(e.why.contains("docker-credential-slipway-no-such-helper"), "{e}");
    }

    #[test]
    fn malformed_json_names_the_line() {
        let (_d, p) = write("{\n  \"auths\": {,\n}");
        let e = DockerConfig::load(p).unwrap_err();
        assert!(e.why.contains("line 2"), "{e}");
    }
}
