//! Account health and engagement counters. They belong to the account (not to a workspace) and follow it
//! from lease to lease; use cases decide who may read them. Health is saved with compare-and-swap on its
//! version; counters are only added to, in one upsert per day, with peers recorded once per day. Reads name any
//! number of accounts at a fixed cost: one statement for health, two for counters. On PostgreSQL each goes
//! through the wall of the `CounterHolder` it names (migration `000012`): a workspace sees the health of the
//! accounts it may see and only its own counters; the platform's recording declares its own sweep.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use tgos_domain::accounts::health::{
    AccountHealth, CounterHolder, DailyCounters, DayCounts, HealthRepository, SaveOutcome, StoredHealth,
};
use tgos_domain::ids::AccountId;
use tgos_domain::store::{StoreError, StoreResult};

use crate::entities::{account_counter_peers, account_counters, account_health};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

/// The stored holder of counters: the workspace's id, or the nil id for the pool's own.
fn holder_uuid(holder: CounterHolder) -> uuid::Uuid {
    match holder {
        CounterHolder::Pool => uuid::Uuid::nil(),
        CounterHolder::Workspace(workspace) => workspace.as_uuid(),
    }
}

/// The wall a health read or write goes through: the holding workspace's, or the platform's recording.
fn wall_of(holder: CounterHolder) -> Wall<'static> {
    match holder {
        CounterHolder::Pool => Wall::Sweep("account_health"),
        CounterHolder::Workspace(workspace) => Wall::Workspace(workspace),
    }
}

fn stored(row: account_health::Model) -> StoreResult<StoredHealth> {
    Ok(StoredHealth {
        health: serde_json::from_str(&row.health)
            .map_err(|_| StoreError::backend("a stored account health does not parse"))?,
        version: u64::try_from(row.version).map_err(|_| StoreError::backend("a negative health version"))?,
    })
}

fn version(number: u64) -> StoreResult<i64> {
    i64::try_from(number).map_err(|_| StoreError::backend("a health version beyond i64"))
}

#[async_trait]
impl<C: Conn> HealthRepository for Repo<C> {
    async fn load(&self, holder: CounterHolder, account: AccountId) -> StoreResult<Option<StoredHealth>> {
        self.behind(wall_of(holder), async |db| {
            let row = account_health::Entity::find_by_id(account.as_uuid())
                .one(db.conn())
                .await
                .store()?;
            row.map(stored).transpose()
        })
        .await
    }

    async fn load_many(
        &self,
        holder: CounterHolder,
        accounts: &[AccountId],
    ) -> StoreResult<HashMap<AccountId, StoredHealth>> {
        if accounts.is_empty() {
            return Ok(HashMap::new());
        }
        self.behind(wall_of(holder), async |db| {
            let rows = account_health::Entity::find()
                .filter(account_health::Column::AccountId.is_in(accounts.iter().map(|a| a.as_uuid())))
                .all(db.conn())
                .await
                .store()?;
            rows.into_iter()
                .map(|row| Ok((AccountId::from_uuid(row.account_id), stored(row)?)))
                .collect()
        })
        .await
    }

    async fn save(
        &self,
        holder: CounterHolder,
        account: AccountId,
        health: &AccountHealth,
        expected_version: Option<u64>,
    ) -> StoreResult<SaveOutcome> {
        let text = serde_json::to_string(health).map_err(StoreError::backend)?;
        let as_of = health.last_observed_at().unwrap_or_default();
        let state = health.effective_state(as_of).as_str().to_owned();
        let now = chrono::Utc::now();
        self.behind(wall_of(holder), async |db| {
            let (rows, saved) = match expected_version {
                None => {
                    let rows = account_health::Entity::insert(account_health::ActiveModel {
                        account_id: Set(account.as_uuid()),
                        version: Set(1),
                        state: Set(state),
                        health: Set(text),
                        updated_at: Set(now),
                    })
                    .on_conflict(
                        OnConflict::column(account_health::Column::AccountId)
                            .do_nothing()
                            .to_owned(),
                    )
                    .exec_without_returning(db.conn())
                    .await
                    .store()?;
                    (rows, 1)
                }
                Some(expected) => {
                    let next = expected + 1;
                    let result = account_health::Entity::update_many()
                        .col_expr(account_health::Column::Version, Expr::value(version(next)?))
                        .col_expr(account_health::Column::State, Expr::value(state))
                        .col_expr(account_health::Column::Health, Expr::value(text))
                        .col_expr(account_health::Column::UpdatedAt, Expr::value(now))
                        .filter(account_health::Column::AccountId.eq(account.as_uuid()))
                        .filter(account_health::Column::Version.eq(version(expected)?))
                        .exec(db.conn())
                        .await
                        .store()?;
                    (result.rows_affected, next)
                }
            };
            Ok(if rows == 1 {
                SaveOutcome::Saved { version: saved }
            } else {
                SaveOutcome::VersionConflict
            })
        })
        .await
    }

