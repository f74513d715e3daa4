//! Request limits for API keys: at most `per_minute` requests per key per minute, counted in this process.
//!
//! A fixed one-minute window per key; memory stays bounded because windows older than a minute are dropped
//! whenever the table grows past [`PRUNE_ABOVE`] keys. With several replicas each counts its own share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tgos_domain::ids::ApiKeyId;

const WINDOW: Duration = Duration::from_secs(60);
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug)]
pub struct KeyLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<ApiKeyId, (Instant, u32)>>,
}

impl KeyLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request; `Err(seconds)` to wait when the key is over its limit.
    pub fn check(&self, key: ApiKeyId) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else {
            return Ok(());
        };
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let (start, count) = windows.entry(key).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        if *count >= self.per_minute {
            let wait = WINDOW.saturating_sub(now.duration_since(*start)).as_secs().max(1);
            return Err(wait);
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_refuses_with_a_wait() {
        let limiter = KeyLimiter::new(3);
        let key = ApiKeyId::generate();
        assert!((0..3).all(|_| limiter.check(key).is_ok()));
        let wait = limiter.check(key).err().unwrap_or(0);
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(limiter.check(ApiKeyId::generate()).is_ok(), "keys are counted apart");
    }
}
