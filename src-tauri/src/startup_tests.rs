//! The start-up work that would take a core from WebKit while it loads the first page (the
//! emulator's Python first of all) waits for the window's first frame: the sandbox does not start
//! before the page calls `first_paint`, and starts once it has. On the mock runtime with the
//! app's real context, command handler and sandbox.

use crate::acl_tests::{app_with, invoke, window, LOCAL};
use serde_json::json;
use slipway_core::sandbox::SandboxStatus;
use std::time::{Duration, Instant};

/// Stops the data folder's sandbox when the test ends, whatever happens.
struct StopSandbox(std::sync::Arc<slipway_app::Slipway>);
impl Drop for StopSandbox {
    fn drop(&mut self) {
        let _ = tauri::async_runtime::block_on(self.0.sandbox_stop());
    }
}

#[test]
fn the_sandbox_starts_once_the_window_has_painted_its_first_frame_not_before() {
    std::env::set_var(
        "SLIPWAY_SANDBOX_VENV",
        slipway_testkit::env("SLIPWAY_MOTO_VENV"),
    );
    let data = slipway_testkit::data_dir();
    let (app, slipway) = app_with(data.path());
    let _stop = StopSandbox(slipway.clone());
    let main = window(&app, "main");

    crate::start_background(app.handle());
    // Well under FIRST_FRAME_WAIT, with no frame: nothing has started.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(crate::FIRST_FRAME_WAIT > Duration::from_millis(2500));
    assert_eq!(
        slipway.sandbox_status().status,
        SandboxStatus::Stopped,
        "the sandbox started before the first frame"
    );

    invoke(&main, LOCAL, "first_paint", json!({}))
        .expect("first_paint is granted to the main window");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = slipway.sandbox_status();
        match st.status {
            SandboxStatus::Running => break,
            SandboxStatus::Failed => panic!("the sandbox failed to start: {st:?}"),
            _ if Instant::now() > deadline => {
                panic!("the sandbox did not start within 60 s of the first frame: {st:?}")
            }
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}
