//! Properties over arbitrary input: the canonical encoding round-trips, and no input panics a parser or gets
//! quoted back in a reason.

use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;

use super::assert_does_not_quote;
use crate::accounts::{AuthKey, DcId, ImportFormat, TelegramSession, parse_import, parse_pyrogram, parse_telethon};

fn auth_key() -> impl Strategy<Value = AuthKey> {
    prop::collection::vec(any::<u8>(), AuthKey::LEN)
        .prop_filter_map("an all-zero key is refused", |bytes| AuthKey::from_bytes(&bytes).ok())
}

fn session() -> impl Strategy<Value = TelegramSession> {
    (
        DcId::MIN..=DcId::MAX,
        auth_key(),
        prop::option::of((any::<IpAddr>(), 1u16..)),
        prop::option::of(1i64..),
        prop::option::of(1i32..),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(dc, key, server, user_id, api_id, test_mode, is_bot)| {
            let dc = DcId::new(dc).map_err(|e| e.to_string());
            let mut session = TelegramSession::new(dc.unwrap(), key)
                .with_test_mode(test_mode)
                .with_bot(is_bot);
            if let Some((ip, port)) = server {
                session = session.with_server(SocketAddr::new(ip, port)).unwrap();
            }
            if let Some(user_id) = user_id {
                session = session.with_user_id(user_id).unwrap();
            }
            if let Some(api_id) = api_id {
                session = session.with_api_id(api_id).unwrap();
            }
            session
        })
}

/// Strings of the URL-safe base64 alphabet (and `=`) around the lengths the parsers accept, so that
/// inputs reach past the length checks into the byte layouts.
fn base64ish() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_=-]{351}",
        "[A-Za-z0-9_-]{356}",
        "[A-Za-z0-9_-]{362}",
        "1[A-Za-z0-9_-]{351}=?",
        "1[A-Za-z0-9_-]{367}=?",
        "1?[A-Za-z0-9_=+/-]{0,400}",
    ]
}

proptest! {
    #[test]
    fn the_canonical_encoding_round_trips(session in session()) {
        let bytes = session.encode();
        prop_assert_eq!(bytes.first(), Some(&1));
        prop_assert_eq!(TelegramSession::decode(&bytes), Ok(session));
    }

    #[test]
    fn decoding_arbitrary_or_damaged_bytes_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        session in session(),
        at in any::<prop::sample::Index>(),
        xor in 1u8..,
    ) {
        let _ = TelegramSession::decode(&bytes);
        let mut damaged = session.encode().to_vec();
        let i = at.index(damaged.len());
        damaged[i] ^= xor;
        let _ = TelegramSession::decode(&damaged);
        let _ = TelegramSession::decode(&damaged[..i]);
    }

    #[test]
    fn the_parsers_never_panic_on_any_string(text in any::<String>(), near in base64ish()) {
        for input in [text.as_str(), near.as_str()] {
            let _ = parse_telethon(input);
            let _ = parse_pyrogram(input);
            for format in [ImportFormat::Telethon, ImportFormat::Pyrogram, ImportFormat::Jsonl] {
                let report = parse_import(format, input);
                prop_assert!(report.accounts.len() + report.errors.len() <= input.lines().count());
            }
        }
    }

    #[test]
    fn import_reasons_never_quote_the_line(secret in "[A-Za-z0-9_-]{20,400}") {
        let lines = [
            secret.clone(),
            format!("1{secret}"),
            format!(r#"{{"session": "{secret}", "format": "telethon"}}"#),
            format!(r#"{{"session": "{secret}", "format": "pyrogram"}}"#),
            format!(r#"{{"session": "x", "format": "{secret}"}}"#),
            format!(r#"{{"session": "x", "format": "telethon", "premium": "{secret}"}}"#),
            format!(r#"{{"session": "x", "format": "telethon", "{secret}": 1}}"#),
            format!(r#""{secret}""#),
            format!(r#"{{"session": "{secret}""#),
        ]
        .join("\n");
        for format in [ImportFormat::Telethon, ImportFormat::Pyrogram, ImportFormat::Jsonl] {
            for error in parse_import(format, &lines).errors {
                assert_does_not_quote(&error.reason, &secret);
            }
        }
    }
}
