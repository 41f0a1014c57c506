//! The Slipway desktop shell: a thin Tauri adapter over slipway-app. Commands live one topic
//! per file in `commands/`; streams reach the UI through `tauri::ipc::Channel`, batched.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod cli_mode;
mod logfile;
mod renderer;
mod shell_env;

use slipway_app::{Options, Slipway};
use slipway_desktop::STARTED;
use std::path::PathBuf;
use std::time::Instant;
use tauri::Manager;

fn data_dir_arg() -> Option<PathBuf> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--data-dir")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--data-dir=").map(PathBuf::from))
        })
}

fn init_logging(data_dir: &std::path::Path) {
    let _ = slipway_core::paths::create_private_dir(data_dir);
    let dir = data_dir.join("logs");
    let _ = std::fs::create_dir_all(&dir);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tao=warn,wry=warn".into());
    match logfile::RotatingFile::open(
        dir.join("slipway-desktop.log"),
        logfile::MAX_BYTES,
        logfile::KEEP,
    ) {
        Ok(file) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init(),
        Err(_) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
}

/// SIGTERM or SIGINT on Unix; Ctrl-C (and Ctrl-Break) on Windows, through tokio's
/// cross-platform `ctrl_c`. False when the handler could not be installed.
#[cfg(unix)]
async fn shutdown_signal() -> bool {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return false;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    true
}

#[cfg(not(unix))]
async fn shutdown_signal() -> bool {
    tokio::signal::ctrl_c().await.is_ok()
}

/// How long the window may stay hidden while its page loads.
const SHOW_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Shows the window (again: a no-op) once its page has loaded. Shown before that, about half of
/// all launches painted their first frame 500 ms late, the Tauri hello-world's too, with every
/// process idle meanwhile: most likely WebKitGTK's UI process waiting (500 ms at most) for the
/// web process to paint, while the web process waits for the page's files, which this process
/// serves. `scripts/bench.sh desktop` counts such launches.
fn show(window: &tauri::Window) {
    if !window.is_visible().unwrap_or(false) {
        if let Err(e) = window.show() {
            tracing::warn!(error = %e, "could not show the window");
        }
    }
}

fn main() {
    if cli_mode::wanted() {
        std::process::exit(cli_mode::run());
    }
    STARTED.get_or_init(Instant::now);
    // Before any thread starts: it sets an environment variable WebKitGTK reads.
    let compositing = renderer::configure();
    shell_env::repair_path();
    let data_dir = match slipway_core::paths::data_dir(data_dir_arg()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {}\n  why: {}\n  next: {}", e.what, e.why, e.fix);
            std::process::exit(1);
        }
    };
    init_logging(&data_dir);
    let app = match tauri::async_runtime::block_on(Slipway::open(Options {
        data_dir: Some(data_dir),
        ..Default::default()
    })) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(what = %e.what, why = %e.why, "cannot open Slipway");
            eprintln!("error: {}\n  why: {}\n  next: {}", e.what, e.why, e.fix);
            std::process::exit(1);
        }
    };
    tracing::info!(data_dir = %app.data_dir().display(), "Slipway desktop starting");
    match &compositing {
        renderer::Compositing::SoftwareOnly => {
            tracing::info!(
                "no GPU render node in /dev/dri: WebKit paints without compositing ({}=1)",
                renderer::DISABLE_COMPOSITING
            )
        }
        renderer::Compositing::Gpu(node) => {
            tracing::info!(node = %node, "WebKit composites on the GPU")
        }
        renderer::Compositing::UserChoice(v) => {
            tracing::info!(setting = %v, "compositing left as set ({})", renderer::DISABLE_COMPOSITING)
        }
    }

    let desktop = slipway_desktop::builder(tauri::Builder::default(), app)
        // The window is created hidden and shown once its page has loaded (or after SHOW_WAIT):
        // see `show`.
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                show(&webview.window());
            }
        })
        .setup(|handle| {
            let main = handle.get_webview_window("main");
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(SHOW_WAIT).await;
                if let Some(w) = main {
                    show(&w.as_ref().window());
                }
            });
            // SIGTERM / SIGINT end the app the normal way (the sandbox keeps running: a later
            // Slipway adopts it with everything it holds).
            let quit = handle.handle().clone();
            tauri::async_runtime::spawn(async move {
                if shutdown_signal().await {
                    tracing::info!("signal received: exiting");
                    quit.exit(0);
                }
            });
            slipway_desktop::start_background(handle.handle());
            slipway_desktop::notify::start(handle.handle());
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("the Tauri application could not be built");

    // The sandbox is not stopped on exit: it outlives the window, like a container engine,
    // and the next Slipway adopts it (Connect page: Stop sandbox ends it).
    desktop.run(|_handle, event| {
        if let tauri::RunEvent::Exit = event {
            tracing::info!("Slipway desktop exiting");
        }
    });
}
