//! Top-ups on SeaORM, inside [`Repo::in_workspace`]: behind the workspace's wall and filtered by it; finding
//! one by id alone (a provider's notification) runs behind that top-up's own wall.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
use tgos_domain::billing::ledger::RetentionClass;
use tgos_domain::billing::money::{Currency, Money};
use tgos_domain::billing::ports::TopUpRepository;
use tgos_domain::billing::top_up::{Provider, TopUpRecord, TopUpStatus};
use tgos_domain::ids::{TopUpId, UserId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::TenantScope;

use crate::entities::top_ups::{self, Column};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

fn record(row: top_ups::Model) -> StoreResult<TopUpRecord> {
    let currency = Currency::parse(&row.currency).ok_or_else(|| StoreError::backend("unknown top-up currency"))?;
    Ok(TopUpRecord {
        id: TopUpId::from_uuid(row.id),
        workspace_id: WorkspaceId::from_uuid(row.workspace_id),
        provider: Provider::parse(&row.provider).ok_or_else(|| StoreError::backend("unknown provider"))?,
        amount: Money::new(row.amount_minor, currency),
        status: TopUpStatus::parse(&row.status).ok_or_else(|| StoreError::backend("unknown top-up status"))?,
        credited_minor: row.credited_minor,
        refunded_minor: row.refunded_minor,
        provider_ref: row.provider_ref,
        checkout_url: row.checkout_url,
        created_by: UserId::from_uuid(row.created_by),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

#[async_trait]
impl<C: Conn> TopUpRepository for Repo<C> {
    async fn insert_top_up(&self, scope: &TenantScope, top_up: &TopUpRecord) -> StoreResult<()> {
        self.in_workspace(scope, async |db| {
            db.owns(top_up.workspace_id, "top-up")?;
            top_ups::Entity::insert(top_ups::ActiveModel {
                id: Set(top_up.id.as_uuid()),
                workspace_id: Set(db.id()),
                provider: Set(top_up.provider.key().to_owned()),
                amount_minor: Set(top_up.amount.minor()),
                currency: Set(top_up.amount.currency().code().to_owned()),
                status: Set(top_up.status.as_str().to_owned()),
                credited_minor: Set(top_up.credited_minor),
                refunded_minor: Set(top_up.refunded_minor),
                provider_ref: Set(top_up.provider_ref.clone()),
                checkout_url: Set(top_up.checkout_url.clone()),
                created_by: Set(top_up.created_by.as_uuid()),
                created_at: Set(top_up.created_at),
                updated_at: Set(top_up.updated_at),
                retention_class: Set(RetentionClass::Billing7Years.as_str().to_owned()),
            })
            .exec_without_returning(db.conn())
            .await
            .store()?;
            Ok(())
        })
        .await
    }

    async fn set_top_up_checkout(
        &self,
        scope: &TenantScope,
        id: TopUpId,
        provider_ref: &str,
        checkout_url: &str,
    ) -> StoreResult<()> {
        self.in_workspace(scope, async |db| {
            db.update_many::<top_ups::Entity>()
                .col_expr(Column::ProviderRef, Expr::value(provider_ref))
                .col_expr(Column::CheckoutUrl, Expr::value(checkout_url))
                .filter(Column::Id.eq(id.as_uuid()))
                .exec(db.conn())
                .await
                .store()?;
            Ok(())
        })
        .await
    }

    async fn find_top_up(&self, id: TopUpId) -> StoreResult<Option<TopUpRecord>> {
        let row = self
            .behind(Wall::TopUp(id), async |db| {
                top_ups::Entity::find_by_id(id.as_uuid()).one(db.conn()).await.store()
            })
            .await?;
        row.map(record).transpose()
    }

    async fn advance_top_up(
        &self,
        scope: &TenantScope,
        id: TopUpId,
        from: TopUpStatus,
        to: TopUpStatus,
        credited_minor: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .update_many::<top_ups::Entity>()
                .col_expr(Column::Status, Expr::value(to.as_str()))
                .col_expr(Column::CreditedMinor, Expr::value(credited_minor))
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(Column::Status.eq(from.as_str()))
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn advance_top_up_refund(
        &self,
        scope: &TenantScope,
        id: TopUpId,
        from_refunded_minor: i64,
        to_refunded_minor: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .update_many::<top_ups::Entity>()
                .col_expr(Column::RefundedMinor, Expr::value(to_refunded_minor))
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(Column::RefundedMinor.eq(from_refunded_minor))
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn count_top_ups_since(&self, scope: &TenantScope, since: DateTime<Utc>) -> StoreResult<u64> {
        self.in_workspace(scope, async |db| {
            db.find::<top_ups::Entity>()
                .filter(Column::CreatedAt.gte(since))
                .count(db.conn())
                .await
                .store()
        })
        .await
    }
}
