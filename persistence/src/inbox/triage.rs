//! Dialog tags and assignees as statements, each inside the caller's [`Tenant`] (behind the workspace's wall,
//! filtered by it).
//!
//! Rule: every read goes through an index that names the dialog or the workspace: a dialog's tags by the
//! primary key `(dialog_id, tag)`, the dialogs of a tag by `inbox_dialog_tags_tag_idx (workspace_id, tag,
//! dialog_id)`, the dialogs of an assignee (or of nobody) by `inbox_dialogs_assignee_idx (workspace_id,
//! assignee_id, last_message_at, id)`. The tags of many dialogs are one statement.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, LockType, OnConflict, Query, SelectStatement};
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QuerySelect as _};
use tgos_domain::ids::{DialogId, UserId};
use tgos_domain::inbox::DialogRecord;
use tgos_domain::store::StoreResult;
use uuid::Uuid;

use super::rows::dialog;
use crate::entities::{inbox_dialog_tags, inbox_dialogs, memberships};
use crate::errors::DbResultExt as _;
use crate::tenant::Tenant;

/// Dialogs per statement when reading tags by dialog: well inside SQLite's bound on a statement's values.
const DIALOGS_PER_STATEMENT: usize = 500;

/// The tags of the workspace's `dialogs` as (dialog, tag) pairs, in dialog then tag order (by bytes): one
/// statement per [`DIALOGS_PER_STATEMENT`] dialogs (one for a page).
pub(super) async fn tags_of(db: &Tenant<'_>, dialogs: &[DialogId]) -> StoreResult<Vec<(DialogId, String)>> {
    let mut pairs = Vec::new();
    for chunk in dialogs.chunks(DIALOGS_PER_STATEMENT) {
        let rows: Vec<(Uuid, String)> = db
            .find::<inbox_dialog_tags::Entity>()
            .select_only()
            .column(inbox_dialog_tags::Column::DialogId)
            .column(inbox_dialog_tags::Column::Tag)
            .filter(inbox_dialog_tags::Column::DialogId.is_in(chunk.iter().map(|id| id.as_uuid())))
            .into_tuple()
            .all(db.conn())
            .await
            .store()?;
        pairs.extend(rows.into_iter().map(|(id, tag)| (DialogId::from_uuid(id), tag)));
    }
    // Sorted here, not by the database, whose collation may order punctuation its own way.
    pairs.sort_unstable();
    Ok(pairs)
}

/// The dialog of `row` with its tags (one indexed read).
pub(super) async fn whole(db: &Tenant<'_>, row: inbox_dialogs::Model) -> StoreResult<DialogRecord> {
    let mut record = dialog(row)?;
    record.tags = tags_of(db, &[record.id])
        .await?
        .into_iter()
        .map(|(_, tag)| tag)
        .collect();
    Ok(record)
}

/// The workspace's dialog with its tags, its row locked until the transaction ends when `lock` says so.
pub(super) async fn find_whole(db: &Tenant<'_>, id: DialogId, lock: bool) -> StoreResult<Option<DialogRecord>> {
    let mut select = db
        .find::<inbox_dialogs::Entity>()
        .filter(inbox_dialogs::Column::Id.eq(id.as_uuid()));
    if lock {
        select = select.lock(LockType::NoKeyUpdate);
    }
    match select.one(db.conn()).await.store()? {
        Some(row) => whole(db, row).await.map(Some),
        None => Ok(None),
    }
}

/// The ids of the workspace's dialogs holding `tag`, as a subquery: a range of `inbox_dialog_tags_tag_idx`.
pub(super) fn dialogs_tagged(db: &Tenant<'_>, tag: &str) -> SelectStatement {
    Query::select()
        .column((inbox_dialog_tags::Entity, inbox_dialog_tags::Column::DialogId))
        .from(inbox_dialog_tags::Entity)
        .and_where(Expr::col((inbox_dialog_tags::Entity, inbox_dialog_tags::Column::WorkspaceId)).eq(db.id()))
        .and_where(Expr::col((inbox_dialog_tags::Entity, inbox_dialog_tags::Column::Tag)).eq(tag))
        .to_owned()
}

