//! New commits start runs: the ETag poller against a GitHub stand-in, and the webhook receiver
//! with signatures that are valid, forged, replayed and missing. A counting trigger stands in
//! for the pipeline, so nothing here needs Docker.

use async_trait::async_trait;
use slipway_core::secrets::Secret;
use slipway_core::UserError;
use slipway_git_host::api::GitHubApi;
use slipway_git_host::watch::*;
use slipway_testkit::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Default)]
struct Count(Mutex<Vec<(String, String, String)>>);

#[async_trait]
impl CommitTrigger for Count {
    async fn new_commit(&self, repo: &str, branch: &str, sha: &str) -> Result<(), UserError> {
        self.0
            .lock()
            .unwrap()
            .push((repo.into(), branch.into(), sha.into()));
        Ok(())
    }
}

const SHA1: &str = "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d";
const SHA2: &str = "553c2077f0edc3d5dc5d17262f6aa498e69d6f8e";

async fn branch_at(server: &MockServer, sha: &str, etag: &str) {
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/hello-world/branches/main"))
        .and(header("if-none-match", etag))
        .respond_with(ResponseTemplate::new(304).insert_header("etag", etag))
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/hello-world/branches/main"))
        .respond_with(
            github_rate(ResponseTemplate::new(200), 4990, "core")
                .insert_header("etag", etag)
                .set_body_json(github_branch("octocat", "hello-world", "main", sha)),
        )
        .with_priority(5)
        .mount(server)
        .await;
}

#[tokio::test]
async fn the_poller_starts_one_run_per_new_head_and_none_for_304s() {
    let server = MockServer::start().await;
    branch_at(&server, SHA1, "\"etag-1\"").await;
    let api = GitHubApi::new(&server.uri(), &Secret::new("ghp_x")).unwrap();
    let mut w = BranchWatch::new("octocat/hello-world", "main");
    // The first poll records the head: the commit already there is not new.
    assert_eq!(w.poll(&api).await.unwrap(), None);
    assert_eq!(w.etag.as_deref(), Some("\"etag-1\""));
    // Unchanged: a conditional request answered 304.
    assert_eq!(w.poll(&api).await.unwrap(), None);
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].headers.get("if-none-match").unwrap(), "\"etag-1\"");
    // A push moves the head: the ETag no longer matches.
    branch_at(&server, SHA2, "\"etag-2\"").await;
    assert_eq!(w.poll(&api).await.unwrap(), Some(SHA2.to_string()));
    assert_eq!(w.poll(&api).await.unwrap(), None);
}

#[tokio::test]
async fn watch_branch_calls_the_trigger_and_stops_on_a_revoked_token() {
    let server = MockServer::start().await;
    branch_at(&server, SHA1, "\"etag-1\"").await;
    let api = Arc::new(GitHubApi::new(&server.uri(), &Secret::new("ghp_x")).unwrap());
    let count = Arc::new(Count::default());
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let cancel = CancellationToken::new();
    let task = {
        let (api, count, errors, cancel) =
            (api.clone(), count.clone(), errors.clone(), cancel.clone());
        tokio::spawn(async move {
            let on_err = move |e: &UserError| errors.lock().unwrap().push(e.to_string());
            watch_branch(
                &api,
                BranchWatch::new("octocat/hello-world", "main"),
                Duration::from_millis(50),
                count.as_ref(),
                &cancel,
                &on_err,
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(count.0.lock().unwrap().is_empty());
    branch_at(&server, SHA2, "\"etag-2\"").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        *count.0.lock().unwrap(),
        vec![(
            "octocat/hello-world".to_string(),
            "main".to_string(),
            SHA2.to_string()
        )]
    );
    // The token is revoked: the watch ends with the reason.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(github_bad_credentials())
        .mount(&server)
        .await;
    let r = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("watch stops")
        .unwrap();
    assert!(r.unwrap_err().why.contains("revoked"));
    assert!(errors
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.contains("401 Bad credentials")));
    assert_eq!(count.0.lock().unwrap().len(), 1);
    cancel.cancel();
}

/// A push delivery as GitHub sends it (recorded shape, trimmed).
fn push_body(after: &str, git_ref: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "ref": git_ref, "before": SHA1, "after": after, "created": false, "deleted": false, "forced": false,
        "base_ref": null, "compare": format!("https://github.com/octocat/hello-world/compare/7fd1a60b01f9...{}", &after[..12]),
        "commits": [{"id": after, "tree_id": "f9d2a07e9488b91af2641b26b9407fe22a451433", "distinct": true, "message": "Add the login form",
                     "timestamp": "2024-11-20T10:01:10Z", "url": format!("https://github.com/octocat/hello-world/commit/{after}"),
                     "author": {"name": "The Octocat", "email": "octocat@github.com", "username": "octocat"},
                     "added": [], "removed": [], "modified": ["README.md"]}],
        "head_commit": {"id": after, "message": "Add the login form"},
        "repository": {"id": 1296269, "name": "hello-world", "full_name": "octocat/hello-world", "private": false,
                       "owner": {"name": "octocat", "login": "octocat"}, "default_branch": "main"},
        "pusher": {"name": "octocat", "email": "octocat@github.com"},
        "sender": {"login": "octocat", "id": 583231, "type": "User"}
    }))
    .unwrap()
}

