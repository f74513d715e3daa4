//! `requestAccountDeletion` and `cancelAccountDeletion`: a person closes their own account (erased 30 days
//! later) or takes it back within those days. Each one use-case call.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tgos_domain::erasure::{PendingDeletion as Pending, WorkspaceErasure};

use super::types::DataSubjectRequest;
use crate::graphql::context::{client, principal};
use crate::graphql::errors::ApiResult;
use crate::graphql::{guards::SignedIn, service};

#[derive(Debug, Default)]
pub struct AccountDeletionMutation;

/// A closed account waiting for its erasure.
#[derive(Debug, SimpleObject)]
pub struct PendingDeletion {
    pub closed_at: DateTime<Utc>,
    /// When the account's personal data is erased, unless the deletion is cancelled before.
    pub erased_at: DateTime<Utc>,
}

impl From<Pending> for PendingDeletion {
    fn from(pending: Pending) -> Self {
        Self {
            closed_at: pending.closed_at,
            erased_at: pending.erase_after,
        }
    }
}

#[Object]
impl AccountDeletionMutation {
    /// Closes your account now (after `reauthenticate`, else `REAUTHENTICATION_REQUIRED`): other sessions
    /// are signed out, your API keys revoked, the workspaces you own alone close with it; the account then
    /// signs in only to see and cancel the deletion, and its personal data is erased 30 days later.
    /// `CONFLICT` on `account` naming each workspace you own that has other members (transfer it first).
    #[graphql(guard = "SignedIn")]
    async fn request_account_deletion(&self, ctx: &Context<'_>) -> ApiResult<DataSubjectRequest> {
        let request = service::<WorkspaceErasure>(ctx)?
            .request_account_deletion(principal(ctx)?, &client(ctx))
            .await?;
        Ok(DataSubjectRequest(request))
    }

    /// Reopens your closed account before its erasure, with the workspaces that closed with it; the
    /// deletion request is withdrawn (REJECTED, "withdrawn"). Sessions signed out and keys revoked at
    /// closure stay so. `CONFLICT` on `account` when no deletion is pending.
    #[graphql(guard = "SignedIn")]
    async fn cancel_account_deletion(&self, ctx: &Context<'_>) -> ApiResult<DataSubjectRequest> {
        let request = service::<WorkspaceErasure>(ctx)?
            .cancel_account_deletion(principal(ctx)?, &client(ctx))
            .await?;
        Ok(DataSubjectRequest(request))
    }
}
