//! Data access by domain. Each function owns its queries and transactions; callers above
//! never write SQL.

pub mod aggregate;
pub mod audit;
pub mod batch;
pub mod bodies;
pub mod cache;
pub mod changes;
pub mod feed;
pub mod idempotency;
pub mod links;
pub mod organisations;
pub mod persisted;
pub mod plan;
pub mod rate_limits;
pub mod records;
pub mod reporting;
pub mod rollup;
pub mod search;
pub mod seed;
pub mod snapshot;
pub mod support_events;
pub mod sync;
pub mod targets;
pub mod tokens;
pub mod totals;
pub mod webhooks;
pub mod writes;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
    /// One failed read handed to everyone who waited for it.
    #[error("database error")]
    SharedDb(#[source] std::sync::Arc<sea_orm::DbErr>),
    #[error("{0}")]
    Invalid(String),
}

/// What a database error means for the client: whether retrying can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFailure {
    /// The database cannot be reached, is restarting, or refused for now (lock or
    /// serialization conflict): the same request may succeed shortly.
    Unavailable,
    /// The database has no space left; retrying helps once space is freed.
    StorageFull,
    /// Anything else: a fault inside the hub.
    Other,
}

/// Classifies a database error by what the driver reports: lost or refused connections,
/// PostgreSQL SQLSTATE classes, SQLite result codes.
pub fn failure(error: &sea_orm::DbErr) -> DbFailure {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    let driver = match error {
        DbErr::ConnectionAcquire(_) => return DbFailure::Unavailable,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        DbErr::Conn(_) => return DbFailure::Unavailable,
        _ => return DbFailure::Other,
    };
    match &**driver {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed
        | Sqlx::Protocol(_) => DbFailure::Unavailable,
        Sqlx::Database(database) => {
            let postgres = database
                .try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>()
                .is_some();
            match database.code() {
                Some(code) if postgres => failure_by_sqlstate(&code),
                Some(code) => code
                    .parse()
                    .map_or(DbFailure::Other, failure_by_sqlite_code),
                None => DbFailure::Other,
            }
        }
        _ => DbFailure::Other,
    }
}

/// A SQLite result code; extended codes carry the primary code in their low byte.
fn failure_by_sqlite_code(code: i32) -> DbFailure {
    match code & 0xff {
        // SQLITE_FULL
        13 => DbFailure::StorageFull,
        // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_CANTOPEN
        5 | 6 | 10 | 14 => DbFailure::Unavailable,
        _ => DbFailure::Other,
    }
}

/// A PostgreSQL SQLSTATE.
fn failure_by_sqlstate(code: &str) -> DbFailure {
    match code {
        // disk_full
        "53100" => DbFailure::StorageFull,
        // out_of_memory, too_many_connections; admin, crash and start-up shutdowns; lock_not_available;
        // serialization_failure; deadlock_detected
        "53200" | "53300" | "57P01" | "57P02" | "57P03" | "55P03" | "40001" | "40P01" => {
            DbFailure::Unavailable
        }
        // connection_exception and its subclasses
        _ if code.starts_with("08") => DbFailure::Unavailable,
        _ => DbFailure::Other,
    }
}

/// An error and its causes on one line ("a: b: c"), for logs.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_codes_are_classified_by_their_primary_code() {
        assert_eq!(failure_by_sqlite_code(13), DbFailure::StorageFull);
        // SQLITE_BUSY_SNAPSHOT (517) is a kind of SQLITE_BUSY.
        assert_eq!(failure_by_sqlite_code(517), DbFailure::Unavailable);
        // SQLITE_CONSTRAINT_UNIQUE (2067) is the caller's problem, not the database's.
        assert_eq!(failure_by_sqlite_code(2067), DbFailure::Other);
    }

    #[test]
    fn postgres_sqlstates_are_classified_by_class() {
        assert_eq!(failure_by_sqlstate("53100"), DbFailure::StorageFull);
        assert_eq!(failure_by_sqlstate("57P01"), DbFailure::Unavailable);
        assert_eq!(failure_by_sqlstate("08006"), DbFailure::Unavailable);
        assert_eq!(failure_by_sqlstate("40001"), DbFailure::Unavailable);
        assert_eq!(failure_by_sqlstate("23505"), DbFailure::Other);
        assert_eq!(failure_by_sqlstate("57014"), DbFailure::Other);
    }

    #[test]
    fn a_pool_that_cannot_connect_is_unavailable() {
        let timeout = sea_orm::DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout);
        assert_eq!(failure(&timeout), DbFailure::Unavailable);
        assert_eq!(
            failure(&sea_orm::DbErr::RecordNotFound("x".into())),
            DbFailure::Other
        );
    }
}
