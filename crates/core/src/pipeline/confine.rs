//! What a repository may name. Every path it gives (the database schema, manifests, build
//! contexts and Dockerfiles, through slipway.toml, the compose file or the saved project) is
//! resolved inside the checkout by [`inside`], or refused with the path and the reason: an
//! absolute path, a `..` that climbs out, or a symbolic link pointing outside. [`check_project`]
//! is the same rule without the files (on save), plus the Git URL: a known scheme, no
//! credentials in it (the connected token is used instead), no plain `http://` except on the
//! machine itself.

use std::path::{Component, Path, PathBuf};

use super::project::{Project, Source};
use crate::UserError;

fn refused(what: &str, path: &str, reason: impl std::fmt::Display) -> UserError {
    UserError::new(
        "A path in the repository is not allowed",
        format!("{what} \"{path}\" {reason}"),
        "Use a path inside the repository (relative, without .., and no link pointing outside it) in slipway.toml, the compose file or on the Project page",
    )
}

/// The lexical half of [`inside`]: `rel` is relative and never climbs with `..`.
pub fn check_relative(what: &str, rel: &str) -> Result<(), UserError> {
    if rel.contains('\0') {
        return Err(refused(what, &rel.replace('\0', "\\0"), "holds a NUL character"));
    }
    let p = Path::new(rel);
    // `/x` and `\x` are absolute everywhere; `C:x` too on Windows.
    let drive = rel.len() >= 2 && rel.as_bytes()[1] == b':' && rel.as_bytes()[0].is_ascii_alphabetic();
    if p.is_absolute() || rel.starts_with('/') || rel.starts_with('\\') || drive {
        return Err(refused(what, rel, "is an absolute path"));
    }
    if p.components().any(|c| matches!(c, Component::ParentDir)) || rel.split(['/', '\\']).any(|s| s == "..") {
        return Err(refused(what, rel, "climbs out of the repository with .."));
    }
    Ok(())
}

/// `root/rel`, when it stays inside `root` once every symbolic link is followed. A path that
/// does not exist is returned as is (reading it then fails with "not found"): nothing outside
/// can be reached through it.
pub fn inside(root: &Path, what: &str, rel: &str) -> Result<PathBuf, UserError> {
    check_relative(what, rel)?;
    let joined = root.join(rel);
    let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    match joined.canonicalize() {
        Ok(real) if real.starts_with(&real_root) => Ok(joined),
        Ok(real) => Err(refused(what, rel, format!("is a symbolic link to {}, outside the repository", real.display()))),
        Err(_) => {
            // A dangling link, or a missing file: a link whose target is outside is refused
            // even when that target does not exist yet.
            if let Ok(target) = std::fs::read_link(&joined) {
                let t = if target.is_absolute() { target.clone() } else { joined.parent().unwrap_or(root).join(&target) };
                if !lexically_inside(&real_root, &t) && !lexically_inside(root, &t) {
                    return Err(refused(what, rel, format!("is a symbolic link to {}, outside the repository", target.display())));
                }
            }
            Ok(joined)
        }
    }
}

fn lexically_inside(root: &Path, p: &Path) -> bool {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out.starts_with(root)
}

/// The files detection reads by their fixed names: each, when present, must stay inside the
/// repository (a `slipway.toml` linked to `~/.aws/credentials` would otherwise be read, and
/// quoted in the error about its first line).
pub fn check_detect_inputs(root: &Path) -> Result<(), UserError> {
    for f in ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml", "slipway.toml", ".env"] {
        if root.join(f).symlink_metadata().is_ok() {
            inside(root, "the file", f)?;
        }
    }
    Ok(())
}

