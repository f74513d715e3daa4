//! Properties over arbitrary observation histories: the ordering rule, cooldown extension, and the risk
//! score's bounds, monotonicity and decay.

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;

use super::{at, health_of, obs, paused, resumed};
use crate::accounts::health::{
    AccountHealth, AuthErrorKind, HealthObservation, HealthSignal, HealthState, HealthStateKind, LIMITED_QUIET_SECS,
    RISK_BUCKET_SECS, RISK_WINDOW_SECS, RiskLedger, SendFailureKind, signal_points,
};

/// Observations spread over three days, so quiet periods and the risk window both come into play.
const SPAN: i64 = 3 * 24 * 60 * 60;

fn signal() -> impl Strategy<Value = HealthSignal> {
    prop_oneof![
        3 => (0u32..7_200).prop_map(|seconds| HealthSignal::FloodWait { seconds }),
        2 => Just(HealthSignal::PeerFlood),
        2 => prop::sample::select(SendFailureKind::ALL.to_vec()).prop_map(|kind| HealthSignal::SendFailed { kind }),
        1 => prop::sample::select(AuthErrorKind::ALL.to_vec()).prop_map(|kind| HealthSignal::AuthError { kind }),
        4 => Just(HealthSignal::SendSucceeded),
        2 => Just(paused()),
        3 => Just(resumed()),
    ]
}

/// Signals that earn risk points.
fn bad_signal() -> impl Strategy<Value = HealthSignal> {
    let failures = [
        SendFailureKind::PeerInvalid,
        SendFailureKind::UserPrivacyRestricted,
        SendFailureKind::ChatWriteForbidden,
        SendFailureKind::Other,
    ];
    prop_oneof![
        (0u32..7_200).prop_map(|seconds| HealthSignal::FloodWait { seconds }),
        Just(HealthSignal::PeerFlood),
        prop::sample::select(failures.to_vec()).prop_map(|kind| HealthSignal::SendFailed { kind }),
        prop::sample::select(AuthErrorKind::ALL.to_vec()).prop_map(|kind| HealthSignal::AuthError { kind }),
    ]
}

fn observation() -> impl Strategy<Value = HealthObservation> {
    (signal(), 0..SPAN).prop_map(|(signal, secs)| obs(signal, secs))
}

fn history() -> impl Strategy<Value = Vec<HealthObservation>> {
    prop::collection::vec(observation(), 0..40)
}

/// A history, the same history in another delivery order, and delivery delays.
fn two_deliveries() -> impl Strategy<Value = (Vec<HealthObservation>, Vec<HealthObservation>, Vec<i64>)> {
    history().prop_flat_map(|h| {
        let n = h.len();
        (
            Just(h.clone()),
            Just(h).prop_shuffle(),
            prop::collection::vec(0i64..3_600, n),
        )
    })
}

/// Applies `observations` in delivery order, each when it arrives: no earlier than it was observed, nor than
/// the one delivered before it. Returns the health and the last arrival.
fn deliver(observations: &[HealthObservation], delays: &[i64]) -> (AccountHealth, DateTime<Utc>) {
    let mut health = AccountHealth::new();
    let mut now = at(0);
    for (observation, delay) in observations.iter().zip(delays) {
        now = now.max(observation.observed_at) + TimeDelta::seconds(*delay);
        health.apply(*observation, now);
    }
    (health, now)
}

