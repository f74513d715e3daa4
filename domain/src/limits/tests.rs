//! The limits' rules over the in-memory counter, with a clock the tests move.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone as _, Utc};

use super::*;
use crate::clock::Clock;
use crate::error::DomainError;
use crate::store::{StoreError, StoreResult};

#[derive(Debug)]
struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    fn at(secs: i64) -> Arc<Self> {
        Arc::new(Self(Mutex::new(
            Utc.timestamp_opt(secs, 0).single().unwrap_or_default(),
        )))
    }

    fn set(&self, secs: i64, millis: u32) {
        if let Ok(mut now) = self.0.lock() {
            *now = Utc.timestamp_opt(secs, millis * 1_000_000).single().unwrap_or_default();
        }
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|now| *now).unwrap_or_default()
    }
}

/// A counter whose store is down.
#[derive(Debug)]
struct Unreachable;

#[async_trait]
impl RateCounter for Unreachable {
    async fn count(&self, _: &RateKey, _: u32, _: Duration, _: DateTime<Utc>) -> StoreResult<Counted> {
        Err(StoreError::backend("connection refused"))
    }

    async fn prune(&self, _: DateTime<Utc>) -> StoreResult<u64> {
        Err(StoreError::backend("connection refused"))
    }
}

fn limiter(per_minute: u32, clock: Arc<TestClock>, counter: Arc<dyn RateCounter>) -> RateLimiter {
    RateLimiter::new(
        Limit::per_minute("test", per_minute),
        counter,
        clock,
        OnStoreFailure::Closed,
    )
}

#[tokio::test]
async fn a_subject_gets_its_limit_per_window_then_waits_for_the_next() -> Result<(), DomainError> {
    let base = 1_800_000_010;
    let clock = TestClock::at(base);
    let limits = limiter(3, clock.clone(), Arc::new(MemoryRateCounter::new()));
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let taken = limits.take("a").await?;
        assert!(taken.allowed);
        assert_eq!(taken.reset_secs, 60, "the window started with the first event");
        remaining.push(taken.remaining);
    }
    assert_eq!(remaining, [2, 1, 0]);
    clock.set(base + 45, 500);
    let refused = limits.take("a").await?;
    assert_eq!(
        refused,
        Taken {
            allowed: false,
            limit: 3,
            remaining: 0,
            reset_secs: 15
        }
    );
    assert!(matches!(
        limits.admit("a").await,
        Err(DomainError::RateLimited { retry_after_secs: 15 })
    ));
    let other = limits.take("b").await?;
    assert!(other.allowed, "subjects are counted apart");
    assert_eq!(other.reset_secs, 60, "b's window starts with b's first event");
    clock.set(base + 60, 0);
    let next = limits.take("a").await?;
    assert!(next.allowed, "a new window starts afresh");
    assert_eq!((next.remaining, next.reset_secs), (2, 60));
    // b's window started at +45.5 s and runs to +105.5 s: two more, then the wait is b's own.
    clock.set(base + 100, 0);
    assert!(limits.take("b").await?.allowed);
    assert!(limits.take("b").await?.allowed);
    let b_refused = limits.take("b").await?;
    assert_eq!((b_refused.allowed, b_refused.reset_secs), (false, 6));
    Ok(())
}

#[tokio::test]
async fn limits_sharing_a_counter_count_apart() -> Result<(), DomainError> {
    let clock = TestClock::at(600);
    let counter: Arc<dyn RateCounter> = Arc::new(MemoryRateCounter::new());
    let sends = RateLimiter::new(
        Limit::per_minute("sends", 1),
        counter.clone(),
        clock.clone(),
        OnStoreFailure::Closed,
    );
    let marks = RateLimiter::new(Limit::per_minute("marks", 1), counter, clock, OnStoreFailure::Closed);
    assert!(sends.take("x").await?.allowed);
    assert!(marks.take("x").await?.allowed, "the same subject under another limit");
    assert!(!sends.take("x").await?.allowed);
    Ok(())
}

#[tokio::test]
async fn a_limit_of_zero_refuses_without_counting() -> Result<(), DomainError> {
    let counter = Arc::new(MemoryRateCounter::new());
    let limits = limiter(0, TestClock::at(600), counter.clone());
    assert!(!limits.take("a").await?.allowed);
    assert!(counter.is_empty());
    Ok(())
}

#[tokio::test]
async fn many_concurrent_checks_on_one_key_allow_exactly_the_limit() -> Result<(), DomainError> {
    let limits = limiter(25, TestClock::at(600), Arc::new(MemoryRateCounter::new()));
    let checks = (0..200).map(|_| {
        let limits = limits.clone();
        tokio::spawn(async move { limits.take("hot").await })
    });
    let mut allowed = 0;
    for check in checks {
        if check.await.map_err(DomainError::internal)??.allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 25);
    Ok(())
}

#[tokio::test]
async fn a_failing_counter_opens_or_closes_as_the_limit_says() {
    let failures = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&failures);
    let open = RateLimiter::new(
        Limit::per_minute("budget", 5),
        Arc::new(Unreachable),
        TestClock::at(600),
        OnStoreFailure::Open,
    )
    .with_failures(Arc::new(move |name| {
        assert_eq!(name, "budget");
        counted.fetch_add(1, Ordering::Relaxed);
    }));
    let taken = open.take("k").await;
    assert!(
        matches!(
            taken,
            Ok(Taken {
                allowed: true,
                limit: 5,
                remaining: 5,
                ..
            })
        ),
        "{taken:?}"
    );
    let closed = limiter(5, TestClock::at(600), Arc::new(Unreachable));
    assert!(matches!(closed.admit("k").await, Err(DomainError::Internal(_))));
    assert_eq!(failures.load(Ordering::Relaxed), 1, "each failure is reported");
}

#[tokio::test]
async fn ended_windows_are_dropped() -> Result<(), DomainError> {
    let clock = TestClock::at(600);
    let counter = Arc::new(MemoryRateCounter::new());
    let limits = limiter(5, clock.clone(), counter.clone());
    for subject in ["a", "b", "c"] {
        limits.take(subject).await?;
    }
    assert_eq!(counter.len(), 3);
    assert_eq!(counter.prune(clock.now()).await?, 0, "the windows are still open");
    clock.set(630, 0);
    limits.take("d").await?;
    clock.set(660, 0);
    assert_eq!(counter.prune(clock.now()).await?, 3, "a, b and c ended at 660");
    assert_eq!(counter.len(), 1);
    clock.set(690, 0);
    assert_eq!(counter.prune(clock.now()).await?, 1);
    Ok(())
}

#[test]
fn keys_name_the_limit_and_hide_the_subject() {
    let key = RateKey::of("anonymous", "192.0.2.1");
    assert!(key.as_str().starts_with("anonymous:"));
    assert!(!key.as_str().contains("192.0.2.1"));
    assert_eq!(key.as_str().len(), "anonymous:".len() + 32);
    assert_eq!(key, RateKey::of("anonymous", "192.0.2.1"));
    assert_ne!(key, RateKey::of("anonymous", "192.0.2.2"));
    assert_ne!(
        RateKey::of("a", "bc"),
        RateKey::of("ab", "c"),
        "the name and subject are separated"
    );
}
