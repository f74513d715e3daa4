//! The outbox: every workspace's events, numbered, until they are published and past the replay window.
//!
//! Rules:
//! - `event_sequences` holds each workspace's latest sequence number; taking the next one is an upsert on
//!   that row, which holds its lock until the transaction ends, so numbers have no holes and commit in order.
//! - `(workspace_id, sequence)` keys `outbox_events`; `published_at` is NULL until the relay published it.
//! - Both are tenant tables behind forced row-level security on PostgreSQL. The relay reads and marks every
//!   workspace's events by declaring `tgos.sweep = 'outbox_relay'`; only the relay may delete (published rows
//!   past the replay window).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EventSequences {
    Table,
    WorkspaceId,
    LastSequence,
}

#[derive(DeriveIden)]
enum OutboxEvents {
    Table,
    WorkspaceId,
    Sequence,
    AccountId,
    Kind,
    Payload,
    OccurredAt,
    PublishedAt,
}

const POSTGRES_UP: &str = r#"
GRANT SELECT, INSERT, UPDATE ON event_sequences TO tgos_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON outbox_events TO tgos_app;
ALTER TABLE event_sequences ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_sequences FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON event_sequences USING (workspace_id = tgos_wall('workspace_id')::uuid);
ALTER TABLE outbox_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON outbox_events FOR SELECT USING (workspace_id = tgos_wall('workspace_id')::uuid);
CREATE POLICY tenant_append ON outbox_events FOR INSERT WITH CHECK (workspace_id = tgos_wall('workspace_id')::uuid);
CREATE POLICY relay_read ON outbox_events FOR SELECT USING (tgos_wall('sweep') = 'outbox_relay');
CREATE POLICY relay_mark ON outbox_events FOR UPDATE USING (tgos_wall('sweep') = 'outbox_relay');
CREATE POLICY relay_prune ON outbox_events FOR DELETE
    USING (tgos_wall('sweep') = 'outbox_relay' AND published_at IS NOT NULL);
"#;

fn timestamp(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EventSequences::Table)
                    .col(
                        ColumnDef::new(EventSequences::WorkspaceId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(EventSequences::LastSequence).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OutboxEvents::Table)
                    .col(ColumnDef::new(OutboxEvents::WorkspaceId).uuid().not_null())
                    .col(ColumnDef::new(OutboxEvents::Sequence).big_integer().not_null())
                    .col(ColumnDef::new(OutboxEvents::AccountId).uuid().not_null())
                    .col(ColumnDef::new(OutboxEvents::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(OutboxEvents::Payload).text().not_null())
                    .col(timestamp(OutboxEvents::OccurredAt))
                    .col(
                        ColumnDef::new(OutboxEvents::PublishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(OutboxEvents::WorkspaceId)
                            .col(OutboxEvents::Sequence),
                    )
                    .to_owned(),
            )
            .await?;
        // The relay's work list stays small: only unpublished rows are in this index (both backends know
        // partial indexes).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX outbox_events_unpublished_idx ON outbox_events (workspace_id, sequence) \
                 WHERE published_at IS NULL",
            )
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_UP).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("outbox_events_published_idx")
                    .table(OutboxEvents::Table)
                    .col(OutboxEvents::PublishedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [OutboxEvents::Table.into_iden(), EventSequences::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
