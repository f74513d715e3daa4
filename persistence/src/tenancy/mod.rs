//! Tenancy ports on SeaORM. Every query on a workspace's data filters by the scope's workspace id and runs
//! behind that workspace's [`Wall`]; the membership lookups that make a scope run behind the user's wall.

mod api_keys;
mod invitations;

use async_trait::async_trait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use tgos_domain::ids::{UserId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::ports::TenancyRepository;
use tgos_domain::tenancy::records::{MemberView, MembershipRecord, WorkspaceRecord};
use tgos_domain::tenancy::{Role, TenantScope};

use crate::entities::{memberships, users, workspaces};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
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

fn member_view((row, user): (memberships::Model, Option<users::Model>)) -> StoreResult<MemberView> {
    let user = user.ok_or_else(|| StoreError::backend("membership without its user"))?;
    Ok(MemberView {
        membership: membership(row)?,
        full_name: user.full_name,
        username: user.username,
        email: user.email,
    })
}

async fn insert_membership(conn: &impl sea_orm::ConnectionTrait, member: &MembershipRecord) -> StoreResult<()> {
    memberships::Entity::insert(memberships::ActiveModel {
        workspace_id: Set(member.workspace_id.as_uuid()),
        user_id: Set(member.user_id.as_uuid()),
        role: Set(member.role.as_str().to_owned()),
        joined_at: Set(member.joined_at),
    })
    .exec_without_returning(conn)
    .await
    .store()?;
    Ok(())
}

fn scoped(scope: &TenantScope) -> sea_orm::Select<memberships::Entity> {
    memberships::Entity::find().filter(memberships::Column::WorkspaceId.eq(scope.workspace_id().as_uuid()))
}

#[async_trait]
impl<C: Conn> TenancyRepository for Repo<C> {
    async fn insert_workspace(&self, record: &WorkspaceRecord, owner: &MembershipRecord) -> StoreResult<()> {
        let db = self.wall(Wall::Workspace(record.id)).await?;
        workspaces::Entity::insert(workspaces::ActiveModel {
            id: Set(record.id.as_uuid()),
            name: Set(record.name.clone()),
            created_at: Set(record.created_at),
        })
        .exec_without_returning(db.conn())
        .await
        .store()?;
        insert_membership(db.conn(), owner).await?;
        db.done().await
    }

    async fn find_membership(&self, workspace_id: WorkspaceId, user: UserId) -> StoreResult<Option<MembershipRecord>> {
        let db = self.wall(Wall::User(user)).await?;
        let row = memberships::Entity::find_by_id((workspace_id.as_uuid(), user.as_uuid()))
            .one(db.conn())
            .await
            .store()?;
        db.done().await?;
        row.map(membership).transpose()
    }

    async fn find_workspace(&self, scope: &TenantScope) -> StoreResult<WorkspaceRecord> {
        let db = self.wall(Wall::Workspace(scope.workspace_id())).await?;
        let row = workspaces::Entity::find_by_id(scope.workspace_id().as_uuid())
            .one(db.conn())
            .await
            .store()?
            .ok_or_else(|| StoreError::backend("scoped workspace vanished"))?;
        db.done().await?;
        Ok(workspace(row))
    }

    async fn list_workspaces_of(&self, user: UserId) -> StoreResult<Vec<(WorkspaceRecord, Role)>> {
        let db = self.wall(Wall::User(user)).await?;
        let rows = memberships::Entity::find()
            .find_also_related(workspaces::Entity)
            .filter(memberships::Column::UserId.eq(user.as_uuid()))
            .order_by_asc(memberships::Column::JoinedAt)
            .all(db.conn())
            .await
            .store()?;
        db.done().await?;
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
        let mut query = scoped(scope).find_also_related(users::Entity);
        if let Some(after) = after {
            query = query.filter(memberships::Column::UserId.gt(after.as_uuid()));
        }
        let db = self.wall(Wall::Workspace(scope.workspace_id())).await?;
        let rows = query
            .order_by_asc(memberships::Column::UserId)
            .limit(limit)
            .all(db.conn())
            .await
            .store()?;
        db.done().await?;
        rows.into_iter().map(member_view).collect()
    }

    async fn find_member(&self, scope: &TenantScope, user: UserId) -> StoreResult<Option<MemberView>> {
        let db = self.wall(Wall::Workspace(scope.workspace_id())).await?;
        let row = scoped(scope)
            .find_also_related(users::Entity)
            .filter(memberships::Column::UserId.eq(user.as_uuid()))
            .one(db.conn())
            .await
            .store()?;
        db.done().await?;
        row.map(member_view).transpose()
    }

    async fn set_member_role(&self, scope: &TenantScope, user: UserId, role: Role) -> StoreResult<bool> {
        let db = self.wall(Wall::Workspace(scope.workspace_id())).await?;
        let result = memberships::Entity::update_many()
            .col_expr(
                memberships::Column::Role,
                sea_orm::sea_query::Expr::value(role.as_str()),
            )
            .filter(memberships::Column::WorkspaceId.eq(scope.workspace_id().as_uuid()))
            .filter(memberships::Column::UserId.eq(user.as_uuid()))
            .exec(db.conn())
            .await
            .store()?;
        db.done().await?;
        Ok(result.rows_affected == 1)
    }

    async fn delete_member(&self, scope: &TenantScope, user: UserId) -> StoreResult<bool> {
        let db = self.wall(Wall::Workspace(scope.workspace_id())).await?;
        let result = memberships::Entity::delete_many()
            .filter(memberships::Column::WorkspaceId.eq(scope.workspace_id().as_uuid()))
            .filter(memberships::Column::UserId.eq(user.as_uuid()))
            .exec(db.conn())
            .await
            .store()?;
        db.done().await?;
        Ok(result.rows_affected == 1)
    }

    async fn insert_member(&self, scope: &TenantScope, member: &MembershipRecord) -> StoreResult<()> {
        if member.workspace_id != scope.workspace_id() {
            return Err(StoreError::backend("member outside its scope"));
        }
        let db = self.wall(Wall::Workspace(scope.workspace_id())).await?;
        insert_membership(db.conn(), member).await?;
        db.done().await
    }
}
