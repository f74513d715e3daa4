//! A message's media as GraphQL shows it: the description the inbox stored, and where to fetch the file
//! (`GET /media/<messageId>`, `http::media`), which answers only callers who may read the message.

use async_graphql::{Enum, SimpleObject};
use tgos_domain::accounts::gateway::{MediaInfo, MediaKind as DomainMediaKind};
use tgos_domain::ids::MessageId;

/// What kind of media a message carries. Audio files and other files are DOCUMENT; round video messages are
/// VIDEO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum MediaKind {
    Photo,
    Video,
    Voice,
    Document,
    Sticker,
}

impl From<DomainMediaKind> for MediaKind {
    fn from(kind: DomainMediaKind) -> Self {
        match kind {
            DomainMediaKind::Photo => Self::Photo,
            DomainMediaKind::Video => Self::Video,
            DomainMediaKind::Voice => Self::Voice,
            DomainMediaKind::Document => Self::Document,
            DomainMediaKind::Sticker => Self::Sticker,
        }
    }
}

/// The photo, video, voice note, document or sticker a message carries, described. The file stays on
/// Telegram; `url` streams it to whoever may read the message (the same bearer token).
#[derive(Debug, SimpleObject)]
pub struct MessageMedia {
    pub kind: MediaKind,
    pub file_name: Option<String>,
    /// The file's size in bytes, when Telegram says.
    pub size_bytes: Option<i64>,
    pub mime_type: Option<String>,
    /// In pixels, for photos, videos and stickers.
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// For videos and voice notes.
    pub duration_seconds: Option<i32>,
    /// Where to fetch the file: `/media/<messageId>`, with `Authorization: Bearer <token>`.
    pub url: String,
}

impl MessageMedia {
    pub fn of(message: MessageId, info: &MediaInfo) -> Self {
        let int = |value: Option<u32>| value.and_then(|v| i32::try_from(v).ok());
        Self {
            kind: info.kind.unwrap_or(DomainMediaKind::Document).into(),
            file_name: info.file_name.clone(),
            size_bytes: info.size_bytes.and_then(|v| i64::try_from(v).ok()),
            mime_type: info.mime_type.clone(),
            width: int(info.width),
            height: int(info.height),
            duration_seconds: int(info.duration_secs),
            url: url_of(message),
        }
    }
}

/// The path a message's file is fetched at.
pub fn url_of(message: MessageId) -> String {
    format!("/media/{message}")
}
