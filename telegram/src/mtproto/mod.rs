//! The real Telegram gateway: MTProto through grammers.
//!
//! Rules, in the modules that enforce them:
//! - [`config`]: an official `api_id`/`api_hash`, honest client parameters, the hash never printed.
//! - [`session`]: the session lives only in memory, built from and written back to the vault.
//! - [`errors`]: Telegram's errors become the domain's classified gateway errors (and so health signals).
//! - [`retry`]: a short flood wait is waited out once; nothing is retried in a loop.
//! - [`convert`], [`answers`]: TL values become inbox messages, media descriptions, dialogs and updates.
//! - [`state`]: the account's position in its update sequence, as the domain stores it.
//! - `connection`, `media`, `login`: a live connection, files on Telegram, and phone login.

pub mod answers;
pub mod config;
mod connection;
pub mod convert;
pub mod errors;
mod gateway;
mod login;
mod media;
pub mod retry;
pub mod session;
pub mod state;

pub use config::{ConfigError, MtprotoConfig};
pub use gateway::MtprotoGateway;
