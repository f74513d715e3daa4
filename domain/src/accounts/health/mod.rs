//! Account health: pure rules over what Telegram tells us about an account, so the service slows or stops
//! sending when Telegram asks it to. Nothing here works around Telegram's limits.
//!
//! - [`HealthSignal`]s observed from Telegram or operators, each with when it was observed
//!   ([`HealthObservation`]), are applied to an account's [`AccountHealth`].
//! - That gives a hard [`HealthState`] (the most severe restriction in force) and a 0-100 [`RiskScore`] from
//!   a rolling, decaying ledger of bad signals ([`RiskLedger`]).
//! - The [`SendPolicy`] turns both into a decision per send: a hard state stops all sending, rising risk
//!   holds back automated sending first.
//! - [`DailyCounters`] count engagement per account and UTC day.
//! - [`HealthRepository`] is the storage port; [`record_observation`] applies an observation with optimistic
//!   concurrency.

mod account_health;
mod counters;
mod policy;
mod ports;
mod record;
mod risk;
mod signal;
mod state;

#[cfg(test)]
mod tests;

pub use account_health::{AccountHealth, HealthChange, HealthSnapshot, LIMITED_QUIET_SECS};
pub use counters::{DailyCounters, utc_day};
pub use policy::{RefusalReason, SendKind, SendPolicy, SendRefusal};
pub use ports::{CounterHolder, DayCounts, HealthRepository, SaveOutcome, StoredHealth};
pub use record::{MAX_SAVE_ATTEMPTS, record_observation};
pub use risk::{RISK_BUCKET_SECS, RISK_WINDOW_SECS, RiskBucket, RiskLedger, RiskScore, signal_points};
pub use signal::{AuthErrorKind, HealthObservation, HealthSignal, SendFailureKind};
pub use state::{HealthState, HealthStateKind};
