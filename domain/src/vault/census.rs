//! Where the data keys stand between two master keys, for master-key rotation.
//!
//! Rule: a census only reads. It is taken before a rotation writes anything (a data key that unwraps with
//! neither key means the old key is wrong, and nothing is written) and after it (nothing may be left under the
//! old key). Keys unwrapped to be counted are dropped (and wiped) at once.

use super::error::VaultError;
use super::owner::{KeyOwner, KeyVersion};
use super::service::Vault;
use crate::crypto::MasterKey;

/// The live data keys by the master key that unwraps them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyCensus {
    pub under_old: u64,
    pub under_new: u64,
    /// Keys that unwrap with neither master key.
    pub unreadable: Vec<(KeyOwner, KeyVersion)>,
}

impl Vault {
    /// Counts every live data key under `old` and under `new` (tried first), and names the ones under neither.
    pub async fn census(&self, old: &MasterKey, new: &MasterKey) -> Result<KeyCensus, VaultError> {
        let mut census = KeyCensus::default();
        for wrapped in self.keys.live_keys().await? {
            if wrapped.unwrap(new).is_ok() {
                census.under_new += 1;
            } else if wrapped.unwrap(old).is_ok() {
                census.under_old += 1;
            } else {
                census.unreadable.push((wrapped.owner, wrapped.version));
            }
        }
        Ok(census)
    }
}
