//! Inbox rows to domain records (a message's media from its `media_*` columns and back), the unread count recomputed from stored messages, and a dialog's top message
//! moved forward by a newer one.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
use tgos_domain::accounts::gateway::{MediaInfo, MediaKind, PeerKey};
use tgos_domain::ids::{AccountId, DialogId, MessageId, UserId, WorkspaceId};
use tgos_domain::inbox::{DeliveryStatus, DialogRecord, Direction, MessageRecord};
use tgos_domain::store::{StoreError, StoreResult};

use crate::entities::{inbox_dialogs, inbox_messages, inbox_sync};
use crate::errors::DbResultExt as _;
use crate::tenant::Tenant;

pub(super) fn peer_key(value: i64) -> StoreResult<PeerKey> {
    PeerKey::from_marked(value).map_err(|_| StoreError::backend("a stored peer key is not a peer"))
}

/// The dialog of `row`, its tags not read (empty).
pub(super) fn dialog(row: inbox_dialogs::Model) -> StoreResult<DialogRecord> {
    Ok(DialogRecord {
        id: DialogId::from_uuid(row.id),
        workspace_id: WorkspaceId::from_uuid(row.workspace_id),
        account_id: AccountId::from_uuid(row.account_id),
        peer: peer_key(row.peer_key)?,
        title: row.title,
        username: row.username,
        unread_count: row.unread_count,
        read_inbox_max_id: row.read_inbox_max_id,
        top_message_id: row.top_message_id,
        last_message_at: row.last_message_at,
        updated_at: row.updated_at,
        tags: Vec::new(),
        assignee_id: row.assignee_id.map(UserId::from_uuid),
    })
}

pub(super) fn message(row: inbox_messages::Model) -> StoreResult<MessageRecord> {
    let media = media_of(&row)?;
    Ok(MessageRecord {
        id: MessageId::from_uuid(row.id),
        workspace_id: WorkspaceId::from_uuid(row.workspace_id),
        account_id: AccountId::from_uuid(row.account_id),
        dialog_id: DialogId::from_uuid(row.dialog_id),
        peer: peer_key(row.peer_key)?,
        telegram_id: row.telegram_id,
        direction: Direction::parse(&row.direction).ok_or_else(|| StoreError::backend("unknown direction"))?,
        text: row.text,
        sent_at: row.sent_at,
        edited_at: row.edited_at,
        reply_to: row.reply_to,
        status: DeliveryStatus::parse(&row.status).ok_or_else(|| StoreError::backend("unknown delivery status"))?,
        failure: row.failure,
        deleted_at: row.deleted_at,
        edit_history: serde_json::from_str(&row.edit_history)
            .map_err(|_| StoreError::backend("a stored edit history does not parse"))?,
        media,
    })
}

/// The media a stored message describes: none when `media_kind` is null.
fn media_of(row: &inbox_messages::Model) -> StoreResult<Option<MediaInfo>> {
    let Some(kind) = row.media_kind.as_deref() else {
        return Ok(None);
    };
    let kind = MediaKind::parse(kind).ok_or_else(|| StoreError::backend("unknown media kind"))?;
    let unsigned = |value: Option<i32>| value.and_then(|v| u32::try_from(v).ok());
    Ok(Some(MediaInfo {
        kind: Some(kind),
        file_name: row.media_file_name.clone(),
        size_bytes: row.media_size_bytes.and_then(|v| u64::try_from(v).ok()),
        mime_type: row.media_mime_type.clone(),
        width: unsigned(row.media_width),
        height: unsigned(row.media_height),
        duration_secs: unsigned(row.media_duration_secs),
    }))
}

