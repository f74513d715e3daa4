//! One call for a workspace's rows: the tenant wall and the workspace filter come from one value.
//!
//! Rule: a repository method on a workspace's rows runs its statements inside [`Repo::in_workspace`]. It sets
//! the scope's [`Wall::Workspace`] (the second wall, on PostgreSQL) and hands the body a [`Tenant`] whose
//! query builders ([`Tenant::find`], [`Tenant::update_many`], [`Tenant::delete_many`]) already filter by the
//! same workspace (the first wall, on both databases), so the two can never name different tenants. A row
//! written for a workspace is checked against it first ([`Tenant::owns`]). The wall's own transaction (opened
//! on the pool) commits when the body succeeds and rolls back when it fails. Statements of any other wall
//! (a user's own memberships, a token lookup, a sweep) run inside [`Repo::behind`].

use sea_orm::{
    ColumnTrait as _, DatabaseExecutor, DeleteMany, EntityTrait, QueryFilter as _, QuerySelect as _, Select, UpdateMany,
};
use tgos_domain::ids::{UserId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::TenantScope;
use uuid::Uuid;

use crate::entities::{
    api_keys, audit_log, automation_executions, automation_sends, automation_triggers, automations, inbox_dialog_tags,
    inbox_dialogs, inbox_messages, inbox_sync, invitations, leases, ledger_postings, ledger_transactions, memberships,
    outbox_events, top_ups, wallet_balances, workspaces,
};
use crate::repo::{Conn, Repo};
use crate::wall::{Wall, Walled};

/// A table whose rows belong to one workspace, and the column that says which.
pub(crate) trait TenantEntity: EntityTrait {
    fn workspace_column() -> Self::Column;
}

macro_rules! tenant_entities {
    ($($entity:ident => $column:ident),* $(,)?) => {
        $(impl TenantEntity for $entity::Entity {
            fn workspace_column() -> Self::Column {
                $entity::Column::$column
            }
        })*
    };
}

tenant_entities! {
    workspaces => Id,
    memberships => WorkspaceId,
    invitations => WorkspaceId,
    api_keys => WorkspaceId,
    audit_log => WorkspaceId,
    leases => WorkspaceId,
    wallet_balances => WorkspaceId,
    ledger_transactions => WorkspaceId,
    ledger_postings => WorkspaceId,
    top_ups => WorkspaceId,
    inbox_dialogs => WorkspaceId,
    inbox_dialog_tags => WorkspaceId,
    inbox_messages => WorkspaceId,
    inbox_sync => WorkspaceId,
    outbox_events => WorkspaceId,
    automations => WorkspaceId,
    automation_triggers => WorkspaceId,
    automation_executions => WorkspaceId,
    automation_sends => WorkspaceId,
}

/// What a body decided about its writes; the value is the answer either way.
pub(crate) enum Outcome<T> {
    /// Keep the writes.
    Keep(T),
    /// Undo the writes (a refusal found after writing).
    Undo(T),
}

/// A connection behind one workspace's wall, and that workspace's filters.
pub(crate) struct Tenant<'c> {
    walled: Walled<'c>,
    workspace: WorkspaceId,
}

impl<'c> Tenant<'c> {
    /// The connection, for statements built by hand (raw SQL names [`Self::id`] itself).
    pub(crate) fn conn(&self) -> &DatabaseExecutor<'c> {
        self.walled.conn()
    }

    /// The workspace, as stored.
    pub(crate) fn id(&self) -> Uuid {
        self.workspace.as_uuid()
    }

    /// The workspace's rows of `E`.
    pub(crate) fn find<E: TenantEntity>(&self) -> Select<E> {
        E::find().filter(E::workspace_column().eq(self.id()))
    }

    /// An update of the workspace's rows of `E`.
    pub(crate) fn update_many<E: TenantEntity>(&self) -> UpdateMany<E> {
        E::update_many().filter(E::workspace_column().eq(self.id()))
    }

    /// A deletion of the workspace's rows of `E`.
    pub(crate) fn delete_many<E: TenantEntity>(&self) -> DeleteMany<E> {
        E::delete_many().filter(E::workspace_column().eq(self.id()))
    }

    /// Refuses to write a `what` that belongs to another workspace behind this one's wall.
    pub(crate) fn owns(&self, workspace: WorkspaceId, what: &str) -> StoreResult<()> {
        if workspace == self.workspace {
            Ok(())
        } else {
            Err(StoreError::backend(format!("{what} outside its scope")))
        }
    }
}

/// The workspaces `user` is a member of, as a subquery: what a user's own wall (`Wall::User`) lets a lookup by
/// id reach.
pub(crate) fn workspaces_of(user: UserId) -> sea_orm::sea_query::SelectStatement {
    sea_orm::QuerySelect::query(
        &mut memberships::Entity::find()
            .select_only()
            .column(memberships::Column::WorkspaceId)
            .filter(memberships::Column::UserId.eq(user.as_uuid())),
    )
    .to_owned()
}

/// The workspaces that are open (not closed for deletion), as a subquery: a closed workspace is reached by
/// no membership or key lookup, so it is refused as for a non-member.
pub(crate) fn open_workspaces() -> sea_orm::sea_query::SelectStatement {
    sea_orm::QuerySelect::query(
        &mut workspaces::Entity::find()
            .select_only()
            .column(workspaces::Column::Id)
            .filter(workspaces::Column::ClosedAt.is_null()),
    )
    .to_owned()
}

impl<C: Conn> Repo<C> {
    /// Runs `body` behind `wall`: on the pool, in a transaction of the wall's own that commits when `body`
    /// succeeds (and rolls back when it fails); in a transaction, on it.
    pub(crate) async fn behind<T>(
        &self,
        wall: Wall<'_>,
        body: impl AsyncFnOnce(&Walled<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let walled = self.wall(wall).await?;
        let value = body(&walled).await?;
        walled.done().await?;
        Ok(value)
    }

    /// Runs `body` on the scope's workspace: behind its wall, with its filters ([`Tenant`]).
    pub(crate) async fn in_workspace<T>(
        &self,
        scope: &TenantScope,
        body: impl AsyncFnOnce(&Tenant<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.in_workspace_deciding(scope, async |db| body(db).await.map(Outcome::Keep))
            .await
    }

    /// Like [`Self::in_workspace`], for a body that may refuse after writing: an [`Outcome::Undo`] rolls back
    /// the wall's own transaction (on the pool; inside a caller's transaction the caller decides) and its
    /// value is still the answer.
    pub(crate) async fn in_workspace_deciding<T>(
        &self,
        scope: &TenantScope,
        body: impl AsyncFnOnce(&Tenant<'_>) -> StoreResult<Outcome<T>>,
    ) -> StoreResult<T> {
        let workspace = scope.workspace_id();
        let tenant = Tenant {
            walled: self.wall(Wall::Workspace(workspace)).await?,
            workspace,
        };
        match body(&tenant).await? {
            Outcome::Keep(value) => {
                tenant.walled.done().await?;
                Ok(value)
            }
            // Dropping the wall's own transaction rolls it back.
            Outcome::Undo(value) => Ok(value),
        }
    }
}