/// Adds the tag to the workspace's dialog; `false` when held already (the primary key yields).
pub(super) async fn add_tag(db: &Tenant<'_>, id: DialogId, tag: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    let inserted = inbox_dialog_tags::Entity::insert(inbox_dialog_tags::ActiveModel {
        workspace_id: Set(db.id()),
        dialog_id: Set(id.as_uuid()),
        tag: Set(tag.to_owned()),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([inbox_dialog_tags::Column::DialogId, inbox_dialog_tags::Column::Tag])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db.conn())
    .await
    .store()?;
    Ok(inserted == 1)
}

/// Takes the tag off the workspace's dialog; `false` when it did not hold it.
pub(super) async fn remove_tag(db: &Tenant<'_>, id: DialogId, tag: &str) -> StoreResult<bool> {
    let removed = db
        .delete_many::<inbox_dialog_tags::Entity>()
        .filter(inbox_dialog_tags::Column::DialogId.eq(id.as_uuid()))
        .filter(inbox_dialog_tags::Column::Tag.eq(tag))
        .exec(db.conn())
        .await
        .store()?;
    Ok(removed.rows_affected == 1)
}

/// Assigns the workspace's dialog to `assignee` (or nobody).
pub(super) async fn set_assignee(
    db: &Tenant<'_>,
    id: DialogId,
    assignee: Option<UserId>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    db.update_many::<inbox_dialogs::Entity>()
        .col_expr(
            inbox_dialogs::Column::AssigneeId,
            Expr::value(assignee.map(|user| user.as_uuid())),
        )
        .col_expr(inbox_dialogs::Column::UpdatedAt, Expr::value(now))
        .filter(inbox_dialogs::Column::Id.eq(id.as_uuid()))
        .exec(db.conn())
        .await
        .store()?;
    Ok(())
}

/// Whether `user` is a member of the workspace, their membership row held (`FOR KEY SHARE`, which a
/// deletion of the row waits for) until the transaction ends.
pub(super) async fn hold_membership(db: &Tenant<'_>, user: UserId) -> StoreResult<bool> {
    let row = db
        .find::<memberships::Entity>()
        .filter(memberships::Column::UserId.eq(user.as_uuid()))
        .lock(LockType::KeyShare)
        .one(db.conn())
        .await
        .store()?;
    Ok(row.is_some())
}

/// Assigns the workspace's dialogs of `user` to nobody; those dialogs as they are now, with their tags.
pub(super) async fn unassign_member(
    db: &Tenant<'_>,
    user: UserId,
    now: DateTime<Utc>,
) -> StoreResult<Vec<DialogRecord>> {
    let rows = db
        .find::<inbox_dialogs::Entity>()
        .filter(inbox_dialogs::Column::AssigneeId.eq(user.as_uuid()))
        .lock(LockType::NoKeyUpdate)
        .all(db.conn())
        .await
        .store()?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    db.update_many::<inbox_dialogs::Entity>()
        .col_expr(inbox_dialogs::Column::AssigneeId, Expr::value(Option::<Uuid>::None))
        .col_expr(inbox_dialogs::Column::UpdatedAt, Expr::value(now))
        .filter(inbox_dialogs::Column::AssigneeId.eq(user.as_uuid()))
        .exec(db.conn())
        .await
        .store()?;
    let mut dialogs = rows
        .into_iter()
        .map(|row| {
            dialog(inbox_dialogs::Model {
                assignee_id: None,
                updated_at: now,
                ..row
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let ids: Vec<DialogId> = dialogs.iter().map(|d| d.id).collect();
    let mut tags: HashMap<DialogId, Vec<String>> = HashMap::new();
    for (id, tag) in tags_of(db, &ids).await? {
        tags.entry(id).or_default().push(tag);
    }
    for dialog in &mut dialogs {
        dialog.tags = tags.remove(&dialog.id).unwrap_or_default();
    }
    Ok(dialogs)
}
