//! Checkout for the pipeline (git2): a fresh clone of the repository (a local path or a Git
//! URL; HTTPS with the connected token) into the run's folder, at a branch, tag or commit.
//! The token goes only to the connected GitHub host, only over HTTPS ([`token_allowed`]), and
//! a URL's credentials never reach the log or an error.
//! Implements [`SourceProvider`]. The committed state is what runs: uncommitted edits in a local
//! repository are not part of a run.

use async_trait::async_trait;
use slipway_core::pipeline::engine::LogSink;
use slipway_core::pipeline::project::Source;
use slipway_core::pipeline::runner::{Commit, GitToken, SourceProvider};
use slipway_core::secrets::redact_url_credentials;
use slipway_core::UserError;
use std::path::{Path, PathBuf};

#[derive(Default, Clone)]
pub struct Git;

fn fail(what: &str, why: impl Into<String>, fix: &str) -> UserError {
    UserError::new(what, why, fix)
}

/// The URL git2 clones from, checking a local path first so its error is clear.
fn clone_url(source: &Source) -> Result<String, UserError> {
    match source {
        Source::Path { path } => {
            let p = Path::new(path);
            if !p.exists() {
                return Err(fail(
                    "Repository not found",
                    format!("{path} does not exist"),
                    "Check the repository path on the Project page",
                ));
            }
            let root = repo_root(p).ok_or_else(|| {
                fail("Not a Git repository", format!("{path} is not inside a Git repository"), "Point the project at a folder with a Git repository (`git init` and commit the code first)")
            })?;
            Ok(root.to_string_lossy().into_owned())
        }
        Source::Git { url } => Ok(url.clone()),
    }
}

/// May the token for `host` be sent to `url` (the address that asks for credentials)? Only
/// over HTTPS, only to that host (any port), never to a URL that carries its own credentials.
pub fn token_allowed(url: &str, host: &str) -> bool {
    let Ok(u) = url::Url::parse(url) else { return false };
    u.scheme() == "https"
        && u.username().is_empty()
        && u.password().is_none()
        && !host.is_empty()
        && u.host_str().is_some_and(|h| h.eq_ignore_ascii_case(host.trim()))
}

/// The root folder of the Git repository holding `path` (the path itself, or a parent).
pub fn repo_root(path: &Path) -> Option<PathBuf> {
    let repo = git2::Repository::discover(path).ok()?;
    let root = repo.workdir()?;
    Some(root.canonicalize().unwrap_or_else(|_| root.to_path_buf()))
}

fn checkout_blocking(
    source: Source,
    git_ref: String,
    dir: PathBuf,
    token: Option<GitToken>,
    out: tokio::sync::mpsc::UnboundedSender<String>,
) -> Result<Commit, UserError> {
    let url = clone_url(&source)?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| {
            fail(
                "Checkout failed",
                format!("cannot clear {}: {e}", dir.display()),
                "Check the data folder's permissions",
            )
        })?;
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            fail(
                "Checkout failed",
                format!("cannot create {}: {e}", parent.display()),
                "Check the data folder's permissions",
            )
        })?;
    }
    let _ = out.send(format!("Cloning {}", redact_url_credentials(&url)));
    let mut callbacks = git2::RemoteCallbacks::new();
    let mut tried = false;
    callbacks.credentials(move |asking, _user, allowed| {
        if tried {
            return Err(git2::Error::from_str("the credentials were refused"));
        }
        tried = true;
        if !allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) {
            return git2::Cred::default();
        }
        match &token {
            Some(t) if token_allowed(asking, &t.host) => {
                git2::Cred::userpass_plaintext("x-access-token", t.token.expose())
            }
            Some(t) => Err(git2::Error::from_str(&format!(
                "the server asked for credentials; the GitHub token is sent only to {} over HTTPS",
                t.host
            ))),
            None => Err(git2::Error::from_str(
                "the server asked for credentials and no GitHub account is connected",
            )),
        }
    });
    let progress_out = out.clone();
    let mut last = 0usize;
    callbacks.transfer_progress(move |p| {
        let done = p.received_objects();
        if done == p.total_objects() || done >= last + 500 {
            last = done;
            let _ = progress_out.send(format!(
                "Received {}/{} objects ({} KiB)",
                done,
                p.total_objects(),
                p.received_bytes() / 1024
            ));
        }
        true
    });
    let mut fetch = git2::FetchOptions::new();
    fetch.remote_callbacks(callbacks);
    let repo = git2::build::RepoBuilder::new().fetch_options(fetch).bare(false).clone(&url, &dir).map_err(|e| {
        let msg = e.message().to_string();
        let fix = if msg.contains("401") || msg.contains("403") || msg.contains("credentials") || msg.contains("authentication") {
            "Connect GitHub with a token that can read this repository (Connect page), then run again"
        } else if msg.contains("not found") || msg.contains("404") {
            "Check the repository URL, and that the connected token can see it"
        } else {
            "Check the repository URL and the network, then run again"
        };
        fail("Checkout failed", format!("cloning {} failed: {}", source.display(), redact_url_credentials(&msg)), fix)
    })?;
    let commit = resolve(&repo, &git_ref).ok_or_else(|| {
        fail(
            "Checkout failed",
            format!(
                "the branch, tag or commit \"{git_ref}\" does not exist in {}",
                source.display()
            ),
            "Pick an existing branch or commit (push it first if it is only on your machine)",
        )
    })?;
    repo.checkout_tree(
        commit.as_object(),
        Some(git2::build::CheckoutBuilder::new().force()),
    )
    .and_then(|_| repo.set_head_detached(commit.id()))
    .map_err(|e| {
        fail(
            "Checkout failed",
            format!("checking out {}: {}", commit.id(), e.message()),
            "Run again; if it repeats, check the data folder's free space",
        )
    })?;
    let c = Commit {
        sha: commit.id().to_string(),
        message: commit.message().unwrap_or("").trim().to_string(),
        time: Some(commit.time().seconds() * 1000),
    };
    let _ = out.send(format!(
        "Checked out {} ({})",
        c.sha,
        c.message.lines().next().unwrap_or("")
    ));
    Ok(c)
}

fn resolve<'r>(repo: &'r git2::Repository, git_ref: &str) -> Option<git2::Commit<'r>> {
    if git_ref.is_empty() || git_ref == "HEAD" {
        return repo.head().ok()?.peel_to_commit().ok();
    }
    for candidate in [
        format!("refs/remotes/origin/{git_ref}"),
        format!("refs/tags/{git_ref}"),
        git_ref.to_string(),
    ] {
        if let Ok(obj) = repo.revparse_single(&candidate) {
            if let Ok(c) = obj.peel_to_commit() {
                return Some(c);
            }
        }
    }
    None
}

#[async_trait]
impl SourceProvider for Git {
    async fn checkout(
        &self,
        source: &Source,
        git_ref: &str,
        dir: &Path,
        token: Option<&GitToken>,
        out: &dyn LogSink,
    ) -> Result<Commit, UserError> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (source, git_ref, dir, token) = (
            source.clone(),
            git_ref.to_string(),
            dir.to_path_buf(),
            token.cloned(),
        );
        let task =
            tokio::task::spawn_blocking(move || checkout_blocking(source, git_ref, dir, token, tx));
        while let Some(line) = rx.recv().await {
            out.write(format!("{line}\n").as_bytes());
        }
        task.await.map_err(|e| {
            fail(
                "Checkout failed",
                format!("the checkout task stopped: {e}"),
                "Run again",
            )
        })?
    }
}
