//! Who a dialog is with, keyed the way Telegram's own clients key it.
//!
//! Rules (the "marked id" of the Bot API and TDLib):
//! - a user is its own id, positive: `1 ..= 2^40 - 1`;
//! - a basic group is its chat id negated: `-999_999_999_999 ..= -1`;
//! - a channel or supergroup is `-1_000_000_000_000 - channel_id`, printed as `-100…`, for channel ids
//!   `1 ..= 997_852_516_352`.
//!
//! Anything else (zero, secret chats, numbers outside the ranges) is refused, so a [`PeerKey`] always names
//! exactly one kind of peer and [`PeerKey::kind`] never guesses.

use std::fmt;

/// The largest user id TDLib accepts.
pub const MAX_USER_ID: i64 = (1 << 40) - 1;
/// The largest basic group (chat) id TDLib accepts.
pub const MAX_GROUP_ID: i64 = 999_999_999_999;
/// The largest channel id TDLib accepts.
pub const MAX_CHANNEL_ID: i64 = 1_000_000_000_000 - (1 << 31);
/// Channel keys are this number minus the channel id.
const CHANNEL_ZERO: i64 = -1_000_000_000_000;

/// The kind of peer a dialog is with. Broadcast channels and supergroups are both `Channel`, as in MTProto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PeerKind {
    User,
    Group,
    Channel,
}

/// Why a number is not a peer key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PeerKeyError {
    #[error("a user id must be between 1 and 2^40 - 1")]
    UserOutOfRange,
    #[error("a basic group id must be between 1 and 999999999999")]
    GroupOutOfRange,
    #[error("a channel id must be between 1 and 997852516352")]
    ChannelOutOfRange,
    #[error("the number is not a user, basic group or channel key")]
    NotAPeer,
}

/// A peer in Telegram's marked-id form (see the module docs). Ordered and hashable, so it keys maps.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct PeerKey(i64);

impl PeerKey {
    /// A user's key: the user id itself.
    pub fn user(user_id: i64) -> Result<Self, PeerKeyError> {
        if (1..=MAX_USER_ID).contains(&user_id) {
            Ok(Self(user_id))
        } else {
            Err(PeerKeyError::UserOutOfRange)
        }
    }

    /// A basic group's key: `-chat_id`.
    pub fn group(chat_id: i64) -> Result<Self, PeerKeyError> {
        if (1..=MAX_GROUP_ID).contains(&chat_id) {
            Ok(Self(-chat_id))
        } else {
            Err(PeerKeyError::GroupOutOfRange)
        }
    }

    /// A channel's or supergroup's key: `-1_000_000_000_000 - channel_id`.
    pub fn channel(channel_id: i64) -> Result<Self, PeerKeyError> {
        if (1..=MAX_CHANNEL_ID).contains(&channel_id) {
            Ok(Self(CHANNEL_ZERO - channel_id))
        } else {
            Err(PeerKeyError::ChannelOutOfRange)
        }
    }

    /// Reads a stored or received marked id, refusing every number that is not one of the three kinds.
    pub fn from_marked(value: i64) -> Result<Self, PeerKeyError> {
        if value > 0 {
            Self::user(value)
        } else if (-MAX_GROUP_ID..=-1).contains(&value)
            || (CHANNEL_ZERO - MAX_CHANNEL_ID..CHANNEL_ZERO).contains(&value)
        {
            Ok(Self(value))
        } else {
            Err(PeerKeyError::NotAPeer)
        }
    }

    /// The marked id, as stored and as Telegram's clients print it.
    pub fn get(self) -> i64 {
        self.0
    }

    pub fn kind(self) -> PeerKind {
        if self.0 > 0 {
            PeerKind::User
        } else if self.0 > CHANNEL_ZERO {
            PeerKind::Group
        } else {
            PeerKind::Channel
        }
    }

    /// The id without its marking: the user id, the chat id or the channel id MTProto's input peers carry.
    pub fn bare_id(self) -> i64 {
        match self.kind() {
            PeerKind::User => self.0,
            PeerKind::Group => -self.0,
            PeerKind::Channel => CHANNEL_ZERO - self.0,
        }
    }
}

impl TryFrom<i64> for PeerKey {
    type Error = PeerKeyError;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::from_marked(value)
    }
}

impl From<PeerKey> for i64 {
    fn from(key: PeerKey) -> Self {
        key.0
    }
}

impl fmt::Display for PeerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for PeerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerKey({:?}, {})", self.kind(), self.0)
    }
}

/// A peer as a dialog shows it. The kind always matches the key: it is derived, never given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    key: PeerKey,
    kind: PeerKind,
    title: String,
    username: Option<String>,
}