fn headers(sig: Option<&str>, delivery: &str, event: &str) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert("x-github-event", event.parse().unwrap());
    h.insert("x-github-delivery", delivery.parse().unwrap());
    h.insert("x-github-hook-id", "292430182".parse().unwrap());
    h.insert("user-agent", "GitHub-Hookshot/9729b30".parse().unwrap());
    h.insert("content-type", "application/json".parse().unwrap());
    if let Some(s) = sig {
        h.insert("x-hub-signature-256", s.parse().unwrap());
    }
    h
}

#[test]
fn signatures_valid_forged_replayed_missing() {
    let secret = Secret::new("It's a Secret to Everybody");
    // GitHub's documented test vector.
    assert_eq!(
        WebhookVerifier::sign(&secret, b"Hello, World!"),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
    let v = WebhookVerifier::new(secret.clone());
    let body = push_body(SHA2, "refs/heads/main");
    let sig = WebhookVerifier::sign(&secret, &body);
    let d1 = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

    // Missing.
    assert_eq!(
        v.verify(&headers(None, d1, "push"), &body),
        Err(Refused::MissingSignature)
    );
    // Forged: signed with another secret, a tampered body, garbage, the old sha1 form.
    let other = WebhookVerifier::sign(&Secret::new("guess"), &body);
    assert_eq!(
        v.verify(&headers(Some(&other), d1, "push"), &body),
        Err(Refused::Forged)
    );
    let tampered = push_body(SHA1, "refs/heads/main");
    assert_eq!(
        v.verify(&headers(Some(&sig), d1, "push"), &tampered),
        Err(Refused::Forged)
    );
    assert_eq!(
        v.verify(&headers(Some("sha256=zz"), d1, "push"), &body),
        Err(Refused::Forged)
    );
    assert_eq!(
        v.verify(
            &headers(
                Some("sha1=2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
                d1,
                "push"
            ),
            &body
        ),
        Err(Refused::Forged)
    );
    // Valid.
    match v.verify(&headers(Some(&sig), d1, "push"), &body).unwrap() {
        Delivery::Push(p) => {
            assert_eq!(
                (p.repo.as_str(), p.branch.as_deref(), p.after.as_str()),
                ("octocat/hello-world", Some("main"), SHA2)
            );
            assert_eq!(p.delivery, d1);
            assert!(is_new_commit(&p));
        }
        other => panic!("{other:?}"),
    }
    // Replayed: the same delivery again, even correctly signed.
    assert_eq!(
        v.verify(&headers(Some(&sig), d1, "push"), &body),
        Err(Refused::Replayed(d1.into()))
    );
    assert_eq!(Refused::Replayed(d1.into()).status(), 409);
    // A forged delivery id does not get remembered (so it cannot block the real one).
    let d2 = "8a1b2c3d-cc78-11e3-81ab-4c9367dc0958";
    assert_eq!(
        v.verify(&headers(Some(&other), d2, "push"), &body),
        Err(Refused::Forged)
    );
    assert!(matches!(
        v.verify(&headers(Some(&sig), d2, "push"), &body),
        Ok(Delivery::Push(_))
    ));
    // A ping, a tag push and a deleted branch.
    let ping = br#"{"zen":"Keep it logically awesome.","hook_id":292430182}"#;
    assert_eq!(
        v.verify(
            &headers(Some(&WebhookVerifier::sign(&secret, ping)), "d3", "ping"),
            ping
        ),
        Ok(Delivery::Ping)
    );
    let tag = push_body(SHA2, "refs/tags/v1.0.0");
    let Ok(Delivery::Push(p)) = v.verify(
        &headers(Some(&WebhookVerifier::sign(&secret, &tag)), "d4", "push"),
        &tag,
    ) else {
        panic!()
    };
    assert!(!is_new_commit(&p));
    let deleted = push_body("0000000000000000000000000000000000000000", "refs/heads/old");
    let Ok(Delivery::Push(p)) = v.verify(
        &headers(
            Some(&WebhookVerifier::sign(&secret, &deleted)),
            "d5",
            "push",
        ),
        &deleted,
    ) else {
        panic!()
    };
    assert!(!is_new_commit(&p));
}

#[tokio::test]
async fn the_receiver_starts_a_run_only_for_a_verified_new_delivery() {
    let secret = Secret::new("whsec-0123456789abcdef");
    let count = Arc::new(Count::default());
    let refused = Arc::new(Mutex::new(Vec::<String>::new()));
    let cancel = CancellationToken::new();
    let r2 = refused.clone();
    let addr = serve_webhook(
        0,
        Arc::new(WebhookVerifier::new(secret.clone())),
        count.clone(),
        Arc::new(move |e: &UserError| r2.lock().unwrap().push(e.why.clone())),
        cancel.clone(),
    )
    .await
    .unwrap();
    assert!(addr.ip().is_loopback());
    let url = format!("http://{addr}/webhook");
    let client = reqwest::Client::new();
    let body = push_body(SHA2, "refs/heads/main");
    let send = |sig: Option<String>, delivery: &'static str, body: Vec<u8>| {
        let mut rq = client
            .post(&url)
            .header("x-github-event", "push")
            .header("x-github-delivery", delivery)
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = sig {
            rq = rq.header("x-hub-signature-256", s);
        }
        async move { rq.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(send(None, "d-1", body.clone()).await, 401);
    assert_eq!(
        send(
            Some(WebhookVerifier::sign(&Secret::new("wrong"), &body)),
            "d-1",
            body.clone()
        )
        .await,
        401
    );
    assert!(
        count.0.lock().unwrap().is_empty(),
        "a forged request started a run"
    );
    let sig = WebhookVerifier::sign(&secret, &body);
    assert_eq!(send(Some(sig.clone()), "d-1", body.clone()).await, 202);
    assert_eq!(send(Some(sig.clone()), "d-1", body.clone()).await, 409);
    assert_eq!(
        *count.0.lock().unwrap(),
        vec![(
            "octocat/hello-world".to_string(),
            "main".to_string(),
            SHA2.to_string()
        )]
    );
    let why = refused.lock().unwrap().clone();
    assert_eq!(why.len(), 3, "{why:?}");
    assert!(
        why[0].contains("no X-Hub-Signature-256")
            && why[1].contains("does not match")
            && why[2].contains("replay"),
        "{why:?}"
    );
    assert_eq!(
        client.get(&url).send().await.unwrap().status().as_u16(),
        405
    );
    cancel.cancel();
}

/// A receiver with the given limits, and what it refused.
async fn receiver(limits: WebhookLimits) -> (std::net::SocketAddr, Arc<Count>, Arc<Mutex<Vec<String>>>, CancellationToken) {
    let count = Arc::new(Count::default());
    let refused = Arc::new(Mutex::new(Vec::<String>::new()));
    let cancel = CancellationToken::new();
    let r2 = refused.clone();
    let addr = serve_webhook_with(
        0,
        Arc::new(WebhookVerifier::new(Secret::new("whsec-limits"))),
        count.clone(),
        Arc::new(move |e: &UserError| r2.lock().unwrap().push(e.why.clone())),
        cancel.clone(),
        limits,
    )
    .await
    .unwrap();
    (addr, count, refused, cancel)
}

/// Sends `head` (and nothing more) on a raw connection and reads what comes back until the
/// server closes it or `wait` passes. Returns the answer and whether it closed.
async fn raw(addr: std::net::SocketAddr, head: &str, wait: Duration) -> (String, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

#[tokio::test]
async fn the_receiver_checks_headers_before_reading_a_body_and_never_reads_past_githubs_limit() {
    let (addr, count, refused, cancel) = receiver(WebhookLimits::default()).await;
    assert_eq!(WebhookLimits::default().max_body, 25_000_000, "GitHub caps payloads at 25 MB");
    let sig = format!("sha256={}", "0".repeat(64));
    // No signature, a 10 MB body announced and never sent: refused at once, from the headers.
    let (answer, _) = raw(
        addr,
        "POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: l-1\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n",
        Duration::from_secs(3),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 401"), "unsigned: {answer:?}");
    // Signed-looking, one byte over GitHub's limit: 413 before any of it is read.
    let (answer, _) = raw(
        addr,
        &format!("POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: l-2\r\nX-Hub-Signature-256: {sig}\r\nContent-Length: 25000001\r\n\r\n"),
        Duration::from_secs(3),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "too large: {answer:?}");
    // A chunked body with no length that grows past the limit: cut at the limit, 413.
    let status = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: l-3\r\nX-Hub-Signature-256: {sig}\r\nTransfer-Encoding: chunked\r\n\r\n").as_bytes()).await.unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..30 {
            let mut c = format!("{:x}\r\n", chunk.len()).into_bytes();
            c.extend_from_slice(&chunk);
            c.extend_from_slice(b"\r\n");
            if s.write_all(&c).await.is_err() {
                break; // the server stopped reading: what it answered is below
            }
        }
        let mut got = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut got)).await;
        String::from_utf8_lossy(&got).split_whitespace().nth(1).unwrap_or("").to_string()
    };
    assert_eq!(status, "413", "30 MiB chunked");
    assert!(count.0.lock().unwrap().is_empty());
    let why = refused.lock().unwrap().clone();
    assert!(why.iter().filter(|w| w.contains("larger than 25000000 bytes")).count() == 2 && why[0].contains("no X-Hub-Signature-256"), "{why:?}");
    println!("webhook requests refused before or at the body limit: 3 (unsigned 10 MB, announced 25 MB + 1, chunked 30 MiB)");
    cancel.cancel();
}

#[tokio::test]
async fn a_slow_client_is_cut_off_and_connections_past_the_cap_are_turned_away() {
    let limits = WebhookLimits { read_timeout: Duration::from_secs(1), max_connections: 4, ..Default::default() };
    let (addr, _count, _refused, cancel) = receiver(limits).await;
    // Half a request line, then nothing: closed after the read timeout.
    let t = std::time::Instant::now();
    let (_, closed) = raw(addr, "POST /webhook HT", Duration::from_secs(8)).await;
    assert!(closed, "a client that never finishes its headers keeps its connection");
    println!("a stalled client was cut off after {:?}", t.elapsed());
    // Headers complete, body announced and never sent: 408 once the read timeout passes.
    let (answer, _) = raw(
        addr,
        &format!("POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: s-1\r\nX-Hub-Signature-256: sha256={}\r\nContent-Length: 500\r\n\r\n{{", "0".repeat(64)),
        Duration::from_secs(8),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    // Four stalled connections hold every slot: a fifth is answered 503 at once.
    let mut held = vec![];
    for _ in 0..4 {
        use tokio::io::AsyncWriteExt;
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /webhook HT").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (answer, closed) = raw(addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", Duration::from_millis(900)).await;
    assert!(answer.starts_with("HTTP/1.1 503") && closed, "the fifth connection: {answer:?}");
    // Once the stalled ones are cut off, the receiver answers again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (answer, _) = raw(addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer:?}");
    drop(held);
    cancel.cancel();
}
