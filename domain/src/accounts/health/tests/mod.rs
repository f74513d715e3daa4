//! Tests of account health: state transitions, the ordering rule and risk as properties, the send policy
//! table, and recording under concurrent writers.

mod properties;
mod record;
mod send_policy;
mod transitions;

use chrono::{DateTime, TimeDelta, Utc};

use super::{AccountHealth, HealthObservation, HealthSignal};
use crate::ids::UserId;

/// A fixed instant all tests count from.
pub(super) fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).unwrap()
}

/// `secs` seconds after [`t0`].
pub(super) fn at(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

pub(super) fn obs(signal: HealthSignal, secs: i64) -> HealthObservation {
    HealthObservation::new(signal, at(secs))
}

pub(super) fn operator() -> UserId {
    UserId::from_uuid(uuid::Uuid::from_u128(0x0197_0000_0000_7000_8000_0000_0000_0001))
}

pub(super) fn paused() -> HealthSignal {
    HealthSignal::OperatorPaused { by: operator() }
}

pub(super) fn resumed() -> HealthSignal {
    HealthSignal::OperatorResumed { by: operator() }
}

/// The health after applying `observations` in the order given, each at `now`.
pub(super) fn health_of(observations: &[HealthObservation], now: DateTime<Utc>) -> AccountHealth {
    let mut health = AccountHealth::new();
    for observation in observations {
        health.apply(*observation, now);
    }
    health
}
