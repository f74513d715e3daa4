//! # tgos-domain
//!
//! The business heart of Telegram OS: types that cannot hold invalid values, the rules over them, the use
//! cases that apply those rules, and the ports (traits) the use cases need from the outside world.
//!
//! This crate knows no web framework and no SQL crate; `Cargo.toml` proves it. Adapters for storage live in
//! `tgos-persistence`; the GraphQL edge lives in `tgos-api`. The cryptographic primitives the rules rely on
//! (argon2id, AES-256-GCM, SHA-256, TOTP) are pure computations and live here under [`crypto`].

pub mod accounts;
pub mod audit;
pub mod automation;
pub mod billing;
pub mod clock;
pub mod compliance;
pub mod crypto;
pub mod erasure;
pub mod error;
pub mod events;
pub mod identity;
pub mod ids;
pub mod inbox;
pub mod jobs;
pub mod leadership;
pub mod limits;
pub mod mail;
pub mod notices;
pub mod paging;
pub mod privacy;
pub mod request;
pub mod retention;
pub mod store;
pub mod tenancy;
pub mod text;
pub mod vault;
pub mod webhooks;

pub use error::{DomainError, FieldError};
