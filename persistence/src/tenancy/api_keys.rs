//! API keys on SeaORM. Every query is filtered by the scope's workspace and runs behind its [`Wall`], but the
//! two lookups that find a key's workspace: by prefix (authentication) and by id among a member's workspaces.

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
use crate::tenant::workspaces_of;
use crate::wall::Wall;

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
        self.in_workspace(scope, async |db| {
            db.owns(key.workspace_id, "API key")?;
            let scopes = key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
            api_keys::Entity::insert(api_keys::ActiveModel {
                id: Set(key.id.as_uuid()),
                workspace_id: Set(db.id()),
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
            .exec_without_returning(db.conn())
            .await
            .store()?;
            Ok(())
        })
        .await
    }

    async fn list_api_keys(&self, scope: &TenantScope) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = self
            .in_workspace(scope, async |db| {
                db.find::<api_keys::Entity>()
                    .filter(Column::RevokedAt.is_null())
                    .order_by_desc(Column::CreatedAt)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(record).collect()
    }

    async fn revoke_api_key(&self, scope: &TenantScope, id: ApiKeyId, now: DateTime<Utc>) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .update_many::<api_keys::Entity>()
                .col_expr(Column::RevokedAt, Expr::value(now))
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(Column::RevokedAt.is_null())
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn set_api_key_creator(&self, scope: &TenantScope, id: ApiKeyId, owner: UserId) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .update_many::<api_keys::Entity>()
                .col_expr(Column::CreatedBy, Expr::value(owner.as_uuid()))
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(Column::RevokedAt.is_null())
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn find_api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = self
            .behind(Wall::ApiKeyPrefix(prefix), async |db| {
                api_keys::Entity::find()
                    .filter(Column::Prefix.eq(prefix))
                    .filter(Column::WorkspaceId.in_subquery(crate::tenant::open_workspaces()))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        row.map(record).transpose()
    }

    async fn find_api_key_of_member(&self, member: UserId, id: ApiKeyId) -> StoreResult<Option<ApiKeyRecord>> {
        let row = self
            .behind(Wall::User(member), async |db| {
                api_keys::Entity::find_by_id(id.as_uuid())
                    .filter(Column::WorkspaceId.in_subquery(workspaces_of(member)))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        row.map(record).transpose()
    }

    async fn touch_api_key(
        &self,
        scope: &TenantScope,
        id: ApiKeyId,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .update_many::<api_keys::Entity>()
                .col_expr(Column::LastUsedAt, Expr::value(now))
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(
                    sea_orm::Condition::any()
                        .add(Column::LastUsedAt.is_null())
                        .add(Column::LastUsedAt.lt(stale_before)),
                )
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn count_api_keys_since(&self, scope: &TenantScope, since: DateTime<Utc>) -> StoreResult<u64> {
        self.in_workspace(scope, async |db| {
            db.find::<api_keys::Entity>()
                .filter(Column::CreatedAt.gte(since))
                .count(db.conn())
                .await
                .store()
        })
        .await
    }
}
