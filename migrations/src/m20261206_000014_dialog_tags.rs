//! Dialog tags and assignees: how a workspace sorts its dialogs among its operators.
//!
//! Rules:
//! - `inbox_dialog_tags` holds one row per (dialog, tag): the primary key makes tagging twice store one row
//!   and reads a dialog's tags in key order; `(workspace_id, tag, dialog_id)` serves "the dialogs holding this
//!   tag" with the workspace named inside the index, as the tenant wall asks.
//! - `inbox_dialogs.assignee_id` names the member a dialog is assigned to (NULL: nobody). `(workspace_id,
//!   assignee_id, last_message_at, id)` serves "the dialogs of this assignee" (and a departure's unassigning)
//!   already in the list's order, newest first with dialogs without a message last, so an assignee's page
//!   reads its rows and stops: on PostgreSQL the index holds that order itself (`DESC NULLS LAST`), since a
//!   backward scan of an ascending one puts NULLs first; SQLite's NULLs sort low, so its backward scan is the
//!   list's order. "The unassigned ones" use the same index for `assignee_id IS NULL` (on PostgreSQL as a
//!   bitmap of the workspace's unassigned dialogs, then the page's top rows). No foreign key to `users`: the
//!   domain keeps the assignee a current member (a departure unassigns), and an account's erasure must not be
//!   held up by the dialogs it was assigned.
//! - A tag row goes with its dialog (`ON DELETE CASCADE`).
//! - On PostgreSQL the tags are a tenant table like the inbox's others: the application role may read, add and
//!   delete rows (never change one), behind forced row-level security with the `tenant` policy.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InboxDialogTags {
    Table,
    WorkspaceId,
    DialogId,
    Tag,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InboxDialogs {
    Table,
    Id,
    AssigneeId,
}

const TAG_INDEX: &str = "inbox_dialog_tags_tag_idx";
const ASSIGNEE_INDEX: &str = "inbox_dialogs_assignee_idx";

const POSTGRES_UP: &str = r#"
GRANT SELECT, INSERT, DELETE ON inbox_dialog_tags TO tgos_app;
ALTER TABLE inbox_dialog_tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE inbox_dialog_tags FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON inbox_dialog_tags USING (workspace_id = tgos_wall('workspace_id')::uuid);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InboxDialogTags::Table)
                    // SQLite runs a migration outside a transaction: a start that stopped part way must not fail
                    // on the next start.
                    .if_not_exists()
                    .col(ColumnDef::new(InboxDialogTags::WorkspaceId).uuid().not_null())
                    .col(ColumnDef::new(InboxDialogTags::DialogId).uuid().not_null())
                    .col(ColumnDef::new(InboxDialogTags::Tag).string_len(128).not_null())
                    .col(
                        ColumnDef::new(InboxDialogTags::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col(InboxDialogTags::DialogId).col(InboxDialogTags::Tag))
                    .foreign_key(
                        ForeignKey::create()
                            .name("inbox_dialog_tags_dialog_fk")
                            .from(InboxDialogTags::Table, InboxDialogTags::DialogId)
                            .to(InboxDialogs::Table, InboxDialogs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(TAG_INDEX)
                    .table(InboxDialogTags::Table)
                    .col(InboxDialogTags::WorkspaceId)
                    .col(InboxDialogTags::Tag)
                    .col(InboxDialogTags::DialogId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        if !manager.has_column("inbox_dialogs", "assignee_id").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(InboxDialogs::Table)
                        .add_column(ColumnDef::new(InboxDialogs::AssigneeId).uuid().null())
                        .to_owned(),
                )
                .await?;
        }
        // Plain SQL: the builder cannot say NULLS LAST.
        let order = match manager.get_database_backend() {
            DatabaseBackend::Postgres => "last_message_at DESC NULLS LAST, id DESC",
            _ => "last_message_at, id",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {ASSIGNEE_INDEX} ON inbox_dialogs (workspace_id, assignee_id, {order})"
            ))
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP INDEX IF EXISTS {ASSIGNEE_INDEX}"))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(InboxDialogs::Table)
                    .drop_column(InboxDialogs::AssigneeId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(InboxDialogTags::Table).to_owned())
            .await
    }
}
