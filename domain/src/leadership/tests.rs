use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::memory::MemoryLeaderLeases;
use super::names::{LEASE_EXPIRY, OUTBOX_RELAY};
use super::{LeaderLeaseRepository as _, Leadership};
use crate::clock::Clock;

#[derive(Debug)]
struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(Utc::now())))
    }

    fn advance(&self, secs: i64) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) += chrono::Duration::seconds(secs);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

const LEASE: Duration = Duration::from_secs(15);

fn two_replicas() -> (Arc<MemoryLeaderLeases>, Arc<TestClock>, Leadership, Leadership) {
    let leases = Arc::new(MemoryLeaderLeases::default());
    let clock = TestClock::new();
    let names = [OUTBOX_RELAY, LEASE_EXPIRY];
    let a = Leadership::new(leases.clone(), clock.clone(), "a", LEASE, &names);
    let b = Leadership::new(leases.clone(), clock.clone(), "b", LEASE, &names);
    (leases, clock, a, b)
}

#[tokio::test]
async fn the_first_replica_takes_every_name_and_the_second_none() {
    let (leases, _clock, a, b) = two_replicas();
    assert_eq!(a.campaign_once().await.len(), 2);
    assert!(b.campaign_once().await.is_empty());
    assert!(a.holds(OUTBOX_RELAY) && a.holds(LEASE_EXPIRY));
    assert!(!b.holds(OUTBOX_RELAY) && !b.holds(LEASE_EXPIRY));
    let stored = leases.leader_lease(OUTBOX_RELAY).await.ok().flatten();
    assert_eq!(stored.map(|lease| lease.holder), Some("a".to_owned()));
}

#[tokio::test]
async fn renewing_every_third_of_the_lease_keeps_the_lead_and_its_start() {
    let (leases, clock, a, b) = two_replicas();
    a.campaign_once().await;
    let taken = leases.leader_lease(OUTBOX_RELAY).await.ok().flatten();
    for _ in 0..10 {
        clock.advance(5);
        assert_eq!(a.campaign_once().await.len(), 2, "renewed");
        assert!(b.campaign_once().await.is_empty(), "never lapsed for the other");
    }
    let renewed = leases.leader_lease(OUTBOX_RELAY).await.ok().flatten();
    assert_eq!(
        renewed.as_ref().map(|lease| lease.acquired_at),
        taken.as_ref().map(|lease| lease.acquired_at),
        "a renewal keeps when it was taken"
    );
    assert!(renewed.map(|lease| lease.lease_until) > taken.map(|lease| lease.lease_until));
}

#[tokio::test]
async fn a_killed_holder_is_replaced_once_its_lease_lapsed_and_not_before() {
    let (_leases, clock, a, b) = two_replicas();
    a.campaign_once().await;
    // `a` is killed: it renews no more and releases nothing.
    clock.advance(14);
    assert!(b.campaign_once().await.is_empty(), "still a's for a second");
    clock.advance(1);
    assert_eq!(b.campaign_once().await.len(), 2, "lapsed: taken over within one lease");
    assert!(b.holds(OUTBOX_RELAY));
    assert!(!a.holds(OUTBOX_RELAY), "a's belief ran out at its margin");
}

#[tokio::test]
async fn a_holder_believes_in_its_lead_only_two_thirds_of_the_lease_past_its_last_renewal() {
    let (_leases, clock, a, _b) = two_replicas();
    a.campaign_once().await;
    clock.advance(9);
    assert!(a.holds(LEASE_EXPIRY));
    clock.advance(1);
    assert!(
        !a.holds(LEASE_EXPIRY),
        "no renewal for ten seconds of fifteen: stop before the lease lapses"
    );
}

#[tokio::test]
async fn a_graceful_stop_hands_over_at_once() {
    let (leases, _clock, a, b) = two_replicas();
    a.campaign_once().await;
    a.release_all().await;
    assert!(!a.holds(OUTBOX_RELAY));
    assert_eq!(leases.leader_lease(OUTBOX_RELAY).await.ok().flatten(), None);
    assert_eq!(b.campaign_once().await.len(), 2, "no wait for a lease to lapse");
    // Releasing what another holds changes nothing.
    a.release_all().await;
    let stored = leases.leader_lease(LEASE_EXPIRY).await.ok().flatten();
    assert_eq!(stored.map(|lease| lease.holder), Some("b".to_owned()));
}

#[tokio::test]
async fn a_holder_that_lost_its_lease_to_another_stops_believing_at_its_next_round() {
    let (_leases, clock, a, b) = two_replicas();
    a.campaign_once().await;
    clock.advance(15);
    b.campaign_once().await;
    assert!(a.campaign_once().await.is_empty());
    assert!(!a.holds(OUTBOX_RELAY));
}

#[tokio::test]
async fn racing_replicas_never_both_hold_a_name() {
    let leases = Arc::new(MemoryLeaderLeases::default());
    let clock = TestClock::new();
    let replicas: Vec<Leadership> = (0..8)
        .map(|i| Leadership::new(leases.clone(), clock.clone(), format!("r{i}"), LEASE, &[OUTBOX_RELAY]))
        .collect();
    let rounds = replicas.iter().map(|replica| {
        let replica = replica.clone();
        tokio::spawn(async move { replica.campaign_once().await.len() })
    });
    let mut holders = 0;
    for round in rounds {
        holders += round.await.unwrap_or(0);
    }
    assert_eq!(holders, 1);
}

#[tokio::test]
async fn the_work_is_woken_when_its_name_is_taken() {
    let (_leases, _clock, a, _b) = two_replicas();
    let mut handle = a.handle(OUTBOX_RELAY);
    assert!(
        tokio::time::timeout(Duration::from_millis(10), handle.gained())
            .await
            .is_err(),
        "not before"
    );
    // Taken while the work was busy elsewhere (not waiting): the next wait still sees it.
    a.campaign_once().await;
    assert!(
        tokio::time::timeout(Duration::from_secs(1), handle.gained())
            .await
            .is_ok(),
        "woken on the take"
    );
    assert!(handle.holds());
    a.campaign_once().await;
    assert!(
        tokio::time::timeout(Duration::from_millis(10), handle.gained())
            .await
            .is_err(),
        "a renewal is no take"
    );
}
