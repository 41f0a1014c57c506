//! Configuration per environment: the values a project's services get in the Test stage
//! (`test`), on the local Docker engine (`local`) or in a Kubernetes environment. The
//! repository gives the defaults (`.env`, env files, compose, slipway.toml); each environment
//! may set its own values (secrets in the keychain, the rest in the store). The database's
//! connection is written into every variable that holds it (URLs keep their scheme, driver
//! and query), so the services reach the database Slipway provides.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;

use super::dburl::{self, DbEngine, Target};
use super::project::{DatabaseSpec, Project, ServiceSpec};
use crate::UserError;

/// The environment of the Test stage.
pub const TEST_ENV: &str = "test";
/// The local Docker engine's environment (runs without a Kubernetes environment deploy there).
pub const LOCAL_ENV: &str = "local";
/// The scope of values every environment gets unless it sets its own.
pub const ALL_ENVS: &str = "all";

/// One value an environment sets (as stored: a secret's value is in the keychain only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConfigValue {
    pub name: String,
    /// `all`, `test`, `local` or an environment's name.
    pub environment: String,
    /// None for a secret.
    pub value: Option<String>,
    pub secret: bool,
}

/// Every value a project's environments set (stored under `config:<project>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProjectConfig {
    pub values: Vec<ConfigValue>,
}

impl ProjectConfig {
    /// The values that apply to `env`: its own over `all`'s.
    pub fn for_env(&self, env: &str) -> Vec<&ConfigValue> {
        let mut out: BTreeMap<&str, &ConfigValue> = BTreeMap::new();
        for v in self.values.iter().filter(|v| v.environment == ALL_ENVS) {
            out.insert(&v.name, v);
        }
        for v in self.values.iter().filter(|v| v.environment == env) {
            out.insert(&v.name, v);
        }
        out.into_values().collect()
    }

    pub fn set(&mut self, v: ConfigValue) {
        self.values.retain(|x| !(x.name == v.name && x.environment == v.environment));
        self.values.push(v);
        self.values.sort_by(|a, b| (&a.environment, &a.name).cmp(&(&b.environment, &b.name)));
    }

    pub fn unset(&mut self, env: &str, name: &str) -> bool {
        let before = self.values.len();
        self.values.retain(|x| !(x.name == name && x.environment == env));
        before != self.values.len()
    }
}

/// A row of the configuration as the front ends show it for one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConfigRow {
    pub name: String,
    /// The value the environment gets (None for a secret: never shown).
    pub value: Option<String>,
    pub secret: bool,
    /// Where the value comes from: "set for live", "set for all environments (keychain)",
    /// ".env line 2", "the database Slipway provides".
    pub from: String,
    pub services: Vec<String>,
    /// The repository commits this secret (file and line), and no environment has moved it.
    pub committed: Option<String>,
    /// The environment shown sets this value itself (unset brings back what it overrides).
    #[serde(default)]
    pub set_here: bool,
}

/// A project's configuration for one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConfigView {
    pub project: String,
    pub environment: String,
    /// The environments values can be set for: `all`, `test`, `local` and the project's own.
    pub environments: Vec<String>,
    pub rows: Vec<ConfigRow>,
}

/// Where the database a service reaches is, with its password (run time only).
#[derive(Debug, Clone)]
pub struct DbConn {
    pub engine: DbEngine,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub database: String,
}

impl DbConn {
    pub fn target(&self) -> Target<'_> {
        Target { host: &self.host, port: self.port, user: &self.user, password: &self.password, database: &self.database }
    }

    /// The database Slipway runs next to the services (in the Test stage, locally, in a
    /// cluster), reached by the database's name.
    pub fn provided(db: &DatabaseSpec, password: &str) -> Self {
        DbConn { engine: db.engine, host: db.name.clone(), port: db.port(), user: db.user.clone(), password: password.into(), database: db.database.clone() }
    }
}

/// Names of split database settings, by what they hold.
const HOST_NAMES: &[&str] = &["DB_HOST", "DATABASE_HOST", "MYSQL_HOST", "POSTGRES_HOST", "PGHOST", "MARIADB_HOST", "DB_SERVER"];
const PORT_NAMES: &[&str] = &["DB_PORT", "DATABASE_PORT", "MYSQL_PORT", "POSTGRES_PORT", "PGPORT", "MARIADB_PORT"];
const USER_NAMES: &[&str] = &["DB_USER", "DB_USERNAME", "DATABASE_USER", "MYSQL_USER", "POSTGRES_USER", "PGUSER", "MARIADB_USER"];
const PASSWORD_NAMES: &[&str] = &["DB_PASSWORD", "DB_PASS", "DATABASE_PASSWORD", "MYSQL_PASSWORD", "POSTGRES_PASSWORD", "PGPASSWORD", "MARIADB_PASSWORD"];
const NAME_NAMES: &[&str] = &["DB_NAME", "DB_DATABASE", "DATABASE_NAME", "MYSQL_DATABASE", "POSTGRES_DB", "PGDATABASE", "MARIADB_DATABASE"];

