//! GraphQL views of dialogs and messages. Every field resolves through the inbox use cases under the
//! workspace's scope, nested ones batched per operation (`graphql::loaders`).

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tgos_domain::accounts::gateway::PeerKind as DomainPeerKind;
use tgos_domain::accounts::pool::AccountRecord;
use tgos_domain::inbox::{
    DeliveryStatus as DomainDeliveryStatus, DialogRecord, Direction as DomainDirection, MessageRecord,
};
use tgos_domain::tenancy::TenantScope;

use super::media::MessageMedia;
use crate::graphql::accounts::types::TelegramAccount;
use crate::graphql::errors::ApiResult;
use crate::graphql::loaders::{AssigneeOf, DialogOf, HeldAccount, LastMessageOf, MessagesOf, TagsOf, load};
use crate::graphql::paging::{connection, page_request};
use crate::graphql::tenancy::members::MemberUser;

/// What kind of conversation a peer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PeerKind {
    User,
    Group,
    Channel,
}

/// The other side of a dialog.
#[derive(Debug, SimpleObject)]
pub struct Peer {
    /// Telegram's marked peer id: users positive, basic groups negative, channels -100….
    pub id: ID,
    pub kind: PeerKind,
    pub title: String,
    pub username: Option<String>,
}

/// One conversation of a rented account. A page of dialogs loads its accounts and last messages in one read
/// each and hands them in (`Prefetched`); a single dialog resolves them through the operation's loaders
/// (`graphql::loaders`), as do the fields below (an account's health, a message's dialog), so a page costs the
/// same few statements however long it is.
#[derive(Debug)]
pub struct Dialog {
    pub record: DialogRecord,
    pub scope: TenantScope,
    pub prefetched: Option<Prefetched>,
}

/// What a page of dialogs loaded for each of them; a `None` field was not loaded and answers for itself.
#[derive(Debug, Default)]
pub struct Prefetched {
    /// `None` when not loaded (not selected, or the caller may not read accounts).
    pub account: Option<Option<AccountRecord>>,
    /// `None` when not loaded; `Some(None)` for a dialog with no message.
    pub last_message: Option<Option<MessageRecord>>,
    /// Whether the record's `tags` were read with it (else they come through the loaders).
    pub tags: bool,
}

impl Dialog {
    /// A dialog read bare (a message's dialog): its tags, like the rest, come through the loaders.
    pub fn single(record: DialogRecord, scope: TenantScope) -> Self {
        Self {
            record,
            scope,
            prefetched: None,
        }
    }

    /// A dialog read whole (a change's answer, an event's dialog): it answers its tags itself.
    pub fn whole(record: DialogRecord, scope: TenantScope) -> Self {
        Self {
            record,
            scope,
            prefetched: Some(Prefetched {
                tags: true,
                ..Prefetched::default()
            }),
        }
    }
}

pub type DialogConnection = Connection<String, Dialog>;
pub type MessageConnection = Connection<String, Message>;

#[Object]
impl Dialog {
    async fn id(&self) -> ID {
        ID(self.record.id.to_string())
    }

    /// The account, while the workspace still holds it.
    async fn account(&self, ctx: &Context<'_>) -> ApiResult<Option<TelegramAccount>> {
        if let Some(Some(account)) = self.prefetched.as_ref().map(|p| p.account.clone()) {
            return Ok(account.map(|record| TelegramAccount {
                record,
                scope: self.scope.clone(),
            }));
        }
        let account = load(ctx, HeldAccount(self.scope.clone(), self.record.account_id)).await?;
        Ok(account.map(|record| TelegramAccount {
            record,
            scope: self.scope.clone(),
        }))
    }

    async fn peer(&self) -> Peer {
        Peer {
            id: ID(self.record.peer.get().to_string()),
            kind: match self.record.peer.kind() {
                DomainPeerKind::User => PeerKind::User,
                DomainPeerKind::Group => PeerKind::Group,
                DomainPeerKind::Channel => PeerKind::Channel,
            },
            title: self.record.title.clone(),
            username: self.record.username.clone(),
        }
    }

    async fn unread_count(&self) -> i32 {
        self.record.unread_count
    }

    /// The newest incoming message the account has read (Telegram's id).
    async fn read_inbox_max_id(&self) -> i32 {
        self.record.read_inbox_max_id
    }

    async fn last_message_at(&self) -> Option<DateTime<Utc>> {
        self.record.last_message_at
    }

