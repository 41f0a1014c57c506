//! Test-only helpers shared by the integration suites: where the test environment's real
//! services are (from `$TESTENV_DIR/env`, which `scripts/test.sh` sources), and HTTP stand-ins
//! for the services that cannot run here, built from recorded shapes of their real APIs.

use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A variable the test environment exports. Missing means the environment is not up: the test
/// fails with the command that fixes it (it never skips silently).
pub fn env(name: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
        panic!("{name} is not set: start the test environment with `scripts/testenv.sh up` and `source ${{TESTENV_DIR:-/tmp/slipway-testenv}}/env` (scripts/test.sh does both)")
    })
}

/// A fresh moto account id: always exactly 12 digits (AWS rejects a role ARN whose account has
/// more or fewer; moto's EKS says "Invalid Role Arn"), different in every call, so that what one
/// test applies never meets another's.
pub fn moto_account() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    format!("{}", 100_000_000_000 + h.finish() % 900_000_000_000)
}

/// A free loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Every file below `dir`, for tests that search what a run left on disk (a secret must be in none).
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The body GitHub's `GET /user` returns (recorded from api.github.com, trimmed).
pub fn github_user(login: &str) -> serde_json::Value {
    serde_json::json!({
        "login": login, "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==",
        "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4", "type": "User",
        "site_admin": false, "name": "The Octocat", "company": "@github", "public_repos": 8,
        "created_at": "2011-01-25T18:44:36Z", "updated_at": "2024-01-22T12:21:43Z"
    })
}

/// A GitHub stand-in: `good_token` gets `login` with scopes repo and workflow; any other token
/// gets GitHub's 401 "Bad credentials".
pub async fn github_stand_in(good_token: &str, login: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .and(header("authorization", format!("Bearer {good_token}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(github_user(login))
                .insert_header("x-oauth-scopes", "repo, workflow")
                .insert_header("x-ratelimit-remaining", "4999"),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"
        })))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

/// STS's answer to a request signed with an unknown access key id (recorded shape).
pub fn sts_invalid_client_token() -> ResponseTemplate {
    ResponseTemplate::new(403).insert_header("content-type", "text/xml").set_body_string(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>InvalidClientTokenId</Code>\n    <Message>The security token included in the request is invalid.</Message>\n  </Error>\n  <RequestId>4a2b0c1e-7a3f-4c64-9d52-0e5c8b6e1f00</RequestId>\n</ErrorResponse>\n",
    )
}

/// STS's answer when the secret key does not match the key id (recorded shape).
pub fn sts_signature_mismatch() -> ResponseTemplate {
    ResponseTemplate::new(403).insert_header("content-type", "text/xml").set_body_string(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>SignatureDoesNotMatch</Code>\n    <Message>The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.</Message>\n  </Error>\n  <RequestId>0c7d1f5e-2b8a-4b1e-8f3c-6d9e0a4b2c11</RequestId>\n</ErrorResponse>\n",
    )
}

/// A fresh data folder for one test.
pub fn data_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("slipway-test-").tempdir().unwrap()
}

/// A Unix socket stand-in for the Docker engine's socket that forwards to the real one until
/// [`EngineCut::cut`]: then every open connection is closed and the socket file is gone, which
/// is what a client sees when dockerd stops. The real engine (shared by the other suites) keeps
/// running.
pub struct EngineCut {
    pub path: std::path::PathBuf,
    stop: tokio_util::sync::CancellationToken,
    _dir: tempfile::TempDir,
}

