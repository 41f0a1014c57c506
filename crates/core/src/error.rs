//! The error a user sees: what failed, why, and what to do next.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Every error that reaches a person (UI toast, CLI stderr, `doctor --json`) has this shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[ts(export)]
#[error("{what}: {why}. {fix}")]
pub struct UserError {
    /// What failed, e.g. "AWS sign-in check failed".
    pub what: String,
    /// Why, in the words of the system that refused, e.g. "the security token is invalid".
    pub why: String,
    /// What to do next, e.g. "Check the access key id and secret, or pick another profile".
    pub fix: String,
}

impl UserError {
    /// Credentials in any URL the texts hold are redacted (`https://[redacted]@host`), so an
    /// error never carries a token to the screen, a log, an event or the store.
    pub fn new(what: impl Into<String>, why: impl Into<String>, fix: impl Into<String>) -> Self {
        let clean = |s: String| match crate::secrets::redact_url_credentials(&s) {
            std::borrow::Cow::Borrowed(_) => s,
            std::borrow::Cow::Owned(r) => r,
        };
        Self { what: clean(what.into()), why: clean(why.into()), fix: clean(fix.into()) }
    }
}

/// An error and its sources joined with ": " (repeats dropped), for the "why" of an error that
/// has no better words.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.contains(&t) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}
