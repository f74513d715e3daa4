//! Window arithmetic: when a key's window starts, when it ends, and how long until then.
//!
//! Rules:
//! - A key's window starts at its first event after its previous window ended (or at its first event ever)
//!   and lasts the limit's length; the end belongs to the next window. So a caller's minute starts when they
//!   start, as a per-process limiter always counted, and no shared minute boundary resets everyone at once.
//! - Times are Unix milliseconds: precise enough for a wait, and the same integers in every store.
//! - The wait until a window ends is given in whole seconds, rounded up, and is at least 1 (what
//!   `Retry-After` and `RateLimit-Reset` carry: "retry in 0 s" would invite a request that is still refused).

use chrono::{DateTime, Utc};
use std::time::Duration;

/// One window of one key: its start and length in milliseconds (the length at least 1 ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    start_ms: i64,
    length_ms: i64,
}

impl Window {
    /// The window of `length` starting at `start_ms` (Unix milliseconds).
    pub fn starting_at(start_ms: i64, length: Duration) -> Self {
        let length_ms = i64::try_from(length.as_millis()).unwrap_or(i64::MAX).max(1);
        Self { start_ms, length_ms }
    }

    /// The window of `length` a key whose last window is `previous` counts an event at `now` in: `previous`
    /// while it lasts, else a new one starting at `now`.
    pub fn at(previous: Option<Self>, now: DateTime<Utc>, length: Duration) -> Self {
        match previous {
            Some(window) if !window.ended(now) => window,
            _ => Self::starting_at(now.timestamp_millis(), length),
        }
    }

    /// The window's start, in Unix milliseconds.
    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    /// The window's end (exclusive), in Unix milliseconds.
    pub fn end_ms(&self) -> i64 {
        self.start_ms.saturating_add(self.length_ms)
    }

    /// Whole seconds from `now` until the window ends, rounded up, at least 1.
    pub fn reset_secs(&self, now: DateTime<Utc>) -> u64 {
        let left = i128::from(self.end_ms()) - i128::from(now.timestamp_millis());
        let secs = (left + 999).div_euclid(1_000);
        u64::try_from(secs).unwrap_or(0).max(1)
    }

    /// Whether the window ended at or before `now`.
    pub fn ended(&self, now: DateTime<Utc>) -> bool {
        now.timestamp_millis() >= self.end_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    const MINUTE: Duration = Duration::from_secs(60);

    fn at(secs: i64, millis: u32) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, millis * 1_000_000).single().unwrap_or_default()
    }

    #[test]
    fn a_window_starts_at_the_first_event_and_lasts_its_length() {
        let first = Window::at(None, at(1_800_000_030, 250), MINUTE);
        assert_eq!(first.start_ms(), 1_800_000_030_250);
        assert_eq!(first.end_ms(), 1_800_000_090_250);
        let table = [
            // (instant of the next event, whether it counts in the same window)
            (at(1_800_000_031, 0), true),
            (at(1_800_000_090, 249), true),
            (at(1_800_000_090, 250), false),
            (at(1_800_000_500, 0), false),
        ];
        for (now, same) in table {
            let next = Window::at(Some(first), now, MINUTE);
            assert_eq!(next == first, same, "{now}");
            if !same {
                assert_eq!(next.start_ms(), now.timestamp_millis(), "a new window starts at {now}");
            }
        }
    }

    #[test]
    fn the_wait_rounds_up_and_is_never_zero() {
        let window = Window::starting_at(120_000, MINUTE);
        let table = [
            (at(120, 0), 60),
            (at(120, 1), 60),
            (at(178, 500), 2),
            (at(179, 0), 1),
            (at(179, 999), 1),
            // A clock that moved past the end still says "one second".
            (at(200, 0), 1),
        ];
        for (now, wait) in table {
            assert_eq!(window.reset_secs(now), wait, "{now}");
        }
    }

    #[test]
    fn the_end_belongs_to_the_next_window() {
        let window = Window::starting_at(120_000, MINUTE);
        assert!(!window.ended(at(179, 999)));
        assert!(window.ended(at(180, 0)));
    }

    #[test]
    fn a_zero_length_counts_as_one_millisecond() {
        let tiny = Window::starting_at(42_000, Duration::ZERO);
        assert_eq!((tiny.start_ms(), tiny.end_ms()), (42_000, 42_001));
        assert!(tiny.ended(at(42, 1)));
    }
}
