//! Accounts: the Telegram account pool ([`pool`]: offers, leases), account health ([`health`]), the port to
//! Telegram ([`gateway`]), and the session strings staff import.
//!
//! A session string exported by Telethon ([`parse_telethon`]) or Pyrogram ([`parse_pyrogram`]) becomes one
//! normalized [`TelegramSession`], whose canonical bytes ([`TelegramSession::encode`]) are what the vault
//! seals. Import files ([`parse_import`]) are read line by line into accounts with optional, validated
//! metadata ([`PhoneNumber`], [`CountryCode`], [`TelegramUsername`]) or into per-line errors.
//!
//! Secrets: the auth key is zeroized on drop, compared in constant time and never printed; phone numbers
//! print masked; no error reason quotes a session string or a key byte.

pub mod country;
pub mod gateway;
pub mod health;
pub mod import;
pub mod phone;
pub mod pool;
pub mod pyrogram;
mod reader;
pub mod session;
pub mod telethon;
pub mod username;

#[cfg(test)]
mod tests;

pub use country::CountryCode;
pub use import::{ImportFormat, ImportReport, ImportedAccount, LineError, SessionFormat, parse_import};
pub use phone::PhoneNumber;
pub use pyrogram::parse_pyrogram;
pub use session::{AuthKey, DcId, SessionError, TelegramSession};
pub use telethon::parse_telethon;
pub use username::TelegramUsername;
