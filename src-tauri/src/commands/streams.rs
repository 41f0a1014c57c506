//! Streams that never end by themselves (a followed deploy log, a Jenkins console), by the id of
//! the channel they write to, so the page can end one with `stop_stream` when it stops showing
//! it. A command registers its stream with `Streams::start` and holds the guard while it runs.

use slipway_app::deploy::CancellationToken;
use std::collections::HashMap;
use std::sync::Mutex;
use tauri::State;

/// Streams in progress, by the id of the channel they write to, so the page can end one
/// (`stop_stream`) when it stops showing it: a followed log never ends by itself.
#[derive(Default)]
pub struct Streams(Mutex<HashMap<u32, CancellationToken>>);

impl Streams {
    pub(crate) fn start(&self, channel: u32) -> StreamGuard<'_> {
        let token = CancellationToken::new();
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(channel, token.clone());
        StreamGuard {
            streams: self,
            channel,
            token,
        }
    }
}

/// Forgets a stream when its command returns, however it returns.
pub(crate) struct StreamGuard<'a> {
    streams: &'a Streams,
    channel: u32,
    pub(crate) token: CancellationToken,
}

impl Drop for StreamGuard<'_> {
    fn drop(&mut self) {
        self.streams
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.channel);
    }
}

/// Ends the stream writing to `channel`; false when none does (it had ended already).
#[tauri::command]
pub fn stop_stream(streams: State<'_, Streams>, channel: u32) -> bool {
    match streams
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&channel)
    {
        Some(token) => {
            token.cancel();
            true
        }
        None => false,
    }
}