    /// The workspace's tags on the dialog (trimmed, lower-cased), in order.
    async fn tags(&self, ctx: &Context<'_>) -> ApiResult<Vec<String>> {
        if self.prefetched.as_ref().is_some_and(|p| p.tags) {
            return Ok(self.record.tags.clone());
        }
        Ok(load(ctx, TagsOf(self.scope.clone(), self.record.id))
            .await?
            .unwrap_or_default())
    }

    /// The member the dialog is assigned to (the public part of their account), or none.
    async fn assignee(&self, ctx: &Context<'_>) -> ApiResult<Option<MemberUser>> {
        let Some(user) = self.record.assignee_id else {
            return Ok(None);
        };
        let member = load(ctx, AssigneeOf(self.scope.clone(), user)).await?;
        Ok(member.map(MemberUser::from))
    }

    async fn last_message(&self, ctx: &Context<'_>) -> ApiResult<Option<Message>> {
        if let Some(Some(newest)) = self.prefetched.as_ref().map(|p| p.last_message.clone()) {
            return Ok(newest.map(|record| Message {
                record,
                scope: self.scope.clone(),
            }));
        }
        let newest = load(ctx, LastMessageOf(self.scope.clone(), self.record.id)).await?;
        Ok(newest.map(|record| Message {
            record,
            scope: self.scope.clone(),
        }))
    }

    /// Newest first.
    #[graphql(complexity = "crate::graphql::paging::page_cost(first, child_complexity)")]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<MessageConnection> {
        let request = page_request(first, after.as_deref())?;
        // The dialogs of a page read their messages together (`graphql::loaders`).
        let key = MessagesOf {
            scope: self.scope.clone(),
            dialog: self.record.id,
            after: request.after().copied(),
            limit: request.limit(),
        };
        let page = load(ctx, key).await?.unwrap_or_default();
        Ok(connection(&request, page, |record| {
            let scope = self.scope.clone();
            (record.id, Message { record, scope })
        }))
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum MessageDirection {
    Incoming,
    Outgoing,
}

/// Where an outgoing message stands; incoming messages are SENT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DeliveryStatus {
    Pending,
    Sent,
    Failed,
}

/// One message of a dialog.
#[derive(Debug)]
pub struct Message {
    pub record: MessageRecord,
    pub scope: TenantScope,
}

#[Object]
impl Message {
    async fn id(&self) -> ID {
        ID(self.record.id.to_string())
    }

    async fn dialog(&self, ctx: &Context<'_>) -> ApiResult<Option<Dialog>> {
        let dialog = load(ctx, DialogOf(self.scope.clone(), self.record.dialog_id)).await?;
        Ok(dialog.map(|record| Dialog::single(record, self.scope.clone())))
    }

    async fn direction(&self) -> MessageDirection {
        match self.record.direction {
            DomainDirection::Incoming => MessageDirection::Incoming,
            DomainDirection::Outgoing => MessageDirection::Outgoing,
        }
    }

    /// The current text (empty once deleted).
    async fn text(&self) -> &str {
        if self.record.deleted_at.is_some() {
            ""
        } else {
            &self.record.text
        }
    }

    async fn sent_at(&self) -> DateTime<Utc> {
        self.record.sent_at
    }

    async fn edited_at(&self) -> Option<DateTime<Utc>> {
        self.record.edited_at
    }

    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.record.deleted_at
    }

    /// Telegram's id of the message this one replies to, in the same dialog.
    async fn reply_to_id(&self) -> Option<i32> {
        self.record.reply_to
    }

    /// Telegram's id of this message (none while pending).
    async fn telegram_id(&self) -> Option<i32> {
        self.record.telegram_id
    }

    async fn status(&self) -> DeliveryStatus {
        match self.record.status {
            DomainDeliveryStatus::Pending => DeliveryStatus::Pending,
            DomainDeliveryStatus::Sent => DeliveryStatus::Sent,
            DomainDeliveryStatus::Failed => DeliveryStatus::Failed,
        }
    }

    /// Why Telegram refused it, when it failed.
    async fn failure(&self) -> Option<&str> {
        self.record.failure.as_deref()
    }

    /// Earlier texts, oldest first (none once deleted).
    async fn edit_history(&self) -> Vec<String> {
        if self.record.deleted_at.is_some() {
            Vec::new()
        } else {
            self.record.edit_history.clone()
        }
    }

    /// The photo, video, voice note, document or sticker the message carries (none once deleted); with
    /// `text` as its caption.
    async fn media(&self) -> Option<MessageMedia> {
        if self.record.deleted_at.is_some() {
            return None;
        }
        self.record
            .media
            .as_ref()
            .map(|info| MessageMedia::of(self.record.id, info))
    }
}
