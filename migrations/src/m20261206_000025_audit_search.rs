//! The staff console searches the audit log across every chain, newest first.
//!
//! Rule: the search orders by `(at, id)` and pages strictly before the last entry shown
//! (`persistence/src/audit/search.rs`), and each of its filters is an equality; an index per filter that ends
//! in `(at, id)` answers the filter, the order and the page's start in one backward range scan, however long
//! the log grows. Without them the log (one entry per sensitive action, kept for years) would be read whole
//! and sorted for every page. A chain is already found through `audit_log_chain_sequence_unique`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    At,
    Id,
    WorkspaceId,
    ActorId,
    Action,
}

/// Each index: its name and the filter column it leads with (none: every entry).
const INDEXES: [(&str, Option<AuditLog>); 4] = [
    ("audit_log_at_idx", None),
    ("audit_log_workspace_at_idx", Some(AuditLog::WorkspaceId)),
    ("audit_log_actor_at_idx", Some(AuditLog::ActorId)),
    ("audit_log_action_at_idx", Some(AuditLog::Action)),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, filter) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(AuditLog::Table);
            if let Some(column) = filter {
                index.col(column);
            }
            index
                .col(AuditLog::At)
                .col(AuditLog::Id)
                // SQLite runs a migration outside a transaction: a start that stopped midway must not fail on
                // the next start.
                .if_not_exists();
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            // Plain SQL, the same on both backends (the builder's drop names the table, which SQLite refuses).
            manager
                .get_connection()
                .execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
