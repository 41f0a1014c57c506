//! A Tauri v2 hello-world: one window, one HTML page, one command. `scripts/bench.sh desktop`
//! launches it alternately with Slipway and prints Slipway's figures as ratios to this one's.
//! Its first paint is measured exactly as Slipway's (`src-tauri/src/commands/events.rs`): from
//! the start of `main` to the UI's `first_paint` call, written to
//! `$SLIPWAY_BENCH_FIRST_PAINT_FILE`. Its window is shown once its page has loaded, as Slipway's
//! (`src-tauri/src/main.rs`, `show`): shown earlier, either app's first frame is 500 ms late in
//! some launches, and the anchor would be as noisy as that.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::sync::OnceLock;
use std::time::Instant;

static STARTED: OnceLock<Instant> = OnceLock::new();

#[tauri::command]
fn first_paint() {
    let ms = STARTED.get().map(|s| s.elapsed().as_secs_f64() * 1000.0).unwrap_or(-1.0);
    if let Ok(path) = std::env::var("SLIPWAY_BENCH_FIRST_PAINT_FILE") {
        let _ = std::fs::write(path, format!("{ms:.1}\n"));
    }
}

fn main() {
    STARTED.get_or_init(Instant::now);
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![first_paint])
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                let _ = webview.window().show();
            }
        })
        .run(tauri::generate_context!())
        .expect("the hello-world window could not start");
}
