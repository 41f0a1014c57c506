//! Desktop notifications when long work ends: an apply or destroy, a pipeline run, a deploy
//! (`slipway_core::notify` decides which events and the words; the Settings page's "Desktop
//! notifications" decides when: while no window has the focus, always, or never).
//!
//! On Linux they are the freedesktop Notifications call on the session bus, made with the D-Bus
//! client the build already links for the keychain (Tauri's notification plugin would add two
//! more D-Bus stacks, zbus 5 and 6, to the binary). Without a notification server the call fails
//! and is logged at debug level; nothing else depends on it.

use slipway_app::Slipway;
use slipway_core::notify::{Notice, Notifier};
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::broadcast::error::RecvError;

/// Watches the app's events for the rest of the process and notifies the ends of long work.
pub fn start<R: Runtime>(handle: &AppHandle<R>) {
    let app: Arc<Slipway> = handle.state::<Arc<Slipway>>().inner().clone();
    let handle = handle.clone();
    let mut events = app.subscribe();
    tauri::async_runtime::spawn(async move {
        let mut notifier = Notifier::default();
        loop {
            let envelope = match events.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            };
            let Some(notice) = notifier.notice(&envelope.event) else { continue };
            let when = app.settings().await.map(|s| s.notifications).unwrap_or_default();
            let focused = handle.webview_windows().values().any(|w| w.is_focused().unwrap_or(false));
            if !when.shows(focused) {
                continue;
            }
            let title = notice.title.clone();
            match tokio::task::spawn_blocking(move || show(&notice)).await {
                Ok(Ok(())) => tracing::info!(title = %title, "notified"),
                Ok(Err(why)) => tracing::debug!(title = %title, why = %why, "no desktop notification"),
                Err(e) => tracing::debug!(error = %e, "no desktop notification"),
            }
        }
    });
}

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd", target_os = "netbsd", target_os = "dragonfly"))]
fn show(n: &Notice) -> Result<(), String> {
    use dbus::arg::{PropMap, Variant};
    use std::time::Duration;
    let bus = dbus::blocking::Connection::new_session().map_err(|e| e.to_string())?;
    let server = bus.with_proxy("org.freedesktop.Notifications", "/org/freedesktop/Notifications", Duration::from_secs(5));
    let mut hints = PropMap::new();
    // Urgency: 1 normal, 2 critical (a failure).
    hints.insert("urgency".into(), Variant(Box::new(if n.failed { 2u8 } else { 1u8 })));
    hints.insert("desktop-entry".into(), Variant(Box::new("slipway".to_string())));
    let actions: Vec<String> = vec![];
    let (_id,): (u32,) = server
        .method_call("org.freedesktop.Notifications", "Notify", ("Slipway", 0u32, "", n.title.as_str(), n.body.as_str(), actions, hints, -1i32))
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd", target_os = "netbsd", target_os = "dragonfly")))]
fn show(_n: &Notice) -> Result<(), String> {
    Err("desktop notifications are only sent on Linux and the BSDs so far".into())
}
