//! `me`: the signed-in person, their sessions and second-factor state.

use async_graphql::{Context, Object};

use super::types::{SessionInfo, User};
use crate::graphql::context::signed_in;
use crate::graphql::errors::ApiResult;
use crate::graphql::tenancy::types::Workspace;
use crate::graphql::{guards::SignedIn, identity_service, tenancy_service};
use tgos_domain::identity::use_cases::sessions::Authenticated;

#[derive(Debug, Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The signed-in person. `UNAUTHENTICATED` without a valid session.
    #[graphql(guard = "SignedIn")]
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Viewer> {
        Ok(Viewer(signed_in(ctx)?.clone()))
    }
}

/// The signed-in person and what belongs to them.
#[derive(Debug)]
pub struct Viewer(Authenticated);

#[Object]
impl Viewer {
    async fn user(&self) -> User {
        User::from(&self.0.user)
    }

    /// Live sessions, newest first.
    async fn sessions(&self, ctx: &Context<'_>) -> ApiResult<Vec<SessionInfo>> {
        let current = self.0.session.id;
        let sessions = identity_service(ctx)?.list_sessions(&self.0.principal).await?;
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
        let workspaces = tenancy_service(ctx)?.my_workspaces(&self.0.principal).await?;
        Ok(workspaces
            .into_iter()
            .map(|(record, scope)| Workspace { record, scope })
            .collect())
    }

    /// Unused backup codes left (0 when two-factor is off).
    async fn backup_codes_remaining(&self, ctx: &Context<'_>) -> ApiResult<u64> {
        Ok(identity_service(ctx)?.backup_codes_remaining(&self.0.principal).await?)
    }
}
