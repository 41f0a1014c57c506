//! Checkout through git2 from a real local repository: HEAD, a branch, a commit, and the errors
//! for a missing repository, a folder that is not one, and a ref that does not exist.

use slipway_core::pipeline::engine::LogSink;
use slipway_core::pipeline::project::Source;
use slipway_core::pipeline::runner::SourceProvider;
use slipway_git_host::checkout::Git;
use std::path::Path;
use std::sync::Mutex;

#[derive(Default)]
struct Collect(Mutex<Vec<u8>>);
impl LogSink for Collect {
    fn write(&self, b: &[u8]) {
        self.0.lock().unwrap().extend_from_slice(b);
    }
}

fn commit(repo: &git2::Repository, files: &[(&str, &str)], msg: &str) -> git2::Oid {
    let root = repo.workdir().unwrap().to_path_buf();
    let mut index = repo.index().unwrap();
    for (name, text) in files {
        std::fs::write(root.join(name), text).unwrap();
        index.add_path(Path::new(name)).unwrap();
    }
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("Test", "test@example.com").unwrap();
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let refs: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, msg, &tree, &refs)
        .unwrap()
}

#[tokio::test]
async fn head_branch_and_commit_are_checked_out_and_bad_refs_are_clear_errors() {
    let src = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(src.path()).unwrap();
    let first = commit(&repo, &[("app.txt", "one\n")], "first");
    let second = commit(&repo, &[("app.txt", "two\n")], "second\n\nbody");
    repo.branch("old", &repo.find_commit(first).unwrap(), false)
        .unwrap();
    std::fs::write(src.path().join("app.txt"), "uncommitted\n").unwrap();
    let source = Source::Path {
        path: src.path().to_string_lossy().into(),
    };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("p").join("p-1");
    let out = Collect::default();

    let c = Git
        .checkout(&source, "HEAD", &dir, None, &out)
        .await
        .unwrap();
    assert_eq!(c.sha, second.to_string());
    assert_eq!(c.message, "second\n\nbody");
    assert_eq!(
        std::fs::read_to_string(dir.join("app.txt")).unwrap(),
        "two\n",
        "the committed state, not the edit"
    );
    assert!(String::from_utf8_lossy(&out.0.lock().unwrap()).contains("Checked out"));

    let c = Git
        .checkout(&source, "old", &dir, None, &out)
        .await
        .unwrap();
    assert_eq!(c.sha, first.to_string());
    assert_eq!(
        std::fs::read_to_string(dir.join("app.txt")).unwrap(),
        "one\n"
    );
    let c = Git
        .checkout(&source, &second.to_string()[..10], &dir, None, &out)
        .await
        .unwrap();
    assert_eq!(c.sha, second.to_string());

    let e = Git
        .checkout(&source, "no-such-branch", &dir, None, &out)
        .await
        .unwrap_err();
    assert!(e.why.contains("\"no-such-branch\" does not exist"), "{e}");
    let e = Git
        .checkout(
            &source,
            "0123456789abcdef0123456789abcdef01234567",
            &dir,
            None,
            &out,
        )
        .await
        .unwrap_err();
    assert!(e.why.contains("does not exist"), "{e}");

    let e = Git
        .checkout(
            &Source::Path {
                path: "/nonexistent/repo".into(),
            },
            "HEAD",
            &dir,
            None,
            &out,
        )
        .await
        .unwrap_err();
    assert_eq!(e.what, "Repository not found");
    let plain = tempfile::tempdir().unwrap();
    let e = Git
        .checkout(
            &Source::Path {
                path: plain.path().to_string_lossy().into(),
            },
            "HEAD",
            &dir,
            None,
            &out,
        )
        .await
        .unwrap_err();
    assert_eq!(e.what, "Not a Git repository");
    assert!(e.fix.contains("git init"), "{e}");
    let e = Git
        .checkout(
            &Source::Git {
                url: "file:///nonexistent/repo.git".into(),
            },
            "HEAD",
            &dir,
            None,
            &out,
        )
        .await
        .unwrap_err();
    assert!(e.why.contains("cloning"), "{e}");
}

