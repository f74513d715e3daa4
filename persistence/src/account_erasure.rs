//! Closing and erasing a person's account on SeaORM: the account's closure state on its row, and the
//! erasure's statements, per workspace behind that workspace's erasure wall and for the person's own rows.
//! Every statement is idempotent, so an erasure that died midway finishes when it runs again.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, DatabaseBackend, EntityTrait as _, QueryFilter as _, Statement, Value};
use tgos_domain::erasure::AccountErasureRepository;
use tgos_domain::ids::{UserId, WorkspaceId};
use tgos_domain::store::StoreResult;

use crate::entities::{api_keys, memberships, sessions, users};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

/// A value the statements below take.
#[derive(Clone, Copy)]
enum Param {
    Workspace,
    Person,
    EmailKey,
    /// The person's id as a `LIKE` pattern, for payloads.
    PersonInText,
    /// The person's username as a `LIKE` pattern, for payloads.
    UsernameInText,
    /// The nil id that stands for nobody on billing rows.
    Nobody,
}

/// What the person leaves in a workspace, and how it goes; each statement's parameters in order.
const IN_WORKSPACE: &[(&str, &[Param])] = {
    use Param::*;
    &[
        (
            "DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2",
            &[Workspace, Person],
        ),
        (
            "DELETE FROM invitations WHERE workspace_id = $1 AND (invited_by = $2 OR email_key = $3)",
            &[Workspace, Person, EmailKey],
        ),
        (
            "DELETE FROM api_keys WHERE workspace_id = $1 AND created_by = $2",
            &[Workspace, Person],
        ),
        (
            "UPDATE leases SET created_by = NULL WHERE workspace_id = $1 AND created_by = $2",
            &[Workspace, Person],
        ),
        (
            "UPDATE automations SET created_by = NULL WHERE workspace_id = $1 AND created_by = $2",
            &[Workspace, Person],
        ),
        (
            "UPDATE inbox_dialogs SET assignee_id = NULL WHERE workspace_id = $1 AND assignee_id = $2",
            &[Workspace, Person],
        ),
        (
            "UPDATE top_ups SET created_by = $1 WHERE workspace_id = $2 AND created_by = $3",
            &[Nobody, Workspace, Person],
        ),
        (
            "DELETE FROM outbox_events WHERE workspace_id = $1 AND (payload LIKE $2 OR payload LIKE $3)",
            &[Workspace, PersonInText, UsernameInText],
        ),
        (
            "DELETE FROM jobs WHERE workspace_id = $1 AND (payload LIKE $2 OR payload LIKE $3) AND status <> 'running'",
            &[Workspace, PersonInText, UsernameInText],
        ),
    ]
};

/// The statement for `backend`: PostgreSQL numbers its parameters `$n`, SQLite `?n`.
fn numbered(backend: DatabaseBackend, sql: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    }
}

async fn run(conn: &impl sea_orm::ConnectionTrait, sql: &str, values: Vec<Value>) -> StoreResult<u64> {
    let backend = conn.get_database_backend();
    let result = conn
        .execute_raw(Statement::from_sql_and_values(backend, numbered(backend, sql), values))
        .await
        .store()?;
    Ok(result.rows_affected())
}

/// A `LIKE` pattern for text containing `text`. Not escaped: a `_` or `%` in it only widens the match (both
/// databases escape differently), which for an erasure errs on the side of removing.
fn like(text: &str) -> String {
    format!("%{text}%")
}