impl EngineCut {
    /// Starts forwarding `<tmp>/docker.sock` to `target` (a socket path).
    pub fn start(target: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let stop = tokio_util::sync::CancellationToken::new();
        let (target, s) = (target.to_string(), stop.clone());
        tokio::spawn(async move {
            loop {
                let conn = tokio::select! {
                    c = listener.accept() => c,
                    _ = s.cancelled() => return,
                };
                let Ok((mut client, _)) = conn else { continue };
                let (target, s) = (target.clone(), s.clone());
                tokio::spawn(async move {
                    let Ok(mut upstream) = tokio::net::UnixStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                        _ = s.cancelled() => {}
                    }
                });
            }
        });
        Self { path, stop, _dir: dir }
    }

    /// `unix://` address for DOCKER_HOST.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    /// The engine "stops": connections drop and the socket disappears.
    pub fn cut(&self) {
        self.stop.cancel();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Runs git in `dir` with a fixed identity; panics with git's message when it fails.
pub fn git(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(["-c", "user.email=test@example.com", "-c", "user.name=Slipway Test", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The commit HEAD points at.
pub fn git_head(dir: &std::path::Path) -> String {
    let out = std::process::Command::new("git").args(["rev-parse", "HEAD"]).current_dir(dir).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Writes `files` (path relative to `root`, content) under `root`.
pub fn write_files(root: &std::path::Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// Commits everything in `dir` as a new repository on branch main.
pub fn commit_all(dir: &std::path::Path, message: &str) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", message]);
}

/// A small project of generated manifests: `web` (busybox httpd on 8080, answering with its pod's
/// name), no tests, one replica.
pub fn web_repo() -> tempfile::TempDir {
    git_repo(&[
        (
            "web/Dockerfile",
            "FROM slipway/busybox:latest\nEXPOSE 8080\nCMD [\"sh\", \"-c\", \"mkdir -p /www && echo web on $HOSTNAME > /www/index.html && exec httpd -f -p 8080 -h /www\"]\n",
        ),
        ("docker-compose.yml", "services:\n  web:\n    build: ./web\n    ports: [\"8080\"]\n"),
        ("slipway.toml", "[services.web]\ntests = false\nhealth_path = \"/\"\n\n[deploy]\nreplicas = 1\n"),
    ])
}

/// A Git repository holding `files` in one commit.
pub fn git_repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    write_files(d.path(), files);
    commit_all(d.path(), "first");
    d
}

/// Copies a folder and everything below it.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The sample app of examples/sample-app, committed into a fresh repository of its own.
pub fn sample_app_repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-app"), d.path());
    commit_all(d.path(), "sample app");
    d
}

/// GitHub's `x-ratelimit-*` headers (as api.github.com sends them) on a response.
pub fn github_rate(t: ResponseTemplate, remaining: u32, resource: &str) -> ResponseTemplate {
    t.insert_header("x-ratelimit-limit", "5000")
        .insert_header("x-ratelimit-remaining", remaining.to_string().as_str())
        .insert_header("x-ratelimit-reset", "1732665600")
        .insert_header(
            "x-ratelimit-used",
            (5000 - remaining.min(5000)).to_string().as_str(),
        )
        .insert_header("x-ratelimit-resource", resource)
        .insert_header("x-github-api-version-selected", "2022-11-28")
        .insert_header("content-type", "application/json; charset=utf-8")
}

/// A repository as `GET /user/repos` lists it (recorded from api.github.com, trimmed).
pub fn github_repo(owner: &str, name: &str, private: bool) -> serde_json::Value {
    serde_json::json!({
        "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": name,
        "full_name": format!("{owner}/{name}"), "private": private,
        "owner": {"login": owner, "id": 583231, "type": "User", "site_admin": false},
        "html_url": format!("https://github.com/{owner}/{name}"), "description": format!("{name}, for tests"),
        "fork": false, "url": format!("https://api.github.com/repos/{owner}/{name}"),
        "created_at": "2011-01-26T19:01:12Z", "updated_at": "2024-11-20T10:01:12Z", "pushed_at": "2024-11-20T10:01:10Z",
        "git_url": format!("git://github.com/{owner}/{name}.git"), "ssh_url": format!("git@github.com:{owner}/{name}.git"),
        "clone_url": format!("https://github.com/{owner}/{name}.git"), "default_branch": "main",
        "visibility": if private { "private" } else { "public" },
        "permissions": {"admin": true, "maintain": true, "push": true, "triage": true, "pull": true}
    })
}

/// A branch as `GET /repos/{o}/{r}/branches/{b}` answers (recorded shape, trimmed).
pub fn github_branch(owner: &str, name: &str, branch: &str, sha: &str) -> serde_json::Value {
    serde_json::json!({
        "name": branch,
        "commit": {
            "sha": sha, "node_id": "C_kwDOABPHjNoAKDdmZDFhNjBiMDFmOTFiMzE0ZjU5OTU1YTRlNGQ0ZTgwZDhlZGYxMWQ",
            "commit": {"author": {"name": "The Octocat", "email": "octocat@github.com", "date": "2024-11-20T10:01:10Z"},
                       "message": "Update README.md", "tree": {"sha": "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d"}},
            "url": format!("https://api.github.com/repos/{owner}/{name}/commits/{sha}"),
            "html_url": format!("https://github.com/{owner}/{name}/commit/{sha}")
        },
        "_links": {"self": format!("https://api.github.com/repos/{owner}/{name}/branches/{branch}"),
                   "html": format!("https://github.com/{owner}/{name}/tree/{branch}")},
        "protected": branch == "main",
        "protection_url": format!("https://api.github.com/repos/{owner}/{name}/branches/{branch}/protection")
    })
}

/// A commit as `GET /repos/{o}/{r}/commits` lists it (recorded shape, trimmed).
pub fn github_commit(owner: &str, name: &str, sha: &str, message: &str) -> serde_json::Value {
    serde_json::json!({
        "sha": sha, "node_id": "C_kwDOABPHjNoAKDdmZDFhNjBi",
        "commit": {
            "author": {"name": "The Octocat", "email": "octocat@github.com", "date": "2024-11-20T10:01:10Z"},
            "committer": {"name": "GitHub", "email": "noreply@github.com", "date": "2024-11-20T10:01:10Z"},
            "message": message, "comment_count": 0,
            "verification": {"verified": true, "reason": "valid"}
        },
        "url": format!("https://api.github.com/repos/{owner}/{name}/commits/{sha}"),
        "html_url": format!("https://github.com/{owner}/{name}/commit/{sha}"),
        "author": {"login": "octocat", "id": 583231, "type": "User"},
        "committer": {"login": "web-flow", "id": 19864447, "type": "User"},
        "parents": []
    })
}

/// GitHub's 403 for a secondary rate limit (recorded shape): `retry-after` and a message.
pub fn github_secondary_limit() -> ResponseTemplate {
    github_rate(ResponseTemplate::new(403), 4321, "core").insert_header("retry-after", "60").set_body_json(serde_json::json!({
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 8C2A:3B4F:1A2B3C:1D2E3F:6746F0A1.",
        "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        "status": "403"
    }))
}

/// GitHub's 404 (also what a private repository looks like without access).
pub fn github_not_found() -> ResponseTemplate {
    github_rate(ResponseTemplate::new(404), 4990, "core").set_body_json(serde_json::json!({
        "message": "Not Found", "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository", "status": "404"
    }))
}

/// GitHub's 401 for a revoked or wrong token.
pub fn github_bad_credentials() -> ResponseTemplate {
    github_rate(ResponseTemplate::new(401), 59, "core").set_body_json(serde_json::json!({
        "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"
    }))
}