/// The connection variables every database-using service gets (the sample's names), with
/// `DATABASE_URL` unless the service has its own URL under that name.
pub fn connection_env(c: &DbConn) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert("DB_HOST".into(), c.host.clone());
    env.insert("DB_PORT".into(), c.port.to_string());
    env.insert("DB_USER".into(), c.user.clone());
    env.insert("DB_PASSWORD".into(), c.password.clone());
    env.insert("DB_NAME".into(), c.database.clone());
    env.insert("DATABASE_URL".into(), dburl::write(c.engine.default_scheme(), "", &c.target()));
    env
}

/// What a service's environment is made from, at run time.
pub struct EnvInputs<'a> {
    pub project: &'a Project,
    /// The repository's values of secret variables: (service, name) -> value.
    pub committed: &'a BTreeMap<(String, String), String>,
    /// The environment's own values (secrets resolved from the keychain), by name.
    pub settings: &'a BTreeMap<String, String>,
    /// The database (None: the project has none, or it is not provided here).
    pub db: Option<&'a DbConn>,
    /// The test database for `TEST_*` URLs (the Test stage: the same as `db`).
    pub test_db: Option<&'a DbConn>,
    /// The environment's name, for errors.
    pub environment: &'a str,
}

/// The environment of a service: its values, its secrets (the environment's, else the
/// repository's), the environment's settings over them, and the database's connection in
/// every variable that holds it. A secret with no value anywhere is an error saying how to set it.
pub fn service_env(svc: &ServiceSpec, i: &EnvInputs) -> Result<BTreeMap<String, String>, UserError> {
    let p = i.project;
    let mut env = svc.env.clone();
    let mut missing = vec![];
    for name in &svc.secret_env {
        match i.settings.get(name).or_else(|| i.committed.get(&(svc.name.clone(), name.clone()))) {
            Some(v) => {
                env.insert(name.clone(), v.clone());
            }
            None => {
                let is_url = p.database.as_ref().is_some_and(|d| d.urls.iter().any(|u| u.service == svc.name && &u.name == name));
                if !(is_url && i.db.is_some()) {
                    missing.push(name.clone());
                }
            }
        }
    }
    // Settings of the environment: for the variables the service has, and new ones for all.
    let known_somewhere = |n: &str| p.services.iter().any(|s| s.env.contains_key(n) || s.secret_env.iter().any(|x| x == n));
    for (k, v) in i.settings {
        if env.contains_key(k) || svc.secret_env.contains(k) || !known_somewhere(k) {
            env.insert(k.clone(), v.clone());
        }
    }
    if !missing.is_empty() {
        return Err(UserError::new(
            format!("{} has no value for {}", svc.name, missing.join(", ")),
            format!("the repository's files at this commit do not set {} and environment {} has no value for it", if missing.len() == 1 { "it" } else { "them" }, i.environment),
            format!("Set it: `slipway env config --env {} set {} --secret` (value on stdin), or on the Deployments page", i.environment, missing[0]),
        ));
    }
    if let (Some(db), true) = (i.db, p.uses_db(svc)) {
        let spec = p.database.as_ref();
        let committed_pw: Vec<String> = spec
            .map(|d| i.committed.iter().filter(|((s, n), _)| s == &d.name && PASSWORD_NAMES.iter().chain(["MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD"].iter()).any(|x| x == n)).map(|(_, v)| v.clone()).collect())
            .unwrap_or_default();
        let aliases: Vec<String> = spec.map(|d| std::iter::once(d.name.clone()).chain(d.aliases.iter().cloned()).collect()).unwrap_or_default();
        let had_url = env.contains_key("DATABASE_URL");
        point_at_db(&mut env, db, i.test_db, &aliases, &committed_pw);
        for (k, v) in connection_env(db) {
            if k == "DATABASE_URL" && had_url {
                continue;
            }
            env.insert(k, v);
        }
        // Every URL, keeping its scheme, driver and query; TEST_* ones get the test database.
        let urls: Vec<(String, String, String, bool)> = spec
            .map(|d| d.urls.iter().filter(|u| u.service == svc.name).map(|u| (u.name.clone(), u.scheme.clone(), u.query.clone(), u.test)).collect())
            .unwrap_or_default();
        for (name, scheme, query, test) in urls {
            let target = if test { i.test_db.unwrap_or(db) } else { db };
            env.insert(name, dburl::write(&scheme, &query, &target.target()));
        }
    }
    Ok(env)
}

