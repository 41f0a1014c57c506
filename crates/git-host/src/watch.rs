//! Starting runs on new commits: a branch poller that reads the head with ETags (a 304 does not
//! count against GitHub's rate limit and slows down as the quota runs low), and a webhook
//! receiver that accepts only pushes signed with the shared secret (`X-Hub-Signature-256`,
//! HMAC-SHA256, compared in constant time) and never the same delivery twice. The receiver
//! checks the headers before it reads a byte of the body, reads at most GitHub's payload limit,
//! gives every request [`WebhookLimits::read_timeout`] and serves a bounded number of
//! connections at once.

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use slipway_core::integrations::{PushEvent, RateLimit};
use slipway_core::secrets::Secret;
use slipway_core::UserError;
use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::api::{GitHubApi, Head};

/// What happens on a new commit (the app starts a run; tests count calls).
#[async_trait]
pub trait CommitTrigger: Send + Sync {
    async fn new_commit(&self, repo: &str, branch: &str, sha: &str) -> Result<(), UserError>;
}

/// The state of watching one branch by polling.
#[derive(Debug, Clone)]
pub struct BranchWatch {
    pub repo: String,
    pub branch: String,
    pub etag: Option<String>,
    /// The head last seen; None until the first poll, which only records it.
    pub last_sha: Option<String>,
}

impl BranchWatch {
    pub fn new(repo: &str, branch: &str) -> Self {
        Self {
            repo: repo.into(),
            branch: branch.into(),
            etag: None,
            last_sha: None,
        }
    }

    /// One conditional read. Returns the new head when it moved since the last poll (the first
    /// poll records the head and returns None: the commit already there is not new).
    pub async fn poll(&mut self, api: &GitHubApi) -> Result<Option<String>, UserError> {
        match api
            .head(&self.repo, &self.branch, self.etag.as_deref())
            .await?
        {
            Head::NotModified => Ok(None),
            Head::Sha { sha, etag } => {
                self.etag = etag;
                let moved = self.last_sha.as_ref().is_some_and(|old| *old != sha);
                self.last_sha = Some(sha.clone());
                Ok(moved.then_some(sha))
            }
        }
    }
}

/// How long to wait before the next poll: at least `base`, and slow enough that the quota left
/// lasts until the window resets (keeping a tenth of it for everything else).
pub fn next_delay(base: Duration, rate: Option<&RateLimit>, now_unix: i64) -> Duration {
    let Some(r) = rate else { return base };
    if r.reset <= now_unix {
        // The window has reset since GitHub said it: the quota is full again.
        return base;
    }
    let window = (r.reset - now_unix) as u64;
    let budget = (r.remaining as u64).saturating_sub(r.limit as u64 / 10);
    if budget == 0 {
        return Duration::from_secs(window + 1).max(base);
    }
    Duration::from_millis((window * 1000).div_ceil(budget)).max(base)
}

