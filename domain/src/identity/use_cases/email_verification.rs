//! Confirming an address: the link sign-up sends, and asking for it again.
//!
//! Rules: a verification link ([`crate::identity::email_links`]) confirms the address the account has now and
//! only that; confirming twice is harmless; asking again is limited (it sends mail) to
//! [`RESENDS_PER_HOUR`] per account. An invitation is accepted only by an account whose confirmed address is
//! the invited one (`TenancyService::accept_invitation`).

use serde_json::json;

use crate::error::{DomainError, DomainResult};
use crate::identity::IdentityService;
use crate::identity::email_links::{Binding, EmailLinkKey, LinkPurpose};
use crate::identity::lockout::{Reservation, ThrottlePolicy};
use crate::identity::principal::Principal;
use crate::identity::records::UserRecord;
use crate::notices::{self, Notice};
use crate::request::ClientInfo;

/// Verification emails one account may ask for within an hour.
pub const RESENDS_PER_HOUR: u32 = 5;
pub(crate) const LINK_REFUSED: &str = "this link is not valid: it expired, was replaced by a newer one, or the \
                                       address changed; ask for a new one";

impl IdentityService {
    /// Confirms the address a verification link was made for.
    #[tracing::instrument(skip_all)]
    pub async fn verify_email(&self, token: &str, client: &ClientInfo) -> DomainResult<UserRecord> {
        let refused = || DomainError::invalid("token", LINK_REFUSED);
        let claim = EmailLinkKey::read(token, LinkPurpose::VerifyEmail).ok_or_else(refused)?;
        let user = self.store.find_user(claim.user).await?.ok_or_else(refused)?;
        let binding = Binding {
            email_key: &user.email_key,
            pending_email_key: None,
        };
        let now = self.now();
        if !self.links.holds(&claim, binding, now) {
            return Err(refused());
        }
        if user.email_verified() {
            return Ok(user);
        }
        let tx = self.store.begin().await?;
        if !tx.mark_email_verified(user.id, &user.email_key, now).await? {
            return Err(refused());
        }
        self.audit_account(&*tx, &user, "account.email_verified", client, json!({}))
            .await?;
        tx.commit().await?;
        Ok(UserRecord {
            email_verified_at: Some(now),
            ..user
        })
    }

    /// Sends the verification link again; `false` when the address is already confirmed.
    #[tracing::instrument(skip_all)]
    pub async fn resend_email_verification(&self, principal: &Principal) -> DomainResult<bool> {
        let user = self.current_user(principal).await?;
        if user.email_verified() {
            return Ok(false);
        }
        let now = self.now();
        let policy = ThrottlePolicy {
            threshold: RESENDS_PER_HOUR,
            window: std::time::Duration::from_secs(3600),
            base_lock: std::time::Duration::from_secs(3600),
            max_lock: std::time::Duration::from_secs(3600),
        };
        let key = format!("verify-email:{}", user.id);
        if let Reservation::Denied { locked_until } = self.store.reserve_attempt(&key, &policy, now).await? {
            return Err(DomainError::RateLimited {
                retry_after_secs: Reservation::retry_after_secs(locked_until, now, &policy),
            });
        }
        // The reservation is never given back: every resend is one of the allowance.
        let tx = self.store.begin().await?;
        notices::queue(&*tx, user.id, Notice::VerifyEmail, now).await?;
        tx.commit().await?;
        self.wake_jobs();
        Ok(true)
    }
}
