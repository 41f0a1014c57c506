//! Git hosts. GitHub through octocrab: who a token belongs to and what it may do (its scopes),
//! on github.com or GitHub Enterprise, and the `gh` CLI's token. Implements [`GitHostProvider`].

pub mod api;
pub mod checkout;
pub mod watch;

use async_trait::async_trait;
use slipway_core::connections::Identity;
use slipway_core::providers::GitHostProvider;
use slipway_core::secrets::Secret;
use slipway_core::{error_chain, UserError};
use std::time::Duration;

pub const GITHUB_API: &str = "https://api.github.com";

#[derive(Default, Clone)]
pub struct GitHub;

/// Normalizes a base URL: trims the trailing slash; a GitHub Enterprise host without a path
/// gets `/api/v3`.
pub fn normalize_base_url(input: Option<&str>) -> Result<String, UserError> {
    let raw = input
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(GITHUB_API);
    let url = url_parse(raw)?;
    let mut s = raw.trim_end_matches('/').to_string();
    let host = url.0;
    if host != "api.github.com"
        && host != "github.com"
        && url.1.trim_matches('/').is_empty()
        && !is_loopback(&host)
    {
        s.push_str("/api/v3");
    }
    if host == "github.com" {
        s = GITHUB_API.to_string();
    }
    Ok(s)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.starts_with("127.") || host == "[::1]"
}

fn url_parse(raw: &str) -> Result<(String, String), UserError> {
    let bad = || {
        UserError::new(
            "GitHub address not valid",
            format!("'{raw}' is not an http(s) URL"),
            "Leave it empty for github.com, or enter your GitHub Enterprise URL such as https://github.example.com",
        )
    };
    let (scheme, rest) = raw.split_once("://").ok_or_else(bad)?;
    if scheme != "https" && scheme != "http" {
        return Err(bad());
    }
    let (host, path) = match rest.split_once('/') {
        Some((h, p)) => (h, p),
        None => (rest, ""),
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok((
        host.split(':').next().unwrap_or(host).to_string(),
        path.to_string(),
    ))
}

fn header(resp: &http::Response<impl Sized>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[async_trait]
impl GitHostProvider for GitHub {
    async fn whoami(&self, base_url: &str, token: &Secret) -> Result<Identity, UserError> {
        let what = "GitHub token check failed";
        let token_str = token.expose().trim();
        if token_str.is_empty() {
            return Err(UserError::new(
                what,
                "the token is empty",
                "Paste a personal access token (Settings > Developer settings > Tokens on GitHub)",
            ));
        }
        if token_str
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
            || !token_str.is_ascii()
        {
            return Err(UserError::new(
                what,
                "the token is malformed (it contains spaces or characters a GitHub token never has)",
                "Copy the token again, without spaces or line breaks",
            ));
        }
        let base = normalize_base_url(Some(base_url))?;
        let oc = octocrab::Octocrab::builder()
            .base_uri(base.clone())
            .map_err(|e| {
                UserError::new(
                    what,
                    format!("'{base}' is not usable: {e}"),
                    "Check the GitHub Enterprise URL",
                )
            })?
            .personal_token(token_str.to_string())
            .set_connect_timeout(Some(Duration::from_secs(5)))
            .set_read_timeout(Some(Duration::from_secs(15)))
            .build()
            .map_err(|e| UserError::new(what, e.to_string(), "Try again"))?;
        let resp = oc._get(format!("{base}/user")).await.map_err(|e| {
            UserError::new(
                what,
                format!("cannot reach {base}: {}", error_chain(&e)),
                "Check your network, and the GitHub Enterprise URL if you set one",
            )
        })?;
        let status = resp.status().as_u16();
        let scopes: Vec<String> = header(&resp, "x-oauth-scopes")
            .map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let remaining = header(&resp, "x-ratelimit-remaining");
        let reset = header(&resp, "x-ratelimit-reset");
        let body = oc.body_to_string(resp).await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_default();
        match status {
            200 => {
                let v: serde_json::Value = serde_json::from_str(&body)
                    .map_err(|e| UserError::new(what, format!("{base}/user did not answer JSON: {e}"), "Check the GitHub Enterprise URL"))?;
                let login = v["login"].as_str().unwrap_or_default().to_string();
                if login.is_empty() {
                    return Err(UserError::new(what, format!("{base}/user answered without a login"), "Check the GitHub Enterprise URL"));
                }
                Ok(Identity::Github { login, name: v["name"].as_str().map(str::to_string), scopes, base_url: base })
            }
            401 => Err(UserError::new(
                what,
                format!("GitHub rejected the token (401 {message}): it is wrong, revoked or expired"),
                "Create a new token on GitHub (Settings > Developer settings > Personal access tokens) and paste it here",
            )),
            403 | 429 if remaining.as_deref() == Some("0") => Err(UserError::new(
                what,
                format!("GitHub's rate limit is used up ({status}){}", reset.map(|r| format!("; it resets at unix time {r}")).unwrap_or_default()),
                "Wait until the limit resets, then try again",
            )),
            403 => Err(UserError::new(
                what,
                format!("GitHub refused the token (403 {message})"),
                "Check the token's permissions and any organisation SSO authorisation, then try again",
            )),
            404 => Err(UserError::new(what, format!("{base}/user does not exist (404)"), "Check the GitHub Enterprise URL (it usually ends in /api/v3)")),
            s => Err(UserError::new(what, format!("GitHub answered {s} {message}"), "GitHub may be having trouble; try again later")),
        }
    }

    fn cli_token(&self, host: &str) -> Option<Secret> {
        let out = std::process::Command::new("gh")
            .args(["auth", "token", "--hostname", host])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        let t = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !t.is_empty()).then(|| Secret::new(t))
    }
}

/// The host the `gh` CLI knows this API base under (`github.com` for api.github.com).
pub fn gh_host(base_url: &str) -> String {
    match url_parse(base_url) {
        Ok((h, _)) if h == "api.github.com" => "github.com".into(),
        Ok((h, _)) => h,
        Err(_) => "github.com".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(normalize_base_url(None).unwrap(), GITHUB_API);
        assert_eq!(
            normalize_base_url(Some("https://github.com")).unwrap(),
            GITHUB_API
        );
        assert_eq!(
            normalize_base_url(Some("https://ghe.example.com/")).unwrap(),
            "https://ghe.example.com/api/v3"
        );
        assert_eq!(
            normalize_base_url(Some("https://ghe.example.com/api/v3")).unwrap(),
            "https://ghe.example.com/api/v3"
        );
        assert_eq!(
            normalize_base_url(Some("http://127.0.0.1:9999")).unwrap(),
            "http://127.0.0.1:9999"
        );
        assert!(normalize_base_url(Some("ftp://x")).is_err());
        assert!(normalize_base_url(Some("github")).is_err());
        assert_eq!(gh_host("https://api.github.com"), "github.com");
        assert_eq!(gh_host("https://ghe.example.com/api/v3"), "ghe.example.com");
    }

    #[tokio::test]
    async fn malformed_token_is_refused_before_any_request() {
        let e = GitHub
            .whoami("http://127.0.0.1:1", &Secret::new("ghp_abc def"))
            .await
            .unwrap_err();
        assert!(e.why.contains("malformed"), "{e}");
        let e = GitHub
            .whoami("http://127.0.0.1:1", &Secret::new("  "))
            .await
            .unwrap_err();
        assert!(e.why.contains("empty"), "{e}");
    }
}