/// Polls the branch until `cancel`, calling `trigger` for each new head. An error is reported
/// through `on_error` (a revoked token or a lost repository stops the watch; a rate limit or a
/// network failure waits and goes on).
pub async fn watch_branch(
    api: &GitHubApi,
    mut w: BranchWatch,
    base: Duration,
    trigger: &dyn CommitTrigger,
    cancel: &CancellationToken,
    on_error: &(dyn Fn(&UserError) + Send + Sync),
) -> Result<(), UserError> {
    loop {
        let mut delay = next_delay(base, api.rate().as_ref(), unix_now());
        match w.poll(api).await {
            Ok(Some(sha)) => {
                if let Err(e) = trigger.new_commit(&w.repo, &w.branch, &sha).await {
                    on_error(&e);
                }
            }
            Ok(None) => {}
            Err(e) => {
                on_error(&e);
                if e.why.contains("(401") || e.why.contains("(404)") || e.why.contains("(403 ") {
                    return Err(e);
                }
                if let Some(s) = e
                    .fix
                    .strip_prefix("Wait ")
                    .and_then(|f| f.split(' ').next())
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    delay = delay.max(Duration::from_secs(s));
                }
                delay = delay.max(next_delay(base, api.rate().as_ref(), unix_now()));
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// What a verified delivery was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Push(PushEvent),
    /// GitHub's `ping` when the hook is created.
    Ping,
    /// Another event, accepted and ignored.
    Ignored(String),
}

/// Why a delivery was refused; each maps to an HTTP status for GitHub's delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    MissingSignature,
    Forged,
    Replayed(String),
    Malformed(String),
    /// The body is (or says it is) larger than the limit.
    TooLarge { limit: usize },
}

impl Refused {
    pub fn status(&self) -> u16 {
        match self {
            Refused::MissingSignature | Refused::Forged => 401,
            Refused::Replayed(_) => 409,
            Refused::Malformed(_) => 400,
            Refused::TooLarge { .. } => 413,
        }
    }

    pub fn user_error(&self) -> UserError {
        let what = "Webhook delivery refused";
        match self {
            Refused::MissingSignature => UserError::new(
                what,
                "it has no X-Hub-Signature-256 header",
                "Set the webhook's secret on GitHub to the one Slipway shows",
            ),
            Refused::Forged => UserError::new(
                what,
                "its signature does not match the secret (forged, or the secret differs)",
                "Set the webhook's secret on GitHub to the one Slipway shows",
            ),
            Refused::Replayed(id) => UserError::new(
                what,
                format!("delivery {id} was already received (a replay)"),
                "Nothing to do: a delivery starts at most one run",
            ),
            Refused::Malformed(why) => {
                UserError::new(what, why.clone(), "Send push events as application/json")
            }
            Refused::TooLarge { limit } => UserError::new(
                what,
                format!("its body is larger than {limit} bytes (GitHub never sends more)"),
                "Nothing to do for GitHub's own deliveries; something else is posting here",
            ),
        }
    }
}

/// Verifies deliveries against the secret and remembers the last deliveries it accepted.
pub struct WebhookVerifier {
    secret: std::sync::RwLock<Secret>,
    seen: Mutex<(HashSet<String>, VecDeque<String>)>,
}

const REMEMBERED: usize = 10_000;

impl WebhookVerifier {
    pub fn new(secret: Secret) -> Self {
        Self {
            secret: std::sync::RwLock::new(secret),
            seen: Mutex::new((HashSet::new(), VecDeque::new())),
        }
    }

    /// Checks later deliveries against `secret` (a rotated one), without restarting the
    /// receiver.
    pub fn set_secret(&self, secret: Secret) {
        *self.secret.write().unwrap_or_else(|e| e.into_inner()) = secret;
    }

    /// The `sha256=<hex>` signature GitHub would send for `body` (for tests and `slipway github
    /// webhook --test`).
    pub fn sign(secret: &Secret, body: &[u8]) -> String {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.expose().as_bytes())
            .expect("any key length");
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    /// The checks that need no body, made before any of it is read: a well-formed
    /// `X-Hub-Signature-256`, a delivery id, an event name, and a declared length within `limit`.
    pub fn precheck(&self, headers: &http::HeaderMap, limit: usize) -> Result<(), Refused> {
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim).filter(|s| !s.is_empty());
        let sig = h("x-hub-signature-256").ok_or(Refused::MissingSignature)?;
        let hex_sig = sig.strip_prefix("sha256=").ok_or(Refused::Forged)?;
        if hex_sig.len() != 64 || !hex_sig.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Refused::Forged);
        }
        h("x-github-delivery").ok_or_else(|| Refused::Malformed("it has no X-GitHub-Delivery id".into()))?;
        h("x-github-event").ok_or_else(|| Refused::Malformed("it has no X-GitHub-Event".into()))?;
        if let Some(len) = h("content-length") {
            match len.parse::<u64>() {
                Ok(n) if n > limit as u64 => return Err(Refused::TooLarge { limit }),
                Ok(_) => {}
                Err(_) => return Err(Refused::Malformed(format!("its Content-Length \"{len}\" is not a number"))),
            }
        }
        Ok(())
    }

    /// Checks the signature first (nothing of an unsigned or forged body is read), then the
    /// delivery id (each at most once), then parses the event.
    pub fn verify(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<Delivery, Refused> {
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
        let sig = h("x-hub-signature-256")
            .filter(|s| !s.is_empty())
            .ok_or(Refused::MissingSignature)?;
        let hex_sig = sig.strip_prefix("sha256=").ok_or(Refused::Forged)?;
        let given = hex::decode(hex_sig).map_err(|_| Refused::Forged)?;
        let key = self
            .secret
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .expose()
            .as_bytes()
            .to_vec();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("any key length");
        mac.update(body);
        // verify_slice compares in constant time.
        mac.verify_slice(&given).map_err(|_| Refused::Forged)?;
        let delivery = h("x-github-delivery")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Refused::Malformed("it has no X-GitHub-Delivery id".into()))?
            .to_string();
        {
            let mut seen = self.seen.lock().expect("seen lock");
            if seen.0.contains(&delivery) {
                return Err(Refused::Replayed(delivery));
            }
            seen.0.insert(delivery.clone());
            seen.1.push_back(delivery.clone());
            if seen.1.len() > REMEMBERED {
                if let Some(old) = seen.1.pop_front() {
                    seen.0.remove(&old);
                }
            }
        }
        let event = h("x-github-event").unwrap_or_default().to_string();
        match event.as_str() {
            "ping" => Ok(Delivery::Ping),
            "push" => {
                let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
                    Refused::Malformed(format!("the push payload is not JSON: {e}"))
                })?;
                let git_ref = v["ref"].as_str().unwrap_or_default();
                let repo = v["repository"]["full_name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let after = v["after"].as_str().unwrap_or_default().to_string();
                if repo.is_empty() || after.is_empty() {
                    return Err(Refused::Malformed(
                        "the push payload has no repository or commit".into(),
                    ));
                }
                Ok(Delivery::Push(PushEvent {
                    delivery,
                    repo,
                    branch: git_ref.strip_prefix("refs/heads/").map(str::to_string),
                    after,
                    pusher: v["pusher"]["name"].as_str().map(str::to_string),
                }))
            }
            other => Ok(Delivery::Ignored(other.to_string())),
        }
    }
}

