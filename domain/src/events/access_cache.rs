//! A short memory of what resolving a caller read (a session token's session and user, a member's role), so
//! back-to-back requests of one caller do not each pay the database for the same rows.
//!
//! Rules:
//! - An entry is served only while it is younger than the time to live, and only while no access change
//!   has been signalled since the read that produced it began ([`AccessSignals::epoch`]). A revocation,
//!   removal or role change made in this process therefore takes effect at once; one made by another
//!   process against the same database takes effect within the time to live.
//! - A reader presents the epoch it started under when it stores: a value read before a change and stored
//!   after it is dropped, so a slow read can never bring back what a revocation took away.
//! - What the entry describes is still checked on every hit by its owner (a session's expiry and revocation
//!   time against the domain clock): the cache saves reads, it does not decide.
//! - Bounded: at most `capacity` entries, the least recently used leaving first; each entry expires on its
//!   own time to live (moka's per-entry expiry), and a refresh keeps the entry's age. A time to live of zero
//!   turns it off. The epoch check sits on top of moka's cache: moka bounds and expires, the epoch decides.

use std::hash::Hash;
use std::time::{Duration, Instant};

use moka::policy::{EvictionPolicy, Expiry};
use moka::sync::Cache;

use super::access::AccessSignals;

/// The most entries one cache keeps: a session entry (the session and its user) is under a kilobyte, so the
/// session cache stays under ~10 MiB.
const DEFAULT_CAPACITY: u64 = 10_000;

#[derive(Clone)]
struct Entry<V> {
    value: V,
    epoch: u64,
    /// A fresh read (its time to live starts now), or a refresh of an older one (its age is kept).
    fresh: bool,
}

/// Each entry lives `ttl` from its read; a refresh does not make it younger.
struct FromRead {
    ttl: Duration,
}

impl<K, V> Expiry<K, Entry<V>> for FromRead {
    fn expire_after_create(&self, _key: &K, _value: &Entry<V>, _created_at: Instant) -> Option<Duration> {
        Some(self.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &K,
        value: &Entry<V>,
        _updated_at: Instant,
        duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        if value.fresh {
            Some(self.ttl)
        } else {
            duration_until_expiry
        }
    }
}

/// Values keyed by `K`, each valid for `ttl` and until the next access change. Cheap to clone (shared).
pub struct AccessCache<K, V> {
    signals: AccessSignals,
    ttl: Duration,
    entries: Cache<K, Entry<V>>,
}

impl<K, V> Clone for AccessCache<K, V> {
    fn clone(&self) -> Self {
        Self {
            signals: self.signals.clone(),
            ttl: self.ttl,
            entries: self.entries.clone(),
        }
    }
}

impl<K, V> std::fmt::Debug for AccessCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessCache")
            .field("ttl", &self.ttl)
            .field("capacity", &self.entries.policy().max_capacity())
            .finish_non_exhaustive()
    }
}

