//! The inbox on SeaORM. Every statement on a workspace's inbox runs inside [`Repo::in_workspace`]: behind the
//! workspace's wall, and filtered by it (but for a settled message looked up by its id, which the filtered
//! update before it just matched); finding a dialog among a user's workspaces runs behind the user's own wall.
//! A message reported twice is stored once: the insert yields to the unique `(workspace, account, sequence,
//! telegram id)` index; a tag added twice likewise, to the `(dialog, tag)` primary key ([`triage`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};
use tgos_domain::accounts::gateway::{Peer, PeerKey};
use tgos_domain::ids::{AccountId, DialogId, MessageId, UserId, WorkspaceId};
use tgos_domain::inbox::{DeliveryStatus, DialogQuery, DialogRecord, InboxRepository, MessageRecord, sequence_of};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::TenantScope;
use tgos_domain::tenancy::records::MemberView;

use crate::entities::{inbox_dialogs, inbox_messages, inbox_sync, memberships, users};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

mod lists;
mod rows;
mod triage;

use lists::{dialogs_select, last_messages_sql, messages_of_dialogs_sql, with_last_message, workspaces_of};
use rows::{advance_dialog, dialog, message, recount_unread, unread_after, upsert_sync_state};

#[async_trait]
impl<C: Conn> InboxRepository for Repo<C> {
    async fn upsert_dialog(
        &self,
        scope: &TenantScope,
        account: AccountId,
        peer: &Peer,
        now: DateTime<Utc>,
    ) -> StoreResult<DialogRecord> {
        let row = self
            .in_workspace(scope, async |db| {
                inbox_dialogs::Entity::insert(inbox_dialogs::ActiveModel {
                    id: Set(DialogId::generate().as_uuid()),
                    workspace_id: Set(db.id()),
                    account_id: Set(account.as_uuid()),
                    peer_key: Set(peer.key().get()),
                    title: Set(peer.title().to_owned()),
                    username: Set(peer.username().map(str::to_owned)),
                    unread_count: Set(0),
                    read_inbox_max_id: Set(0),
                    top_message_id: Set(0),
                    last_message_at: Set(None),
                    updated_at: Set(now),
                    assignee_id: Set(None),
                })
                .on_conflict(
                    OnConflict::columns([
                        inbox_dialogs::Column::WorkspaceId,
                        inbox_dialogs::Column::AccountId,
                        inbox_dialogs::Column::PeerKey,
                    ])
                    .update_columns([inbox_dialogs::Column::Title, inbox_dialogs::Column::Username])
                    .to_owned(),
                )
                .exec_without_returning(db.conn())
                .await
                .store()?;
                db.find::<inbox_dialogs::Entity>()
                    .filter(inbox_dialogs::Column::AccountId.eq(account.as_uuid()))
                    .filter(inbox_dialogs::Column::PeerKey.eq(peer.key().get()))
                    .one(db.conn())
                    .await
                    .store()?
                    .ok_or_else(|| StoreError::backend("a dialog vanished after its upsert"))
            })
            .await?;
        dialog(row)
    }

