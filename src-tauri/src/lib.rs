//! The Slipway desktop shell as a library: the Tauri commands (`commands/`) and the state they
//! use, put together by [`builder`] the same way for every runtime. The desktop binary
//! (`main.rs`) runs them in a window on Wry; the test-only IPC bridge (`bridge`, feature
//! `ipc-bridge`, never part of the shipped build) runs them on Tauri's mock runtime behind a
//! loopback HTTP server, so the UI in a browser reaches the real commands.

pub mod commands;
pub mod notify;

#[cfg(test)]
mod acl_tests;
#[cfg(test)]
mod startup_tests;

#[cfg(feature = "ipc-bridge")]
pub mod bridge;

use slipway_app::Slipway;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tauri::{Manager, Runtime};

/// When the process started, for the first-paint benchmark.
pub static STARTED: OnceLock<Instant> = OnceLock::new();

/// How long [`start_background`] waits for the window's first frame before it starts anyway.
pub const FIRST_FRAME_WAIT: std::time::Duration = std::time::Duration::from_secs(3);
/// Then how long it waits for the first page to be usable. Only the Launch page, the one the
/// window opens on, reports it (`launch_interactive`); another page never does.
pub const FIRST_PAGE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Told when the window has painted its first frame (the `first_paint` command), and when its
/// first page can be used (`launch_interactive`).
#[derive(Default)]
pub struct FirstPage {
    painted: Arc<tokio::sync::Notify>,
    usable: Arc<tokio::sync::Notify>,
}

impl FirstPage {
    // Each keeps a permit when nothing waits yet; later calls (a reload) change nothing.
    pub fn painted(&self) {
        self.painted.notify_one();
    }

    pub fn usable(&self) {
        self.usable.notify_one();
    }

    /// Returns once the first page is usable, or [`FIRST_PAGE_WAIT`] after the first frame, or
    /// [`FIRST_FRAME_WAIT`] after the call when no frame is reported.
    fn wait(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let (painted, usable) = (self.painted.clone(), self.usable.clone());
        async move {
            if tokio::time::timeout(FIRST_FRAME_WAIT, painted.notified()).await.is_err() {
                tracing::info!("no first frame reported within {} s: starting up anyway", FIRST_FRAME_WAIT.as_secs());
            } else if tokio::time::timeout(FIRST_PAGE_WAIT, usable.notified()).await.is_err() {
                tracing::info!("the first page did not report itself usable within {} s of its first frame: starting up", FIRST_PAGE_WAIT.as_secs());
            }
        }
    }
}

/// The app's state and its command handlers on a Tauri builder of any runtime: the desktop
/// window and the test bridge register exactly the same.
pub fn builder<R: Runtime>(b: tauri::Builder<R>, app: Arc<Slipway>) -> tauri::Builder<R> {
    b.manage(app)
        .manage(commands::streams::Streams::default())
        .manage(FirstPage::default())
        .invoke_handler(commands::handler())
}

/// What the app does once it is up, in the background: the sandbox started (or adopted, when an
/// earlier Slipway left it running) when it is the AWS connection (or none exists) and auto start
/// is on, runs orphaned by an earlier exit marked
/// failed, the GitHub watches of an earlier session resumed, and the sandbox watched.
///
/// The heavy part (the emulator's Python starting and its credentials written to the keyring,
/// the engine swept, old run logs pruned) waits until the first page can be used
/// ([`FirstPage::wait`]): on two cores it would otherwise take CPU from WebKit while WebKit loads
/// that page. Runs left unfinished by an earlier exit are marked at once, before any page reads
/// them.
pub fn start_background<R: Runtime>(handle: &tauri::AppHandle<R>) {
    let app: Arc<Slipway> = handle.state::<Arc<Slipway>>().inner().clone();
    let first_page = handle.state::<FirstPage>().wait();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = app.mark_interrupted_runs().await {
            tracing::warn!(what = %e.what, why = %e.why, "marking interrupted runs");
        }
        first_page.await;
        if let Err(e) = app.start_services().await {
            tracing::warn!(what = %e.what, why = %e.why, "startup");
        }
        // The GitHub branches watched in an earlier session start watching again.
        let resumed = app.resume_watches().await;
        if !resumed.is_empty() {
            tracing::info!(
                watches = resumed.len(),
                active = resumed.iter().filter(|w| w.active).count(),
                "GitHub watches resumed"
            );
        }
        app.watch_sandbox().await;
    });
}