/// Points the database settings of a set of variables at `db`: split ones by their names
/// (`DB_HOST`, `MYSQL_PASSWORD`, `PGDATABASE`, ...) or values (a database host name in
/// `aliases`, a password the repository gave the database in `committed_pw`), and every URL of
/// the same engine (scheme, driver and query kept; `TEST_*` ones to `test_db`).
pub fn point_at_db(env: &mut BTreeMap<String, String>, db: &DbConn, test_db: Option<&DbConn>, aliases: &[String], committed_pw: &[String]) {
    for (k, v) in env.iter_mut() {
        let name = k.as_str();
        if let Some(parts) = dburl::parse(v) {
            let target = if dburl::is_test_name(k) { test_db.unwrap_or(db) } else { db };
            if parts.engine() == db.engine {
                *v = dburl::write(&parts.scheme, &parts.query, &target.target());
            }
        } else if HOST_NAMES.contains(&name) || (aliases.contains(v) && !name.contains("URL") && !name.contains("URI")) {
            *v = db.host.clone();
        } else if PORT_NAMES.contains(&name) {
            *v = db.port.to_string();
        } else if USER_NAMES.contains(&name) {
            *v = db.user.clone();
        } else if PASSWORD_NAMES.contains(&name) || (!v.is_empty() && committed_pw.contains(v)) {
            *v = db.password.clone();
        } else if NAME_NAMES.contains(&name) {
            *v = db.database.clone();
        }
    }
}

/// The database container's environment (the official images' names): MariaDB/MySQL's
/// `MARIADB_*`/`MYSQL_*` or PostgreSQL's `POSTGRES_*`. A `root` user is only the root password.
pub fn database_container_env(db: &DatabaseSpec, root_password: &str, password: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    match db.engine {
        DbEngine::Mysql => {
            for p in ["MARIADB", "MYSQL"] {
                env.insert(format!("{p}_DATABASE"), db.database.clone());
                if db.user == "root" {
                    env.insert(format!("{p}_ROOT_PASSWORD"), password.into());
                } else {
                    env.insert(format!("{p}_ROOT_PASSWORD"), root_password.into());
                    env.insert(format!("{p}_USER"), db.user.clone());
                    env.insert(format!("{p}_PASSWORD"), password.into());
                }
            }
        }
        DbEngine::Postgres => {
            env.insert("POSTGRES_DB".into(), db.database.clone());
            env.insert("POSTGRES_USER".into(), db.user.clone());
            env.insert("POSTGRES_PASSWORD".into(), password.into());
        }
    }
    env
}

/// The check that the database answers (over TCP, so a first-start init server that only
/// listens on its socket does not count).
pub fn database_ping(engine: DbEngine) -> &'static str {
    match engine {
        DbEngine::Mysql => "mariadb-admin ping -h 127.0.0.1 --protocol=tcp --silent || mysqladmin ping -h 127.0.0.1 --protocol=tcp --silent",
        DbEngine::Postgres => "pg_isready -h 127.0.0.1 -p 5432 -U \"${POSTGRES_USER:-postgres}\" -d \"${POSTGRES_DB:-postgres}\"",
    }
}

