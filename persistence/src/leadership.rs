//! Leader leases on SeaORM. Taking a name is a single upsert whose update only happens when the stored lease
//! lapsed or is already the taker's, so of two processes at most one holds a name, on SQLite (one writer) and
//! on PostgreSQL (the conflicting row is locked and the condition re-read). Every statement runs behind the
//! `leadership` sweep wall, the only one the table's row-level security lets through (migration `000029`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use tgos_domain::leadership::{LeaderLease, LeaderLeaseRepository};
use tgos_domain::store::StoreResult;

use crate::entities::leader_leases::{self, Column};
use crate::errors::DbResultExt as _;
use crate::repo::SeaStore;
use crate::wall::Wall;

/// The wall of every leader lease statement.
const LEADERSHIP: Wall<'static> = Wall::Sweep("leadership");

/// A renewal keeps when the holder took the lease; a take by another holder starts it again.
const ACQUIRED_AT: &str = "CASE WHEN leader_leases.holder = excluded.holder THEN leader_leases.acquired_at \
     ELSE excluded.acquired_at END";

#[async_trait]
impl LeaderLeaseRepository for SeaStore {
    async fn acquire_leadership(
        &self,
        name: &str,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let row = leader_leases::ActiveModel {
            name: Set(name.to_owned()),
            holder: Set(holder.to_owned()),
            lease_until: Set(until),
            acquired_at: Set(now),
        };
        self.behind(LEADERSHIP, async |db| {
            let taken = leader_leases::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(Column::Name)
                        .value(Column::AcquiredAt, Expr::cust(ACQUIRED_AT))
                        .update_columns([Column::Holder, Column::LeaseUntil])
                        .action_and_where(
                            Expr::col((leader_leases::Entity, Column::LeaseUntil))
                                .lte(now)
                                .or(Expr::col((leader_leases::Entity, Column::Holder)).eq(holder)),
                        )
                        .to_owned(),
                )
                .exec_without_returning(db.conn())
                .await
                .store()?;
            Ok(taken == 1)
        })
        .await
    }

    async fn release_leadership(&self, name: &str, holder: &str) -> StoreResult<bool> {
        self.behind(LEADERSHIP, async |db| {
            let deleted = leader_leases::Entity::delete_many()
                .filter(Column::Name.eq(name))
                .filter(Column::Holder.eq(holder))
                .exec(db.conn())
                .await
                .store()?;
            Ok(deleted.rows_affected == 1)
        })
        .await
    }

    async fn leader_lease(&self, name: &str) -> StoreResult<Option<LeaderLease>> {
        self.behind(LEADERSHIP, async |db| {
            Ok(leader_leases::Entity::find_by_id(name.to_owned())
                .one(db.conn())
                .await
                .store()?
                .map(|row| LeaderLease {
                    name: row.name,
                    holder: row.holder,
                    lease_until: row.lease_until,
                    acquired_at: row.acquired_at,
                }))
        })
        .await
    }
}