/// Why a Git URL is not accepted, if it is not.
pub fn git_url_problem(url: &str) -> Option<String> {
    let url = url.trim();
    if url.is_empty() {
        return Some("the Git URL is empty".into());
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("the Git URL holds spaces or control characters".into());
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        // scp-like `git@github.com:owner/repo.git` (SSH).
        return match url.split_once(':') {
            Some((host, path)) if !host.is_empty() && !path.is_empty() && !host.contains('/') => None,
            _ => Some(format!("\"{url}\" is not a Git URL (https://, ssh://, git@host:path or file://)")),
        };
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let host = hostport.rsplit_once(':').map(|(h, _)| h).unwrap_or(hostport).trim_start_matches('[').trim_end_matches(']');
    match scheme.to_ascii_lowercase().as_str() {
        "https" | "http" => {
            if userinfo.is_some() {
                return Some("the Git URL holds credentials (user or token before @): they would be kept and shown; connect GitHub with the token instead".into());
            }
            if host.is_empty() {
                return Some(format!("\"{}\" has no host", crate::secrets::redact_url_credentials(url)));
            }
            let loopback = host == "localhost" || host == "::1" || host.starts_with("127.");
            if scheme.eq_ignore_ascii_case("http") && !loopback {
                return Some(format!("\"{url}\" is plain http: the code would travel unencrypted and could be changed on the way; use https://"));
            }
            None
        }
        "ssh" | "git+ssh" | "ssh+git" => {
            if userinfo.is_some_and(|u| u.contains(':')) {
                return Some("the Git URL holds a password: use an SSH key".into());
            }
            (host.is_empty()).then(|| format!("\"{url}\" has no host"))
        }
        "file" => None,
        other => Some(format!("the scheme \"{other}://\" is not supported (https://, ssh:// or file://)")),
    }
}

/// What [`super::project::Project::validate`] checks beyond the fields a person edits: the
/// Git URL, and every path the project names (no absolute path, no `..`), and the database's
/// compose name (it names a log file and a host).
pub fn check_project(p: &Project) -> Result<(), UserError> {
    if let Source::Git { url } = &p.source {
        if let Some(why) = git_url_problem(url) {
            return Err(UserError::new("Project settings are not valid", why, "Use the repository's https:// (or ssh://) URL without credentials; the connected GitHub token is used to clone"));
        }
    }
    for s in &p.services {
        check_relative(&format!("service {}'s build context", s.name), &s.context)?;
        check_relative(&format!("service {}'s Dockerfile", s.name), &s.dockerfile)?;
    }
    for m in &p.manifests {
        check_relative("the manifest", m)?;
    }
    if let Some(db) = &p.database {
        for schema in db.scripts() {
            check_relative("the database schema", &schema)?;
        }
        let ok = !db.name.is_empty()
            && db.name.len() <= 63
            && db.name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && db.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !ok {
            return Err(UserError::new(
                "Project settings are not valid",
                format!("the database service name \"{}\" is not a host name (it names the database's container, host and log)", db.name.escape_debug()),
                "Use letters, digits, '-', '_' and '.', starting with a letter or digit (up to 63)",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_pass_and_absolute_parent_and_linked_out_ones_are_refused_with_the_reason() {
        let repo = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let r = repo.path();
        std::fs::create_dir_all(r.join("db")).unwrap();
        std::fs::write(r.join("db/schema.sql"), "create table t(x int);").unwrap();
        std::fs::write(outside.path().join("credentials"), "[default]\naws_secret_access_key=S3CRET\n").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outside.path().join("credentials"), r.join("db/linked.sql")).unwrap();
            std::os::unix::fs::symlink(outside.path(), r.join("outdir")).unwrap();
            std::os::unix::fs::symlink("schema.sql", r.join("db/alias.sql")).unwrap();
            std::os::unix::fs::symlink("/nonexistent/elsewhere", r.join("dangling")).unwrap();
        }
        assert_eq!(inside(r, "the database schema", "db/schema.sql").unwrap(), r.join("db/schema.sql"));
        assert_eq!(inside(r, "the database schema", "./db/schema.sql").unwrap(), r.join("./db/schema.sql"));
        assert!(inside(r, "the manifest", "k8s/missing.yaml").is_ok(), "missing is not refused: reading says so");
        let mut tried = 0;
        for (rel, reason) in [
            ("/etc/passwd", "is an absolute path"),
            ("\\\\server\\share", "is an absolute path"),
            ("C:/Windows/win.ini", "is an absolute path"),
            ("../../.aws/credentials", "climbs out of the repository with .."),
            ("db/../../x", "climbs out of the repository with .."),
            ("db\\..\\..\\x", "climbs out of the repository with .."),
            #[cfg(unix)]
            ("db/linked.sql", "is a symbolic link to"),
            #[cfg(unix)]
            ("outdir/credentials", "is a symbolic link to"),
            #[cfg(unix)]
            ("dangling", "is a symbolic link to /nonexistent/elsewhere"),
        ] {
            let e = inside(r, "the database schema", rel).unwrap_err();
            assert!(e.why.contains(&format!("the database schema \"{rel}\" {reason}")), "{rel}: {e}");
            assert!(!e.to_string().contains("S3CRET"));
            tried += 1;
        }
        #[cfg(unix)]
        assert_eq!(inside(r, "the database schema", "db/alias.sql").unwrap(), r.join("db/alias.sql"), "a link inside is fine");
        println!("hostile repository paths refused: {tried}");
    }

    #[test]
    fn detection_inputs_linked_out_of_the_repository_are_refused() {
        let repo = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("credentials"), "x").unwrap();
        assert!(check_detect_inputs(repo.path()).is_ok());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outside.path().join("credentials"), repo.path().join("slipway.toml")).unwrap();
            let e = check_detect_inputs(repo.path()).unwrap_err();
            assert!(e.why.contains("the file \"slipway.toml\" is a symbolic link to"), "{e}");
        }
    }

    #[test]
    fn git_urls_are_checked() {
        for ok in [
            "https://github.com/octo/app.git",
            "https://ghe.example.com/team/app",
            "http://127.0.0.1:9418/app.git",
            "http://localhost/app.git",
            "ssh://git@github.com/octo/app.git",
            "git@github.com:octo/app.git",
            "file:///srv/git/app.git",
        ] {
            assert_eq!(git_url_problem(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("https://x-access-token:ghp_TOKEN@github.com/o/r.git", "holds credentials"),
            ("https://ghp_TOKEN@github.com/o/r.git", "holds credentials"),
            ("http://any-host.example/o/r.git", "plain http"),
            ("ssh://git:pw@host/r", "holds a password"),
            ("ftp://host/r", "not supported"),
            ("https://github.com/o/r.git\nx", "control characters"),
            ("not a url", "spaces"),
            ("", "empty"),
        ] {
            let got = git_url_problem(bad).unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(got.contains(why), "{bad}: {got}");
            assert!(!got.contains("ghp_TOKEN"), "{got}");
        }
    }
}
