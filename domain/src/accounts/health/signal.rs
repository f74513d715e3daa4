//! Health signals: what Telegram answered (or an operator decided) about an account, and when.
//!
//! Rules:
//! - Every signal travels as a [`HealthObservation`] whose `observed_at` is when Telegram answered (or the
//!   operator acted), not when we stored it: ordering rules compare observation times, never arrival times.
//! - Signals either *restrict* (a flood wait, a peer flood, an auth error, a pause), *clear* (a send Telegram
//!   accepted, an operator's resume) or only feed the risk score (a failed send).
//! - The names returned by `as_str` are stored; they never change. The serde form uses the same names.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::state::HealthStateKind;
use crate::ids::{AutomationId, UserId};

/// Why Telegram refused one message, when the refusal is about that message rather than the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SendFailureKind {
    /// The peer does not exist or is not reachable from this account (`PEER_ID_INVALID`).
    PeerInvalid,
    /// The recipient's privacy settings refuse messages from this account (`USER_PRIVACY_RESTRICTED`).
    UserPrivacyRestricted,
    /// The account may not write in that chat (`CHAT_WRITE_FORBIDDEN`).
    ChatWriteForbidden,
    /// The network or Telegram's servers failed; says nothing about the account.
    Network,
    /// Any other refusal.
    Other,
}

impl SendFailureKind {
    pub const ALL: [SendFailureKind; 5] = [
        SendFailureKind::PeerInvalid,
        SendFailureKind::UserPrivacyRestricted,
        SendFailureKind::ChatWriteForbidden,
        SendFailureKind::Network,
        SendFailureKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SendFailureKind::PeerInvalid => "PEER_INVALID",
            SendFailureKind::UserPrivacyRestricted => "USER_PRIVACY_RESTRICTED",
            SendFailureKind::ChatWriteForbidden => "CHAT_WRITE_FORBIDDEN",
            SendFailureKind::Network => "NETWORK",
            SendFailureKind::Other => "OTHER",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Telegram refused the account itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthErrorKind {
    /// The session was terminated from another device (`SESSION_REVOKED`).
    SessionRevoked,
    /// Telegram no longer knows the auth key (`AUTH_KEY_UNREGISTERED`).
    AuthKeyUnregistered,
    /// The account was banned (`USER_DEACTIVATED_BAN`).
    UserDeactivatedBan,
    /// The account is frozen (`FROZEN_METHOD_INVALID`).
    Frozen,
}

impl AuthErrorKind {
    pub const ALL: [AuthErrorKind; 4] = [
        AuthErrorKind::SessionRevoked,
        AuthErrorKind::AuthKeyUnregistered,
        AuthErrorKind::UserDeactivatedBan,
        AuthErrorKind::Frozen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthErrorKind::SessionRevoked => "SESSION_REVOKED",
            AuthErrorKind::AuthKeyUnregistered => "AUTH_KEY_UNREGISTERED",
            AuthErrorKind::UserDeactivatedBan => "USER_DEACTIVATED_BAN",
            AuthErrorKind::Frozen => "FROZEN",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The hard state the error puts the account in.
    pub fn resulting_state(self) -> HealthStateKind {
        match self {
            AuthErrorKind::SessionRevoked | AuthErrorKind::AuthKeyUnregistered => HealthStateKind::SessionInvalid,
            AuthErrorKind::UserDeactivatedBan => HealthStateKind::Banned,
            AuthErrorKind::Frozen => HealthStateKind::Frozen,
        }
    }
}

/// One thing learnt about an account's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "signal", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HealthSignal {
    /// Telegram asked the account to wait `seconds` before calling again (`FLOOD_WAIT_X`).
    FloodWait { seconds: u32 },
    /// Telegram limited the account for spam (`PEER_FLOOD`).
    PeerFlood,
    /// Telegram refused one message.
    SendFailed { kind: SendFailureKind },
    /// Telegram refused the account.
    AuthError { kind: AuthErrorKind },
    /// Telegram accepted a message: a healthy observation.
    SendSucceeded,
    /// An operator paused the account.
    OperatorPaused { by: UserId },
    /// An operator resumed the account.
    OperatorResumed { by: UserId },
    /// An automation's `pauseAccount` action paused the account (a person resumes it).
    AutomationPaused { automation: AutomationId },
}

impl HealthSignal {
    /// The stored name of the signal's kind.
    pub fn as_str(&self) -> &'static str {
        match self {
            HealthSignal::FloodWait { .. } => "FLOOD_WAIT",
            HealthSignal::PeerFlood => "PEER_FLOOD",
            HealthSignal::SendFailed { .. } => "SEND_FAILED",
            HealthSignal::AuthError { .. } => "AUTH_ERROR",
            HealthSignal::SendSucceeded => "SEND_SUCCEEDED",
            HealthSignal::OperatorPaused { .. } => "OPERATOR_PAUSED",
            HealthSignal::OperatorResumed { .. } => "OPERATOR_RESUMED",
            HealthSignal::AutomationPaused { .. } => "AUTOMATION_PAUSED",
        }
    }

    /// The hard state this signal imposes, if any.
    pub fn restricts(&self) -> Option<HealthStateKind> {
        match self {
            HealthSignal::FloodWait { .. } => Some(HealthStateKind::Cooldown),
            HealthSignal::PeerFlood => Some(HealthStateKind::Limited),
            HealthSignal::AuthError { kind } => Some(kind.resulting_state()),
            HealthSignal::OperatorPaused { .. } | HealthSignal::AutomationPaused { .. } => {
                Some(HealthStateKind::Paused)
            }
            HealthSignal::SendFailed { .. } | HealthSignal::SendSucceeded | HealthSignal::OperatorResumed { .. } => {
                None
            }
        }
    }

    /// Whether the signal can lift a restriction (a send Telegram accepted, an operator's resume).
    pub fn may_clear(&self) -> bool {
        matches!(self, HealthSignal::SendSucceeded | HealthSignal::OperatorResumed { .. })
    }
}

/// A signal and when it was observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HealthObservation {
    pub signal: HealthSignal,
    /// When Telegram answered or the operator acted.
    pub observed_at: DateTime<Utc>,
}