impl<K, V> AccessCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A cache invalidated by `signals`, keeping entries for `ttl` (zero: keeps nothing).
    pub fn new(signals: AccessSignals, ttl: Duration) -> Self {
        Self::with_capacity(signals, ttl, DEFAULT_CAPACITY)
    }

    pub fn with_capacity(signals: AccessSignals, ttl: Duration, capacity: u64) -> Self {
        Self {
            signals,
            ttl,
            entries: Cache::builder()
                .max_capacity(capacity.max(1))
                .eviction_policy(EvictionPolicy::lru())
                .expire_after(FromRead { ttl })
                .build(),
        }
    }

    /// How long an entry is served.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The epoch to present to [`AccessCache::put`]: read it before reading what will be stored.
    pub fn epoch(&self) -> u64 {
        self.signals.epoch()
    }

    /// The value stored for `key`, when it is still valid.
    pub fn get(&self, key: &K) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let epoch = self.signals.epoch();
        self.entries
            .get(key)
            .filter(|entry| entry.epoch == epoch)
            .map(|entry| entry.value)
    }

    /// Stores `value`, read under `epoch`; dropped when an access change was signalled since.
    pub fn put(&self, key: K, value: V, epoch: u64) {
        if self.ttl.is_zero() || self.signals.epoch() != epoch {
            return;
        }
        self.entries.insert(
            key,
            Entry {
                value,
                epoch,
                fresh: true,
            },
        );
    }

    /// Replaces the value of a still-held `key`, served under `epoch`, without making it younger (its owner
    /// updated what it describes). An entry stored since under a newer epoch is left alone: the value in
    /// hand may predate the change that made it.
    pub fn refresh(&self, key: &K, value: V, epoch: u64)
    where
        K: Clone,
    {
        self.entries.entry(key.clone()).and_compute_with(|held| match held {
            Some(held) if held.value().epoch == epoch => moka::ops::compute::Op::Put(Entry {
                value,
                epoch,
                fresh: false,
            }),
            _ => moka::ops::compute::Op::Nop,
        });
    }

    /// Forgets `key` (its owner saw it become invalid).
    pub fn forget(&self, key: &K) {
        self.entries.invalidate(key);
    }

    /// How many entries are held, valid or not (after the cache's pending evictions).
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::AccessChange;
    use crate::ids::UserId;

    fn cache(ttl: Duration) -> (AccessSignals, AccessCache<u32, &'static str>) {
        let signals = AccessSignals::new();
        (signals.clone(), AccessCache::new(signals, ttl))
    }

    #[test]
    fn a_stored_value_is_served_until_an_access_change_is_signalled() {
        let (signals, cache) = cache(Duration::from_secs(60));
        cache.put(1, "owner", cache.epoch());
        assert_eq!(cache.get(&1), Some("owner"));
        signals.changed(AccessChange::User(UserId::generate()));
        assert_eq!(cache.get(&1), None);
    }

    #[test]
    fn a_value_read_before_a_change_and_stored_after_it_is_dropped() {
        let (signals, cache) = cache(Duration::from_secs(60));
        let read_under = cache.epoch();
        signals.changed(AccessChange::User(UserId::generate()));
        cache.put(1, "stale", read_under);
        assert_eq!(cache.get(&1), None);
        assert!(cache.is_empty());
        cache.put(1, "fresh", cache.epoch());
        assert_eq!(cache.get(&1), Some("fresh"));
    }

    #[test]
    fn an_entry_older_than_the_time_to_live_is_not_served() {
        let (_signals, cache) = cache(Duration::from_millis(30));
        cache.put(1, "owner", cache.epoch());
        assert_eq!(cache.get(&1), Some("owner"));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&1), None);
    }

    #[test]
    fn a_zero_time_to_live_keeps_nothing() {
        let (_signals, cache) = cache(Duration::ZERO);
        cache.put(1, "owner", cache.epoch());
        assert_eq!(cache.get(&1), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_full_cache_stays_within_its_capacity() {
        let signals = AccessSignals::new();
        let cache = AccessCache::with_capacity(signals, Duration::from_secs(60), 3);
        for key in 0..10_u32 {
            cache.put(key, "member", cache.epoch());
            assert!(cache.len() <= 3, "{} entries", cache.len());
            assert_eq!(cache.get(&key), Some("member"), "the newest is kept");
        }
    }

    #[test]
    fn a_refresh_with_a_value_from_before_a_change_leaves_the_newer_entry() {
        let (signals, cache) = cache(Duration::from_secs(60));
        let old = cache.epoch();
        cache.put(1, "owner", old);
        signals.changed(AccessChange::User(UserId::generate()));
        let new = cache.epoch();
        cache.put(1, "admin", new);
        cache.refresh(&1, "owner, touched", old);
        assert_eq!(cache.get(&1), Some("admin"));
        cache.refresh(&1, "admin, touched", new);
        assert_eq!(cache.get(&1), Some("admin, touched"));
    }

    #[test]
    fn a_forgotten_key_is_read_again() {
        let (_signals, cache) = cache(Duration::from_secs(60));
        cache.put(1, "owner", cache.epoch());
        cache.forget(&1);
        assert_eq!(cache.get(&1), None);
    }
}
