//! What a rate limit needs from the place it counts in: one atomic step per check.
//!
//! Rules for implementations (in memory, SQLite and PostgreSQL alike):
//! - [`RateCounter::count`] is one atomic step per key: start a new window at `now` if the key has none
//!   that lasts past `now` (count 1), else add one to its window's count; answer the count and the window.
//!   Of any number of concurrent calls with the same key and limit, from any number of processes sharing
//!   the counter, exactly `limit` answer a count of at most `limit`.
//! - The count stops at `limit + 1` (refused events beyond it change nothing), so a flood cannot overflow it.
//! - Counts of different keys never affect each other.
//! - [`RateCounter::prune`] deletes only windows that ended; an implementation may also prune on its own.

use std::time::Duration;

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

/// What one check came to: the key's window and its count with this event (more than the limit: refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub count: u32,
    pub window: Window,
}

impl Counted {
    /// Whether the event was within `limit`.
    pub fn allowed(&self, limit: u32) -> bool {
        self.count <= limit
    }
}

/// Where events are counted: this process's memory, or a table every replica shares.
#[async_trait]
pub trait RateCounter: Send + Sync + std::fmt::Debug {
    /// Counts one event of `key` at `now` in its window of `length` (see the rules above).
    async fn count(&self, key: &RateKey, limit: u32, length: Duration, now: DateTime<Utc>) -> StoreResult<Counted>;

    /// Deletes the windows that ended at or before `now`; answers how many.
    async fn prune(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}
