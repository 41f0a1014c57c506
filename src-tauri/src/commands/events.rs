use slipway_app::Slipway;
use slipway_core::events::{next_batch, EventEnvelope};
use std::sync::Arc;
use std::time::Duration;
use tauri::ipc::Channel;
use tauri::State;

/// Streams the engine's events to the UI, at most one message per 50 ms window (up to 512
/// events each), until the window closes the channel.
#[tauri::command]
pub fn subscribe_events(app: State<'_, Arc<Slipway>>, on_events: Channel<Vec<EventEnvelope>>) {
    let mut rx = app.subscribe();
    tauri::async_runtime::spawn(async move {
        while let Some(batch) = next_batch(&mut rx, 512, Duration::from_millis(50)).await {
            if on_events.send(batch).is_err() {
                break;
            }
        }
    });
}

/// Called by the UI once its first frame is painted (`ui/public/first-paint.js`). Records the
/// time since the process started (for `scripts/bench.sh`); the start-up work waits for it
/// (`crate::FirstPage::wait`).
#[tauri::command]
pub fn first_paint(first: State<'_, crate::FirstPage>) {
    bench_mark("first paint", "SLIPWAY_BENCH_FIRST_PAINT_FILE");
    first.painted();
}

/// Called by the Launch page once its state has loaded and been painted: the first page can be
/// used. Records the time since the process started (for `scripts/bench.sh`), and lets the
/// start-up work that was waiting for it begin (`crate::start_background`).
#[tauri::command]
pub fn launch_interactive(first: State<'_, crate::FirstPage>) {
    bench_mark("launch interactive", "SLIPWAY_BENCH_INTERACTIVE_FILE");
    first.usable();
}

/// Logs the ms since the process started as `what`, and writes them to the file `$file_var`
/// names, when it is set.
fn bench_mark(what: &str, file_var: &str) {
    let ms = crate::STARTED
        .get()
        .map(|s| s.elapsed().as_secs_f64() * 1000.0)
        .unwrap_or(-1.0);
    tracing::info!(ms, "{what}");
    if let Ok(path) = std::env::var(file_var) {
        let _ = std::fs::write(path, format!("{ms:.1}\n"));
    }
}
