//! # tgos-telegram
//!
//! Adapters of the domain's [`TelegramGateway`](tgos_domain::accounts::gateway::TelegramGateway) port.
//!
//! - [`sandbox`]: an in-process **simulated** Telegram network. Nothing it does reaches Telegram; accounts
//!   connected through it are labelled sandbox accounts (`is_sandbox() == true`). It is the embedded
//!   default, like a payment provider's test mode, and the ground the inbox and health are tested on.
//!
//! - [`mtproto`]: the real Telegram network over MTProto (grammers), with the application's official
//!   `api_id`/`api_hash`; sessions come from and go back to the vault, never to disk.
//!
//! Every adapter plays by Telegram's rules: no read-state tampering, no fingerprint spoofing, no evasion.

pub mod mtproto;
pub mod sandbox;
