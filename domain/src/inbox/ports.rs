//! What the inbox needs from storage. Every method is bound to a workspace scope.
//!
//! Rules for implementations: `(workspace, account, peer)` is unique for dialogs and `(workspace, account,
//! sequence, telegram id)` for messages, so a message reported twice is stored once (`insert_message` answers
//! `false` the second time) whatever the interleaving of writers. `(dialog, tag)` is unique for tags, so adding
//! a tag twice stores it once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::page::DialogQuery;
use super::records::{DialogRecord, MessageRecord};
use crate::accounts::gateway::{Peer, PeerKey};
use crate::ids::{AccountId, DialogId, MessageId, UserId};
use crate::store::StoreResult;
use crate::tenancy::TenantScope;
use crate::tenancy::records::MemberView;

#[async_trait]
pub trait InboxRepository: Send + Sync {
    /// The dialog of `peer`, created if new; a known peer's title and username are refreshed.
    async fn upsert_dialog(
        &self,
        scope: &TenantScope,
        account: AccountId,
        peer: &Peer,
        now: DateTime<Utc>,
    ) -> StoreResult<DialogRecord>;
    /// The dialog of `peer`, if known.
    async fn find_dialog_by_peer(
        &self,
        scope: &TenantScope,
        account: AccountId,
        peer: PeerKey,
    ) -> StoreResult<Option<DialogRecord>>;
    /// The whole dialog: its row and its tags.
    async fn find_dialog(&self, scope: &TenantScope, id: DialogId) -> StoreResult<Option<DialogRecord>>;
    /// Those of the dialogs that are the workspace's, in one statement (the dialogs a page's messages name),
    /// without their tags ([`Self::tags_of`] reads those).
    async fn find_dialogs(&self, scope: &TenantScope, ids: &[DialogId]) -> StoreResult<Vec<DialogRecord>>;
    /// [`Self::find_dialog`], the dialog's row locked until the transaction ends (PostgreSQL: `FOR NO KEY
    /// UPDATE`; SQLite's writers run one at a time), so changes of one dialog's tags and assignee queue.
    async fn lock_dialog(&self, scope: &TenantScope, id: DialogId) -> StoreResult<Option<DialogRecord>>;
    /// The tags of those of `dialogs` that are the workspace's, in one statement, as (dialog, tag) pairs in
    /// dialog then tag order.
    async fn tags_of(&self, scope: &TenantScope, dialogs: &[DialogId]) -> StoreResult<Vec<(DialogId, String)>>;
    /// Tags the workspace's dialog; `false` when it held the tag already.
    async fn add_tag(&self, scope: &TenantScope, dialog: DialogId, tag: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Takes the tag off the workspace's dialog; `false` when it did not hold it.
    async fn remove_tag(&self, scope: &TenantScope, dialog: DialogId, tag: &str) -> StoreResult<bool>;
    /// Assigns the workspace's dialog to `assignee` (`None`: to nobody).
    async fn set_assignee(
        &self,
        scope: &TenantScope,
        dialog: DialogId,
        assignee: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Whether `user` is a member of the workspace, holding their membership row until the transaction ends
    /// (PostgreSQL: `FOR KEY SHARE`), so removing them waits for an assignment being made and then finds it.
    async fn hold_membership(&self, scope: &TenantScope, user: UserId) -> StoreResult<bool>;
    /// Assigns every dialog of the workspace assigned to `user` to nobody; those dialogs as they are now, whole.
    async fn unassign_member(
        &self,
        scope: &TenantScope,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<DialogRecord>>;
    /// The members of the workspace among `users`, in one statement (the assignees a page shows).
    async fn members_among(&self, scope: &TenantScope, users: &[UserId]) -> StoreResult<Vec<MemberView>>;
    /// Stores the message unless its `(sequence, telegram id)` is already stored; `true` when stored now. The
    /// dialog's top message, last message time and unread count follow.
    async fn insert_message(&self, scope: &TenantScope, message: &MessageRecord) -> StoreResult<bool>;
    /// Replaces the text of a stored message, keeping the old one in its history; the message as it is now,
    /// or `None` when unknown or the text is unchanged.
    async fn edit_message(
        &self,
        scope: &TenantScope,
        account: AccountId,
        sequence: i64,
        telegram_id: i32,
        text: &str,
        edited_at: DateTime<Utc>,
    ) -> StoreResult<Option<MessageRecord>>;
    /// Marks the stored messages of the sequence deleted; the messages deleted now, with their dialogs.
    async fn delete_messages(
        &self,
        scope: &TenantScope,
        account: AccountId,
        sequence: i64,
        telegram_ids: &[i32],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<(MessageId, DialogId)>>;
    /// Moves the dialog's read watermark forward (never back) and recounts its unread messages; the whole dialog
    /// as it is now when either changed.
    async fn mark_read(
        &self,
        scope: &TenantScope,
        dialog: DialogId,
        max_id: i32,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DialogRecord>>;
    /// The workspace's dialogs `query` names, newest message first (at most `query.limit`).
    async fn dialogs(&self, scope: &TenantScope, query: &DialogQuery) -> StoreResult<Vec<DialogRecord>>;
    /// [`Self::dialogs`], each with its newest message as [`Self::last_messages`] finds it, in one statement.
    async fn dialogs_with_last_message(
        &self,
        scope: &TenantScope,
        query: &DialogQuery,
    ) -> StoreResult<Vec<(DialogRecord, Option<MessageRecord>)>>;
    /// A dialog's messages, newest first, before the message `before` (deleted ones included, marked).
    async fn messages(
        &self,
        scope: &TenantScope,
        dialog: DialogId,
        before: Option<MessageId>,
        limit: u64,
    ) -> StoreResult<Vec<MessageRecord>>;
    /// The newest `limit` messages of each of the workspace's `dialogs` (before the message `before`, when
    /// given), newest first within each dialog, in one statement (for a page of dialogs showing messages).
    async fn messages_of_dialogs(
        &self,
        scope: &TenantScope,
        dialogs: &[DialogId],
        before: Option<MessageId>,
        limit: u64,
    ) -> StoreResult<Vec<MessageRecord>>;
    async fn find_message(&self, scope: &TenantScope, id: MessageId) -> StoreResult<Option<MessageRecord>>;
    /// The newest message of each of the dialogs, in one statement (for a page of dialogs).
    async fn last_messages(&self, scope: &TenantScope, dialogs: &[DialogId]) -> StoreResult<Vec<MessageRecord>>;
    /// Records what Telegram answered for an outgoing message: its id and time once sent, or the reason it
    /// failed. Only a PENDING message changes.
    async fn settle_message(
        &self,
        scope: &TenantScope,
        id: MessageId,
        telegram_id: Option<i32>,
        status: super::records::DeliveryStatus,
        failure: Option<&str>,
        sent_at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The workspace of a message named by id, if `user` is a member of it.
    async fn message_workspace_of_member(
        &self,
        user: crate::ids::UserId,
        id: MessageId,
    ) -> StoreResult<Option<crate::ids::WorkspaceId>>;
    /// The workspace of a dialog named by id, if `user` is a member of it.
    async fn dialog_workspace_of_member(
        &self,
        user: crate::ids::UserId,
        id: DialogId,
    ) -> StoreResult<Option<crate::ids::WorkspaceId>>;
    /// Up to where the account's updates were applied for this workspace.
    async fn sync_state(&self, scope: &TenantScope, account: AccountId) -> StoreResult<Option<u64>>;
    async fn save_sync_state(
        &self,
        scope: &TenantScope,
        account: AccountId,
        state: u64,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}
