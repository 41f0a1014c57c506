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

/// `n` random bytes from the operating system's generator (getrandom(2) on Linux,
/// `BCryptGenRandom` on Windows, `getentropy` on macOS), as lowercase hex: passwords, webhook
/// secrets, ids. There is no fallback: a machine that cannot give random bytes gets no
/// password at all rather than a guessable one.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("the operating system's random number generator failed; Slipway makes no password without it");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `text` with the user part of every URL in it (`https://user:token@host/...`) replaced by
/// `[redacted]`: a token can sit there, as password or as user name alone. `git@` (SSH's usual
/// user) is kept. Applied to every [`crate::UserError`] and to the lines Slipway writes about
/// URLs, so a URL with credentials never reaches a log, an event, the store or the screen.
pub fn redact_url_credentials(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("://") || !text.contains('@') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the path, query, fragment, or anything a URL cannot hold.
        let end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`') || c.is_whitespace() || c.is_control())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) if at > 0 && &authority[..at] != "git" => {
                out.push_str("[redacted]");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
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
    fn credentials_in_urls_are_redacted_wherever_they_sit_in_a_text() {
        let cases = [
            ("Cloning https://x-access-token:ghp_SECRET1@github.com/o/r.git", "Cloning https://[redacted]@github.com/o/r.git"),
            ("cloning 'http://ghp_SECRET2@10.0.0.1:8080/r' failed", "cloning 'http://[redacted]@10.0.0.1:8080/r' failed"),
            ("a https://u:p%40SECRET3@h and b ssh://git@github.com/o/r", "a https://[redacted]@h and b ssh://git@github.com/o/r"),
            ("no url: user@example.com", "no url: user@example.com"),
            ("https://github.com/o/r@main", "https://github.com/o/r@main"),
            ("https://user:SECRET4@h?x=1 then https://a:SECRET5@b#f", "https://[redacted]@h?x=1 then https://[redacted]@b#f"),
        ];
        for (input, want) in cases {
            assert_eq!(redact_url_credentials(input), want, "{input}");
        }
        let e = crate::UserError::new("Checkout failed", "cloning https://me:ghp_SECRET6@github.com/o/r failed", "Check https://me:ghp_SECRET7@github.com");
        assert!(!e.to_string().contains("SECRET"), "{e}");
        assert!(e.why.contains("https://[redacted]@github.com/o/r"), "{e}");
    }

    /// Run in a mount namespace where /dev/urandom reads as empty (the case the old code filled
    /// from the clock and the PID): the values must still be the OS generator's, not that
    /// pattern. Without a usable `unshare` (no user namespaces) the test says so and fails.
    #[cfg(target_os = "linux")]
    #[test]
    fn random_hex_comes_from_the_os_even_where_dev_urandom_gives_nothing() {
        const NAME: &str = "secrets::tests::random_hex_comes_from_the_os_even_where_dev_urandom_gives_nothing";
        if std::env::var_os("SLIPWAY_RANDOM_CHILD").is_some() {
            use std::io::Read;
            let mut b = [0u8; 16];
            let empty = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).is_err();
            println!("CHILD pid={} urandom_empty={empty}", std::process::id());
            for _ in 0..4 {
                println!("CHILD value={}", random_hex(32));
            }
            return;
        }
        let exe = std::env::current_exe().unwrap();
        let o = std::process::Command::new("unshare")
            .args(["--mount", "--map-root-user", "--propagation", "private", "sh", "-c"])
            .arg("mount --bind /dev/null /dev/urandom && exec \"$0\" --exact \"$1\" --nocapture --test-threads 1")
            .arg(&exe)
            .arg(NAME)
            .env("SLIPWAY_RANDOM_CHILD", "1")
            .output()
            .expect("unshare (util-linux) runs");
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(o.status.success(), "{out}{}", String::from_utf8_lossy(&o.stderr));
        assert!(out.contains("urandom_empty=true"), "the child did not see an empty /dev/urandom: {out}");
        let pid: u32 = out.split("pid=").nth(1).and_then(|s| s.split_whitespace().next()).and_then(|s| s.parse().ok()).unwrap();
        let values: Vec<Vec<u8>> = out
            .lines()
            .filter_map(|l| l.split("value=").nth(1))
            .map(|h| (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect())
            .collect();
        assert_eq!(values.len(), 4, "{out}");
        for v in &values {
            // The old fallback made byte i and byte i+16 from the same clock byte: their XOR was
            // a function of the PID alone.
            let pattern = (0..16).all(|i| v[i] ^ v[i + 16] == (pid as u8).wrapping_mul(i as u8 + 1) ^ (pid as u8).wrapping_mul(i as u8 + 17));
            assert!(!pattern, "a value made from the clock and the PID: {v:02x?}");
        }
        assert!(values.windows(2).all(|w| w[0] != w[1]));
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
