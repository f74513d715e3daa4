//! The inbox's list reads as statements: a page of dialogs, with or without each one's last message, and
//! the last messages of a list of dialogs.
//!
//! Rule: a dialog's last message is found by one backward probe of `inbox_messages_dialog_wall_idx
//! (dialog_id, workspace_id, id)` per dialog, the workspace named inside the probe, never by a scan that
//! grows with the workspace's messages or dialogs.

use sea_orm::sea_query::{Expr, IntoColumnRef as _, JoinType, NullOrdering, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait as _, DatabaseBackend, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, QueryTrait, Select, SelectTwo, Statement,
};
use tgos_domain::ids::{DialogId, MessageId};
use tgos_domain::inbox::DialogQuery;
use tgos_domain::store::{StoreError, StoreResult};

use super::triage::dialogs_tagged;
use crate::entities::{inbox_dialogs, inbox_messages, memberships};
use crate::errors::DbResultExt as _;
use crate::tenant::Tenant;

/// The alias of the subquery that finds a dialog's newest message.
const NEWEST: &str = "newest";

/// `column` of the newest message of the dialog of the enclosing query's row (`inbox_dialogs`), in the same
/// workspace: one backward probe of `inbox_messages_dialog_wall_idx`.
fn newest_message(column: sea_orm::sea_query::ColumnRef) -> SelectStatement {
    use sea_orm::sea_query::ExprTrait as _;
    Query::select()
        .column(column)
        .from_as(inbox_messages::Entity, NEWEST)
        .and_where(
            Expr::col((NEWEST, inbox_messages::Column::DialogId))
                .equals((inbox_dialogs::Entity, inbox_dialogs::Column::Id)),
        )
        .and_where(
            Expr::col((NEWEST, inbox_messages::Column::WorkspaceId))
                .equals((inbox_dialogs::Entity, inbox_dialogs::Column::WorkspaceId)),
        )
        .order_by((NEWEST, inbox_messages::Column::Id), Order::Desc)
        .limit(1)
        .to_owned()
}

/// The workspace's dialogs `query` names, newest message first (dialogs without one last, on both backends
/// alike: PostgreSQL would put NULLs first when descending), optionally of one account, only unread ones, of
/// one tag (the tag's range of `inbox_dialog_tags_tag_idx`), of one assignee or unassigned
/// (`inbox_dialogs_assignee_idx`, which holds an assignee's dialogs in this order), after the dialog `after`
/// in that order; at most `limit`.
pub(super) async fn dialogs_select(db: &Tenant<'_>, query: &DialogQuery) -> StoreResult<Select<inbox_dialogs::Entity>> {
    let DialogQuery {
        account,
        unread_only,
        ref tag,
        assignee,
        unassigned,
        after,
        limit,
    } = *query;
    let mut select = db
        .find::<inbox_dialogs::Entity>()
        .order_by_with_nulls(inbox_dialogs::Column::LastMessageAt, Order::Desc, NullOrdering::Last)
        .order_by_desc(inbox_dialogs::Column::Id)
        .limit(limit);
    if let Some(account) = account {
        select = select.filter(inbox_dialogs::Column::AccountId.eq(account.as_uuid()));
    }
    if unread_only {
        select = select.filter(inbox_dialogs::Column::UnreadCount.gt(0));
    }
    if let Some(tag) = tag {
        select = select.filter(inbox_dialogs::Column::Id.in_subquery(dialogs_tagged(db, tag)));
    }
    if let Some(assignee) = assignee {
        select = select.filter(inbox_dialogs::Column::AssigneeId.eq(assignee.as_uuid()));
    }
    if unassigned {
        select = select.filter(inbox_dialogs::Column::AssigneeId.is_null());
    }
    if let Some(after) = after {
        let cursor = db
            .find::<inbox_dialogs::Entity>()
            .filter(inbox_dialogs::Column::Id.eq(after.as_uuid()))
            .one(db.conn())
            .await
            .store()?
            .ok_or_else(|| StoreError::backend("a dialog cursor of no dialog"))?;
        // Newest first, ties broken by id: what comes after the cursor's (time, id).
        let older = match cursor.last_message_at {
            Some(at) => Condition::any()
                .add(inbox_dialogs::Column::LastMessageAt.lt(at))
                .add(inbox_dialogs::Column::LastMessageAt.is_null())
                .add(
                    Condition::all()
                        .add(inbox_dialogs::Column::LastMessageAt.eq(at))
                        .add(inbox_dialogs::Column::Id.lt(cursor.id)),
                ),
            None => Condition::all()
                .add(inbox_dialogs::Column::LastMessageAt.is_null())
                .add(inbox_dialogs::Column::Id.lt(cursor.id)),
        };
        select = select.filter(older);
    }
    Ok(select)
}

