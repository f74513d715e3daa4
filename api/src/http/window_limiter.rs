//! Per-minute limits counted in this process, per key of some kind: the request budgets of keys, users and
//! addresses (`http::request_budget`), and the per-account and per-dialog budgets of the inbox, health actions
//! and the sandbox.
//!
//! A fixed one-minute window per key; memory stays bounded because windows older than a minute are dropped
//! whenever the table grows past [`PRUNE_ABOVE`] keys. With several replicas each counts its own share.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
const PRUNE_ABOVE: usize = 10_000;

/// At most `per_minute` events per key per minute.
#[derive(Debug)]
pub struct WindowLimiter<K> {
    per_minute: u32,
    windows: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Hash + Eq> WindowLimiter<K> {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event; `Err(seconds)` to wait when the key is over its limit.
    pub fn check(&self, key: K) -> Result<(), u64> {
        let taken = self.take(key);
        if taken.allowed { Ok(()) } else { Err(taken.reset_secs) }
    }

    /// Counts one event unless the key is over its limit, and says where its window stands.
    pub fn take(&self, key: K) -> Taken {
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else {
            return Taken {
                allowed: true,
                limit: self.per_minute,
                remaining: self.per_minute,
                reset_secs: WINDOW.as_secs(),
            };
        };
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let (start, count) = windows.entry(key).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        let allowed = *count < self.per_minute;
        if allowed {
            *count += 1;
        }
        Taken {
            allowed,
            limit: self.per_minute,
            remaining: self.per_minute.saturating_sub(*count),
            reset_secs: WINDOW.saturating_sub(now.duration_since(*start)).as_secs().max(1),
        }
    }
}

/// Where a key's window stands after one [`WindowLimiter::take`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// Whether the event was counted (the key was within its limit).
    pub allowed: bool,
    /// Events allowed per window.
    pub limit: u32,
    /// Events left in the current window.
    pub remaining: u32,
    /// Seconds until the window starts afresh (at least 1).
    pub reset_secs: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tgos_domain::ids::ApiKeyId;

    #[test]
    fn allows_the_limit_then_refuses_with_a_wait() {
        let limiter = WindowLimiter::<ApiKeyId>::new(3);
        let key = ApiKeyId::generate();
        assert!((0..3).all(|_| limiter.check(key).is_ok()));
        let wait = limiter.check(key).err().unwrap_or(0);
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(limiter.check(ApiKeyId::generate()).is_ok(), "keys are counted apart");
    }

    #[test]
    fn taking_says_what_remains_and_when_the_window_resets() {
        let limiter = WindowLimiter::new(2);
        let first = limiter.take("a");
        assert!(first.allowed);
        assert_eq!((first.limit, first.remaining), (2, 1));
        assert!((1..=60).contains(&first.reset_secs));
        assert_eq!(limiter.take("a").remaining, 0);
        let refused = limiter.take("a");
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
    }
}
