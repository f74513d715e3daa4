//! Automations on SeaORM: definitions with their trigger index, executions, and automated sends.
//!
//! Every method runs behind the workspace's wall ([`Repo::in_workspace`]), except the scheduler's read of
//! schedule automations (`automation_scheduler` sweep) and the retention sweep (`automation_retention`). The
//! trigger index is rewritten in the statement group that changes the definition, so it never lists a
//! disabled or deleted automation.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _,
};
use tgos_domain::automation::definition::TriggerKind;
use tgos_domain::automation::ports::AutomationRepository;
use tgos_domain::automation::records::{
    AutomationRecord, AutomationStats, ExecutionFilter, ExecutionRecord, ExecutionStatus,
};
use tgos_domain::ids::{AccountId, AutomationId, DialogId, ExecutionId, MessageId, UserId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::TenantScope;

use crate::entities::{automation_executions, automation_sends, automation_triggers, automations};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

mod rows;

use rows::{automation, automation_row, execution, index_triggers};

const SCHEDULER: Wall<'static> = Wall::Sweep("automation_scheduler");
const RETENTION: Wall<'static> = Wall::Sweep("automation_retention");
/// The trigger index's key for "every account".
pub(super) const EVERY_ACCOUNT: &str = "*";

#[async_trait]
impl<C: Conn> AutomationRepository for Repo<C> {
    async fn insert_automation(&self, scope: &TenantScope, record: &AutomationRecord) -> StoreResult<()> {
        self.in_workspace(scope, async |db| {
            db.owns(record.workspace_id, "an automation")?;
            automations::Entity::insert(automation_row(record)?)
                .exec_without_returning(db.conn())
                .await
                .store()?;
            index_triggers(db, record, false).await
        })
        .await
    }

    async fn update_automation(
        &self,
        scope: &TenantScope,
        record: &AutomationRecord,
        expected_version: i32,
    ) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            db.owns(record.workspace_id, "an automation")?;
            let mut row = automation_row(record)?;
            row.id = sea_orm::ActiveValue::NotSet;
            row.workspace_id = sea_orm::ActiveValue::NotSet;
            row.created_by = sea_orm::ActiveValue::NotSet;
            row.created_at = sea_orm::ActiveValue::NotSet;
            row.deleted_at = sea_orm::ActiveValue::NotSet;
            let updated = db
                .update_many::<automations::Entity>()
                .set(row)
                .filter(automations::Column::Id.eq(record.id.as_uuid()))
                .filter(automations::Column::Version.eq(expected_version))
                .filter(automations::Column::DeletedAt.is_null())
                .exec(db.conn())
                .await
                .store()?;
            if updated.rows_affected == 0 {
                return Ok(false);
            }
            index_triggers(db, record, false).await?;
            Ok(true)
        })
        .await
    }

    async fn delete_automation(&self, scope: &TenantScope, id: AutomationId, at: DateTime<Utc>) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let deleted = db
                .update_many::<automations::Entity>()
                .col_expr(automations::Column::DeletedAt, Expr::value(at))
                .col_expr(automations::Column::UpdatedAt, Expr::value(at))
                .col_expr(
                    automations::Column::Version,
                    Expr::col(automations::Column::Version).add(1),
                )
                .filter(automations::Column::Id.eq(id.as_uuid()))
                .filter(automations::Column::DeletedAt.is_null())
                .exec(db.conn())
                .await
                .store()?;
            db.delete_many::<automation_triggers::Entity>()
                .filter(automation_triggers::Column::AutomationId.eq(id.as_uuid()))
                .exec(db.conn())
                .await
                .store()?;
            Ok(deleted.rows_affected > 0)
        })
        .await
    }

    async fn find_automation(&self, scope: &TenantScope, id: AutomationId) -> StoreResult<Option<AutomationRecord>> {
        let row = self
            .in_workspace(scope, async |db| {
                db.find::<automations::Entity>()
                    .filter(automations::Column::Id.eq(id.as_uuid()))
                    .filter(automations::Column::DeletedAt.is_null())
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        row.map(automation).transpose()
    }

    async fn automation_names(
        &self,
        scope: &TenantScope,
        ids: &[AutomationId],
    ) -> StoreResult<Vec<(AutomationId, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(uuid::Uuid, String)> = self
            .in_workspace(scope, async |db| {
                db.find::<automations::Entity>()
                    .select_only()
                    .column(automations::Column::Id)
                    .column(automations::Column::Name)
                    .filter(automations::Column::Id.is_in(ids.iter().map(AutomationId::as_uuid)))
                    .into_tuple()
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| (AutomationId::from_uuid(id), name))
            .collect())
    }

    async fn automation_workspace_of_member(&self, user: UserId, id: AutomationId) -> StoreResult<Option<WorkspaceId>> {
        let row = self
            .behind(Wall::User(user), async |db| {
                automations::Entity::find_by_id(id.as_uuid())
                    .filter(automations::Column::WorkspaceId.in_subquery(crate::tenant::workspaces_of(user)))
                    .filter(automations::Column::DeletedAt.is_null())
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        Ok(row.map(|row| WorkspaceId::from_uuid(row.workspace_id)))
    }

    async fn automations(
        &self,
        scope: &TenantScope,
        after: Option<AutomationId>,
        limit: u64,
    ) -> StoreResult<Vec<AutomationRecord>> {
        let rows = self
            .in_workspace(scope, async |db| {
                let mut query = db
                    .find::<automations::Entity>()
                    .filter(automations::Column::DeletedAt.is_null());
                if let Some(after) = after {
                    query = query.filter(automations::Column::Id.gt(after.as_uuid()));
                }
                query
                    .order_by_asc(automations::Column::Id)
                    .limit(limit)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(automation).collect()
    }

    async fn count_automations(&self, scope: &TenantScope) -> StoreResult<u64> {
        self.in_workspace(scope, async |db| {
            db.find::<automations::Entity>()
                .filter(automations::Column::DeletedAt.is_null())
                .count(db.conn())
                .await
                .store()
        })
        .await
    }

    async fn automations_triggered_by(
        &self,
        scope: &TenantScope,
        kinds: &[TriggerKind],
        account: Option<AccountId>,
    ) -> StoreResult<Vec<AutomationRecord>> {
        let mut keys = vec![EVERY_ACCOUNT.to_owned()];
        if let Some(account) = account {
            keys.push(account.to_string());
        }
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let rows = self
            .in_workspace(scope, async |db| {
                let ids: Vec<uuid::Uuid> = db
                    .find::<automation_triggers::Entity>()
                    .select_only()
                    .column(automation_triggers::Column::AutomationId)
                    .filter(automation_triggers::Column::TriggerKind.is_in(kinds))
                    .filter(automation_triggers::Column::AccountKey.is_in(keys))
                    .into_tuple()
                    .all(db.conn())
                    .await
                    .store()?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                db.find::<automations::Entity>()
                    .filter(automations::Column::Id.is_in(ids))
                    .filter(automations::Column::Enabled.eq(true))
                    .filter(automations::Column::DeletedAt.is_null())
                    .order_by_asc(automations::Column::Id)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(automation).collect()
    }

    async fn scheduled_automations(
        &self,
        after: Option<AutomationId>,
        limit: u64,
    ) -> StoreResult<Vec<AutomationRecord>> {
        let rows = self
            .behind(SCHEDULER, async |db| {
                let mut query = automations::Entity::find()
                    .filter(automations::Column::TriggerKind.eq(TriggerKind::Schedule.as_str()))
                    .filter(automations::Column::Enabled.eq(true))
                    .filter(automations::Column::DeletedAt.is_null());
                if let Some(after) = after {
                    query = query.filter(automations::Column::Id.gt(after.as_uuid()));
                }
                query
                    .order_by_asc(automations::Column::Id)
                    .limit(limit)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(automation).collect()
    }

    async fn insert_execution(&self, scope: &TenantScope, record: &ExecutionRecord) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            db.owns(record.workspace_id, "an execution")?;
            let row = automation_executions::ActiveModel {
                id: Set(record.id.as_uuid()),
                workspace_id: Set(record.workspace_id.as_uuid()),
                automation_id: Set(record.automation_id.as_uuid()),
                automation_version: Set(record.automation_version),
                status: Set(record.status.as_str().to_owned()),
                reason: Set(record.reason.clone()),
                trigger_key: Set(record.trigger_key.clone()),
                account_id: Set(record.account_id.map(|a| a.as_uuid())),
                dialog_id: Set(record.dialog_id.map(|d| d.as_uuid())),
                message_id: Set(record.message_id.map(|m| m.as_uuid())),
                context: Set(serde_json::to_string(&record.context).map_err(StoreError::backend)?),
                steps: Set(serde_json::to_string(&record.steps).map_err(StoreError::backend)?),
                created_at: Set(record.created_at),
                started_at: Set(record.started_at),
                finished_at: Set(record.finished_at),
            };
            let inserted = automation_executions::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([
                        automation_executions::Column::AutomationId,
                        automation_executions::Column::TriggerKey,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(db.conn())
                .await
                .store()?;
            Ok(inserted > 0)
        })
        .await
    }

    async fn find_execution(&self, scope: &TenantScope, id: ExecutionId) -> StoreResult<Option<ExecutionRecord>> {
        let row = self
            .in_workspace(scope, async |db| {
                db.find::<automation_executions::Entity>()
                    .filter(automation_executions::Column::Id.eq(id.as_uuid()))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        row.map(execution).transpose()
    }

    async fn save_execution(
        &self,
        scope: &TenantScope,
        record: &ExecutionRecord,
        expected: ExecutionStatus,
    ) -> StoreResult<bool> {
        let steps = serde_json::to_string(&record.steps).map_err(StoreError::backend)?;
        self.in_workspace(scope, async |db| {
            let updated = db
                .update_many::<automation_executions::Entity>()
                .col_expr(
                    automation_executions::Column::Status,
                    Expr::value(record.status.as_str()),
                )
                .col_expr(
                    automation_executions::Column::AutomationVersion,
                    Expr::value(record.automation_version),
                )
                .col_expr(
                    automation_executions::Column::Reason,
                    Expr::value(record.reason.clone()),
                )
                .col_expr(automation_executions::Column::Steps, Expr::value(steps))
                .col_expr(automation_executions::Column::StartedAt, Expr::value(record.started_at))
                .col_expr(
                    automation_executions::Column::FinishedAt,
                    Expr::value(record.finished_at),
                )
                .filter(automation_executions::Column::Id.eq(record.id.as_uuid()))
                .filter(automation_executions::Column::Status.eq(expected.as_str()))
                .exec(db.conn())
                .await
                .store()?;
            Ok(updated.rows_affected > 0)
        })
        .await
    }

    async fn executions(
        &self,
        scope: &TenantScope,
        filter: ExecutionFilter,
        after: Option<ExecutionId>,
        limit: u64,
    ) -> StoreResult<Vec<ExecutionRecord>> {
        let rows = self
            .in_workspace(scope, async |db| {
                let mut query = db.find::<automation_executions::Entity>();
                if let Some(automation) = filter.automation {
                    query = query.filter(automation_executions::Column::AutomationId.eq(automation.as_uuid()));
                }
                if let Some(status) = filter.status {
                    query = query.filter(automation_executions::Column::Status.eq(status.as_str()));
                }
                if let Some(after) = after {
                    query = query.filter(automation_executions::Column::Id.lt(after.as_uuid()));
                }
                query
                    .order_by_desc(automation_executions::Column::Id)
                    .limit(limit)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(execution).collect()
    }

    async fn executions_started_since(
        &self,
        scope: &TenantScope,
        dialog: Option<DialogId>,
        since: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.in_workspace(scope, async |db| {
            let mut query = db
                .find::<automation_executions::Entity>()
                .filter(automation_executions::Column::StartedAt.gte(since));
            if let Some(dialog) = dialog {
                query = query.filter(automation_executions::Column::DialogId.eq(dialog.as_uuid()));
            }
            query.count(db.conn()).await.store()
        })
        .await
    }

    async fn automation_stats(
        &self,
        scope: &TenantScope,
        ids: &[AutomationId],
    ) -> StoreResult<Vec<(AutomationId, AutomationStats)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(uuid::Uuid, String, i64, Option<DateTime<Utc>>)> = self
            .in_workspace(scope, async |db| {
                db.find::<automation_executions::Entity>()
                    .select_only()
                    .column(automation_executions::Column::AutomationId)
                    .column(automation_executions::Column::Status)
                    .column_as(automation_executions::Column::Id.count(), "runs")
                    .column_as(automation_executions::Column::StartedAt.max(), "last_run_at")
                    .filter(automation_executions::Column::AutomationId.is_in(ids.iter().map(AutomationId::as_uuid)))
                    .group_by(automation_executions::Column::AutomationId)
                    .group_by(automation_executions::Column::Status)
                    .into_tuple()
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        let mut stats: HashMap<AutomationId, AutomationStats> = HashMap::new();
        for (id, status, count, last) in rows {
            let entry = stats.entry(AutomationId::from_uuid(id)).or_default();
            let count = u64::try_from(count).unwrap_or(0);
            match ExecutionStatus::parse(&status) {
                Some(ExecutionStatus::Succeeded) => entry.succeeded += count,
                Some(ExecutionStatus::Failed) => entry.failed += count,
                Some(ExecutionStatus::Skipped) => entry.skipped += count,
                _ => {}
            }
            if !matches!(ExecutionStatus::parse(&status), Some(ExecutionStatus::Skipped)) {
                entry.runs += count;
            }
            if last > entry.last_run_at {
                entry.last_run_at = last;
            }
        }
        Ok(ids
            .iter()
            .map(|id| (*id, stats.get(id).copied().unwrap_or_default()))
            .collect())
    }

    async fn prune_skipped_executions(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.behind(RETENTION, async |db| {
            let deleted = automation_executions::Entity::delete_many()
                .filter(automation_executions::Column::Status.eq(ExecutionStatus::Skipped.as_str()))
                .filter(automation_executions::Column::FinishedAt.lt(before))
                .exec(db.conn())
                .await
                .store()?;
            Ok(deleted.rows_affected)
        })
        .await
    }

    async fn find_automated_send(&self, scope: &TenantScope, key: &str) -> StoreResult<Option<MessageId>> {
        let row = self
            .in_workspace(scope, async |db| {
                db.find::<automation_sends::Entity>()
                    .filter(automation_sends::Column::OriginKey.eq(key))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        Ok(row.map(|row| MessageId::from_uuid(row.message_id)))
    }

    async fn record_automated_send(
        &self,
        scope: &TenantScope,
        key: &str,
        message: MessageId,
        account: AccountId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let inserted = self
            .in_workspace(scope, async |db| {
                let row = automation_sends::ActiveModel {
                    workspace_id: Set(db.id()),
                    origin_key: Set(key.to_owned()),
                    message_id: Set(message.as_uuid()),
                    account_id: Set(account.as_uuid()),
                    sent_at: Set(at),
                };
                automation_sends::Entity::insert(row)
                    .on_conflict(
                        OnConflict::columns([
                            automation_sends::Column::WorkspaceId,
                            automation_sends::Column::OriginKey,
                        ])
                        .do_nothing()
                        .to_owned(),
                    )
                    .exec_without_returning(db.conn())
                    .await
                    .store()
            })
            .await?;
        if inserted == 0 {
            return Err(StoreError::UniqueViolation("automation_sends_pkey"));
        }
        Ok(())
    }

    async fn automated_sends_since(
        &self,
        scope: &TenantScope,
        account: AccountId,
        since: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.in_workspace(scope, async |db| {
            db.find::<automation_sends::Entity>()
                .filter(
                    Condition::all()
                        .add(automation_sends::Column::AccountId.eq(account.as_uuid()))
                        .add(automation_sends::Column::SentAt.gte(since)),
                )
                .count(db.conn())
                .await
                .store()
        })
        .await
    }
}
