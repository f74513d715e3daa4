//! Accounts: the Telegram account pool. This part reads the session strings staff import.
//!
//! A session string exported by Telethon ([`parse_telethon`]) or Pyrogram ([`parse_pyrogram`]) becomes one
//! normalized [`TelegramSession`], whose canonical bytes ([`TelegramSession::encode`]) are what the vault
//! seals.
//!
//! Secrets: the auth key is zeroized on drop, compared in constant time and never printed; no error reason
//! quotes a session string or a key byte.

pub mod pyrogram;
mod reader;
pub mod session;
pub mod telethon;

pub use pyrogram::parse_pyrogram;
pub use session::{AuthKey, DcId, SessionError, TelegramSession};
pub use telethon::parse_telethon;
