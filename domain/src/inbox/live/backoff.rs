//! When a live connection that dropped (or failed to open) tries again.
//!
//! Rules:
//! - **Exponential with full jitter**: after the n-th failure in a row the wait is drawn uniformly from
//!   `[0, min(cap, base × 2^(n−1))]` (base [`BASE`] 1 s, cap [`CAP`] 5 min), so accounts dropped together
//!   (a network outage) do not all come back in the same instant.
//! - **Reset when stable**: a connection that stayed up [`STABLE_AFTER`] (60 s) or longer before it dropped
//!   starts the count again, so one drop a day waits about a second, not five minutes.
//! - **Telegram's floor**: after a `FLOOD_WAIT` of `s` seconds the wait is at least `s` seconds whatever the
//!   draw; a connection never comes back sooner than Telegram asked.
//! - Randomness ([`Jitter`]) and time ([`Clock`]) are injected, so the schedule is exact in tests.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng as _;

use crate::clock::Clock;

/// The first retry's ceiling.
pub const BASE: Duration = Duration::from_secs(1);
/// The longest wait (before a flood wait's floor).
pub const CAP: Duration = Duration::from_secs(5 * 60);
/// How long a connection must stay up for its drop to count as the first failure again.
pub const STABLE_AFTER: Duration = Duration::from_secs(60);

/// Draws the jitter: a whole number of milliseconds from `0` to `max`, both included, uniformly.
pub trait Jitter: Send + Sync + Debug {
    fn up_to(&self, max: u64) -> u64;
}

/// The thread-local random generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn up_to(&self, max: u64) -> u64 {
        rand::thread_rng().gen_range(0..=max)
    }
}

/// One account's reconnection schedule.
#[derive(Debug, Clone)]
pub struct Backoff {
    clock: Arc<dyn Clock>,
    jitter: Arc<dyn Jitter>,
    /// Failures in a row since the last stable connection.
    failures: u32,
    /// When the current connection came up, if one is up.
    up_since: Option<DateTime<Utc>>,
}

impl Backoff {
    pub fn new(clock: Arc<dyn Clock>, jitter: Arc<dyn Jitter>) -> Self {
        Self {
            clock,
            jitter,
            failures: 0,
            up_since: None,
        }
    }

    /// A connection came up (connected and caught up).
    pub fn connected(&mut self) {
        self.up_since = Some(self.clock.now());
    }

    /// The connection dropped or could not be opened: the wait before the next attempt. `flood_wait` is the
    /// seconds Telegram asked to wait, when it did.
    pub fn next_wait(&mut self, flood_wait: Option<u32>) -> Duration {
        if let Some(since) = self.up_since.take() {
            let up = (self.clock.now() - since).to_std().unwrap_or(Duration::ZERO);
            if up >= STABLE_AFTER {
                self.failures = 0;
            }
        }
        self.failures = self.failures.saturating_add(1);
        let ceiling = ceiling(self.failures);
        let drawn = Duration::from_millis(
            self.jitter
                .up_to(u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX)),
        )
        .min(ceiling);
        drawn.max(Duration::from_secs(u64::from(flood_wait.unwrap_or(0))))
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

/// `BASE × 2^(failures − 1)`, at most `CAP`.
fn ceiling(failures: u32) -> Duration {
    let doublings = failures.max(1) - 1;
    let factor = 2_u32.checked_pow(doublings).unwrap_or(u32::MAX);
    BASE.checked_mul(factor).unwrap_or(Duration::MAX).min(CAP)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A clock the test moves.
    #[derive(Debug)]
    struct TestClock(Mutex<DateTime<Utc>>);

    impl TestClock {
        fn advance(&self, by: Duration) {
            let mut now = self.0.lock().unwrap();
            *now += chrono::Duration::from_std(by).unwrap();
        }
    }

    impl Clock for TestClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }

