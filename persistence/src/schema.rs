//! The schema's version: which migrations a database has, and applying the pending ones as one step.
//!
//! Rules:
//! - Pending migrations are applied under a lock, so two processes migrating one database at once (two
//!   replicas starting, or `tgos migrate up` beside a starting server) apply each migration once: the second
//!   waits for the first, then finds nothing pending. On PostgreSQL the lock is a session-level advisory lock
//!   ([`MIGRATION_LOCK_KEY`]) held on a connection of its own for the whole run; on SQLite the whole run is
//!   one `IMMEDIATE` transaction (SQLite's DDL is transactional), retried while another writer holds the file.
//! - Reading the status never writes: a database without the migrations table has every migration pending.
//! - With [`MigrateMode::Check`] nothing is migrated: a database with pending migrations is refused with how
//!   many and the command that applies them.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::RuntimeErr;
use sea_orm::sqlx::Connection as _;
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::{
    DatabaseBackend, DatabaseConnection, DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait as _,
};
use sea_orm_migration::{MigrationStatus, MigratorTrait as _};
use serde::{Deserialize, Serialize};
use tgos_migrations::Migrator;

/// The PostgreSQL advisory lock key migrations run under: the bytes of `tgos:mig`, so it is fixed across
/// versions and unlikely to meet another application's key on a shared cluster.
pub const MIGRATION_LOCK_KEY: i64 = i64::from_be_bytes(*b"tgos:mig");

/// How many times a SQLite run starts again while another process holds the write lock past the busy timeout.
const SQLITE_BUSY_RETRIES: u32 = 30;

/// What a server does with pending migrations at start (`database.migrate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum MigrateMode {
    /// Apply them under the migration lock (the embedded default).
    #[default]
    Auto,
    /// Refuse to start while any is pending: migrations are a deployment step (`tgos migrate up`).
    Check,
}

impl FromStr for MigrateMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "check" => Ok(Self::Check),
            other => Err(format!("database.migrate must be \"auto\" or \"check\", not {other:?}")),
        }
    }
}

/// Settings parse through [`FromStr`], so a file and the environment accept what the parser accepts.
impl TryFrom<String> for MigrateMode {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl fmt::Display for MigrateMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Check => "check",
        })
    }
}

/// One migration this build knows, and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationState {
    pub name: String,
    pub applied: bool,
}

/// Every migration this build knows, in order, with whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaStatus {
    pub migrations: Vec<MigrationState>,
}

impl SchemaStatus {
    /// How many migrations the database lacks.
    pub fn pending(&self) -> usize {
        self.migrations.iter().filter(|m| !m.applied).count()
    }

    /// Whether the database has every migration this build knows.
    pub fn is_current(&self) -> bool {
        self.pending() == 0
    }
}

/// Why a database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// `database.migrate = "check"` and the database lacks migrations.
    #[error(
        "the database schema is behind: {count} migration(s) pending and database.migrate is \"check\"; run \
         `tgos migrate up` first"
    )]
    Pending { count: usize },
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// The status of the database `db` is connected to, without writing anything.
pub async fn status_of(db: &DatabaseConnection) -> Result<SchemaStatus, DbErr> {
    let migrations = Migrator::get_migration_with_status_read_only(db)
        .await?
        .into_iter()
        .map(|m| MigrationState {
            name: m.name().to_owned(),
            applied: m.status() == MigrationStatus::Applied,
        })
        .collect();
    Ok(SchemaStatus { migrations })
}

/// Applies the pending migrations of the database `db` is connected to (as the schema owner) under the
/// migration lock; `url` is `db`'s, for the lock's own connection on PostgreSQL. Returns how many this call
/// applied (0 when another process applied them first).
pub async fn migrate_up_on(db: &DatabaseConnection, url: &str) -> Result<usize, DbErr> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => up_postgres(db, url).await,
        _ => up_sqlite(db).await,
    }
}

