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
//! - Bounded: at most `capacity` entries; a full cache drops its expired entries, and if none had expired,
//!   all of them. A time to live of zero turns it off.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::access::AccessSignals;

/// The most entries one cache keeps: a session entry (the session and its user) is under a kilobyte, so the
/// session cache stays under ~10 MiB.
const DEFAULT_CAPACITY: usize = 10_000;

struct Entry<V> {
    value: V,
    epoch: u64,
    stored: Instant,
}

/// Values keyed by `K`, each valid for `ttl` and until the next access change. Cheap to clone (shared).
pub struct AccessCache<K, V> {
    signals: AccessSignals,
    ttl: Duration,
    capacity: usize,
    entries: Arc<Mutex<HashMap<K, Entry<V>>>>,
}

impl<K, V> Clone for AccessCache<K, V> {
    fn clone(&self) -> Self {
        Self {
            signals: self.signals.clone(),
            ttl: self.ttl,
            capacity: self.capacity,
            entries: Arc::clone(&self.entries),
        }
    }
}

impl<K, V> std::fmt::Debug for AccessCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessCache")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq, V: Clone> AccessCache<K, V> {
    /// A cache invalidated by `signals`, keeping entries for `ttl` (zero: keeps nothing).
    pub fn new(signals: AccessSignals, ttl: Duration) -> Self {
        Self::with_capacity(signals, ttl, DEFAULT_CAPACITY)
    }

    pub fn with_capacity(signals: AccessSignals, ttl: Duration, capacity: usize) -> Self {
        Self {
            signals,
            ttl,
            capacity: capacity.max(1),
            entries: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Entry<V>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
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
        let entries = self.lock();
        let entry = entries.get(key)?;
        (entry.epoch == epoch && entry.stored.elapsed() < self.ttl).then(|| entry.value.clone())
    }

    /// Stores `value`, read under `epoch`; dropped when an access change was signalled since.
    pub fn put(&self, key: K, value: V, epoch: u64) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if self.signals.epoch() != epoch {
            return;
        }
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            let ttl = self.ttl;
            entries.retain(|_, entry| entry.epoch == epoch && entry.stored.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                value,
                epoch,
                stored: Instant::now(),
            },
        );
    }

    /// Replaces the value of a still-held `key`, served under `epoch`, without making it younger (its owner
    /// updated what it describes). An entry stored since under a newer epoch is left alone: the value in
    /// hand may predate the change that made it.
    pub fn refresh(&self, key: &K, value: V, epoch: u64) {
        if let Some(entry) = self.lock().get_mut(key) {
            if entry.epoch == epoch {
                entry.value = value;
            }
        }
    }

    /// Forgets `key` (its owner saw it become invalid).
    pub fn forget(&self, key: &K) {
        self.lock().remove(key);
    }

    /// How many entries are held, valid or not.
    pub fn len(&self) -> usize {
        self.lock().len()
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