#[async_trait]
impl<C: Conn> AccountErasureRepository for Repo<C> {
    async fn close_account(
        &self,
        user: UserId,
        closed_at: DateTime<Utc>,
        erase_after: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let result = users::Entity::update_many()
            .col_expr(users::Column::ClosedAt, Expr::value(closed_at))
            .col_expr(users::Column::EraseAfter, Expr::value(erase_after))
            .filter(users::Column::Id.eq(user.as_uuid()))
            .filter(users::Column::ClosedAt.is_null())
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn reopen_account(&self, user: UserId, closed_at: DateTime<Utc>) -> StoreResult<bool> {
        let result = users::Entity::update_many()
            .col_expr(users::Column::ClosedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(users::Column::EraseAfter, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(users::Column::Id.eq(user.as_uuid()))
            .filter(users::Column::ClosedAt.eq(closed_at))
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn person_workspaces(&self, user: UserId) -> StoreResult<Vec<(WorkspaceId, bool)>> {
        let rows = self
            .behind(Wall::User(user), async |db| {
                memberships::Entity::find()
                    .filter(memberships::Column::UserId.eq(user.as_uuid()))
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (WorkspaceId::from_uuid(row.workspace_id), row.role == "OWNER"))
            .collect())
    }

    async fn revoke_keys_created_by(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.behind(Wall::Workspace(workspace), async |db| {
            let result = api_keys::Entity::update_many()
                .col_expr(api_keys::Column::RevokedAt, Expr::value(now))
                .filter(api_keys::Column::WorkspaceId.eq(workspace.as_uuid()))
                .filter(api_keys::Column::CreatedBy.eq(user.as_uuid()))
                .filter(api_keys::Column::RevokedAt.is_null())
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected)
        })
        .await
    }

    async fn session_addresses(&self, user: UserId) -> StoreResult<Vec<String>> {
        let rows = sessions::Entity::find()
            .filter(sessions::Column::UserId.eq(user.as_uuid()))
            .all(&self.0)
            .await
            .store()?;
        let mut addresses: Vec<String> = rows.into_iter().filter_map(|row| row.ip_address).collect();
        addresses.sort();
        addresses.dedup();
        Ok(addresses)
    }

    async fn erase_person_in_workspace(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        email_key: &str,
    ) -> StoreResult<()> {
        let username = users::Entity::find_by_id(user.as_uuid())
            .one(&self.0)
            .await
            .store()?
            .map(|account| account.username);
        let value = |param: Param| -> Value {
            match param {
                Param::Workspace => workspace.as_uuid().into(),
                Param::Person => user.as_uuid().into(),
                Param::EmailKey => email_key.to_owned().into(),
                Param::PersonInText => like(&user.to_string()).into(),
                // A run after the account row went (the erasure finished): the id's pattern again.
                Param::UsernameInText => username
                    .as_deref()
                    .map_or_else(|| like(&user.to_string()), |name| like(&format!("\"{name}\"")))
                    .into(),
                Param::Nobody => uuid::Uuid::nil().into(),
            }
        };
        self.behind(Wall::Erasure(workspace), async |db| {
            for (sql, params) in IN_WORKSPACE {
                run(db.conn(), sql, params.iter().map(|param| value(*param)).collect()).await?;
            }
            Ok(())
        })
        .await
    }

    async fn erase_person(&self, user: UserId, addresses: &[String]) -> StoreResult<()> {
        let Some(account) = users::Entity::find_by_id(user.as_uuid()).one(&self.0).await.store()? else {
            return Ok(());
        };
        let mut needles = vec![
            user.to_string(),
            account.email_key.clone(),
            account.username_key.clone(),
        ];
        needles.extend(addresses.iter().cloned());
        self.behind(Wall::User(user), async |db| {
            let id: Value = user.as_uuid().into();
            for table in [
                "data_subject_requests",
                "sessions",
                "backup_codes",
                "sign_in_challenges",
            ] {
                run(
                    db.conn(),
                    &format!("DELETE FROM {table} WHERE user_id = $1"),
                    vec![id.clone()],
                )
                .await?;
            }
            for needle in &needles {
                run(
                    db.conn(),
                    "DELETE FROM auth_throttles WHERE key LIKE $1",
                    vec![like(needle).into()],
                )
                .await?;
            }
            Ok(())
        })
        .await?;
        // Jobs of no workspace (notices) are seen behind the job workers' wall.
        self.behind(Wall::Sweep("jobs"), async |db| {
            run(
                db.conn(),
                "DELETE FROM jobs WHERE workspace_id IS NULL AND payload LIKE $1 AND status <> 'running'",
                vec![like(&user.to_string()).into()],
            )
            .await
        })
        .await?;
        self.behind(Wall::User(user), async |db| {
            run(
                db.conn(),
                "DELETE FROM users WHERE id = $1",
                vec![user.as_uuid().into()],
            )
            .await?;
            Ok(())
        })
        .await
    }
}