    async fn bump_counters(&self, account: AccountId, holder: CounterHolder, delta: &DailyCounters) -> StoreResult<()> {
        let wall = wall_of(holder);
        let holder = holder_uuid(holder);
        let add = |column: &str| Expr::cust(format!("account_counters.{column} + excluded.{column}"));
        self.behind(wall, async |db| {
            account_counters::Entity::insert(account_counters::ActiveModel {
                account_id: Set(account.as_uuid()),
                holder: Set(holder),
                day: Set(delta.day()),
                sent: Set(delta.sent()),
                received: Set(delta.received()),
                replies: Set(delta.replies()),
            })
            .on_conflict(
                OnConflict::columns([
                    account_counters::Column::AccountId,
                    account_counters::Column::Holder,
                    account_counters::Column::Day,
                ])
                .value(account_counters::Column::Sent, add("sent"))
                .value(account_counters::Column::Received, add("received"))
                .value(account_counters::Column::Replies, add("replies"))
                .to_owned(),
            )
            .exec_without_returning(db.conn())
            .await
            .store()?;
            let peers: Vec<_> = delta
                .peers()
                .map(|peer| account_counter_peers::ActiveModel {
                    account_id: Set(account.as_uuid()),
                    holder: Set(holder),
                    day: Set(delta.day()),
                    peer: Set(peer.get()),
                })
                .collect();
            if !peers.is_empty() {
                account_counter_peers::Entity::insert_many(peers)
                    .on_conflict(
                        OnConflict::columns([
                            account_counter_peers::Column::AccountId,
                            account_counter_peers::Column::Holder,
                            account_counter_peers::Column::Day,
                            account_counter_peers::Column::Peer,
                        ])
                        .do_nothing()
                        .to_owned(),
                    )
                    .exec_without_returning(db.conn())
                    .await
                    .store()?;
            }
            Ok(())
        })
        .await
    }

    async fn counters_since(
        &self,
        accounts: &[AccountId],
        holder: CounterHolder,
        since: NaiveDate,
    ) -> StoreResult<HashMap<AccountId, Vec<DayCounts>>> {
        if accounts.is_empty() {
            return Ok(HashMap::new());
        }
        let wall = wall_of(holder);
        let holder = holder_uuid(holder);
        let ids = || accounts.iter().map(|a| a.as_uuid());
        self.behind(wall, async |db| {
            // Two statements whatever the number of accounts and days: the counters, then the distinct peers of
            // each (account, day).
            let rows = account_counters::Entity::find()
                .filter(account_counters::Column::AccountId.is_in(ids()))
                .filter(account_counters::Column::Holder.eq(holder))
                .filter(account_counters::Column::Day.gte(since))
                .order_by_asc(account_counters::Column::Day)
                .all(db.conn())
                .await
                .store()?;
            if rows.is_empty() {
                return Ok(HashMap::new());
            }
            let peers: HashMap<(uuid::Uuid, NaiveDate), i64> = account_counter_peers::Entity::find()
                .select_only()
                .column(account_counter_peers::Column::AccountId)
                .column(account_counter_peers::Column::Day)
                .column_as(Expr::col(account_counter_peers::Column::Peer).count(), "peers")
                .filter(account_counter_peers::Column::AccountId.is_in(ids()))
                .filter(account_counter_peers::Column::Holder.eq(holder))
                .filter(account_counter_peers::Column::Day.gte(since))
                .group_by(account_counter_peers::Column::AccountId)
                .group_by(account_counter_peers::Column::Day)
                .into_tuple::<(uuid::Uuid, NaiveDate, i64)>()
                .all(db.conn())
                .await
                .store()?
                .into_iter()
                .map(|(account, day, peers)| ((account, day), peers))
                .collect();
            let mut days: HashMap<AccountId, Vec<DayCounts>> = HashMap::new();
            for row in rows {
                days.entry(AccountId::from_uuid(row.account_id))
                    .or_default()
                    .push(DayCounts {
                        day: row.day,
                        sent: row.sent,
                        received: row.received,
                        replies: row.replies,
                        distinct_peers: peers.get(&(row.account_id, row.day)).copied().unwrap_or(0),
                    });
            }
            Ok(days)
        })
        .await
    }
}
