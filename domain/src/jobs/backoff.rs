//! How long a job waits before its next attempt.
//!
//! Rules: the ceiling doubles with each attempt from `base` (attempt 1 waits up to `base`) and never exceeds
//! `cap`; the wait is drawn between half the ceiling and the ceiling ("equal jitter"), so jobs that failed
//! together do not all come back in the same instant, yet none comes back sooner than half its ceiling.

use std::time::Duration;

use rand::Rng as _;

/// The wait before retrying after attempt `attempt` (1 for the first; 0 counts as 1).
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let ceiling = ceiling(attempt, base, cap);
    let half = ceiling / 2;
    let spread = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
    half + Duration::from_nanos(if spread == 0 {
        0
    } else {
        rand::thread_rng().gen_range(0..=spread)
    })
}

/// `base × 2^(attempt − 1)`, at most `cap`.
fn ceiling(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let doublings = attempt.max(1) - 1;
    let factor = 2_u32.checked_pow(doublings).unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(Duration::MAX).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(10);
    const CAP: Duration = Duration::from_secs(600);

    #[test]
    fn the_ceiling_doubles_per_attempt_until_the_cap() {
        let ceilings: Vec<u64> = (1..=8).map(|a| ceiling(a, BASE, CAP).as_secs()).collect();
        assert_eq!(ceilings, [10, 20, 40, 80, 160, 320, 600, 600]);
        assert_eq!(ceiling(0, BASE, CAP), BASE, "attempt 0 counts as the first");
    }

    #[test]
    fn every_wait_lies_between_half_the_ceiling_and_the_ceiling() {
        for attempt in 0..=40 {
            let ceiling = ceiling(attempt, BASE, CAP);
            for _ in 0..200 {
                let wait = backoff(attempt, BASE, CAP);
                assert!(
                    wait >= ceiling / 2 && wait <= ceiling,
                    "attempt {attempt}: {wait:?} of {ceiling:?}"
                );
            }
        }
    }

    #[test]
    fn waits_are_jittered() {
        let waits: std::collections::HashSet<Duration> = (0..50).map(|_| backoff(3, BASE, CAP)).collect();
        assert!(waits.len() > 1, "50 waits were all {waits:?}");
    }

    #[test]
    fn huge_attempts_and_bases_stay_at_the_cap_without_overflow() {
        assert!(backoff(u32::MAX, BASE, CAP) <= CAP);
        assert!(backoff(64, Duration::MAX, CAP) <= CAP);
        assert_eq!(backoff(7, Duration::ZERO, CAP), Duration::ZERO);
        assert_eq!(backoff(3, BASE, Duration::ZERO), Duration::ZERO);
    }
}
