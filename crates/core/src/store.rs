//! The SQLite store: settings, connections (references to secrets, never secrets) and the event
//! log, in `<data dir>/slipway.db`, with schema migrations. Every call runs on a blocking thread
//! (`spawn_blocking`), never on the async runtime.

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use rusqlite_migration::{Migrations, M};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::connections::{ConnectionKind, SavedConnection};
use crate::events::EventEnvelope;
use crate::settings::Settings;
use crate::UserError;

fn migrations() -> Migrations<'static> {
    Migrations::new(migration_list())
}

/// Schema versions 1, 2, ...: each migration is one step, in order, never edited once released.
fn migration_list() -> Vec<M<'static>> {
    vec![M::up(
        "CREATE TABLE settings (
             key   TEXT PRIMARY KEY,
             value TEXT NOT NULL
         );
         CREATE TABLE connections (
             kind           TEXT PRIMARY KEY,
             config         TEXT NOT NULL,
             secret_service TEXT,
             secret_account TEXT,
             identity       TEXT,
             last_error     TEXT,
             checked_at     INTEGER,
             last_ok_at     INTEGER
         );
         CREATE TABLE events (
             seq  INTEGER NOT NULL,
             at   INTEGER NOT NULL,
             type TEXT NOT NULL,
             body TEXT NOT NULL
         );
         CREATE INDEX events_at ON events(at);",
    ),
    M::up(
        "CREATE TABLE resources (
             project     TEXT NOT NULL,
             physical_id TEXT NOT NULL,
             logical_id  TEXT,
             kind        TEXT NOT NULL,
             body        TEXT NOT NULL,
             updated_at  INTEGER NOT NULL,
             PRIMARY KEY (project, physical_id)
         );
         CREATE TABLE blueprints (
             project    TEXT PRIMARY KEY,
             body       TEXT NOT NULL,
             updated_at INTEGER NOT NULL
         );",
    ),
    M::up(
        "CREATE TABLE projects (
             id         TEXT PRIMARY KEY,
             body       TEXT NOT NULL,
             updated_at INTEGER NOT NULL
         );
         CREATE TABLE runs (
             id         TEXT PRIMARY KEY,
             project    TEXT NOT NULL,
             number     INTEGER NOT NULL,
             status     TEXT NOT NULL,
             created_at INTEGER NOT NULL,
             body       TEXT NOT NULL,
             UNIQUE (project, number)
         );
         CREATE INDEX runs_project ON runs(project, number);",
    ),
    M::up(
        "CREATE TABLE environments (
             project    TEXT NOT NULL,
             name       TEXT NOT NULL,
             body       TEXT NOT NULL,
             updated_at INTEGER NOT NULL,
             PRIMARY KEY (project, name)
         );
         CREATE TABLE deploy_revisions (
             project     TEXT NOT NULL,
             environment TEXT NOT NULL,
             number      INTEGER NOT NULL,
             status      TEXT NOT NULL,
             created_at  INTEGER NOT NULL,
             body        TEXT NOT NULL,
             objects     TEXT NOT NULL,
             PRIMARY KEY (project, environment, number)
         );",
    ),
    M::up(
        "CREATE TABLE boards (
             project    TEXT PRIMARY KEY,
             body       TEXT NOT NULL,
             updated_at INTEGER NOT NULL
         );
         CREATE TABLE board_columns (
             project  TEXT NOT NULL,
             id       TEXT NOT NULL,
             ord      INTEGER NOT NULL,
             category TEXT NOT NULL,
             body     TEXT NOT NULL,
             PRIMARY KEY (project, id)
         );
         CREATE TABLE board_cards (
             project        TEXT NOT NULL,
             key            TEXT NOT NULL,
             number         INTEGER NOT NULL,
             column_id      TEXT NOT NULL,
             rank           INTEGER NOT NULL,
             sprint         INTEGER,
             epic           TEXT,
             automation_key TEXT,
             body           TEXT NOT NULL,
             updated_at     INTEGER NOT NULL,
             PRIMARY KEY (project, key)
         );
         CREATE INDEX board_cards_automation ON board_cards(project, automation_key);
         CREATE TABLE board_epics (
             project TEXT NOT NULL,
             key     TEXT NOT NULL,
             number  INTEGER NOT NULL,
             body    TEXT NOT NULL,
             PRIMARY KEY (project, key)
         );
         CREATE TABLE board_sprints (
             project TEXT NOT NULL,
             number  INTEGER NOT NULL,
             state   TEXT NOT NULL,
             body    TEXT NOT NULL,
             PRIMARY KEY (project, number)
         );
         CREATE TABLE board_moves (
             id      INTEGER PRIMARY KEY AUTOINCREMENT,
             project TEXT NOT NULL,
             card    TEXT NOT NULL,
             at      INTEGER NOT NULL,
             body    TEXT NOT NULL
         );
         CREATE INDEX board_moves_project ON board_moves(project, id);
         CREATE TABLE board_scope (
             id      INTEGER PRIMARY KEY AUTOINCREMENT,
             project TEXT NOT NULL,
             card    TEXT NOT NULL,
             sprint  INTEGER NOT NULL,
             at      INTEGER NOT NULL,
             body    TEXT NOT NULL
         );
         CREATE INDEX board_scope_project ON board_scope(project, id);",
    ),
    // The audit trail: append-only (no UPDATE, no DELETE), apart from the event log's retention.
    M::up(
        "CREATE TABLE audit (
             id      INTEGER PRIMARY KEY AUTOINCREMENT,
             key     TEXT UNIQUE,
             at      INTEGER NOT NULL,
             project TEXT,
             action  TEXT NOT NULL,
             body    TEXT NOT NULL
         );
         CREATE INDEX audit_project ON audit(project, id);
         CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
         CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",
    ),
    // The CI VM and the test VM became opt-in (off by default): a blueprint saved before keeps
    // them on, so its next plan deletes nothing the user had.
    M::up(
        "UPDATE blueprints
            SET body = json_set(body, '$.ciVm', json('true'), '$.testVm', json('true'))
          WHERE json_valid(body) AND json_type(body, '$.ciVm') IS NULL;",
    )]
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("cannot create the data folder {path}: {source}")]
    Folder { path: PathBuf, source: std::io::Error },
    #[error("cannot migrate the store at {path}: {source}")]
    Migrate { path: PathBuf, source: rusqlite_migration::Error },
    #[error("{path} was made by a newer Slipway (schema {found}; this one knows schema {known}). It was left as it is")]
    Newer { path: PathBuf, found: u32, known: u32 },
    #[error("{path} is not a readable Slipway store ({reason}). It was left as it is, and a copy was kept at {copy}")]
    Corrupt { path: PathBuf, reason: String, copy: PathBuf },
    #[error("store query failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("store data is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("store task failed: {0}")]
    Join(String),
}

impl From<StoreError> for UserError {
    fn from(e: StoreError) -> Self {
        let (what, fix) = match &e {
            StoreError::Folder { .. } => ("Slipway's store failed", "Check the folder's permissions, or pass --data-dir to use another folder"),
            StoreError::Newer { .. } => ("This data folder was made by a newer Slipway", "Update Slipway to the newest version, then open it again (or pass --data-dir to use another folder)"),
            StoreError::Corrupt { .. } => (
                "Slipway's store is damaged",
                "Restore slipway.db from a backup; or, to start over with an empty store, move slipway.db out of the data folder (the copy stays where it is)",
            ),
            StoreError::Open { .. } | StoreError::Migrate { .. } => {
                ("Slipway's store failed", "Close other Slipway windows using this data folder and try again; if it keeps failing, run `slipway doctor` and report its output")
            }
            _ => ("Slipway's store failed", "Try again; if it keeps failing, run `slipway doctor` and report its output"),
        };
        UserError::new(what, e.to_string(), fix)
    }
}

/// A handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
    instance: String,
    /// How many events the event log keeps (the oldest go first).
    event_limit: Arc<std::sync::atomic::AtomicU64>,
}

/// The events the event log keeps by default: about a month of busy use; the UI and the CLI
/// read only the newest few hundred.
pub const EVENT_RETENTION: u64 = 100_000;

