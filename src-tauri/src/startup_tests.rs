//! The start-up work that would take a core from WebKit while it loads the first page (the
//! emulator's Python first of all) waits until that page can be used: the sandbox does not start
//! before the page calls `first_paint`, nor after it until the page calls `launch_interactive` (or
//! `FIRST_PAGE_WAIT` has passed, for a page that never does). On the mock runtime with the app's
//! real context, command handler and sandbox.

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

/// An app on a fresh data folder, its main window, and start-up begun (`start_background`). Its
/// sandbox is stopped, then its data folder removed, when it is dropped.
struct Started {
    _stop: StopSandbox,
    slipway: std::sync::Arc<slipway_app::Slipway>,
    main: tauri::WebviewWindow<tauri::test::MockRuntime>,
    _app: tauri::App<tauri::test::MockRuntime>,
    _data: tempfile::TempDir,
}

fn started() -> Started {
    std::env::set_var("SLIPWAY_SANDBOX_VENV", slipway_testkit::env("SLIPWAY_MOTO_VENV"));
    let data = slipway_testkit::data_dir();
    let (app, slipway) = app_with(data.path());
    let main = window(&app, "main");
    crate::start_background(app.handle());
    Started { _stop: StopSandbox(slipway.clone()), slipway, main, _app: app, _data: data }
}

/// Waits up to 60 s for the data folder's sandbox to be running.
fn wait_running(slipway: &slipway_app::Slipway, after: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = slipway.sandbox_status();
        match st.status {
            SandboxStatus::Running => return,
            SandboxStatus::Failed => panic!("the sandbox failed to start: {st:?}"),
            _ if Instant::now() > deadline => panic!("the sandbox did not start within 60 s of {after}: {st:?}"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn assert_stopped(slipway: &slipway_app::Slipway, before: &str) {
    assert_eq!(slipway.sandbox_status().status, SandboxStatus::Stopped, "the sandbox started before {before}");
}

#[test]
fn the_sandbox_starts_once_the_first_page_can_be_used_not_before() {
    let t = started();
    let (slipway, main) = (&t.slipway, &t.main);
    // Well under FIRST_FRAME_WAIT, with no frame: nothing has started.
    assert!(crate::FIRST_FRAME_WAIT > Duration::from_millis(2500));
    std::thread::sleep(Duration::from_millis(1500));
    assert_stopped(slipway, "the first frame");

    // Painted, but the page has not shown its state yet: still nothing, well under FIRST_PAGE_WAIT.
    invoke(main, LOCAL, "first_paint", json!({})).expect("first_paint is granted to the main window");
    assert!(crate::FIRST_PAGE_WAIT >= Duration::from_millis(1000));
    std::thread::sleep(Duration::from_millis(400));
    assert_stopped(slipway, "the first page could be used");

    invoke(main, LOCAL, "launch_interactive", json!({})).expect("launch_interactive is granted to the main window");
    wait_running(slipway, "launch_interactive");
}

#[test]
fn a_first_page_that_never_reports_itself_usable_does_not_hold_start_up_back() {
    let t = started();
    let (slipway, main) = (&t.slipway, &t.main);
    invoke(main, LOCAL, "first_paint", json!({})).expect("first_paint is granted to the main window");
    // No launch_interactive (the window opened on another page): start-up goes on by itself.
    wait_running(slipway, "the first frame, with no usable page reported");
}
