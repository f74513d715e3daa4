//! A sealed [`TelegramSession`] as grammers' session, and back.
//!
//! Rules:
//! - The session exists in the clear only in memory, for the life of a connection: it is built from the
//!   vault's payload, given to grammers as an in-memory session (never a file), and read back into a
//!   [`TelegramSession`] to be sealed again when Telegram moved the account or a new key was made.
//! - The home data centre carries the account's auth key. A server address the session names (Telethon and
//!   Pyrogram keep one) replaces the home data centre's well-known address; a test-mode session uses
//!   Telegram's test data centres.
//! - The user id, api id and test flag survive the round trip unchanged.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use grammers_session::types::{DcOption, PeerInfo};
use grammers_session::{Session, SessionData};
use tgos_domain::accounts::{AuthKey, DcId, SessionError, TelegramSession};

/// Telegram's test data centres (https://core.telegram.org/api/datacenter), port 443.
const TEST_DCS: [(i32, [u8; 4], [u16; 8]); 3] = [
    (1, [149, 154, 175, 10], [0x2001, 0xb28, 0xf23d, 0xf001, 0, 0, 0, 0xe]),
    (2, [149, 154, 167, 40], [0x2001, 0x67c, 0x4e8, 0xf002, 0, 0, 0, 0xe]),
    (3, [149, 154, 175, 117], [0x2001, 0xb28, 0xf23d, 0xf003, 0, 0, 0, 0xe]),
];

/// The data centres a client starts from: Telegram's production ones, or its test ones.
pub fn base_data(test_mode: bool) -> SessionData {
    let mut data = SessionData::default();
    if test_mode {
        data.dc_options = TEST_DCS
            .iter()
            .map(|(id, v4, v6)| {
                let option = DcOption {
                    id: *id,
                    ipv4: SocketAddrV4::new(Ipv4Addr::from(*v4), 443),
                    ipv6: SocketAddrV6::new(Ipv6Addr::from(*v6), 443, 0, 0),
                    auth_key: None,
                };
                (*id, option)
            })
            .collect();
        data.home_dc = 2;
    }
    data
}

/// grammers' view of `session`: its home data centre with the auth key, at the address the session names.
pub fn to_grammers(session: &TelegramSession) -> SessionData {
    let mut data = base_data(session.test_mode());
    let dc = i32::from(session.dc_id().get());
    data.home_dc = dc;
    let option = data.dc_options.entry(dc).or_insert_with(|| DcOption {
        id: dc,
        ipv4: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 443),
        ipv6: SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, 443, 0, 0),
        auth_key: None,
    });
    match session.server() {
        Some(SocketAddr::V4(v4)) => option.ipv4 = v4,
        Some(SocketAddr::V6(v6)) => option.ipv6 = v6,
        None => {}
    }
    option.auth_key = Some(*session.auth_key().expose_bytes());
    if let Some(user_id) = session.user_id() {
        let me = PeerInfo::User {
            id: user_id,
            auth: None,
            bot: Some(session.is_bot()),
            is_self: Some(true),
        };
        data.peer_infos.insert(me.id(), me);
    }
    data
}

/// The session grammers holds now, as a [`TelegramSession`] carrying over what grammers does not keep
/// (`like`'s api id, test flag and bot flag; its user id unless `user_id` is given). Fails when the home data
/// centre has no auth key (nothing to seal).
pub fn from_grammers<S: Session>(
    session: &S,
    like: Option<&TelegramSession>,
    user_id: Option<i64>,
    test_mode: bool,
) -> Result<TelegramSession, SessionError> {
    let home = session.home_dc_id().map_err(|_| SessionError::Truncated)?;
    let option = session
        .dc_option(home)
        .map_err(|_| SessionError::Truncated)?
        .ok_or(SessionError::Truncated)?;
    let key = option.auth_key.ok_or(SessionError::AuthKeyLength(0))?;
    let dc = DcId::new(u8::try_from(home).map_err(|_| SessionError::DcOutOfRange(0))?)?;
    let mut rebuilt = TelegramSession::new(dc, AuthKey::from_bytes(&key)?)
        .with_server(SocketAddr::V4(option.ipv4))?
        .with_test_mode(test_mode);
    if let Some(user_id) = user_id.or_else(|| like.and_then(TelegramSession::user_id)) {
        rebuilt = rebuilt.with_user_id(user_id)?;
    }
    if let Some(like) = like {
        rebuilt = rebuilt.with_bot(like.is_bot());
        if let Some(api_id) = like.api_id() {
            rebuilt = rebuilt.with_api_id(api_id)?;
        }
    }
    Ok(rebuilt)
}