/// The rules written as a plain replay in observation order, for comparison. At equal times an observation
/// that may lift a restriction goes first, so the restriction wins.
fn replay(observations: &[HealthObservation], now: DateTime<Utc>) -> Vec<HealthState> {
    let mut sorted = observations.to_vec();
    sorted.sort_by_key(|o| (o.observed_at, !o.signal.may_clear()));
    let (mut banned, mut session_invalid, mut frozen, mut limited, mut paused) = (false, false, false, false, false);
    let mut peer_flood_at = None;
    let mut cooldown_until: Option<DateTime<Utc>> = None;
    for o in sorted {
        match o.signal {
            HealthSignal::FloodWait { seconds } => {
                let until = o.observed_at + TimeDelta::seconds(i64::from(seconds));
                cooldown_until = cooldown_until.max(Some(until));
            }
            HealthSignal::PeerFlood => {
                limited = true;
                peer_flood_at = Some(o.observed_at);
            }
            HealthSignal::AuthError { kind } => match kind {
                AuthErrorKind::UserDeactivatedBan => banned = true,
                AuthErrorKind::SessionRevoked | AuthErrorKind::AuthKeyUnregistered => session_invalid = true,
                AuthErrorKind::Frozen => frozen = true,
            },
            HealthSignal::SendSucceeded => {
                if peer_flood_at.is_some_and(|pf| o.observed_at > pf + TimeDelta::seconds(LIMITED_QUIET_SECS)) {
                    limited = false;
                }
            }
            HealthSignal::OperatorPaused { .. } | HealthSignal::AutomationPaused { .. } => paused = true,
            HealthSignal::OperatorResumed { .. } => {
                paused = false;
                limited = false;
                frozen = false;
            }
            HealthSignal::SendFailed { .. } => {}
        }
    }
    let flags = [
        (banned, HealthState::Banned),
        (session_invalid, HealthState::SessionInvalid),
        (frozen, HealthState::Frozen),
        (limited, HealthState::Limited),
        (paused, HealthState::Paused),
    ];
    let mut states: Vec<_> = flags.into_iter().filter(|(on, _)| *on).map(|(_, s)| s).collect();
    if let Some(until) = cooldown_until.filter(|until| *until > now) {
        states.push(HealthState::Cooldown { until });
    }
    states
}

