//! Creating, listing, re-owning and revoking API keys (rules in `tenancy::api_keys`). Only ADMIN and OWNER
//! manage keys; keys themselves never do. Creation is rate-limited per workspace (counted under the
//! workspace's row lock, so the quota holds under parallel requests); creation, re-owning and revocation are
//! audited. A key records its creator and lives only while the creator may create keys (`departures`); an
//! admin re-owns a key to another admin or the owner to keep it past its creator.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::error::{DomainError, DomainResult, FieldError, FieldErrors};
use crate::identity::Principal;
use crate::identity::records::UserRecord;
use crate::ids::{ApiKeyId, UserId, WorkspaceId};
use crate::request::ClientInfo;
use crate::tenancy::api_keys::{ApiKeyRecord, Scope, mint};
use crate::tenancy::scope::KEYS_DO_NOT_MANAGE;
use crate::tenancy::service::WorkspaceEvent;
use crate::tenancy::{Role, TenancyService, TenantScope, rules};

/// Keys one workspace may create per hour.
pub const API_KEYS_PER_HOUR: u64 = 20;
const NAME_MAX: usize = 64;

/// A new key: its record and its text, shown this once.
#[derive(Debug)]
pub struct CreatedApiKey {
    pub record: ApiKeyRecord,
    pub secret: String,
}

fn require_manager(scope: &TenantScope) -> DomainResult<()> {
    if scope.member_role()?.at_least(Role::Admin) {
        Ok(())
    } else {
        Err(DomainError::Forbidden(
            "API keys are managed by admins and the owner".to_owned(),
        ))
    }
}

