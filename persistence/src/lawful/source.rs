//! [`DisclosureSource`]: the rows of one file of a disclosure package, page by page, as JSON objects.
//!
//! Rules: each file reads one table, filtered to its subject and to the period on one named timestamp column
//! (`from <= t < to`); the records of a state rather than an event (a profile, a workspace, a membership) are
//! those that existed before the period ended (`t < to`). Dialogs are those with a message in the period.
//! Columns are mapped by name with the export's mappers (`crate::privacy::source`), which carry no secret,
//! plus the few this file adds (a workspace, a member, a top-up without its checkout link). A workspace's files
//! run behind its wall ([`Repo::in_workspace`]); a user's memberships behind their own, their chain entries
//! behind no tenant's.

use async_trait::async_trait;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter as _, QuerySelect as _, Select};
use serde_json::{Value, json};
use tgos_domain::compliance::lawful::Period;
use tgos_domain::compliance::lawful::ports::DisclosureSource;
use tgos_domain::compliance::lawful::scope::{UserFile, WorkspaceFile};
use tgos_domain::ids::UserId;
use tgos_domain::privacy::ports::ExportPage;
use tgos_domain::store::StoreResult;
use tgos_domain::tenancy::TenantScope;
use uuid::Uuid;

use crate::entities::{
    audit_log, inbox_dialogs, inbox_messages, leases, ledger_postings, ledger_transactions, memberships, sessions,
    top_ups, users, workspaces,
};
use crate::privacy::source::{
    audit, dialog, keyset, lease, ledger_posting, ledger_transaction, membership, message, profile, session,
};
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

/// Rows whose `column` falls in `period`.
fn during<E: EntityTrait>(select: Select<E>, column: E::Column, period: &Period) -> Select<E>
where
    E::Column: ColumnTrait,
{
    select.filter(column.gte(period.from())).filter(column.lt(period.to()))
}

/// Rows whose `column` (when the record came to be) is before the period's end: it existed during it.
fn existing<E: EntityTrait>(select: Select<E>, column: E::Column, period: &Period) -> Select<E>
where
    E::Column: ColumnTrait,
{
    select.filter(column.lt(period.to()))
}

fn workspace(row: workspaces::Model) -> (Uuid, Value) {
    let value = json!({
        "id": row.id, "name": row.name, "created_at": row.created_at, "closed_at": row.closed_at,
    });
    (row.id, value)
}

fn member(row: memberships::Model) -> (Uuid, Value) {
    let value = json!({ "user_id": row.user_id, "role": row.role, "joined_at": row.joined_at });
    (row.user_id, value)
}

fn top_up(row: top_ups::Model) -> (Uuid, Value) {
    let value = json!({
        "id": row.id, "provider": row.provider, "provider_ref": row.provider_ref,
        "amount_minor": row.amount_minor, "currency": row.currency, "status": row.status,
        "credited_minor": row.credited_minor, "refunded_minor": row.refunded_minor,
        "created_by": row.created_by, "created_at": row.created_at, "updated_at": row.updated_at,
    });
    (row.id, value)
}

