//! Closing a person's account, cancelling that within 30 days, and what the erasure after it starts from.
//!
//! Rules:
//! - `requestAccountDeletion` needs a recent re-authentication. It is refused (`CONFLICT` on `account`, naming
//!   each) while the person owns a workspace with other members: ownership goes first. Otherwise, in one
//!   transaction, the account closes (`closed_at`, `erase_after = closed_at + 30 days`), every other session
//!   is signed out, the API keys the person created are revoked, every workspace they own (alone) closes with
//!   it ([`super::close_workspace`], erased on the same day), a `DELETION` request is recorded IN_PROGRESS and
//!   due at the erasure, the closure is audited on the account's chain, the erasure job is queued for
//!   `erase_after` and the person is told. A closed account signs in only to see and cancel its deletion (the
//!   API refuses everything else: `api::graphql::closed_accounts`).
//! - `cancelAccountDeletion`, from a session of the account before `erase_after`, reopens the account and the
//!   workspaces that closed with it (same closure time), and withdraws the request (REJECTED with the reason
//!   "withdrawn"). Sessions signed out and keys revoked at closure stay so: a credential taken back is never
//!   handed out again; everything else is as it was.

use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use serde_json::json;

use super::closure::{Closure, ERASE_AFTER_DAYS, close_workspace, reopen_workspace};
use super::service::WorkspaceErasure;
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::error::{DomainError, DomainResult};
use crate::events::{AccessChange, SignalOnDrop};
use crate::identity::Principal;
use crate::identity::records::UserRecord;
use crate::ids::{SessionId, WorkspaceId};
use crate::jobs::{self, NewJob};
use crate::notices::{self, Notice};
use crate::privacy::records::{DataSubjectRequest, RequestKind, RequestStatus};
use crate::privacy::use_cases::transitions::{audit_request, move_request};
use crate::request::ClientInfo;
use crate::store::Transaction;
use crate::tenancy::TenantScope;

/// How an account closes: the workspaces it owns alone, who closes it, when, when it is erased, and the
/// session that stays signed in (the person's own, when they close it themselves).
struct Closing {
    owned: Vec<WorkspaceId>,
    actor: Actor,
    now: DateTime<Utc>,
    erase_after: DateTime<Utc>,
    keep_session: Option<SessionId>,
}

/// The job kind that erases a closed account.
pub const ACCOUNT_ERASURE_JOB: &str = "erasure.account";

/// A closed account's deletion as the person sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingDeletion {
    pub closed_at: DateTime<Utc>,
    pub erase_after: DateTime<Utc>,
}

impl PendingDeletion {
    pub fn of(user: &UserRecord) -> Option<Self> {
        Some(Self {
            closed_at: user.closed_at?,
            erase_after: user.erase_after?,
        })
    }
}

fn session_of(principal: &Principal) -> DomainResult<SessionId> {
    match principal {
        Principal::User { session_id, .. } => Ok(*session_id),
        Principal::ApiKey { .. } => Err(DomainError::Forbidden(
            crate::identity::principal::PEOPLE_ONLY.to_owned(),
        )),
    }
}

impl WorkspaceErasure {
    /// Closes the caller's account now; its personal data is erased 30 days later.
    #[tracing::instrument(skip_all)]
    pub async fn request_account_deletion(
        &self,
        principal: &Principal,
        client: &ClientInfo,
    ) -> DomainResult<DataSubjectRequest> {
        let session = session_of(principal)?;
        let user = self.identity.require_recent_reauthentication(principal).await?;
        if user.closed_at.is_some() {
            return Err(DomainError::conflict("account", "the account is already closed"));
        }
        let owned = self.owned_alone(&user).await?;
        // Microseconds, as both databases store it: the workspaces closed with the account are found again by
        // this exact time.
        let now = self.clock.now().trunc_subsecs(6);
        let erase_after = now + Duration::days(ERASE_AFTER_DAYS);
        let request = deletion_request(&user, now, erase_after);
        let actor = Actor::of(principal);
        let tx = self.store.begin().await?;
        tx.insert_request(&request).await?;
        audit_request(&*tx, &request, actor.clone(), "privacy.request_received", client, now).await?;
        let closing = Closing {
            owned,
            actor,
            now,
            erase_after,
            keep_session: Some(session),
        };
        let (closures, _signals) = self.close_account_in(&*tx, &user, &request, closing, client).await?;
        tx.commit().await?;
        for closure in closures {
            self.closed(closure).await;
        }
        self.jobs.enqueued();
        Ok(request)
    }

