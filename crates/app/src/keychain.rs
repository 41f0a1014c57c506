//! The OS keychain through the `keyring` crate (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows).

#[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd", target_os = "macos", target_os = "windows")))]
compile_error!("no native keychain for this OS: keyring would use its mock store and forget every secret (see crates/app/Cargo.toml)");

use slipway_core::secrets::{Secret, SecretRef, SecretStore, SecretStoreKind};
use slipway_core::UserError;

#[derive(Default)]
pub struct Keychain;

fn unavailable(action: &str, e: keyring::Error) -> UserError {
    let why = match &e {
        keyring::Error::NoStorageAccess(inner) => format!("the keychain cannot be used: {inner}"),
        keyring::Error::PlatformFailure(inner) => format!("the keychain failed: {inner}"),
        other => format!("the keychain failed: {other}"),
    };
    let fix = if cfg!(target_os = "linux") {
        "Unlock your keyring (or log in to a desktop session with a Secret Service such as gnome-keyring or KWallet) and try again; on a machine without one, keep secrets in a file only you can read: `slipway settings set secret-store file` (Settings page: Secrets)"
    } else {
        "Unlock your keychain and try again; on a machine without one, keep secrets in a file only you can read: `slipway settings set secret-store file`"
    };
    UserError::new(format!("Could not {action} the keychain"), why, fix)
}

fn entry(r: &SecretRef) -> Result<keyring::Entry, UserError> {
    keyring::Entry::new(&r.service, &r.account).map_err(|e| unavailable("open", e))
}

impl SecretStore for Keychain {
    fn put(&self, r: &SecretRef, value: &Secret) -> Result<(), UserError> {
        entry(r)?
            .set_password(value.expose())
            .map_err(|e| unavailable("save to", e))
    }

    fn get(&self, r: &SecretRef) -> Result<Option<Secret>, UserError> {
        match entry(r)?.get_password() {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable("read from", e)),
        }
    }

    fn delete(&self, r: &SecretRef) -> Result<(), UserError> {
        match entry(r)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable("delete from", e)),
        }
    }

    fn kind(&self) -> Option<SecretStoreKind> {
        Some(SecretStoreKind::Keychain)
    }

    fn location(&self) -> String {
        if cfg!(target_os = "macos") {
            "the macOS Keychain".into()
        } else if cfg!(windows) {
            "the Windows Credential Manager".into()
        } else {
            "the Secret Service (D-Bus)".into()
        }
    }
}
