//! What a rate limit needs from the place it counts in: one atomic "count unless full" per check.
//!
//! Rules for implementations (in memory, SQLite and PostgreSQL alike):
//! - [`RateCounter::count`] is atomic per `(key, window)`: of any number of concurrent calls with the same
//!   key, window and limit, from any number of processes sharing the counter, exactly `limit` answer
//!   [`Counted::Counted`] and the rest [`Counted::Full`]; a `Full` answer counts nothing.
//! - Counts of different keys or different windows never affect each other.
//! - [`RateCounter::prune`] deletes only windows that ended; an implementation may also prune on its own.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use super::window::Window;
use crate::store::StoreResult;

/// What a limit counts under: the limit's name and a hash of its subject (an id, an address), e.g.
/// `api_key:3f9a…` (32 hex digits). Fixed length, no secret, no address in clear.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey(String);

impl RateKey {
    /// The key of `subject` under the limit named `limit`.
    pub fn of(limit: &str, subject: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(limit.as_bytes());
        hasher.update([0]);
        hasher.update(subject.as_bytes());
        let digest = hasher.finalize();
        Self(format!("{limit}:{}", hex::encode(&digest[..16])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What one check came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// The event was counted; this many are now counted in the window (1 to the limit).
    Counted(u32),
    /// The window already held the limit; nothing was counted.
    Full,
}

/// Where events are counted: this process's memory, or a table every replica shares.
#[async_trait]
pub trait RateCounter: Send + Sync + std::fmt::Debug {
    /// Counts one event for `key` in `window` unless `limit` are already counted there. `now` is the
    /// checker's clock, for pruning.
    async fn count(&self, key: &RateKey, window: Window, limit: u32, now: DateTime<Utc>) -> StoreResult<Counted>;

    /// Deletes the windows that ended at or before `now`; answers how many.
    async fn prune(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}
