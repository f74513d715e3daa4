//! Tenancy ports on SeaORM. Every query on a workspace's data runs in the scope's workspace (behind its
//! [`Wall`], filtered by its id); creating a workspace runs behind the new workspace's wall, and the membership
//! lookups that make a scope run behind the user's wall.

mod api_keys;
mod invitations;

use async_trait::async_trait;
use sea_orm::sea_query::LockType;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};
use tgos_domain::ids::{UserId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::ports::TenancyRepository;
use tgos_domain::tenancy::records::{MemberView, MembershipRecord, WorkspaceRecord};
use tgos_domain::tenancy::{Role, TenantScope};
use uuid::Uuid;

use crate::entities::{memberships, users, workspaces};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::tenant::open_workspaces;
use crate::wall::Wall;

fn role_of(text: &str) -> StoreResult<Role> {
    Role::parse(text).ok_or_else(|| StoreError::backend(format!("unknown role {text:?} in memberships")))
}

fn membership(row: memberships::Model) -> StoreResult<MembershipRecord> {
    Ok(MembershipRecord {
        workspace_id: WorkspaceId::from_uuid(row.workspace_id),
        user_id: UserId::from_uuid(row.user_id),
        role: role_of(&row.role)?,
        joined_at: row.joined_at,
    })
}

fn workspace(row: workspaces::Model) -> WorkspaceRecord {
    WorkspaceRecord {
        id: WorkspaceId::from_uuid(row.id),
        name: row.name,
        created_at: row.created_at,
    }
}

pub(crate) fn member_view((row, user): (memberships::Model, Option<users::Model>)) -> StoreResult<MemberView> {
    let user = user.ok_or_else(|| StoreError::backend("membership without its user"))?;
    Ok(MemberView {
        membership: membership(row)?,
        full_name: user.full_name,
        username: user.username,
        email: user.email,
    })
}

async fn insert_membership(
    conn: &impl sea_orm::ConnectionTrait,
    workspace: Uuid,
    member: &MembershipRecord,
) -> StoreResult<()> {
    memberships::Entity::insert(memberships::ActiveModel {
        workspace_id: Set(workspace),
        user_id: Set(member.user_id.as_uuid()),
        role: Set(member.role.as_str().to_owned()),
        joined_at: Set(member.joined_at),
    })
    .exec_without_returning(conn)
    .await
    .store()?;
    Ok(())
}

#[async_trait]
impl<C: Conn> TenancyRepository for Repo<C> {
    async fn insert_workspace(&self, record: &WorkspaceRecord, owner: &MembershipRecord) -> StoreResult<()> {
        self.behind(Wall::Workspace(record.id), async |db| {
            workspaces::Entity::insert(workspaces::ActiveModel {
                id: Set(record.id.as_uuid()),
                name: Set(record.name.clone()),
                created_at: Set(record.created_at),
                ..Default::default()
            })
            .exec_without_returning(db.conn())
            .await
            .store()?;
            insert_membership(db.conn(), owner.workspace_id.as_uuid(), owner).await
        })
        .await
    }

    async fn find_membership(&self, workspace_id: WorkspaceId, user: UserId) -> StoreResult<Option<MembershipRecord>> {
        let row = self
            .behind(Wall::User(user), async |db| {
                memberships::Entity::find_by_id((workspace_id.as_uuid(), user.as_uuid()))
                    .filter(memberships::Column::WorkspaceId.in_subquery(open_workspaces()))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        row.map(membership).transpose()
    }

    async fn find_workspace(&self, scope: &TenantScope) -> StoreResult<WorkspaceRecord> {
        let row = self
            .in_workspace(scope, async |db| {
                db.find::<workspaces::Entity>()
                    .one(db.conn())
                    .await
                    .store()?
                    .ok_or_else(|| StoreError::backend("scoped workspace vanished"))
            })
            .await?;
        Ok(workspace(row))
    }

    async fn owner_restricted(&self, scope: &TenantScope) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let owner = db
                .find::<memberships::Entity>()
                .filter(memberships::Column::Role.eq("OWNER"))
                .one(db.conn())
                .await
                .store()?;
            let Some(owner) = owner else {
                return Ok(false);
            };
            let restricted = users::Entity::find_by_id(owner.user_id)
                .filter(users::Column::RestrictedAt.is_not_null())
                .count(db.conn())
                .await
                .store()?;
            Ok(restricted > 0)
        })
        .await
    }

    async fn lock_workspace(&self, scope: &TenantScope) -> StoreResult<()> {
        self.in_workspace(scope, async |db| {
            db.find::<workspaces::Entity>()
                .lock(LockType::NoKeyUpdate)
                .one(db.conn())
                .await
                .store()?
                .map(|_| ())
                .ok_or_else(|| StoreError::backend("scoped workspace vanished"))
        })
        .await
    }

    async fn list_workspaces_of(&self, user: UserId) -> StoreResult<Vec<(WorkspaceRecord, Role)>> {
        let rows = self
            .behind(Wall::User(user), async |db| {
                memberships::Entity::find()
                    .find_also_related(workspaces::Entity)
                    .filter(memberships::Column::UserId.eq(user.as_uuid()))
                    .filter(workspaces::Column::ClosedAt.is_null())
                    .order_by_asc(memberships::Column::JoinedAt)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter()
            .map(|(member, ws)| {
                let ws = ws.ok_or_else(|| StoreError::backend("membership without its workspace"))?;
                Ok((workspace(ws), role_of(&member.role)?))
            })
            .collect()
    }

    async fn list_members(
        &self,
        scope: &TenantScope,
        after: Option<UserId>,
        limit: u64,
    ) -> StoreResult<Vec<MemberView>> {
        let rows = self
            .in_workspace(scope, async |db| {
                let mut query = db.find::<memberships::Entity>().find_also_related(users::Entity);
                if let Some(after) = after {
                    query = query.filter(memberships::Column::UserId.gt(after.as_uuid()));
                }
                query
                    .order_by_asc(memberships::Column::UserId)
                    .limit(limit)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(member_view).collect()
    }

    async fn find_member(&self, scope: &TenantScope, user: UserId) -> StoreResult<Option<MemberView>> {
        let row = self
            .in_workspace(scope, async |db| {
                db.find::<memberships::Entity>()
                    .find_also_related(users::Entity)
                    .filter(memberships::Column::UserId.eq(user.as_uuid()))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        row.map(member_view).transpose()
    }

    async fn set_member_role(&self, scope: &TenantScope, user: UserId, role: Role) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .update_many::<memberships::Entity>()
                .col_expr(
                    memberships::Column::Role,
                    sea_orm::sea_query::Expr::value(role.as_str()),
                )
                .filter(memberships::Column::UserId.eq(user.as_uuid()))
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn delete_member(&self, scope: &TenantScope, user: UserId) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .delete_many::<memberships::Entity>()
                .filter(memberships::Column::UserId.eq(user.as_uuid()))
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn insert_member(&self, scope: &TenantScope, member: &MembershipRecord) -> StoreResult<()> {
        self.in_workspace(scope, async |db| {
            db.owns(member.workspace_id, "member")?;
            insert_membership(db.conn(), db.id(), member).await
        })
        .await
    }
}
