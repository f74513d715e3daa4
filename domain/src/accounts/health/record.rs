//! Recording an observation: load the account's health, apply the observation, save it with compare and
//! swap, and on a lost race start over from the fresh health, a bounded number of times.

use chrono::{DateTime, Utc};

use super::account_health::{AccountHealth, HealthChange};
use super::ports::{CounterHolder, HealthRepository, SaveOutcome};
use super::signal::HealthObservation;
use crate::ids::AccountId;
use crate::store::{StoreError, StoreResult};

/// How many times [`record_observation`] tries before giving up.
pub const MAX_SAVE_ATTEMPTS: u32 = 8;

/// Applies `observation` to the stored health of `account` and saves it; the change, for
/// `AccountHealthChanged` when [`HealthChange::changed`]. Fails as infrastructure if the health changed under
/// it [`MAX_SAVE_ATTEMPTS`] times in a row.
pub async fn record_observation<R>(
    repository: &R,
    holder: CounterHolder,
    account: AccountId,
    observation: HealthObservation,
    now: DateTime<Utc>,
) -> StoreResult<HealthChange>
where
    R: HealthRepository + ?Sized,
{
    for _ in 0..MAX_SAVE_ATTEMPTS {
        let (mut health, version) = match repository.load(holder, account).await? {
            Some(stored) => (stored.health, Some(stored.version)),
            None => (AccountHealth::new(), None),
        };
        let loaded = health.clone();
        let change = health.apply(observation, now);
        if health == loaded {
            return Ok(change);
        }
        match repository.save(holder, account, &health, version).await? {
            SaveOutcome::Saved { .. } => return Ok(change),
            SaveOutcome::VersionConflict => continue,
        }
    }
    Err(StoreError::backend(
        "account health kept changing during the update; gave up",
    ))
}
