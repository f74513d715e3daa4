//! What a message carries besides text: a photo, a video, a voice note, a document or a sticker, described
//! (never stored) by the service; and the file itself, streamed from Telegram on request.
//!
//! Rules:
//! - [`MediaInfo`] is metadata only: kind, file name, size, MIME type, dimensions or duration. The file stays
//!   on Telegram's servers; a download streams it through without writing it to disk.
//! - A download never yields more than the caller's `max_bytes`: a file Telegram reports as larger is refused
//!   before the first byte ([`GatewayError::FileTooLarge`]), and a stream that runs past the cap ends with
//!   that error.
//! - An outgoing document is at most [`MAX_UPLOAD_BYTES`], has a file name of 1 to [`MAX_FILE_NAME`]
//!   characters without path separators or control characters, and a MIME type of the form `type/subtype`.

use tokio::sync::mpsc;

use super::error::GatewayError;

/// The largest document the service uploads for a member (Telegram itself allows more; the cap keeps a
/// request's memory bounded).
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// The longest file name kept, in characters.
pub const MAX_FILE_NAME: usize = 255;

/// The kind of media a message carries. Audio files and anything else Telegram sends as a file are
/// `Document`; round video messages are `Video`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MediaKind {
    Photo,
    Video,
    Voice,
    Document,
    Sticker,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Photo => "PHOTO",
            Self::Video => "VIDEO",
            Self::Voice => "VOICE",
            Self::Document => "DOCUMENT",
            Self::Sticker => "STICKER",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Photo, Self::Video, Self::Voice, Self::Document, Self::Sticker]
            .into_iter()
            .find(|kind| kind.as_str() == value)
    }
}

/// What is known of a message's media without downloading it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct MediaInfo {
    pub kind: Option<MediaKind>,
    pub file_name: Option<String>,
    pub size_bytes: Option<u64>,
    pub mime_type: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_secs: Option<u32>,
}

impl MediaInfo {
    /// Media of `kind`, everything else unknown.
    pub fn of(kind: MediaKind) -> Self {
        Self {
            kind: Some(kind),
            ..Self::default()
        }
    }
}

/// A document a member sends: its name, MIME type and bytes (already checked by [`OutgoingDocument::new`]).
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingDocument {
    file_name: String,
    mime_type: String,
    bytes: Vec<u8>,
}

/// Why a document cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the file name must be 1 to 255 characters without slashes or control characters")]
    FileName,
    #[error("the MIME type must look like type/subtype")]
    MimeType,
}

impl OutgoingDocument {
    pub fn new(file_name: &str, mime_type: &str, bytes: Vec<u8>) -> Result<Self, DocumentError> {
        if bytes.is_empty() {
            return Err(DocumentError::Empty);
        }
        if bytes.len() > MAX_UPLOAD_BYTES {
            return Err(DocumentError::TooLarge {
                limit: MAX_UPLOAD_BYTES,
            });
        }
        let name = file_name.trim();
        let name_ok = !name.is_empty()
            && name.chars().count() <= MAX_FILE_NAME
            && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control())
            && name != "."
            && name != "..";
        if !name_ok {
            return Err(DocumentError::FileName);
        }
        let mime = mime_type.trim().to_ascii_lowercase();
        let token = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
        };
        match mime.split_once('/') {
            Some((kind, sub)) if token(kind) && token(sub) => {}
            _ => return Err(DocumentError::MimeType),
        }
        Ok(Self {
            file_name: name.to_owned(),
            mime_type: mime,
            bytes,
        })
    }

    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    pub fn mime_type(&self) -> &str {
        &self.mime_type
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// What a message carrying this document shows.
    pub fn info(&self) -> MediaInfo {
        MediaInfo {
            kind: Some(MediaKind::Document),
            file_name: Some(self.file_name.clone()),
            size_bytes: Some(self.bytes.len() as u64),
            mime_type: Some(self.mime_type.clone()),
            ..MediaInfo::default()
        }
    }
}

