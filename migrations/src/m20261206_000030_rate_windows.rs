//! Rate windows: the counts of the per-window limits (request budgets, the inbox's and accounts' budgets),
//! shared by every replica on the database.
//!
//! Rules:
//! - One row per key (the primary key): the key's current window (`window_start`, `expires_at`, Unix
//!   milliseconds) and its count. A check is one `INSERT … ON CONFLICT (key) DO UPDATE … RETURNING`: a new
//!   window when the old one expired, else the count plus one (stopping at the limit plus one), so two
//!   replicas never allow more than the limit between them.
//! - `key` is the limit's name and a hash of its subject (`tgos_domain::limits::RateKey`): no secret, no
//!   address in clear. A row whose window expired is deleted by the servers (`rate_windows_expires_idx`).
//! - On PostgreSQL the table holds no workspace's rows, so, like `auth_throttles`, it has no row-level
//!   security: the application role may read and change it (a wall would make each check a transaction of
//!   four round trips on the path of every request).
//! - On PostgreSQL the table is `UNLOGGED`: a check writes no WAL, so its commit does not wait for a flush to
//!   disk (measured: about 4 ms a check logged, on this machine's disk). The price is deliberate: a crash
//!   empties the table and standbys do not have it, so after a crash or a failover every budget starts a new
//!   window, which for minute-long limits is harmless.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RateWindows {
    Table,
    Key,
    WindowStart,
    ExpiresAt,
    Count,
}

const POSTGRES_UP: &str = r#"
ALTER TABLE rate_windows SET UNLOGGED;
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_windows TO tgos_app;
"#;
const POSTGRES_DOWN: &str = "REVOKE ALL ON rate_windows FROM tgos_app;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateWindows::Table)
                    .col(ColumnDef::new(RateWindows::Key).text().not_null().primary_key())
                    .col(ColumnDef::new(RateWindows::WindowStart).big_integer().not_null())
                    .col(ColumnDef::new(RateWindows::ExpiresAt).big_integer().not_null())
                    .col(ColumnDef::new(RateWindows::Count).integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("rate_windows_expires_idx")
                    .table(RateWindows::Table)
                    .col(RateWindows::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_DOWN).await?;
        }
        manager
            .drop_table(Table::drop().table(RateWindows::Table).to_owned())
            .await
    }
}