/// `page` (a [`dialogs_select`]), each dialog with its newest message. The page is a subquery with its own
/// order and limit, so only the page's dialogs are probed: over the whole table PostgreSQL's generic plan
/// probed every dialog of the workspace and sorted afterwards. PostgreSQL takes the message's whole row from
/// a lateral subquery; SQLite, which has no LATERAL, joins the message by the id the probe found.
pub(super) fn with_last_message(
    page: Select<inbox_dialogs::Entity>,
    backend: DatabaseBackend,
) -> SelectTwo<inbox_dialogs::Entity, inbox_messages::Entity> {
    let mut select = inbox_dialogs::Entity::find()
        .select_also(inbox_messages::Entity)
        .order_by_with_nulls(inbox_dialogs::Column::LastMessageAt, Order::Desc, NullOrdering::Last)
        .order_by_desc(inbox_dialogs::Column::Id);
    QueryTrait::query(&mut select)
        .from_clear()
        .from_subquery(page.into_query(), inbox_dialogs::Entity);
    if backend == DatabaseBackend::Postgres {
        QueryTrait::query(&mut select).join_lateral(
            JoinType::LeftJoin,
            newest_message(sea_orm::sea_query::ColumnRef::Asterisk(None)),
            inbox_messages::Entity,
            Expr::cust("TRUE"),
        );
    } else {
        use sea_orm::sea_query::ExprTrait as _;
        let probe = newest_message((NEWEST, inbox_messages::Column::Id).into_column_ref());
        QueryTrait::query(&mut select).join(
            JoinType::LeftJoin,
            inbox_messages::Entity,
            Expr::col((inbox_messages::Entity, inbox_messages::Column::Id))
                .eq(Expr::SubQuery(None, Box::new(probe.into()))),
        );
    }
    select
}

/// The statement reading the newest message of each of the workspace's `dialogs`.
///
/// Message ids are time-ordered (UUIDv7): a dialog's newest message is its greatest id. One statement
/// for the whole page, driven by the page's dialogs (found by primary key): per dialog one backward probe
/// of `inbox_messages_dialog_wall_idx (dialog_id, workspace_id, id)` that needs no sort, then the
/// message by primary key, so the page costs the same whatever the history. (An anti-join, or
/// `m.id IN (…)`, was planned from the workspace's messages and grew with them; `max(uuid)` is not
/// PostgreSQL's.) The workspace is named inside the probe on both backends, so the index serves both
/// conditions with or without row-level security; SQLite's `+d.workspace_id` keeps its planner on the
/// dialogs' primary key rather than on the workspace's every dialog.
pub(super) fn last_messages_sql(db: &Tenant<'_>, dialogs: &[DialogId]) -> Statement {
    let backend = db.conn().get_database_backend();
    let ids = dialogs.iter().map(|d| sea_orm::Value::from(d.as_uuid()));
    if backend == DatabaseBackend::Postgres {
        let list: Vec<String> = (0..dialogs.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT m.* FROM inbox_dialogs d CROSS JOIN LATERAL \
             (SELECT * FROM inbox_messages n WHERE n.dialog_id = d.id AND n.workspace_id = $1 \
             ORDER BY n.id DESC LIMIT 1) m WHERE d.workspace_id = $1 AND d.id IN ({})",
            list.join(", ")
        );
        let values: Vec<sea_orm::Value> = std::iter::once(db.id().into()).chain(ids).collect();
        Statement::from_sql_and_values(backend, sql, values)
    } else {
        let list = vec!["?"; dialogs.len()].join(", ");
        let sql = format!(
            "SELECT m.* FROM inbox_dialogs d JOIN inbox_messages m ON m.id = \
             (SELECT n.id FROM inbox_messages n WHERE n.dialog_id = d.id AND n.workspace_id = d.workspace_id \
             ORDER BY n.id DESC LIMIT 1) WHERE d.id IN ({list}) AND +d.workspace_id = ? AND m.workspace_id = ?"
        );
        let mut values: Vec<sea_orm::Value> = ids.collect();
        values.push(db.id().into());
        values.push(db.id().into());
        Statement::from_sql_and_values(backend, sql, values)
    }
}

