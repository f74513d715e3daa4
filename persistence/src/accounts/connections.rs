//! Connection leases: one row per connected account. Taking one is a single upsert whose update only
//! happens when the row is expired or already the taker's, so of two processes at most one holds it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use tgos_domain::accounts::pool::connections::{ConnectionHolder, ConnectionLease, ConnectionLeaseRepository};
use tgos_domain::ids::AccountId;
use tgos_domain::store::StoreResult;

use crate::entities::account_connections::{self, Column};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};

#[async_trait]
impl<C: Conn> ConnectionLeaseRepository for Repo<C> {
    async fn acquire_connection(
        &self,
        account: AccountId,
        holder: &ConnectionHolder,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let taken = account_connections::Entity::insert(account_connections::ActiveModel {
            account_id: Set(account.as_uuid()),
            holder: Set(holder.as_str().to_owned()),
            expires_at: Set(until),
        })
        .on_conflict(
            OnConflict::column(Column::AccountId)
                .update_columns([Column::Holder, Column::ExpiresAt])
                .action_and_where(
                    Expr::col((account_connections::Entity, Column::ExpiresAt))
                        .lte(now)
                        .or(Expr::col((account_connections::Entity, Column::Holder)).eq(holder.as_str())),
                )
                .to_owned(),
        )
        .exec_without_returning(&self.0)
        .await
        .store()?;
        Ok(taken == 1)
    }

    async fn release_connection(&self, account: AccountId, holder: &ConnectionHolder) -> StoreResult<()> {
        account_connections::Entity::delete_many()
            .filter(Column::AccountId.eq(account.as_uuid()))
            .filter(Column::Holder.eq(holder.as_str()))
            .exec(&self.0)
            .await
            .store()?;
        Ok(())
    }

    async fn connection_lease(&self, account: AccountId) -> StoreResult<Option<ConnectionLease>> {
        Ok(account_connections::Entity::find_by_id(account.as_uuid())
            .one(&self.0)
            .await
            .store()?
            .map(|row| ConnectionLease {
                holder: row.holder,
                expires_at: row.expires_at,
            }))
    }
}
