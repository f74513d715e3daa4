//! A Telegram session in one normalized shape, whatever library exported it, and its canonical bytes.
//!
//! Rules:
//! - The auth key is exactly 256 bytes and not all zeros. It is zeroized on drop, compared in constant time,
//!   never printed (`Debug` is redacted) and never serialized except through [`TelegramSession::encode`].
//! - The data centre is one of Telegram's five (1 to 5); 0 and anything above 5 are refused.
//! - A server address, when known, has a non-zero port. A user id and an api id, when known, are positive.
//! - [`TelegramSession::encode`] writes the canonical binary form the vault seals; [`TelegramSession::decode`]
//!   reads it back and refuses anything it would not have written.
//!
//! Canonical form, version 1 (integers big-endian):
//!
//! ```text
//! version: u8 = 1
//! dc_id:   u8
//! flags:   u8   bit 0 test mode, bit 1 bot, bit 2 server present, bit 3 server is IPv6,
//!               bit 4 user id present, bit 5 api id present; bits 6 and 7 are zero
//! server:  4 or 16 address bytes, then port u16        (when bit 2)
//! user_id: i64                                         (when bit 4)
//! api_id:  i32                                         (when bit 5)
//! auth_key: 256 bytes
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::reader::Reader;

/// Why a session string or a stored session was refused. Every message is a short sentence that names no
/// byte of the session, so it can be shown next to a line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the session string is empty")]
    Empty,
    #[error("a Telethon session string must start with version 1")]
    TelethonVersion,
    #[error("the session string is not valid URL-safe base64")]
    Base64,
    #[error("a Telethon session must decode to 263 bytes (IPv4) or 275 bytes (IPv6), this one has {0} bytes")]
    TelethonLength(usize),
    #[error("a Pyrogram session string must be 351, 356 or 362 characters long without = padding, this one has {0}")]
    PyrogramLength(usize),
    #[error("data centre {0} is not one of Telegram's (1 to 5)")]
    DcOutOfRange(u8),
    #[error("the auth key must be 256 bytes, this one has {0}")]
    AuthKeyLength(usize),
    #[error("the auth key is all zeros")]
    AuthKeyAllZero,
    #[error("the server port must not be 0")]
    PortZero,
    #[error("the {0} flag must be 0 or 1")]
    NotABool(&'static str),
    #[error("the user id must be a positive 64-bit number")]
    UserIdOutOfRange,
    #[error("the api id must be a positive 32-bit number")]
    ApiIdOutOfRange,
    #[error("the session data ends too early")]
    Truncated,
    #[error("stored session format version {0} is not known")]
    UnknownVersion(u8),
    #[error("stored session has unknown flags set")]
    UnknownFlags,
    #[error("stored session has bytes after the auth key")]
    TrailingBytes,
}

/// An MTProto authorization key: 256 bytes, never all zeros. Zeroized on drop, never printed.
pub struct AuthKey(Box<[u8; AuthKey::LEN]>);

impl AuthKey {
    pub const LEN: usize = 256;

    /// Copies `bytes` into a new key. Refuses any length but 256 and a key of zeros only.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SessionError> {
        if bytes.len() != Self::LEN {
            return Err(SessionError::AuthKeyLength(bytes.len()));
        }
        if bytes.iter().all(|b| *b == 0) {
            return Err(SessionError::AuthKeyAllZero);
        }
        let mut key = Box::new([0u8; Self::LEN]);
        key.copy_from_slice(bytes);
        Ok(Self(key))
    }

    /// The key itself, for the MTProto adapter and the canonical encoding. Do not log or copy it.
    pub fn expose_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// SHA-256 of the key: the same key always gives the same fingerprint, and the fingerprint reveals
    /// nothing usable about the key, so it may be stored in clear to find an account imported twice.
    pub fn fingerprint(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_slice()).into()
    }
}

impl PartialEq for AuthKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_slice().ct_eq(other.0.as_slice()).into()
    }
}

impl Eq for AuthKey {}

impl Zeroize for AuthKey {
    fn zeroize(&mut self) {
        self.0.as_mut().zeroize();
    }
}

impl Drop for AuthKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for AuthKey {}

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthKey(<redacted>)")
    }
}

/// A Telegram data centre number: 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DcId(u8);

impl DcId {
    pub const MIN: u8 = 1;
    /// Telegram has run five data centres (production and test alike) for a decade; a larger number in an
    /// imported string means the string is corrupt or of another format.
    pub const MAX: u8 = 5;

