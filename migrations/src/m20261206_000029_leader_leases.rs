//! Leader leases: which process runs each piece of background work that must run in one place at a time (the
//! outbox relay, the lease expiry sweep, the inbox sync, the automations' upkeep, the retention enqueue).
//!
//! Rules:
//! - One row per name (the primary key): `holder` is the process that holds it until `lease_until`, since
//!   `acquired_at` (kept across renewals). A holder takes a name when the row is missing, lapsed, or already
//!   its own, in one conditional upsert; it deletes its row when it stops gracefully.
//! - The rows hold no tenant data. On PostgreSQL the table is still behind forced row-level security, like
//!   `jobs`: only a statement declaring `tgos.sweep = 'leadership'` sees or changes a row, so no statement
//!   behind a workspace's or a person's wall can take or drop a lease.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LeaderLeases {
    Table,
    Name,
    Holder,
    LeaseUntil,
    AcquiredAt,
}

const POSTGRES_UP: &str = r#"
GRANT SELECT, INSERT, UPDATE, DELETE ON leader_leases TO tgos_app;
ALTER TABLE leader_leases ENABLE ROW LEVEL SECURITY;
ALTER TABLE leader_leases FORCE ROW LEVEL SECURITY;
CREATE POLICY leadership ON leader_leases
    USING (tgos_wall('sweep') = 'leadership')
    WITH CHECK (tgos_wall('sweep') = 'leadership');
"#;

const POSTGRES_DOWN: &str = r#"
REVOKE ALL ON leader_leases FROM tgos_app;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LeaderLeases::Table)
                    .col(
                        ColumnDef::new(LeaderLeases::Name)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LeaderLeases::Holder).text().not_null())
                    .col(
                        ColumnDef::new(LeaderLeases::LeaseUntil)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LeaderLeases::AcquiredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
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
            .drop_table(Table::drop().table(LeaderLeases::Table).to_owned())
            .await
    }
}