impl Store {
    /// Opens (creating if needed) `<dir>/slipway.db` and applies pending migrations. A store
    /// from a newer Slipway, or a file that is not a store, is refused before anything is
    /// written to it (a damaged one is copied aside first, for recovery).
    ///
    /// Several processes share one store (the CLI beside the desktop app): WAL with
    /// `synchronous=NORMAL`, a busy timeout, and every transaction takes the write lock when it
    /// begins (`BEGIN IMMEDIATE`): a transaction that read and then writes would otherwise fail
    /// at once with SQLITE_BUSY when the other process wrote in between, busy timeout or not.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        crate::paths::create_private_dir(dir).map_err(|source| StoreError::Folder { path: dir.to_path_buf(), source })?;
        let path = dir.join("slipway.db");
        Self::check_existing(&path)?;
        let mut conn = Connection::open(&path).map_err(|source| StoreError::Open { path: path.clone(), source })?;
        conn.busy_timeout(std::time::Duration::from_secs(15))?;
        conn.set_transaction_behavior(TransactionBehavior::Immediate);
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| Self::classify(&path, e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        migrations().to_latest(&mut conn).map_err(|source| match source {
            rusqlite_migration::Error::RusqliteError { err, .. } if Self::damaged(&err).is_some() => Self::classify(&path, err),
            source => StoreError::Migrate { path: path.clone(), source },
        })?;
        conn.execute("INSERT OR IGNORE INTO settings(key, value) VALUES ('instance', ?1)", params![crate::secrets::random_hex(8)])?;
        let instance = conn.query_row("SELECT value FROM settings WHERE key = 'instance'", [], |r| r.get(0))?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), path, instance, event_limit: Arc::new(std::sync::atomic::AtomicU64::new(EVENT_RETENTION)) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version this Slipway writes.
    pub fn known_schema() -> u32 {
        migration_list().len() as u32
    }

    /// Why an SQLite error means the file itself is damaged (not a database, malformed).
    fn damaged(e: &rusqlite::Error) -> Option<String> {
        match e {
            rusqlite::Error::SqliteFailure(f, msg)
                if matches!(f.code, rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) =>
            {
                Some(msg.clone().unwrap_or_else(|| f.to_string()))
            }
            _ => None,
        }
    }

