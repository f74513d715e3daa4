//! Signing a Telegram account in by phone, as staff adding a real account to the pool do it.
//!
//! Rules:
//! - The steps are Telegram's: send a code to the phone, sign in with the code, and, when the account has a
//!   cloud password (two-step verification), check the password. A flow is one object holding one connection
//!   with a fresh auth key; it ends in a [`LoggedIn`] whose session is that key, or is dropped.
//! - The cloud password is used once to answer Telegram's challenge and never kept: not in the flow after the
//!   call, not in the session, not in a log.
//! - Telegram's refusals come back named ([`LoginError`]), with the wait of a flood refusal; nothing is
//!   retried in a loop.
//! - An account that has no Telegram account yet is refused ([`LoginError::PhoneNumberUnoccupied`]): the
//!   service signs existing accounts in, it never registers new ones.

use std::fmt::Debug;

use async_trait::async_trait;

use super::error::GatewayError;
use super::peer::Peer;
use crate::accounts::phone::PhoneNumber;
use crate::accounts::session::TelegramSession;

/// Why a login step failed. Each names Telegram's error, so staff can look it up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("PHONE_NUMBER_INVALID: Telegram does not accept this phone number")]
    PhoneNumberInvalid,
    #[error("PHONE_NUMBER_BANNED: the phone number is banned by Telegram")]
    PhoneNumberBanned,
    #[error("PHONE_NUMBER_UNOCCUPIED: no Telegram account uses this phone number")]
    PhoneNumberUnoccupied,
    #[error("PHONE_CODE_INVALID: the code is wrong")]
    PhoneCodeInvalid,
    #[error("PHONE_CODE_EXPIRED: the code has expired; request a new one")]
    PhoneCodeExpired,
    #[error("PASSWORD_HASH_INVALID: the cloud password is wrong")]
    PasswordHashInvalid,
    #[error("FLOOD_WAIT: Telegram asks to wait {seconds} seconds before trying again")]
    FloodWait { seconds: u32 },
    #[error("the login flow is not at this step: {0}")]
    OutOfOrder(&'static str),
    #[error("{0}")]
    Gateway(GatewayError),
}

impl LoginError {
    /// Telegram's name for the refusal (`FLOOD_WAIT` without its number), or `GATEWAY` / `OUT_OF_ORDER`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PhoneNumberInvalid => "PHONE_NUMBER_INVALID",
            Self::PhoneNumberBanned => "PHONE_NUMBER_BANNED",
            Self::PhoneNumberUnoccupied => "PHONE_NUMBER_UNOCCUPIED",
            Self::PhoneCodeInvalid => "PHONE_CODE_INVALID",
            Self::PhoneCodeExpired => "PHONE_CODE_EXPIRED",
            Self::PasswordHashInvalid => "PASSWORD_HASH_INVALID",
            Self::FloodWait { .. } => "FLOOD_WAIT",
            Self::OutOfOrder(_) => "OUT_OF_ORDER",
            Self::Gateway(_) => "GATEWAY",
        }
    }

    /// Classifies an RPC error of a login step (name without its number, as in [`GatewayError::from_rpc`]).
    pub fn from_rpc(code: i32, name: &str, value: Option<u32>) -> Self {
        match name {
            "PHONE_NUMBER_INVALID" | "PHONE_NUMBER_FLOOD" => Self::PhoneNumberInvalid,
            "PHONE_NUMBER_BANNED" => Self::PhoneNumberBanned,
            "PHONE_NUMBER_UNOCCUPIED" => Self::PhoneNumberUnoccupied,
            "PHONE_CODE_INVALID" | "PHONE_CODE_EMPTY" => Self::PhoneCodeInvalid,
            "PHONE_CODE_EXPIRED" => Self::PhoneCodeExpired,
            "PASSWORD_HASH_INVALID" => Self::PasswordHashInvalid,
            _ => match GatewayError::from_rpc(code, name, value) {
                GatewayError::FloodWait { seconds } => Self::FloodWait { seconds },
                other => Self::Gateway(other),
            },
        }
    }
}

impl From<GatewayError> for LoginError {
    fn from(error: GatewayError) -> Self {
        match error {
            GatewayError::FloodWait { seconds } => Self::FloodWait { seconds },
            other => Self::Gateway(other),
        }
    }
}

/// What signing in with the code led to.
#[derive(Debug)]
pub enum CodeAccepted {
    /// The account is signed in.
    LoggedIn(LoggedIn),
    /// The account has a cloud password: call [`LoginFlow::check_password`]. `hint` is the account's own hint.
    PasswordNeeded { hint: Option<String> },
}

/// A signed-in account: the session to seal into the vault and who it is.
#[derive(Debug)]
pub struct LoggedIn {
    pub session: TelegramSession,
    pub user: Peer,
    pub phone: PhoneNumber,
    pub premium: bool,
}

/// One phone login in progress (see the module docs for the order of the steps).
#[async_trait]
pub trait LoginFlow: Send + Debug {
    /// Asks Telegram to send a login code to `phone` (in the app of a signed-in device, or by SMS).
    async fn send_code(&mut self, phone: &PhoneNumber) -> Result<(), LoginError>;

    /// Signs in with the code that arrived.
    async fn sign_in(&mut self, code: &str) -> Result<CodeAccepted, LoginError>;

    /// Answers the cloud-password challenge; the password is not kept.
    async fn check_password(&mut self, password: &str) -> Result<LoggedIn, LoginError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_login_refusal_is_named_after_telegrams_error() {
        for (name, expected) in [
            ("PHONE_NUMBER_INVALID", LoginError::PhoneNumberInvalid),
            ("PHONE_NUMBER_BANNED", LoginError::PhoneNumberBanned),
            ("PHONE_NUMBER_UNOCCUPIED", LoginError::PhoneNumberUnoccupied),
            ("PHONE_CODE_INVALID", LoginError::PhoneCodeInvalid),
            ("PHONE_CODE_EXPIRED", LoginError::PhoneCodeExpired),
            ("PASSWORD_HASH_INVALID", LoginError::PasswordHashInvalid),
        ] {
            let error = LoginError::from_rpc(400, name, None);
            assert_eq!(error, expected);
            assert_eq!(error.code(), name);
            assert!(error.to_string().starts_with(name), "{error}");
        }
        let flood = LoginError::from_rpc(420, "FLOOD_WAIT", Some(75));
        assert_eq!(flood, LoginError::FloodWait { seconds: 75 });
        assert!(flood.to_string().contains("75 seconds"), "{flood}");
        assert_eq!(
            LoginError::from_rpc(500, "INTERNAL", None).code(),
            "GATEWAY",
            "an unknown server error is the gateway's"
        );
    }
}