    async fn find_dialog_by_peer(
        &self,
        scope: &TenantScope,
        account: AccountId,
        peer: PeerKey,
    ) -> StoreResult<Option<DialogRecord>> {
        let row = self
            .in_workspace(scope, async |db| {
                db.find::<inbox_dialogs::Entity>()
                    .filter(inbox_dialogs::Column::AccountId.eq(account.as_uuid()))
                    .filter(inbox_dialogs::Column::PeerKey.eq(peer.get()))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        row.map(dialog).transpose()
    }

    async fn find_dialog(&self, scope: &TenantScope, id: DialogId) -> StoreResult<Option<DialogRecord>> {
        self.in_workspace(scope, async |db| triage::find_whole(db, id, false).await)
            .await
    }

    async fn find_dialogs(&self, scope: &TenantScope, ids: &[DialogId]) -> StoreResult<Vec<DialogRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .in_workspace(scope, async |db| {
                db.find::<inbox_dialogs::Entity>()
                    .filter(inbox_dialogs::Column::Id.is_in(ids.iter().map(|id| id.as_uuid())))
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(dialog).collect()
    }

    async fn lock_dialog(&self, scope: &TenantScope, id: DialogId) -> StoreResult<Option<DialogRecord>> {
        self.in_workspace(scope, async |db| triage::find_whole(db, id, true).await)
            .await
    }

    async fn tags_of(&self, scope: &TenantScope, dialogs: &[DialogId]) -> StoreResult<Vec<(DialogId, String)>> {
        if dialogs.is_empty() {
            return Ok(Vec::new());
        }
        self.in_workspace(scope, async |db| triage::tags_of(db, dialogs).await)
            .await
    }

    async fn add_tag(&self, scope: &TenantScope, dialog: DialogId, tag: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| triage::add_tag(db, dialog, tag, now).await)
            .await
    }

    async fn remove_tag(&self, scope: &TenantScope, dialog: DialogId, tag: &str) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| triage::remove_tag(db, dialog, tag).await)
            .await
    }

    async fn set_assignee(
        &self,
        scope: &TenantScope,
        dialog: DialogId,
        assignee: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.in_workspace(scope, async |db| triage::set_assignee(db, dialog, assignee, now).await)
            .await
    }

