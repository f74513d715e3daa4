//! Opening the database: SQLite file (created if missing) or PostgreSQL, then migrating to the latest schema.
//!
//! SQLite runs in WAL mode with `synchronous = NORMAL` (readers never wait for a writer; a commit is durable
//! against a process crash, and against power loss up to the last checkpoint) and a busy timeout, so
//! concurrent writers queue instead of failing. Pooled connections are not pinged on every checkout (a
//! round trip per query otherwise); one idle for 30 s is checked first.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DbErr};
use sea_orm_migration::MigratorTrait as _;
use tgos_migrations::Migrator;

use crate::repo::SeaStore;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `sqlite://path?mode=rwc` or `postgres://…`.
    pub url: String,
    pub max_connections: u32,
}

/// Connects and applies pending migrations.
pub async fn connect(settings: &DatabaseSettings) -> Result<SeaStore, DbErr> {
    let mut options = ConnectOptions::new(settings.url.clone());
    options
        .max_connections(settings.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(|options| {
            options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    let db = Database::connect(options).await?;
    Migrator::up(&db, None).await?;
    Ok(SeaStore::new(db))
}
