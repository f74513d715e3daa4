//! The send policy as a table: each health against a manual and an automated send.

use std::time::Duration;

use super::{at, health_of, obs, paused, resumed};
use crate::accounts::health::{
    AccountHealth, AuthErrorKind, HealthObservation, HealthSignal, HealthStateKind, RefusalReason, RiskScore,
    SendFailureKind, SendKind, SendPolicy,
};

fn failures(kind: SendFailureKind, count: usize) -> Vec<HealthObservation> {
    vec![obs(HealthSignal::SendFailed { kind }, 0); count]
}

/// 12 privacy refusals (48) and `others` other failures (1 each), all now.
fn risky(others: usize) -> AccountHealth {
    let mut observations = failures(SendFailureKind::UserPrivacyRestricted, 12);
    observations.extend(failures(SendFailureKind::Other, others));
    health_of(&observations, at(0))
}

#[test]
fn the_policy_table_holds() {
    let policy = SendPolicy::default();
    let auth = |kind| HealthSignal::AuthError { kind };
    let hard = |signal| health_of(&[obs(signal, 0)], at(0));
    let limited_then_resumed = health_of(&[obs(HealthSignal::PeerFlood, 0), obs(resumed(), 1)], at(1));
    let cases: Vec<(&str, AccountHealth, Option<RefusalReason>, Option<RefusalReason>)> = vec![
        ("new account", AccountHealth::new(), None, None),
        ("risk 49", risky(1), None, None),
        ("risk 50", risky(2), None, Some(RefusalReason::RiskTooHigh)),
        (
            "limit lifted, risk 60",
            limited_then_resumed,
            None,
            Some(RefusalReason::RiskTooHigh),
        ),
        (
            "cooldown",
            hard(HealthSignal::FloodWait { seconds: 90 }),
            Some(RefusalReason::HardState(HealthStateKind::Cooldown)),
            Some(RefusalReason::HardState(HealthStateKind::Cooldown)),
        ),
        (
            "limited",
            hard(HealthSignal::PeerFlood),
            Some(RefusalReason::HardState(HealthStateKind::Limited)),
            Some(RefusalReason::HardState(HealthStateKind::Limited)),
        ),
        (
            "frozen",
            hard(auth(AuthErrorKind::Frozen)),
            Some(RefusalReason::HardState(HealthStateKind::Frozen)),
            Some(RefusalReason::HardState(HealthStateKind::Frozen)),
        ),
        (
            "session invalid",
            hard(auth(AuthErrorKind::AuthKeyUnregistered)),
            Some(RefusalReason::HardState(HealthStateKind::SessionInvalid)),
            Some(RefusalReason::HardState(HealthStateKind::SessionInvalid)),
        ),
        (
            "banned",
            hard(auth(AuthErrorKind::UserDeactivatedBan)),
            Some(RefusalReason::HardState(HealthStateKind::Banned)),
            Some(RefusalReason::HardState(HealthStateKind::Banned)),
        ),
        (
            "paused",
            hard(paused()),
            Some(RefusalReason::HardState(HealthStateKind::Paused)),
            Some(RefusalReason::HardState(HealthStateKind::Paused)),
        ),
    ];
    for (name, health, manual, automated) in cases {
        let decide = |kind| policy.decide(&health, kind, at(0)).err().map(|r| r.reason);
        assert_eq!(decide(SendKind::Manual), manual, "{name}: manual");
        assert_eq!(decide(SendKind::Automated), automated, "{name}: automated");
    }
}

#[test]
fn a_cooldown_refusal_says_when_to_retry() {
    let health = health_of(&[obs(HealthSignal::FloodWait { seconds: 90 }, 0)], at(0));
    let refusal = SendPolicy::default()
        .decide(&health, SendKind::Manual, at(30))
        .unwrap_err();
    assert_eq!(refusal.reason.as_str(), "COOLDOWN");
    assert_eq!(refusal.retry_at, Some(at(90)));
    assert_eq!(refusal.retry_after, Some(Duration::from_secs(60)));
    assert!(refusal.to_string().contains("retry after 60 s"));
    assert!(
        SendPolicy::default()
            .decide(&health, SendKind::Automated, at(90))
            .is_ok()
    );
}

#[test]
fn a_risk_refusal_says_when_the_score_will_have_decayed_below_the_threshold() {
    let health = risky(2);
    let policy = SendPolicy::default();
    let refusal = policy.decide(&health, SendKind::Automated, at(0)).unwrap_err();
    assert_eq!(refusal.reason.as_str(), "RISK_TOO_HIGH");
    assert_eq!(refusal.risk.value(), 50);
    let retry_at = refusal.retry_at.unwrap();
    assert!(retry_at > at(0));
    assert!(policy.decide(&health, SendKind::Automated, retry_at).is_ok());
}

#[test]
fn a_person_must_act_before_a_hard_state_other_than_cooldown_can_be_retried() {
    let health = health_of(&[obs(HealthSignal::PeerFlood, 0)], at(0));
    let refusal = SendPolicy::default()
        .decide(&health, SendKind::Manual, at(0))
        .unwrap_err();
    assert_eq!(refusal.retry_at, None);
    assert_eq!(refusal.retry_after, None);
}

#[test]
fn a_stricter_policy_holds_automation_back_earlier() {
    let policy = SendPolicy {
        automated_max_risk: RiskScore::new(20).unwrap(),
    };
    let health = health_of(&failures(SendFailureKind::UserPrivacyRestricted, 5), at(0));
    assert!(policy.decide(&health, SendKind::Automated, at(0)).is_err());
    assert!(policy.decide(&health, SendKind::Manual, at(0)).is_ok());
}

#[test]
fn the_automated_budget_shrinks_as_risk_rises_and_is_gone_at_the_automated_limit() {
    let policy = SendPolicy::default();
    let budget = |risk: u8| policy.automated_per_hour(RiskScore::new(risk).unwrap());
    assert_eq!(
        [budget(0), budget(19), budget(20), budget(34), budget(35), budget(49)],
        [30, 30, 15, 15, 5, 5]
    );
    assert_eq!([budget(50), budget(100)], [0, 0]);
    let mut previous = u32::MAX;
    for risk in 0..=100 {
        assert!(budget(risk) <= previous, "the budget never grows with risk");
        previous = budget(risk);
    }
}
