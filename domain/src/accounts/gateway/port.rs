//! The port itself: connect an account, then read and write through its connection.
//!
//! Rules:
//! - One live connection per account across all workers: Telegram invalidates a session used from two
//!   connections at once. The account lease enforces it; a gateway does not have to.
//! - A connection acts as the account and nothing else: no read-state tampering (only `mark_read`, exactly
//!   what a person's client does), no fingerprint spoofing, no evasion of Telegram's limits. Errors come
//!   back classified ([`GatewayError`]) so health can slow down or stop the account.
//! - Updates reach a caller two ways: live through [`GatewayConnection::subscribe`], and on resume through
//!   [`GatewayConnection::updates_since`]. To lose nothing: subscribe first, then ask for the difference
//!   since the persisted state, and skip what was already applied (delivery is at least once).

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;

use super::error::GatewayError;
use super::login::LoginFlow;
use super::media::{MediaDownload, OutgoingDocument};
use super::message::{RemoteDialog, RemoteMessage};
use super::peer::{Peer, PeerKey};
use super::stream::UpdateStream;
use super::update::{UpdateDifference, UpdateState};
use crate::accounts::session::TelegramSession;
use crate::ids::AccountId;

/// The most messages or dialogs one call returns, as Telegram's own methods cap it.
pub const MAX_PAGE: usize = 100;

/// Connects accounts to Telegram (or to the simulated network of the sandbox).
#[async_trait]
pub trait TelegramGateway: Send + Sync + Debug {
    /// Opens a connection as the account whose session this is: its data centre, its auth key, its user id.
    /// Fails with [`GatewayError::SessionInvalid`] when Telegram no longer accepts the key.
    async fn connect(
        &self,
        account: AccountId,
        session: &TelegramSession,
    ) -> Result<Arc<dyn GatewayConnection>, GatewayError>;

    /// True for the simulated network: accounts connected through it are labelled "sandbox" everywhere.
    fn is_sandbox(&self) -> bool;

    /// Starts signing an account in by phone (staff adding a real account); see [`LoginFlow`].
    async fn begin_login(&self) -> Result<Box<dyn LoginFlow>, GatewayError>;
}

/// One live connection of one account.
#[async_trait]
pub trait GatewayConnection: Send + Sync + Debug {
    /// The account this connection acts as.
    fn account(&self) -> AccountId;

    /// The account's own user: its key, display name and username.
    async fn me(&self) -> Result<Peer, GatewayError>;

    /// The newest dialogs first, at most `limit` (capped at [`MAX_PAGE`]).
    async fn dialogs(&self, limit: usize) -> Result<Vec<RemoteDialog>, GatewayError>;

    /// Messages of one dialog, newest first, at most `limit` (capped at [`MAX_PAGE`]), only those with an id
    /// below `before_id` when it is given: pass the oldest id of one page to get the next.
    async fn history(
        &self,
        peer: PeerKey,
        limit: usize,
        before_id: Option<i32>,
    ) -> Result<Vec<RemoteMessage>, GatewayError>;

    /// Sends a text message, optionally as a reply, optionally without a notification (`silent`). Returns the
    /// message as stored, with its id in the account's sequence.
    async fn send_message(
        &self,
        peer: PeerKey,
        text: &str,
        reply_to: Option<i32>,
        silent: bool,
    ) -> Result<RemoteMessage, GatewayError>;

    /// [`Self::send_message`] under a client-chosen `random_id` (MTProto's `random_id` of `messages.sendMessage`):
    /// a send repeated with the same id does not deliver again and answers the message the first one sent, so a
    /// caller that lost the answer (a crash, a timeout) can repeat the send safely. An adapter that learns of the
    /// repeat only as Telegram's `RANDOM_ID_DUPLICATE` resolves it to the first message before answering.
    async fn send_message_once(
        &self,
        peer: PeerKey,
        text: &str,
        reply_to: Option<i32>,
        random_id: i64,
    ) -> Result<RemoteMessage, GatewayError>;

    /// [`Self::send_message_once`] with a document attached and `caption` as its text (may be empty).
    async fn send_document_once(
        &self,
        peer: PeerKey,
        document: &OutgoingDocument,
        caption: &str,
        reply_to: Option<i32>,
        random_id: i64,
    ) -> Result<RemoteMessage, GatewayError>;

    /// Streams the media of message `message_id` of `peer`: [`GatewayError::NoMedia`] when it has none,
    /// [`GatewayError::FileTooLarge`] when the file is larger than `max_bytes`.
    async fn download_media(
        &self,
        peer: PeerKey,
        message_id: i32,
        max_bytes: u64,
    ) -> Result<MediaDownload, GatewayError>;

    /// The session as it stands now when it changed since the connection opened (Telegram moved the account
    /// to another data centre, a new auth key was made): the caller seals it again. `None` when unchanged.
    fn changed_session(&self) -> Option<TelegramSession> {
        None
    }

    /// Marks the dialog's incoming messages read up to `max_id`, as the person would by opening the chat.
    async fn mark_read(&self, peer: PeerKey, max_id: i32) -> Result<(), GatewayError>;

    /// The account's current update state, for a caller that has none persisted yet.
    async fn update_state(&self) -> Result<UpdateState, GatewayError>;

    /// What happened after `state`, oldest first, or [`UpdateDifference::TooLong`] when the gap cannot be
    /// filled.
    async fn updates_since(&self, state: UpdateState) -> Result<UpdateDifference, GatewayError>;

    /// Updates from now on. A stream that falls behind is told so and catches up with
    /// [`updates_since`](Self::updates_since); the stream ends when the connection ends.
    fn subscribe(&self) -> UpdateStream;

    /// Ends the connection; later calls fail with [`GatewayError::Network`]. Calling it twice is harmless.
    async fn disconnect(&self);
}
