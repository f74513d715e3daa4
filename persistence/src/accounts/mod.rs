//! The account pool, leases and the vault's data keys on SeaORM.

mod connections;
mod health;
mod keys;
mod leases;
mod pool;
mod staff;

/// The unique index that keeps one session in the pool once.
pub(crate) const FINGERPRINT_UNIQUE: &str = "telegram_accounts_key_fingerprint_unique";
