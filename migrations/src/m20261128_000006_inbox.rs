//! The inbox: dialogs, messages and how far each account's updates were applied, per workspace.
//!
//! Rules:
//! - `(workspace_id, account_id, peer_key)` is unique for dialogs; `(workspace_id, account_id, sequence_key,
//!   telegram_id)` for messages, so a message reported twice is stored once. A pending outgoing message has no
//!   Telegram id yet (NULLs never collide).
//! - Every table is a tenant table: forced row-level security on PostgreSQL, like the others.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InboxDialogs {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    PeerKey,
    Title,
    Username,
    UnreadCount,
    ReadInboxMaxId,
    TopMessageId,
    LastMessageAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InboxMessages {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    DialogId,
    PeerKey,
    SequenceKey,
    TelegramId,
    Direction,
    Text,
    SentAt,
    EditedAt,
    ReplyTo,
    Status,
    Failure,
    DeletedAt,
    EditHistory,
}

#[derive(DeriveIden)]
enum InboxSync {
    Table,
    WorkspaceId,
    AccountId,
    UpdateState,
    UpdatedAt,
}

const POSTGRES_UP: &str = r#"
GRANT SELECT, INSERT, UPDATE ON inbox_dialogs, inbox_messages, inbox_sync TO tgos_app;
ALTER TABLE inbox_dialogs ENABLE ROW LEVEL SECURITY;
ALTER TABLE inbox_dialogs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON inbox_dialogs USING (workspace_id = tgos_wall('workspace_id')::uuid);
CREATE POLICY own_memberships ON inbox_dialogs FOR SELECT
    USING (workspace_id IN (SELECT workspace_id FROM memberships WHERE user_id = tgos_wall('user_id')::uuid));
ALTER TABLE inbox_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE inbox_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON inbox_messages USING (workspace_id = tgos_wall('workspace_id')::uuid);
ALTER TABLE inbox_sync ENABLE ROW LEVEL SECURITY;
ALTER TABLE inbox_sync FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON inbox_sync USING (workspace_id = tgos_wall('workspace_id')::uuid);
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
                    .table(InboxDialogs::Table)
                    .col(ColumnDef::new(InboxDialogs::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(InboxDialogs::WorkspaceId).uuid().not_null())
                    .col(ColumnDef::new(InboxDialogs::AccountId).uuid().not_null())
                    .col(ColumnDef::new(InboxDialogs::PeerKey).big_integer().not_null())
                    .col(ColumnDef::new(InboxDialogs::Title).text().not_null())
                    .col(ColumnDef::new(InboxDialogs::Username).string_len(64).null())
                    .col(ColumnDef::new(InboxDialogs::UnreadCount).integer().not_null())
                    .col(ColumnDef::new(InboxDialogs::ReadInboxMaxId).integer().not_null())
                    .col(ColumnDef::new(InboxDialogs::TopMessageId).integer().not_null())
                    .col(
                        ColumnDef::new(InboxDialogs::LastMessageAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(timestamp(InboxDialogs::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inbox_dialogs_peer_unique")
                    .table(InboxDialogs::Table)
                    .col(InboxDialogs::WorkspaceId)
                    .col(InboxDialogs::AccountId)
                    .col(InboxDialogs::PeerKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inbox_dialogs_recent_idx")
                    .table(InboxDialogs::Table)
                    .col(InboxDialogs::WorkspaceId)
                    .col(InboxDialogs::LastMessageAt)
                    .col(InboxDialogs::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InboxMessages::Table)
                    .col(ColumnDef::new(InboxMessages::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(InboxMessages::WorkspaceId).uuid().not_null())
                    .col(ColumnDef::new(InboxMessages::AccountId).uuid().not_null())
                    .col(ColumnDef::new(InboxMessages::DialogId).uuid().not_null())
                    .col(ColumnDef::new(InboxMessages::PeerKey).big_integer().not_null())
                    .col(ColumnDef::new(InboxMessages::SequenceKey).big_integer().not_null())
                    .col(ColumnDef::new(InboxMessages::TelegramId).integer().null())
                    .col(ColumnDef::new(InboxMessages::Direction).string_len(16).not_null())
                    .col(ColumnDef::new(InboxMessages::Text).text().not_null())
                    .col(timestamp(InboxMessages::SentAt))
                    .col(
                        ColumnDef::new(InboxMessages::EditedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(InboxMessages::ReplyTo).integer().null())
                    .col(ColumnDef::new(InboxMessages::Status).string_len(16).not_null())
                    .col(ColumnDef::new(InboxMessages::Failure).text().null())
                    .col(
                        ColumnDef::new(InboxMessages::DeletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(InboxMessages::EditHistory).text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("inbox_messages_dialog_fk")
                            .from(InboxMessages::Table, InboxMessages::DialogId)
                            .to(InboxDialogs::Table, InboxDialogs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inbox_messages_telegram_unique")
                    .table(InboxMessages::Table)
                    .col(InboxMessages::WorkspaceId)
                    .col(InboxMessages::AccountId)
                    .col(InboxMessages::SequenceKey)
                    .col(InboxMessages::TelegramId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inbox_messages_dialog_idx")
                    .table(InboxMessages::Table)
                    .col(InboxMessages::DialogId)
                    .col(InboxMessages::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InboxSync::Table)
                    .col(ColumnDef::new(InboxSync::WorkspaceId).uuid().not_null())
                    .col(ColumnDef::new(InboxSync::AccountId).uuid().not_null())
                    .col(ColumnDef::new(InboxSync::UpdateState).big_integer().not_null())
                    .col(timestamp(InboxSync::UpdatedAt))
                    .primary_key(Index::create().col(InboxSync::WorkspaceId).col(InboxSync::AccountId))
                    .to_owned(),
            )
            .await?;

        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            InboxSync::Table.into_iden(),
            InboxMessages::Table.into_iden(),
            InboxDialogs::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
