//! Checking and consuming a second-factor code: a TOTP code or a backup code.
//!
//! Rule: a code is consumed in the caller's transaction. A TOTP code advances the user's last accepted step
//! (so it and every older code stop working); a backup code is marked used. Both are single conditional
//! updates, so of two concurrent uses of one code exactly one succeeds.

use chrono::{DateTime, Utc};

use crate::error::DomainResult;
use crate::identity::records::UserRecord;
use crate::identity::{IdentityService, totp};
use crate::store::Repositories;

impl IdentityService {
    /// `true` when `code` was a valid, unused code of `user` and is now consumed within `repos`.
    pub(crate) async fn consume_second_factor(
        &self,
        repos: &dyn Repositories,
        user: &UserRecord,
        code: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<bool> {
        let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if totp::is_code_shaped(&compact) {
            let Some(sealed) = &user.totp_secret_sealed else {
                return Ok(false);
            };
            let secret = self.open_totp(user, sealed)?;
            return match secret.matching_step(&compact, now.timestamp())? {
                Some(step) => Ok(repos.advance_totp_step(user.id, step).await?),
                None => Ok(false),
            };
        }
        match self.backup_code_key.hash(user.id, code) {
            Some(hash) if user.two_factor_enabled() => Ok(repos.consume_backup_code(user.id, &hash, now).await?),
            _ => Ok(false),
        }
    }
}