/// True when a push is a new commit on a branch (not a tag, not a deleted branch).
pub fn is_new_commit(p: &PushEvent) -> bool {
    p.branch.is_some() && !p.after.chars().all(|c| c == '0')
}

/// What the webhook receiver allows one client.
#[derive(Debug, Clone)]
pub struct WebhookLimits {
    /// The largest body read: GitHub caps webhook payloads at 25 MB.
    pub max_body: usize,
    /// Headers and body of a request must both arrive within this (each).
    pub read_timeout: Duration,
    /// Connections served at once; one more is answered 503 and closed.
    pub max_connections: usize,
}

/// GitHub's payload cap: "Payloads are capped at 25 MB".
pub const GITHUB_MAX_PAYLOAD: usize = 25_000_000;

impl Default for WebhookLimits {
    fn default() -> Self {
        Self {
            max_body: GITHUB_MAX_PAYLOAD,
            read_timeout: Duration::from_secs(10),
            max_connections: 32,
        }
    }
}

/// The receiver: listens on 127.0.0.1:`port` (0 picks one) until `cancel`, verifies every POST
/// and calls `trigger` for each verified push of a new commit. Returns the address it bound.
/// `on_refused` hears about every refused delivery (for the log and the UI).
pub async fn serve_webhook(
    port: u16,
    verifier: Arc<WebhookVerifier>,
    trigger: Arc<dyn CommitTrigger>,
    on_refused: Arc<dyn Fn(&UserError) + Send + Sync>,
    cancel: CancellationToken,
) -> Result<SocketAddr, UserError> {
    serve_webhook_with(port, verifier, trigger, on_refused, cancel, WebhookLimits::default()).await
}

