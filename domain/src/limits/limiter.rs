//! One named limit over a counter: "at most N events per subject per window", answered with what the
//! `RateLimit-*` headers need.

use std::sync::Arc;
use std::time::Duration;

use super::ports::{RateCounter, RateKey};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};

/// What a limit allows: `per_window` events per subject in each window of `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The limit's name: the first part of its keys, and its label in logs and metrics (`api_key`, `user`, …).
    pub name: &'static str,
    pub per_window: u32,
    pub window: Duration,
}

impl Limit {
    /// `per_minute` events per subject per one-minute window.
    pub const fn per_minute(name: &'static str, per_minute: u32) -> Self {
        Self {
            name,
            per_window: per_minute,
            window: Duration::from_secs(60),
        }
    }
}

/// What a check does when the counter cannot answer (the database is unreachable, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStoreFailure {
    /// Allow the event, as if nothing were counted, with a warning in the log and a count in
    /// [`StoreFailures`]: for request budgets, which must not take the API down with them.
    Open,
    /// Refuse the event with the store's error (an internal error to the caller): for limits guarding a
    /// write to the same database, which could not succeed anyway.
    Closed,
}

/// Told each time a check found its counter failing (the server counts them in a metric, by limit name).
pub type StoreFailures = Arc<dyn Fn(&'static str) + Send + Sync>;

/// Where a subject's window stands after one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// Whether the event was counted (the subject was within its limit).
    pub allowed: bool,
    /// Events allowed per window.
    pub limit: u32,
    /// Events left in the current window.
    pub remaining: u32,
    /// Seconds until the window starts afresh (at least 1).
    pub reset_secs: u64,
}

/// One limit, counted in a [`RateCounter`] shared by every limit of the process (and, for the database
/// counter, by every replica).
#[derive(Clone)]
pub struct RateLimiter {
    limit: Limit,
    counter: Arc<dyn RateCounter>,
    clock: Arc<dyn Clock>,
    on_failure: OnStoreFailure,
    failures: Option<StoreFailures>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limit", &self.limit)
            .field("counter", &self.counter)
            .field("on_failure", &self.on_failure)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    pub fn new(limit: Limit, counter: Arc<dyn RateCounter>, clock: Arc<dyn Clock>, on_failure: OnStoreFailure) -> Self {
        Self {
            limit,
            counter,
            clock,
            on_failure,
            failures: None,
        }
    }

    /// Tells `failures` about every check whose counter failed.
    pub fn with_failures(mut self, failures: StoreFailures) -> Self {
        self.failures = Some(failures);
        self
    }

    pub fn limit(&self) -> Limit {
        self.limit
    }

    /// Counts one event of `subject` unless it is over its limit, and says where its window stands; `Err`
    /// only when the counter failed and the limit is [`OnStoreFailure::Closed`].
    pub async fn take(&self, subject: &str) -> DomainResult<Taken> {
        let now = self.clock.now();
        let per_window = self.limit.per_window;
        let whole_window = self.limit.window.as_secs().max(1);
        if per_window == 0 {
            return Ok(Taken {
                allowed: false,
                limit: 0,
                remaining: 0,
                reset_secs: whole_window,
            });
        }
        let key = RateKey::of(self.limit.name, subject);
        match self.counter.count(&key, per_window, self.limit.window, now).await {
            Ok(counted) => Ok(Taken {
                allowed: counted.allowed(per_window),
                limit: per_window,
                remaining: per_window.saturating_sub(counted.count),
                reset_secs: counted.window.reset_secs(now),
            }),
            Err(error) => {
                if let Some(failures) = &self.failures {
                    failures(self.limit.name);
                }
                match self.on_failure {
                    OnStoreFailure::Open => {
                        tracing::warn!(limit = self.limit.name, %error, "rate counter failed; allowing the event");
                        Ok(Taken {
                            allowed: true,
                            limit: per_window,
                            remaining: per_window,
                            reset_secs: whole_window,
                        })
                    }
                    OnStoreFailure::Closed => {
                        tracing::error!(limit = self.limit.name, %error, "rate counter failed; refusing the event");
                        Err(error.into())
                    }
                }
            }
        }
    }

    /// Counts one event of `subject`, or refuses with `RATE_LIMITED` and the wait when it is over its limit.
    pub async fn admit(&self, subject: &str) -> DomainResult<()> {
        let taken = self.take(subject).await?;
        if taken.allowed {
            Ok(())
        } else {
            Err(DomainError::RateLimited {
                retry_after_secs: taken.reset_secs,
            })
        }
    }
}
