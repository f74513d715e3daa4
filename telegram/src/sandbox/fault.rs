//! Faults a test or an operator injects into one sandbox account.
//!
//! Rules:
//! - `FloodWait` and `PeerFlood` are queued per account and each fails exactly one later `send_message` (the
//!   next one), oldest first; reading, marking read and updates are not affected, as sending is what
//!   Telegram limits.
//! - `SessionInvalid` takes effect at once and persists: every open connection of the account fails with
//!   [`GatewayError::SessionInvalid`] from then on and its update streams close, and `connect` refuses the
//!   account until it is registered again (a new sign-in). Connections opened before stay dead.

use tgos_domain::accounts::gateway::GatewayError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxFault {
    FloodWait { seconds: u32 },
    PeerFlood,
    SessionInvalid,
}

impl SandboxFault {
    /// The error the account's next affected operation fails with.
    pub fn error(self) -> GatewayError {
        match self {
            Self::FloodWait { seconds } => GatewayError::FloodWait { seconds },
            Self::PeerFlood => GatewayError::PeerFlood,
            Self::SessionInvalid => GatewayError::SessionInvalid,
        }
    }
}