    /// A damaged file is copied beside it (`slipway.db.damaged-<time>`) and refused; any other
    /// error is an open error.
    fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
        match Self::damaged(&e) {
            Some(reason) => {
                let copy = path.with_file_name(format!("slipway.db.damaged-{}", crate::now_ms()));
                match std::fs::copy(path, &copy) {
                    Ok(_) => StoreError::Corrupt { path: path.to_path_buf(), reason, copy },
                    Err(c) => StoreError::Corrupt { path: path.to_path_buf(), reason: format!("{reason}; the copy could not be made: {c}"), copy },
                }
            }
            None => StoreError::Open { path: path.to_path_buf(), source: e },
        }
    }

    /// Reads an existing store's schema version without writing anything: newer than this
    /// Slipway knows is refused, and so is a file SQLite cannot read.
    fn check_existing(path: &Path) -> Result<(), StoreError> {
        if std::fs::metadata(path).map(|m| m.len() == 0).unwrap_or(true) {
            return Ok(());
        }
        let ro = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| Self::classify(path, e))?;
        let _ = ro.busy_timeout(std::time::Duration::from_secs(15));
        let found: u32 = ro
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .and_then(|v| ro.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(v)))
            .map_err(|e| Self::classify(path, e))?;
        let known = Self::known_schema();
        if found > known {
            return Err(StoreError::Newer { path: path.to_path_buf(), found, known });
        }
        Ok(())
    }

    /// This store's random id (made once, kept forever): namespaces its keychain entries.
    pub fn instance_id(&self) -> &str {
        &self.instance
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = conn.lock().map_err(|_| StoreError::Join("store lock poisoned".into()))?;
            f(&mut c)
        })
        .await
        .map_err(|e| StoreError::Join(e.to_string()))?
    }

    pub async fn schema_version(&self) -> Result<u32, StoreError> {
        self.with(|c| Ok(c.pragma_query_value(None, "user_version", |r| r.get::<_, u32>(0))?)).await
    }

    pub async fn settings(&self) -> Result<Settings, StoreError> {
        self.with(|c| {
            let v: Option<String> =
                c.query_row("SELECT value FROM settings WHERE key = 'settings'", [], |r| r.get(0)).optional()?;
            Ok(match v {
                Some(v) => serde_json::from_str(&v)?,
                None => Settings::default(),
            })
        })
        .await
    }

    /// A JSON value kept beside the settings under `integration:<name>` (e.g. the Jenkins
    /// server's URL and user). Never a secret: those stay in the keychain.
    pub async fn integration(&self, name: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let key = format!("integration:{name}");
        self.with(move |c| {
            let v: Option<String> = c.query_row("SELECT value FROM settings WHERE key = ?1", params![key], |r| r.get(0)).optional()?;
            Ok(v.map(|v| serde_json::from_str(&v)).transpose()?)
        })
        .await
    }

    /// Saves (or with None removes) an integration's value; see [`Store::integration`].
    pub async fn save_integration(&self, name: &str, value: Option<&serde_json::Value>) -> Result<(), StoreError> {
        let key = format!("integration:{name}");
        let v = value.map(serde_json::to_string).transpose()?;
        self.with(move |c| {
            match v {
                Some(v) => c.execute(
                    "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    params![key, v],
                )?,
                None => c.execute("DELETE FROM settings WHERE key = ?1", params![key])?,
            };
            Ok(())
        })
        .await
    }

    pub async fn save_settings(&self, s: &Settings) -> Result<(), StoreError> {
        let v = serde_json::to_string(s)?;
        self.with(move |c| {
            c.execute(
                "INSERT INTO settings(key, value) VALUES ('settings', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![v],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn connection(&self, kind: ConnectionKind) -> Result<Option<SavedConnection>, StoreError> {
        self.with(move |c| {
            c.query_row(
                "SELECT config, secret_service, secret_account, identity, last_error, checked_at, last_ok_at
                 FROM connections WHERE kind = ?1",
                params![kind.as_str()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                        r.get::<_, Option<i64>>(6)?,
                    ))
                },
            )
            .optional()?
            .map(|(config, svc, acct, identity, err, checked_at, last_ok_at)| {
                Ok(SavedConnection {
                    kind,
                    config: serde_json::from_str(&config)?,
                    secret: match (svc, acct) {
                        (Some(service), Some(account)) => Some(crate::secrets::SecretRef { service, account }),
                        _ => None,
                    },
                    identity: identity.map(|s| serde_json::from_str(&s)).transpose()?,
                    last_error: err.map(|s| serde_json::from_str(&s)).transpose()?,
                    checked_at,
                    last_ok_at,
                })
            })
            .transpose()
        })
        .await
    }

    pub async fn save_connection(&self, s: &SavedConnection) -> Result<(), StoreError> {
        let kind = s.kind.as_str().to_string();
        let config = serde_json::to_string(&s.config)?;
        let (svc, acct) = match &s.secret {
            Some(r) => (Some(r.service.clone()), Some(r.account.clone())),
            None => (None, None),
        };
        let identity = s.identity.as_ref().map(serde_json::to_string).transpose()?;
        let err = s.last_error.as_ref().map(serde_json::to_string).transpose()?;
        let (checked_at, last_ok_at) = (s.checked_at, s.last_ok_at);
        self.with(move |c| {
            c.execute(
                "INSERT INTO connections(kind, config, secret_service, secret_account, identity, last_error, checked_at, last_ok_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(kind) DO UPDATE SET config = excluded.config,
                   secret_service = excluded.secret_service, secret_account = excluded.secret_account,
                   identity = excluded.identity, last_error = excluded.last_error,
                   checked_at = excluded.checked_at, last_ok_at = excluded.last_ok_at",
                params![kind, config, svc, acct, identity, err, checked_at, last_ok_at],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn delete_connection(&self, kind: ConnectionKind) -> Result<(), StoreError> {
        self.with(move |c| {
            c.execute("DELETE FROM connections WHERE kind = ?1", params![kind.as_str()])?;
            Ok(())
        })
        .await
    }

    /// Keeps at most `limit` events from now on (tests use small numbers).
    pub fn set_event_retention(&self, limit: u64) {
        self.event_limit.store(limit.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// Appends events; the log keeps the newest [`EVENT_RETENTION`] and drops older ones in the
    /// same transaction (by rowid, so it costs an index walk, not a scan).
    pub async fn append_events(&self, events: Vec<EventEnvelope>) -> Result<(), StoreError> {
        let limit = self.event_limit.load(std::sync::atomic::Ordering::Relaxed) as i64;
        self.with(move |c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached("INSERT INTO events(seq, at, type, body) VALUES (?1, ?2, ?3, ?4)")?;
                for e in &events {
                    let body = serde_json::to_value(&e.event)?;
                    let ty = body["type"].as_str().unwrap_or("unknown").to_string();
                    st.execute(params![e.seq as i64, e.at, ty, body.to_string()])?;
                }
            }
            let last: i64 = tx.query_row("SELECT COALESCE(MAX(rowid), 0) FROM events", [], |r| r.get(0))?;
            tx.execute("DELETE FROM events WHERE rowid <= ?1", params![last - limit])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// How many events the log holds.
    pub async fn event_count(&self) -> Result<u64, StoreError> {
        self.with(|c| Ok(c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))? as u64)).await
    }

    /// Records what Slipway created (or found) for a project, by physical id.
    pub async fn save_resource(&self, project: &str, obs: &crate::provision::Observed) -> Result<(), StoreError> {
        let (project, pid, lid) = (project.to_string(), obs.physical_id.clone(), obs.logical_id.clone());
        let kind = serde_json::to_value(obs.kind)?.as_str().unwrap_or_default().to_string();
        let body = serde_json::to_string(obs)?;
        self.with(move |c| {
            c.execute(
                "INSERT INTO resources(project, physical_id, logical_id, kind, body, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(project, physical_id) DO UPDATE SET logical_id = excluded.logical_id, kind = excluded.kind,
                   body = excluded.body, updated_at = excluded.updated_at",
                params![project, pid, lid, kind, body, crate::now_ms()],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn resources(&self, project: &str) -> Result<Vec<crate::provision::Observed>, StoreError> {
        let project = project.to_string();
        self.with(move |c| json_rows(c, "SELECT body FROM resources WHERE project = ?1 ORDER BY rowid", params![project])).await
    }

    pub async fn delete_resource(&self, project: &str, physical_id: &str) -> Result<(), StoreError> {
        let (project, pid) = (project.to_string(), physical_id.to_string());
        self.with(move |c| {
            c.execute("DELETE FROM resources WHERE project = ?1 AND physical_id = ?2", params![project, pid])?;
            Ok(())
        })
        .await
    }

    /// Forgets every resource recorded for a project (they are known to be gone).
    pub async fn delete_resources(&self, project: &str) -> Result<(), StoreError> {
        let project = project.to_string();
        self.with(move |c| {
            c.execute("DELETE FROM resources WHERE project = ?1", params![project])?;
            Ok(())
        })
        .await
    }

    /// The projects (blueprint names) with at least one recorded resource.
    pub async fn projects_with_resources(&self) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare("SELECT DISTINCT project FROM resources ORDER BY project")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub async fn blueprint(&self, project: &str) -> Result<Option<crate::provision::Blueprint>, StoreError> {
        let project = project.to_string();
        self.with(move |c| {
            let v: Option<String> = c.query_row("SELECT body FROM blueprints WHERE project = ?1", params![project], |r| r.get(0)).optional()?;
            Ok(v.map(|v| serde_json::from_str(&v)).transpose()?)
        })
        .await
    }

    pub async fn save_blueprint(&self, b: &crate::provision::Blueprint) -> Result<(), StoreError> {
        let (project, body) = (b.project.clone(), serde_json::to_string(b)?);
        self.with(move |c| {
            c.execute(
                "INSERT INTO blueprints(project, body, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(project) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                params![project, body, crate::now_ms()],
            )?;
            Ok(())
        })
        .await
    }

    /// Forgets a project's saved blueprint (its parameters; nothing in the cloud).
    pub async fn delete_blueprint(&self, project: &str) -> Result<(), StoreError> {
        let project = project.to_string();
        self.with(move |c| {
            c.execute("DELETE FROM blueprints WHERE project = ?1", params![project])?;
            Ok(())
        })
        .await
    }

    /// The newest `limit` events, oldest first.
    pub async fn recent_events(&self, limit: u32) -> Result<Vec<serde_json::Value>, StoreError> {
        self.with(move |c| json_rows(c, "SELECT body FROM (SELECT rowid, body FROM events ORDER BY rowid DESC LIMIT ?1) ORDER BY rowid", params![limit]))
            .await
    }

    pub async fn save_project(&self, p: &crate::pipeline::project::Project) -> Result<(), StoreError> {
        let (id, body) = (p.id.clone(), serde_json::to_string(p)?);
        self.with(move |c| {
            c.execute(
                "INSERT INTO projects(id, body, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                params![id, body, crate::now_ms()],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn projects(&self) -> Result<Vec<crate::pipeline::project::Project>, StoreError> {
        self.with(move |c| json_rows(c, "SELECT body FROM projects ORDER BY id", [])).await
    }

    pub async fn delete_project(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_string();
        self.with(move |c| {
            c.execute("DELETE FROM projects WHERE id = ?1", params![id])?;
            Ok(())
        })
        .await
    }

    /// Creates a run with the project's next number (atomically) and stores it.
    pub async fn create_run(
        &self,
        project: &str,
        make: impl FnOnce(u32) -> crate::pipeline::run::Run + Send + 'static,
    ) -> Result<crate::pipeline::run::Run, StoreError> {
        let project = project.to_string();
        self.with(move |c| {
            let tx = c.unchecked_transaction()?;
            let n: u32 = tx.query_row("SELECT COALESCE(MAX(number), 0) + 1 FROM runs WHERE project = ?1", params![project], |r| r.get(0))?;
            let run = make(n);
            tx.execute(
                "INSERT INTO runs(id, project, number, status, created_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![run.id, run.project, run.number, run.status.as_str(), run.created_at, serde_json::to_string(&run)?],
            )?;
            tx.commit()?;
            Ok(run)
        })
        .await
    }

    pub async fn save_run(&self, run: &crate::pipeline::run::Run) -> Result<(), StoreError> {
        let (id, status, body) = (run.id.clone(), run.status.as_str(), serde_json::to_string(run)?);
        self.with(move |c| {
            c.execute("UPDATE runs SET status = ?2, body = ?3 WHERE id = ?1", params![id, status, body])?;
            Ok(())
        })
        .await
    }

    pub async fn run(&self, id: &str) -> Result<Option<crate::pipeline::run::Run>, StoreError> {
        let id = id.to_string();
        self.with(move |c| Ok(json_rows(c, "SELECT body FROM runs WHERE id = ?1", params![id])?.pop())).await
    }

    /// The newest `limit` runs of a project (of every project when None), newest first.
    pub async fn runs(&self, project: Option<&str>, limit: u32) -> Result<Vec<crate::pipeline::run::Run>, StoreError> {
        let project = project.map(str::to_string);
        self.with(move |c| match project {
            Some(p) => json_rows(c, "SELECT body FROM runs WHERE project = ?1 ORDER BY number DESC LIMIT ?2", params![p, limit]),
            None => json_rows(c, "SELECT body FROM runs ORDER BY created_at DESC LIMIT ?1", params![limit]),
        })
        .await
    }

    /// Runs created before `cutoff` (ms), oldest first: the candidates for log retention.
    pub async fn runs_created_before(&self, cutoff: i64) -> Result<Vec<crate::pipeline::run::Run>, StoreError> {
        self.with(move |c| json_rows(c, "SELECT body FROM runs WHERE created_at < ?1 ORDER BY created_at", params![cutoff])).await
    }

    /// Runs left queued or running by a process that ended (crash, kill): the caller marks them.
    pub async fn unfinished_runs(&self) -> Result<Vec<crate::pipeline::run::Run>, StoreError> {
        self.with(move |c| json_rows(c, "SELECT body FROM runs WHERE status IN ('queued', 'running') ORDER BY created_at", [])).await
    }
}

/// Deploy environments and revisions (schema v4). A revision's `objects` are the Kubernetes
/// objects it applied, never a Secret (those are built from the keychain at apply time).
impl Store {
    /// Saves an environment; one marked `runs` takes that mark from the project's others.
    pub async fn save_environment(&self, e: &crate::deploy::Environment) -> Result<(), StoreError> {
        let e = e.clone();
        self.with(move |c| {
            let tx = c.unchecked_transaction()?;
            if e.runs {
                let others: Vec<crate::deploy::Environment> =
                    json_rows(&tx, "SELECT body FROM environments WHERE project = ?1 AND name != ?2", params![e.project, e.name])?;
                for mut o in others.into_iter().filter(|o| o.runs) {
                    o.runs = false;
                    tx.execute("UPDATE environments SET body = ?3 WHERE project = ?1 AND name = ?2", params![o.project, o.name, serde_json::to_string(&o)?])?;
                }
            }
            tx.execute(
                "INSERT INTO environments(project, name, body, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(project, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                params![e.project, e.name, serde_json::to_string(&e)?, crate::now_ms()],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// A project's environments (every project's when None), by project and name.
    pub async fn environments(&self, project: Option<&str>) -> Result<Vec<crate::deploy::Environment>, StoreError> {
        let project = project.map(str::to_string);
        self.with(move |c| match project {
            Some(p) => json_rows(c, "SELECT body FROM environments WHERE project = ?1 ORDER BY name", params![p]),
            None => json_rows(c, "SELECT body FROM environments ORDER BY project, name", []),
        })
        .await
    }

    /// Forgets an environment and its revision history.
    pub async fn delete_environment(&self, project: &str, name: &str) -> Result<(), StoreError> {
        let (project, name) = (project.to_string(), name.to_string());
        self.with(move |c| {
            let tx = c.unchecked_transaction()?;
            tx.execute("DELETE FROM environments WHERE project = ?1 AND name = ?2", params![project, name])?;
            tx.execute("DELETE FROM deploy_revisions WHERE project = ?1 AND environment = ?2", params![project, name])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Records a revision with the environment's next number (atomically) and its objects.
    pub async fn create_revision(
        &self,
        project: &str,
        environment: &str,
        objects: &[serde_json::Value],
        make: impl FnOnce(u32) -> crate::deploy::Revision + Send + 'static,
    ) -> Result<crate::deploy::Revision, StoreError> {
        let (project, environment, objects) = (project.to_string(), environment.to_string(), serde_json::to_string(objects)?);
        self.with(move |c| {
            let tx = c.unchecked_transaction()?;
            let n: u32 = tx.query_row(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM deploy_revisions WHERE project = ?1 AND environment = ?2",
                params![project, environment],
                |r| r.get(0),
            )?;
            let rev = make(n);
            tx.execute(
                "INSERT INTO deploy_revisions(project, environment, number, status, created_at, body, objects) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![project, environment, rev.number, rev.status.as_str(), rev.started_at, serde_json::to_string(&rev)?, objects],
            )?;
            tx.commit()?;
            Ok(rev)
        })
        .await
    }

    pub async fn save_revision(&self, rev: &crate::deploy::Revision) -> Result<(), StoreError> {
        let (p, e, n, status, body) = (rev.project.clone(), rev.environment.clone(), rev.number, rev.status.as_str(), serde_json::to_string(rev)?);
        self.with(move |c| {
            c.execute("UPDATE deploy_revisions SET status = ?4, body = ?5 WHERE project = ?1 AND environment = ?2 AND number = ?3", params![p, e, n, status, body])?;
            Ok(())
        })
        .await
    }

    /// The newest `limit` revisions of an environment, newest first.
    pub async fn revisions(&self, project: &str, environment: &str, limit: u32) -> Result<Vec<crate::deploy::Revision>, StoreError> {
        let (p, e) = (project.to_string(), environment.to_string());
        self.with(move |c| json_rows(c, "SELECT body FROM deploy_revisions WHERE project = ?1 AND environment = ?2 ORDER BY number DESC LIMIT ?3", params![p, e, limit]))
            .await
    }

    /// The objects a revision applied.
    pub async fn revision_objects(&self, project: &str, environment: &str, number: u32) -> Result<Option<Vec<serde_json::Value>>, StoreError> {
        let (p, e) = (project.to_string(), environment.to_string());
        self.with(move |c| {
            let text: Option<String> = c
                .query_row("SELECT objects FROM deploy_revisions WHERE project = ?1 AND environment = ?2 AND number = ?3", params![p, e, number], |r| r.get(0))
                .optional()?;
            Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
        })
        .await
    }
}

/// Boards (schema v5): a board's settings in `boards`, its columns, cards, epics and sprints one
/// row each, and its history (moves, scope changes) append-only. Every change is one
/// transaction: [`Store::update_board`] loads the state, lets a pure operation change it, and
/// writes back only what differs; an operation that refuses writes nothing.
impl Store {
    /// The projects that have a board.
    pub async fn board_projects(&self) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare("SELECT project FROM boards ORDER BY project")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// A project's board with its history; None when it has none yet.
    pub async fn board(&self, project: &str) -> Result<Option<crate::board::BoardState>, StoreError> {
        let project = project.to_string();
        self.with(move |c| load_board(c, &project)).await
    }

    /// Runs `f` on the project's board (a new one when it has none) in one transaction: when
    /// `f` returns Ok, what it changed is written; when it returns an error, nothing is.
    pub async fn update_board<T: Send + 'static>(
        &self,
        project: &str,
        f: impl FnOnce(&mut crate::board::BoardState) -> Result<T, UserError> + Send + 'static,
    ) -> Result<T, UserError> {
        let project = project.to_string();
        let r: Result<Result<T, UserError>, StoreError> = self
            .with(move |c| {
                let tx = c.transaction()?;
                let before = load_board(&tx, &project)?;
                let mut state = before.clone().unwrap_or_else(|| crate::board::BoardState::new(&project, crate::now_ms()));
                let fresh = before.is_none().then(|| state.clone());
                let out = match f(&mut state) {
                    Ok(v) => v,
                    Err(e) => return Ok(Err(e)),
                };
                if fresh.as_ref() == Some(&state) {
                    // Nothing happened to a board never stored: keep it unstored.
                    return Ok(Ok(out));
                }
                state.board.project = project.clone();
                save_board_diff(&tx, &project, before.as_ref(), &state)?;
                tx.commit()?;
                Ok(Ok(out))
            })
            .await;
        r?
    }

    /// Forgets a project's board and its history.
    pub async fn delete_board(&self, project: &str) -> Result<(), StoreError> {
        let project = project.to_string();
        self.with(move |c| {
            let tx = c.transaction()?;
            for t in ["boards", "board_columns", "board_cards", "board_epics", "board_sprints", "board_moves", "board_scope"] {
                tx.execute(&format!("DELETE FROM {t} WHERE project = ?1"), params![project])?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }
}

fn load_board(c: &Connection, project: &str) -> Result<Option<crate::board::BoardState>, StoreError> {
    use crate::board::*;
    let body: Option<String> = c.query_row("SELECT body FROM boards WHERE project = ?1", params![project], |r| r.get(0)).optional()?;
    let Some(body) = body else { return Ok(None) };
    let mut board: Board = serde_json::from_str(&body)?;
    board.columns = json_rows(c, "SELECT body FROM board_columns WHERE project = ?1 ORDER BY ord", params![project])?;
    let cards: Vec<Card> = json_rows(c, "SELECT c.body FROM board_cards c LEFT JOIN board_columns k ON k.project = c.project AND k.id = c.column_id WHERE c.project = ?1 ORDER BY k.ord, c.rank, c.number", params![project])?;
    Ok(Some(BoardState {
        board,
        cards,
        epics: json_rows(c, "SELECT body FROM board_epics WHERE project = ?1 ORDER BY number", params![project])?,
        sprints: json_rows(c, "SELECT body FROM board_sprints WHERE project = ?1 ORDER BY number", params![project])?,
        moves: json_rows(c, "SELECT body FROM board_moves WHERE project = ?1 ORDER BY id", params![project])?,
        scope: json_rows(c, "SELECT body FROM board_scope WHERE project = ?1 ORDER BY id", params![project])?,
    }))
}

/// Writes what differs between `before` (None: nothing stored yet) and `after`.
fn save_board_diff(c: &Connection, project: &str, before: Option<&crate::board::BoardState>, after: &crate::board::BoardState) -> Result<(), StoreError> {
    use crate::board::*;
    use std::collections::HashMap;
    let mut board = after.board.clone();
    board.columns = vec![];
    if before.map(|b| &b.board) != Some(&after.board) {
        c.execute(
            "INSERT INTO boards(project, body, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(project) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            params![project, serde_json::to_string(&board)?, after.board.updated_at],
        )?;
    }
    if before.map(|b| &b.board.columns) != Some(&after.board.columns) {
        c.execute("DELETE FROM board_columns WHERE project = ?1", params![project])?;
        for col in &after.board.columns {
            let cat = serde_json::to_value(col.category)?.as_str().unwrap_or_default().to_string();
            c.execute("INSERT INTO board_columns(project, id, ord, category, body) VALUES (?1, ?2, ?3, ?4, ?5)", params![project, col.id, col.order, cat, serde_json::to_string(col)?])?;
        }
    }
    let old_cards: HashMap<&str, &Card> = before.map(|b| b.cards.iter().map(|x| (x.key.as_str(), x)).collect()).unwrap_or_default();
    for card in &after.cards {
        if old_cards.get(card.key.as_str()) != Some(&card) {
            c.execute(
                "INSERT INTO board_cards(project, key, number, column_id, rank, sprint, epic, automation_key, body, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT(project, key) DO UPDATE SET number = excluded.number, column_id = excluded.column_id,
                   rank = excluded.rank, sprint = excluded.sprint, epic = excluded.epic, automation_key = excluded.automation_key,
                   body = excluded.body, updated_at = excluded.updated_at",
                params![project, card.key, card.number, card.column, card.rank, card.sprint, card.epic, card.automation_key, serde_json::to_string(card)?, card.updated_at],
            )?;
        }
    }
    for key in old_cards.keys().filter(|k| !after.cards.iter().any(|x| x.key == **k)) {
        c.execute("DELETE FROM board_cards WHERE project = ?1 AND key = ?2", params![project, key])?;
    }
    let old_epics: HashMap<&str, &Epic> = before.map(|b| b.epics.iter().map(|x| (x.key.as_str(), x)).collect()).unwrap_or_default();
    for e in &after.epics {
        if old_epics.get(e.key.as_str()) != Some(&e) {
            c.execute(
                "INSERT INTO board_epics(project, key, number, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(project, key) DO UPDATE SET number = excluded.number, body = excluded.body",
                params![project, e.key, e.number, serde_json::to_string(e)?],
            )?;
        }
    }
    for key in old_epics.keys().filter(|k| !after.epics.iter().any(|x| x.key == **k)) {
        c.execute("DELETE FROM board_epics WHERE project = ?1 AND key = ?2", params![project, key])?;
    }
    let old_sprints: HashMap<u32, &Sprint> = before.map(|b| b.sprints.iter().map(|x| (x.number, x)).collect()).unwrap_or_default();
    for s in &after.sprints {
        if old_sprints.get(&s.number) != Some(&s) {
            c.execute(
                "INSERT INTO board_sprints(project, number, state, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(project, number) DO UPDATE SET state = excluded.state, body = excluded.body",
                params![project, s.number, s.state.as_str(), serde_json::to_string(s)?],
            )?;
        }
    }
    for n in old_sprints.keys().filter(|n| !after.sprints.iter().any(|x| x.number == **n)) {
        c.execute("DELETE FROM board_sprints WHERE project = ?1 AND number = ?2", params![project, n])?;
    }
    // History is append-only, unless an import replaced it.
    let empty = BoardState::new(project, 0);
    let b = before.unwrap_or(&empty);
    let from = if after.moves.starts_with(&b.moves) {
        b.moves.len()
    } else {
        c.execute("DELETE FROM board_moves WHERE project = ?1", params![project])?;
        0
    };
    for m in &after.moves[from..] {
        c.execute("INSERT INTO board_moves(project, card, at, body) VALUES (?1, ?2, ?3, ?4)", params![project, m.card, m.at, serde_json::to_string(m)?])?;
    }
    let from = if after.scope.starts_with(&b.scope) {
        b.scope.len()
    } else {
        c.execute("DELETE FROM board_scope WHERE project = ?1", params![project])?;
        0
    };
    for s in &after.scope[from..] {
        c.execute("INSERT INTO board_scope(project, card, sprint, at, body) VALUES (?1, ?2, ?3, ?4, ?5)", params![project, s.card, s.sprint, s.at, serde_json::to_string(s)?])?;
    }
    Ok(())
}

/// The audit trail (schema v6): entries in the order they were recorded, never changed or
/// removed (the table's triggers refuse it).
impl Store {
    /// Records an entry: its identity is the draft's, else the saved identity of the connection
    /// it names; a draft whose key is already recorded is ignored. Returns the entry when new.
    pub async fn append_audit(&self, draft: crate::audit::AuditDraft) -> Result<Option<crate::audit::AuditEntry>, StoreError> {
        self.with(move |c| {
            let tx = c.transaction()?;
            let e = insert_audit(&tx, draft)?;
            tx.commit()?;
            Ok(e)
        })
        .await
    }

    /// Records the board moves of `cards` made since `since` (ms) that the trail does not have
    /// yet, with the card's title and the columns' names.
    pub async fn append_board_moves(&self, project: &str, cards: &[String], since: i64) -> Result<usize, StoreError> {
        let (project, cards) = (project.to_string(), cards.to_vec());
        self.with(move |c| {
            let tx = c.transaction()?;
            let mut n = 0;
            let rows: Vec<(i64, String)> = {
                let mut st = tx.prepare("SELECT id, body FROM board_moves WHERE project = ?1 AND at >= ?2 ORDER BY id")?;
                let rows = st.query_map(params![project, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let column_name = |id: &str| -> Result<String, StoreError> {
                let body: Option<String> = tx.query_row("SELECT body FROM board_columns WHERE project = ?1 AND id = ?2", params![project, id], |r| r.get(0)).optional()?;
                Ok(body.and_then(|b| serde_json::from_str::<crate::board::Column>(&b).ok()).map(|c| c.name).unwrap_or_else(|| id.to_string()))
            };
            for (id, body) in rows {
                let m: crate::board::CardMove = serde_json::from_str(&body)?;
                if !cards.is_empty() && !cards.contains(&m.card) {
                    continue;
                }
                let title: Option<String> = tx
                    .query_row("SELECT body FROM board_cards WHERE project = ?1 AND key = ?2", params![project, m.card], |r| r.get::<_, String>(0))
                    .optional()?
                    .and_then(|b| serde_json::from_str::<crate::board::Card>(&b).ok())
                    .map(|c| c.title);
                let detail = match (&m.from, &m.to) {
                    (Some(f), Some(t)) => format!("from {} to {}", column_name(f)?, column_name(t)?),
                    (None, Some(t)) => format!("created in {}", column_name(t)?),
                    (Some(f), None) => format!("removed from {}", column_name(f)?),
                    (None, None) => String::new(),
                };
                let mut d = crate::audit::AuditDraft::new(crate::audit::AuditAction::BoardMove, m.card.clone(), "moved", detail).project(&project);
                d.at = m.at;
                d.by = m.by;
                d.reason = m.note.clone();
                if let Some(t) = title {
                    d.subject = format!("{} \"{t}\"", m.card);
                }
                d.key = Some(format!("move:{project}:{id}"));
                if insert_audit(&tx, d)?.is_some() {
                    n += 1;
                }
            }
            tx.commit()?;
            Ok(n)
        })
        .await
    }

    /// Every entry of the trail (of one project when given), oldest first.
    pub async fn audit(&self, project: Option<&str>) -> Result<Vec<crate::audit::AuditEntry>, StoreError> {
        let project = project.map(str::to_string);
        self.with(move |c| {
            let mut st = c.prepare("SELECT id, body FROM audit WHERE ?1 IS NULL OR project = ?1 ORDER BY id")?;
            let rows = st.query_map(params![project], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            let mut out = Vec::new();
            for r in rows {
                let (id, body) = r?;
                let mut e: crate::audit::AuditEntry = serde_json::from_str(&body)?;
                e.id = id;
                out.push(e);
            }
            Ok(out)
        })
        .await
    }
}

fn insert_audit(c: &Connection, draft: crate::audit::AuditDraft) -> Result<Option<crate::audit::AuditEntry>, StoreError> {
    if let Some(k) = &draft.key {
        if c.query_row("SELECT 1 FROM audit WHERE key = ?1", params![k], |_| Ok(())).optional()?.is_some() {
            return Ok(None);
        }
    }
    let identity = match (&draft.identity, draft.identity_of) {
        (None, Some(kind)) => {
            let id: Option<Option<String>> = c.query_row("SELECT identity FROM connections WHERE kind = ?1", params![kind.as_str()], |r| r.get(0)).optional()?;
            id.flatten()
                .and_then(|s| serde_json::from_str::<crate::connections::Identity>(&s).ok())
                .map(|i| format!("{}: {}", kind.as_str(), i.summary()))
        }
        _ => None,
    };
    let (key, action, at, project) = (draft.key.clone(), draft.action.as_str(), draft.at, draft.project.clone());
    // The body goes in with the row (the triggers refuse an UPDATE); its id is the row's.
    let mut entry = draft.into_entry(0, crate::audit::os_user(), identity);
    c.execute("INSERT INTO audit(key, at, project, action, body) VALUES (?1, ?2, ?3, ?4, ?5)", params![key, at, project, action, serde_json::to_string(&entry)?])?;
    entry.id = c.last_insert_rowid();
    Ok(Some(entry))
}

/// Rows of one JSON `body` column, decoded.
fn json_rows<T: serde::de::DeserializeOwned>(c: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<T>, StoreError> {
    let mut st = c.prepare(sql)?;
    let rows = st.query_map(p, |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(serde_json::from_str(&r?)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::Identity;
    use crate::events::{Event, EventBus};
    use crate::secrets::SecretRef;

    #[tokio::test]
    async fn settings_default_then_round_trip_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let st = Store::open(dir.path()).unwrap();
        assert_eq!(st.settings().await.unwrap(), Settings::default());
        let s = Settings { default_region: "eu-west-1".into(), sandbox_auto_start: false, sandbox_port: Some(45999), run_log_retention_days: 7, secret_store: crate::secrets::SecretStoreKind::File, sandbox_context: Some("kind-dev".into()), sandbox_kubeconfig: None, notifications: crate::notify::NotifyWhen::Always };
        st.save_settings(&s).await.unwrap();
        drop(st);
        let st = Store::open(dir.path()).unwrap();
        assert_eq!(st.settings().await.unwrap(), s);
        assert_eq!(st.schema_version().await.unwrap(), migration_list().len() as u32);
        let id = st.instance_id().to_string();
        assert_eq!(id.len(), 16);
        drop(st);
        assert_eq!(Store::open(dir.path()).unwrap().instance_id(), id, "the instance id is kept");
        let other = tempfile::tempdir().unwrap();
        assert_ne!(Store::open(other.path()).unwrap().instance_id(), id);
    }

    #[tokio::test]
    async fn writers_take_the_lock_up_front_and_wal_syncs_normally() {
        let dir = tempfile::tempdir().unwrap();
        let st = Store::open(dir.path()).unwrap();
        let (mode, sync) = st
            .with(|c| {
                let m: String = c.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
                let s: i64 = c.pragma_query_value(None, "synchronous", |r| r.get(0))?;
                Ok((m, s))
            })
            .await
            .unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 1), "WAL with synchronous=NORMAL (1)");
        // A second connection holds a read transaction; an IMMEDIATE writer waits for the
        // write lock instead of failing on the upgrade.
        let other = Connection::open(dir.path().join("slipway.db")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE; INSERT INTO settings(key, value) VALUES ('x', '1');").unwrap();
        let writer = {
            let st = st.clone();
            tokio::spawn(async move { st.create_run("p", |n| crate::pipeline::run::Run::new("p", n, crate::pipeline::run::Trigger::Manual, "main", None)).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!writer.is_finished(), "the writer waits for the other process's lock");
        other.execute_batch("COMMIT").unwrap();
        assert_eq!(writer.await.unwrap().unwrap().number, 1);
    }

    #[test]
    fn a_store_from_a_newer_slipway_is_refused_and_left_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let path = dir.path().join("slipway.db");
        let newer = Store::known_schema() + 1;
        {
            let c = Connection::open(&path).unwrap();
            c.pragma_update(None, "user_version", newer).unwrap();
            c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let e = Store::open(dir.path()).err().expect("refused");
        assert!(matches!(e, StoreError::Newer { found, .. } if found == newer), "{e}");
        let u: crate::UserError = e.into();
        assert!(u.why.contains(&format!("was made by a newer Slipway (schema {newer}")), "{u}");
        assert!(u.fix.starts_with("Update Slipway"), "{u}");
        assert!(!u.fix.contains("move"), "no advice that risks the data: {u}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "the file is untouched");
        assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains("damaged")));
    }

    #[test]
    fn a_damaged_store_gets_its_own_message_and_a_copy_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slipway.db");
        let garbage: Vec<u8> = b"not a database, a disk that lost its header ".iter().cycle().take(8192).copied().collect();
        std::fs::write(&path, &garbage).unwrap();
        let e = Store::open(dir.path()).err().expect("refused");
        let StoreError::Corrupt { copy, .. } = &e else { panic!("{e}") };
        assert_eq!(std::fs::read(copy).unwrap(), garbage, "the copy holds the damaged bytes");
        let u: crate::UserError = e.into();
        assert_eq!(u.what, "Slipway's store is damaged");
        assert!(u.why.contains("is not a readable Slipway store") && u.why.contains("a copy was kept at"), "{u}");
        assert_eq!(std::fs::read(&path).unwrap(), garbage, "the file itself is left as it was");
    }

    #[cfg(unix)]
    #[test]
    fn the_data_folder_is_created_private_and_an_open_one_is_narrowed() {
        use std::os::unix::fs::PermissionsExt;
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("new").join("slipway");
        Store::open(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "a new data folder");
        let open = base.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        Store::open(&open).unwrap();
        assert_eq!(mode(&open), 0o700, "an existing folder others could read");
    }

    #[tokio::test]
    async fn connections_keep_references_not_values() {
        let dir = tempfile::tempdir().unwrap();
        let st = Store::open(dir.path()).unwrap();
        assert!(st.connection(ConnectionKind::Github).await.unwrap().is_none());
        let saved = SavedConnection {
            kind: ConnectionKind::Github,
            config: serde_json::json!({"baseUrl": "https://api.github.com"}),
            secret: Some(SecretRef::for_connection("0123456789abcdef", "github")),
            identity: Some(Identity::Github { login: "octo".into(), name: None, scopes: vec![], base_url: "https://api.github.com".into() }),
            last_error: None,
            checked_at: Some(5),
            last_ok_at: Some(5),
        };
        st.save_connection(&saved).await.unwrap();
        assert_eq!(st.connection(ConnectionKind::Github).await.unwrap(), Some(saved.clone()));
        st.delete_connection(ConnectionKind::Github).await.unwrap();
        assert!(st.connection(ConnectionKind::Github).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn events_are_logged_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let st = Store::open(dir.path()).unwrap();
        let bus = EventBus::default();
        let evs: Vec<_> = (0..3).map(|i| bus.emit(Event::Progress { task: "x".into(), message: i.to_string() })).collect();
        st.append_events(evs).await.unwrap();
        let got = st.recent_events(2).await.unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0]["message"], "1");
        assert_eq!(got[1]["message"], "2");
    }

    #[tokio::test]
    async fn the_event_log_keeps_only_the_newest_events() {
        let dir = tempfile::tempdir().unwrap();
        let st = Store::open(dir.path()).unwrap();
        assert_eq!(st.event_limit.load(std::sync::atomic::Ordering::Relaxed), EVENT_RETENTION);
        st.set_event_retention(50);
        let bus = EventBus::default();
        for batch in 0..7 {
            let evs: Vec<_> = (0..30).map(|i| bus.emit(Event::Progress { task: "x".into(), message: format!("{batch}-{i}") })).collect();
            st.append_events(evs).await.unwrap();
            assert!(st.event_count().await.unwrap() <= 50);
        }
        assert_eq!(st.event_count().await.unwrap(), 50, "210 written, the newest 50 kept");
        let got = st.recent_events(1000).await.unwrap();
        assert_eq!(got.len(), 50);
        assert_eq!(got.last().unwrap()["message"], "6-29", "the newest is kept");
        assert_eq!(got[0]["message"], "5-10", "the oldest kept is the 50th newest");
        println!("events written 210, kept 50 (retention 50; default {EVENT_RETENTION})");
    }

    #[test]
    fn unwritable_data_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let err = Store::open(&file.join("sub")).err().expect("must fail");
        let ue: UserError = err.into();
        assert!(ue.why.contains("cannot create the data folder"), "{ue}");
        assert!(ue.fix.contains("--data-dir"), "{ue}");
    }

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    #[tokio::test]
    async fn runs_are_numbered_per_project_and_found_again() {
        use crate::pipeline::run::{Run, Status, Trigger};
        let d = tempfile::tempdir().unwrap();
        let st = Store::open(d.path()).unwrap();
        let a1 = st.create_run("a", |n| Run::new("a", n, Trigger::Manual, "main", None)).await.unwrap();
        let a2 = st.create_run("a", |n| Run::new("a", n, Trigger::Manual, "main", None)).await.unwrap();
        let b1 = st.create_run("b", |n| Run::new("b", n, Trigger::Manual, "main", None)).await.unwrap();
        assert_eq!((a1.id.as_str(), a2.id.as_str(), b1.id.as_str()), ("a-1", "a-2", "b-1"));
        let mut done = a1.clone();
        done.status = Status::Succeeded;
        done.commit = Some("abc".into());
        st.save_run(&done).await.unwrap();
        drop(st);
        let st = Store::open(d.path()).unwrap();
        assert_eq!(st.run("a-1").await.unwrap().unwrap().commit.as_deref(), Some("abc"));
        let ids: Vec<String> = st.runs(Some("a"), 10).await.unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["a-2", "a-1"]);
        let open: Vec<String> = st.unfinished_runs().await.unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(open, ["a-2", "b-1"]);
        assert!(st.run("nope-1").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn environments_and_revisions_are_kept_per_project() {
        use crate::deploy::*;
        let d = tempfile::tempdir().unwrap();
        let st = Store::open(d.path()).unwrap();
        let env = |name: &str, runs: bool| Environment { project: "a".into(), name: name.into(), target: EnvironmentTarget::Local, runs };
        st.save_environment(&env("one", true)).await.unwrap();
        st.save_environment(&env("two", true)).await.unwrap();
        let all = st.environments(Some("a")).await.unwrap();
        assert_eq!(all.iter().map(|e| (e.name.as_str(), e.runs)).collect::<Vec<_>>(), [("one", false), ("two", true)], "one environment takes runs");
        let rev = |n: u32| Revision {
            project: "a".into(),
            environment: "two".into(),
            number: n,
            operation: DeployOperation::Deploy,
            run: None,
            commit: None,
            rollback_to: None,
            reason: "r".into(),
            images: vec![],
            context: None,
            namespace: None,
            status: RevisionStatus::InProgress,
            started_at: 1,
            finished_at: None,
            error: None,
            url: None,
            note: None,
        };
        let objs = vec![serde_json::json!({"kind": "Deployment"})];
        let r1 = st.create_revision("a", "two", &objs, rev).await.unwrap();
        let mut r2 = st.create_revision("a", "two", &[], rev).await.unwrap();
        assert_eq!((r1.number, r2.number), (1, 2));
        assert_eq!(st.create_revision("a", "one", &[], rev).await.unwrap().number, 1, "numbered per environment");
        r2.status = RevisionStatus::Succeeded;
        st.save_revision(&r2).await.unwrap();
        let got = st.revisions("a", "two", 10).await.unwrap();
        assert_eq!(got.iter().map(|r| (r.number, r.status)).collect::<Vec<_>>(), [(2, RevisionStatus::Succeeded), (1, RevisionStatus::InProgress)]);
        assert_eq!(st.revision_objects("a", "two", 1).await.unwrap(), Some(objs));
        assert_eq!(st.revision_objects("a", "two", 9).await.unwrap(), None);
        st.delete_environment("a", "two").await.unwrap();
        assert!(st.revisions("a", "two", 10).await.unwrap().is_empty());
        assert_eq!(st.environments(None).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn boards_are_written_as_one_transaction_and_read_back() {
        use crate::board::*;
        let d = tempfile::tempdir().unwrap();
        let st = Store::open(d.path()).unwrap();
        assert!(st.board("shop").await.unwrap().is_none());
        assert!(st.update_board("shop", |b| Ok(b.cards.len())).await.is_ok());
        assert!(st.board("shop").await.unwrap().is_none(), "a look at a board never stored stores nothing");
        let key = st
            .update_board("shop", |b| {
                let s = b.add_sprint(SprintInput { start: Some("2026-03-02".into()), end: Some("2026-03-06".into()), ..Default::default() }, 1)?;
                let e = b.add_epic(EpicInput { title: "Checkout".into(), ..Default::default() }, Actor::User, 1)?;
                b.add_card(CardInput { title: "A".into(), points: Some(3), sprint: Some(s), epic: Some(e), ..Default::default() }, Actor::User, 2)?;
                b.add_card(CardInput { title: "B".into(), ..Default::default() }, Actor::User, 3)
            })
            .await
            .unwrap();
        assert_eq!(key, "SHP-3");
        st.update_board("shop", |b| b.move_card("SHP-3", "done", None, Actor::User, None, 4)).await.unwrap();
        st.update_board("shop", |b| b.move_card("SHP-2", "in-progress", None, Actor::Automation, Some("apply".into()), 5)).await.unwrap();
        // A refused operation writes nothing, even what it changed before refusing.
        let before = st.board("shop").await.unwrap().unwrap();
        let e = st
            .update_board("shop", |b| {
                b.add_card(CardInput { title: "C".into(), ..Default::default() }, Actor::User, 6)?;
                b.move_card("SHP-2", "nowhere", None, Actor::User, None, 6)
            })
            .await
            .unwrap_err();
        assert_eq!(e.what, "Card not moved");
        assert_eq!(st.board("shop").await.unwrap().unwrap(), before);
        st.update_board("shop", |b| b.delete_card("SHP-3", Actor::User, 7)).await.unwrap();
        drop(st);
        let st = Store::open(d.path()).unwrap();
        let b = st.board("shop").await.unwrap().unwrap();
        assert_eq!(b.cards.iter().map(|c| (c.key.as_str(), c.column.as_str())).collect::<Vec<_>>(), [("SHP-2", "in-progress")]);
        assert_eq!(b.moves.len(), 5, "{:?}", b.moves);
        assert_eq!(b.moves[3].note.as_deref(), Some("apply"));
        assert_eq!(b.scope.len(), 1);
        assert_eq!(b.board.next_number, 4);
        assert_eq!(b.epics.len(), 1);
        assert_eq!(b.sprints.len(), 1);
        // Columns and a replaced history (an import) are written too.
        let mut cols = default_columns();
        cols.pop();
        cols.push(Column { id: "shipped".into(), name: "Shipped".into(), order: 9, category: ColumnCategory::Done, wip_limit: Some(50) });
        let mut replaced = b.clone();
        replaced.moves.truncate(1);
        st.update_board("shop", move |s| {
            *s = replaced;
            s.set_columns(cols, 8)
        })
        .await
        .unwrap();
        let b = st.board("shop").await.unwrap().unwrap();
        assert_eq!(b.board.columns.last().unwrap().name, "Shipped");
        assert_eq!(b.moves.len(), 1);
        assert_eq!(st.board_projects().await.unwrap(), ["shop"]);
        st.delete_board("shop").await.unwrap();
        assert!(st.board("shop").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_blueprint_saved_before_the_vms_were_opt_in_keeps_them() {
        let d = tempfile::tempdir().unwrap();
        let old = {
            let mut b = serde_json::to_value(crate::provision::Blueprint { project: "shop".into(), ..Default::default() }).unwrap();
            b.as_object_mut().unwrap().retain(|k, _| k != "ciVm" && k != "testVm");
            b
        };
        {
            let mut c = Connection::open(d.path().join("slipway.db")).unwrap();
            let mut steps = migration_list();
            steps.truncate(6);
            Migrations::new(steps).to_latest(&mut c).unwrap();
            c.execute("INSERT INTO blueprints(project, body, updated_at) VALUES ('shop', ?1, 5)", params![old.to_string()]).unwrap();
            let newer = serde_json::to_string(&crate::provision::Blueprint { project: "new".into(), ci_vm: true, ..Default::default() }).unwrap();
            c.execute("INSERT INTO blueprints(project, body, updated_at) VALUES ('new', ?1, 5)", params![newer]).unwrap();
        }
        let st = Store::open(d.path()).unwrap();
        let b = st.blueprint("shop").await.unwrap().unwrap();
        assert!(b.ci_vm && b.test_vm, "the VMs it always had stay");
        assert_eq!(b.resources().len(), 22);
        assert_eq!(serde_json::to_value(crate::provision::Blueprint { ci_vm: false, test_vm: false, ..b }).unwrap(), serde_json::to_value(serde_json::from_value::<crate::provision::Blueprint>(old).unwrap()).unwrap(), "nothing else changed");
        // One that already says: left as it is.
        let n = st.blueprint("new").await.unwrap().unwrap();
        assert!(n.ci_vm && !n.test_vm);
        drop(st);
        let st = Store::open(d.path()).unwrap();
        assert!(st.blueprint("shop").await.unwrap().unwrap().ci_vm, "opening again changes nothing");
    }

    #[tokio::test]
    async fn migrating_a_version_4_store_keeps_its_data() {
        let d = tempfile::tempdir().unwrap();
        {
            let mut c = Connection::open(d.path().join("slipway.db")).unwrap();
            let mut steps = migration_list();
            steps.truncate(4);
            Migrations::new(steps).to_latest(&mut c).unwrap();
            assert_eq!(c.pragma_query_value(None, "user_version", |r| r.get::<_, u32>(0)).unwrap(), 4);
            c.execute("INSERT INTO settings(key, value) VALUES ('instance', 'abcdef0123456789')", []).unwrap();
            c.execute("INSERT INTO runs(id, project, number, status, created_at, body) VALUES ('a-1', 'a', 1, 'succeeded', 5, ?1)", params![serde_json::to_string(&crate::pipeline::run::Run::new("a", 1, crate::pipeline::run::Trigger::Manual, "main", None)).unwrap()]).unwrap();
            c.execute("INSERT INTO environments(project, name, body, updated_at) VALUES ('a', 'one', ?1, 5)", params![r#"{"project":"a","name":"one","target":{"kind":"local"},"runs":true}"#]).unwrap();
        }
        let st = Store::open(d.path()).unwrap();
        assert_eq!(st.schema_version().await.unwrap(), migration_list().len() as u32);
        assert_eq!(st.instance_id(), "abcdef0123456789");
        assert_eq!(st.run("a-1").await.unwrap().unwrap().project, "a");
        assert_eq!(st.environments(Some("a")).await.unwrap()[0].name, "one");
        st.update_board("a", |b| b.add_card(crate::board::CardInput { title: "New".into(), ..Default::default() }, crate::board::Actor::User, 1)).await.unwrap();
        assert_eq!(st.board("a").await.unwrap().unwrap().cards[0].key, "A-1");
    }

    #[tokio::test]
    async fn the_audit_trail_is_append_only_keeps_keys_once_and_names_the_identity() {
        use crate::audit::{AuditAction, AuditDraft};
        let dir = tempfile::tempdir().unwrap();
        let st = Store::open(dir.path()).unwrap();
        st.save_connection(&SavedConnection {
            kind: ConnectionKind::Aws,
            config: serde_json::json!({}),
            secret: None,
            identity: Some(Identity::Aws {
                account: "123456789012".into(),
                arn: "arn:aws:iam::123456789012:user/ann".into(),
                user_id: "AIDA".into(),
                region: "eu-west-1".into(),
                endpoint: None,
                source: crate::connections::AwsSource::Environment,
            }),
            last_error: None,
            checked_at: None,
            last_ok_at: None,
        })
        .await
        .unwrap();
        let mut d = AuditDraft::new(AuditAction::Apply, "blueprint shop", "succeeded", "3 created").project("shop").via(ConnectionKind::Aws);
        d.key = Some("k1".into());
        let e = st.append_audit(d.clone()).await.unwrap().unwrap();
        assert_eq!(e.id, 1);
        assert_eq!(e.identity.as_deref(), Some("aws: account 123456789012 as arn:aws:iam::123456789012:user/ann in eu-west-1"));
        assert_eq!(e.os_user, crate::audit::os_user());
        assert!(st.append_audit(d).await.unwrap().is_none(), "a key is recorded once");
        st.append_audit(AuditDraft::new(AuditAction::Plan, "blueprint other", "succeeded", "x").project("other")).await.unwrap();
        let all = st.audit(None).await.unwrap();
        assert_eq!(all.iter().map(|e| (e.id, e.action)).collect::<Vec<_>>(), [(1, AuditAction::Apply), (2, AuditAction::Plan)]);
        assert_eq!(st.audit(Some("shop")).await.unwrap(), all[..1]);
        // The table refuses changes and removals, even through SQL.
        let c = Connection::open(dir.path().join("slipway.db")).unwrap();
        let up = c.execute("UPDATE audit SET body = '{}' WHERE id = 1", []).unwrap_err();
        assert!(up.to_string().contains("append-only"), "{up}");
        let del = c.execute("DELETE FROM audit", []).unwrap_err();
        assert!(del.to_string().contains("append-only"), "{del}");
        assert_eq!(st.audit(None).await.unwrap().len(), 2);
        // The event log's retention leaves it alone.
        st.set_event_retention(1);
        let bus = EventBus::new(8);
        st.append_events((0..3).map(|_| bus.emit(Event::SettingsChanged)).collect()).await.unwrap();
        assert_eq!(st.audit(None).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn board_moves_reach_the_audit_trail_by_person_and_by_automation() {
        use crate::board::{Actor, CardInput};
        let dir = tempfile::tempdir().unwrap();
        let st = Store::open(dir.path()).unwrap();
        let journal = crate::events::Journal { bus: EventBus::new(64), store: st.clone() };
        let key = st.update_board("shop", |b| b.add_card(CardInput { title: "Deploy shop to live".into(), ..Default::default() }, Actor::User, crate::now_ms())).await.unwrap();
        let done = st.board("shop").await.unwrap().unwrap().board.columns.last().unwrap().id.clone();
        let k = key.clone();
        st.update_board("shop", move |b| b.move_card(&k, &done, None, Actor::Automation, Some("revision 1 of live succeeded".into()), crate::now_ms())).await.unwrap();
        journal.emit(Event::BoardChanged { project: "shop".into(), cards: vec![key.clone()], by: Actor::Automation }).await;
        journal.emit(Event::BoardChanged { project: "shop".into(), cards: vec![key.clone()], by: Actor::Automation }).await;
        let t = st.audit(Some("shop")).await.unwrap();
        assert_eq!(t.len(), 2, "each move once: {t:#?}");
        assert_eq!((t[0].by, t[0].detail.as_str()), (Actor::User, "created in To do"));
        assert_eq!(t[1].subject, format!("{key} \"Deploy shop to live\""));
        assert_eq!((t[1].by, t[1].detail.as_str(), t[1].reason.as_deref()), (Actor::Automation, "from To do to Done", Some("revision 1 of live succeeded")));
    }
}
