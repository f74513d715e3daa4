//! Pyrogram's session string (`Client.export_session_string`).
//!
//! Rules: URL-safe base64 without `=` padding; the string's length tells the layout (big-endian, `?` a byte
//! that must be 0 or 1):
//!
//! | length | struct        | fields                                                    | bytes |
//! |--------|---------------|-----------------------------------------------------------|-------|
//! | 351    | `>B?256sI?`   | dc_id, test_mode, auth_key, user_id u32, is_bot           | 263   |
//! | 356    | `>B?256sQ?`   | dc_id, test_mode, auth_key, user_id u64, is_bot           | 267   |
//! | 362    | `>BI?256sQ?`  | dc_id, api_id u32, test_mode, auth_key, user_id u64, is_bot | 271 |
//!
//! Any other length is refused. The data centre must be 1 to 5 and the key not all zeros. A user id or api
//! id of 0 means "not recorded" (converters from other formats write 0) and becomes `None`; a user id above
//! `i64::MAX` or an api id above `i32::MAX` is refused. Pyrogram records no server address.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use super::reader::{self, Reader};
use super::session::{AuthKey, DcId, SessionError, TelegramSession};

/// The accepted string lengths: 32-bit user id, 64-bit user id, 64-bit user id with api id.
pub const PYROGRAM_LENGTHS: [usize; 3] = [351, 356, 362];

#[derive(Clone, Copy)]
enum Layout {
    UserId32,
    UserId64,
    ApiIdUserId64,
}

/// Parses a Pyrogram session string (surrounding whitespace ignored).
pub fn parse_pyrogram(text: &str) -> Result<TelegramSession, SessionError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SessionError::Empty);
    }
    let layout = match text.len() {
        351 => Layout::UserId32,
        356 => Layout::UserId64,
        362 => Layout::ApiIdUserId64,
        _ => return Err(SessionError::PyrogramLength(text.chars().count())),
    };
    let bytes: Zeroizing<Vec<u8>> = reader::decode_base64(&URL_SAFE_NO_PAD, text).ok_or(SessionError::Base64)?;
    let mut reader = Reader::new(&bytes);

    let dc_id = DcId::new(reader.u8().ok_or(SessionError::Truncated)?)?;
    let api_id = match layout {
        Layout::ApiIdUserId64 => reader.u32().ok_or(SessionError::Truncated)?,
        Layout::UserId32 | Layout::UserId64 => 0,
    };
    let test_mode = flag(&mut reader, "test mode")?;
    let auth_key = AuthKey::from_bytes(reader.take(AuthKey::LEN).ok_or(SessionError::Truncated)?)?;
    let user_id = match layout {
        Layout::UserId32 => u64::from(reader.u32().ok_or(SessionError::Truncated)?),
        Layout::UserId64 | Layout::ApiIdUserId64 => reader.u64().ok_or(SessionError::Truncated)?,
    };
    let is_bot = flag(&mut reader, "bot")?;
    if !reader.is_empty() {
        // Unreachable for the three lengths above; kept so a wrong table can never be read silently.
        return Err(SessionError::TrailingBytes);
    }

    let mut session = TelegramSession::new(dc_id, auth_key)
        .with_test_mode(test_mode)
        .with_bot(is_bot);
    if user_id != 0 {
        session = session.with_user_id(i64::try_from(user_id).map_err(|_| SessionError::UserIdOutOfRange)?)?;
    }
    if api_id != 0 {
        session = session.with_api_id(i32::try_from(api_id).map_err(|_| SessionError::ApiIdOutOfRange)?)?;
    }
    Ok(session)
}

fn flag(reader: &mut Reader<'_>, name: &'static str) -> Result<bool, SessionError> {
    match reader.u8().ok_or(SessionError::Truncated)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(SessionError::NotABool(name)),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    fn key() -> Vec<u8> {
        (0..=255u8).map(|i| i ^ 0x5a).collect()
    }

    /// `>B?256sQ?`
    fn layout_64(dc: u8, test: u8, key: &[u8], user: u64, bot: u8) -> String {
        let mut bytes = vec![dc, test];
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(&user.to_be_bytes());
        bytes.push(bot);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// `>BI?256sQ?`
    fn layout_api(dc: u8, api: u32, key: &[u8], user: u64) -> String {
        let mut bytes = vec![dc];
        bytes.extend_from_slice(&api.to_be_bytes());
        bytes.push(0);
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(&user.to_be_bytes());
        bytes.push(0);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn zero_user_and_api_ids_mean_not_recorded() {
        let session = parse_pyrogram(&layout_api(2, 0, &key(), 0)).unwrap();
        assert_eq!(session.user_id(), None);
        assert_eq!(session.api_id(), None);
    }

    #[test]
    fn refuses_each_malformation_with_its_own_reason() {
        let good = layout_64(2, 0, &key(), 42, 0);
        assert!(parse_pyrogram(&good).is_ok());
        let cases: Vec<(String, SessionError)> = vec![
            (String::new(), SessionError::Empty),
            (format!("{good}="), SessionError::PyrogramLength(357)),
            (good[..350].to_owned(), SessionError::PyrogramLength(350)),
            (format!("{}+", &good[..355]), SessionError::Base64),
            (format!("{}é", &good[..354]), SessionError::Base64),
            (layout_64(0, 0, &key(), 42, 0), SessionError::DcOutOfRange(0)),
            (layout_64(9, 0, &key(), 42, 0), SessionError::DcOutOfRange(9)),
            (layout_64(2, 2, &key(), 42, 0), SessionError::NotABool("test mode")),
            (layout_64(2, 0, &key(), 42, 255), SessionError::NotABool("bot")),
            (layout_64(2, 0, &[0; 256], 42, 0), SessionError::AuthKeyAllZero),
            (layout_64(2, 0, &key(), u64::MAX, 0), SessionError::UserIdOutOfRange),
            (layout_api(2, u32::MAX, &key(), 42), SessionError::ApiIdOutOfRange),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_pyrogram(&input).err(), Some(expected), "{input:?}");
        }
    }

    #[test]
    fn the_length_reason_names_every_accepted_length() {
        let reason = SessionError::PyrogramLength(10).to_string();
        for len in PYROGRAM_LENGTHS {
            assert!(reason.contains(&len.to_string()), "{reason}");
        }
    }
}