/// A Git server on loopback that asks every request for Basic credentials and records the
/// headers it was sent.
fn asking_server() -> (u16, std::sync::Arc<Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(Mutex::new(Vec::<String>::new()));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let mut buf = vec![0u8; 16384];
            let mut got = Vec::new();
            c.set_read_timeout(Some(std::time::Duration::from_secs(5))).ok();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            s2.lock().unwrap().push(String::from_utf8_lossy(&got).into_owned());
            let _ = c.write_all(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (port, seen)
}

#[tokio::test]
async fn the_token_goes_only_to_the_connected_host_over_https_and_urls_never_show_credentials() {
    use base64::Engine as _;
    use slipway_core::pipeline::runner::GitToken;
    use slipway_core::secrets::Secret;
    let (port, seen) = asking_server();
    let work = tempfile::tempdir().unwrap();
    let token = "ghp_TOKEN0123456789abcdef";
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"));
    let mut tried = 0;
    // Plain http to the connected host itself, and https-less requests to another host: the
    // server asks for credentials each time and never gets the token.
    for host in ["127.0.0.1", "github.com"] {
        let out = Collect::default();
        let t = GitToken { host: host.into(), token: Secret::new(token) };
        let e = Git
            .checkout(
                &Source::Git { url: format!("http://127.0.0.1:{port}/octo/app.git") },
                "HEAD",
                &work.path().join(format!("c-{host}")),
                Some(&t),
                &out,
            )
            .await
            .unwrap_err();
        assert!(e.why.contains(&format!("sent only to {host} over HTTPS")), "{e}");
        tried += 1;
    }
    // A URL with its own credentials: they never reach the log or the error.
    let out = Collect::default();
    let e = Git
        .checkout(
            &Source::Git { url: format!("http://someone:pw_SECRET_9@127.0.0.1:{port}/octo/app.git") },
            "HEAD",
            &work.path().join("c-creds"),
            Some(&GitToken { host: "127.0.0.1".into(), token: Secret::new(token) }),
            &out,
        )
        .await
        .unwrap_err();
    tried += 1;
    let log = String::from_utf8_lossy(&out.0.lock().unwrap()).into_owned();
    assert!(log.contains(&format!("Cloning http://[redacted]@127.0.0.1:{port}/octo/app.git")), "{log}");
    assert!(!log.contains("pw_SECRET_9") && !e.to_string().contains("pw_SECRET_9"), "{log}\n{e}");
    let requests = seen.lock().unwrap().clone();
    assert!(requests.len() >= 3, "the server was asked {} times", requests.len());
    for r in &requests {
        assert!(!r.contains(&encoded) && !r.contains(token), "the token reached a plain-http server:\n{r}");
    }
    println!("checkouts tried against a server asking for credentials: {tried}; requests seen: {}; token sent: 0", requests.len());

    // Where it is allowed: https, that host, any port; nowhere else.
    use slipway_git_host::checkout::token_allowed;
    assert!(token_allowed("https://github.com/octo/app.git", "github.com"));
    assert!(token_allowed("https://GitHub.com:443/octo/app", "github.com"));
    assert!(token_allowed("https://ghe.example.com/team/app.git", "ghe.example.com"));
    for (url, host) in [
        ("http://github.com/octo/app.git", "github.com"),
        ("https://github.com.evil.example/octo/app.git", "github.com"),
        ("https://evil.example/github.com/app.git", "github.com"),
        ("https://user:pw@github.com/octo/app.git", "github.com"),
        ("ssh://git@github.com/octo/app.git", "github.com"),
        ("https://github.com/octo/app.git", ""),
        ("not a url", "github.com"),
    ] {
        assert!(!token_allowed(url, host), "{url} for {host}");
    }
}
