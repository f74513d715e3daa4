//! Whether an account may send now.
//!
//! Rules:
//! - Any hard state other than `ACTIVE` stops all sending, manual or automated; a cooldown only until its
//!   end. The refusal names the most severe restriction.
//! - Rising risk holds back automated sending first: automated sends are refused from
//!   [`SendPolicy::automated_max_risk`] (50) up, and say when the score will have decayed below it if no new
//!   bad signal arrives. Manual sends, made by a person watching the account, are allowed until a hard state.
//! - The policy only slows or stops sending; it never works around a Telegram limit.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::account_health::AccountHealth;
use super::risk::RiskScore;
use super::state::{HealthState, HealthStateKind};

/// Who is sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendKind {
    /// A person sending from the dashboard.
    Manual,
    /// An automation.
    Automated,
}

/// Why sending is refused; the names are stable and machine-readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalReason {
    /// The account is in a hard state other than `ACTIVE`.
    HardState(HealthStateKind),
    /// The risk score holds back automated sending.
    RiskTooHigh,
}

impl RefusalReason {
    /// `COOLDOWN`, `LIMITED`, `FROZEN`, `SESSION_INVALID`, `BANNED`, `PAUSED` or `RISK_TOO_HIGH`.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::HardState(kind) => kind.as_str(),
            RefusalReason::RiskTooHigh => "RISK_TOO_HIGH",
        }
    }
}

/// A refused send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendRefusal {
    pub reason: RefusalReason,
    /// When sending may be tried again, when it is known: the end of a cooldown, or when the risk will have
    /// decayed below the threshold. `None` when a person must act first.
    pub retry_at: Option<DateTime<Utc>>,
    /// How long from the decision until `retry_at`, in whole seconds rounded up.
    pub retry_after: Option<Duration>,
    /// The risk score at the decision.
    pub risk: RiskScore,
}

impl fmt::Display for SendRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            RefusalReason::HardState(HealthStateKind::Cooldown) => {
                write!(f, "the account is cooling down after a Telegram flood wait")?
            }
            RefusalReason::HardState(HealthStateKind::Limited) => write!(f, "Telegram limited the account for spam")?,
            RefusalReason::HardState(HealthStateKind::Frozen) => write!(f, "Telegram froze the account")?,
            RefusalReason::HardState(HealthStateKind::SessionInvalid) => {
                write!(f, "the account's session is no longer valid")?
            }
            RefusalReason::HardState(HealthStateKind::Banned) => write!(f, "Telegram banned the account")?,
            RefusalReason::HardState(HealthStateKind::Paused) => write!(f, "an operator paused the account")?,
            RefusalReason::HardState(HealthStateKind::Active) => write!(f, "the account is active")?,
            RefusalReason::RiskTooHigh => write!(f, "the account's risk score holds back automated sending")?,
        }
        if let Some(after) = self.retry_after {
            write!(f, "; retry after {} s", after.as_secs())?;
        }
        Ok(())
    }
}

impl std::error::Error for SendRefusal {}

/// The thresholds of the sending policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPolicy {
    /// Automated sends are refused at this risk and above.
    pub automated_max_risk: RiskScore,
}

impl Default for SendPolicy {
    fn default() -> Self {
        Self::STANDARD
    }
}

impl SendPolicy {
    pub const STANDARD: SendPolicy = SendPolicy {
        automated_max_risk: match RiskScore::new(50) {
            Some(score) => score,
            None => RiskScore::MAX,
        },
    };

    /// How many automated messages an account may send in an hour at `risk`: the budget shrinks as risk
    /// rises (30 below 20, 15 below 35, 5 below the automated limit) and is 0 from the automated limit up, so
    /// automations slow down before the policy stops them.
    pub fn automated_per_hour(&self, risk: RiskScore) -> u32 {
        let risk = risk.value();
        if risk >= self.automated_max_risk.value() {
            0
        } else if risk < 20 {
            30
        } else if risk < 35 {
            15
        } else {
            5
        }
    }

    /// Whether `health` lets a send of `kind` go out at `now`.
    pub fn decide(&self, health: &AccountHealth, kind: SendKind, now: DateTime<Utc>) -> Result<(), SendRefusal> {
        let risk = health.risk(now);
        let refuse = |reason, retry_at: Option<DateTime<Utc>>| SendRefusal {
            reason,
            retry_at,
            retry_after: retry_at.map(|at| seconds_until(at, now)),
            risk,
        };
        match health.effective_state(now) {
            HealthState::Active => {}
            HealthState::Cooldown { until } => {
                return Err(refuse(RefusalReason::HardState(HealthStateKind::Cooldown), Some(until)));
            }
            other => return Err(refuse(RefusalReason::HardState(other.kind()), None)),
        }
        if kind == SendKind::Automated && risk >= self.automated_max_risk {
            let retry_at = health.ledger().below_at(self.automated_max_risk, now);
            return Err(refuse(RefusalReason::RiskTooHigh, retry_at));
        }
        Ok(())
    }
}

/// Whole seconds from `now` to `at`, rounded up, at least one.
fn seconds_until(at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    let millis = (at - now).num_milliseconds().max(1);
    let secs = millis.unsigned_abs().div_ceil(1000);
    Duration::from_secs(secs)
}
