//! What the inbox stores: dialogs per (workspace, account, peer) and their messages.
//!
//! Rules:
//! - Inbox rows belong to the workspace that held the account when they arrived: a workspace keeps its history
//!   of an account after its lease ends, and the next renter starts with its own.
//! - A message is keyed by its Telegram id within its id sequence: private chats and basic groups share one
//!   sequence per account (so a deletion without a peer still finds its message), each channel has its own.
//!   It is stored once however often Telegram reports it.
//! - Edits keep the previous text in the message's history; deletions are soft.
//! - A message's media is kept as its description only ([`MediaInfo`]); the bytes stay on Telegram.
//! - A dialog's tags and assignee are the workspace's own sorting of it (`triage`); Telegram knows nothing of
//!   them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::gateway::{MediaInfo, PeerKey, PeerKind};
use crate::ids::{AccountId, DialogId, MessageId, UserId, WorkspaceId};

/// The id sequence a peer's messages are numbered in: 0 for private chats and basic groups (the account's
/// own sequence), the channel's peer key for a channel.
pub fn sequence_of(peer: PeerKey) -> i64 {
    match peer.kind() {
        PeerKind::Channel => peer.get(),
        PeerKind::User | PeerKind::Group => 0,
    }
}

/// One conversation of an account as a workspace sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialogRecord {
    pub id: DialogId,
    pub workspace_id: WorkspaceId,
    pub account_id: AccountId,
    pub peer: PeerKey,
    pub title: String,
    pub username: Option<String>,
    pub unread_count: i32,
    /// The newest incoming message the account has read.
    pub read_inbox_max_id: i32,
    pub top_message_id: i32,
    pub last_message_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Its tags ([`super::tags::normalize_tag`]'s forms), sorted. Filled by the reads of one whole dialog
    /// (`InboxRepository::find_dialog`, `mark_read`, the tag and assignment changes, so every event carrying a
    /// dialog) and by a page that asks for them ([`super::PageIncludes::tags`]); the list reads that serve pages
    /// and loaders (`dialogs`, `dialogs_with_last_message`, `find_dialogs`) and the sync's upserts leave it
    /// empty, which their callers know. Absent from events stored before tags existed, hence the default.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The member the dialog is assigned to, if any: always a current member of the workspace (a departure
    /// unassigns theirs in the same transaction).
    #[serde(default)]
    pub assignee_id: Option<UserId>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    Incoming,
    Outgoing,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incoming => "INCOMING",
            Self::Outgoing => "OUTGOING",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Incoming, Self::Outgoing]
            .into_iter()
            .find(|d| d.as_str() == text)
    }
}

/// Where an outgoing message stands; incoming messages are `Sent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    /// Handed to Telegram, no answer yet.
    Pending,
    Sent,
    /// Telegram refused it; the reason is kept.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Sent => "SENT",
            Self::Failed => "FAILED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Sent, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One message of a dialog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: MessageId,
    pub workspace_id: WorkspaceId,
    pub account_id: AccountId,
    pub dialog_id: DialogId,
    pub peer: PeerKey,
    /// Telegram's id in the peer's sequence; `None` while an outgoing message is pending or after it failed.
    pub telegram_id: Option<i32>,
    pub direction: Direction,
    pub text: String,
    pub sent_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// Telegram's id of the message this one replies to, in the same dialog.
    pub reply_to: Option<i32>,
    pub status: DeliveryStatus,
    pub failure: Option<String>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// Earlier texts, oldest first.
    pub edit_history: Vec<String>,
    /// The photo, video, voice note, document or sticker the message carries, described (the file stays on
    /// Telegram; `inbox::media` streams it). Absent from events stored before media existed, hence the default.
    #[serde(default)]
    pub media: Option<MediaInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_chats_and_basic_groups_share_the_accounts_sequence_and_channels_have_their_own() {
        let user = PeerKey::user(42).unwrap();
        let group = PeerKey::group(7).unwrap();
        let channel = PeerKey::channel(99).unwrap();
        assert_eq!(sequence_of(user), 0);
        assert_eq!(sequence_of(group), 0);
        assert_eq!(sequence_of(channel), channel.get());
    }

    #[test]
    fn a_dialog_stored_before_tags_and_assignees_existed_reads_as_untagged_and_unassigned() {
        let dialog = DialogRecord {
            id: DialogId::generate(),
            workspace_id: WorkspaceId::generate(),
            account_id: AccountId::generate(),
            peer: PeerKey::user(42).unwrap(),
            title: "Ada".to_owned(),
            username: None,
            unread_count: 1,
            read_inbox_max_id: 0,
            top_message_id: 7,
            last_message_at: None,
            updated_at: Utc::now(),
            tags: vec!["vip".to_owned()],
            assignee_id: Some(UserId::generate()),
        };
        let stored = serde_json::to_value(&dialog).unwrap();
        assert_eq!(serde_json::from_value::<DialogRecord>(stored.clone()).unwrap(), dialog);
        let mut older = stored;
        let fields = older.as_object_mut().unwrap();
        fields.remove("tags");
        fields.remove("assignee_id");
        let read: DialogRecord = serde_json::from_value(older).unwrap();
        assert!(read.tags.is_empty());
        assert_eq!(read.assignee_id, None);
        assert_eq!(read.title, "Ada");
    }

    #[test]
    fn stored_names_parse_back() {
        for direction in [Direction::Incoming, Direction::Outgoing] {
            assert_eq!(Direction::parse(direction.as_str()), Some(direction));
        }
        for status in [DeliveryStatus::Pending, DeliveryStatus::Sent, DeliveryStatus::Failed] {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
        }
    }
}
