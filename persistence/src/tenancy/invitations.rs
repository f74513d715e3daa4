//! Invitations on SeaORM. Every query but the token lookup is filtered by the scope's workspace and runs
//! behind its [`Wall`]; the token lookup runs behind the token's own wall.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _,
};
use tgos_domain::ids::{InvitationId, UserId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::invitations::InvitationRecord;
use tgos_domain::tenancy::ports::InvitationRepository;
use tgos_domain::tenancy::{Role, TenantScope};

use crate::entities::invitations::{self, Column};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

fn record(row: invitations::Model) -> StoreResult<InvitationRecord> {
    Ok(InvitationRecord {
        id: InvitationId::from_uuid(row.id),
        workspace_id: WorkspaceId::from_uuid(row.workspace_id),
        email: row.email,
        email_key: row.email_key,
        role: Role::parse(&row.role).ok_or_else(|| StoreError::backend("unknown role in invitations"))?,
        token_hash: row.token_hash,
        invited_by: UserId::from_uuid(row.invited_by),
        created_at: row.created_at,
        expires_at: row.expires_at,
        accepted_at: row.accepted_at,
        revoked_at: row.revoked_at,
    })
}

#[async_trait]
impl<C: Conn> InvitationRepository for Repo<C> {
    async fn insert_invitation(&self, scope: &TenantScope, invitation: &InvitationRecord) -> StoreResult<()> {
        self.in_workspace(scope, async |db| {
            db.owns(invitation.workspace_id, "invitation")?;
            invitations::Entity::insert(invitations::ActiveModel {
                id: Set(invitation.id.as_uuid()),
                workspace_id: Set(db.id()),
                email: Set(invitation.email.clone()),
                email_key: Set(invitation.email_key.clone()),
                role: Set(invitation.role.as_str().to_owned()),
                token_hash: Set(invitation.token_hash.clone()),
                invited_by: Set(invitation.invited_by.as_uuid()),
                created_at: Set(invitation.created_at),
                expires_at: Set(invitation.expires_at),
                accepted_at: Set(invitation.accepted_at),
                revoked_at: Set(invitation.revoked_at),
            })
            .exec_without_returning(db.conn())
            .await
            .store()?;
            Ok(())
        })
        .await
    }

    async fn revoke_invitations_for(
        &self,
        scope: &TenantScope,
        email_key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.in_workspace(scope, async |db| {
            let result = db
                .update_many::<invitations::Entity>()
                .col_expr(Column::RevokedAt, Expr::value(now))
                .filter(Column::EmailKey.eq(email_key))
                .filter(Column::AcceptedAt.is_null())
                .filter(Column::RevokedAt.is_null())
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected)
        })
        .await
    }

    async fn list_pending_invitations(
        &self,
        scope: &TenantScope,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<InvitationRecord>> {
        let rows = self
            .in_workspace(scope, async |db| {
                db.find::<invitations::Entity>()
                    .filter(Column::AcceptedAt.is_null())
                    .filter(Column::RevokedAt.is_null())
                    .filter(Column::ExpiresAt.gt(now))
                    .order_by_desc(Column::CreatedAt)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(record).collect()
    }

    async fn revoke_invitation(&self, scope: &TenantScope, id: InvitationId, now: DateTime<Utc>) -> StoreResult<bool> {
        self.close_pending(scope, id, Column::RevokedAt, now).await
    }

    async fn find_invitation_by_token(&self, token_hash: &[u8]) -> StoreResult<Option<InvitationRecord>> {
        let row = self
            .behind(Wall::InvitationToken(token_hash), async |db| {
                invitations::Entity::find()
                    .filter(Column::TokenHash.eq(token_hash.to_vec()))
                    .filter(Column::WorkspaceId.in_subquery(crate::tenant::open_workspaces()))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        row.map(record).transpose()
    }

    async fn accept_invitation(&self, scope: &TenantScope, id: InvitationId, now: DateTime<Utc>) -> StoreResult<bool> {
        self.close_pending(scope, id, Column::AcceptedAt, now).await
    }

    async fn count_invitations_since(&self, scope: &TenantScope, since: DateTime<Utc>) -> StoreResult<u64> {
        self.in_workspace(scope, async |db| {
            db.find::<invitations::Entity>()
                .filter(Column::CreatedAt.gte(since))
                .count(db.conn())
                .await
                .store()
        })
        .await
    }
}

impl<C: Conn> Repo<C> {
    /// Sets `closed` (accepted or revoked) on a pending invitation; `false` when it is no longer pending.
    async fn close_pending(
        &self,
        scope: &TenantScope,
        id: InvitationId,
        closed: Column,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .update_many::<invitations::Entity>()
                .col_expr(closed, Expr::value(now))
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(Column::AcceptedAt.is_null())
                .filter(Column::RevokedAt.is_null())
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }
}