    /// Closes the account of a verified, approved `DELETION` request (staff, two people): at once, every
    /// session signed out, and erased as soon as the erasure job runs. `CONFLICT` as for the person's own
    /// request (shared workspaces named, or already closed). The caller's `tx` holds the request's change.
    pub(crate) async fn close_account_for_request(
        &self,
        tx: &dyn Transaction,
        request: &DataSubjectRequest,
        actor: Actor,
        client: &ClientInfo,
    ) -> DomainResult<(Vec<Closure>, Vec<SignalOnDrop>)> {
        let user = self
            .store
            .find_user(request.user_id)
            .await?
            .ok_or(DomainError::NotFound("account"))?;
        if user.closed_at.is_some() {
            return Err(DomainError::conflict("account", "the account is already closed"));
        }
        let owned = self.owned_alone(&user).await?;
        let now = request.updated_at;
        let closing = Closing {
            owned,
            actor,
            now,
            erase_after: now,
            keep_session: None,
        };
        self.close_account_in(tx, &user, request, closing, client).await
    }

    /// What closing an account does, in `tx`: the account closed, sessions signed out (all but
    /// `keep_session`), the keys the person created revoked, the workspaces they own alone closed, the
    /// closure audited, the erasure job queued for `erase_after` and the person told. The workspace
    /// closures (to announce after the commit) and the access signals (sent when dropped) come back.
    async fn close_account_in(
        &self,
        tx: &dyn Transaction,
        user: &UserRecord,
        request: &DataSubjectRequest,
        closing: Closing,
        client: &ClientInfo,
    ) -> DomainResult<(Vec<Closure>, Vec<SignalOnDrop>)> {
        let Closing {
            owned,
            actor,
            now,
            erase_after,
            keep_session,
        } = closing;
        if !tx.close_account(user.id, now, erase_after).await? {
            return Err(DomainError::conflict("account", "the account is already closed"));
        }
        let signed_out = tx.revoke_other_sessions(user.id, keep_session, now).await?;
        let mut keys = 0;
        let places = tx.person_workspaces(user.id).await?;
        for (workspace, _) in &places {
            keys += tx.revoke_keys_created_by(*workspace, user.id, now).await?;
        }
        let mut closures: Vec<Closure> = Vec::with_capacity(owned.len());
        for workspace in &owned {
            closures.push(close_workspace(tx, *workspace, actor.clone(), client, now).await?);
        }
        let metadata = json!({
            "eraseAfter": erase_after.to_rfc3339(),
            "sessionsSignedOut": signed_out,
            "apiKeysRevoked": keys,
            "workspacesClosed": owned.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        audit_account(tx, user, actor, "account.closed", client, metadata, now).await?;
        // The workspaces the person belonged to, so the erasure finds them even after theirs are erased.
        let workspaces: Vec<String> = places.iter().map(|(workspace, _)| workspace.to_string()).collect();
        let payload = json!({ "request": request.id, "workspaces": workspaces });
        let job = NewJob::now(ACCOUNT_ERASURE_JOB, None, payload, now)
            .at(erase_after)
            .with_max_attempts(20)
            .with_dedupe_key(format!("{ACCOUNT_ERASURE_JOB}:{}", request.id));
        jobs::enqueue(tx, &job, now).await?;
        notices::queue(tx, user.id, Notice::DeletionScheduled { erase_at: erase_after }, now).await?;
        let mut signals = vec![self.access.armed(AccessChange::User(user.id))];
        signals.extend(
            owned
                .iter()
                .map(|workspace| self.access.armed(AccessChange::Workspace(*workspace))),
        );
        Ok((closures, signals))
    }

    /// Reopens the caller's closed account (before its erasure), with the workspaces that closed with it.
    #[tracing::instrument(skip_all)]
    pub async fn cancel_account_deletion(
        &self,
        principal: &Principal,
        client: &ClientInfo,
    ) -> DomainResult<DataSubjectRequest> {
        session_of(principal)?;
        let user = self.identity.current_user(principal).await?;
        let now = self.clock.now();
        let Some(pending) = PendingDeletion::of(&user).filter(|pending| pending.erase_after > now) else {
            return Err(DomainError::conflict(
                "account",
                "no deletion of this account is pending",
            ));
        };
        let mut request = self
            .store
            .list_requests(user.id)
            .await?
            .into_iter()
            .find(|request| request.kind == RequestKind::Deletion && !request.status.is_final())
            .ok_or_else(|| DomainError::internal("a closed account without its deletion request"))?;
        let actor = Actor::of(principal);
        let tx = self.store.begin().await?;
        if !tx.reopen_account(user.id, pending.closed_at).await? {
            return Err(DomainError::conflict(
                "account",
                "no deletion of this account is pending",
            ));
        }
        let mut reopened: Vec<WorkspaceId> = Vec::new();
        for (workspace, owner) in tx.person_workspaces(user.id).await? {
            let closed_with_it = owner
                && tx
                    .workspace_closure(&TenantScope::system(workspace))
                    .await?
                    .is_some_and(|closure| closure.closed_at == Some(pending.closed_at));
            if closed_with_it && reopen_workspace(&*tx, workspace, actor.clone(), client, now).await? {
                reopened.push(workspace);
            }
        }
        let withdrawn = Some("withdrawn: the person cancelled the deletion".to_owned());
        move_request(
            &*tx,
            &mut request,
            RequestStatus::Rejected,
            withdrawn,
            actor.clone(),
            client,
            now,
        )
        .await?;
        let metadata = json!({ "workspacesReopened": reopened.iter().map(ToString::to_string).collect::<Vec<_>>() });
        audit_account(&*tx, &user, actor, "account.reopened", client, metadata, now).await?;
        notices::queue(&*tx, user.id, Notice::DeletionCancelled, now).await?;
        let _user_signal = self.access.armed(AccessChange::User(user.id));
        tx.commit().await?;
        self.jobs.enqueued();
        Ok(request)
    }

    /// The open workspaces the person owns; `CONFLICT` naming those that have other members.
    async fn owned_alone(&self, user: &UserRecord) -> DomainResult<Vec<WorkspaceId>> {
        let mut alone = Vec::new();
        let mut shared = Vec::new();
        for (workspace, role) in self.store.list_workspaces_of(user.id).await? {
            if role != crate::tenancy::Role::Owner {
                continue;
            }
            let scope = TenantScope::system(workspace.id);
            if self.store.list_members(&scope, None, 2).await?.len() > 1 {
                shared.push(workspace.name);
            } else {
                alone.push(workspace.id);
            }
        }
        if !shared.is_empty() {
            return Err(DomainError::conflict(
                "account",
                format!(
                    "you own workspaces with other members: {}; transfer their ownership first",
                    shared.join(", ")
                ),
            ));
        }
        Ok(alone)
    }
}

fn deletion_request(user: &UserRecord, now: DateTime<Utc>, erase_after: DateTime<Utc>) -> DataSubjectRequest {
    DataSubjectRequest {
        due_at: erase_after,
        ..DataSubjectRequest::received_now(user.id, RequestKind::Deletion, RequestStatus::InProgress, None, now)
    }
}

/// Audits a change of the account on its own chain.
pub(crate) async fn audit_account(
    tx: &dyn Transaction,
    user: &UserRecord,
    actor: Actor,
    action: &'static str,
    client: &ClientInfo,
    metadata: serde_json::Value,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let draft = AuditDraft {
        chain: ChainId::User(user.id),
        actor,
        action,
        target_type: Some("USER"),
        target_id: Some(user.id.to_string()),
        client: client.clone(),
        metadata,
    };
    audit::append(tx, draft, now).await?;
    Ok(())
}
