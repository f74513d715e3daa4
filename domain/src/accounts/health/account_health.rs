//! [`AccountHealth`]: everything known about one account's health, and how an observation changes it.
//!
//! Rules:
//! - Each restriction is kept as the time of the newest observation that set it, next to the time of the
//!   newest observation that can lift it; the hard state is derived from those times when asked
//!   ([`AccountHealth::effective_state`]). Merging by "newest wins" makes the outcome independent of the
//!   order observations are delivered in: applying them in any order equals applying them in observation
//!   order. In particular a healthy observation observed before a restriction never lifts it, and an old
//!   observation never lowers the state.
//! - At equal observation times the restriction wins over the observation that would lift it.
//! - `COOLDOWN` (a flood wait) lasts until `observed_at + seconds` and ends by itself. Overlapping waits
//!   keep the latest end: a longer one extends the cooldown, a shorter one never shortens it. Nothing else
//!   ends it, not even an operator: Telegram enforces the wait.
//! - `LIMITED` (a peer flood) is lifted by an operator's resume observed after the newest peer flood, or by
//!   a send Telegram accepted more than [`LIMITED_QUIET_SECS`] (24 h) after it. While limited the send policy
//!   refuses our sends, so the operator's resume (after checking with @SpamBot) is the usual way out; if
//!   Telegram still limits the account, the next send brings `LIMITED` back.
//! - `FROZEN` is lifted only by an operator's resume observed after the newest freeze (the appeal was
//!   accepted). `PAUSED` only by a resume observed after the newest pause.
//! - `SESSION_INVALID` and `BANNED` are never lifted here: a resume does not lift them. An invalid session
//!   needs a new session (re-login, out of scope of these rules); a ban is final.
//! - The risk score comes from the [`RiskLedger`]. Applying the same observation twice counts its points
//!   twice (restrictions are unaffected), so each observation is applied once.
//! - An observation stamped later than `now` (clock skew) counts as observed `now`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::risk::{RiskLedger, RiskScore};
use super::signal::{AuthErrorKind, HealthObservation, HealthSignal};
use super::state::{HealthState, HealthStateKind};

/// How long after a peer flood a send Telegram accepted lifts `LIMITED` by itself.
pub const LIMITED_QUIET_SECS: i64 = 24 * 60 * 60;

/// The health of one account, as stored. Plain data: every field is a time or the risk ledger.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccountHealth {
    /// The latest end of any flood wait.
    cooldown_until: Option<DateTime<Utc>>,
    /// The newest observation of each restriction.
    peer_flood_at: Option<DateTime<Utc>>,
    frozen_at: Option<DateTime<Utc>>,
    session_invalid_at: Option<DateTime<Utc>>,
    banned_at: Option<DateTime<Utc>>,
    paused_at: Option<DateTime<Utc>>,
    /// The newest operator resume.
    resumed_at: Option<DateTime<Utc>>,
    /// The newest send Telegram accepted.
    last_success_at: Option<DateTime<Utc>>,
    /// The newest observation of any kind.
    last_observed_at: Option<DateTime<Utc>>,
    ledger: RiskLedger,
}

/// The state and risk of an account at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthSnapshot {
    pub state: HealthState,
    pub risk: RiskScore,
}

/// What applying an observation changed, both sides evaluated at the same `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthChange {
    pub before: HealthSnapshot,
    pub after: HealthSnapshot,
}

impl HealthChange {
    /// Whether the state or the risk moved: when to emit `AccountHealthChanged`.
    pub fn changed(&self) -> bool {
        self.before != self.after
    }

    pub fn state_changed(&self) -> bool {
        self.before.state != self.after.state
    }

    pub fn risk_changed(&self) -> bool {
        self.before.risk != self.after.risk
    }
}

