//! Why a Telegram operation failed, sorted into what the caller does next.
//!
//! Rules:
//! - Transient failures ([`GatewayError::is_transient`]): wait (`FloodWait`) or reconnect (`Network`), then
//!   retry the same operation.
//! - Account failures ([`GatewayError::concerns_account`]): the account itself can no longer do this
//!   (`PeerFlood`, `SessionInvalid`, `Banned`, `Frozen`); account health records them and sending stops.
//! - Everything else concerns this one request (the peer, the text): retrying it unchanged fails again.
//! - Messages never quote a session, a key, a phone number or message text; `Other` holds only Telegram's
//!   error name or a fixed sentence.

/// A classified gateway failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    #[error("Telegram asks to wait {seconds} seconds before trying again")]
    FloodWait { seconds: u32 },
    #[error("Telegram limits this account: it may not message people who have not written to it")]
    PeerFlood,
    #[error("the session is no longer valid; the account must be signed in again")]
    SessionInvalid,
    #[error("the account is banned")]
    Banned,
    #[error("the account is frozen by Telegram")]
    Frozen,
    #[error("the peer does not exist or the account cannot see it")]
    PeerInvalid,
    #[error("the user's privacy settings do not allow this")]
    PrivacyRestricted,
    #[error("the account may not write in this chat")]
    WriteForbidden,
    #[error("the message is longer than Telegram allows")]
    MessageTooLong,
    #[error("the message is empty")]
    MessageEmpty,
    #[error("the message has no media")]
    NoMedia,
    #[error("the file is larger than the {limit} bytes allowed")]
    FileTooLarge { limit: u64 },
    #[error("the connection to Telegram failed: {0}")]
    Network(String),
    #[error("Telegram refused the request: {0}")]
    Other(String),
}

impl GatewayError {
    /// Retrying the same operation later can succeed (after `FloodWait`'s seconds, or after reconnecting).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::FloodWait { .. } | Self::Network(_))
    }

    /// The failure is about the account, not this one request: health must record it.
    pub fn concerns_account(&self) -> bool {
        matches!(
            self,
            Self::PeerFlood | Self::SessionInvalid | Self::Banned | Self::Frozen
        )
    }

    /// Classifies an MTProto RPC error: its code, its name without the number (`FLOOD_WAIT`, not
    /// `FLOOD_WAIT_30`) and that number, as MTProto clients (grammers' `RpcError`) report them.
    pub fn from_rpc(code: i32, name: &str, value: Option<u32>) -> Self {
        match name {
            "FLOOD_WAIT" | "FLOOD_PREMIUM_WAIT" | "SLOWMODE_WAIT" | "FLOOD_TEST_PHONE_WAIT" => Self::FloodWait {
                seconds: value.unwrap_or(0),
            },
            "PEER_FLOOD" => Self::PeerFlood,
            "AUTH_KEY_UNREGISTERED"
            | "AUTH_KEY_INVALID"
            | "AUTH_KEY_DUPLICATED"
            | "SESSION_REVOKED"
            | "SESSION_EXPIRED" => Self::SessionInvalid,
            "USER_DEACTIVATED" | "USER_DEACTIVATED_BAN" | "PHONE_NUMBER_BANNED" => Self::Banned,
            "FROZEN_METHOD_INVALID" | "FROZEN_PARTICIPANT_MISSING" => Self::Frozen,
            "PEER_ID_INVALID"
            | "USER_ID_INVALID"
            | "CHAT_ID_INVALID"
            | "CHANNEL_INVALID"
            | "CHANNEL_PRIVATE"
            | "INPUT_USER_DEACTIVATED" => Self::PeerInvalid,
            "USER_PRIVACY_RESTRICTED" | "PRIVACY_PREMIUM_REQUIRED" => Self::PrivacyRestricted,
            "CHAT_WRITE_FORBIDDEN"
            | "USER_IS_BLOCKED"
            | "YOU_BLOCKED_USER"
            | "CHAT_RESTRICTED"
            | "CHAT_SEND_PLAIN_FORBIDDEN" => Self::WriteForbidden,
            "MESSAGE_TOO_LONG" => Self::MessageTooLong,
            "MESSAGE_EMPTY" => Self::MessageEmpty,
            _ => match code {
                420 => Self::FloodWait {
                    seconds: value.unwrap_or(0),
                },
                401 => Self::SessionInvalid,
                -503 | 500..=599 => Self::Network(format!("{code} {name}")),
                _ => Self::Other(format!("{code} {name}")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_flood_waits_and_network_failures_are_transient() {
        assert!(GatewayError::FloodWait { seconds: 3 }.is_transient());
        assert!(GatewayError::Network("timed out".into()).is_transient());
        for error in [
            GatewayError::PeerFlood,
            GatewayError::SessionInvalid,
            GatewayError::Banned,
            GatewayError::Frozen,
            GatewayError::PeerInvalid,
            GatewayError::PrivacyRestricted,
            GatewayError::WriteForbidden,
            GatewayError::MessageTooLong,
            GatewayError::MessageEmpty,
            GatewayError::Other("400 X".into()),
        ] {
            assert!(!error.is_transient(), "{error:?}");
        }
    }

    #[test]
    fn account_failures_are_told_apart_from_request_failures() {
        assert!(GatewayError::PeerFlood.concerns_account());
        assert!(GatewayError::SessionInvalid.concerns_account());
        assert!(GatewayError::Banned.concerns_account());
        assert!(GatewayError::Frozen.concerns_account());
        assert!(!GatewayError::PeerInvalid.concerns_account());
        assert!(!GatewayError::FloodWait { seconds: 1 }.concerns_account());
    }

    #[test]
    fn rpc_errors_are_classified_by_name_then_by_code() {
        assert_eq!(
            GatewayError::from_rpc(420, "FLOOD_WAIT", Some(30)),
            GatewayError::FloodWait { seconds: 30 }
        );
        assert_eq!(GatewayError::from_rpc(400, "PEER_FLOOD", None), GatewayError::PeerFlood);
        assert_eq!(
            GatewayError::from_rpc(401, "AUTH_KEY_UNREGISTERED", None),
            GatewayError::SessionInvalid
        );
        assert_eq!(
            GatewayError::from_rpc(401, "SOMETHING_NEW", None),
            GatewayError::SessionInvalid
        );
        assert_eq!(
            GatewayError::from_rpc(401, "USER_DEACTIVATED_BAN", None),
            GatewayError::Banned
        );
        assert_eq!(
            GatewayError::from_rpc(420, "NEW_WAIT", Some(5)),
            GatewayError::FloodWait { seconds: 5 }
        );
        assert_eq!(
            GatewayError::from_rpc(403, "USER_PRIVACY_RESTRICTED", None),
            GatewayError::PrivacyRestricted
        );
        assert_eq!(
            GatewayError::from_rpc(403, "CHAT_WRITE_FORBIDDEN", None),
            GatewayError::WriteForbidden
        );
        assert_eq!(
            GatewayError::from_rpc(400, "MESSAGE_TOO_LONG", None),
            GatewayError::MessageTooLong
        );
        assert!(GatewayError::from_rpc(500, "RPC_CALL_FAIL", None).is_transient());
        assert_eq!(
            GatewayError::from_rpc(400, "BUTTON_DATA_INVALID", None),
            GatewayError::Other("400 BUTTON_DATA_INVALID".into())
        );
    }
}
