//! Database URLs as applications write them (`mysql+pymysql://user:pass@db:3306/app?charset=utf8mb4`,
//! `postgresql://...`, `postgres://...`): recognising them, and pointing them at the database
//! Slipway provides while keeping the scheme, the driver and the query.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A database engine Slipway can provide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum DbEngine {
    /// MySQL or MariaDB (the MySQL protocol).
    #[default]
    Mysql,
    Postgres,
}

impl DbEngine {
    pub fn port(self) -> u16 {
        match self {
            DbEngine::Mysql => 3306,
            DbEngine::Postgres => 5432,
        }
    }

    /// The scheme of a URL Slipway writes for a service that has none of its own.
    pub fn default_scheme(self) -> &'static str {
        match self {
            DbEngine::Mysql => "mysql",
            DbEngine::Postgres => "postgresql",
        }
    }

    /// The image Slipway runs when the repository names none.
    pub fn default_image(self) -> &'static str {
        match self {
            DbEngine::Mysql => "mariadb:10.11",
            DbEngine::Postgres => "postgres:15",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DbEngine::Mysql => "MySQL",
            DbEngine::Postgres => "PostgreSQL",
        }
    }

    /// The engine of an image (`mysql:8`, `mariadb`, `postgres:16-alpine`, `bitnami/postgresql`).
    pub fn of_image(image: &str) -> Option<DbEngine> {
        let no_digest = image.split('@').next().unwrap_or(image);
        let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
        let base = last.split(':').next().unwrap_or(last).to_ascii_lowercase();
        match base.as_str() {
            "mysql" | "mariadb" | "mysql-server" | "percona" | "percona-server" => Some(DbEngine::Mysql),
            "postgres" | "postgresql" | "postgis" | "timescaledb" => Some(DbEngine::Postgres),
            _ => None,
        }
    }
}

/// The parts of a database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbUrlParts {
    /// `mysql+pymysql`, `postgresql`, ...
    pub scheme: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub database: Option<String>,
    /// Everything from `?` on (kept as written).
    pub query: String,
}

impl DbUrlParts {
    pub fn engine(&self) -> DbEngine {
        engine_of_scheme(&self.scheme).unwrap_or_default()
    }
}

/// The engine of a URL scheme: `mysql`, `mysql+pymysql`, `mysql+mysqldb`, `mariadb+...`,
/// `postgresql`, `postgres`, `postgresql+psycopg2`, ...
pub fn engine_of_scheme(scheme: &str) -> Option<DbEngine> {
    let s = scheme.to_ascii_lowercase();
    let base = s.split('+').next().unwrap_or(&s);
    match base {
        "mysql" | "mariadb" => Some(DbEngine::Mysql),
        "postgresql" | "postgres" | "pgsql" => Some(DbEngine::Postgres),
        _ => None,
    }
}

/// Parses a database URL; None for anything else (an HTTP URL, a plain word).
pub fn parse(url: &str) -> Option<DbUrlParts> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    engine_of_scheme(scheme)?;
    let (rest, query) = match rest.find('?') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, String::new()),
    };
    // The user information ends at the last '@' (a password may hold '/').
    let (userinfo, hostpath) = match rest.rfind('@') {
        Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
        None => (None, rest),
    };
    let (hostport, database) = match hostpath.split_once('/') {
        Some((h, d)) => (h, (!d.is_empty()).then(|| d.to_string())),
        None => (hostpath, None),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => match p.parse::<u16>() {
            Ok(p) => (h.to_string(), Some(p)),
            Err(_) => (hostport.to_string(), None),
        },
        _ => (hostport.to_string(), None),
    };
    let (user, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((a, b)) => (Some(decode(a)), Some(decode(b))),
            None => (Some(decode(u)), None),
        },
        None => (None, None),
    };
    Some(DbUrlParts { scheme: scheme.to_string(), user, password, host, port, database, query })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes what may not stand in a URL's user information. The exports' password mark
/// ([`crate::export::PASSWORD_MARK`]) is kept as it is: the export puts the CI's password (or
/// its placeholder) where it stands.
pub fn encode(s: &str) -> String {
    s.split(crate::export::PASSWORD_MARK).map(encode_part).collect::<Vec<_>>().join(crate::export::PASSWORD_MARK)
}

