//! API keys on SeaORM. Every query but the prefix lookup is filtered by the scope's workspace.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _,
};
use tgos_domain::ids::{ApiKeyId, UserId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::TenantScope;
use tgos_domain::tenancy::api_keys::{ApiKeyRecord, Scope};
use tgos_domain::tenancy::ports::ApiKeyRepository;

use crate::entities::api_keys::{self, Column};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};

fn record(row: api_keys::Model) -> StoreResult<ApiKeyRecord> {
    let scopes = row
        .scopes
        .split_whitespace()
        .map(|name| Scope::parse(name).ok_or_else(|| StoreError::backend(format!("unknown scope {name:?}"))))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(ApiKeyRecord {
        id: ApiKeyId::from_uuid(row.id),
        workspace_id: WorkspaceId::from_uuid(row.workspace_id),
        name: row.name,
        prefix: row.prefix,
        secret_hash: row.secret_hash,
        scopes,
        created_by: UserId::from_uuid(row.created_by),
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    })
}

#[async_trait]
impl<C: Conn> ApiKeyRepository for Repo<C> {
    async fn insert_api_key(&self, scope: &TenantScope, key: &ApiKeyRecord) -> StoreResult<()> {
        if key.workspace_id != scope.workspace_id() {
            return Err(StoreError::backend("API key outside its scope"));
        }
        let scopes = key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
        api_keys::Entity::insert(api_keys::ActiveModel {
            id: Set(key.id.as_uuid()),
            workspace_id: Set(key.workspace_id.as_uuid()),
            name: Set(key.name.clone()),
            prefix: Set(key.prefix.clone()),
            secret_hash: Set(key.secret_hash.clone()),
            scopes: Set(scopes),
            created_by: Set(key.created_by.as_uuid()),
            created_at: Set(key.created_at),
            expires_at: Set(key.expires_at),
            last_used_at: Set(key.last_used_at),
            revoked_at: Set(key.revoked_at),
        })
        .exec_without_returning(&self.0)
        .await
        .store()?;
        Ok(())
    }

    async fn list_api_keys(&self, scope: &TenantScope) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = api_keys::Entity::find()
            .filter(Column::WorkspaceId.eq(scope.workspace_id().as_uuid()))
            .filter(Column::RevokedAt.is_null())
            .order_by_desc(Column::CreatedAt)
            .all(&self.0)
            .await
            .store()?;
        rows.into_iter().map(record).collect()
    }

    async fn revoke_api_key(&self, scope: &TenantScope, id: ApiKeyId, now: DateTime<Utc>) -> StoreResult<bool> {
        let result = api_keys::Entity::update_many()
            .col_expr(Column::RevokedAt, Expr::value(now))
            .filter(Column::WorkspaceId.eq(scope.workspace_id().as_uuid()))
            .filter(Column::Id.eq(id.as_uuid()))
            .filter(Column::RevokedAt.is_null())
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn find_api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = api_keys::Entity::find()
            .filter(Column::Prefix.eq(prefix))
            .one(&self.0)
            .await
            .store()?;
        row.map(record).transpose()
    }

    async fn find_api_key(&self, id: ApiKeyId) -> StoreResult<Option<ApiKeyRecord>> {
        let row = api_keys::Entity::find_by_id(id.as_uuid()).one(&self.0).await.store()?;
        row.map(record).transpose()
    }

    async fn touch_api_key(&self, id: ApiKeyId, now: DateTime<Utc>, stale_before: DateTime<Utc>) -> StoreResult<bool> {
        let result = api_keys::Entity::update_many()
            .col_expr(Column::LastUsedAt, Expr::value(now))
            .filter(Column::Id.eq(id.as_uuid()))
            .filter(
                sea_orm::Condition::any()
                    .add(Column::LastUsedAt.is_null())
                    .add(Column::LastUsedAt.lt(stale_before)),
            )
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn count_api_keys_since(&self, scope: &TenantScope, since: DateTime<Utc>) -> StoreResult<u64> {
        api_keys::Entity::find()
            .filter(Column::WorkspaceId.eq(scope.workspace_id().as_uuid()))
            .filter(Column::CreatedAt.gte(since))
            .count(&self.0)
            .await
            .store()
    }
}
