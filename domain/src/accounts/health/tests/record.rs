//! Recording observations through the repository port, with writers racing on one account.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{at, obs};
use crate::accounts::health::{
    AccountHealth, CounterHolder, DailyCounters, DayCounts, HealthRepository, HealthSignal, HealthState,
    MAX_SAVE_ATTEMPTS, SaveOutcome, SendFailureKind, StoredHealth, record_observation, signal_points, utc_day,
};
use crate::ids::AccountId;
use crate::store::StoreResult;

/// Health kept in memory, compare and swap on the version; yields between steps so writers interleave.
#[derive(Debug, Default)]
struct MemoryHealth {
    rows: Mutex<HashMap<AccountId, StoredHealth>>,
    counters: Mutex<HashMap<(AccountId, CounterHolder, chrono::NaiveDate), DailyCounters>>,
    conflicts: Mutex<u32>,
}

#[async_trait]
impl HealthRepository for MemoryHealth {
    async fn load(&self, _: CounterHolder, account: AccountId) -> StoreResult<Option<StoredHealth>> {
        let row = self.rows.lock().unwrap().get(&account).cloned();
        tokio::task::yield_now().await;
        Ok(row)
    }

    async fn save(
        &self,
        _: CounterHolder,
        account: AccountId,
        health: &AccountHealth,
        expected_version: Option<u64>,
    ) -> StoreResult<SaveOutcome> {
        tokio::task::yield_now().await;
        let mut rows = self.rows.lock().unwrap();
        let current = rows.get(&account).map(|row| row.version);
        if current != expected_version {
            *self.conflicts.lock().unwrap() += 1;
            return Ok(SaveOutcome::VersionConflict);
        }
        let version = current.unwrap_or(0) + 1;
        rows.insert(
            account,
            StoredHealth {
                health: health.clone(),
                version,
            },
        );
        Ok(SaveOutcome::Saved { version })
    }

    async fn bump_counters(&self, account: AccountId, holder: CounterHolder, delta: &DailyCounters) -> StoreResult<()> {
        let mut counters = self.counters.lock().unwrap();
        let day = counters
            .entry((account, holder, delta.day()))
            .or_insert_with(|| DailyCounters::new(delta.day()));
        day.absorb(delta);
        Ok(())
    }

    async fn load_many(
        &self,
        _: CounterHolder,
        accounts: &[AccountId],
    ) -> StoreResult<HashMap<AccountId, StoredHealth>> {
        let rows = self.rows.lock().unwrap();
        Ok(accounts
            .iter()
            .filter_map(|a| rows.get(a).map(|row| (*a, row.clone())))
            .collect())
    }

    async fn counters_since(
        &self,
        accounts: &[AccountId],
        holder: CounterHolder,
        since: chrono::NaiveDate,
    ) -> StoreResult<HashMap<AccountId, Vec<DayCounts>>> {
        let counters = self.counters.lock().unwrap();
        let mut found: HashMap<AccountId, Vec<DayCounts>> = HashMap::new();
        for ((account, _, day), c) in counters
            .iter()
            .filter(|((a, h, day), _)| accounts.contains(a) && *h == holder && *day >= since)
        {
            found.entry(*account).or_default().push(DayCounts {
                day: *day,
                sent: c.sent(),
                received: c.received(),
                replies: c.replies(),
                distinct_peers: c.distinct_peers(),
            });
        }
        for days in found.values_mut() {
            days.sort_by_key(|d| d.day);
        }
        Ok(found)
    }
}

/// Refuses every save.
#[derive(Debug)]
struct AlwaysConflicting;

#[async_trait]
impl HealthRepository for AlwaysConflicting {
    async fn load(&self, _: CounterHolder, _: AccountId) -> StoreResult<Option<StoredHealth>> {
        Ok(None)
    }

    async fn save(
        &self,
        _: CounterHolder,
        _: AccountId,
        _: &AccountHealth,
        _: Option<u64>,
    ) -> StoreResult<SaveOutcome> {
        Ok(SaveOutcome::VersionConflict)
    }

