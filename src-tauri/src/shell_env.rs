//! Apps started from a desktop launcher get a minimal PATH, not the login shell's, so tools
//! like `gh`, `docker-credential-*` and `aws` are "not found". This asks the login shell for
//! its PATH once at start (with a timeout) and adopts it.
//!
//! It runs first thing in `main`, before any other thread reads the environment, so the window
//! waits for it: the answer is taken as soon as the shell has printed it (not when the shell, or
//! whatever it left running, lets go of its output), and a shell that has not answered within
//! [`DEADLINE`] is stopped and the PATH left as it is.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the login shell may take to print its PATH.
pub const DEADLINE: Duration = Duration::from_secs(3);

const MARK: &str = "__SLIPWAY_PATH__";

pub fn repair_path() {
    if cfg!(windows) || std::env::var_os("SLIPWAY_KEEP_PATH").is_some() {
        return;
    }
    let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
    if let Some(login) = login_shell_path(&shell, DEADLINE) {
        let current = std::env::var("PATH").unwrap_or_default();
        std::env::set_var("PATH", merged(&login, &current));
    }
}

/// The PATH `shell` has as an interactive login shell; None when it cannot start, exits without
/// printing it, or has not printed it within `deadline`. The shell is stopped and reaped before
/// this returns.
fn login_shell_path(shell: &str, deadline: Duration) -> Option<String> {
    let mut child = Command::new(shell)
        .args(["-ilc", &format!("printf '{MARK}%s__' \"$PATH\"")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut out = child.stdout.take()?;
    let (tx, rx) = mpsc::channel();
    // Reads until the answer is complete; a process the shell left behind may hold the pipe open
    // long after, and this thread is not waited for.
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = out.read(&mut chunk) {
            seen.extend_from_slice(&chunk[..n]);
            if let Some(path) = parse(&seen) {
                let _ = tx.send(path);
                return;
            }
        }
    });
    let path = rx.recv_timeout(deadline).ok();
    if !matches!(child.try_wait(), Ok(Some(_))) {
        let _ = child.kill();
    }
    let _ = child.wait();
    path
}

/// The PATH between the marker and the next `__`, once both have arrived.
fn parse(out: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(out);
    let rest = text.split_once(MARK)?.1;
    rest.find("__").map(|end| rest[..end].to_string())
}

/// The login shell's entries first, then the current PATH's that it lacks; no empty entries.
fn merged(login: &str, current: &str) -> String {
    let mut parts: Vec<&str> = login.split(':').filter(|p| !p.is_empty()).collect();
    for p in current.split(':') {
        if !p.is_empty() && !parts.contains(&p) {
            parts.push(p);
        }
    }
    parts.join(":")
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Instant;

    /// A stand-in for the user's shell: a script that ignores `-ilc ...` and runs `body`.
    fn fake_shell(dir: &std::path::Path, body: &str) -> String {
        let path = dir.join("shell");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn the_real_sh_answers_with_its_path() {
        let path = login_shell_path("/bin/sh", DEADLINE).expect("/bin/sh printed its PATH");
        assert!(path.split(':').any(|p| p == "/usr/bin" || p == "/bin"), "{path}");
    }

    #[test]
    fn the_answer_is_taken_when_printed_not_when_the_shell_exits() {
        let dir = tempfile::tempdir().unwrap();
        // Prints, then keeps running (a slow logout script, or a process holding the output).
        let shell = fake_shell(dir.path(), "printf '__SLIPWAY_PATH__/opt/tools/bin:/usr/bin__'\nexec sleep 60");
        let started = Instant::now();
        let path = login_shell_path(&shell, Duration::from_secs(60));
        assert_eq!(path.as_deref(), Some("/opt/tools/bin:/usr/bin"));
        assert!(started.elapsed() < Duration::from_secs(30), "waited for the shell to exit: {:?}", started.elapsed());
    }

    #[test]
    fn a_shell_that_does_not_answer_in_time_is_stopped_and_the_path_kept() {
        let dir = tempfile::tempdir().unwrap();
        let shell = fake_shell(dir.path(), "exec sleep 60");
        let started = Instant::now();
        assert_eq!(login_shell_path(&shell, Duration::from_millis(300)), None);
        assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
        // One that exits without the answer, and one that cannot start, change nothing either.
        assert_eq!(login_shell_path(&fake_shell(dir.path(), "echo no path here"), DEADLINE), None);
        assert_eq!(login_shell_path("/nonexistent/shell", DEADLINE), None);
    }

    #[test]
    fn the_login_shells_entries_come_first_without_repeats_or_empties() {
        assert_eq!(merged("/opt/a:/usr/bin::", "/usr/bin:/bin:"), "/opt/a:/usr/bin:/bin");
        assert_eq!(merged("", "/usr/bin"), "/usr/bin");
    }
}
