//! Attempt throttles: one row per key, changed only by conditional single-statement updates, so that the
//! number of granted attempts never exceeds the threshold however many requests race.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait as _, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait as _, Condition, EntityTrait as _, QueryFilter as _};
use tgos_domain::identity::lockout::{Reservation, ThrottlePolicy};
use tgos_domain::identity::ports::ThrottleRepository;
use tgos_domain::store::StoreResult;

use crate::entities::auth_throttles::{self, Column};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};

fn chrono_duration(duration: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

fn threshold(policy: &ThrottlePolicy) -> i32 {
    i32::try_from(policy.threshold).unwrap_or(i32::MAX)
}

#[async_trait]
impl<C: Conn> ThrottleRepository for Repo<C> {
    async fn reserve_attempt(
        &self,
        key: &str,
        policy: &ThrottlePolicy,
        now: DateTime<Utc>,
    ) -> StoreResult<Reservation> {
        let row = auth_throttles::ActiveModel {
            key: Set(key.to_owned()),
            failures: Set(0),
            lock_count: Set(0),
            locked_until: Set(None),
            updated_at: Set(now),
        };
        auth_throttles::Entity::insert(row)
            .on_conflict(OnConflict::column(Column::Key).do_nothing().to_owned())
            .exec_without_returning(&self.0)
            .await
            .store()?;

        let window_start = now - chrono_duration(policy.window);
        let stale = Expr::col(Column::UpdatedAt).lt(window_start);
        let counted = CaseStatement::new()
            .case(stale.clone(), Expr::value(1))
            .finally(Expr::col(Column::Failures).add(1));
        let granted = auth_throttles::Entity::update_many()
            .col_expr(Column::Failures, counted.into())
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Key.eq(key))
            .filter(
                Condition::any()
                    .add(Column::LockedUntil.is_null())
                    .add(Column::LockedUntil.lte(now)),
            )
            .filter(Condition::any().add(Column::Failures.lt(threshold(policy))).add(stale))
            .exec(&self.0)
            .await
            .store()?
            .rows_affected
            == 1;
        if granted {
            return Ok(Reservation::Granted);
        }
        let row = auth_throttles::Entity::find_by_id(key.to_owned())
            .one(&self.0)
            .await
            .store()?;
        let locked_until = row.and_then(|row| row.locked_until).filter(|until| *until > now);
        Ok(Reservation::Denied { locked_until })
    }

    async fn lock_if_exhausted(&self, key: &str, policy: &ThrottlePolicy, now: DateTime<Utc>) -> StoreResult<()> {
        let Some(row) = auth_throttles::Entity::find_by_id(key.to_owned())
            .one(&self.0)
            .await
            .store()?
        else {
            return Ok(());
        };
        if row.failures < threshold(policy) {
            return Ok(());
        }
        let previous_locks = u32::try_from(row.lock_count).unwrap_or(0);
        let until = now + chrono_duration(policy.lock_duration(previous_locks));
        // Only the first failure to see the exhausted counter locks; the lock count guards against a double lock.
        auth_throttles::Entity::update_many()
            .col_expr(Column::LockedUntil, Expr::value(until))
            .col_expr(Column::LockCount, Expr::col(Column::LockCount).add(1))
            .col_expr(Column::Failures, Expr::value(0))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Key.eq(key))
            .filter(Column::Failures.gte(threshold(policy)))
            .filter(Column::LockCount.eq(row.lock_count))
            .exec(&self.0)
            .await
            .store()?;
        Ok(())
    }

    async fn release_attempt(&self, key: &str, forget: bool) -> StoreResult<()> {
        let update = auth_throttles::Entity::update_many().filter(Column::Key.eq(key));
        let update = if forget {
            update
                .col_expr(Column::Failures, Expr::value(0))
                .col_expr(Column::LockCount, Expr::value(0))
                .col_expr(Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        } else {
            let decremented = CaseStatement::new()
                .case(Expr::col(Column::Failures).gt(0), Expr::col(Column::Failures).sub(1))
                .finally(Expr::value(0));
            update.col_expr(Column::Failures, decremented.into())
        };
        update.exec(&self.0).await.store()?;
        Ok(())
    }
}
