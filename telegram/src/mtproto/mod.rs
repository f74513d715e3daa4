//! The real Telegram gateway: MTProto through grammers.
//!
//! Rules, in the modules that enforce them:
//! - [`config`]: an official `api_id`/`api_hash`, honest client parameters, the hash never printed.

pub mod config;
mod gateway;

pub use config::{ConfigError, MtprotoConfig};
pub use gateway::MtprotoGateway;
