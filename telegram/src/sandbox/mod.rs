//! The sandbox: an in-process **simulated** Telegram network. Nothing here talks to Telegram.
//!
//! It is the embedded default gateway (like a payment provider's test mode) and the ground the inbox, health
//! and automations are tested on. Accounts connected through it are labelled sandbox accounts.
//!
//! What it simulates, and the rules it keeps:
//! - Accounts ([`SandboxNetwork::register_account`], or any session on `connect`) are Telegram users keyed by
//!   user id; a session without one is the user derived from its auth key's fingerprint ([`sandbox_user_id`]).
//! - Accounts message each other: the sender's copy is outgoing, the recipient's is incoming, each with an
//!   id from its owner's sequence (one per account, shared by private chats and basic groups), each reported
//!   once. Basic groups ([`SandboxNetwork::create_group`]) work the same way per member.
//! - Scripted contacts ([`SandboxNetwork::contact_send`], `contact_edit`, `contact_delete`) write to an
//!   account; deletions come without a peer, as Telegram sends them.
//! - Reading ([`mark_read`](tgos_domain::accounts::gateway::GatewayConnection::mark_read)) reports
//!   `ReadInbox` to the reader and `ReadOutbox` to the account that sent what was read.
//! - Faults ([`SandboxFault`]): `FloodWait` and `PeerFlood` fail the account's next send, one each;
//!   `SessionInvalid` fails everything until the account is registered again.
//! - Updates: a per-account journal with increasing states, live streams per connection, resume with
//!   `updates_since`, and an on-demand duplicate ([`SandboxNetwork::duplicate_next_update`]) to prove
//!   at-least-once handling.
//! - Text: empty or blank is `MessageEmpty`, over 4096 UTF-16 code units is `MessageTooLong`.
//! - Phone login ([`SandboxLogin`]) mirrors Telegram's test data centres: `+99966XYYYY` exists and gets the
//!   code `XXXXX`; a last digit 9 has the cloud password [`SANDBOX_CLOUD_PASSWORD`], 8 is banned, 7's code has
//!   always expired; other numbers are unoccupied (or invalid under `+999`). See `login` for every rule.
//! - Media ([`SandboxFile`]): accounts send documents (`send_document_once`), contacts send photos, voice
//!   notes, documents… ([`SandboxNetwork::contact_send_media`]); the bytes stay in memory beside the message
//!   and `download_media` streams them, refusing a file over the caller's cap before the first byte.
//!
//! Not simulated: channels (their keys are refused as `PeerInvalid`), privacy settings, time-based limits (a
//! flood wait is an injected fault, not a counter), thumbnails, albums.

mod error;
mod fault;
mod gateway;
mod ids;
mod login;
mod mailbox;
mod media;
mod network;
mod world;

pub use error::SandboxError;
pub use fault::SandboxFault;
pub use gateway::{SandboxConnection, SandboxGateway};
pub use ids::{CONTACT_ID_BASE, sandbox_user_id};
pub use login::{
    CODE_LIFETIME_SECS, FLOOD_WAIT_SECS, LOGIN_USER_ID_BASE, MAX_CODES_PER_FLOW, SANDBOX_CLOUD_PASSWORD,
    SANDBOX_PASSWORD_HINT, SandboxLogin, login_user_id,
};
pub use media::{CHUNK_BYTES, MAX_SANDBOX_FILE_BYTES, SandboxFile};
pub use network::SandboxNetwork;