/// [`serve_webhook`] with other limits (tests use short ones).
pub async fn serve_webhook_with(
    port: u16,
    verifier: Arc<WebhookVerifier>,
    trigger: Arc<dyn CommitTrigger>,
    on_refused: Arc<dyn Fn(&UserError) + Send + Sync>,
    cancel: CancellationToken,
    limits: WebhookLimits,
) -> Result<SocketAddr, UserError> {
    use http_body_util::{BodyExt, Full, Limited};
    use hyper::body::Bytes;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| {
            UserError::new(
                "Webhook receiver not started",
                format!("cannot listen on 127.0.0.1:{port}: {e}"),
                "Pick another port, or stop what uses this one",
            )
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| UserError::new("Webhook receiver not started", e.to_string(), "Try again"))?;
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    tokio::spawn(async move {
        loop {
            let conn = tokio::select! {
                c = listener.accept() => c,
                _ = cancel.cancelled() => return,
            };
            let Ok((mut stream, _)) = conn else { continue };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                // Full: a short answer and the connection closed, nothing read.
                tokio::spawn(async move {
                    use tokio::io::AsyncWriteExt;
                    let _ = tokio::time::timeout(
                        Duration::from_secs(1),
                        stream.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                    )
                    .await;
                });
                continue;
            };
            let (verifier, trigger, on_refused, limits) =
                (verifier.clone(), trigger.clone(), on_refused.clone(), limits.clone());
            let conn_limits = limits.clone();
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (verifier, trigger, on_refused, limits) =
                        (verifier.clone(), trigger.clone(), on_refused.clone(), limits.clone());
                    async move {
                        let reply = |status: u16, text: String| {
                            let mut r = hyper::Response::new(Full::new(Bytes::from(text)));
                            *r.status_mut() = http::StatusCode::from_u16(status)
                                .unwrap_or(http::StatusCode::BAD_REQUEST);
                            Ok::<_, std::convert::Infallible>(r)
                        };
                        if req.method() != http::Method::POST {
                            return reply(405, "POST GitHub webhook deliveries here\n".into());
                        }
                        let (parts, body) = req.into_parts();
                        // The cheap checks first: nothing of the body is read for a request
                        // without a signature, or one that says it is too large.
                        if let Err(r) = verifier.precheck(&parts.headers, limits.max_body) {
                            let e = r.user_error();
                            on_refused(&e);
                            return reply(r.status(), format!("{}\n", e.why));
                        }
                        let read = tokio::time::timeout(
                            limits.read_timeout,
                            Limited::new(body, limits.max_body).collect(),
                        )
                        .await;
                        let body = match read {
                            Ok(Ok(b)) => b.to_bytes(),
                            Ok(Err(_)) => {
                                let e = Refused::TooLarge { limit: limits.max_body }.user_error();
                                on_refused(&e);
                                return reply(413, format!("{}\n", e.why));
                            }
                            Err(_) => return reply(408, "the body did not arrive in time\n".into()),
                        };
                        match verifier.verify(&parts.headers, &body) {
                            Ok(Delivery::Push(p)) if is_new_commit(&p) => {
                                let branch = p.branch.clone().unwrap_or_default();
                                match trigger.new_commit(&p.repo, &branch, &p.after).await {
                                    Ok(()) => reply(
                                        202,
                                        format!("run started for {} at {}\n", p.repo, p.after),
                                    ),
                                    Err(e) => {
                                        on_refused(&e);
                                        reply(422, format!("{e}\n"))
                                    }
                                }
                            }
                            Ok(Delivery::Push(_)) => {
                                reply(202, "not a new commit on a branch; ignored\n".into())
                            }
                            Ok(Delivery::Ping) => reply(200, "pong\n".into()),
                            Ok(Delivery::Ignored(ev)) => {
                                reply(202, format!("event {ev} ignored\n"))
                            }
                            Err(r) => {
                                let e = r.user_error();
                                on_refused(&e);
                                reply(r.status(), format!("{}\n", e.why))
                            }
                        }
                    }
                });
            tokio::spawn(async move {
                // One delivery per connection; headers within the read timeout; the whole
                // connection bounded too (a run start may take a moment).
                let serve = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(conn_limits.read_timeout)
                    .keep_alive(false)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                let _ = tokio::time::timeout(conn_limits.read_timeout * 3 + Duration::from_secs(30), serve).await;
                drop(slot);
            });
        }
    });
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rl(limit: u32, remaining: u32, reset: i64) -> RateLimit {
        RateLimit {
            limit,
            remaining,
            reset,
            used: limit - remaining,
            resource: "core".into(),
        }
    }

    #[test]
    fn polling_slows_down_as_the_quota_runs_out() {
        let base = Duration::from_secs(30);
        assert_eq!(next_delay(base, None, 0), base);
        // Plenty left: the base interval.
        assert_eq!(next_delay(base, Some(&rl(5000, 4000, 3600)), 0), base);
        // 600 left of 5000 (500 reserved), an hour to go: 3600/100 = 36 s.
        assert_eq!(
            next_delay(base, Some(&rl(5000, 600, 3600)), 0),
            Duration::from_secs(36)
        );
        // Nothing but the reserve left: wait for the reset.
        assert_eq!(
            next_delay(base, Some(&rl(5000, 400, 1200)), 0),
            Duration::from_secs(1201)
        );
        // A reset time already past: the quota is full again.
        assert_eq!(
            next_delay(Duration::from_millis(50), Some(&rl(5000, 0, 100)), 200),
            Duration::from_millis(50)
        );
        // Sub-second intervals stay sub-second while the budget allows.
        assert_eq!(
            next_delay(Duration::from_millis(50), Some(&rl(5000, 4990, 100)), 0),
            Duration::from_millis(50)
        );
    }
}