impl TenancyService {
    #[tracing::instrument(skip_all, fields(workspace = %workspace))]
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        workspace: WorkspaceId,
        name: &str,
        scopes: &[Scope],
        expires_at: Option<DateTime<Utc>>,
    ) -> DomainResult<CreatedApiKey> {
        let scope = self.scope(principal, workspace).await?;
        require_manager(&scope)?;
        let now = self.clock.now();
        let mut errors = FieldErrors::default();
        let name = errors.check(crate::text::single_line("name", name, NAME_MAX, "name"));
        if scopes.is_empty() {
            errors.push(FieldError::new("scopes", "give the key at least one scope"));
        }
        if expires_at.is_some_and(|at| at <= now) {
            errors.push(FieldError::new("expiresAt", "expiresAt must be in the future"));
        }
        errors.into_result()?;
        let Some(name) = name else {
            return Err(DomainError::internal("name error collected but not reported"));
        };
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let minted = mint();
        let record = ApiKeyRecord {
            id: ApiKeyId::generate(),
            workspace_id: workspace,
            name,
            prefix: minted.prefix,
            secret_hash: minted.hash,
            scopes,
            created_by: principal.require_user()?,
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        let tx = self.store.begin().await?;
        // Counted under the workspace's lock, in the transaction that inserts: twenty parallel creations
        // cannot all see room for one more.
        tx.lock_workspace(&scope).await?;
        if tx.count_api_keys_since(&scope, now - Duration::hours(1)).await? >= API_KEYS_PER_HOUR {
            return Err(DomainError::RateLimited { retry_after_secs: 3600 });
        }
        tx.insert_api_key(&scope, &record).await?;
        let event = WorkspaceEvent {
            action: "api_key.created",
            target: Some(("API_KEY", record.id.to_string())),
            metadata: json!({
                "name": record.name,
                "prefix": record.prefix,
                "scopes": record.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            }),
        };
        self.audit(&*tx, &scope, principal, client, event).await?;
        let created = crate::notices::Notice::ApiKeyCreated {
            workspace: tx.find_workspace(&scope).await?.name,
            key_name: record.name.clone(),
        };
        crate::notices::queue(&*tx, record.created_by, created, now).await?;
        tx.commit().await?;
        Ok(CreatedApiKey {
            record,
            secret: minted.text,
        })
    }

    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn api_keys(&self, scope: &TenantScope) -> DomainResult<Vec<ApiKeyRecord>> {
        require_manager(scope)?;
        Ok(self.store.list_api_keys(scope).await?)
    }

    /// Makes `to` (an admin or the owner of the key's workspace) the key's owner, so it outlives its creator's
    /// membership or rank (ADMIN and OWNER). `NOT_FOUND` for a key or member the caller cannot see or a revoked
    /// key; `BAD_USER_INPUT` on `toUserId` for a member below ADMIN.
    #[tracing::instrument(skip_all)]
    pub async fn reassign_api_key(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        id: ApiKeyId,
        to: UserId,
    ) -> DomainResult<ApiKeyRecord> {
        let (key, scope) = self.managed_key(principal, id).await?;
        let member = self
            .store
            .find_member(&scope, to)
            .await?
            .ok_or(DomainError::NotFound("member"))?;
        rules::may_own_api_key(member.membership.role).map_err(|rule| DomainError::invalid("toUserId", rule))?;
        let tx = self.store.begin().await?;
        if !tx.set_api_key_creator(&scope, id, to).await? {
            return Err(DomainError::NotFound("API key"));
        }
        let event = WorkspaceEvent {
            action: "api_key.reassigned",
            target: Some(("API_KEY", id.to_string())),
            metadata: json!({
                "name": key.name,
                "prefix": key.prefix,
                "from": key.created_by.to_string(),
                "to": to.to_string(),
            }),
        };
        self.audit(&*tx, &scope, principal, client, event).await?;
        tx.commit().await?;
        Ok(ApiKeyRecord { created_by: to, ..key })
    }

    /// The account of whoever made a key or an invitation of `workspace` (also after they left), for a caller
    /// who manages the workspace's keys and invitations.
    #[tracing::instrument(skip_all, fields(workspace = %workspace))]
    pub async fn creator(
        &self,
        principal: &Principal,
        workspace: WorkspaceId,
        user: UserId,
    ) -> DomainResult<Option<UserRecord>> {
        require_manager(&self.scope(principal, workspace).await?)?;
        Ok(self.store.find_user(user).await?)
    }

    /// A live key of a workspace where the caller manages keys, and that workspace's scope; `NOT_FOUND`
    /// otherwise (a key of another tenant is indistinguishable from none).
    async fn managed_key(&self, principal: &Principal, id: ApiKeyId) -> DomainResult<(ApiKeyRecord, TenantScope)> {
        let member = match principal {
            Principal::ApiKey { .. } => return Err(DomainError::Forbidden(KEYS_DO_NOT_MANAGE.to_owned())),
            Principal::User { user_id, .. } => *user_id,
        };
        let key = self
            .store
            .find_api_key_of_member(member, id)
            .await?
            .filter(|key| key.revoked_at.is_none())
            .ok_or(DomainError::NotFound("API key"))?;
        let scope = match self.scope(principal, key.workspace_id).await {
            Ok(scope) => scope,
            Err(DomainError::Forbidden(_)) => return Err(DomainError::NotFound("API key")),
            Err(other) => return Err(other),
        };
        require_manager(&scope)?;
        Ok((key, scope))
    }

    /// Revokes a key of a workspace where the caller manages keys; `NOT_FOUND` otherwise.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_api_key(&self, principal: &Principal, client: &ClientInfo, id: ApiKeyId) -> DomainResult<()> {
        let (key, scope) = self.managed_key(principal, id).await?;
        let tx = self.store.begin().await?;
        if !tx.revoke_api_key(&scope, id, self.clock.now()).await? {
            return Err(DomainError::NotFound("API key"));
        }
        let event = WorkspaceEvent {
            action: "api_key.revoked",
            target: Some(("API_KEY", id.to_string())),
            metadata: json!({ "name": key.name, "prefix": key.prefix }),
        };
        self.audit(&*tx, &scope, principal, client, event).await?;
        let _signal = self.access.armed(crate::events::AccessChange::ApiKey(id));
        tx.commit().await?;
        Ok(())
    }
}