/// The media columns of a message to insert: all null without media; a description of no kind is stored as
/// a document (what Telegram calls any other file).
pub(super) fn media_columns(media: Option<&MediaInfo>, row: &mut inbox_messages::ActiveModel) {
    let signed = |value: Option<u32>| value.and_then(|v| i32::try_from(v).ok());
    row.media_kind = Set(media.map(|m| m.kind.unwrap_or(MediaKind::Document).as_str().to_owned()));
    row.media_file_name = Set(media.and_then(|m| m.file_name.clone()));
    row.media_size_bytes = Set(media.and_then(|m| m.size_bytes).and_then(|v| i64::try_from(v).ok()));
    row.media_mime_type = Set(media.and_then(|m| m.mime_type.clone()));
    row.media_width = Set(signed(media.and_then(|m| m.width)));
    row.media_height = Set(signed(media.and_then(|m| m.height)));
    row.media_duration_secs = Set(signed(media.and_then(|m| m.duration_secs)));
}

/// How many incoming, undeleted messages of the workspace's dialog are newer than `read_max`.
pub(super) async fn unread_after(db: &Tenant<'_>, dialog: DialogId, read_max: i32) -> StoreResult<i32> {
    let count = db
        .find::<inbox_messages::Entity>()
        .filter(inbox_messages::Column::DialogId.eq(dialog.as_uuid()))
        .filter(inbox_messages::Column::Direction.eq(Direction::Incoming.as_str()))
        .filter(inbox_messages::Column::DeletedAt.is_null())
        .filter(inbox_messages::Column::TelegramId.gt(read_max))
        .count(db.conn())
        .await
        .store()?;
    Ok(i32::try_from(count).unwrap_or(i32::MAX))
}

/// Recounts the unread messages of the workspace's dialog (after some of its messages were deleted).
pub(super) async fn recount_unread(db: &Tenant<'_>, id: DialogId) -> StoreResult<()> {
    let read = db
        .find::<inbox_dialogs::Entity>()
        .filter(inbox_dialogs::Column::Id.eq(id.as_uuid()))
        .one(db.conn())
        .await
        .store()?
        .map_or(0, |d| d.read_inbox_max_id);
    let unread = unread_after(db, id, read).await?;
    db.update_many::<inbox_dialogs::Entity>()
        .col_expr(inbox_dialogs::Column::UnreadCount, Expr::value(unread))
        .filter(inbox_dialogs::Column::Id.eq(id.as_uuid()))
        .exec(db.conn())
        .await
        .store()?;
    Ok(())
}

/// Moves the top message and last message time of the dialog of the workspace's message `id`, just sent.
pub(super) async fn advance_dialog(
    db: &Tenant<'_>,
    id: MessageId,
    telegram_id: i32,
    sent_at: DateTime<Utc>,
) -> StoreResult<()> {
    let dialog_id = inbox_messages::Entity::find_by_id(id.as_uuid())
        .one(db.conn())
        .await
        .store()?
        .map(|m| m.dialog_id);
    let Some(dialog_id) = dialog_id else {
        return Ok(());
    };
    let current = db
        .find::<inbox_dialogs::Entity>()
        .filter(inbox_dialogs::Column::Id.eq(dialog_id))
        .one(db.conn())
        .await
        .store()?;
    let Some(current) = current else {
        return Ok(());
    };
    let last = current.last_message_at.map_or(sent_at, |at| at.max(sent_at));
    db.update_many::<inbox_dialogs::Entity>()
        .col_expr(
            inbox_dialogs::Column::TopMessageId,
            Expr::value(current.top_message_id.max(telegram_id)),
        )
        .col_expr(inbox_dialogs::Column::LastMessageAt, Expr::value(last))
        .filter(inbox_dialogs::Column::Id.eq(dialog_id))
        .exec(db.conn())
        .await
        .store()?;
    Ok(())
}

/// Stores where the account's sync stands in the scope's workspace (one row per account, replaced).
pub(super) async fn upsert_sync_state(
    db: &Tenant<'_>,
    account: AccountId,
    state: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    inbox_sync::Entity::insert(inbox_sync::ActiveModel {
        workspace_id: Set(db.id()),
        account_id: Set(account.as_uuid()),
        update_state: Set(state),
        updated_at: Set(now),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::columns([inbox_sync::Column::WorkspaceId, inbox_sync::Column::AccountId])
            .update_columns([inbox_sync::Column::UpdateState, inbox_sync::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(db.conn())
    .await
    .store()?;
    Ok(())
}
