//! The state machine, one transition at a time.

use super::{at, health_of, obs, paused, resumed};
use crate::accounts::health::{
    AccountHealth, AuthErrorKind, HealthObservation, HealthSignal, HealthState, LIMITED_QUIET_SECS, RiskScore,
    SendFailureKind,
};

const DAY: i64 = 24 * 60 * 60;

fn auth(kind: AuthErrorKind) -> HealthSignal {
    HealthSignal::AuthError { kind }
}

#[test]
fn a_new_account_is_active_with_no_risk() {
    let health = AccountHealth::new();
    assert_eq!(health.effective_state(at(0)), HealthState::Active);
    assert_eq!(health.risk(at(0)), RiskScore::ZERO);
    assert!(health.restrictions(at(0)).is_empty());
}

#[test]
fn a_flood_wait_cools_the_account_down_until_observed_at_plus_its_seconds() {
    let health = health_of(&[obs(HealthSignal::FloodWait { seconds: 300 }, 0)], at(10));
    assert_eq!(health.effective_state(at(10)), HealthState::Cooldown { until: at(300) });
    assert_eq!(
        health.effective_state(at(299)),
        HealthState::Cooldown { until: at(300) }
    );
}

#[test]
fn the_cooldown_clears_by_time() {
    let health = health_of(&[obs(HealthSignal::FloodWait { seconds: 300 }, 0)], at(10));
    assert_eq!(health.effective_state(at(300)), HealthState::Active);
}

#[test]
fn a_longer_overlapping_flood_wait_extends_the_cooldown() {
    let health = health_of(
        &[
            obs(HealthSignal::FloodWait { seconds: 300 }, 0),
            obs(HealthSignal::FloodWait { seconds: 600 }, 100),
        ],
        at(100),
    );
    assert_eq!(health.cooldown_until(), Some(at(700)));
}

#[test]
fn a_shorter_flood_wait_never_shortens_the_cooldown() {
    let health = health_of(
        &[
            obs(HealthSignal::FloodWait { seconds: 600 }, 0),
            obs(HealthSignal::FloodWait { seconds: 30 }, 100),
        ],
        at(100),
    );
    assert_eq!(
        health.effective_state(at(200)),
        HealthState::Cooldown { until: at(600) }
    );
}

#[test]
fn a_peer_flood_limits_the_account() {
    let health = health_of(&[obs(HealthSignal::PeerFlood, 0)], at(0));
    assert_eq!(health.effective_state(at(0)), HealthState::Limited);
    assert_eq!(health.effective_state(at(30 * DAY)), HealthState::Limited);
}

#[test]
fn a_late_healthy_observation_cannot_clear_a_newer_peer_flood() {
    let mut health = AccountHealth::new();
    let now = at(LIMITED_QUIET_SECS * 3);
    health.apply(obs(HealthSignal::PeerFlood, LIMITED_QUIET_SECS * 2), now);
    let change = health.apply(obs(HealthSignal::SendSucceeded, LIMITED_QUIET_SECS * 2 - 1), now);
    let change_by_resume = health.apply(obs(resumed(), LIMITED_QUIET_SECS * 2 - 1), now);
    assert!(!change.state_changed() && !change_by_resume.state_changed());
    assert_eq!(health.effective_state(now), HealthState::Limited);
}

#[test]
fn a_send_accepted_within_the_quiet_period_leaves_the_limit() {
    let health = health_of(
        &[
            obs(HealthSignal::PeerFlood, 0),
            obs(HealthSignal::SendSucceeded, LIMITED_QUIET_SECS),
        ],
        at(LIMITED_QUIET_SECS),
    );
    assert_eq!(health.effective_state(at(LIMITED_QUIET_SECS)), HealthState::Limited);
}

#[test]
fn a_send_accepted_after_the_quiet_period_lifts_the_limit() {
    let now = at(LIMITED_QUIET_SECS + 1);
    let mut health = health_of(&[obs(HealthSignal::PeerFlood, 0)], now);
    let change = health.apply(obs(HealthSignal::SendSucceeded, LIMITED_QUIET_SECS + 1), now);
    assert_eq!(change.before.state, HealthState::Limited);
    assert_eq!(change.after.state, HealthState::Active);
}

#[test]
fn a_late_peer_flood_observed_after_the_limit_was_lifted_limits_again() {
    let now = at(3 * DAY);
    let mut health = health_of(
        &[
            obs(HealthSignal::PeerFlood, 0),
            obs(HealthSignal::SendSucceeded, 2 * DAY),
        ],
        now,
    );
    assert_eq!(health.effective_state(now), HealthState::Active);
    health.apply(obs(HealthSignal::PeerFlood, DAY), now);
    assert_eq!(health.effective_state(now), HealthState::Limited);
}

#[test]
fn an_operator_resume_lifts_pause_limit_and_freeze() {
    for signal in [paused(), HealthSignal::PeerFlood, auth(AuthErrorKind::Frozen)] {
        let mut health = health_of(&[obs(signal, 0)], at(10));
        assert_ne!(health.effective_state(at(10)), HealthState::Active);
        assert!(health.resumable(at(10)));
        let change = health.apply(obs(resumed(), 10), at(10));
        assert_eq!(change.after.state, HealthState::Active, "{signal:?}");
        assert!(change.state_changed());
    }
}

