//! A clock that stands still until the test moves it, for use cases and workers built over a test server's
//! store (retries and backoffs, leases, schedules across a daylight-saving change).

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, SubsecRound as _, Utc};
use tgos_domain::clock::Clock;

#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// Now, at the microsecond precision the databases keep.
    pub fn starting_now() -> Arc<Self> {
        Self::starting_at(Utc::now())
    }

    pub fn starting_at(at: DateTime<Utc>) -> Arc<Self> {
        Arc::new(Self(Mutex::new(at.trunc_subsecs(6))))
    }

    pub fn advance(&self, by: chrono::Duration) -> DateTime<Utc> {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
        *now
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
