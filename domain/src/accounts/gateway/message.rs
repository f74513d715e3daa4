//! Messages and dialogs as a Telegram account sees them.
//!
//! Rules:
//! - A message id is Telegram's, per account for private chats and basic groups (one sequence shared by all
//!   of them) and per channel for channels. The same message has different ids in the two accounts of a
//!   private chat. Ids are positive and grow with time inside one sequence.
//! - Outgoing text is 1 to [`MAX_MESSAGE_LENGTH`] UTF-16 code units (Telegram's measure) and not only
//!   whitespace; [`check_outgoing_text`] says why not, before anything is sent. A media message's caption may
//!   be empty and is at most [`MAX_CAPTION_LENGTH`] ([`check_caption`]).

use chrono::{DateTime, Utc};

use super::error::GatewayError;
use super::media::MediaInfo;
use super::peer::{Peer, PeerKey};

/// The longest text message Telegram accepts, in UTF-16 code units.
pub const MAX_MESSAGE_LENGTH: usize = 4096;
/// The longest caption of a media message Telegram accepts from an account without Premium, in UTF-16 code
/// units.
pub const MAX_CAPTION_LENGTH: usize = 1024;

/// A message in one of the account's dialogs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteMessage {
    /// Telegram's message id, in the sequence of the account (or of the channel).
    pub id: i32,
    /// The dialog the message belongs to.
    pub peer: PeerKey,
    /// True when the account itself sent it.
    pub outgoing: bool,
    pub text: String,
    pub sent_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// The id of the message this one replies to, in the same dialog.
    pub reply_to: Option<i32>,
    /// The photo, video, voice note, document or sticker the message carries, described.
    pub media: Option<MediaInfo>,
}

/// One dialog of the account's dialog list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteDialog {
    pub peer: Peer,
    /// The newest message's id, 0 when the dialog has no message left.
    pub top_message_id: i32,
    /// Incoming messages newer than `read_inbox_max_id`.
    pub unread_count: u32,
    /// The newest incoming message the account has read.
    pub read_inbox_max_id: i32,
    pub last_message: Option<RemoteMessage>,
}

/// Refuses text Telegram would refuse: empty or only whitespace ([`GatewayError::MessageEmpty`]) and longer
/// than [`MAX_MESSAGE_LENGTH`] UTF-16 code units ([`GatewayError::MessageTooLong`]).
pub fn check_outgoing_text(text: &str) -> Result<(), GatewayError> {
    if text.trim().is_empty() {
        return Err(GatewayError::MessageEmpty);
    }
    if text.encode_utf16().count() > MAX_MESSAGE_LENGTH {
        return Err(GatewayError::MessageTooLong);
    }
    Ok(())
}

/// Refuses a caption Telegram would refuse: longer than [`MAX_CAPTION_LENGTH`] UTF-16 code units
/// ([`GatewayError::MessageTooLong`]). A caption may be empty: the media is the message.
pub fn check_caption(caption: &str) -> Result<(), GatewayError> {
    if caption.encode_utf16().count() > MAX_CAPTION_LENGTH {
        return Err(GatewayError::MessageTooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caption_may_be_empty_and_has_its_own_limit() {
        assert_eq!(check_caption(""), Ok(()));
        assert_eq!(check_caption(&"a".repeat(1024)), Ok(()));
        assert_eq!(check_caption(&"a".repeat(1025)), Err(GatewayError::MessageTooLong));
    }

    #[test]
    fn text_of_4096_characters_is_accepted_and_one_more_is_too_long() {
        assert_eq!(check_outgoing_text(&"a".repeat(4096)), Ok(()));
        assert_eq!(
            check_outgoing_text(&"a".repeat(4097)),
            Err(GatewayError::MessageTooLong)
        );
    }

    #[test]
    fn length_is_counted_in_utf16_code_units_like_telegram() {
        // An emoji outside the basic plane is two UTF-16 code units.
        assert_eq!(check_outgoing_text(&"😀".repeat(2048)), Ok(()));
        assert_eq!(
            check_outgoing_text(&format!("{}a", "😀".repeat(2048))),
            Err(GatewayError::MessageTooLong)
        );
    }

    #[test]
    fn empty_and_blank_text_is_refused() {
        assert_eq!(check_outgoing_text(""), Err(GatewayError::MessageEmpty));
        assert_eq!(check_outgoing_text(" \n\t"), Err(GatewayError::MessageEmpty));
        assert_eq!(check_outgoing_text(" hi "), Ok(()));
    }
}
