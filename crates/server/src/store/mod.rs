//! The directory's storage: SQLite through sqlx, schema in `crates/server/migrations/`.
//!
//! One [`Store`] (a cheap-to-clone connection pool) holds users, their Temporary Access
//! Passes and passkeys, the one-use OAuth authorization codes and WebAuthn ceremony states,
//! failed sign-in attempts, and the audit trail. Each concern lives in its own file; the SQL
//! stays in the repository functions there.
//!
//! How values are stored:
//! - **Timestamps** are RFC 3339 text in UTC with exactly nine fractional digits, e.g.
//!   `2025-01-02T03:04:05.120000000Z`. Lossless (nanoseconds survive a round trip, so what
//!   goes in compares equal to what comes out), readable in the `sqlite3` shell, and of fixed
//!   width, so text order is time order and SQL compares and sorts them directly. Years
//!   outside 1..=9999 are refused (`StoreError::Database(sqlx::Error::Encode(..))`).
//! - **UUIDs** are lower-case hyphenated text.
//! - **Bytes** (credential ids, SHA-256 hashes) are BLOBs; booleans are INTEGER 0/1.
//!
//! Time windows are half-open: a pass is valid for `start <= now < expires`, and a code or
//! ceremony is expired once `now >= expires`.
//!
//! Secrets: a TAP is stored only as an argon2id hash; codes and challenges only as the
//! SHA-256 their callers computed. Single-use things are spent with one atomic statement
//! (`UPDATE ... WHERE used_at IS NULL`, `DELETE ... RETURNING`), so concurrent callers
//! can't both win.

mod audit;
mod ceremonies;
mod codes;
mod passkeys;
mod taps;
mod users;

#[cfg(test)]
mod testing;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{PrimitiveDateTime, UtcOffset};

pub use time::OffsetDateTime;

pub use audit::{AuditAction, AuditEvent};
pub use ceremonies::{Ceremony, CeremonyKind};
pub use codes::AuthorizationCode;
pub use passkeys::Passkey;
pub use taps::{IssuedTap, TapCheck, TapInfo};
pub use users::User;

/// The directory's database. Clones share one connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("a user with this name exists")]
    UserExists,
    #[error("this credential is already registered")]
    CredentialExists,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How long a connection waits for another one's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in the pool. SQLite in WAL mode serves many readers and one writer at a time;
/// writers queue on the busy timeout.
const MAX_CONNECTIONS: u32 = 8;

impl Store {
    /// Opens (creating if missing) the SQLite file at `path` and brings its schema up to
    /// date. WAL journal, `synchronous = NORMAL`, foreign keys enforced, 5 s busy timeout.
    /// The parent directory must exist.
    pub async fn open(path: &Path) -> StoreResult<Store> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        tracing::debug!(path = %path.display(), "directory store opened");
        Ok(Store { pool })
    }
}

// ---- encoding helpers shared by the repository files ----

/// `2025-01-02T03:04:05.120000000Z`: RFC 3339, UTC, fixed width.
const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z");

/// A timestamp as stored: see the module docs.
fn encode_time(t: OffsetDateTime) -> StoreResult<String> {
    let out_of_range = || {
        StoreError::Database(sqlx::Error::Encode(
            format!("timestamp {t} is outside the years 1 to 9999").into(),
        ))
    };
    let utc = t
        .checked_to_offset(UtcOffset::UTC)
        .ok_or_else(out_of_range)?;
    if !(1..=9999).contains(&utc.year()) {
        return Err(out_of_range());
    }
    utc.format(TIMESTAMP)
        .map_err(|e| StoreError::Database(sqlx::Error::Encode(e.into())))
}

fn decode_time(text: &str) -> StoreResult<OffsetDateTime> {
    PrimitiveDateTime::parse(text, TIMESTAMP)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {text:?}: {e}")))
}

fn decode_optional_time(text: Option<&str>) -> StoreResult<Option<OffsetDateTime>> {
    text.map(decode_time).transpose()
}

fn encode_uuid(id: uuid::Uuid) -> String {
    id.hyphenated().to_string()
}

fn decode_uuid(text: &str) -> StoreResult<uuid::Uuid> {
    uuid::Uuid::from_str(text).map_err(|e| StoreError::Corrupt(format!("uuid {text:?}: {e}")))
}

fn decode_optional_uuid(text: Option<&str>) -> StoreResult<Option<uuid::Uuid>> {
    text.map(decode_uuid).transpose()
}

fn decode_u32(value: i64, what: &str) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} is not a u32")))
}

/// Whether `error` is SQLite's "UNIQUE constraint failed: `table.column`".
fn is_unique_violation(error: &sqlx::Error, table_column: &str) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation() && e.message().contains(table_column))
}

#[cfg(test)]
mod tests {
    use super::testing::{self, TempDb};
    use super::*;

    #[tokio::test]
    async fn migrations_run_on_a_fresh_file_and_reopen_works() {
        let db = TempDb::new("open");
        assert!(!db.path().exists());
        let store = Store::open(db.path()).await.unwrap();
        assert!(db.path().exists());

        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' ORDER BY name",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        assert_eq!(
            tables,
            [
                "audit_events",
                "authorization_codes",
                "ceremonies",
                "failed_sign_ins",
                "passkeys",
                "taps",
                "users"
            ]
        );
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(foreign_keys, 1);

        let now = testing::now();
        let user = store
            .create_user("ada@example.com", "Ada", now)
            .await
            .unwrap();
        store.pool.close().await;
        drop(store);

        let reopened = Store::open(db.path()).await.unwrap();
        assert_eq!(reopened.user_by_id(user.id).await.unwrap(), Some(user));
        let migrations: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(&reopened.pool)
            .await
            .unwrap();
        assert_eq!(migrations, 2, "each migration applied once");
    }

    #[tokio::test]
    async fn open_fails_cleanly_when_the_directory_is_missing() {
        let db = TempDb::new("missing-dir");
        let path = db.path().join("no").join("such.sqlite");
        assert!(matches!(
            Store::open(&path).await,
            Err(StoreError::Database(_))
        ));
    }

    #[test]
    fn timestamps_are_fixed_width_utc_and_lossless() {
        let t = time::macros::datetime!(2025-01-02 03:04:05.12 +02:00);
        let text = encode_time(t).unwrap();
        assert_eq!(text, "2025-01-02T01:04:05.120000000Z");
        assert_eq!(decode_time(&text).unwrap(), t);

        let whole = time::macros::datetime!(2025-01-02 03:04:05 UTC);
        let later = time::macros::datetime!(2025-01-02 03:04:05.5 UTC);
        assert!(encode_time(whole).unwrap() < encode_time(later).unwrap());

        let now = OffsetDateTime::now_utc();
        assert_eq!(decode_time(&encode_time(now).unwrap()).unwrap(), now);

        let too_early = time::macros::datetime!(0000-12-31 23:59 UTC);
        assert!(matches!(
            encode_time(too_early),
            Err(StoreError::Database(sqlx::Error::Encode(_)))
        ));
        assert!(matches!(
            decode_time("yesterday"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
