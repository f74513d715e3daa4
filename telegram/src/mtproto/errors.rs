//! Telegram's failures, as grammers reports them, sorted into the domain's [`GatewayError`].
//!
//! Rules:
//! - An RPC error is classified by its name and number ([`GatewayError::from_rpc`]): `FLOOD_WAIT_N` is a
//!   cooldown of N seconds, `PEER_FLOOD` a limit, `AUTH_KEY_UNREGISTERED` / `SESSION_REVOKED` /
//!   `AUTH_KEY_DUPLICATED` an invalid session, `USER_DEACTIVATED(_BAN)` a ban, `FROZEN_*` a frozen account.
//! - A transport refusal with status 404 means Telegram has no such auth key: an invalid session. Any other
//!   transport, I/O or dropped-request failure is a network failure: transient, not a health signal.
//! - A message never carries more than Telegram's error name or a fixed sentence: no session byte, no phone.

use grammers_mtsender::InvocationError;
use tgos_domain::accounts::gateway::GatewayError;

/// The transport status Telegram answers when it does not know the auth key.
const UNKNOWN_AUTH_KEY: i32 = 404;

pub fn classify(error: &InvocationError) -> GatewayError {
    match error {
        InvocationError::Rpc(rpc) => GatewayError::from_rpc(rpc.code, &rpc.name, rpc.value),
        InvocationError::Transport(grammers_mtproto::transport::Error::BadStatus { status })
            if *status as i32 == UNKNOWN_AUTH_KEY =>
        {
            GatewayError::SessionInvalid
        }
        InvocationError::Transport(_) => GatewayError::Network("the transport failed".to_owned()),
        InvocationError::Io(io) => GatewayError::Network(format!("input/output error ({:?})", io.kind())),
        InvocationError::Dropped(_) => GatewayError::Network("the connection ended".to_owned()),
        InvocationError::Deserialize(_) => GatewayError::Network("an answer could not be read".to_owned()),
        InvocationError::InvalidDc => GatewayError::Network("the data centre is unknown".to_owned()),
        InvocationError::Authentication(_) => GatewayError::Network("the auth key exchange failed".to_owned()),
        InvocationError::Session(_) => GatewayError::Network("the session store failed".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use grammers_mtsender::RpcError;
    use grammers_tl_types as tl;

    use super::*;

    /// An RPC error exactly as Telegram sends it, parsed by grammers as the adapter receives it.
    fn rpc(code: i32, message: &str) -> InvocationError {
        InvocationError::Rpc(RpcError::from(tl::types::RpcError {
            error_code: code,
            error_message: message.to_owned(),
        }))
    }

    #[test]
    fn every_error_the_service_acts_on_is_classified_from_telegrams_own_string() {
        let cases: &[(i32, &str, GatewayError)] = &[
            (420, "FLOOD_WAIT_31", GatewayError::FloodWait { seconds: 31 }),
            (420, "FLOOD_PREMIUM_WAIT_7", GatewayError::FloodWait { seconds: 7 }),
            (420, "SLOWMODE_WAIT_10", GatewayError::FloodWait { seconds: 10 }),
            (400, "PEER_FLOOD", GatewayError::PeerFlood),
            (401, "AUTH_KEY_UNREGISTERED", GatewayError::SessionInvalid),
            (401, "SESSION_REVOKED", GatewayError::SessionInvalid),
            (406, "AUTH_KEY_DUPLICATED", GatewayError::SessionInvalid),
            (401, "SESSION_EXPIRED", GatewayError::SessionInvalid),
            (401, "USER_DEACTIVATED", GatewayError::Banned),
            (401, "USER_DEACTIVATED_BAN", GatewayError::Banned),
            (420, "FROZEN_METHOD_INVALID", GatewayError::Frozen),
            (400, "FROZEN_PARTICIPANT_MISSING", GatewayError::Frozen),
            (400, "PEER_ID_INVALID", GatewayError::PeerInvalid),
            (403, "USER_PRIVACY_RESTRICTED", GatewayError::PrivacyRestricted),
            (403, "CHAT_WRITE_FORBIDDEN", GatewayError::WriteForbidden),
            (400, "MESSAGE_TOO_LONG", GatewayError::MessageTooLong),
            (400, "MESSAGE_EMPTY", GatewayError::MessageEmpty),
        ];
        for (code, message, expected) in cases {
            assert_eq!(&classify(&rpc(*code, message)), expected, "{message}");
        }
        // FROZEN_METHOD_INVALID comes with 420 yet is not a wait: the name decides before the code.
        assert!(!classify(&rpc(420, "FROZEN_METHOD_INVALID")).is_transient());
    }

    #[test]
    fn account_errors_are_health_signals_and_network_failures_are_not_about_the_account() {
        for message in [
            "PEER_FLOOD",
            "AUTH_KEY_UNREGISTERED",
            "USER_DEACTIVATED_BAN",
            "FROZEN_METHOD_INVALID",
        ] {
            assert!(classify(&rpc(400, message)).concerns_account(), "{message}");
        }
        let io = InvocationError::Io(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"));
        let network = classify(&io);
        assert!(network.is_transient());
        assert!(!network.concerns_account());
        assert!(
            !network.to_string().contains("reset"),
            "only the kind is kept: {network}"
        );
        assert!(classify(&InvocationError::Dropped("runner gone")).is_transient());
        assert!(classify(&rpc(500, "RPC_CALL_FAIL")).is_transient());
    }

    #[test]
    fn a_transport_404_means_telegram_does_not_know_the_auth_key() {
        let unknown = InvocationError::Transport(grammers_mtproto::transport::Error::BadStatus { status: 404 });
        assert_eq!(classify(&unknown), GatewayError::SessionInvalid);
        let flood = InvocationError::Transport(grammers_mtproto::transport::Error::BadStatus { status: 429 });
        assert!(classify(&flood).is_transient());
    }
}