impl HealthObservation {
    pub fn new(signal: HealthSignal, observed_at: DateTime<Utc>) -> Self {
        Self { signal, observed_at }
    }
}

impl HealthSignal {
    /// What a gateway failure says about the account, if anything (a message too long says nothing).
    pub fn from_gateway(error: &crate::accounts::gateway::GatewayError) -> Option<Self> {
        use crate::accounts::gateway::GatewayError as E;
        Some(match error {
            E::FloodWait { seconds } => Self::FloodWait { seconds: *seconds },
            E::PeerFlood => Self::PeerFlood,
            E::SessionInvalid => Self::AuthError {
                kind: AuthErrorKind::SessionRevoked,
            },
            E::Banned => Self::AuthError {
                kind: AuthErrorKind::UserDeactivatedBan,
            },
            E::Frozen => Self::AuthError {
                kind: AuthErrorKind::Frozen,
            },
            E::PeerInvalid => Self::SendFailed {
                kind: SendFailureKind::PeerInvalid,
            },
            E::PrivacyRestricted => Self::SendFailed {
                kind: SendFailureKind::UserPrivacyRestricted,
            },
            E::WriteForbidden => Self::SendFailed {
                kind: SendFailureKind::ChatWriteForbidden,
            },
            E::Network(_) => Self::SendFailed {
                kind: SendFailureKind::Network,
            },
            E::Other(_) => Self::SendFailed {
                kind: SendFailureKind::Other,
            },
            E::MessageTooLong | E::MessageEmpty | E::NoMedia | E::FileTooLarge { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_name_parses_back_and_matches_the_serde_name() {
        for kind in SendFailureKind::ALL {
            assert_eq!(SendFailureKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        for kind in AuthErrorKind::ALL {
            assert_eq!(AuthErrorKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }

    #[test]
    fn signal_names_are_the_serde_tags() {
        let by = UserId::generate();
        let signals = [
            HealthSignal::FloodWait { seconds: 30 },
            HealthSignal::PeerFlood,
            HealthSignal::SendFailed {
                kind: SendFailureKind::Network,
            },
            HealthSignal::AuthError {
                kind: AuthErrorKind::Frozen,
            },
            HealthSignal::SendSucceeded,
            HealthSignal::OperatorPaused { by },
            HealthSignal::OperatorResumed { by },
            HealthSignal::AutomationPaused {
                automation: crate::ids::AutomationId::generate(),
            },
        ];
        for signal in signals {
            let json = serde_json::to_value(signal).unwrap();
            assert_eq!(json["signal"], signal.as_str());
            assert_eq!(serde_json::from_value::<HealthSignal>(json).unwrap(), signal);
        }
    }

    #[test]
    fn auth_errors_map_to_their_hard_states() {
        assert_eq!(
            AuthErrorKind::SessionRevoked.resulting_state(),
            HealthStateKind::SessionInvalid
        );
        assert_eq!(
            AuthErrorKind::AuthKeyUnregistered.resulting_state(),
            HealthStateKind::SessionInvalid
        );
        assert_eq!(
            AuthErrorKind::UserDeactivatedBan.resulting_state(),
            HealthStateKind::Banned
        );
        assert_eq!(AuthErrorKind::Frozen.resulting_state(), HealthStateKind::Frozen);
    }
}