/// Holds the advisory lock on a connection of its own while `db` migrates; the lock ends with that
/// connection even if this process dies.
async fn up_postgres(db: &DatabaseConnection, url: &str) -> Result<usize, DbErr> {
    let mut lock = PgConnection::connect(url).await.map_err(|e| sqlx_err(e, DbErr::Conn))?;
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut lock)
        .await
        .map_err(|e| sqlx_err(e, DbErr::Exec))?;
    let outcome = async {
        let pending = status_of(db).await?.pending();
        Migrator::up(db, None).await?;
        Ok::<_, DbErr>(pending)
    }
    .await;
    let unlocked = sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut lock)
        .await;
    let _closed = lock.close().await;
    let applied = outcome?;
    unlocked.map_err(|e| sqlx_err(e, DbErr::Exec))?;
    Ok(applied)
}

/// The whole run in one `IMMEDIATE` transaction: a second process waits for the write lock (the busy
/// timeout, then these retries) and then reads every migration as applied.
async fn up_sqlite(db: &DatabaseConnection) -> Result<usize, DbErr> {
    let mut attempt = 0;
    loop {
        match up_sqlite_once(db).await {
            Err(error) if is_busy(&error) && attempt < SQLITE_BUSY_RETRIES => {
                attempt += 1;
                tracing::info!(attempt, "the database is busy (another migration?); trying again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => return other,
        }
    }
}

async fn up_sqlite_once(db: &DatabaseConnection) -> Result<usize, DbErr> {
    let tx = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    let pending = Migrator::get_migration_with_status_read_only(&tx)
        .await?
        .iter()
        .filter(|m| m.status() == MigrationStatus::Pending)
        .count();
    Migrator::up(&tx, None).await?;
    tx.commit().await?;
    Ok(pending)
}

/// A driver error on the lock's own connection, as SeaORM reports its own.
fn sqlx_err(error: sea_orm::sqlx::Error, kind: fn(RuntimeErr) -> DbErr) -> DbErr {
    kind(RuntimeErr::SqlxError(Arc::new(error)))
}

fn is_busy(error: &DbErr) -> bool {
    let text = error.to_string();
    text.contains("database is locked") || text.contains("database is busy") || text.contains("SQLITE_BUSY")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrate_modes_parse_from_their_names_only() {
        for (text, expected) in [
            ("auto", Ok(MigrateMode::Auto)),
            ("check", Ok(MigrateMode::Check)),
            (" Check ", Ok(MigrateMode::Check)),
            ("AUTO", Ok(MigrateMode::Auto)),
        ] {
            assert_eq!(text.parse::<MigrateMode>(), expected, "{text:?}");
        }
        for text in ["", "up", "off", "true", "manual"] {
            let error = text.parse::<MigrateMode>().err();
            assert!(
                error.as_deref().is_some_and(|e| e.contains("\"auto\" or \"check\"")),
                "{text:?} parsed: {error:?}"
            );
        }
        assert_eq!(MigrateMode::default(), MigrateMode::Auto);
        assert_eq!(MigrateMode::Check.to_string(), "check");
    }

    #[test]
    fn the_lock_key_is_fixed() {
        assert_eq!(MIGRATION_LOCK_KEY, 0x7467_6f73_3a6d_6967);
    }

    #[tokio::test]
    async fn a_fresh_sqlite_database_reads_as_all_pending_then_current_after_up() -> Result<(), DbErr> {
        let dir = tempfile::tempdir().map_err(|e| DbErr::Custom(e.to_string()))?;
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = sea_orm::Database::connect(&url).await?;
        let before = status_of(&db).await?;
        assert_eq!(before.pending(), Migrator::migrations().len());
        assert_eq!(migrate_up_on(&db, &url).await?, Migrator::migrations().len());
        assert!(status_of(&db).await?.is_current());
        assert_eq!(migrate_up_on(&db, &url).await?, 0);
        Ok(())
    }
}
