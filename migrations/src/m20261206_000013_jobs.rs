//! Jobs: background work as rows that workers claim, lease, retry and finish.
//!
//! Rules:
//! - `status` is `queued`, `running`, `done` or `failed` (a CHECK); a running job names its `holder` and the
//!   end of its `lease_until`. `attempts` counts claims, up to `max_attempts`.
//! - `dedupe_key` is unique (NULLs never collide), so an enqueue with a key already taken stores nothing.
//! - `workspace_id` has no foreign key: a job about a workspace (its erasure, its export) outlives it.
//! - The claim reads `(status, run_at)`; lapsed leases and prunable rows have partial indexes of their own.
//! - On PostgreSQL the table is behind forced row-level security: the workers see and change every job by
//!   declaring `tgos.sweep = 'jobs'`; a use case behind its workspace's wall sees and enqueues that
//!   workspace's jobs; a job of no workspace may be enqueued behind any wall.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    WorkspaceId,
    Payload,
    Status,
    RunAt,
    Attempts,
    MaxAttempts,
    Holder,
    LeaseUntil,
    LastError,
    DedupeKey,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

const POSTGRES_UP: &str = r#"
GRANT SELECT, INSERT, UPDATE, DELETE ON jobs TO tgos_app;
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY workers ON jobs
    USING (tgos_wall('sweep') = 'jobs')
    WITH CHECK (tgos_wall('sweep') = 'jobs');
CREATE POLICY tenant ON jobs
    USING (workspace_id = tgos_wall('workspace_id')::uuid);
CREATE POLICY unowned_enqueue ON jobs FOR INSERT
    WITH CHECK (workspace_id IS NULL);
"#;

const POSTGRES_DOWN: &str = r#"
REVOKE ALL ON jobs FROM tgos_app;
"#;

fn timestamp(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().not_null().to_owned()
}

fn optional_timestamp(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(ColumnDef::new(Jobs::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Jobs::Kind).text().not_null())
                    .col(ColumnDef::new(Jobs::WorkspaceId).uuid().null())
                    .col(ColumnDef::new(Jobs::Payload).text().not_null())
                    .col(
                        ColumnDef::new(Jobs::Status)
                            .string_len(16)
                            .not_null()
                            .check(Expr::col(Jobs::Status).is_in(["queued", "running", "done", "failed"])),
                    )
                    .col(timestamp(Jobs::RunAt))
                    .col(ColumnDef::new(Jobs::Attempts).integer().not_null().default(0))
                    .col(ColumnDef::new(Jobs::MaxAttempts).integer().not_null())
                    .col(ColumnDef::new(Jobs::Holder).text().null())
                    .col(optional_timestamp(Jobs::LeaseUntil))
                    .col(ColumnDef::new(Jobs::LastError).text().null())
                    .col(ColumnDef::new(Jobs::DedupeKey).text().null())
                    .col(timestamp(Jobs::CreatedAt))
                    .col(timestamp(Jobs::UpdatedAt))
                    .col(optional_timestamp(Jobs::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("jobs_dedupe_key_idx")
                    .table(Jobs::Table)
                    .col(Jobs::DedupeKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("jobs_due_idx")
                    .table(Jobs::Table)
                    .col(Jobs::Status)
                    .col(Jobs::RunAt)
                    .to_owned(),
            )
            .await?;
        // Both backends know partial indexes: only running jobs have a lease to lapse, only finished ones are
        // pruned.
        let db = manager.get_connection();
        db.execute_unprepared("CREATE INDEX jobs_lease_idx ON jobs (lease_until) WHERE status = 'running'")
            .await?;
        db.execute_unprepared("CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE finished_at IS NOT NULL")
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_DOWN).await?;
        }
        manager.drop_table(Table::drop().table(Jobs::Table).to_owned()).await
    }
}
