//! Staff looking people up, and suspending and unsuspending their accounts.
//!
//! Rules: staff only; a lookup is by exact email, username or id (no browsing of everyone); what a person's
//! page shows (profile, workspaces and roles, live sessions with IP and user agent, requests, their own audit
//! trail) is audited as a view by the web page. A suspension needs a reason, signs every session out at once
//! and refuses sign-in until staff unsuspend the account; the person is told both times. Staff do not suspend
//! themselves.

use chrono::Duration;
use serde_json::json;

use super::ComplianceService;
use super::actions::StaffContext;
use crate::audit::{self, AuditDraft, AuditRecord, ChainId};
use crate::error::{DomainError, DomainResult};
use crate::identity::records::{SessionRecord, UserRecord};
use crate::ids::UserId;
use crate::notices::{self, Notice};
use crate::privacy::records::DataSubjectRequest;
use crate::privacy::rules::MAX_NOTE_CHARS;
use crate::tenancy::Role;
use crate::tenancy::records::WorkspaceRecord;

/// The most audit entries a person's page shows (the newest).
pub const TRAIL_LIMIT: usize = 100;

/// Everything a person's page shows.
#[derive(Debug, Clone)]
pub struct UserDossier {
    pub user: UserRecord,
    pub workspaces: Vec<(WorkspaceRecord, Role)>,
    pub sessions: Vec<SessionRecord>,
    pub requests: Vec<DataSubjectRequest>,
    /// Their own chain, newest first, at most [`TRAIL_LIMIT`].
    pub trail: Vec<AuditRecord>,
}

impl ComplianceService {
    /// The accounts whose email, username or id is exactly `query`.
    #[tracing::instrument(skip_all)]
    pub async fn find_users(&self, staff: StaffContext<'_>, query: &str) -> DomainResult<Vec<UserRecord>> {
        staff.staff()?;
        let query = query.trim();
        if query.is_empty() {
            return Err(DomainError::invalid("query", "an email, a username or an account id"));
        }
        let by_id = match query.parse::<UserId>() {
            Ok(id) => self.store.find_user(id).await?,
            Err(_) => None,
        };
        let by_login = self.store.find_user_by_login(&query.to_lowercase()).await?;
        let mut found: Vec<UserRecord> = by_id.into_iter().collect();
        if let Some(user) = by_login
            && !found.iter().any(|u| u.id == user.id)
        {
            found.push(user);
        }
        Ok(found)
    }

    /// A person's page: `NOT_FOUND` when there is no such account.
    #[tracing::instrument(skip_all)]
    pub async fn user_dossier(&self, staff: StaffContext<'_>, id: UserId) -> DomainResult<UserDossier> {
        staff.staff()?;
        let user = self
            .store
            .find_user(id)
            .await?
            .ok_or(DomainError::NotFound("account"))?;
        let now = self.now();
        let workspaces = self.store.list_workspaces_of(id).await?;
        let sessions = self
            .store
            .list_live_sessions(id, now, now - Duration::days(365))
            .await?;
        let requests = self.store.list_requests(id).await?;
        let (mut trail, _) = self.store.chain_entries(&ChainId::User(id).key()).await?;
        trail.reverse();
        trail.truncate(TRAIL_LIMIT);
        Ok(UserDossier {
            user,
            workspaces,
            sessions,
            requests,
            trail,
        })
    }

    /// Suspends the account with a reason: every session signed out, sign-in refused, the person told.
    #[tracing::instrument(skip_all)]
    pub async fn suspend_user(&self, staff: StaffContext<'_>, id: UserId, reason: &str) -> DomainResult<()> {
        let me = staff.staff()?;
        if me == id {
            return Err(DomainError::conflict("user", "staff do not suspend themselves"));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_NOTE_CHARS {
            return Err(DomainError::invalid(
                "reason",
                format!("required, at most {MAX_NOTE_CHARS} characters"),
            ));
        }
        let user = self
            .store
            .find_user(id)
            .await?
            .ok_or(DomainError::NotFound("account"))?;
        if user.suspended_at.is_some() {
            return Err(DomainError::conflict("user", "the account is suspended already"));
        }
        let now = self.now();
        let tx = self.store.begin().await?;
        tx.set_suspended(id, Some(now), Some(reason)).await?;
        let signed_out = tx.revoke_other_sessions(id, None, now).await?;
        self.audit_user(
            &*tx,
            staff,
            &user,
            "console.user_suspended",
            json!({ "reason": reason, "sessionsSignedOut": signed_out }),
        )
        .await?;
        notices::queue(
            &*tx,
            id,
            Notice::AccountSuspended {
                reason: reason.to_owned(),
            },
            now,
        )
        .await?;
        let _signal = self.erasure.access.armed(crate::events::AccessChange::User(id));
        tx.commit().await?;
        self.jobs.enqueued();
        Ok(())
    }

    /// Lifts a suspension; the person is told and may sign in again.
    #[tracing::instrument(skip_all)]
    pub async fn unsuspend_user(&self, staff: StaffContext<'_>, id: UserId) -> DomainResult<()> {
        staff.staff()?;
        let user = self
            .store
            .find_user(id)
            .await?
            .ok_or(DomainError::NotFound("account"))?;
        if user.suspended_at.is_none() {
            return Err(DomainError::conflict("user", "the account is not suspended"));
        }
        let now = self.now();
        let tx = self.store.begin().await?;
        tx.set_suspended(id, None, None).await?;
        self.audit_user(&*tx, staff, &user, "console.user_unsuspended", json!({}))
            .await?;
        notices::queue(&*tx, id, Notice::AccountUnsuspended, now).await?;
        tx.commit().await?;
        self.jobs.enqueued();
        Ok(())
    }

    /// Audits a staff action on an account on the account's chain and the platform chain.
    async fn audit_user(
        &self,
        tx: &dyn crate::store::Transaction,
        staff: StaffContext<'_>,
        user: &UserRecord,
        action: &'static str,
        metadata: serde_json::Value,
    ) -> DomainResult<()> {
        let actor = staff.actor()?;
        let now = self.now();
        for chain in [ChainId::User(user.id), ChainId::Platform] {
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