proptest! {
    #[test]
    fn the_outcome_never_depends_on_the_delivery_order_of_observations(
        (in_order, shuffled, delays) in two_deliveries(),
        later in 0i64..2 * SPAN,
    ) {
        let (first, first_end) = deliver(&in_order, &delays);
        let (second, second_end) = deliver(&shuffled, &delays);
        let now = first_end.max(second_end) + TimeDelta::seconds(later);
        prop_assert_eq!(first.restrictions(now), second.restrictions(now));
        prop_assert_eq!(first.effective_state(now), second.effective_state(now));
        prop_assert_eq!(first.risk(now), second.risk(now));
        prop_assert_eq!(first.cooldown_until(), second.cooldown_until());
        prop_assert_eq!(first.last_observed_at(), second.last_observed_at());
    }

    #[test]
    fn applying_observations_in_any_order_matches_replaying_them_in_observation_order(
        (_, shuffled, delays) in two_deliveries(),
        later in 0i64..2 * SPAN,
    ) {
        let (health, end) = deliver(&shuffled, &delays);
        let now = end + TimeDelta::seconds(later);
        prop_assert_eq!(health.restrictions(now), replay(&shuffled, now));
    }

    #[test]
    fn no_healthy_observation_older_than_a_restriction_lifts_it(
        history in history(),
        healthy in prop_oneof![Just(HealthSignal::SendSucceeded), Just(resumed())],
        observed in 0..SPAN,
    ) {
        let now = at(SPAN);
        let mut health = health_of(&history, now);
        let before = health.restrictions(now);
        health.apply(obs(healthy, observed), now);
        let after = health.restrictions(now);
        for state in before {
            let newest = history
                .iter()
                .filter(|o| o.signal.restricts() == Some(state.kind()))
                .map(|o| o.observed_at)
                .max();
            if newest.is_some_and(|newest| newest >= at(observed)) || state.kind() == HealthStateKind::Cooldown {
                prop_assert!(after.contains(&state), "{:?} was lifted by {:?} at {}", state, healthy, observed);
            }
        }
    }

    #[test]
    fn an_old_observation_never_lowers_the_state(
        history in history(),
        late in observation(),
    ) {
        let now = at(SPAN);
        let mut health = health_of(&history, now);
        let newest = history.iter().map(|o| o.observed_at).max();
        prop_assume!(newest.is_some_and(|newest| late.observed_at <= newest));
        let change = health.apply(late, now);
        let lowered = change.after.state.severity() < change.before.state.severity();
        // Only a healthy observation lifting a restriction older than itself may lower the state.
        if lowered {
            prop_assert!(late.signal.may_clear());
            let lifted = change.before.state.kind();
            let set_at = history
                .iter()
                .filter(|o| o.signal.restricts() == Some(lifted))
                .map(|o| o.observed_at)
                .max();
            prop_assert!(set_at.is_some_and(|set_at| set_at < late.observed_at));
        }
    }

    #[test]
    fn a_flood_wait_never_shortens_the_cooldown(
        history in history(),
        seconds in 0u32..100_000,
        observed in 0..SPAN,
    ) {
        let now = at(SPAN);
        let mut health = health_of(&history, now);
        let before = health.cooldown_until();
        health.apply(obs(HealthSignal::FloodWait { seconds }, observed), now);
        prop_assert!(health.cooldown_until() >= before);
        prop_assert!(health.cooldown_until() >= Some(at(observed) + TimeDelta::seconds(i64::from(seconds))));
    }

    #[test]
    fn the_risk_stays_between_0_and_100(history in prop::collection::vec(observation(), 0..200), later in 0..SPAN) {
        let now = at(SPAN);
        let health = health_of(&history, now);
        for when in [now, now + TimeDelta::seconds(later)] {
            prop_assert!(health.risk(when).value() <= 100);
        }
    }

    #[test]
    fn another_bad_signal_never_lowers_the_risk(
        history in history(),
        bad in bad_signal(),
        observed in 0..SPAN,
        later in 0..SPAN,
    ) {
        prop_assert!(signal_points(&bad) > 0);
        let now = at(SPAN);
        let without = health_of(&history, now);
        let mut with = without.clone();
        with.apply(obs(bad, observed), now);
        let when = now + TimeDelta::seconds(later);
        prop_assert!(with.risk(when) >= without.risk(when));
    }

    #[test]
    fn time_alone_never_raises_the_risk_and_a_window_without_bad_signals_brings_it_to_zero(
        history in history(),
        step in 1i64..RISK_WINDOW_SECS,
    ) {
        let now = at(SPAN);
        let health = health_of(&history, now);
        let mut when = now;
        let mut previous = health.risk(when);
        while when <= now + TimeDelta::seconds(RISK_WINDOW_SECS) {
            when += TimeDelta::seconds(step);
            let risk = health.risk(when);
            prop_assert!(risk <= previous);
            previous = risk;
        }
        let quiet = now + TimeDelta::seconds(RISK_WINDOW_SECS + RISK_BUCKET_SECS);
        prop_assert_eq!(health.risk(quiet).value(), 0);
    }

    #[test]
    fn the_ledger_stays_bounded_however_many_signals_arrive_and_whenever(
        signals in prop::collection::vec((bad_signal(), 0..10 * SPAN, 0..10 * SPAN), 0..600),
    ) {
        let mut ledger = RiskLedger::new();
        for (signal, observed, now) in signals {
            ledger.record(&signal, at(observed), at(now));
            prop_assert!(ledger.buckets().len() <= RiskLedger::MAX_BUCKETS);
        }
    }

    #[test]
    fn a_stored_health_behaves_like_the_original(history in history(), later in 0..SPAN) {
        let now = at(SPAN);
        let health = health_of(&history, now);
        let reloaded: AccountHealth = serde_json::from_str(&serde_json::to_string(&health).unwrap()).unwrap();
        let when = now + TimeDelta::seconds(later);
        prop_assert_eq!(reloaded.snapshot(when), health.snapshot(when));
        prop_assert_eq!(reloaded, health);
    }
}