/// Where the database keeps its data in its container.
pub fn database_data_dir(engine: DbEngine) -> &'static str {
    match engine {
        DbEngine::Mysql => "/var/lib/mysql",
        DbEngine::Postgres => "/var/lib/postgresql/data",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::project::{DbUrl, ServiceSpec};

    fn project() -> Project {
        let mut b = ServiceSpec::new("backend", "backend");
        b.env.insert("DB_HOST".into(), "mysql".into());
        b.env.insert("GREETING".into(), "hi".into());
        b.secret_env = vec!["DATABASE_URI".into(), "TEST_DATABASE_URI".into(), "SECRET_KEY".into(), "MYSQL_PASSWORD".into()];
        b.depends_on = vec!["mysql".into()];
        let f = ServiceSpec::new("frontend", "frontend");
        Project {
            id: "shop".into(),
            services: vec![b, f],
            database: Some(DatabaseSpec {
                name: "mysql".into(),
                image: "mysql:8".into(),
                database: "shop".into(),
                user: "shop".into(),
                urls: vec![
                    DbUrl { service: "backend".into(), name: "DATABASE_URI".into(), scheme: "mysql+pymysql".into(), query: "?charset=utf8mb4".into(), test: false, source: ".env line 1".into() },
                    DbUrl { service: "backend".into(), name: "TEST_DATABASE_URI".into(), scheme: "mysql+pymysql".into(), query: String::new(), test: true, source: ".env line 2".into() },
                ],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn urls_and_split_settings_point_at_the_provided_database() {
        let p = project();
        let committed: BTreeMap<(String, String), String> = [
            (("backend".to_string(), "DATABASE_URI".to_string()), "mysql+pymysql://root:committed@mysql:3306/shop?charset=utf8mb4".to_string()),
            (("backend".to_string(), "SECRET_KEY".to_string()), "from-the-repo".to_string()),
            (("backend".to_string(), "MYSQL_PASSWORD".to_string()), "committed".to_string()),
        ]
        .into();
        let settings: BTreeMap<String, String> = [("SECRET_KEY".to_string(), "from-the-keychain".to_string())].into();
        let live = DbConn { engine: DbEngine::Mysql, host: "db.example".into(), port: 3307, user: "app".into(), password: "p@ss".into(), database: "shop".into() };
        let test = DbConn { host: "testdb".into(), ..live.clone() };
        let env = service_env(&p.services[0], &EnvInputs { project: &p, committed: &committed, settings: &settings, db: Some(&live), test_db: Some(&test), environment: "live" }).unwrap();
        assert_eq!(env["DATABASE_URI"], "mysql+pymysql://app:p%40ss@db.example:3307/shop?charset=utf8mb4");
        assert_eq!(env["TEST_DATABASE_URI"], "mysql+pymysql://app:p%40ss@testdb:3307/shop", "a TEST_ URL gets the test database even with no committed value");
        assert_eq!(env["SECRET_KEY"], "from-the-keychain", "the environment's value wins");
        assert_eq!(env["MYSQL_PASSWORD"], "p@ss");
        assert_eq!(env["DB_HOST"], "db.example");
        assert_eq!(env["GREETING"], "hi");
        // The frontend does not use the database and gets no connection.
        let f = service_env(&p.services[1], &EnvInputs { project: &p, committed: &committed, settings: &BTreeMap::new(), db: Some(&live), test_db: None, environment: "live" }).unwrap();
        assert!(!f.contains_key("DB_HOST"));
    }

    #[test]
    fn a_secret_with_no_value_anywhere_is_an_error_saying_how_to_set_it() {
        let p = project();
        let e = service_env(&p.services[0], &EnvInputs { project: &p, committed: &BTreeMap::new(), settings: &BTreeMap::new(), db: None, test_db: None, environment: "live" }).unwrap_err();
        assert!(e.what.contains("SECRET_KEY") && e.fix.contains("slipway env config --env live set"), "{e}");
    }

    #[test]
    fn environment_values_win_over_all() {
        let mut c = ProjectConfig::default();
        c.set(ConfigValue { name: "A".into(), environment: ALL_ENVS.into(), value: Some("1".into()), secret: false });
        c.set(ConfigValue { name: "A".into(), environment: "live".into(), value: Some("2".into()), secret: false });
        c.set(ConfigValue { name: "B".into(), environment: ALL_ENVS.into(), value: Some("3".into()), secret: false });
        let live: Vec<(&str, Option<&str>)> = c.for_env("live").iter().map(|v| (v.name.as_str(), v.value.as_deref())).collect();
        assert_eq!(live, [("A", Some("2")), ("B", Some("3"))]);
        assert_eq!(c.for_env("test").len(), 2);
        assert!(c.unset("live", "A") && !c.unset("live", "A"));
    }

    #[test]
    fn database_containers_for_each_engine() {
        let mut db = DatabaseSpec { name: "db".into(), database: "app".into(), user: "root".into(), ..Default::default() };
        let e = database_container_env(&db, "r", "p");
        assert_eq!(e.get("MYSQL_ROOT_PASSWORD").map(String::as_str), Some("p"));
        assert!(!e.contains_key("MYSQL_USER"), "root is not a user the image creates");
        db.engine = DbEngine::Postgres;
        db.user = "shop".into();
        let e = database_container_env(&db, "r", "p");
        assert_eq!((e["POSTGRES_USER"].as_str(), e["POSTGRES_PASSWORD"].as_str(), e["POSTGRES_DB"].as_str()), ("shop", "p", "app"));
    }
}
