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
