//! The SQLite store: settings, connections (references to secrets, never secrets) and the event
//! log, in `<data dir>/slipway.db`, with schema migrations. Every call runs on a blocking thread
//! (`spawn_blocking`), never on the async runtime.

use rusqlite::{params, Connection, OptionalExtension};
use rusqlite_migration::{Migrations, M};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::connections::{ConnectionKind, SavedConnection};
use crate::events::EventEnvelope;
use crate::settings::Settings;
use crate::UserError;

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(
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
    )])
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("cannot create the data folder {path}: {source}")]
    Folder { path: PathBuf, source: std::io::Error },
    #[error("cannot migrate the store at {path}: {source}")]
    Migrate { path: PathBuf, source: rusqlite_migration::Error },
    #[error("store query failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("store data is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("store task failed: {0}")]
    Join(String),
}

impl From<StoreError> for UserError {
    fn from(e: StoreError) -> Self {
        let fix = match &e {
            StoreError::Folder { .. } => "Check the folder's permissions, or pass --data-dir to use another folder",
            StoreError::Open { .. } | StoreError::Migrate { .. } => {
                "Close other Slipway windows using this data folder, or move the damaged slipway.db aside and start again"
            }
            _ => "Try again; if it keeps failing, run `slipway doctor` and report its output",
        };
        UserError::new("Slipway's store failed", e.to_string(), fix)
    }
}

/// A handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
    instance: String,
}

impl Store {
    /// Opens (creating if needed) `<dir>/slipway.db` and applies pending migrations.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder { path: dir.to_path_buf(), source })?;
        let path = dir.join("slipway.db");
        let mut conn = Connection::open(&path).map_err(|source| StoreError::Open { path: path.clone(), source })?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        migrations().to_latest(&mut conn).map_err(|source| StoreError::Migrate { path: path.clone(), source })?;
        conn.execute("INSERT OR IGNORE INTO settings(key, value) VALUES ('instance', ?1)", params![crate::secrets::random_hex(8)])?;
        let instance = conn.query_row("SELECT value FROM settings WHERE key = 'instance'", [], |r| r.get(0))?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), path, instance })
    }

    pub fn path(&self) -> &Path {
        &self.path
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

    pub async fn append_events(&self, events: Vec<EventEnvelope>) -> Result<(), StoreError> {
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
            tx.commit()?;
            Ok(())
        })
        .await
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
        let s = Settings { default_region: "eu-west-1".into(), sandbox_auto_start: false, sandbox_port: Some(45999) };
        st.save_settings(&s).await.unwrap();
        drop(st);
        let st = Store::open(dir.path()).unwrap();
        assert_eq!(st.settings().await.unwrap(), s);
        assert_eq!(st.schema_version().await.unwrap(), 4);
        let id = st.instance_id().to_string();
        assert_eq!(id.len(), 16);
        drop(st);
        assert_eq!(Store::open(dir.path()).unwrap().instance_id(), id, "the instance id is kept");
        let other = tempfile::tempdir().unwrap();
        assert_ne!(Store::open(other.path()).unwrap().instance_id(), id);
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
}