#[test]
fn an_operator_resume_does_not_end_a_cooldown() {
    let mut health = health_of(&[obs(HealthSignal::FloodWait { seconds: 600 }, 0)], at(10));
    assert!(!health.resumable(at(10)));
    health.apply(obs(resumed(), 10), at(10));
    assert_eq!(health.effective_state(at(10)), HealthState::Cooldown { until: at(600) });
}

#[test]
fn a_resume_never_lifts_a_ban_or_an_invalid_session() {
    let cases = [
        (auth(AuthErrorKind::UserDeactivatedBan), HealthState::Banned),
        (auth(AuthErrorKind::SessionRevoked), HealthState::SessionInvalid),
        (auth(AuthErrorKind::AuthKeyUnregistered), HealthState::SessionInvalid),
    ];
    for (signal, state) in cases {
        let mut health = health_of(&[obs(signal, 0)], at(10));
        assert!(!health.resumable(at(10)));
        health.apply(obs(resumed(), 10), at(10));
        health.apply(obs(HealthSignal::SendSucceeded, 5 * DAY), at(5 * DAY));
        assert_eq!(health.effective_state(at(5 * DAY)), state);
    }
}

#[test]
fn a_sent_message_does_not_lift_a_freeze() {
    let health = health_of(
        &[
            obs(auth(AuthErrorKind::Frozen), 0),
            obs(HealthSignal::SendSucceeded, 5 * DAY),
        ],
        at(5 * DAY),
    );
    assert_eq!(health.effective_state(at(5 * DAY)), HealthState::Frozen);
}

#[test]
fn a_resume_older_than_the_pause_does_not_lift_it() {
    let health = health_of(&[obs(paused(), 100), obs(resumed(), 50)], at(100));
    assert_eq!(health.effective_state(at(100)), HealthState::Paused);
}

#[test]
fn a_pause_after_a_resume_pauses_again() {
    let health = health_of(&[obs(paused(), 0), obs(resumed(), 50), obs(paused(), 100)], at(100));
    assert_eq!(health.effective_state(at(100)), HealthState::Paused);
}

#[test]
fn a_restriction_and_a_resume_at_the_same_instant_leave_the_restriction() {
    for order in [[paused(), resumed()], [resumed(), paused()]] {
        let health = health_of(&[obs(order[0], 7), obs(order[1], 7)], at(7));
        assert_eq!(health.effective_state(at(7)), HealthState::Paused);
    }
}

#[test]
fn the_most_severe_restriction_is_the_state_and_every_one_in_force_is_listed() {
    let health = health_of(
        &[
            obs(HealthSignal::FloodWait { seconds: 600 }, 0),
            obs(paused(), 1),
            obs(HealthSignal::PeerFlood, 2),
            obs(auth(AuthErrorKind::Frozen), 3),
            obs(auth(AuthErrorKind::SessionRevoked), 4),
            obs(auth(AuthErrorKind::UserDeactivatedBan), 5),
        ],
        at(5),
    );
    assert_eq!(
        health.restrictions(at(5)),
        [
            HealthState::Banned,
            HealthState::SessionInvalid,
            HealthState::Frozen,
            HealthState::Limited,
            HealthState::Paused,
            HealthState::Cooldown { until: at(600) },
        ]
    );
    assert_eq!(health.effective_state(at(5)), HealthState::Banned);
}

#[test]
fn a_paused_account_in_a_flood_wait_shows_paused_and_then_only_the_cooldown_after_a_resume() {
    let mut health = health_of(
        &[obs(HealthSignal::FloodWait { seconds: 600 }, 0), obs(paused(), 1)],
        at(1),
    );
    assert_eq!(health.effective_state(at(1)), HealthState::Paused);
    health.apply(obs(resumed(), 2), at(2));
    assert_eq!(health.effective_state(at(2)), HealthState::Cooldown { until: at(600) });
}

#[test]
fn the_change_says_whether_state_or_risk_moved() {
    let mut health = AccountHealth::new();
    let quiet = health.apply(obs(HealthSignal::SendSucceeded, 0), at(0));
    assert!(!quiet.changed());
    let network = health.apply(
        obs(
            HealthSignal::SendFailed {
                kind: SendFailureKind::Network,
            },
            0,
        ),
        at(0),
    );
    assert!(!network.changed());
    let privacy = health.apply(
        obs(
            HealthSignal::SendFailed {
                kind: SendFailureKind::UserPrivacyRestricted,
            },
            0,
        ),
        at(0),
    );
    assert!(privacy.changed() && privacy.risk_changed() && !privacy.state_changed());
    let flood = health.apply(obs(HealthSignal::PeerFlood, 0), at(0));
    assert!(flood.state_changed());
    assert_eq!(flood.after.risk.value(), 64);
}

#[test]
fn an_observation_from_the_future_counts_as_observed_now() {
    let mut health = AccountHealth::new();
    health.apply(
        HealthObservation::new(HealthSignal::FloodWait { seconds: 60 }, at(DAY)),
        at(0),
    );
    assert_eq!(health.cooldown_until(), Some(at(60)));
    assert_eq!(health.last_observed_at(), Some(at(0)));
}

#[test]
fn a_stored_health_reloads_identically() {
    let health = health_of(
        &[
            obs(HealthSignal::FloodWait { seconds: 600 }, 0),
            obs(HealthSignal::PeerFlood, 10),
            obs(resumed(), 20),
            obs(HealthSignal::SendSucceeded, 30),
        ],
        at(30),
    );
    let json = serde_json::to_string(&health).unwrap();
    let reloaded: AccountHealth = serde_json::from_str(&json).unwrap();
    assert_eq!(reloaded, health);
}
