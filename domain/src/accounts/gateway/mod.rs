//! The `TelegramGateway` port: how the service talks to Telegram as a rented account, without knowing
//! MTProto.
//!
//! Adapters: the sandbox (an in-process simulated Telegram network, `tgos-telegram`'s `sandbox`) and the
//! MTProto adapter. The port follows what an MTProto client does: connect with an auth key and a data
//! centre, list dialogs, read history, send with reply-to and silent, mark read, follow updates.
//!
//! Rules, in the modules that enforce them:
//! - [`peer`]: peers are keyed by Telegram's marked ids (users positive, basic groups `-chat_id`, channels
//!   `-100…`), and a key's kind is derived, never given.
//! - [`message`]: message ids are Telegram's, per account for private chats and basic groups; outgoing text
//!   is 1 to 4096 UTF-16 code units and not blank.
//! - [`update`]: updates carry a non-decreasing per-account state and are delivered at least once.
//! - [`error`]: every failure is classified: transient, about the account, or about the request.
//! - [`media`]: media is described, not stored; downloads are capped; outgoing documents are checked first.
//! - [`login`]: a phone login follows Telegram's steps, never keeps the cloud password, never registers.
//! - [`stream`]: a subscriber sees updates in order, is told what it missed, and sees the end.
//! - [`port`]: one connection per account, acting exactly as the account would; no read-state tampering,
//!   no fingerprint spoofing, no evasion features.

pub mod error;
pub mod login;
pub mod media;
pub mod message;
pub mod peer;
pub mod port;
pub mod stream;
pub mod update;

pub use error::GatewayError;
pub use login::{CodeAccepted, LoggedIn, LoginError, LoginFlow};
pub use media::{DocumentError, MAX_UPLOAD_BYTES, MediaDownload, MediaInfo, MediaKind, OutgoingDocument};
pub use message::{
    MAX_CAPTION_LENGTH, MAX_MESSAGE_LENGTH, RemoteDialog, RemoteMessage, check_caption, check_outgoing_text,
};
pub use peer::{Peer, PeerKey, PeerKeyError, PeerKind};
pub use port::{GatewayConnection, MAX_PAGE, TelegramGateway};
pub use stream::{Next, UpdateFanout, UpdateStream};
pub use update::{GatewayUpdate, StampedUpdate, UpdateDifference, UpdateState};
