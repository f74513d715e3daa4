//! Messages keep a description of their media: kind, file name, size, MIME type, dimensions, duration. The
//! file itself stays on Telegram and is streamed on request; no bytes are stored.
//!
//! New nullable columns of `inbox_messages` (a message without media has them all null; `media_kind` is set
//! whenever a message has media). On PostgreSQL a person's wall may also read the messages of their own
//! workspaces (`own_memberships`, as `inbox_dialogs` has since `000006`), so a file named only by its
//! message's id finds its workspace among the caller's; every other read stays behind the tenant wall.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum InboxMessages {
    Table,
    MediaKind,
    MediaFileName,
    MediaSizeBytes,
    MediaMimeType,
    MediaWidth,
    MediaHeight,
    MediaDurationSecs,
}

const POSTGRES_UP: &str = r#"
CREATE POLICY own_memberships ON inbox_messages FOR SELECT
    USING (workspace_id IN (SELECT workspace_id FROM memberships WHERE user_id = tgos_wall('user_id')::uuid));
"#;

const POSTGRES_DOWN: &str = "DROP POLICY IF EXISTS own_memberships ON inbox_messages;";

fn columns() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new(InboxMessages::MediaKind)
            .string_len(16)
            .null()
            .to_owned(),
        ColumnDef::new(InboxMessages::MediaFileName).text().null().to_owned(),
        ColumnDef::new(InboxMessages::MediaSizeBytes)
            .big_integer()
            .null()
            .to_owned(),
        ColumnDef::new(InboxMessages::MediaMimeType)
            .string_len(255)
            .null()
            .to_owned(),
        ColumnDef::new(InboxMessages::MediaWidth).integer().null().to_owned(),
        ColumnDef::new(InboxMessages::MediaHeight).integer().null().to_owned(),
        ColumnDef::new(InboxMessages::MediaDurationSecs)
            .integer()
            .null()
            .to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for mut column in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(InboxMessages::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_DOWN).await?;
        }
        for column in [
            InboxMessages::MediaKind,
            InboxMessages::MediaFileName,
            InboxMessages::MediaSizeBytes,
            InboxMessages::MediaMimeType,
            InboxMessages::MediaWidth,
            InboxMessages::MediaHeight,
            InboxMessages::MediaDurationSecs,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(InboxMessages::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
