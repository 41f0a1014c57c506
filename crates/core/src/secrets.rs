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

/// Where secrets are kept: the OS keychain (the default), or a file readable only by this user,
/// for machines without a keychain (servers, CI, a desktop without a Secret Service). The file
/// store is chosen explicitly (`slipway settings set secret-store file`, the Settings page, or
/// `SLIPWAY_SECRET_STORE=file`) and `slipway doctor` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum SecretStoreKind {
    #[default]
    Keychain,
    File,
}

impl SecretStoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretStoreKind::Keychain => "keychain",
            SecretStoreKind::File => "file",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "keychain" => Some(SecretStoreKind::Keychain),
            "file" => Some(SecretStoreKind::File),
            _ => None,
        }
    }
}

/// The keychain. Implemented over the `keyring` crate in the app; a file store for headless
/// machines; an in-memory one for tests.
pub trait SecretStore: Send + Sync {
    fn put(&self, r: &SecretRef, value: &Secret) -> Result<(), UserError>;
    fn get(&self, r: &SecretRef) -> Result<Option<Secret>, UserError>;
    fn delete(&self, r: &SecretRef) -> Result<(), UserError>;
    /// The OS keychain or the file store (None: another store, such as a test's).
    fn kind(&self) -> Option<SecretStoreKind> {
        None
    }
    /// Where the secrets are, for `slipway doctor` ("Secret Service", a file path...).
    fn location(&self) -> String {
        "memory".into()
    }
}

/// Secrets in one JSON file (`<data dir>/secrets.json`) that only this user may read (0600 in a
/// 0700 folder). Not encrypted: anyone who can read this user's files can read them, which is
/// why it is never chosen silently. Writes go to a temporary file renamed over the old one, so a
/// crash never leaves half a file.
pub struct FileSecretStore {
    path: std::path::PathBuf,
    lock: Mutex<()>,
}

impl FileSecretStore {
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        Self { path: path.into(), lock: Mutex::new(()) }
    }

    fn failed(&self, action: &str, why: impl std::fmt::Display) -> UserError {
        UserError::new(
            format!("Could not {action} the secrets file"),
            format!("{}: {why}", self.path.display()),
            "Check that the data folder is yours and writable (the file must be readable only by you), or switch back to the keychain: `slipway settings set secret-store keychain`",
        )
    }

    fn read_all(&self) -> Result<std::collections::BTreeMap<String, String>, UserError> {
        match std::fs::read(&self.path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| self.failed("read", format!("it is not a secrets file ({e})"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
            Err(e) => Err(self.failed("read", e)),
        }
    }

    fn write_all(&self, map: &std::collections::BTreeMap<String, String>) -> Result<(), UserError> {
        use std::io::Write;
        let dir = self.path.parent().ok_or_else(|| self.failed("write", "it has no folder"))?;
        std::fs::create_dir_all(dir).map_err(|e| self.failed("write", e))?;
        let tmp = self.path.with_extension(format!("tmp-{}", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| self.failed("write", e))?;
        let body = serde_json::to_vec_pretty(map).map_err(|e| self.failed("write", e))?;
        f.write_all(&body).and_then(|_| f.sync_all()).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            self.failed("write", e)
        })?;
        std::fs::rename(&tmp, &self.path).map_err(|e| self.failed("write", e))
    }

    fn key(r: &SecretRef) -> String {
        format!("{}/{}", r.service, r.account)
    }
}

impl SecretStore for FileSecretStore {
    fn put(&self, r: &SecretRef, value: &Secret) -> Result<(), UserError> {
        let _g = self.lock.lock().expect("secrets file lock");
        let mut map = self.read_all()?;
        map.insert(Self::key(r), value.expose().to_string());
        self.write_all(&map)
    }
    fn get(&self, r: &SecretRef) -> Result<Option<Secret>, UserError> {
        let _g = self.lock.lock().expect("secrets file lock");
        Ok(self.read_all()?.get(&Self::key(r)).map(|v| Secret::new(v.clone())))
    }
    fn delete(&self, r: &SecretRef) -> Result<(), UserError> {
        let _g = self.lock.lock().expect("secrets file lock");
        let mut map = self.read_all()?;
        if map.remove(&Self::key(r)).is_some() {
            self.write_all(&map)?;
        }
        Ok(())
    }
    fn kind(&self) -> Option<SecretStoreKind> {
        Some(SecretStoreKind::File)
    }
    fn location(&self) -> String {
        self.path.display().to_string()
    }
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
    fn file_store_round_trip_is_private_and_survives_a_reopen() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("data/secrets.json");
        let st = FileSecretStore::new(&path);
        let r = SecretRef::for_connection("0123456789abcdef", "github");
        assert!(st.get(&r).unwrap().is_none(), "no file yet");
        st.put(&r, &Secret::new("t0k-file")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let again = FileSecretStore::new(&path);
        assert_eq!(again.get(&r).unwrap().unwrap().expose(), "t0k-file");
        again.delete(&r).unwrap();
        assert!(st.get(&r).unwrap().is_none());
        assert_eq!(st.kind(), Some(SecretStoreKind::File));
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(leftovers.len(), 1, "only secrets.json, no temporary file: {leftovers:?}");
    }

    #[test]
    fn a_damaged_secrets_file_is_a_clear_error_and_is_not_overwritten() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("secrets.json");
        std::fs::write(&path, "not json").unwrap();
        let st = FileSecretStore::new(&path);
        let r = SecretRef::for_connection("0123456789abcdef", "github");
        let e = st.put(&r, &Secret::new("x")).unwrap_err();
        assert!(e.why.contains("not a secrets file") && e.fix.contains("secret-store"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not json", "left as it was");
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
