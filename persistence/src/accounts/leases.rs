//! Leases, behind their workspace's wall; the expiry sweep reads due leases across workspaces behind the
//! `lease_expiry` sweep wall, which shows active leases that ran out and nothing else.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use tgos_domain::accounts::pool::{LeaseRecord, LeaseRepository, LeaseStatus};
use tgos_domain::billing::{Currency, Money};
use tgos_domain::ids::{AccountId, LeaseId, UserId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::TenantScope;

use crate::entities::leases::{self, Column};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::tenant::workspaces_of;
use crate::wall::Wall;

fn record(row: leases::Model) -> StoreResult<LeaseRecord> {
    let currency = Currency::parse(&row.currency).ok_or_else(|| StoreError::backend("unknown lease currency"))?;
    Ok(LeaseRecord {
        id: LeaseId::from_uuid(row.id),
        workspace_id: WorkspaceId::from_uuid(row.workspace_id),
        account_id: AccountId::from_uuid(row.account_id),
        status: LeaseStatus::parse(&row.status).ok_or_else(|| StoreError::backend("unknown lease status"))?,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        price_per_day: Money::new(row.price_per_day_minor, currency),
        created_by: row.created_by.map(UserId::from_uuid),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

#[async_trait]
impl<C: Conn> LeaseRepository for Repo<C> {
    async fn insert_lease(&self, scope: &TenantScope, lease: &LeaseRecord) -> StoreResult<()> {
        self.in_workspace(scope, async |db| {
            db.owns(lease.workspace_id, "lease")?;
            leases::Entity::insert(leases::ActiveModel {
                id: Set(lease.id.as_uuid()),
                workspace_id: Set(db.id()),
                account_id: Set(lease.account_id.as_uuid()),
                status: Set(lease.status.as_str().to_owned()),
                starts_at: Set(lease.starts_at),
                ends_at: Set(lease.ends_at),
                price_per_day_minor: Set(lease.price_per_day.minor()),
                currency: Set(lease.price_per_day.currency().code().to_owned()),
                created_by: Set(lease.created_by.map(|u| u.as_uuid())),
                created_at: Set(lease.created_at),
                updated_at: Set(lease.updated_at),
            })
            .exec_without_returning(db.conn())
            .await
            .store()?;
            Ok(())
        })
        .await
    }

    async fn find_lease(&self, scope: &TenantScope, id: LeaseId) -> StoreResult<Option<LeaseRecord>> {
        let row = self
            .in_workspace(scope, async |db| {
                db.find::<leases::Entity>()
                    .filter(Column::Id.eq(id.as_uuid()))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        row.map(record).transpose()
    }

    async fn lease_workspace_of_member(&self, user: UserId, id: LeaseId) -> StoreResult<Option<WorkspaceId>> {
        let row = self
            .behind(Wall::User(user), async |db| {
                leases::Entity::find_by_id(id.as_uuid())
                    .filter(Column::WorkspaceId.in_subquery(workspaces_of(user)))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        Ok(row.map(|row| WorkspaceId::from_uuid(row.workspace_id)))
    }

    async fn holder_workspace_of_member(&self, user: UserId, account: AccountId) -> StoreResult<Option<WorkspaceId>> {
        let row = self
            .behind(Wall::User(user), async |db| {
                leases::Entity::find()
                    .filter(Column::AccountId.eq(account.as_uuid()))
                    .filter(Column::Status.eq(LeaseStatus::Active.as_str()))
                    .filter(Column::WorkspaceId.in_subquery(workspaces_of(user)))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        Ok(row.map(|row| WorkspaceId::from_uuid(row.workspace_id)))
    }

    async fn extend_lease(
        &self,
        scope: &TenantScope,
        id: LeaseId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .update_many::<leases::Entity>()
                .col_expr(Column::EndsAt, Expr::value(to))
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(Column::Status.eq(LeaseStatus::Active.as_str()))
                .filter(Column::EndsAt.eq(from))
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn end_lease(
        &self,
        scope: &TenantScope,
        id: LeaseId,
        expected_end: DateTime<Utc>,
        ended_at: DateTime<Utc>,
        status: LeaseStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .update_many::<leases::Entity>()
                .col_expr(Column::Status, Expr::value(status.as_str()))
                .col_expr(Column::EndsAt, Expr::value(ended_at))
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(Column::Status.eq(LeaseStatus::Active.as_str()))
                .filter(Column::EndsAt.eq(expected_end))
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn leases_of(
        &self,
        scope: &TenantScope,
        before: Option<LeaseId>,
        limit: u64,
    ) -> StoreResult<Vec<LeaseRecord>> {
        let rows = self
            .in_workspace(scope, async |db| {
                let mut query = db.find::<leases::Entity>().order_by_desc(Column::Id).limit(limit);
                if let Some(before) = before {
                    query = query.filter(Column::Id.lt(before.as_uuid()));
                }
                query.all(db.conn()).await.store()
            })
            .await?;
        rows.into_iter().map(record).collect()
    }

    async fn active_leases(
        &self,
        after: Option<LeaseId>,
        limit: u64,
    ) -> StoreResult<Vec<(LeaseId, WorkspaceId, AccountId)>> {
        let rows = self
            .behind(Wall::Sweep("lease_expiry"), async |db| {
                let mut query = leases::Entity::find()
                    .filter(Column::Status.eq(LeaseStatus::Active.as_str()))
                    .order_by_asc(Column::Id)
                    .limit(limit);
                if let Some(after) = after {
                    query = query.filter(Column::Id.gt(after.as_uuid()));
                }
                query.all(db.conn()).await.store()
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                (
                    LeaseId::from_uuid(row.id),
                    WorkspaceId::from_uuid(row.workspace_id),
                    AccountId::from_uuid(row.account_id),
                )
            })
            .collect())
    }

    async fn due_leases(&self, now: DateTime<Utc>, limit: u64) -> StoreResult<Vec<(LeaseId, WorkspaceId)>> {
        let rows = self
            .behind(Wall::Sweep("lease_expiry"), async |db| {
                leases::Entity::find()
                    .filter(Column::Status.eq(LeaseStatus::Active.as_str()))
                    .filter(Column::EndsAt.lte(now))
                    .order_by_asc(Column::EndsAt)
                    .limit(limit)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (LeaseId::from_uuid(row.id), WorkspaceId::from_uuid(row.workspace_id)))
            .collect())
    }
}