    /// Draws a fixed share of the ceiling (in thousandths) and records every ceiling it was asked about.
    #[derive(Debug)]
    struct ShareJitter {
        per_mille: u64,
        asked: Mutex<Vec<u64>>,
    }

    impl Jitter for ShareJitter {
        fn up_to(&self, max: u64) -> u64 {
            self.asked.lock().unwrap().push(max);
            max / 1000 * self.per_mille
        }
    }

    fn schedule(per_mille: u64) -> (Backoff, Arc<TestClock>, Arc<ShareJitter>) {
        let clock = Arc::new(TestClock(Mutex::new(Utc::now())));
        let jitter = Arc::new(ShareJitter {
            per_mille,
            asked: Mutex::new(Vec::new()),
        });
        (Backoff::new(clock.clone(), jitter.clone()), clock, jitter)
    }

    #[test]
    fn ceilings_double_from_one_second_to_the_five_minute_cap_and_the_draw_is_taken_as_is() {
        let (mut backoff, _, jitter) = schedule(500);
        let waits: Vec<u128> = (0..12).map(|_| backoff.next_wait(None).as_millis()).collect();
        assert_eq!(
            *jitter.asked.lock().unwrap(),
            [
                1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000
            ]
        );
        assert_eq!(
            waits,
            [
                500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 150_000, 150_000, 150_000
            ]
        );
        assert_eq!(backoff.failures(), 12);
    }

    #[test]
    fn full_jitter_reaches_from_zero_to_the_ceiling() {
        let (mut lowest, _, _) = schedule(0);
        let (mut highest, _, _) = schedule(1000);
        for _ in 0..3 {
            lowest.next_wait(None);
            highest.next_wait(None);
        }
        assert_eq!(lowest.next_wait(None), Duration::ZERO);
        assert_eq!(highest.next_wait(None), Duration::from_secs(8));
        for _ in 0..40 {
            highest.next_wait(None);
        }
        assert_eq!(
            highest.next_wait(None),
            CAP,
            "never past the cap, however many failures"
        );
    }

    #[test]
    fn a_connection_up_for_a_minute_starts_the_schedule_again_and_a_shorter_one_does_not() {
        let (mut backoff, clock, _) = schedule(1000);
        for _ in 0..4 {
            backoff.next_wait(None);
        }
        backoff.connected();
        clock.advance(Duration::from_secs(59));
        assert_eq!(
            backoff.next_wait(None),
            Duration::from_secs(16),
            "59 s up: the fifth failure"
        );
        backoff.connected();
        clock.advance(STABLE_AFTER);
        assert_eq!(
            backoff.next_wait(None),
            Duration::from_secs(1),
            "60 s up: the first failure again"
        );
        assert_eq!(backoff.next_wait(None), Duration::from_secs(2));
        assert_eq!(
            backoff.next_wait(None),
            Duration::from_secs(4),
            "failing to connect is not being up"
        );
    }

    #[test]
    fn a_flood_wait_is_the_floor_of_the_wait_but_never_shortens_it() {
        let (mut backoff, _, _) = schedule(500);
        assert_eq!(
            backoff.next_wait(Some(30)),
            Duration::from_secs(30),
            "drawn 0.5 s, Telegram asked 30 s"
        );
        for _ in 0..8 {
            backoff.next_wait(None);
        }
        assert_eq!(backoff.failures(), 9);
        assert_eq!(
            backoff.next_wait(Some(3)),
            Duration::from_secs(150),
            "drawn 150 s, longer than the 3 s asked"
        );
        assert_eq!(
            backoff.next_wait(Some(900)),
            Duration::from_secs(900),
            "past the cap when Telegram says so"
        );
    }

    #[test]
    fn the_random_jitter_stays_within_its_bounds() {
        for max in [0, 1, 999, 300_000] {
            for _ in 0..100 {
                assert!(RandomJitter.up_to(max) <= max);
            }
        }
    }
}
