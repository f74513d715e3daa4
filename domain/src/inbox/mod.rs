//! The inbox: a workspace's dialogs and messages of the accounts it rents, kept in step with Telegram.
//!
//! Rules:
//! - **Stored once.** Updates arrive at least once (a gateway may repeat them); applying one twice changes
//!   nothing, because messages are keyed by their Telegram id in its sequence ([`records::sequence_of`]).
//! - **Nothing lost across restarts.** Each (workspace, account) remembers up to where the account's update
//!   sequence was applied; a sync continues from there, and when the gateway cannot fill the gap it re-reads
//!   the dialogs and their recent history instead ([`sync`]).
//! - **Tenant-bound.** Every read and write takes the workspace's scope; rows belong to the workspace that held
//!   the account when they arrived.
//! - **Live where the gateway needs it.** The holder of an account's connection lease may keep one connection
//!   open and stream updates in as they arrive ([`live`]); the periodic sync skips accounts held live here.
//! - **Media described, never kept.** A message's photo, voice note or document is stored as its description;
//!   the file is streamed from Telegram when asked for ([`media`]), and a member's document is sent through
//!   ([`content`]).
//! - **Sorted by the workspace.** Dialogs carry tags and an assignee of the workspace's own ([`triage`]).

pub mod automated;
pub mod content;
pub mod live;
pub mod media;
pub mod page;
pub mod ports;
pub mod records;
pub mod send;
pub mod service;
pub mod sync;
pub mod tags;
pub mod triage;

pub use automated::AutomatedSend;
pub use content::{DocumentUpload, Outgoing};
pub use live::{LiveConnections, LiveTiming, StopHandle, StopSignal, stop_pair};
pub use media::{MediaError, MediaStream};
pub use page::{DialogPage, DialogQuery, PageIncludes};
pub use ports::InboxRepository;
pub use records::{DeliveryStatus, DialogRecord, Direction, MessageRecord, sequence_of};
pub use service::InboxService;
pub use sync::SyncReport;
pub use tags::normalize_tag;
