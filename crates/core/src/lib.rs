//! Slipway's domain: connections and their checks, events, settings, secrets by reference,
//! and the SQLite store. This crate compiles and tests without any cloud SDK and without Tauri;
//! every external system is reached through a trait defined in [`providers`].

pub mod audit;
pub mod board;
pub mod connections;
pub mod deploy;
pub mod error;
pub mod events;
pub mod export;
pub mod insights;
pub mod integrations;
pub mod launch;
pub mod notify;
pub mod paths;
pub mod pipeline;
pub mod provision;
pub mod providers;
pub mod sandbox;
pub mod secrets;
pub mod settings;
pub mod store;

pub use error::{error_chain, UserError};

/// Milliseconds since the Unix epoch, the one timestamp format used across Slipway.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

