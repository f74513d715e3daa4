//! Closing and erasing workspaces on SeaORM. Closure state lives on the workspace row; the erasure deletes
//! the workspace's rows table by table, children before parents, at most a batch per statement, behind the
//! erasure's wall ([`Wall::Erasure`]: the workspace's wall plus the deletions only an erasure may make).
//!
//! What is erased and what stays (docs/ARCHITECTURE.md, "Workspace deletion and erasure"):
//! every table of the workspace's data in [`ERASED`]; its billing rows (`wallet_balances`,
//! `ledger_transactions`, `ledger_postings`, `top_ups`, payment matching) stay for 7 years and have no
//! foreign key to `workspaces`; the erasure job's own row stays until finished jobs are pruned.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ColumnTrait as _, ConnectionTrait as _, DatabaseBackend, QueryFilter as _, Statement, Value};
use tgos_domain::erasure::{ErasureStep, WorkspaceClosureRecord, WorkspaceErasureRepository};
use tgos_domain::ids::JobId;
use tgos_domain::store::StoreResult;
use tgos_domain::tenancy::TenantScope;

use crate::entities::{automation_triggers, automations, workspaces};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

/// How a table names the workspace its rows belong to.
#[derive(Clone, Copy)]
enum Owner {
    /// A `uuid` column holding the workspace id.
    Column(&'static str),
    /// The audit chain head, keyed `workspace:<id>`.
    ChainKey,
}

/// The tables erased, in order: rows that refer to others go first.
const ERASED: &[(&str, Owner)] = &[
    ("inbox_dialog_tags", Owner::Column("workspace_id")),
    ("inbox_messages", Owner::Column("workspace_id")),
    ("inbox_dialogs", Owner::Column("workspace_id")),
    ("inbox_sync", Owner::Column("workspace_id")),
    ("automation_sends", Owner::Column("workspace_id")),
    ("automation_executions", Owner::Column("workspace_id")),
    ("automation_triggers", Owner::Column("workspace_id")),
    ("automations", Owner::Column("workspace_id")),
    ("outbox_events", Owner::Column("workspace_id")),
    ("event_sequences", Owner::Column("workspace_id")),
    ("jobs", Owner::Column("workspace_id")),
    ("account_counter_peers", Owner::Column("holder")),
    ("account_counters", Owner::Column("holder")),
    ("leases", Owner::Column("workspace_id")),
    ("invitations", Owner::Column("workspace_id")),
    ("api_keys", Owner::Column("workspace_id")),
    ("memberships", Owner::Column("workspace_id")),
    ("audit_log", Owner::Column("workspace_id")),
    ("audit_chain_heads", Owner::ChainKey),
];

/// `DELETE` of at most `limit` rows of `table` owned as `owner` says (`$1`), skipping the job `$2` in `jobs`.
fn batch_delete(backend: DatabaseBackend, table: &str, owner: Owner, limit: u64) -> String {
    let (row, first, second) = match backend {
        DatabaseBackend::Postgres => ("ctid", "$1", "$2"),
        _ => ("rowid", "?", "?"),
    };
    let column = match owner {
        Owner::Column(column) => column,
        Owner::ChainKey => "chain",
    };
    let keep = if table == "jobs" {
        format!(" AND id <> {second}")
    } else {
        String::new()
    };
    format!(
        "DELETE FROM {table} WHERE {row} IN (SELECT {row} FROM {table} WHERE {column} = {first}{keep} LIMIT {limit})"
    )
}

fn closure(row: &workspaces::Model) -> WorkspaceClosureRecord {
    WorkspaceClosureRecord {
        closed_at: row.closed_at,
        erase_after: row.erase_after,
        erasing_at: row.erasing_at,
    }
}

#[async_trait]
impl<C: Conn> WorkspaceErasureRepository for Repo<C> {
    async fn close_workspace_row(
        &self,
        scope: &TenantScope,
        closed_at: DateTime<Utc>,
        erase_after: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .update_many::<workspaces::Entity>()
                .col_expr(workspaces::Column::ClosedAt, Expr::value(closed_at))
                .col_expr(workspaces::Column::EraseAfter, Expr::value(erase_after))
                .filter(workspaces::Column::ClosedAt.is_null())
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn reopen_workspace_row(&self, scope: &TenantScope) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .update_many::<workspaces::Entity>()
                .col_expr(workspaces::Column::ClosedAt, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(
                    workspaces::Column::EraseAfter,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(workspaces::Column::ClosedAt.is_not_null())
                .filter(workspaces::Column::ErasingAt.is_null())
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn workspace_closure(&self, scope: &TenantScope) -> StoreResult<Option<WorkspaceClosureRecord>> {
        let row = self
            .in_workspace(scope, async |db| {
                db.find::<workspaces::Entity>().one(db.conn()).await.store()
            })
            .await?;
        Ok(row.as_ref().map(closure))
    }

    async fn start_erasure(
        &self,
        scope: &TenantScope,
        closed_at: DateTime<Utc>,
        erase_after: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let due = || {
                db.update_many::<workspaces::Entity>()
                    .filter(workspaces::Column::ClosedAt.eq(closed_at))
                    .filter(workspaces::Column::EraseAfter.eq(erase_after))
                    .filter(workspaces::Column::EraseAfter.lte(now))
            };
            let started = due()
                .col_expr(workspaces::Column::ErasingAt, Expr::value(now))
                .filter(workspaces::Column::ErasingAt.is_null())
                .exec(db.conn())
                .await
                .store()?;
            if started.rows_affected == 1 {
                return Ok(true);
            }
            let already = db
                .find::<workspaces::Entity>()
                .filter(workspaces::Column::ClosedAt.eq(closed_at))
                .filter(workspaces::Column::ErasingAt.is_not_null())
                .one(db.conn())
                .await
                .store()?;
            Ok(already.is_some())
        })
        .await
    }

    async fn stop_automations(&self, scope: &TenantScope, now: DateTime<Utc>) -> StoreResult<u64> {
        self.in_workspace(scope, async |db| {
            let stopped = db
                .update_many::<automations::Entity>()
                .col_expr(automations::Column::Enabled, Expr::value(false))
                .col_expr(
                    automations::Column::Version,
                    Expr::col(automations::Column::Version).add(1),
                )
                .col_expr(automations::Column::UpdatedAt, Expr::value(now))
                .filter(automations::Column::Enabled.eq(true))
                .filter(automations::Column::DeletedAt.is_null())
                .exec(db.conn())
                .await
                .store()?;
            db.delete_many::<automation_triggers::Entity>()
                .exec(db.conn())
                .await
                .store()?;
            Ok(stopped.rows_affected)
        })
        .await
    }

    async fn erase_workspace_rows(
        &self,
        scope: &TenantScope,
        keep: JobId,
        limit: u64,
    ) -> StoreResult<Option<ErasureStep>> {
        let workspace = scope.workspace_id();
        self.behind(Wall::Erasure(workspace), async |db| {
            let backend = db.conn().get_database_backend();
            for (table, owner) in ERASED {
                let owner_value: Value = match owner {
                    Owner::Column(_) => workspace.as_uuid().into(),
                    Owner::ChainKey => format!("workspace:{workspace}").into(),
                };
                let mut values = vec![owner_value];
                if *table == "jobs" {
                    values.push(keep.as_uuid().into());
                }
                let sql = batch_delete(backend, table, *owner, limit);
                let result = db
                    .conn()
                    .execute_raw(Statement::from_sql_and_values(backend, sql, values))
                    .await
                    .store()?;
                if result.rows_affected() > 0 {
                    return Ok(Some(ErasureStep {
                        table,
                        rows: result.rows_affected(),
                    }));
                }
            }
            Ok(None)
        })
        .await
    }

    async fn delete_workspace_row(&self, scope: &TenantScope) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .delete_many::<workspaces::Entity>()
                .filter(workspaces::Column::ErasingAt.is_not_null())
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_skip_the_running_job_and_stay_bounded() {
        let sql = batch_delete(DatabaseBackend::Postgres, "jobs", Owner::Column("workspace_id"), 500);
        assert_eq!(
            sql,
            "DELETE FROM jobs WHERE ctid IN (SELECT ctid FROM jobs WHERE workspace_id = $1 AND id <> $2 LIMIT 500)"
        );
        let sql = batch_delete(DatabaseBackend::Sqlite, "audit_chain_heads", Owner::ChainKey, 10);
        assert_eq!(
            sql,
            "DELETE FROM audit_chain_heads WHERE rowid IN (SELECT rowid FROM audit_chain_heads WHERE chain = ? LIMIT 10)"
        );
    }
}