fn encode_part(s: &str) -> String {
    let mut out = String::new();
    for c in s.bytes() {
        if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// Is this value a URL that carries a password (`scheme://user:pass@host`)?
pub fn has_credentials(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else { return false };
    let auth = rest.split(['/', '?']).next().unwrap_or("");
    match auth.rfind('@') {
        Some(i) => auth[..i].split_once(':').is_some_and(|(_, p)| !p.is_empty()),
        None => false,
    }
}

/// The database a URL is pointed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    pub host: &'a str,
    pub port: u16,
    pub user: &'a str,
    pub password: &'a str,
    pub database: &'a str,
}

/// Writes a URL with the user's scheme and driver (and query), pointing at `t`.
pub fn write(scheme: &str, query: &str, t: &Target) -> String {
    format!("{scheme}://{}:{}@{}:{}/{}{query}", encode(t.user), encode(t.password), t.host, t.port, t.database)
}

/// Points a URL at `t`, keeping its scheme, driver and query.
pub fn rewrite(url: &str, t: &Target) -> Option<String> {
    let p = parse(url)?;
    Some(write(&p.scheme, &p.query, t))
}

/// Does this environment variable name say "database URL"? `DATABASE_URL`, `DATABASE_URI`,
/// `SQLALCHEMY_DATABASE_URI`, `*_DB_URL`, `*_DATABASE_URL`, `TEST_DATABASE_URI`, ...
pub fn is_url_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n.ends_with("DATABASE_URL") || n.ends_with("DATABASE_URI") || n.ends_with("DB_URL") || n.ends_with("DB_URI") || n == "SQLALCHEMY_DATABASE_URI"
}

/// A `TEST_*` (or `*_TEST_*`) variable: it gets the test database.
pub fn is_test_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n.starts_with("TEST_") || n.contains("_TEST_") || n.ends_with("_TEST")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exports_password_mark_survives_encoding_and_the_rest_is_encoded() {
        let m = crate::export::PASSWORD_MARK;
        assert_eq!(encode(&format!("a b{m}c@")), format!("a%20b{m}c%40"));
        assert_eq!(encode("\u{1}x"), "%01x", "a lone control character is still encoded");
    }

    #[test]
    fn urls_are_parsed_and_rewritten_keeping_scheme_driver_and_query() {
        let p = parse("mysql+pymysql://user:p%40ss/word@mysql:3306/flaskdb?charset=utf8mb4").unwrap();
        assert_eq!(p.scheme, "mysql+pymysql");
        assert_eq!((p.user.as_deref(), p.password.as_deref()), (Some("user"), Some("p@ss/word")));
        assert_eq!((p.host.as_str(), p.port, p.database.as_deref()), ("mysql", Some(3306), Some("flaskdb")));
        assert_eq!(p.engine(), DbEngine::Mysql);
        let t = Target { host: "db", port: 3306, user: "app", password: "s3cret!", database: "flaskdb" };
        assert_eq!(
            rewrite("mysql+pymysql://user:pw@mysql:3306/flaskdb?charset=utf8mb4", &t).unwrap(),
            "mysql+pymysql://app:s3cret%21@db:3306/flaskdb?charset=utf8mb4"
        );
        assert_eq!(rewrite("postgres://u@localhost/x", &t).unwrap(), "postgres://app:s3cret%21@db:3306/flaskdb");
        assert_eq!(parse("postgresql+psycopg2://a:b@pg/shop").unwrap().engine(), DbEngine::Postgres);
        assert!(parse("http://backend:8000").is_none());
        assert!(parse("redis://cache:6379").is_none());
        assert!(has_credentials("mysql://u:p@h/d") && !has_credentials("mysql://u@h/d") && !has_credentials("http://h/x@y"));
        assert!(is_url_name("SQLALCHEMY_DATABASE_URI") && is_url_name("ORDERS_DB_URL") && is_url_name("TEST_DATABASE_URI") && !is_url_name("DB_HOST"));
        assert!(is_test_name("TEST_DATABASE_URI") && !is_test_name("DATABASE_URI"));
        assert_eq!(DbEngine::of_image("docker.io/library/mysql:8.0"), Some(DbEngine::Mysql));
        assert_eq!(DbEngine::of_image("postgres:16-alpine"), Some(DbEngine::Postgres));
        assert_eq!(DbEngine::of_image("redis:7"), None);
    }
}