impl std::fmt::Debug for OutgoingDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingDocument")
            .field("file_name", &self.file_name)
            .field("mime_type", &self.mime_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// A file on its way from Telegram: what it is, then its bytes in order, chunk by chunk.
#[derive(Debug)]
pub struct MediaDownload {
    pub info: MediaInfo,
    chunks: mpsc::Receiver<Result<Vec<u8>, GatewayError>>,
}

impl MediaDownload {
    /// A download fed by the sender half of `chunks` (an adapter's reading task).
    pub fn new(info: MediaInfo, chunks: mpsc::Receiver<Result<Vec<u8>, GatewayError>>) -> Self {
        Self { info, chunks }
    }

    /// A download of bytes already in memory (the sandbox), sent in chunks of at most `chunk` bytes.
    pub fn from_bytes(info: MediaInfo, bytes: Vec<u8>, chunk: usize) -> Self {
        let parts: Vec<Vec<u8>> = bytes.chunks(chunk.max(1)).map(<[u8]>::to_vec).collect();
        let (sender, receiver) = mpsc::channel(parts.len().max(1));
        for part in parts {
            // The channel holds every part: sending cannot fail or wait.
            let _fits = sender.try_send(Ok(part));
        }
        Self::new(info, receiver)
    }

    /// The next chunk; `None` at the end of the file.
    pub async fn next_chunk(&mut self) -> Option<Result<Vec<u8>, GatewayError>> {
        self.chunks.recv().await
    }

    /// Every chunk until the end, for callers that want the whole file (tests, small files).
    pub async fn collect(mut self) -> Result<Vec<u8>, GatewayError> {
        let mut all = Vec::new();
        while let Some(chunk) = self.next_chunk().await {
            all.extend_from_slice(&chunk?);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_checked_before_anything_is_sent() {
        assert_eq!(
            OutgoingDocument::new("a.pdf", "application/pdf", vec![]),
            Err(DocumentError::Empty)
        );
        assert_eq!(
            OutgoingDocument::new("a.pdf", "application/pdf", vec![0; MAX_UPLOAD_BYTES + 1]),
            Err(DocumentError::TooLarge {
                limit: MAX_UPLOAD_BYTES
            })
        );
        for name in ["", "  ", "../etc/passwd", "a\\b", "a\nb", ".."] {
            assert_eq!(
                OutgoingDocument::new(name, "text/plain", vec![1]),
                Err(DocumentError::FileName),
                "{name:?}"
            );
        }
        for mime in ["", "text", "text/", "/plain", "text/pl ain", "a/b/c"] {
            assert_eq!(
                OutgoingDocument::new("a.txt", mime, vec![1]),
                Err(DocumentError::MimeType),
                "{mime:?}"
            );
        }
        let document = OutgoingDocument::new(" report.pdf ", "Application/PDF", vec![1, 2, 3]).unwrap();
        assert_eq!(document.file_name(), "report.pdf");
        assert_eq!(document.mime_type(), "application/pdf");
        assert_eq!(document.info().size_bytes, Some(3));
        assert_eq!(document.info().kind, Some(MediaKind::Document));
    }

    #[test]
    fn kinds_read_back_from_their_names() {
        for kind in [
            MediaKind::Photo,
            MediaKind::Video,
            MediaKind::Voice,
            MediaKind::Document,
            MediaKind::Sticker,
        ] {
            assert_eq!(MediaKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(MediaKind::parse("photo"), None);
    }

    #[tokio::test]
    async fn a_download_from_memory_yields_the_bytes_in_order() {
        let bytes: Vec<u8> = (0..=255).collect();
        let download = MediaDownload::from_bytes(MediaInfo::of(MediaKind::Photo), bytes.clone(), 100);
        assert_eq!(download.collect().await.unwrap(), bytes);
    }
}
