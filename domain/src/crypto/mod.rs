//! Cryptographic building blocks the rules rely on: password hashing (argon2id), sealing small secrets
//! under the master key (AES-256-GCM), and high-entropy tokens stored only as SHA-256 hashes.

pub mod master_key;
pub mod password_hasher;
pub mod token;

pub use master_key::MasterKey;
pub use password_hasher::{Argon2Pool, PasswordHasher};
