//! The per-window limits the server enforces, all counting in one [`RateCounter`] chosen by `limits.store`:
//! this process's memory, or the database's `rate_windows` table that every replica shares.
//!
//! Rules (the counting itself is `tgos_domain::limits`'s):
//! - Request budgets (`http::request_budget`) fail open: when the counter cannot answer, the request runs, a
//!   warning is logged and `tgos_rate_limit_store_failures_total{limit}` counts it; a budget must not take
//!   the API down with the database's hiccup.
//! - The inbox's sends and read marks, the health actions and the sandbox's actions fail closed: the action
//!   is refused with an internal error. Each guards a write to the same database (which could not succeed
//!   anyway), and an account's sending is never left unbounded.

use std::sync::Arc;

use tgos_domain::clock::{Clock, SystemClock};
use tgos_domain::limits::{Limit, MemoryRateCounter, OnStoreFailure, RateCounter, RateLimiter, StoreFailures};
use tgos_persistence::{SeaStore, SqlRateCounter};

use crate::config::{LimitsStore, Settings};
use crate::http::metrics::Metrics;

/// What every limiter of the process is built from: the counter, the clock, and where failures are counted.
#[derive(Clone)]
pub struct RateLimits {
    counter: Arc<dyn RateCounter>,
    clock: Arc<dyn Clock>,
    failures: Option<StoreFailures>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

impl RateLimits {
    /// The counter `settings` choose, on `store`'s pool when it is the database; failures counted in `metrics`.
    pub fn configured(settings: &Settings, store: &SeaStore, metrics: &Metrics) -> Self {
        let store_kind = settings.limits_store();
        tracing::info!(store = %store_kind, "rate limits count in {store_kind}");
        let counter: Arc<dyn RateCounter> = match store_kind {
            LimitsStore::Memory => Arc::new(MemoryRateCounter::new()),
            LimitsStore::Database => Arc::new(SqlRateCounter::new(store)),
        };
        let failures = metrics.rate_limit_store_failures();
        Self {
            counter,
            clock: Arc::new(SystemClock),
            failures: Some(Arc::new(move |limit: &'static str| {
                failures.with_label_values(&[limit]).inc();
            })),
        }
    }

    /// Limits counted in this process alone, on the system clock (tools and unit tests).
    pub fn in_memory() -> Self {
        Self::over(Arc::new(MemoryRateCounter::new()), Arc::new(SystemClock))
    }

    /// Limits counted in `counter` on `clock`, failures only logged.
    pub fn over(counter: Arc<dyn RateCounter>, clock: Arc<dyn Clock>) -> Self {
        Self {
            counter,
            clock,
            failures: None,
        }
    }

    /// One limit over the shared counter.
    pub fn limiter(&self, limit: Limit, on_failure: OnStoreFailure) -> RateLimiter {
        let limiter = RateLimiter::new(limit, Arc::clone(&self.counter), Arc::clone(&self.clock), on_failure);
        match &self.failures {
            Some(failures) => limiter.with_failures(Arc::clone(failures)),
            None => limiter,
        }
    }
}
