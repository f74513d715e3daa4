//! Accounts: the Telegram account pool. This part reads the session strings staff import.
//!
//! A session string exported by Telethon ([`parse_telethon`]) or Pyrogram ([`parse_pyrogram`]) becomes one
//! normalized [`TelegramSession`], whose canonical bytes ([`TelegramSession::encode`]) are what the vault
//! seals. Optional account details are validated newtypes: [`PhoneNumber`], [`CountryCode`],
//! [`TelegramUsername`].
//!
//! Secrets: the auth key is zeroized on drop, compared in constant time and never printed; phone numbers
//! print masked; no error reason quotes a session string or a key byte.

pub mod country;
pub mod phone;
pub mod pyrogram;
mod reader;
pub mod session;
pub mod telethon;
pub mod username;

pub use country::CountryCode;
pub use phone::PhoneNumber;
pub use pyrogram::parse_pyrogram;
pub use session::{AuthKey, DcId, SessionError, TelegramSession};
pub use telethon::parse_telethon;
pub use username::TelegramUsername;
