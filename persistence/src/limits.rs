//! The rate counter every replica shares: the `rate_windows` table (migration `000030`).
//!
//! Rules:
//! - A check is one statement, atomic on both backends (PostgreSQL locks the conflicting row and evaluates
//!   the update on its newest version; SQLite has one writer): insert the key's row with a new window and a
//!   count of 1, or, on the row that exists, start a new window if its window expired, else add one to the
//!   count (stopping at the limit plus one), and return the count and window. So concurrent checks from any
//!   number of processes allow exactly the limit.
//! - The statement runs on the pool, outside any transaction: a check never holds a lock past its own
//!   statement (on SQLite it queues on the busy timeout like any writer).
//! - Each process deletes expired windows at most once a minute, in the background, started by a check;
//!   several processes doing so delete each row once between them.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait as _, DatabaseBackend, DatabaseConnection, Statement, Value};
use tgos_domain::limits::{Counted, RateCounter, RateKey, Window};
use tgos_domain::store::{StoreError, StoreResult};

use crate::errors::DbResultExt as _;
use crate::repo::SeaStore;

/// `$1` key, `$2` now, `$3` the end of a window starting now, `$4` the limit (all times Unix milliseconds).
const COUNT: &str = "INSERT INTO rate_windows (key, window_start, expires_at, count) VALUES ($1, $2, $3, 1) \
     ON CONFLICT (key) DO UPDATE SET \
     count = CASE WHEN rate_windows.expires_at <= $2 THEN 1 \
         WHEN rate_windows.count <= $4 THEN rate_windows.count + 1 ELSE rate_windows.count END, \
     window_start = CASE WHEN rate_windows.expires_at <= $2 THEN $2 ELSE rate_windows.window_start END, \
     expires_at = CASE WHEN rate_windows.expires_at <= $2 THEN $3 ELSE rate_windows.expires_at END \
     RETURNING count, window_start, expires_at";
const PRUNE: &str = "DELETE FROM rate_windows WHERE expires_at <= $1";
/// How often one process deletes expired windows, in milliseconds.
const PRUNE_EVERY_MS: i64 = 60_000;

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
    /// When (Unix milliseconds) this process last started deleting expired windows.
    pruned_at: Arc<AtomicI64>,
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
            pruned_at: Arc::new(AtomicI64::new(i64::MIN)),
        }
    }

    /// Starts one background deletion of expired windows when the last one is a minute old.
    fn prune_now_and_then(&self, now: DateTime<Utc>) {
        let now_ms = now.timestamp_millis();
        let last = self.pruned_at.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) < PRUNE_EVERY_MS
            || self
                .pruned_at
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
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
                tracing::warn!(%error, "deleting expired rate windows failed; tried again in a minute");
            }
        });
    }
}

#[async_trait]
impl RateCounter for SqlRateCounter {
    async fn count(&self, key: &RateKey, limit: u32, length: Duration, now: DateTime<Utc>) -> StoreResult<Counted> {
        self.prune_now_and_then(now);
        let backend = self.db.get_database_backend();
        let now_ms = now.timestamp_millis();
        let fresh = Window::at(None, now, length);
        let values: [Value; 4] = [
            key.as_str().into(),
            now_ms.into(),
            fresh.end_ms().into(),
            i64::from(limit).into(),
        ];
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(backend, &*self.count, values))
            .await
            .store()?
            .ok_or_else(|| StoreError::backend("counting in rate_windows returned no row"))?;
        let count: i32 = row.try_get("", "count").store()?;
        let start: i64 = row.try_get("", "window_start").store()?;
        let end: i64 = row.try_get("", "expires_at").store()?;
        let length = Duration::from_millis(u64::try_from(end.saturating_sub(start)).unwrap_or(0));
        Ok(Counted {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            window: Window::starting_at(start, length),
        })
    }

    async fn prune(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let backend = self.db.get_database_backend();
        let result = self
            .db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                &*self.prune,
                [now.timestamp_millis().into()],
            ))
            .await
            .store()?;
        Ok(result.rows_affected())
    }
}
