//! `me`: the signed-in person, their sessions and second-factor state.

use async_graphql::{Context, Object};
use tgos_domain::identity::IdentityService;
use tgos_domain::tenancy::TenancyService;

use super::types::{SessionInfo, User};
use crate::graphql::context::signed_in;
use crate::graphql::errors::{ApiError, ApiResult};
use crate::graphql::tenancy::workspace::Workspace;
use crate::graphql::{guards::SignedIn, service};
use tgos_domain::DomainError;
use tgos_domain::identity::Principal;
use tgos_domain::identity::records::SessionRecord;

#[derive(Debug, Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The signed-in person. `UNAUTHENTICATED` without a valid session; `FORBIDDEN` for an API key.
    #[graphql(guard = "SignedIn")]
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Viewer> {
        let authenticated = signed_in(ctx)?;
        let Some(session) = authenticated.session.clone() else {
            return Err(ApiError::from(DomainError::Forbidden(
                "API keys have no viewer; `me` is for signed-in people".to_owned(),
            )));
        };
        Ok(Viewer {
            principal: authenticated.principal.clone(),
            session,
        })
    }
}

/// The signed-in person and what belongs to them.
#[derive(Debug)]
pub struct Viewer {
    principal: Principal,
    session: SessionRecord,
}

#[Object]
impl Viewer {
    // Read afresh: the caller's credentials may have been resolved from memory a moment ago.
    async fn user(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let user = service::<IdentityService>(ctx)?.current_user(&self.principal).await?;
        Ok(User::from(&user))
    }

    /// Live sessions, newest first.
    async fn sessions(&self, ctx: &Context<'_>) -> ApiResult<Vec<SessionInfo>> {
        let current = self.session.id;
        let sessions = service::<IdentityService>(ctx)?.list_sessions(&self.principal).await?;
        Ok(sessions
            .into_iter()
            .map(|session| {
                let is_current = session.id == current;
                SessionInfo::new(session, is_current)
            })
            .collect())
    }

    /// The workspaces the viewer belongs to, oldest membership first.
    async fn workspaces(&self, ctx: &Context<'_>) -> ApiResult<Vec<Workspace>> {
        let workspaces = service::<TenancyService>(ctx)?.my_workspaces(&self.principal).await?;
        Ok(workspaces
            .into_iter()
            .map(|(record, scope)| Workspace::loaded(record, scope))
            .collect())
    }

    /// The viewer's data-subject requests, newest first.
    async fn data_subject_requests(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<crate::graphql::privacy::types::DataSubjectRequest>> {
        let requests = service::<tgos_domain::privacy::PrivacyService>(ctx)?
            .my_requests(&self.principal)
            .await?;
        Ok(requests
            .into_iter()
            .map(crate::graphql::privacy::types::DataSubjectRequest)
            .collect())
    }

    /// Set while the viewer's account is closed: when it closed and when it is erased (cancel before then
    /// with `cancelAccountDeletion`).
    async fn pending_deletion(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::graphql::privacy::deletion::PendingDeletion>> {
        let user = service::<IdentityService>(ctx)?.current_user(&self.principal).await?;
        Ok(tgos_domain::erasure::PendingDeletion::of(&user).map(Into::into))
    }

    /// Unused backup codes left (0 when two-factor is off).
    async fn backup_codes_remaining(&self, ctx: &Context<'_>) -> ApiResult<u64> {
        Ok(service::<IdentityService>(ctx)?
            .backup_codes_remaining(&self.principal)
            .await?)
    }
}