    async fn hold_membership(&self, scope: &TenantScope, user: UserId) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| triage::hold_membership(db, user).await)
            .await
    }

    async fn unassign_member(
        &self,
        scope: &TenantScope,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<DialogRecord>> {
        self.in_workspace(scope, async |db| triage::unassign_member(db, user, now).await)
            .await
    }

    async fn members_among(&self, scope: &TenantScope, users: &[UserId]) -> StoreResult<Vec<MemberView>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .in_workspace(scope, async |db| {
                db.find::<memberships::Entity>()
                    .find_also_related(users::Entity)
                    .filter(memberships::Column::UserId.is_in(users.iter().map(|user| user.as_uuid())))
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(crate::tenancy::member_view).collect()
    }

    async fn insert_message(&self, scope: &TenantScope, record: &MessageRecord) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            db.owns(record.workspace_id, "message")?;
            let history = serde_json::to_string(&record.edit_history).map_err(StoreError::backend)?;
            let mut row = inbox_messages::ActiveModel {
                id: Set(record.id.as_uuid()),
                workspace_id: Set(db.id()),
                account_id: Set(record.account_id.as_uuid()),
                dialog_id: Set(record.dialog_id.as_uuid()),
                peer_key: Set(record.peer.get()),
                sequence_key: Set(sequence_of(record.peer)),
                telegram_id: Set(record.telegram_id),
                direction: Set(record.direction.as_str().to_owned()),
                text: Set(record.text.clone()),
                sent_at: Set(record.sent_at),
                edited_at: Set(record.edited_at),
                reply_to: Set(record.reply_to),
                status: Set(record.status.as_str().to_owned()),
                failure: Set(record.failure.clone()),
                deleted_at: Set(record.deleted_at),
                edit_history: Set(history),
                ..Default::default()
            };
            rows::media_columns(record.media.as_ref(), &mut row);
            let inserted = inbox_messages::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([
                        inbox_messages::Column::WorkspaceId,
                        inbox_messages::Column::AccountId,
                        inbox_messages::Column::SequenceKey,
                        inbox_messages::Column::TelegramId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(db.conn())
                .await
                .store()?;
            if inserted == 1 {
                let current = db
                    .find::<inbox_dialogs::Entity>()
                    .filter(inbox_dialogs::Column::Id.eq(record.dialog_id.as_uuid()))
                    .one(db.conn())
                    .await
                    .store()?
                    .ok_or_else(|| StoreError::backend("a message of an unknown dialog"))?;
                let top = record.telegram_id.unwrap_or(0).max(current.top_message_id);
                let last = current
                    .last_message_at
                    .map_or(record.sent_at, |at| at.max(record.sent_at));
                let unread = unread_after(db, record.dialog_id, current.read_inbox_max_id).await?;
                db.update_many::<inbox_dialogs::Entity>()
                    .col_expr(inbox_dialogs::Column::TopMessageId, Expr::value(top))
                    .col_expr(inbox_dialogs::Column::LastMessageAt, Expr::value(last))
                    .col_expr(inbox_dialogs::Column::UnreadCount, Expr::value(unread))
                    .filter(inbox_dialogs::Column::Id.eq(record.dialog_id.as_uuid()))
                    .exec(db.conn())
                    .await
                    .store()?;
            }
            Ok(inserted == 1)
        })
        .await
    }

    async fn edit_message(
        &self,
        scope: &TenantScope,
        account: AccountId,
        sequence: i64,
        telegram_id: i32,
        text: &str,
        edited_at: DateTime<Utc>,
    ) -> StoreResult<Option<MessageRecord>> {
        let edited = self
            .in_workspace(scope, async |db| {
                let row = db
                    .find::<inbox_messages::Entity>()
                    .filter(inbox_messages::Column::AccountId.eq(account.as_uuid()))
                    .filter(inbox_messages::Column::SequenceKey.eq(sequence))
                    .filter(inbox_messages::Column::TelegramId.eq(telegram_id))
                    .one(db.conn())
                    .await
                    .store()?;
                let Some(row) = row.filter(|row| row.text != text) else {
                    return Ok(None);
                };
                let mut history: Vec<String> = serde_json::from_str(&row.edit_history)
                    .map_err(|_| StoreError::backend("a stored edit history does not parse"))?;
                history.push(row.text.clone());
                let stored_history = serde_json::to_string(&history).map_err(StoreError::backend)?;
                // Only over the text read, so two edits at once keep both previous texts.
                let result = db
                    .update_many::<inbox_messages::Entity>()
                    .col_expr(inbox_messages::Column::Text, Expr::value(text))
                    .col_expr(inbox_messages::Column::EditedAt, Expr::value(edited_at))
                    .col_expr(inbox_messages::Column::EditHistory, Expr::value(stored_history.clone()))
                    .filter(inbox_messages::Column::Id.eq(row.id))
                    .filter(inbox_messages::Column::Text.eq(row.text.clone()))
                    .exec(db.conn())
                    .await
                    .store()?;
                Ok((result.rows_affected == 1).then_some((row, stored_history)))
            })
            .await?;
        let Some((row, stored_history)) = edited else {
            return Ok(None);
        };
        message(inbox_messages::Model {
            text: text.to_owned(),
            edited_at: Some(edited_at),
            edit_history: stored_history,
            ..row
        })
        .map(Some)
    }

    async fn delete_messages(
        &self,
        scope: &TenantScope,
        account: AccountId,
        sequence: i64,
        telegram_ids: &[i32],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<(MessageId, DialogId)>> {
        if telegram_ids.is_empty() {
            return Ok(Vec::new());
        }
        let found = self
            .in_workspace(scope, async |db| {
                let found: Vec<(uuid::Uuid, uuid::Uuid)> = db
                    .find::<inbox_messages::Entity>()
                    .select_only()
                    .column(inbox_messages::Column::Id)
                    .column(inbox_messages::Column::DialogId)
                    .filter(inbox_messages::Column::AccountId.eq(account.as_uuid()))
                    .filter(inbox_messages::Column::SequenceKey.eq(sequence))
                    .filter(inbox_messages::Column::TelegramId.is_in(telegram_ids.iter().copied()))
                    .filter(inbox_messages::Column::DeletedAt.is_null())
                    .into_tuple()
                    .all(db.conn())
                    .await
                    .store()?;
                if found.is_empty() {
                    return Ok(found);
                }
                db.update_many::<inbox_messages::Entity>()
                    .col_expr(inbox_messages::Column::DeletedAt, Expr::value(at))
                    .filter(inbox_messages::Column::Id.is_in(found.iter().map(|(id, _)| *id)))
                    .filter(inbox_messages::Column::DeletedAt.is_null())
                    .exec(db.conn())
                    .await
                    .store()?;
                let mut dialogs: Vec<uuid::Uuid> = found.iter().map(|(_, dialog)| *dialog).collect();
                dialogs.sort_unstable();
                dialogs.dedup();
                for id in dialogs {
                    recount_unread(db, DialogId::from_uuid(id)).await?;
                }
                Ok(found)
            })
            .await?;
        Ok(found
            .into_iter()
            .map(|(id, dialog)| (MessageId::from_uuid(id), DialogId::from_uuid(dialog)))
            .collect())
    }

    async fn mark_read(
        &self,
        scope: &TenantScope,
        id: DialogId,
        max_id: i32,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DialogRecord>> {
        self.in_workspace(scope, async |db| {
            let current = db
                .find::<inbox_dialogs::Entity>()
                .filter(inbox_dialogs::Column::Id.eq(id.as_uuid()))
                .one(db.conn())
                .await
                .store()?;
            let Some(current) = current else {
                return Ok(None);
            };
            let read = current.read_inbox_max_id.max(max_id);
            let unread = unread_after(db, id, read).await?;
            if read == current.read_inbox_max_id && unread == current.unread_count {
                return Ok(None);
            }
            let changed = db
                .update_many::<inbox_dialogs::Entity>()
                .col_expr(inbox_dialogs::Column::ReadInboxMaxId, Expr::value(read))
                .col_expr(inbox_dialogs::Column::UnreadCount, Expr::value(unread))
                .col_expr(inbox_dialogs::Column::UpdatedAt, Expr::value(now))
                .filter(inbox_dialogs::Column::Id.eq(id.as_uuid()))
                // Never back: a watermark moved further meanwhile stays.
                .filter(inbox_dialogs::Column::ReadInboxMaxId.lte(read))
                .exec(db.conn())
                .await
                .store()?;
            if changed.rows_affected != 1 {
                return Ok(None);
            }
            let row = inbox_dialogs::Model {
                read_inbox_max_id: read,
                unread_count: unread,
                updated_at: now,
                ..current
            };
            // Whole, tags included: the record is the event's (`DialogRead`).
            triage::whole(db, row).await.map(Some)
        })
        .await
    }

    async fn dialogs(&self, scope: &TenantScope, query: &DialogQuery) -> StoreResult<Vec<DialogRecord>> {
        let rows = self
            .in_workspace(scope, async |db| {
                dialogs_select(db, query).await?.all(db.conn()).await.store()
            })
            .await?;
        rows.into_iter().map(dialog).collect()
    }

    async fn dialogs_with_last_message(
        &self,
        scope: &TenantScope,
        query: &DialogQuery,
    ) -> StoreResult<Vec<(DialogRecord, Option<MessageRecord>)>> {
        let rows = self
            .in_workspace(scope, async |db| {
                let page = dialogs_select(db, query).await?;
                let select = with_last_message(page, db.conn().get_database_backend());
                select.all(db.conn()).await.store()
            })
            .await?;
        rows.into_iter()
            .map(|(row, newest)| Ok((dialog(row)?, newest.map(message).transpose()?)))
            .collect()
    }

    async fn messages(
        &self,
        scope: &TenantScope,
        dialog_id: DialogId,
        before: Option<MessageId>,
        limit: u64,
    ) -> StoreResult<Vec<MessageRecord>> {
        let rows = self
            .in_workspace(scope, async |db| {
                let mut query = db
                    .find::<inbox_messages::Entity>()
                    .filter(inbox_messages::Column::DialogId.eq(dialog_id.as_uuid()))
                    .order_by_desc(inbox_messages::Column::Id)
                    .limit(limit);
                if let Some(before) = before {
                    query = query.filter(inbox_messages::Column::Id.lt(before.as_uuid()));
                }
                query.all(db.conn()).await.store()
            })
            .await?;
        rows.into_iter().map(message).collect()
    }

    async fn messages_of_dialogs(
        &self,
        scope: &TenantScope,
        dialogs: &[DialogId],
        before: Option<MessageId>,
        limit: u64,
    ) -> StoreResult<Vec<MessageRecord>> {
        if dialogs.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let rows = self
            .in_workspace(scope, async |db| {
                let mut rows = Vec::new();
                for statement in messages_of_dialogs_sql(db, dialogs, before, limit) {
                    rows.extend(
                        inbox_messages::Entity::find()
                            .from_raw_sql(statement)
                            .all(db.conn())
                            .await
                            .store()?,
                    );
                }
                Ok(rows)
            })
            .await?;
        rows.into_iter().map(message).collect()
    }

    async fn find_message(&self, scope: &TenantScope, id: MessageId) -> StoreResult<Option<MessageRecord>> {
        let row = self
            .in_workspace(scope, async |db| {
                db.find::<inbox_messages::Entity>()
                    .filter(inbox_messages::Column::Id.eq(id.as_uuid()))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        row.map(message).transpose()
    }

    async fn last_messages(&self, scope: &TenantScope, dialogs: &[DialogId]) -> StoreResult<Vec<MessageRecord>> {
        if dialogs.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .in_workspace(scope, async |db| {
                inbox_messages::Entity::find()
                    .from_raw_sql(last_messages_sql(db, dialogs))
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(message).collect()
    }

    async fn settle_message(
        &self,
        scope: &TenantScope,
        id: MessageId,
        telegram_id: Option<i32>,
        status: DeliveryStatus,
        failure: Option<&str>,
        sent_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = db
                .update_many::<inbox_messages::Entity>()
                .col_expr(inbox_messages::Column::TelegramId, Expr::value(telegram_id))
                .col_expr(inbox_messages::Column::Status, Expr::value(status.as_str()))
                .col_expr(inbox_messages::Column::Failure, Expr::value(failure.map(str::to_owned)))
                .col_expr(inbox_messages::Column::SentAt, Expr::value(sent_at))
                .filter(inbox_messages::Column::Id.eq(id.as_uuid()))
                .filter(inbox_messages::Column::Status.eq(DeliveryStatus::Pending.as_str()))
                .exec(db.conn())
                .await
                .store()?;
            if let (1, Some(telegram_id)) = (result.rows_affected, telegram_id) {
                advance_dialog(db, id, telegram_id, sent_at).await?;
            }
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn message_workspace_of_member(&self, user: UserId, id: MessageId) -> StoreResult<Option<WorkspaceId>> {
        let row = self
            .behind(Wall::User(user), async |db| {
                let memberships = workspaces_of(user);
                inbox_messages::Entity::find_by_id(id.as_uuid())
                    .select_only()
                    .column(inbox_messages::Column::WorkspaceId)
                    .filter(inbox_messages::Column::WorkspaceId.in_subquery(memberships))
                    .into_tuple::<uuid::Uuid>()
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        Ok(row.map(WorkspaceId::from_uuid))
    }

    async fn dialog_workspace_of_member(&self, user: UserId, id: DialogId) -> StoreResult<Option<WorkspaceId>> {
        let row = self
            .behind(Wall::User(user), async |db| {
                let memberships = workspaces_of(user);
                inbox_dialogs::Entity::find_by_id(id.as_uuid())
                    .filter(inbox_dialogs::Column::WorkspaceId.in_subquery(memberships))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        Ok(row.map(|row| WorkspaceId::from_uuid(row.workspace_id)))
    }

    async fn sync_state(&self, scope: &TenantScope, account: AccountId) -> StoreResult<Option<u64>> {
        let row = self
            .in_workspace(scope, async |db| {
                db.find::<inbox_sync::Entity>()
                    .filter(inbox_sync::Column::AccountId.eq(account.as_uuid()))
                    .one(db.conn())
                    .await
                    .store()
            })
            .await?;
        row.map(|row| u64::try_from(row.update_state).map_err(|_| StoreError::backend("a negative update state")))
            .transpose()
    }

    async fn save_sync_state(
        &self,
        scope: &TenantScope,
        account: AccountId,
        state: u64,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let state = i64::try_from(state).map_err(|_| StoreError::backend("an update state beyond i64"))?;
        self.in_workspace(scope, async |db| upsert_sync_state(db, account, state, now).await)
            .await
    }
}
