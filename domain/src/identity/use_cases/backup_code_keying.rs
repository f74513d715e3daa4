//! Moving backup codes stored before keyed hashing to the keyed form, once, at server start.
//!
//! Rule: a code stored as its bare digest is replaced by that digest's keyed hash
//! ([`crate::identity::backup_codes::BackupCodeKey::wrap_digest`]), which is exactly what hashing the code
//! gives now, so every issued code keeps working, used ones stay used, and afterwards no stored value can be
//! checked against guesses without the master key. Each row moves by compare-and-swap, so servers starting
//! together do not collide; running it again finds nothing.

use crate::error::DomainResult;
use crate::identity::IdentityService;

/// Rows read per page.
const PAGE: u64 = 500;

impl IdentityService {
    /// Keys every backup code still stored unkeyed; returns how many this call moved.
    #[tracing::instrument(skip_all)]
    pub async fn key_stored_backup_codes(&self) -> DomainResult<u64> {
        let mut moved = 0;
        loop {
            let page = self.store.unkeyed_backup_codes(PAGE).await?;
            if page.is_empty() {
                break;
            }
            let mut progressed = false;
            for (user, digest) in page {
                let keyed = self.backup_code_key.wrap_digest(&digest);
                if self.store.key_backup_code(user, &digest, &keyed).await? {
                    moved += 1;
                    progressed = true;
                }
            }
            if !progressed {
                // Another server moved this page meanwhile; it is moving the rest too.
                break;
            }
        }
        if moved > 0 {
            tracing::info!(moved, "backup codes moved to keyed hashes");
        }
        Ok(moved)
    }
}
