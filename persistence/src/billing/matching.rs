//! Payment matching records on SeaORM: discrepancies for staff and which top-up a provider's payment paid.
//! Both are platform tables (no tenant): written and read with no tenant wall; a repeat of a provider event or
//! payment is absorbed by their unique keys (`ON CONFLICT DO NOTHING`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use tgos_domain::billing::matching::PaymentDiscrepancy;
use tgos_domain::billing::ports::PaymentMatchingRepository;
use tgos_domain::billing::top_up::{Provider, TopUpRecord};
use tgos_domain::ids::{DiscrepancyId, TopUpId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};

use crate::entities::{payment_discrepancies, payment_references};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

fn inserted(result: Result<u64, DbErr>) -> StoreResult<bool> {
    match result {
        Ok(rows) => Ok(rows > 0),
        Err(DbErr::RecordNotInserted) => Ok(false),
        Err(error) => Err(crate::errors::store_error(error)),
    }
}

fn discrepancy(row: payment_discrepancies::Model) -> StoreResult<PaymentDiscrepancy> {
    Ok(PaymentDiscrepancy {
        id: DiscrepancyId::from_uuid(row.id),
        provider: Provider::parse(&row.provider).ok_or_else(|| StoreError::backend("unknown provider"))?,
        event_id: row.event_id,
        top_up_id: row.top_up_id.map(TopUpId::from_uuid),
        workspace_id: row.workspace_id.map(WorkspaceId::from_uuid),
        reason: row.reason,
        details: serde_json::from_str(&row.details).map_err(StoreError::backend)?,
        created_at: row.created_at,
    })
}

#[async_trait]
impl<C: Conn> PaymentMatchingRepository for Repo<C> {
    async fn record_discrepancy(&self, record: &PaymentDiscrepancy) -> StoreResult<bool> {
        self.behind(Wall::NoTenant, async |db| {
            let result = payment_discrepancies::Entity::insert(payment_discrepancies::ActiveModel {
                id: Set(record.id.as_uuid()),
                provider: Set(record.provider.key().to_owned()),
                event_id: Set(record.event_id.clone()),
                top_up_id: Set(record.top_up_id.map(|id| id.as_uuid())),
                workspace_id: Set(record.workspace_id.map(|id| id.as_uuid())),
                reason: Set(record.reason.clone()),
                details: Set(record.details.to_string()),
                created_at: Set(record.created_at),
            })
            .on_conflict(
                OnConflict::columns([
                    payment_discrepancies::Column::Provider,
                    payment_discrepancies::Column::EventId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db.conn())
            .await;
            inserted(result)
        })
        .await
    }

    async fn list_discrepancies(&self, limit: u64) -> StoreResult<Vec<PaymentDiscrepancy>> {
        let rows = self
            .behind(Wall::NoTenant, async |db| {
                payment_discrepancies::Entity::find()
                    .order_by_desc(payment_discrepancies::Column::CreatedAt)
                    .order_by_desc(payment_discrepancies::Column::Id)
                    .limit(limit)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(discrepancy).collect()
    }

    async fn record_payment_reference(
        &self,
        provider: Provider,
        payment_ref: &str,
        top_up: &TopUpRecord,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.behind(Wall::NoTenant, async |db| {
            let result = payment_references::Entity::insert(payment_references::ActiveModel {
                provider: Set(provider.key().to_owned()),
                payment_ref: Set(payment_ref.to_owned()),
                top_up_id: Set(top_up.id.as_uuid()),
                workspace_id: Set(top_up.workspace_id.as_uuid()),
                created_at: Set(now),
            })
            .on_conflict(
                OnConflict::columns([
                    payment_references::Column::Provider,
                    payment_references::Column::PaymentRef,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db.conn())
            .await;
            inserted(result).map(|_| ())
        })
        .await
    }

    async fn find_payment_reference(&self, provider: Provider, payment_ref: &str) -> StoreResult<Option<TopUpId>> {
        let row = self
            .behind(Wall::NoTenant, async |db| {
                payment_references::Entity::find()
                    .filter(payment_references::Column::Provider.eq(provider.key()))
                    .filter(payment_references::Column::PaymentRef.eq(payment_ref))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        Ok(row.map(|r| TopUpId::from_uuid(r.top_up_id)))
    }
}
