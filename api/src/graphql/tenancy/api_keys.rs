//! API key views and mutations.

use async_graphql::{ComplexObject, Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tgos_domain::DomainError;
use tgos_domain::ids::{ApiKeyId, UserId, WorkspaceId};
use tgos_domain::tenancy::api_keys::{ApiKeyRecord, Scope as DomainScope};
use tgos_domain::tenancy::{TenancyService, TenantScope};

use super::members::MemberUser;
use crate::graphql::context::{client, principal};
use crate::graphql::errors::{ApiError, ApiResult};
use crate::graphql::ids::{found_id, workspace_id};
use crate::graphql::{guards::SignedIn, service};

/// What an API key may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Scope {
    InboxRead,
    InboxWrite,
    AccountsRead,
    AccountsWrite,
    AutomationsRead,
    AutomationsWrite,
    BillingRead,
    AuditRead,
}

impl From<Scope> for DomainScope {
    fn from(scope: Scope) -> Self {
        match scope {
            Scope::InboxRead => DomainScope::InboxRead,
            Scope::InboxWrite => DomainScope::InboxWrite,
            Scope::AccountsRead => DomainScope::AccountsRead,
            Scope::AccountsWrite => DomainScope::AccountsWrite,
            Scope::AutomationsRead => DomainScope::AutomationsRead,
            Scope::AutomationsWrite => DomainScope::AutomationsWrite,
            Scope::BillingRead => DomainScope::BillingRead,
            Scope::AuditRead => DomainScope::AuditRead,
        }
    }
}

impl From<DomainScope> for Scope {
    fn from(scope: DomainScope) -> Self {
        match scope {
            DomainScope::InboxRead => Scope::InboxRead,
            DomainScope::InboxWrite => Scope::InboxWrite,
            DomainScope::AccountsRead => Scope::AccountsRead,
            DomainScope::AccountsWrite => Scope::AccountsWrite,
            DomainScope::AutomationsRead => Scope::AutomationsRead,
            DomainScope::AutomationsWrite => Scope::AutomationsWrite,
            DomainScope::BillingRead => Scope::BillingRead,
            DomainScope::AuditRead => Scope::AuditRead,
        }
    }
}

/// An API key, without its secret.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct ApiKey {
    pub id: ID,
    pub name: String,
    /// The public part of the key (`tgos_<prefix>_…`), to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub workspace: WorkspaceId,
    #[graphql(skip)]
    pub owner: UserId,
}

#[ComplexObject]
impl ApiKey {
    /// Who owns the key: the member who created it, or the admin it was re-owned to (`reassignApiKey`). The
    /// key lives only while its owner is an admin or the owner of the workspace: their removal, leaving or
    /// demotion below ADMIN revokes it. `null` only if the account no longer exists.
    async fn created_by(&self, ctx: &Context<'_>) -> ApiResult<Option<MemberUser>> {
        creator(ctx, self.workspace, self.owner).await
    }
}

/// The account of whoever made a key or invitation of `workspace`, for its managers.
pub(crate) async fn creator(ctx: &Context<'_>, workspace: WorkspaceId, user: UserId) -> ApiResult<Option<MemberUser>> {
    let found = service::<TenancyService>(ctx)?
        .creator(principal(ctx)?, workspace, user)
        .await?;
    Ok(found.map(|user| MemberUser {
        id: ID(user.id.to_string()),
        full_name: user.full_name,
        username: user.username,
        email: user.email,
    }))
}

impl From<ApiKeyRecord> for ApiKey {
    fn from(record: ApiKeyRecord) -> Self {
        Self {
            id: ID(record.id.to_string()),
            name: record.name,
            prefix: record.prefix,
            scopes: record.scopes.into_iter().map(Scope::from).collect(),
            created_at: record.created_at,
            expires_at: record.expires_at,
            last_used_at: record.last_used_at,
            workspace: record.workspace_id,
            owner: record.created_by,
        }
    }
}

/// `workspace.apiKeys`: the keys that are not revoked, newest first (ADMIN and OWNER).
pub(crate) async fn of_workspace(ctx: &Context<'_>, scope: &TenantScope) -> ApiResult<Vec<ApiKey>> {
    let keys = service::<TenancyService>(ctx)?.api_keys(scope).await?;
    Ok(keys.into_iter().map(ApiKey::from).collect())
}

/// A new key and its secret, shown this once.
#[derive(Debug, SimpleObject)]
pub struct CreatedApiKey {
    pub api_key: ApiKey,
    /// The whole key, `tgos_<prefix>_<secret>`: send it as `Authorization: Bearer <key>`. Not shown again.
    pub secret: String,
}

#[derive(Debug, Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// Mints a key for one workspace with the given scopes (ADMIN and OWNER).
    #[graphql(guard = "SignedIn")]
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        name: String,
        scopes: Vec<Scope>,
        expires_at: Option<DateTime<Utc>>,
    ) -> ApiResult<CreatedApiKey> {
        let scopes: Vec<DomainScope> = scopes.into_iter().map(DomainScope::from).collect();
        let created = service::<TenancyService>(ctx)?
            .create_api_key(
                principal(ctx)?,
                &client(ctx),
                self::workspace_id(&workspace_id)?,
                &name,
                &scopes,
                expires_at,
            )
            .await?;
        Ok(CreatedApiKey {
            api_key: ApiKey::from(created.record),
            secret: created.secret,
        })
    }

    /// Makes another admin or the owner the key's owner (ADMIN and OWNER of its workspace), so it outlives its
    /// creator: a key is revoked when its owner is removed, leaves or is demoted below ADMIN. `NOT_FOUND` for a
    /// key or member not found in a workspace the caller manages (or a revoked key); `BAD_USER_INPUT` on
    /// `toUserId` for a member below ADMIN.
    #[graphql(guard = "SignedIn")]
    async fn reassign_api_key(&self, ctx: &Context<'_>, id: ID, to_user_id: ID) -> ApiResult<ApiKey> {
        let id: ApiKeyId = found_id(&id, "API key")?;
        let to: UserId = found_id(&to_user_id, "member")?;
        let record = service::<TenancyService>(ctx)?
            .reassign_api_key(principal(ctx)?, &client(ctx), id, to)
            .await?;
        Ok(ApiKey::from(record))
    }

    /// Revokes a key at once (ADMIN and OWNER of its workspace).
    #[graphql(guard = "SignedIn")]
    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let id: ApiKeyId = id
            .parse()
            .map_err(|_| ApiError::from(DomainError::NotFound("API key")))?;
        service::<TenancyService>(ctx)?
            .revoke_api_key(principal(ctx)?, &client(ctx), id)
            .await?;
        Ok(true)
    }
}
