//! Rate windows: the counts of the fixed-window limits (request budgets, the inbox's and accounts' budgets),
//! shared by every replica on the database.
//!
//! Rules:
//! - One row per `(key, window_start)` (the primary key): a check is one
//!   `INSERT … ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1 WHERE count < limit RETURNING
//!   count`, so two replicas never allow more than the limit between them.
//! - `key` is the limit's name and a hash of its subject (`tgos_domain::limits::RateKey`): no secret, no
//!   address in clear. `window_start` and `expires_at` are Unix seconds; a row is deleted once `expires_at`
//!   passed (`rate_windows_expires_idx`).
//! - On PostgreSQL the table holds no workspace's rows, so, like `auth_throttles`, it has no row-level
//!   security: the application role may read and change it (a wall would make each check a transaction of
//!   four round trips on the hot path of every request).

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

const POSTGRES_UP: &str = "GRANT SELECT, INSERT, UPDATE, DELETE ON rate_windows TO tgos_app;";
const POSTGRES_DOWN: &str = "REVOKE ALL ON rate_windows FROM tgos_app;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateWindows::Table)
                    .col(ColumnDef::new(RateWindows::Key).text().not_null())
                    .col(ColumnDef::new(RateWindows::WindowStart).big_integer().not_null())
                    .col(ColumnDef::new(RateWindows::ExpiresAt).big_integer().not_null())
                    .col(ColumnDef::new(RateWindows::Count).integer().not_null())
                    .primary_key(
                        Index::create()
                            .name("rate_windows_pkey")
                            .col(RateWindows::Key)
                            .col(RateWindows::WindowStart),
                    )
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
