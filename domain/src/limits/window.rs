//! Window arithmetic: which fixed window an instant falls in, and how long until it ends.
//!
//! Rules:
//! - A window of length L starts at the largest multiple of L (in whole seconds since the Unix epoch) not
//!   after the instant, and ends L seconds later; the end belongs to the next window.
//! - The wait until a window ends is given in whole seconds, rounded up, and is at least 1 (what
//!   `Retry-After` and `RateLimit-Reset` carry: "retry in 0 s" would invite a request that is still refused).

use chrono::{DateTime, Utc};
use std::time::Duration;

/// One fixed window: its start in Unix seconds and its length in seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    start: i64,
    length: i64,
}

impl Window {
    /// The window of `length` (whole seconds, at least 1) that `now` falls in.
    pub fn containing(now: DateTime<Utc>, length: Duration) -> Self {
        let length = i64::try_from(length.as_secs()).unwrap_or(i64::MAX).max(1);
        let start = now.timestamp().div_euclid(length).saturating_mul(length);
        Self { start, length }
    }

    /// The window's start, in seconds since the Unix epoch.
    pub fn start(&self) -> i64 {
        self.start
    }

    /// The window's end (the next window's start), in seconds since the Unix epoch.
    pub fn end(&self) -> i64 {
        self.start.saturating_add(self.length)
    }

    /// The window's length in seconds.
    pub fn length_secs(&self) -> u64 {
        u64::try_from(self.length).unwrap_or(1)
    }

    /// Whole seconds from `now` until the window ends, rounded up, at least 1.
    pub fn reset_secs(&self, now: DateTime<Utc>) -> u64 {
        let end_millis = i128::from(self.end()) * 1_000;
        let left = end_millis - i128::from(now.timestamp_millis());
        let secs = (left + 999).div_euclid(1_000);
        u64::try_from(secs).unwrap_or(0).max(1)
    }

    /// Whether the window ended at or before `now`.
    pub fn ended(&self, now: DateTime<Utc>) -> bool {
        now.timestamp() >= self.end()
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
    fn a_minute_window_starts_on_the_whole_minute() {
        let table = [
            // (instant, expected start)
            (at(1_800_000_030, 0), 1_800_000_000),
            (at(120, 0), 120),
            (at(179, 999), 120),
            (at(180, 0), 180),
            (at(0, 0), 0),
            (at(-1, 0), -60),
        ];
        for (now, start) in table {
            let window = Window::containing(now, MINUTE);
            assert_eq!(window.start(), start, "{now}");
            assert_eq!(window.end(), start + 60, "{now}");
        }
    }

    #[test]
    fn the_wait_rounds_up_and_is_never_zero() {
        let window = Window::containing(at(120, 0), MINUTE);
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
        let window = Window::containing(at(120, 0), MINUTE);
        assert!(!window.ended(at(179, 999)));
        assert!(window.ended(at(180, 0)));
        assert_eq!(Window::containing(at(180, 0), MINUTE).start(), window.end());
    }

    #[test]
    fn other_lengths_align_to_their_own_multiples_and_zero_counts_as_one_second() {
        assert_eq!(
            Window::containing(at(7_199, 0), Duration::from_secs(3_600)).start(),
            3_600
        );
        let tiny = Window::containing(at(42, 700), Duration::ZERO);
        assert_eq!((tiny.start(), tiny.end(), tiny.length_secs()), (42, 43, 1));
    }
}
