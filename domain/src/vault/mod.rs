//! The session vault: envelope encryption per tenant for Telegram account secrets.
//!
//! A master key (KEK, [`crate::crypto::MasterKey`]) wraps one random data key (DEK) per owner per version; an
//! owner is a workspace or the platform's own account pool ([`KeyOwner`]). Payloads are sealed with
//! AES-256-GCM under the owner's current data key.
//!
//! Rules:
//! - **Bound to where it belongs.** A payload's associated data binds the format tag `tgos/vault/v1`, the owner,
//!   the account, the purpose and the key version; a wrapped data key's binds the owner and the version. A
//!   ciphertext moved to another workspace, account, purpose, version or row fails to open.
//! - **Refusals say nothing.** Every failure to open is [`VaultError::OpenFailed`], whatever was wrong, and
//!   every vault failure reaches clients as an opaque internal error. No API field returns a payload.
//! - **Secrets stay secret in memory.** [`DataKey`] and [`SecretPayload`] are zeroized on drop, have no
//!   `Clone`, `Serialize` or `Display`, and print as `<redacted>`. Data keys in the clear are never stored or
//!   cached.
//! - **Versioned keys.** [`Vault::rotate`] makes a new current version; old versions stay and keep opening old
//!   payloads until they are resealed ([`Vault::reseal`]). [`Vault::rewrap_all`] re-wraps every data key under a
//!   new master key without touching a payload; [`MasterKeyRotation`] is the staff use case around it, which also
//!   re-seals the TOTP secrets (the only other values sealed under the master key) and audits the rotation.
//! - **Crypto-erasure.** [`Vault::destroy`] wipes an owner's wrapped keys (tombstones keep the versions, which
//!   are never reused): its payloads can never open again ([`VaultError::KeyDestroyed`]).
//!
//! One responsibility per file: [`owner`] (owner, version), [`associated_data`] (the bindings), [`data_key`]
//! (DEK, wrapping), [`payload`] (purpose, secret and sealed payloads), [`ports`] (the key store), [`service`]
//! (the [`Vault`]), [`census`] and [`rotation`] (master-key rotation), [`error`].

pub mod associated_data;
pub mod census;
pub mod data_key;
pub mod error;
pub mod owner;
pub mod payload;
pub mod ports;
pub mod rotation;
pub mod service;

#[cfg(test)]
pub(crate) mod memory;
#[cfg(test)]
mod tests;

pub use census::KeyCensus;
pub use data_key::{DataKey, WrappedDataKey};
pub use error::VaultError;
pub use owner::{KeyOwner, KeyVersion, MalformedKeyOwner};
pub use payload::{Purpose, SealedPayload, SecretPayload};
pub use ports::{Inserted, KeyRecord, KeyStore};
pub use rotation::{MasterKeyRotated, MasterKeyRotation};
pub use service::Vault;