/// `a` is set and later than `b` (or `b` is unset).
fn later(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

fn keep_newest(slot: &mut Option<DateTime<Utc>>, at: DateTime<Utc>) {
    *slot = Some(slot.map_or(at, |current| current.max(at)));
}

impl AccountHealth {
    /// A healthy account nothing is known about.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one observation; returns the state and risk before and after it, at `now`.
    pub fn apply(&mut self, observation: HealthObservation, now: DateTime<Utc>) -> HealthChange {
        let before = self.snapshot(now);
        let at = observation.observed_at.min(now);
        match observation.signal {
            HealthSignal::FloodWait { seconds } => {
                let until = at + chrono::TimeDelta::seconds(i64::from(seconds));
                keep_newest(&mut self.cooldown_until, until);
            }
            HealthSignal::PeerFlood => keep_newest(&mut self.peer_flood_at, at),
            HealthSignal::AuthError { kind } => match kind {
                AuthErrorKind::SessionRevoked | AuthErrorKind::AuthKeyUnregistered => {
                    keep_newest(&mut self.session_invalid_at, at)
                }
                AuthErrorKind::UserDeactivatedBan => keep_newest(&mut self.banned_at, at),
                AuthErrorKind::Frozen => keep_newest(&mut self.frozen_at, at),
            },
            HealthSignal::OperatorPaused { .. } | HealthSignal::AutomationPaused { .. } => {
                keep_newest(&mut self.paused_at, at)
            }
            HealthSignal::OperatorResumed { .. } => keep_newest(&mut self.resumed_at, at),
            HealthSignal::SendSucceeded => keep_newest(&mut self.last_success_at, at),
            HealthSignal::SendFailed { .. } => {}
        }
        keep_newest(&mut self.last_observed_at, at);
        self.ledger.record(&observation.signal, at, now);
        HealthChange {
            before,
            after: self.snapshot(now),
        }
    }

    /// The most severe restriction in force at `now`, or `ACTIVE`.
    pub fn effective_state(&self, now: DateTime<Utc>) -> HealthState {
        self.restrictions(now).into_iter().next().unwrap_or(HealthState::Active)
    }

    /// Every restriction in force at `now`, most severe first; empty when the account is active.
    pub fn restrictions(&self, now: DateTime<Utc>) -> Vec<HealthState> {
        let mut states = Vec::new();
        if self.banned_at.is_some() {
            states.push(HealthState::Banned);
        }
        if self.session_invalid_at.is_some() {
            states.push(HealthState::SessionInvalid);
        }
        if !later(self.resumed_at, self.frozen_at) && self.frozen_at.is_some() {
            states.push(HealthState::Frozen);
        }
        if self.is_limited() {
            states.push(HealthState::Limited);
        }
        if !later(self.resumed_at, self.paused_at) && self.paused_at.is_some() {
            states.push(HealthState::Paused);
        }
        if let Some(until) = self.cooldown_until.filter(|until| *until > now) {
            states.push(HealthState::Cooldown { until });
        }
        debug_assert!(states.windows(2).all(|w| w[0].severity() > w[1].severity()));
        states
    }

    fn is_limited(&self) -> bool {
        let Some(peer_flood_at) = self.peer_flood_at else {
            return false;
        };
        let resumed = later(self.resumed_at, Some(peer_flood_at));
        let quiet_end = peer_flood_at + chrono::TimeDelta::seconds(LIMITED_QUIET_SECS);
        let sent_after_quiet = later(self.last_success_at, Some(quiet_end));
        !resumed && !sent_after_quiet
    }

    /// The risk score at `now`.
    pub fn risk(&self, now: DateTime<Utc>) -> RiskScore {
        self.ledger.score(now)
    }

    pub fn snapshot(&self, now: DateTime<Utc>) -> HealthSnapshot {
        HealthSnapshot {
            state: self.effective_state(now),
            risk: self.risk(now),
        }
    }

    /// Whether the hard state at `now` is one an operator's resume would lift entirely (every restriction in
    /// force is a pause, a spam limit or a freeze).
    pub fn resumable(&self, now: DateTime<Utc>) -> bool {
        let restrictions = self.restrictions(now);
        !restrictions.is_empty() && restrictions.iter().all(|s| s.kind().lifted_by_operator_resume())
    }

    pub fn ledger(&self) -> &RiskLedger {
        &self.ledger
    }

    pub fn cooldown_until(&self) -> Option<DateTime<Utc>> {
        self.cooldown_until
    }

    /// When the newest observation that set `kind` was observed (`None` for `ACTIVE` and `COOLDOWN`, which
    /// keeps its end instead: [`AccountHealth::cooldown_until`]).
    pub fn restricted_at(&self, kind: HealthStateKind) -> Option<DateTime<Utc>> {
        match kind {
            HealthStateKind::Active | HealthStateKind::Cooldown => None,
            HealthStateKind::Paused => self.paused_at,
            HealthStateKind::Limited => self.peer_flood_at,
            HealthStateKind::Frozen => self.frozen_at,
            HealthStateKind::SessionInvalid => self.session_invalid_at,
            HealthStateKind::Banned => self.banned_at,
        }
    }

    pub fn resumed_at(&self) -> Option<DateTime<Utc>> {
        self.resumed_at
    }

    pub fn last_success_at(&self) -> Option<DateTime<Utc>> {
        self.last_success_at
    }

    pub fn last_observed_at(&self) -> Option<DateTime<Utc>> {
        self.last_observed_at
    }
}