    async fn load_many(&self, _: CounterHolder, _: &[AccountId]) -> StoreResult<HashMap<AccountId, StoredHealth>> {
        Ok(HashMap::new())
    }

    async fn counters_since(
        &self,
        _: &[AccountId],
        _: CounterHolder,
        _: chrono::NaiveDate,
    ) -> StoreResult<HashMap<AccountId, Vec<DayCounts>>> {
        Ok(HashMap::new())
    }

    async fn bump_counters(&self, _: AccountId, _: CounterHolder, _: &DailyCounters) -> StoreResult<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_first_observation_creates_the_health_at_version_one() {
    let repository = MemoryHealth::default();
    let account = AccountId::generate();
    let change = record_observation(
        &repository,
        CounterHolder::Pool,
        account,
        obs(HealthSignal::PeerFlood, 0),
        at(0),
    )
    .await
    .unwrap();
    assert_eq!(change.before.state, HealthState::Active);
    assert_eq!(change.after.state, HealthState::Limited);
    let stored = repository.load(CounterHolder::Pool, account).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.health.effective_state(at(0)), HealthState::Limited);
}

#[tokio::test]
async fn an_observation_that_changes_nothing_is_not_written() {
    let repository = MemoryHealth::default();
    let account = AccountId::generate();
    record_observation(
        &repository,
        CounterHolder::Pool,
        account,
        obs(HealthSignal::PeerFlood, 10),
        at(10),
    )
    .await
    .unwrap();
    let network = HealthSignal::SendFailed {
        kind: SendFailureKind::Network,
    };
    let change = record_observation(&repository, CounterHolder::Pool, account, obs(network, 5), at(10))
        .await
        .unwrap();
    assert!(!change.changed());
    assert_eq!(
        repository
            .load(CounterHolder::Pool, account)
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_racing_on_one_account_lose_no_observation() {
    let repository = Arc::new(MemoryHealth::default());
    let account = AccountId::generate();
    let writers = i64::from(MAX_SAVE_ATTEMPTS);
    let tasks: Vec<_> = (0..writers)
        .map(|i| {
            let repository = Arc::clone(&repository);
            tokio::spawn(async move {
                let signal = HealthSignal::FloodWait {
                    seconds: u32::try_from(60 * (i + 1)).unwrap(),
                };
                record_observation(&*repository, CounterHolder::Pool, account, obs(signal, i), at(writers))
                    .await
                    .unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let stored = repository.load(CounterHolder::Pool, account).await.unwrap().unwrap();
    assert_eq!(stored.version, u64::try_from(writers).unwrap());
    let expected_points: u32 = (0..writers)
        .map(|i| {
            signal_points(&HealthSignal::FloodWait {
                seconds: u32::try_from(60 * (i + 1)).unwrap(),
            })
        })
        .sum();
    let points: u32 = stored.health.ledger().buckets().iter().map(|b| b.points).sum();
    assert_eq!(points, expected_points);
    assert_eq!(stored.health.cooldown_until(), Some(at(writers - 1 + 60 * writers)));
}

#[tokio::test]
async fn recording_gives_up_after_the_last_attempt() {
    let result = record_observation(
        &AlwaysConflicting,
        CounterHolder::Pool,
        AccountId::generate(),
        obs(HealthSignal::PeerFlood, 0),
        at(0),
    )
    .await;
    assert!(result.is_err());
}

#[tokio::test]
async fn counter_deltas_add_up_per_account_and_day() {
    let repository = MemoryHealth::default();
    let account = AccountId::generate();
    let day = utc_day(at(0));
    let peer = crate::accounts::gateway::PeerKey::from_marked(42).unwrap();
    for _ in 0..3 {
        let mut delta = DailyCounters::new(day);
        delta.record_received(peer);
        delta.record_sent(peer, true);
        repository
            .bump_counters(account, CounterHolder::Pool, &delta)
            .await
            .unwrap();
    }
    let counters = repository.counters.lock().unwrap()[&(account, CounterHolder::Pool, day)].clone();
    assert_eq!((counters.sent(), counters.received(), counters.replies()), (3, 3, 3));
    assert_eq!(counters.distinct_peers(), 1);
}