    pub fn new(value: u8) -> Result<Self, SessionError> {
        if (Self::MIN..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(SessionError::DcOutOfRange(value))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// A session normalized from Telethon or Pyrogram: what the vault seals and the MTProto adapter opens.
#[derive(Debug, PartialEq, Eq)]
pub struct TelegramSession {
    dc_id: DcId,
    server: Option<SocketAddr>,
    auth_key: AuthKey,
    user_id: Option<i64>,
    test_mode: bool,
    api_id: Option<i32>,
    is_bot: bool,
}

const FORMAT_V1: u8 = 1;
const FLAG_TEST_MODE: u8 = 1 << 0;
const FLAG_BOT: u8 = 1 << 1;
const FLAG_SERVER: u8 = 1 << 2;
const FLAG_SERVER_IPV6: u8 = 1 << 3;
const FLAG_USER_ID: u8 = 1 << 4;
const FLAG_API_ID: u8 = 1 << 5;
const KNOWN_FLAGS: u8 = FLAG_TEST_MODE | FLAG_BOT | FLAG_SERVER | FLAG_SERVER_IPV6 | FLAG_USER_ID | FLAG_API_ID;

impl TelegramSession {
    /// A session with nothing known but its data centre and key: production, not a bot, no server address.
    pub fn new(dc_id: DcId, auth_key: AuthKey) -> Self {
        Self {
            dc_id,
            server: None,
            auth_key,
            user_id: None,
            test_mode: false,
            api_id: None,
            is_bot: false,
        }
    }

    /// The server the session last spoke to. Refuses port 0.
    pub fn with_server(mut self, server: SocketAddr) -> Result<Self, SessionError> {
        if server.port() == 0 {
            return Err(SessionError::PortZero);
        }
        // Only address and port are kept: an IPv6 flow label or scope id has no meaning here.
        self.server = Some(SocketAddr::new(server.ip(), server.port()));
        Ok(self)
    }

    /// The Telegram user the key is authorized as. Refuses zero and negative ids.
    pub fn with_user_id(mut self, user_id: i64) -> Result<Self, SessionError> {
        if user_id <= 0 {
            return Err(SessionError::UserIdOutOfRange);
        }
        self.user_id = Some(user_id);
        Ok(self)
    }

    /// The api id of the application that created the key. Refuses zero and negative ids.
    pub fn with_api_id(mut self, api_id: i32) -> Result<Self, SessionError> {
        if api_id <= 0 {
            return Err(SessionError::ApiIdOutOfRange);
        }
        self.api_id = Some(api_id);
        Ok(self)
    }

    pub fn with_test_mode(mut self, test_mode: bool) -> Self {
        self.test_mode = test_mode;
        self
    }

    pub fn with_bot(mut self, is_bot: bool) -> Self {
        self.is_bot = is_bot;
        self
    }

    pub fn dc_id(&self) -> DcId {
        self.dc_id
    }

    pub fn server(&self) -> Option<SocketAddr> {
        self.server
    }

    pub fn server_address(&self) -> Option<IpAddr> {
        self.server.map(|s| s.ip())
    }

    pub fn port(&self) -> Option<u16> {
        self.server.map(|s| s.port())
    }

    pub fn auth_key(&self) -> &AuthKey {
        &self.auth_key
    }

    pub fn user_id(&self) -> Option<i64> {
        self.user_id
    }

    pub fn test_mode(&self) -> bool {
        self.test_mode
    }

    pub fn api_id(&self) -> Option<i32> {
        self.api_id
    }

    pub fn is_bot(&self) -> bool {
        self.is_bot
    }

    /// The canonical bytes (format version 1, see the module docs), zeroized when dropped.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let server_len = match self.server {
            Some(SocketAddr::V4(_)) => 4 + 2,
            Some(SocketAddr::V6(_)) => 16 + 2,
            None => 0,
        };
        let len = 3 + server_len + self.user_id.map_or(0, |_| 8) + self.api_id.map_or(0, |_| 4) + AuthKey::LEN;
        // Sized once, so the buffer never reallocates and leaves a copy of the key behind.
        let mut out = Zeroizing::new(Vec::with_capacity(len));

        let mut flags = 0u8;
        if self.test_mode {
            flags |= FLAG_TEST_MODE;
        }
        if self.is_bot {
            flags |= FLAG_BOT;
        }
        if let Some(server) = self.server {
            flags |= FLAG_SERVER;
            if server.is_ipv6() {
                flags |= FLAG_SERVER_IPV6;
            }
        }
        if self.user_id.is_some() {
            flags |= FLAG_USER_ID;
        }
        if self.api_id.is_some() {
            flags |= FLAG_API_ID;
        }

        out.extend_from_slice(&[FORMAT_V1, self.dc_id.get(), flags]);
        if let Some(server) = self.server {
            match server.ip() {
                IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
                IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
            }
            out.extend_from_slice(&server.port().to_be_bytes());
        }
        if let Some(user_id) = self.user_id {
            out.extend_from_slice(&user_id.to_be_bytes());
        }
        if let Some(api_id) = self.api_id {
            out.extend_from_slice(&api_id.to_be_bytes());
        }
        out.extend_from_slice(self.auth_key.expose_bytes());
        out
    }

    /// Reads the canonical bytes back. Refuses unknown versions and flags, short input and trailing bytes,
    /// and every value the builders refuse.
    pub fn decode(bytes: &[u8]) -> Result<Self, SessionError> {
        let mut reader = Reader::new(bytes);
        let version = reader.u8().ok_or(SessionError::Truncated)?;
        if version != FORMAT_V1 {
            return Err(SessionError::UnknownVersion(version));
        }
        let dc_id = DcId::new(reader.u8().ok_or(SessionError::Truncated)?)?;
        let flags = reader.u8().ok_or(SessionError::Truncated)?;
        if flags & !KNOWN_FLAGS != 0 || (flags & FLAG_SERVER_IPV6 != 0 && flags & FLAG_SERVER == 0) {
            return Err(SessionError::UnknownFlags);
        }
        let server = if flags & FLAG_SERVER == 0 {
            None
        } else {
            let ip = if flags & FLAG_SERVER_IPV6 == 0 {
                let octets: [u8; 4] = read_array(&mut reader)?;
                IpAddr::V4(Ipv4Addr::from(octets))
            } else {
                let octets: [u8; 16] = read_array(&mut reader)?;
                IpAddr::V6(Ipv6Addr::from(octets))
            };
            Some(SocketAddr::new(ip, reader.u16().ok_or(SessionError::Truncated)?))
        };
        let user_id = if flags & FLAG_USER_ID == 0 {
            None
        } else {
            Some(reader.i64().ok_or(SessionError::Truncated)?)
        };
        let api_id = if flags & FLAG_API_ID == 0 {
            None
        } else {
            Some(reader.i32().ok_or(SessionError::Truncated)?)
        };
        let auth_key = AuthKey::from_bytes(reader.take(AuthKey::LEN).ok_or(SessionError::Truncated)?)?;
        if !reader.is_empty() {
            return Err(SessionError::TrailingBytes);
        }

        let mut session = Self::new(dc_id, auth_key)
            .with_test_mode(flags & FLAG_TEST_MODE != 0)
            .with_bot(flags & FLAG_BOT != 0);
        if let Some(server) = server {
            session = session.with_server(server)?;
        }
        if let Some(user_id) = user_id {
            session = session.with_user_id(user_id)?;
        }
        if let Some(api_id) = api_id {
            session = session.with_api_id(api_id)?;
        }
        Ok(session)
    }
}

fn read_array<const N: usize>(reader: &mut Reader<'_>) -> Result<[u8; N], SessionError> {
    reader
        .take(N)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(SessionError::Truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> AuthKey {
        let bytes: Vec<u8> = (0..=255u8).map(|i| i.wrapping_mul(31).wrapping_add(seed)).collect();
        AuthKey::from_bytes(&bytes).unwrap()
    }

    fn full_session() -> TelegramSession {
        TelegramSession::new(DcId::new(2).unwrap(), key(7))
            .with_server("[2001:67c:4e8:f004::a]:443".parse().unwrap())
            .unwrap()
            .with_user_id(6_123_456_789)
            .unwrap()
            .with_api_id(2040)
            .unwrap()
            .with_test_mode(true)
            .with_bot(true)
    }

    #[test]
    fn an_auth_key_must_be_256_bytes_and_not_all_zeros() {
        assert_eq!(
            AuthKey::from_bytes(&[1; 255]).err(),
            Some(SessionError::AuthKeyLength(255))
        );
        assert_eq!(
            AuthKey::from_bytes(&[1; 257]).err(),
            Some(SessionError::AuthKeyLength(257))
        );
        assert_eq!(AuthKey::from_bytes(&[0; 256]).err(), Some(SessionError::AuthKeyAllZero));
        assert!(AuthKey::from_bytes(&[0xAB; 256]).is_ok());
    }

    #[test]
    fn auth_keys_compare_by_content_and_fingerprint_alike() {
        assert_eq!(key(1), key(1));
        assert_ne!(key(1), key(2));
        assert_eq!(key(1).fingerprint(), key(1).fingerprint());
        assert_ne!(key(1).fingerprint(), key(2).fingerprint());
    }

    #[test]
    fn zeroizing_an_auth_key_clears_every_byte() {
        let mut auth_key = key(9);
        auth_key.zeroize();
        assert!(auth_key.expose_bytes().iter().all(|b| *b == 0));
    }

    #[test]
    fn data_centres_are_one_to_five() {
        assert_eq!(DcId::new(0), Err(SessionError::DcOutOfRange(0)));
        assert_eq!(DcId::new(6), Err(SessionError::DcOutOfRange(6)));
        assert!((1..=5).all(|dc| DcId::new(dc).is_ok()));
    }

    #[test]
    fn builders_refuse_port_zero_and_non_positive_ids() {
        let base = || TelegramSession::new(DcId::new(1).unwrap(), key(3));
        assert_eq!(
            base().with_server("1.2.3.4:0".parse().unwrap()).err(),
            Some(SessionError::PortZero)
        );
        assert_eq!(base().with_user_id(0).err(), Some(SessionError::UserIdOutOfRange));
        assert_eq!(base().with_user_id(-5).err(), Some(SessionError::UserIdOutOfRange));
        assert_eq!(base().with_api_id(0).err(), Some(SessionError::ApiIdOutOfRange));
    }

    #[test]
    fn the_canonical_form_starts_with_version_one_and_round_trips() {
        let session = full_session();
        let bytes = session.encode();
        assert_eq!(bytes.first(), Some(&1));
        assert_eq!(bytes.len(), 3 + 18 + 8 + 4 + 256);
        assert_eq!(TelegramSession::decode(&bytes), Ok(session));

        let minimal = TelegramSession::new(DcId::new(5).unwrap(), key(4));
        let bytes = minimal.encode();
        assert_eq!(bytes.len(), 3 + 256);
        assert_eq!(TelegramSession::decode(&bytes), Ok(minimal));
    }

    #[test]
    fn decoding_refuses_what_encoding_never_writes() {
        let good = full_session().encode();

        let mut unknown_version = good.to_vec();
        unknown_version[0] = 2;
        assert_eq!(
            TelegramSession::decode(&unknown_version),
            Err(SessionError::UnknownVersion(2))
        );

        let mut unknown_flag = good.to_vec();
        unknown_flag[2] |= 1 << 6;
        assert_eq!(TelegramSession::decode(&unknown_flag), Err(SessionError::UnknownFlags));

        let mut ipv6_without_server = TelegramSession::new(DcId::new(1).unwrap(), key(1)).encode().to_vec();
        ipv6_without_server[2] |= FLAG_SERVER_IPV6;
        assert_eq!(
            TelegramSession::decode(&ipv6_without_server),
            Err(SessionError::UnknownFlags)
        );

        let mut dc_zero = good.to_vec();
        dc_zero[1] = 0;
        assert_eq!(TelegramSession::decode(&dc_zero), Err(SessionError::DcOutOfRange(0)));

        assert_eq!(
            TelegramSession::decode(&good[..good.len() - 1]),
            Err(SessionError::Truncated)
        );
        assert_eq!(TelegramSession::decode(&[]), Err(SessionError::Truncated));

        let mut trailing = good.to_vec();
        trailing.push(0);
        assert_eq!(TelegramSession::decode(&trailing), Err(SessionError::TrailingBytes));
    }

    #[test]
    fn debug_shows_the_fields_but_never_the_key() {
        let text = format!("{:?}", full_session());
        assert!(text.contains("AuthKey(<redacted>)"), "{text}");
        assert!(text.contains("6123456789"), "{text}");
        let key_hex = hex::encode(key(7).expose_bytes());
        assert!(!text.contains(&key_hex[..16]), "{text}");
    }
}
