//! Cryptographic building blocks the rules rely on: password hashing (argon2id), sealing small secrets
//! under the master key (AES-256-GCM), keys derived from the master key for one purpose each (HKDF-SHA-256),
//! and high-entropy tokens stored only as SHA-256 hashes.

pub mod derive;
pub mod master_key;
pub mod password_hasher;
pub mod token;

pub use derive::DerivedKey;
pub use master_key::MasterKey;
pub use password_hasher::{Argon2Pool, PasswordHasher};