/// Whether `now` is another session than `before`: another home data centre or another auth key.
pub fn changed(before: &TelegramSession, now: &TelegramSession) -> bool {
    before.dc_id() != now.dc_id() || before.auth_key() != now.auth_key()
}

#[cfg(test)]
mod tests {
    use grammers_session::storages::MemorySession;
    use tgos_domain::accounts::{parse_pyrogram, parse_telethon};

    use super::*;

    /// Golden strings from `domain/tests/fixtures/session_vectors.py` (the importers' own vectors).
    const TELETHON_IPV4: &str = "1ApWapzMBuwABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5_gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp-goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2-v8DBwsPExcbHyMnKy8zNzs_Q0dLT1NXW19jZ2tvc3d7f4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8=";
    const PYROGRAM_362: &str = "AQAAB_gB__79_Pv6-fj39vX08_Lx8O_u7ezr6uno5-bl5OPi4eDf3t3c29rZ2NfW1dTT0tHQz87NzMvKycjHxsXEw8LBwL--vby7urm4t7a1tLOysbCvrq2sq6qpqKempaSjoqGgn56dnJuamZiXlpWUk5KRkI-OjYyLiomIh4aFhIOCgYB_fn18e3p5eHd2dXRzcnFwb25tbGtqaWhnZmVkY2JhYF9eXVxbWllYV1ZVVFNSUVBPTk1MS0pJSEdGRURDQkFAPz49PDs6OTg3NjU0MzIxMC8uLSwrKikoJyYlJCMiISAfHh0cGxoZGBcWFRQTEhEQDw4NDAsKCQgHBgUEAwIBAAAAAAGhO4YBAA";

    #[tokio::test]
    async fn a_telethon_session_becomes_a_grammers_session_on_its_own_server_and_back() {
        let imported = parse_telethon(TELETHON_IPV4).unwrap();
        let data = to_grammers(&imported);
        assert_eq!(data.home_dc, 2);
        let home = &data.dc_options[&2];
        assert_eq!(home.ipv4, "149.154.167.51:443".parse().unwrap());
        assert_eq!(home.auth_key.as_ref().map(|k| k.to_vec()), Some((0..=255u8).collect()));
        for other in [1, 3, 4, 5] {
            assert_eq!(
                data.dc_options[&other].auth_key, None,
                "only the home data centre has the key"
            );
        }

        let memory = MemorySession::from(data);
        let back = from_grammers(&memory, Some(&imported), None, imported.test_mode()).unwrap();
        assert_eq!(back, imported);
        assert!(!changed(&imported, &back));
    }

    #[tokio::test]
    async fn a_pyrogram_test_mode_session_keeps_its_user_api_id_and_uses_the_test_data_centres() {
        let imported = parse_pyrogram(PYROGRAM_362).unwrap();
        assert!(imported.test_mode());
        let data = to_grammers(&imported);
        assert_eq!(data.home_dc, 1);
        assert_eq!(data.dc_options[&1].ipv4, "149.154.175.10:443".parse().unwrap());
        assert_eq!(data.dc_options.len(), 3, "the three test data centres only");
        let me = data
            .peer_infos
            .values()
            .find(|p| {
                matches!(
                    p,
                    PeerInfo::User {
                        is_self: Some(true),
                        ..
                    }
                )
            })
            .unwrap();
        assert_eq!(me.id().bare_id(), imported.user_id());

        let memory = MemorySession::from(data);
        let back = from_grammers(&memory, Some(&imported), None, true).unwrap();
        assert_eq!(back.user_id(), imported.user_id());
        assert_eq!(back.api_id(), imported.api_id());
        assert_eq!(back.auth_key(), imported.auth_key());
        assert!(back.test_mode());
    }

    #[tokio::test]
    async fn a_move_to_another_data_centre_with_a_new_key_is_a_changed_session() {
        let imported = parse_telethon(TELETHON_IPV4).unwrap();
        let memory = MemorySession::from(to_grammers(&imported));
        let mut moved = memory.dc_option(4).unwrap().unwrap();
        moved.auth_key = Some([7u8; 256]);
        memory.set_dc_option(&moved).await.unwrap();
        memory.set_home_dc_id(4).await.unwrap();
        let now = from_grammers(&memory, Some(&imported), None, false).unwrap();
        assert!(changed(&imported, &now));
        assert_eq!(now.dc_id().get(), 4);
        assert_eq!(now.auth_key().expose_bytes(), &[7u8; 256]);
        assert_eq!(now.server(), Some("149.154.167.92:443".parse().unwrap()));
    }

    #[tokio::test]
    async fn a_session_without_a_key_at_home_cannot_be_sealed() {
        let memory = MemorySession::from(base_data(false));
        assert!(from_grammers(&memory, None, None, false).is_err());
    }
}
