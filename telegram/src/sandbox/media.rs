//! Media in the simulated network: a file a message carries, its bytes held in memory beside the message.
//!
//! Rules:
//! - A file is described ([`MediaInfo`]) on every copy of its message and held once (shared by the copies);
//!   its size is always the length of its bytes, and a file of no kind is a document.
//! - A file is 1 to [`MAX_SANDBOX_FILE_BYTES`] bytes: the sandbox is for demos and tests, and memory is
//!   bounded (it goes with its message when the dialog drops its oldest).
//! - A download streams the held bytes in chunks of [`CHUNK_BYTES`]; `NoMedia` for a message without a file
//!   (or one the account cannot see), `FileTooLarge` before the first byte when the file exceeds the caller's
//!   cap.

use std::sync::Arc;

use tgos_domain::accounts::gateway::{GatewayError, MediaDownload, MediaInfo, MediaKind, OutgoingDocument, PeerKey};

use super::error::SandboxError;
use super::world::World;

/// The largest file the sandbox holds.
pub const MAX_SANDBOX_FILE_BYTES: usize = 32 * 1024 * 1024;
/// The size of one chunk of a download (Telegram's `upload.getFile` serves at most 1 MiB a part; smaller
/// chunks make the streaming visible in tests).
pub const CHUNK_BYTES: usize = 64 * 1024;

/// A file held by the sandbox: what it is and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxFile {
    pub info: MediaInfo,
    pub bytes: Arc<[u8]>,
}

impl SandboxFile {
    /// A file of `kind` with these bytes and whatever else `info` says (its size is set from the bytes).
    pub fn new(mut info: MediaInfo, bytes: Vec<u8>) -> Result<Self, SandboxError> {
        if bytes.is_empty() {
            return Err(SandboxError::EmptyFile);
        }
        if bytes.len() > MAX_SANDBOX_FILE_BYTES {
            return Err(SandboxError::FileTooLarge {
                limit: MAX_SANDBOX_FILE_BYTES,
            });
        }
        info.kind = Some(info.kind.unwrap_or(MediaKind::Document));
        info.size_bytes = Some(bytes.len() as u64);
        Ok(Self {
            info,
            bytes: bytes.into(),
        })
    }

    /// The file a member's document becomes.
    pub(crate) fn of_document(document: &OutgoingDocument) -> Self {
        Self {
            info: document.info(),
            bytes: document.bytes().into(),
        }
    }
}

/// Streams the file of `viewer`'s message `message_id` in the dialog with `peer`.
pub(crate) fn download(
    world: &World,
    viewer: i64,
    peer: PeerKey,
    message_id: i32,
    max_bytes: u64,
) -> Result<MediaDownload, GatewayError> {
    let stored = world
        .accounts
        .get(&viewer)
        .and_then(|mailbox| mailbox.dialogs.get(&peer))
        .and_then(|dialog| dialog.messages.get(&message_id))
        .ok_or(GatewayError::NoMedia)?;
    let (Some(info), Some(bytes)) = (stored.message.media.as_ref(), stored.file.as_ref()) else {
        return Err(GatewayError::NoMedia);
    };
    if bytes.len() as u64 > max_bytes {
        return Err(GatewayError::FileTooLarge { limit: max_bytes });
    }
    Ok(MediaDownload::from_bytes(info.clone(), bytes.to_vec(), CHUNK_BYTES))
}
