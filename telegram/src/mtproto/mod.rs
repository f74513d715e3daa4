//! The real Telegram gateway: MTProto through grammers.
//!
//! Rules, in the modules that enforce them:
//! - [`config`]: an official `api_id`/`api_hash`, honest client parameters, the hash never printed.

pub mod config;
pub mod convert;
pub mod errors;
mod gateway;
pub mod retry;
pub mod state;

pub use config::{ConfigError, MtprotoConfig};
pub use gateway::MtprotoGateway;
