//! Staff's reads and changes across the pool (the console). The console connects as the schema owner, which
//! row-level security does not restrict (it checks that on start), so these statements run without a tenant
//! wall, like the console's other cross-tenant reads; the server's role could not make them: on PostgreSQL
//! the account trigger refuses it any change of price or retirement mark. Each change is one conditional
//! update on the state the use case read.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _};
use tgos_domain::accounts::pool::{AccountRecord, AccountStatus, PoolFilter, StaffPoolRepository};
use tgos_domain::billing::Money;
use tgos_domain::ids::{AccountId, WorkspaceId};
use tgos_domain::store::StoreResult;

use super::pool::record;
use crate::entities::telegram_accounts::{self, Column};
use crate::entities::workspaces;
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};

#[async_trait]
impl<C: Conn> StaffPoolRepository for Repo<C> {
    async fn pool_accounts(
        &self,
        filter: &PoolFilter,
        after: Option<AccountId>,
        limit: u64,
    ) -> StoreResult<Vec<AccountRecord>> {
        let mut query = telegram_accounts::Entity::find().order_by_asc(Column::Id).limit(limit);
        if let Some(status) = filter.status {
            query = query.filter(Column::Status.eq(status.as_str()));
        }
        if let Some(after) = after {
            query = query.filter(Column::Id.gt(after.as_uuid()));
        }
        let rows = query.all(&self.0).await.store()?;
        rows.into_iter().map(record).collect()
    }

    async fn pool_account(&self, id: AccountId) -> StoreResult<Option<AccountRecord>> {
        telegram_accounts::Entity::find_by_id(id.as_uuid())
            .one(&self.0)
            .await
            .store()?
            .map(record)
            .transpose()
    }

    async fn live_account_of_user(&self, telegram_user_id: i64) -> StoreResult<Option<AccountRecord>> {
        telegram_accounts::Entity::find()
            .filter(Column::TelegramUserId.eq(telegram_user_id))
            .filter(Column::Status.ne(AccountStatus::Retired.as_str()))
            .order_by_asc(Column::Id)
            .one(&self.0)
            .await
            .store()?
            .map(record)
            .transpose()
    }

    async fn workspace_names(&self, ids: &[WorkspaceId]) -> StoreResult<Vec<(WorkspaceId, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = workspaces::Entity::find()
            .filter(workspaces::Column::Id.is_in(ids.iter().map(|id| id.as_uuid())))
            .all(&self.0)
            .await
            .store()?;
        Ok(rows
            .into_iter()
            .map(|row| (WorkspaceId::from_uuid(row.id), row.name))
            .collect())
    }

    async fn reprice_account(&self, id: AccountId, price: Money, now: DateTime<Utc>) -> StoreResult<bool> {
        let result = telegram_accounts::Entity::update_many()
            .col_expr(Column::PricePerDayMinor, Expr::value(price.minor()))
            .col_expr(Column::Currency, Expr::value(price.currency().code()))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(id.as_uuid()))
            .filter(Column::Status.ne(AccountStatus::Retired.as_str()))
            .filter(Column::RetiringSince.is_null())
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn retire_offered_account(&self, id: AccountId, now: DateTime<Utc>) -> StoreResult<bool> {
        let result = telegram_accounts::Entity::update_many()
            .col_expr(Column::Status, Expr::value(AccountStatus::Retired.as_str()))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(id.as_uuid()))
            .filter(Column::Status.eq(AccountStatus::Available.as_str()))
            .filter(Column::LeasedTo.is_null())
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn mark_retiring(&self, id: AccountId, holder: WorkspaceId, now: DateTime<Utc>) -> StoreResult<bool> {
        let result = telegram_accounts::Entity::update_many()
            .col_expr(Column::RetiringSince, Expr::value(now))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(id.as_uuid()))
            .filter(Column::Status.eq(AccountStatus::Leased.as_str()))
            .filter(Column::LeasedTo.eq(holder.as_uuid()))
            .filter(Column::RetiringSince.is_null())
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }
}
