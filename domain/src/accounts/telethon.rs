//! Telethon's `StringSession`.
//!
//! Rules: the string is `1` (the format version) followed by URL-safe base64, `=` padding optional, of
//! big-endian `dc_id: u8, server address: 4 bytes (IPv4) or 16 bytes (IPv6), port: u16, auth_key: 256 bytes`,
//! so 263 or 275 bytes. The data centre must be 1 to 5, the port non-zero and the key not all zeros.
//! Telethon records neither the user, the api id, test mode nor whether the account is a bot: those stay
//! unknown (`None`, `false`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroizing;

use super::reader::{self, Reader};
use super::session::{AuthKey, DcId, SessionError, TelegramSession};

const VERSION: char = '1';
const IPV4_LEN: usize = 1 + 4 + 2 + AuthKey::LEN;
const IPV6_LEN: usize = 1 + 16 + 2 + AuthKey::LEN;

const URL_SAFE_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Parses a Telethon `StringSession` (surrounding whitespace ignored).
pub fn parse_telethon(text: &str) -> Result<TelegramSession, SessionError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SessionError::Empty);
    }
    let Some(encoded) = text.strip_prefix(VERSION) else {
        return Err(SessionError::TelethonVersion);
    };
    let bytes = decode_base64(encoded)?;
    let ip_len = match bytes.len() {
        IPV4_LEN => 4,
        IPV6_LEN => 16,
        other => return Err(SessionError::TelethonLength(other)),
    };

    let mut reader = Reader::new(&bytes);
    let dc_id = DcId::new(reader.u8().ok_or(SessionError::Truncated)?)?;
    let ip_bytes = reader.take(ip_len).ok_or(SessionError::Truncated)?;
    let ip = match (<[u8; 4]>::try_from(ip_bytes), <[u8; 16]>::try_from(ip_bytes)) {
        (Ok(v4), _) => IpAddr::V4(Ipv4Addr::from(v4)),
        (_, Ok(v6)) => IpAddr::V6(Ipv6Addr::from(v6)),
        _ => return Err(SessionError::Truncated),
    };
    let port = reader.u16().ok_or(SessionError::Truncated)?;
    let auth_key = AuthKey::from_bytes(reader.take(AuthKey::LEN).ok_or(SessionError::Truncated)?)?;
    TelegramSession::new(dc_id, auth_key).with_server(SocketAddr::new(ip, port))
}

fn decode_base64(encoded: &str) -> Result<Zeroizing<Vec<u8>>, SessionError> {
    reader::decode_base64(&URL_SAFE_ANY_PADDING, encoded).ok_or(SessionError::Base64)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};

    use super::*;

    fn packed(dc: u8, ip: &[u8], port: u16, key: &[u8]) -> Vec<u8> {
        let mut bytes = vec![dc];
        bytes.extend_from_slice(ip);
        bytes.extend_from_slice(&port.to_be_bytes());
        bytes.extend_from_slice(key);
        bytes
    }

    fn string(bytes: &[u8]) -> String {
        format!("1{}", URL_SAFE.encode(bytes))
    }

    fn key() -> Vec<u8> {
        (0..=255u8).rev().collect()
    }

    #[test]
    fn accepts_padded_and_unpadded_strings_alike() {
        let bytes = packed(3, &[91, 108, 56, 100], 443, &key());
        let padded = parse_telethon(&string(&bytes)).unwrap();
        let unpadded = parse_telethon(&format!("1{}", URL_SAFE_NO_PAD.encode(&bytes))).unwrap();
        assert_eq!(padded, unpadded);
        assert_eq!(padded.dc_id().get(), 3);
        assert_eq!(padded.server(), Some("91.108.56.100:443".parse().unwrap()));
        assert_eq!(padded.user_id(), None);
        assert!(!padded.test_mode() && !padded.is_bot());
    }

    #[test]
    fn refuses_each_malformation_with_its_own_reason() {
        let good = packed(2, &[149, 154, 167, 51], 443, &key());
        let cases: Vec<(String, SessionError)> = vec![
            (String::new(), SessionError::Empty),
            ("   ".to_owned(), SessionError::Empty),
            (string(&good).replacen('1', "2", 1), SessionError::TelethonVersion),
            (URL_SAFE.encode(&good), SessionError::TelethonVersion),
            (format!("1{}", STANDARD.encode([0xfb; 263])), SessionError::Base64),
            ("1!!!!".to_owned(), SessionError::Base64),
            (string(&good[..262]), SessionError::TelethonLength(262)),
            (
                string(&[good.as_slice(), &[0]].concat()),
                SessionError::TelethonLength(264),
            ),
            (
                string(&packed(0, &[149, 154, 167, 51], 443, &key())),
                SessionError::DcOutOfRange(0),
            ),
            (
                string(&packed(6, &[149, 154, 167, 51], 443, &key())),
                SessionError::DcOutOfRange(6),
            ),
            (
                string(&packed(2, &[149, 154, 167, 51], 0, &key())),
                SessionError::PortZero,
            ),
            (
                string(&packed(2, &[149, 154, 167, 51], 443, &[0; 256])),
                SessionError::AuthKeyAllZero,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_telethon(&input).err(), Some(expected), "{input:?}");
        }
    }
}