impl Peer {
    /// `title` is a user's display name or a group's or channel's title; `username` has no `@`.
    pub fn new(key: PeerKey, title: impl Into<String>, username: Option<String>) -> Self {
        Self {
            key,
            kind: key.kind(),
            title: title.into(),
            username,
        }
    }

    pub fn key(&self) -> PeerKey {
        self.key
    }

    pub fn kind(&self) -> PeerKind {
        self.kind
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_positive_and_keep_their_id() {
        let key = PeerKey::user(777_000).unwrap();
        assert_eq!(key.get(), 777_000);
        assert_eq!(key.kind(), PeerKind::User);
        assert_eq!(key.bare_id(), 777_000);
        assert_eq!(PeerKey::user(MAX_USER_ID).unwrap().get(), MAX_USER_ID);
    }

    #[test]
    fn basic_groups_are_their_chat_id_negated() {
        let key = PeerKey::group(123_456).unwrap();
        assert_eq!(key.get(), -123_456);
        assert_eq!(key.kind(), PeerKind::Group);
        assert_eq!(key.bare_id(), 123_456);
        assert_eq!(PeerKey::group(MAX_GROUP_ID).unwrap().get(), -999_999_999_999);
    }

    #[test]
    fn channels_are_minus_one_trillion_minus_their_id() {
        let key = PeerKey::channel(1_234_567_890).unwrap();
        assert_eq!(key.get(), -1_001_234_567_890);
        assert!(key.to_string().starts_with("-100"));
        assert_eq!(key.kind(), PeerKind::Channel);
        assert_eq!(key.bare_id(), 1_234_567_890);
        assert_eq!(PeerKey::channel(1).unwrap().get(), -1_000_000_000_001);
        assert_eq!(PeerKey::channel(MAX_CHANNEL_ID).unwrap().get(), -1_997_852_516_352);
    }

    #[test]
    fn constructors_refuse_zero_negative_and_too_large_ids() {
        assert_eq!(PeerKey::user(0), Err(PeerKeyError::UserOutOfRange));
        assert_eq!(PeerKey::user(-5), Err(PeerKeyError::UserOutOfRange));
        assert_eq!(PeerKey::user(MAX_USER_ID + 1), Err(PeerKeyError::UserOutOfRange));
        assert_eq!(PeerKey::group(0), Err(PeerKeyError::GroupOutOfRange));
        assert_eq!(PeerKey::group(-1), Err(PeerKeyError::GroupOutOfRange));
        assert_eq!(PeerKey::group(1_000_000_000_000), Err(PeerKeyError::GroupOutOfRange));
        assert_eq!(PeerKey::channel(0), Err(PeerKeyError::ChannelOutOfRange));
        assert_eq!(
            PeerKey::channel(MAX_CHANNEL_ID + 1),
            Err(PeerKeyError::ChannelOutOfRange)
        );
    }

    #[test]
    fn marked_ids_read_back_into_the_same_kind() {
        for key in [
            PeerKey::user(42).unwrap(),
            PeerKey::group(42).unwrap(),
            PeerKey::channel(42).unwrap(),
        ] {
            assert_eq!(PeerKey::from_marked(key.get()), Ok(key));
        }
        assert_eq!(PeerKey::from_marked(0), Err(PeerKeyError::NotAPeer));
        assert_eq!(PeerKey::from_marked(-1_000_000_000_000), Err(PeerKeyError::NotAPeer));
        // A secret chat's marked id (-2_000_000_000_000 + id) is not a dialog peer here.
        assert_eq!(PeerKey::from_marked(-1_999_999_999_999), Err(PeerKeyError::NotAPeer));
        assert_eq!(PeerKey::from_marked(i64::MIN), Err(PeerKeyError::NotAPeer));
        assert_eq!(PeerKey::from_marked(i64::MAX), Err(PeerKeyError::UserOutOfRange));
    }

    #[test]
    fn peer_keys_serialize_as_their_marked_id_and_refuse_bad_numbers() {
        let key = PeerKey::channel(5).unwrap();
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, "-1000000000005");
        assert_eq!(serde_json::from_str::<PeerKey>(&json).unwrap(), key);
        assert!(serde_json::from_str::<PeerKey>("0").is_err());
    }

    #[test]
    fn a_peer_takes_its_kind_from_its_key() {
        let peer = Peer::new(PeerKey::group(9).unwrap(), "Team", None);
        assert_eq!(peer.kind(), PeerKind::Group);
        assert_eq!(peer.title(), "Team");
        assert_eq!(peer.username(), None);
    }
}
