//! The hard health state of an account: whether Telegram (or an operator) lets it send at all.
//!
//! Rules:
//! - Several restrictions can be in force at once (an operator pause during a flood wait, say); the state
//!   shown and acted on is the most severe one. Severity, highest first:
//!   `BANNED > SESSION_INVALID > FROZEN > LIMITED > PAUSED > COOLDOWN > ACTIVE`.
//!   Terminal states come first, then those that need a new session, then Telegram's sanctions (a freeze
//!   needs an appeal, a spam limit is usually lifted by Telegram in time), then the operator's own pause,
//!   and last the flood-wait cooldown, which ends by itself.
//! - The names returned by [`HealthStateKind::as_str`] are stored and shown to clients; they never change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A hard state without its data, ordered by severity (the derived order is the severity order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HealthStateKind {
    Active,
    Cooldown,
    Paused,
    Limited,
    Frozen,
    SessionInvalid,
    Banned,
}

impl HealthStateKind {
    /// Every kind, least severe first.
    pub const ALL: [HealthStateKind; 7] = [
        HealthStateKind::Active,
        HealthStateKind::Cooldown,
        HealthStateKind::Paused,
        HealthStateKind::Limited,
        HealthStateKind::Frozen,
        HealthStateKind::SessionInvalid,
        HealthStateKind::Banned,
    ];

    /// The stored name: `ACTIVE`, `COOLDOWN`, `LIMITED`, `FROZEN`, `SESSION_INVALID`, `BANNED`, `PAUSED`.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStateKind::Active => "ACTIVE",
            HealthStateKind::Cooldown => "COOLDOWN",
            HealthStateKind::Paused => "PAUSED",
            HealthStateKind::Limited => "LIMITED",
            HealthStateKind::Frozen => "FROZEN",
            HealthStateKind::SessionInvalid => "SESSION_INVALID",
            HealthStateKind::Banned => "BANNED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// 0 for `ACTIVE` up to 6 for `BANNED`; the higher wins when several restrictions are in force.
    pub fn severity(self) -> u8 {
        self as u8
    }

    /// Whether an operator's resume lifts this restriction: a pause, a spam limit and a freeze (the operator
    /// has checked with @SpamBot or had the appeal accepted; if Telegram still objects, the next send brings
    /// the restriction back). A cooldown is Telegram's timer and cannot be shortened; an invalid session
    /// needs a new session; a ban is final.
    pub fn lifted_by_operator_resume(self) -> bool {
        matches!(
            self,
            HealthStateKind::Paused | HealthStateKind::Limited | HealthStateKind::Frozen
        )
    }
}

/// Where an account stands. Anything but [`HealthState::Active`] stops all sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HealthState {
    /// Nothing stops sending (automated sending may still be held back by risk).
    Active,
    /// Telegram asked us to wait (`FLOOD_WAIT_X`) until `until`; ends by itself.
    Cooldown { until: DateTime<Utc> },
    /// Telegram limited the account for spam (`PEER_FLOOD`).
    Limited,
    /// Telegram froze the account; lifted after an accepted appeal.
    Frozen,
    /// The session no longer works (revoked, auth key unregistered); needs a new session.
    SessionInvalid,
    /// Telegram banned the account. Final.
    Banned,
    /// An operator paused the account.
    Paused,
}

impl HealthState {
    pub fn kind(&self) -> HealthStateKind {
        match self {
            HealthState::Active => HealthStateKind::Active,
            HealthState::Cooldown { .. } => HealthStateKind::Cooldown,
            HealthState::Limited => HealthStateKind::Limited,
            HealthState::Frozen => HealthStateKind::Frozen,
            HealthState::SessionInvalid => HealthStateKind::SessionInvalid,
            HealthState::Banned => HealthStateKind::Banned,
            HealthState::Paused => HealthStateKind::Paused,
        }
    }

    /// The stored name (see [`HealthStateKind::as_str`]).
    pub fn as_str(&self) -> &'static str {
        self.kind().as_str()
    }

    pub fn severity(&self) -> u8 {
        self.kind().severity()
    }

    /// The state stored as `name`; `COOLDOWN` needs its end, the other states take none.
    pub fn parse(name: &str, cooldown_until: Option<DateTime<Utc>>) -> Option<Self> {
        let state = match (HealthStateKind::parse(name)?, cooldown_until) {
            (HealthStateKind::Cooldown, Some(until)) => HealthState::Cooldown { until },
            (HealthStateKind::Cooldown, None) | (_, Some(_)) => return None,
            (HealthStateKind::Active, None) => HealthState::Active,
            (HealthStateKind::Paused, None) => HealthState::Paused,
            (HealthStateKind::Limited, None) => HealthState::Limited,
            (HealthStateKind::Frozen, None) => HealthState::Frozen,
            (HealthStateKind::SessionInvalid, None) => HealthState::SessionInvalid,
            (HealthStateKind::Banned, None) => HealthState::Banned,
        };
        Some(state)
    }

    pub fn is_active(&self) -> bool {
        matches!(self, HealthState::Active)
    }

    /// The end of the cooldown, for [`HealthState::Cooldown`].
    pub fn cooldown_until(&self) -> Option<DateTime<Utc>> {
        match self {
            HealthState::Cooldown { until } => Some(*until),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_name_parses_back_to_its_state() {
        let until = DateTime::from_timestamp(1_750_000_000, 0).unwrap();
        for kind in HealthStateKind::ALL {
            assert_eq!(HealthStateKind::parse(kind.as_str()), Some(kind));
            let cooldown = (kind == HealthStateKind::Cooldown).then_some(until);
            let state = HealthState::parse(kind.as_str(), cooldown).unwrap();
            assert_eq!(state.kind(), kind);
            assert_eq!(state.as_str(), kind.as_str());
        }
        assert_eq!(HealthState::parse("COOLDOWN", None), None);
        assert_eq!(HealthState::parse("ACTIVE", Some(until)), None);
        assert_eq!(HealthState::parse("active", None), None);
    }

    #[test]
    fn the_stored_names_never_change() {
        let names: Vec<_> = HealthStateKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "ACTIVE",
                "COOLDOWN",
                "PAUSED",
                "LIMITED",
                "FROZEN",
                "SESSION_INVALID",
                "BANNED"
            ]
        );
        let json = serde_json::to_string(&HealthState::SessionInvalid).unwrap();
        assert_eq!(json, r#"{"state":"SESSION_INVALID"}"#);
    }

    #[test]
    fn a_ban_outranks_everything_and_a_cooldown_outranks_only_active() {
        use HealthStateKind::*;
        let order = [Active, Cooldown, Paused, Limited, Frozen, SessionInvalid, Banned];
        for pair in order.windows(2) {
            assert!(pair[0].severity() < pair[1].severity(), "{pair:?}");
        }
    }

    #[test]
    fn a_resume_lifts_only_pause_limit_and_freeze() {
        let lifted: Vec<_> = HealthStateKind::ALL
            .into_iter()
            .filter(|k| k.lifted_by_operator_resume())
            .collect();
        assert_eq!(
            lifted,
            [
                HealthStateKind::Paused,
                HealthStateKind::Limited,
                HealthStateKind::Frozen
            ]
        );
    }
}
