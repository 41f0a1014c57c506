//! Secrets by reference. A [`Secret`] never prints, logs or serializes its value; the store
//! keeps a [`SecretRef`] and the value lives in a [`SecretStore`] (the OS keychain in the app).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::sync::Mutex;
use ts_rs::TS;

use crate::UserError;

/// A secret value entered by a person. `Debug`, `Display` and `Serialize` all print
/// `[redacted]`; only [`Secret::expose`] gives the value, for the one call that needs it.
#[derive(Clone, PartialEq, Eq, TS)]
#[ts(export, type = "string")]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

/// `n` random bytes from the OS, as lowercase hex (passwords, ids). Falls back to time and PID
/// where /dev/urandom is missing.
pub fn random_hex(n: usize) -> String {
    use std::io::Read;
    let mut b = vec![0u8; n];
    if std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).is_err() {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        for (i, x) in b.iter_mut().enumerate() {
            *x = ((t >> ((i % 16) * 8)) as u8) ^ (std::process::id() as u8).wrapping_mul(i as u8 + 1);
        }
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Secret(String::deserialize(d)?))
    }
}

/// Where a secret lives: the keychain service and account it is stored under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SecretRef {
    pub service: String,
    pub account: String,
}

impl SecretRef {
    /// The reference for a connection's secret: service `slipway`, account
    /// `<store instance id>/<kind>`, so two data folders never share an entry.
    pub fn for_connection(instance: &str, kind: &str) -> Self {
        Self { service: "slipway".into(), account: format!("{instance}/{kind}") }
    }
}

/// The keychain. Implemented over the `keyring` crate in the app; an in-memory one for tests.
pub trait SecretStore: Send + Sync {
    fn put(&self, r: &SecretRef, value: &Secret) -> Result<(), UserError>;
    fn get(&self, r: &SecretRef) -> Result<Option<Secret>, UserError>;
    fn delete(&self, r: &SecretRef) -> Result<(), UserError>;
}

/// A process-local secret store, for tests and for `--no-keychain` runs.
#[derive(Default)]
pub struct MemorySecretStore {
    values: Mutex<HashMap<(String, String), String>>,
}

impl SecretStore for MemorySecretStore {
    fn put(&self, r: &SecretRef, value: &Secret) -> Result<(), UserError> {
        self.values
            .lock()
            .expect("secret map poisoned")
            .insert((r.service.clone(), r.account.clone()), value.expose().to_string());
        Ok(())
    }
    fn get(&self, r: &SecretRef) -> Result<Option<Secret>, UserError> {
        Ok(self
            .values
            .lock()
            .expect("secret map poisoned")
            .get(&(r.service.clone(), r.account.clone()))
            .map(|v| Secret::new(v.clone())))
    }
    fn delete(&self, r: &SecretRef) -> Result<(), UserError> {
        self.values.lock().expect("secret map poisoned").remove(&(r.service.clone(), r.account.clone()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_or_serializes_its_value() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
        assert_eq!(s.expose(), "hunter2-very-secret");
        let back: Secret = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(back.expose(), "abc");
    }

    #[test]
    fn memory_store_round_trip() {
        let st = MemorySecretStore::default();
        let r = SecretRef::for_connection("0123456789abcdef", "github");
        assert!(st.get(&r).unwrap().is_none());
        st.put(&r, &Secret::new("t0k")).unwrap();
        assert_eq!(st.get(&r).unwrap().unwrap().expose(), "t0k");
        st.delete(&r).unwrap();
        assert!(st.get(&r).unwrap().is_none());
    }
}
