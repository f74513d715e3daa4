//! Time as a port, so expiry, TOTP windows and back-off are testable without sleeping.

use chrono::{DateTime, SubsecRound as _, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock, to the microsecond: the precision PostgreSQL stores, so a time a use case returns is the
/// time that was stored, and a conditional update on a time it read back matches.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_keeps_whole_microseconds() {
        assert_eq!(SystemClock.now().timestamp_subsec_nanos() % 1_000, 0);
    }
}
