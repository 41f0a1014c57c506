//! A real registry login: the Docker Registry HTTP API v2 handshake (`GET /v2/`), with Basic
//! auth or the Bearer token flow, as `docker login` does it.

use base64::Engine as _;
use slipway_core::secrets::Secret;
use slipway_core::UserError;
use std::time::Duration;

/// Where a registry's API lives, and the key ~/.docker/config.json files it under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryAddr {
    pub api_base: String,
    pub config_key: String,
    pub display: String,
}

fn is_loopback(host: &str) -> bool {
    let h = host.split(':').next().unwrap_or(host);
    h == "localhost" || h.starts_with("127.") || h == "[::1]"
}

/// Normalizes what a person types: `docker.io`, `ghcr.io`, `127.0.0.1:5000`, `https://x/`.
pub fn parse_registry(input: &str) -> Result<RegistryAddr, UserError> {
    let t = input.trim().trim_end_matches('/');
    let bad = |why: &str| {
        UserError::new(
            "Registry address not valid",
            format!("'{input}' {why}"),
            "Enter docker.io for Docker Hub, or a host such as ghcr.io or 127.0.0.1:5000",
        )
    };
    if t.is_empty() || matches!(t, "docker.io" | "index.docker.io" | "registry-1.docker.io" | "https://index.docker.io/v1") {
        return Ok(RegistryAddr {
            api_base: "https://registry-1.docker.io".into(),
            config_key: "https://index.docker.io/v1/".into(),
            display: "docker.io".into(),
        });
    }
    let (scheme, rest) = match t.split_once("://") {
        Some((s @ ("http" | "https"), r)) => (Some(s), r),
        Some(_) => return Err(bad("has a scheme other than http or https")),
        None => (None, t),
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) || host.contains('@') {
        return Err(bad("is not a registry host"));
    }
    url::Url::parse(&format!("https://{host}/")).map_err(|_| bad("is not a registry host"))?;
    let scheme = scheme.unwrap_or(if is_loopback(host) { "http" } else { "https" });
    Ok(RegistryAddr { api_base: format!("{scheme}://{host}"), config_key: host.to_string(), display: host.to_string() })
}

fn auth_params(header: &str) -> (String, std::collections::HashMap<String, String>) {
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut map = std::collections::HashMap::new();
    for part in rest.split(',') {
        if let Some((k, v)) = part.trim().split_once('=') {
            map.insert(k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_string());
        }
    }
    (scheme.to_ascii_lowercase(), map)
}

fn refused(addr: &RegistryAddr, status: reqwest::StatusCode) -> UserError {
    UserError::new(
        "Registry login failed",
        format!("{} refused the username or password ({status})", addr.display),
        "Check the username and password (for Docker Hub and GHCR use an access token), then try again",
    )
}

fn unreachable(addr: &RegistryAddr, e: &reqwest::Error) -> UserError {
    let why = if e.is_timeout() {
        format!("{} did not answer within 15 s", addr.api_base)
    } else {
        let mut s = format!("cannot reach {}", addr.api_base);
        let mut src = std::error::Error::source(e);
        while let Some(x) = src {
            s.push_str(&format!(": {x}"));
            src = x.source();
        }
        s
    };
    UserError::new("Registry login failed", why, "Check the registry address and that it is running and reachable")
}

/// Logs in for real. Ok means the registry accepted these credentials.
pub async fn login(registry: &str, username: &str, password: &Secret) -> Result<(), UserError> {
    let addr = parse_registry(registry)?;
    if username.trim().is_empty() || password.is_empty() {
        return Err(UserError::new("Registry login failed", "the username or password is empty", "Enter both, then try again"));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| UserError::new("Registry login failed", e.to_string(), "Try again"))?;
    let v2 = format!("{}/v2/", addr.api_base);
    let first = client.get(&v2).send().await.map_err(|e| unreachable(&addr, &e))?;
    let challenge = match first.status().as_u16() {
        401 => first.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or("Basic").to_string(),
        200 => "Basic".to_string(), // open registry: still prove the credentials are accepted below
        404 => {
            return Err(UserError::new(
                "Registry login failed",
                format!("{} has no registry API at /v2/ (404)", addr.api_base),
                "Check the address: it must be a container registry (Docker Registry API v2)",
            ))
        }
        s => {
            return Err(UserError::new(
                "Registry login failed",
                format!("{} answered {s} to /v2/", addr.api_base),
                "The registry may be down; try again later",
            ))
        }
    };
    let (scheme, params) = auth_params(&challenge);
    let resp = if scheme == "bearer" {
        let realm = params.get("realm").ok_or_else(|| {
            UserError::new("Registry login failed", "the registry asked for a token but named no token service", "Check the registry address")
        })?;
        let mut req = client.get(realm).basic_auth(username, Some(password.expose()));
        if let Some(service) = params.get("service") {
            req = req.query(&[("service", service)]);
        }
        req = req.query(&[("account", username)]);
        req.send().await.map_err(|e| unreachable(&addr, &e))?
    } else {
        client.get(&v2).basic_auth(username, Some(password.expose())).send().await.map_err(|e| unreachable(&addr, &e))?
    };
    match resp.status().as_u16() {
        200 => Ok(()),
        401 | 403 => Err(refused(&addr, resp.status())),
        s => Err(UserError::new(
            "Registry login failed",
            format!("{} answered {s} to the login", addr.display),
            "The registry may be down; try again later",
        )),
    }
}

/// The `auth` value of ~/.docker/config.json: base64("user:password").
pub fn basic_auth_value(username: &str, password: &Secret) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{}", password.expose()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_addresses() {
        assert_eq!(parse_registry("docker.io").unwrap().api_base, "https://registry-1.docker.io");
        assert_eq!(parse_registry("").unwrap().config_key, "https://index.docker.io/v1/");
        assert_eq!(parse_registry("ghcr.io").unwrap().api_base, "https://ghcr.io");
        assert_eq!(parse_registry("127.0.0.1:45510").unwrap().api_base, "http://127.0.0.1:45510");
        assert_eq!(parse_registry("https://reg.example.com/").unwrap().config_key, "reg.example.com");
        assert!(parse_registry("ftp://x").is_err());
        assert!(parse_registry("not a host").is_err());
    }

    #[test]
    fn challenge_parsing() {
        let (s, p) = auth_params(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#);
        assert_eq!(s, "bearer");
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["service"], "registry.docker.io");
        assert_eq!(auth_params(r#"Basic realm="Registry Realm""#).0, "basic");
    }

    #[tokio::test]
    async fn empty_password_is_refused_before_any_request() {
        let e = login("127.0.0.1:1", "u", &Secret::new("")).await.unwrap_err();
        assert!(e.why.contains("empty"), "{e}");
    }

    #[tokio::test]
    async fn unreachable_registry_says_so() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let e = login(&format!("127.0.0.1:{port}"), "u", &Secret::new("p")).await.unwrap_err();
        assert!(e.why.contains("cannot reach http://127.0.0.1:"), "{e}");
    }
}
