//! Connecting to the database (SQLite by default, PostgreSQL by URL) and migrating it.

pub mod entities;

use std::path::{Path, PathBuf};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DbSetupError {
    #[error("DATABASE_URL {0:?} is neither sqlite:… nor postgres:…")]
    UnsupportedUrl(String),
    #[error("cannot create the directory {path} for the SQLite database")]
    CreateDirectory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the database at {target}")]
    Connect {
        target: String,
        #[source]
        source: DbErr,
    },
    #[error("cannot migrate the database at {target}")]
    Migrate {
        target: String,
        #[source]
        source: DbErr,
    },
}

/// How long to wait for a new connection to open, and for SQLite's write lock.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A pooled connection idle this long is pinged before it is handed out; one in use
/// moments ago is not. Pinging every one (sqlx's default) costs a round trip per
/// statement, and a connection that breaks while in use is dropped when it is returned
/// (sqlx tests it then) and its statement fails as retryable.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);
/// How long a request waits for a pooled connection: with the database gone, requests
/// fail after this with a retryable error instead of piling up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The longest a single PostgreSQL statement may run (requests time out at 30 s; bulk
/// statements of an import or sync stay far below this).
pub const STATEMENT_TIMEOUT: &str = "60s";
/// The longest a statement waits for a lock held by another transaction.
pub const LOCK_TIMEOUT: &str = "10s";
/// A transaction left open and idle (a crashed client) is ended after this.
pub const IDLE_IN_TRANSACTION_TIMEOUT: &str = "60s";

/// What PostgreSQL's planner is told a page read out of order costs, against 1 for one
/// read in order, unless the settings say otherwise. The server's default, 4, models
/// spinning disks; the hub's tables stay in memory, and with 4 the planner preferred a
/// full scan and a hash to reading a covering index in group order (A1 at ten times the
/// sample, right after a write: 18.6 against 5.5 ms).
pub const RANDOM_PAGE_COST: &str = "1.1";

/// How the pool is opened, beyond the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Largest size of a SQLite database, in MiB (0: no limit).
    pub sqlite_max_size_mb: u64,
    /// `random_page_cost` for the hub's PostgreSQL sessions; `None` keeps the server's.
    pub pg_random_page_cost: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sqlite_max_size_mb: 0,
            pg_random_page_cost: Some(RANDOM_PAGE_COST.to_owned()),
        }
    }
}

/// SQLite's page size, which `max_page_count` is counted in.
const SQLITE_PAGE_BYTES: u64 = 4096;

/// Opens a pool on `url` with default options.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbSetupError> {
    connect_with(url, &Options::default()).await
}

/// Has the pool report how long each caller waited for a connection, as a trace event
/// that `telemetry` turns into `khcn_hub_db_pool_acquire_seconds` (no log line).
fn time_acquires<DB: sea_orm::sqlx::Database>(
    options: sea_orm::sqlx::pool::PoolOptions<DB>,
) -> sea_orm::sqlx::pool::PoolOptions<DB> {
    options.acquire_time_level(log::LevelFilter::Trace)
}

