//! Running the `slipway` binary in tests.
#![allow(dead_code)]

use slipway_testkit::env;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A `slipway` command with the test environment's sandbox virtualenv and debug logging.
pub fn command(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_slipway"));
    c.arg("--data-dir")
        .arg(data)
        .args(args)
        .env("SLIPWAY_SANDBOX_VENV", env("SLIPWAY_MOTO_VENV"))
        .env("RUST_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

pub fn run(mut c: Command, stdin: Option<&str>) -> Output {
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

pub fn slipway(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    run(command(data, args), stdin)
}

pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}
