//! `slipway-ipc-bridge`: the desktop app's commands on Tauri's mock runtime behind a loopback
//! HTTP server, for the UI's page tests in a browser (see `slipway_desktop::bridge`). Built only
//! with the `ipc-bridge` feature; never shipped.
//!
//! ```text
//! slipway-ipc-bridge --data-dir DIR [--port N] [--stdin-lifeline]
//! ```
//! Prints one JSON line `{"url", "token", "pid", "data_dir"}` once it listens; logs go to stderr.

use std::path::PathBuf;

fn usage(msg: &str) -> ! {
    eprintln!("error: {msg}\nusage: slipway-ipc-bridge --data-dir DIR [--port N] [--stdin-lifeline]");
    std::process::exit(2);
}

fn main() {
    slipway_desktop::STARTED.get_or_init(std::time::Instant::now);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info".into()),
        )
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    let mut data_dir = None;
    let mut port = 0u16;
    let mut stdin_lifeline = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--data-dir" => data_dir = args.next().map(PathBuf::from),
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage("--port needs a number from 0 to 65535"))
            }
            "--stdin-lifeline" => stdin_lifeline = true,
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let Some(data_dir) = data_dir else {
        usage("--data-dir is required (a fresh folder per test suite)")
    };
    if let Err(e) = slipway_desktop::bridge::run(slipway_desktop::bridge::Config {
        data_dir,
        port,
        stdin_lifeline,
    }) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
