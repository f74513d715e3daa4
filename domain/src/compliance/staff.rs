//! Staff accounts: the list, granting the staff flag to an existing account (usable as staff only once it has
//! two-factor: `Principal::require_staff`), disabling it, and resetting a staff member's two-factor, which
//! needs a second staff member.
//!
//! Rules: nobody disables or resets themselves; a reset is proposed by one staff member and approved within
//! [`PROPOSAL_HOURS`] by another, and only then turns the target's two-factor off, deletes their backup codes
//! and signs them out everywhere (they act as staff again once they enroll anew). Each step is audited on the
//! platform chain and the target's own chain.

use chrono::Duration;
use serde_json::json;

use super::ComplianceService;
use super::actions::StaffContext;
use super::ports::{ApprovalAction, ApprovalRecord};
use crate::audit::{self, AuditDraft, ChainId};
use crate::error::{DomainError, DomainResult};
use crate::identity::records::UserRecord;
use crate::ids::{StaffApprovalId, UserId};
use crate::notices::{self, Notice};

/// How long a proposal waits for its approval.
pub const PROPOSAL_HOURS: i64 = 24;

impl ComplianceService {
    /// Every staff account.
    #[tracing::instrument(skip_all)]
    pub async fn list_staff(&self, staff: StaffContext<'_>) -> DomainResult<Vec<UserRecord>> {
        staff.staff()?;
        Ok(self.store.list_staff().await?)
    }

    /// The open two-factor reset proposal of `target`, if any.
    pub async fn pending_reset(&self, staff: StaffContext<'_>, target: UserId) -> DomainResult<Option<ApprovalRecord>> {
        staff.staff()?;
        let since = self.now() - Duration::hours(PROPOSAL_HOURS);
        Ok(self
            .store
            .open_approval(target, ApprovalAction::TotpReset, since)
            .await?)
    }

    /// Makes the account of `login` (email or username) staff. It acts as staff once it has two-factor on.
    #[tracing::instrument(skip_all)]
    pub async fn grant_staff(&self, staff: StaffContext<'_>, login: &str) -> DomainResult<UserRecord> {
        staff.staff()?;
        let user = self
            .store
            .find_user_by_login(&login.trim().to_lowercase())
            .await?
            .ok_or(DomainError::NotFound("account"))?;
        if user.is_staff {
            return Err(DomainError::conflict("login", "the account is staff already"));
        }
        if user.closed_at.is_some() || user.suspended_at.is_some() {
            return Err(DomainError::conflict(
                "login",
                "a closed or suspended account cannot be staff",
            ));
        }
        let tx = self.store.begin().await?;
        tx.set_staff(user.id, true).await?;
        self.audit_staff(
            &*tx,
            staff,
            &user,
            "console.staff_granted",
            json!({ "twoFactor": user.two_factor_enabled() }),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Takes the staff flag away and signs the account out everywhere.
    #[tracing::instrument(skip_all)]
    pub async fn disable_staff(&self, staff: StaffContext<'_>, target: UserId) -> DomainResult<()> {
        if staff.staff()? == target {
            return Err(DomainError::conflict("user", "staff do not disable themselves"));
        }
        let user = self.staff_member(target).await?;
        let now = self.now();
        let tx = self.store.begin().await?;
        tx.set_staff(target, false).await?;
        let signed_out = tx.revoke_other_sessions(target, None, now).await?;
        self.audit_staff(
            &*tx,
            staff,
            &user,
            "console.staff_disabled",
            json!({ "sessionsSignedOut": signed_out }),
        )
        .await?;
        let _signal = self.erasure.access.armed(crate::events::AccessChange::User(target));
        tx.commit().await?;
        Ok(())
    }

    /// Proposes resetting `target`'s two-factor; a second staff member approves it.
    #[tracing::instrument(skip_all)]
    pub async fn propose_totp_reset(&self, staff: StaffContext<'_>, target: UserId) -> DomainResult<ApprovalRecord> {
        let me = staff.staff()?;
        if me == target {
            return Err(DomainError::conflict("user", "staff do not reset their own two-factor"));
        }
        let user = self.staff_member(target).await?;
        if self.pending_reset(staff, target).await?.is_some() {
            return Err(DomainError::conflict(
                "user",
                "a reset is proposed already; a second staff member approves it",
            ));
        }
        let now = self.now();
        let proposal = ApprovalRecord {
            id: StaffApprovalId::generate(),
            action: ApprovalAction::TotpReset,
            target,
            proposed_by: me,
            proposed_at: now,
            approved: None,
        };
        let tx = self.store.begin().await?;
        tx.insert_approval(&proposal).await?;
        self.audit_staff(
            &*tx,
            staff,
            &user,
            "console.totp_reset_proposed",
            json!({ "proposal": proposal.id.to_string() }),
        )
        .await?;
        tx.commit().await?;
        Ok(proposal)
    }

    /// Approves the open reset proposal of `target` as a second staff member: their two-factor goes off, their
    /// backup codes are deleted and every session of theirs is signed out.
    #[tracing::instrument(skip_all)]
    pub async fn approve_totp_reset(&self, staff: StaffContext<'_>, target: UserId) -> DomainResult<()> {
        let me = staff.staff()?;
        let user = self.staff_member(target).await?;
        let proposal = self
            .pending_reset(staff, target)
            .await?
            .ok_or_else(|| DomainError::conflict("user", "no reset is proposed (or it expired): propose one first"))?;
        if proposal.proposed_by == me {
            return Err(DomainError::Forbidden(
                "a second staff member approves a reset, not the one who proposed it".to_owned(),
            ));
        }
        if me == target {
            return Err(DomainError::conflict("user", "staff do not approve their own reset"));
        }
        let now = self.now();
        let tx = self.store.begin().await?;
        if !tx.approve(proposal.id, me, now).await? {
            return Err(DomainError::conflict("user", "the reset was approved meanwhile"));
        }
        tx.disable_totp(target).await?;
        let signed_out = tx.revoke_other_sessions(target, None, now).await?;
        let metadata = json!({
            "proposal": proposal.id.to_string(),
            "proposedBy": proposal.proposed_by.to_string(),
            "sessionsSignedOut": signed_out,
        });
        self.audit_staff(&*tx, staff, &user, "console.totp_reset_approved", metadata)
            .await?;
        notices::queue(&*tx, target, Notice::TwoFactorDisabled, now).await?;
        let _signal = self.erasure.access.armed(crate::events::AccessChange::User(target));
        tx.commit().await?;
        self.jobs.enqueued();
        Ok(())
    }

    async fn staff_member(&self, id: UserId) -> DomainResult<UserRecord> {
        self.store
            .find_user(id)
            .await?
            .filter(|user| user.is_staff)
            .ok_or(DomainError::NotFound("staff member"))
    }

    async fn audit_staff(
        &self,
        tx: &dyn crate::store::Transaction,
        staff: StaffContext<'_>,
        user: &UserRecord,
        action: &'static str,
        metadata: serde_json::Value,
    ) -> DomainResult<()> {
        let actor = staff.actor()?;
        let now = self.now();
        for chain in [ChainId::Platform, ChainId::User(user.id)] {
            let draft = AuditDraft {
                chain,
                actor: actor.clone(),
                action,
                target_type: Some("USER"),
                target_id: Some(user.id.to_string()),
                client: staff.client.clone(),
                metadata: metadata.clone(),
            };
            audit::append(tx, draft, now).await?;
        }
        Ok(())
    }
}
