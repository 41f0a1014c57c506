//! Apps started from a desktop launcher get a minimal PATH, not the login shell's, so tools
//! like `gh`, `docker-credential-*` and `aws` are "not found". This asks the login shell for
//! its PATH once at start (with a timeout) and adopts it.

use std::time::Duration;

pub fn repair_path() {
    if cfg!(windows) || std::env::var_os("SLIPWAY_KEEP_PATH").is_some() {
        return;
    }
    let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
    let Ok(mut child) = std::process::Command::new(&shell)
        .args(["-ilc", "printf '__SLIPWAY_PATH__%s__' \"$PATH\""])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        return;
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
        }
    }
    let Ok(out) = child.wait_with_output() else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    if let Some(path) = text
        .split("__SLIPWAY_PATH__")
        .nth(1)
        .and_then(|r| r.split("__").next())
    {
        let current = std::env::var("PATH").unwrap_or_default();
        let mut parts: Vec<&str> = path.split(':').filter(|p| !p.is_empty()).collect();
        for p in current.split(':') {
            if !p.is_empty() && !parts.contains(&p) {
                parts.push(p);
            }
        }
        std::env::set_var("PATH", parts.join(":"));
    }
}