/// Opens a pool on `url`. SQLite files (and their directory) are created when missing,
/// run in WAL mode and enforce foreign keys.
pub async fn connect_with(
    url: &str,
    settings: &Options,
) -> Result<DatabaseConnection, DbSetupError> {
    let target = redact(url);
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
        .sqlx_logging(false);
    if is_sqlite(url) {
        if let Some(dir) = sqlite_file(url).and_then(|file| file.parent().map(Path::to_path_buf))
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(&dir).map_err(|source| DbSetupError::CreateDirectory {
                path: dir.clone(),
                source,
            })?;
        }
        let max_pages = (settings.sqlite_max_size_mb > 0)
            .then(|| settings.sqlite_max_size_mb * 1024 * 1024 / SQLITE_PAGE_BYTES);
        options
            .max_connections(8)
            .map_sqlx_sqlite_pool_opts(time_acquires)
            .map_sqlx_sqlite_opts(move |opts| {
                let opts = opts
                    .create_if_missing(true)
                    .page_size(SQLITE_PAGE_BYTES as u32)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(CONNECT_TIMEOUT);
                match max_pages {
                    // A quota the database enforces itself: a write past it fails with
                    // SQLITE_FULL and rolls back, exactly as on a full disk.
                    Some(pages) => opts.pragma("max_page_count", pages.to_string()),
                    None => opts,
                }
            });
    } else if is_postgres(url) {
        let plain_loopback = loopback_without_sslmode(url);
        let random_page_cost = settings.pg_random_page_cost.clone();
        options
            .max_connections(16)
            .map_sqlx_postgres_pool_opts(time_acquires)
            .map_sqlx_postgres_opts(move |opts| {
                // libpq's default, `prefer`, encrypts even a connection that never leaves the
                // host, for no protection and a tenth of the CPU per request; an explicit
                // `sslmode` in the URL always wins.
                let opts = if plain_loopback {
                    opts.ssl_mode(sea_orm::sqlx::postgres::PgSslMode::Disable)
                } else {
                    opts
                };
                // Plan each execution with its real parameters: a generic plan cached while
                // a table was small (a first sync) would keep scanning it whole.
                let mut session = vec![
                    ("plan_cache_mode", "force_custom_plan".to_owned()),
                    // PostgreSQL waits forever by default; nothing here should.
                    ("statement_timeout", STATEMENT_TIMEOUT.to_owned()),
                    ("lock_timeout", LOCK_TIMEOUT.to_owned()),
                    (
                        "idle_in_transaction_session_timeout",
                        IDLE_IN_TRANSACTION_TIMEOUT.to_owned(),
                    ),
                ];
                if let Some(cost) = &random_page_cost {
                    session.push(("random_page_cost", cost.clone()));
                }
                opts.options(session)
            });
    } else {
        return Err(DbSetupError::UnsupportedUrl(target));
    }
    let db = Database::connect(options)
        .await
        .map_err(|source| DbSetupError::Connect {
            target: target.clone(),
            source,
        })?;
    // Pools connect lazily; one round trip proves the database is really there.
    db.execute_unprepared("SELECT 1")
        .await
        .map_err(|source| DbSetupError::Connect { target, source })?;
    Ok(db)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection, url: &str) -> Result<(), DbSetupError> {
    Migrator::up(db, None)
        .await
        .map_err(|source| DbSetupError::Migrate {
            target: redact(url),
            source,
        })
}

/// Whether the schema is current: every known migration has been applied.
pub async fn migrations_applied(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.is_empty())
}

/// A name for the backend, for logs and `/readyz`.
pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Postgres => "postgres",
        DbBackend::Sqlite => "sqlite",
        _ => "other",
    }
}

pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Whether a PostgreSQL URL points at this host (a loopback address or `localhost`)
/// and leaves `sslmode` unset.
fn loopback_without_sslmode(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let (authority, query) = match rest.split_once('?') {
        Some((before, query)) => (before, query),
        None => (rest, ""),
    };
    if query
        .split('&')
        .any(|pair| pair.split('=').next() == Some("sslmode"))
    {
        return false;
    }
    let authority = authority.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The file behind a `sqlite:` URL, if it names one (not `:memory:`).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

/// The URL with any password replaced, safe for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_without_sslmode_skip_tls() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/test",
            "postgresql://hub:secret@localhost/khcn",
            "postgres://hub@[::1]:5432/khcn?application_name=hub",
        ] {
            assert!(loopback_without_sslmode(url), "{url}");
        }
        for url in [
            "postgres://postgres@127.0.0.1:5432/test?sslmode=require",
            "postgres://hub@db.example.vn:5432/khcn",
            "postgres://hub@10.0.0.5/khcn",
        ] {
            assert!(!loopback_without_sslmode(url), "{url}");
        }
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://data/khcn-hub.db?mode=rwc"),
            Some(PathBuf::from("data/khcn-hub.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///tmp/x.db"),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://hub:s3cret@db:5432/hub"),
            "postgres://hub:***@db:5432/hub"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
    }
}