/// Dialogs per statement on SQLite, whose compound selects hold at most 500 parts: a page of dialogs (at most
/// 100) is one statement.
const SQLITE_DIALOGS_PER_STATEMENT: usize = 100;

/// The statements reading the newest `limit` messages (before `before`, when given) of each of the
/// workspace's `dialogs`: one on PostgreSQL, one per [`SQLITE_DIALOGS_PER_STATEMENT`] dialogs on SQLite.
///
/// Per dialog one backward probe of `inbox_messages_dialog_wall_idx (dialog_id, workspace_id, id)` that
/// stops after `limit` rows, as [`last_messages_sql`] does for one: PostgreSQL joins the dialogs laterally,
/// SQLite (no `LATERAL`) unites one limited probe per dialog. A window function over the dialogs' messages
/// would read each dialog's whole history.
pub(super) fn messages_of_dialogs_sql(
    db: &Tenant<'_>,
    dialogs: &[DialogId],
    before: Option<MessageId>,
    limit: u64,
) -> Vec<Statement> {
    let backend = db.conn().get_database_backend();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    if backend == DatabaseBackend::Postgres {
        let mut values: Vec<sea_orm::Value> = vec![db.id().into(), limit.into()];
        let before_condition = match before {
            Some(before) => {
                values.push(before.as_uuid().into());
                format!("AND n.id < ${}", values.len())
            }
            None => String::new(),
        };
        let first = values.len() + 1;
        let list: Vec<String> = (0..dialogs.len()).map(|i| format!("${}", first + i)).collect();
        values.extend(dialogs.iter().map(|d| sea_orm::Value::from(d.as_uuid())));
        let sql = format!(
            "SELECT m.* FROM inbox_dialogs d CROSS JOIN LATERAL \
             (SELECT * FROM inbox_messages n WHERE n.dialog_id = d.id AND n.workspace_id = $1 {before_condition} \
             ORDER BY n.id DESC LIMIT $2) m WHERE d.workspace_id = $1 AND d.id IN ({})",
            list.join(", ")
        );
        return vec![Statement::from_sql_and_values(backend, sql, values)];
    }
    let before_condition = if before.is_some() { "AND id < ? " } else { "" };
    let part = format!(
        "SELECT * FROM (SELECT * FROM inbox_messages WHERE dialog_id = ? AND workspace_id = ? {before_condition}\
         ORDER BY id DESC LIMIT ?)"
    );
    dialogs
        .chunks(SQLITE_DIALOGS_PER_STATEMENT)
        .map(|chunk| {
            let sql = vec![part.as_str(); chunk.len()].join(" UNION ALL ");
            let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 4);
            for dialog in chunk {
                values.push(dialog.as_uuid().into());
                values.push(db.id().into());
                if let Some(before) = before {
                    values.push(before.as_uuid().into());
                }
                values.push(limit.into());
            }
            Statement::from_sql_and_values(backend, sql, values)
        })
        .collect()
}

/// The ids of the workspaces `user` is a member of, as a subquery.
pub(super) fn workspaces_of(user: tgos_domain::ids::UserId) -> SelectStatement {
    sea_orm::QuerySelect::query(
        &mut memberships::Entity::find()
            .select_only()
            .column(memberships::Column::WorkspaceId)
            .filter(memberships::Column::UserId.eq(user.as_uuid())),
    )
    .to_owned()
}
