//! The rate counter every replica shares: the `rate_windows` table (migration `000030`).
//!
//! Rules:
//! - A check is one statement, atomic on both backends: insert the window's row with a count of 1, or add one
//!   to the row that exists while it holds fewer than the limit, and return the new count. No row returned
//!   means the window is full and nothing was counted. So concurrent checks from any number of processes
//!   allow exactly the limit.
//! - The statement runs on the pool, outside any transaction: a check never holds a lock past its own
//!   statement (on SQLite it queues on the busy timeout like any writer).
//! - Each process deletes ended windows at most once per window, in the background, started by the first
//!   check of a new window; several processes doing so delete each row once between them.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait as _, DatabaseBackend, DatabaseConnection, Statement, Value};
use tgos_domain::limits::{Counted, RateCounter, RateKey, Window};
use tgos_domain::store::StoreResult;

use crate::errors::DbResultExt as _;
use crate::repo::SeaStore;

const COUNT: &str = "INSERT INTO rate_windows (key, window_start, expires_at, count) VALUES ($1, $2, $3, 1) \
     ON CONFLICT (key, window_start) DO UPDATE SET count = rate_windows.count + 1 \
     WHERE rate_windows.count < $4 RETURNING count";
const PRUNE: &str = "DELETE FROM rate_windows WHERE expires_at <= $1";

/// The statement for `backend`: PostgreSQL numbers its parameters `$n`, SQLite `?n`.
fn numbered(backend: DatabaseBackend, sql: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    }
}

/// Counts in `rate_windows` on the server's pool.
#[derive(Debug, Clone)]
pub struct SqlRateCounter {
    db: DatabaseConnection,
    count: Arc<str>,
    prune: Arc<str>,
    /// The start of the newest window this process pruned for.
    pruned_for: Arc<AtomicI64>,
}

impl SqlRateCounter {
    /// A counter on the store's pool (its connections, its statement metric).
    pub fn new(store: &SeaStore) -> Self {
        let db = store.connection().clone();
        let backend = db.get_database_backend();
        Self {
            count: numbered(backend, COUNT).into(),
            prune: numbered(backend, PRUNE).into(),
            db,
            pruned_for: Arc::new(AtomicI64::new(i64::MIN)),
        }
    }

    /// Starts one background prune when `window` is newer than the last one pruned for.
    fn prune_once_per_window(&self, window: Window, now: DateTime<Utc>) {
        let last = self.pruned_for.load(Ordering::Relaxed);
        if window.start() <= last
            || self
                .pruned_for
                .compare_exchange(last, window.start(), Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let counter = self.clone();
        runtime.spawn(async move {
            if let Err(error) = counter.prune(now).await {
                tracing::warn!(%error, "deleting ended rate windows failed; the next window tries again");
            }
        });
    }
}

#[async_trait]
impl RateCounter for SqlRateCounter {
    async fn count(&self, key: &RateKey, window: Window, limit: u32, now: DateTime<Utc>) -> StoreResult<Counted> {
        self.prune_once_per_window(window, now);
        let backend = self.db.get_database_backend();
        let values: [Value; 4] = [
            key.as_str().into(),
            window.start().into(),
            window.end().into(),
            i64::from(limit).into(),
        ];
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(backend, &*self.count, values))
            .await
            .store()?;
        match row {
            Some(row) => {
                let count: i32 = row.try_get("", "count").store()?;
                Ok(Counted::Counted(u32::try_from(count).unwrap_or(limit)))
            }
            None => Ok(Counted::Full),
        }
    }

    async fn prune(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let backend = self.db.get_database_backend();
        let result = self
            .db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                &*self.prune,
                [now.timestamp().into()],
            ))
            .await
            .store()?;
        Ok(result.rows_affected())
    }
}