#[async_trait]
impl<C: Conn> DisclosureSource for Repo<C> {
    async fn disclose_user_page(
        &self,
        user: UserId,
        file: UserFile,
        period: &Period,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<ExportPage> {
        let me = user.as_uuid();
        match file {
            UserFile::Profile => {
                let select = existing(
                    users::Entity::find().filter(users::Column::Id.eq(me)),
                    users::Column::CreatedAt,
                    period,
                );
                keyset(&self.0, select, users::Column::Id, after, limit, profile).await
            }
            UserFile::Sessions => {
                let select = during(
                    sessions::Entity::find().filter(sessions::Column::UserId.eq(me)),
                    sessions::Column::CreatedAt,
                    period,
                );
                keyset(&self.0, select, sessions::Column::Id, after, limit, session).await
            }
            UserFile::Memberships => {
                self.behind(Wall::User(user), async |db| {
                    let select = existing(
                        memberships::Entity::find().filter(memberships::Column::UserId.eq(me)),
                        memberships::Column::JoinedAt,
                        period,
                    );
                    let key = memberships::Column::WorkspaceId;
                    keyset(db.conn(), select, key, after, limit, membership).await
                })
                .await
            }
            UserFile::Audit => {
                self.behind(Wall::NoTenant, async |db| {
                    let theirs = Condition::any()
                        .add(audit_log::Column::Chain.eq(format!("user:{user}")))
                        .add(audit_log::Column::ActorId.eq(user.to_string()));
                    let select = during(
                        audit_log::Entity::find()
                            .filter(audit_log::Column::WorkspaceId.is_null())
                            .filter(theirs),
                        audit_log::Column::At,
                        period,
                    );
                    keyset(db.conn(), select, audit_log::Column::Id, after, limit, audit).await
                })
                .await
            }
        }
    }

    async fn disclose_workspace_page(
        &self,
        scope: &TenantScope,
        file: WorkspaceFile,
        period: &Period,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<ExportPage> {
        self.in_workspace(scope, async |db| {
            let conn = db.conn();
            match file {
                WorkspaceFile::Workspace => {
                    let select = existing(db.find::<workspaces::Entity>(), workspaces::Column::CreatedAt, period);
                    keyset(conn, select, workspaces::Column::Id, after, limit, workspace).await
                }
                WorkspaceFile::Members => {
                    let select = existing(db.find::<memberships::Entity>(), memberships::Column::JoinedAt, period);
                    keyset(conn, select, memberships::Column::UserId, after, limit, member).await
                }
                WorkspaceFile::Audit => {
                    let select = during(db.find::<audit_log::Entity>(), audit_log::Column::At, period);
                    keyset(conn, select, audit_log::Column::Id, after, limit, audit).await
                }
                WorkspaceFile::LedgerTransactions => {
                    let select = during(
                        db.find::<ledger_transactions::Entity>(),
                        ledger_transactions::Column::CreatedAt,
                        period,
                    );
                    let key = ledger_transactions::Column::Id;
                    keyset(conn, select, key, after, limit, ledger_transaction).await
                }
                WorkspaceFile::LedgerPostings => {
                    let select = during(
                        db.find::<ledger_postings::Entity>(),
                        ledger_postings::Column::CreatedAt,
                        period,
                    );
                    keyset(conn, select, ledger_postings::Column::Id, after, limit, ledger_posting).await
                }
                WorkspaceFile::TopUps => {
                    let select = during(db.find::<top_ups::Entity>(), top_ups::Column::CreatedAt, period);
                    keyset(conn, select, top_ups::Column::Id, after, limit, top_up).await
                }
                WorkspaceFile::Leases => {
                    let select = during(db.find::<leases::Entity>(), leases::Column::CreatedAt, period);
                    keyset(conn, select, leases::Column::Id, after, limit, lease).await
                }
                WorkspaceFile::Dialogs => {
                    let spoken = sea_orm::QuerySelect::query(
                        &mut during(
                            db.find::<inbox_messages::Entity>(),
                            inbox_messages::Column::SentAt,
                            period,
                        )
                        .select_only()
                        .column(inbox_messages::Column::DialogId),
                    )
                    .to_owned();
                    let select = db
                        .find::<inbox_dialogs::Entity>()
                        .filter(inbox_dialogs::Column::Id.in_subquery(spoken));
                    keyset(conn, select, inbox_dialogs::Column::Id, after, limit, dialog).await
                }
                WorkspaceFile::Messages => {
                    let select = during(
                        db.find::<inbox_messages::Entity>(),
                        inbox_messages::Column::SentAt,
                        period,
                    );
                    keyset(conn, select, inbox_messages::Column::Id, after, limit, message).await
                }
            }
        })
        .await
    }
}
