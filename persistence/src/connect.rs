//! Opening the database: SQLite file (created if missing) or PostgreSQL, then migrating to the latest schema.

use std::time::Duration;

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
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    Migrator::up(&db, None).await?;
    Ok(SeaStore::new(db))
}
