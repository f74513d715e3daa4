//! `subscription inboxEvents`: a workspace's inbox as it changes, numbered so nothing is missed.
//!
//! Rules:
//! - Authorization happens when subscribing (VIEWER and above, or keys with `INBOX_READ`); the connection
//!   then re-checks the caller's token and membership whenever access changes and closes with 4403 once it
//!   is gone (`crate::http::websocket`).
//! - Every event carries the workspace's `sequence`; `afterSequence` replays what came after it first, and
//!   no number is delivered twice.
//! - A subscriber that falls further behind than the server keeps is disconnected with close code 1013 and a
//!   reason saying to reconnect with `afterSequence`, instead of the server buffering without bound.

use crate::graphql::ids::parse_id;
use std::sync::Arc;
use tgos_domain::inbox::InboxService;
use tgos_domain::tenancy::TenancyService;

use async_graphql::{Context, ID, SimpleObject, Subscription, Union};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use tgos_domain::DomainError;
use tgos_domain::events::{EventBus, EventFeed, FeedEnd, InboxEvent as DomainEvent, StoredEvent};
use tgos_domain::ids::{AccountId, WorkspaceId};
use tgos_domain::tenancy::TenantScope;

use super::types::{Dialog, Message};
use crate::graphql::accounts::types::HealthState;
use crate::graphql::context::{ConnectionControl, MAX_SUBSCRIPTIONS_PER_CONNECTION, Watching, principal};
use crate::graphql::errors::ApiError;
use crate::graphql::{guards::SignedIn, service};
use crate::http::metrics::{Counted, LiveGauges};

/// The close code and reason of a slow consumer.
pub const SLOW_CONSUMER: (u16, &str) = (
    1013,
    "slow consumer: events were not read fast enough; reconnect with afterSequence",
);

/// The close code and reason when events a subscriber still had to receive are gone from the outbox.
pub const LOST: (u16, &str) = (
    1011,
    "missed events are no longer kept; reload the inbox, then subscribe without afterSequence",
);

/// What every event says besides its own fields.
#[derive(Debug, SimpleObject)]
struct Envelope {
    /// The workspace's number of this event: increasing. The workspace numbers its inbox and automation events
    /// in one sequence, so the numbers of the events of `automationEvents` are left out here.
    sequence: i32,
    occurred_at: DateTime<Utc>,
    /// The account the event is about.
    account_id: ID,
}

impl Envelope {
    fn of(event: &StoredEvent) -> Self {
        Self {
            sequence: i32::try_from(event.sequence).unwrap_or(i32::MAX),
            occurred_at: event.occurred_at,
            account_id: ID(event.account_id.map(|id| id.to_string()).unwrap_or_default()),
        }
    }
}

/// A message arrived from the other side.
#[derive(Debug, SimpleObject)]
pub struct MessageReceived {
    #[graphql(flatten)]
    envelope: Envelope,
    message: Message,
}

/// An outgoing message was stored (PENDING) or settled (SENT, or FAILED with the reason), or one sent from
/// elsewhere was seen.
#[derive(Debug, SimpleObject)]
pub struct MessageSent {
    #[graphql(flatten)]
    envelope: Envelope,
    message: Message,
}

/// A message's text changed; its `editHistory` ends with the previous text.
#[derive(Debug, SimpleObject)]
pub struct MessageEdited {
    #[graphql(flatten)]
    envelope: Envelope,
    message: Message,
}

/// A message was deleted.
#[derive(Debug, SimpleObject)]
pub struct MessageDeleted {
    #[graphql(flatten)]
    envelope: Envelope,
    message_id: ID,
    dialog_id: ID,
}

/// A dialog's read watermark moved.
#[derive(Debug, SimpleObject)]
pub struct DialogRead {
    #[graphql(flatten)]
    envelope: Envelope,
    dialog: Box<Dialog>,
}

/// A dialog's tags or assignee changed; the dialog as it is now.
#[derive(Debug, SimpleObject)]
pub struct DialogChanged {
    #[graphql(flatten)]
    envelope: Envelope,
    dialog: Box<Dialog>,
}

/// An account's health state or risk moved.
#[derive(Debug, SimpleObject)]
pub struct AccountHealthChanged {
    #[graphql(flatten)]
    envelope: Envelope,
    state: HealthState,
    risk_score: i32,
    previous_state: HealthState,
    previous_risk_score: i32,
}

/// One change in a workspace's inbox.
#[derive(Debug, Union)]
pub enum InboxEvent {
    MessageReceived(MessageReceived),
    MessageSent(MessageSent),
    MessageEdited(MessageEdited),
    MessageDeleted(MessageDeleted),
    DialogRead(DialogRead),
    DialogChanged(DialogChanged),
    AccountHealthChanged(AccountHealthChanged),
}

impl InboxEvent {
    /// The event as this subscription shows it; `None` for another subscription's events.
    fn of(event: &StoredEvent, scope: &TenantScope) -> Option<Self> {
        let envelope = Envelope::of(event);
        let message = |record: &tgos_domain::inbox::MessageRecord| Message {
            record: record.clone(),
            scope: scope.clone(),
        };
        Some(match &event.event {
            DomainEvent::MessageReceived { message: record } => Self::MessageReceived(MessageReceived {
                envelope,
                message: message(record),
            }),
            DomainEvent::MessageSent { message: record } => Self::MessageSent(MessageSent {
                envelope,
                message: message(record),
            }),
            DomainEvent::MessageEdited { message: record } => Self::MessageEdited(MessageEdited {
                envelope,
                message: message(record),
            }),
            DomainEvent::MessageDeleted { message_id, dialog_id } => Self::MessageDeleted(MessageDeleted {
                envelope,
                message_id: ID(message_id.to_string()),
                dialog_id: ID(dialog_id.to_string()),
            }),
            // Events carry whole dialogs (tags included), so no subscriber reads them again.
            DomainEvent::DialogRead { dialog } => Self::DialogRead(DialogRead {
                envelope,
                dialog: Box::new(Dialog::whole(dialog.clone(), scope.clone())),
            }),
            DomainEvent::DialogChanged { dialog } => Self::DialogChanged(DialogChanged {
                envelope,
                dialog: Box::new(Dialog::whole(dialog.clone(), scope.clone())),
            }),
            DomainEvent::AccountHealthChanged {
                state,
                risk_score,
                previous_state,
                previous_risk_score,
            } => Self::AccountHealthChanged(AccountHealthChanged {
                envelope,
                state: HealthState::from(*state),
                risk_score: i32::from(*risk_score),
                previous_state: HealthState::from(*previous_state),
                previous_risk_score: i32::from(*previous_risk_score),
            }),
            DomainEvent::ExecutionQueued { .. }
            | DomainEvent::ExecutionFinished { .. }
            | DomainEvent::AutomationChanged { .. } => return None,
        })
    }
}

#[derive(Debug, Default)]
pub struct InboxSubscription;

#[Subscription]
impl InboxSubscription {
    /// The workspace's inbox events as they happen (VIEWER and above, or keys with `INBOX_READ`; health
    /// events need `ACCOUNTS_READ` from keys), of one account when `accountId` is set. With `afterSequence`,
    /// what came after that number is replayed first. Over `GET /graphql/ws` only.
    #[graphql(guard = "SignedIn")]
    async fn inbox_events(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        account_id: Option<ID>,
        after_sequence: Option<i32>,
    ) -> Result<impl Stream<Item = InboxEvent> + use<>, ApiError> {
        let workspace: WorkspaceId = parse_id(&workspace_id, "workspaceId", "workspace")?;
        let account: Option<AccountId> = account_id
            .as_ref()
            .map(|id| parse_id(id, "accountId", "account"))
            .transpose()?;
        let following = Following::start(ctx, workspace).await?;
        let feed = service::<InboxService>(ctx)?
            .follow(
                &*following.bus,
                following.scope.clone(),
                account,
                after_sequence.map(i64::from),
            )
            .await?;
        Ok(following.stream(feed, InboxEvent::of))
    }
}

/// A subscription being started: the caller's scope in the workspace, read after the connection began
/// watching it (so a removal from then on closes the connection, and one just before is seen by the read), and
/// what its stream needs.
pub(crate) struct Following {
    pub scope: TenantScope,
    pub bus: Arc<dyn EventBus>,
    control: Option<ConnectionControl>,
    watching: Option<Watching>,
    /// The subscription counted in `tgos_subscriptions_active` while its stream lives.
    counted: Option<Counted>,
}

impl Following {
    /// Authorizes the caller in `workspace` and registers the workspace with the connection (at most
    /// [`MAX_SUBSCRIPTIONS_PER_CONNECTION`], else `CONFLICT`).
    pub(crate) async fn start(ctx: &Context<'_>, workspace: WorkspaceId) -> Result<Self, ApiError> {
        let tenancy = service::<TenancyService>(ctx)?;
        let principal = principal(ctx)?;
        tenancy.scope(principal, workspace).await?;
        let control = ctx.data_opt::<ConnectionControl>().cloned();
        let watching = match &control {
            Some(control) => Some(control.watch(workspace).ok_or_else(|| {
                ApiError::from(DomainError::Conflict {
                    field: None,
                    message: format!(
                        "a connection may hold {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions; complete one first"
                    ),
                })
            })?),
            None => None,
        };
        let scope = tenancy.scope(principal, workspace).await?;
        let bus = ctx
            .data_opt::<Arc<dyn EventBus>>()
            .cloned()
            .ok_or_else(|| ApiError::from(DomainError::internal("event bus missing from schema data")))?;
        let counted = ctx
            .data_opt::<LiveGauges>()
            .map(|gauges| gauges.subscription(ctx.field().name()));
        Ok(Self {
            scope,
            bus,
            control,
            watching,
            counted,
        })
    }

    /// The stream of `feed`'s events that `show` shows.
    pub(crate) fn stream<T: Send + 'static>(
        self,
        feed: EventFeed,
        show: fn(&StoredEvent, &TenantScope) -> Option<T>,
    ) -> impl Stream<Item = T> + use<T> {
        live_stream(feed, self.control, self.scope, (self.watching, self.counted), show)
    }
}

/// The events of `feed` that `show` turns into something to send, until the feed ends; a feed that ends
/// because the subscriber fell behind, lost events or failed closes its connection with the code saying so.
/// `watching` is held as long as the stream lives.
pub(crate) fn live_stream<T, W>(
    feed: EventFeed,
    control: Option<ConnectionControl>,
    scope: TenantScope,
    watching: W,
    show: fn(&StoredEvent, &TenantScope) -> Option<T>,
) -> impl Stream<Item = T> + use<T, W>
where
    T: Send + 'static,
    W: Send + 'static,
{
    futures_util::stream::unfold(
        (feed, control, scope, watching),
        move |(mut feed, control, scope, watching)| async move {
            loop {
                match feed.next().await {
                    Ok(event) => {
                        if let Some(shown) = show(&event, &scope) {
                            return Some((shown, (feed, control, scope, watching)));
                        }
                    }
                    Err(end) => {
                        match (end, &control) {
                            (FeedEnd::SlowConsumer { last_sequence }, Some(control)) => {
                                tracing::info!(last_sequence, "a subscriber fell behind and was disconnected");
                                control.close(SLOW_CONSUMER.0, SLOW_CONSUMER.1);
                            }
                            (FeedEnd::Lost { last_sequence }, Some(control)) => {
                                tracing::warn!(last_sequence, "a subscriber's missed events were pruned");
                                control.close(LOST.0, LOST.1);
                            }
                            (FeedEnd::Failed(error), Some(control)) => {
                                tracing::error!(%error, "an event feed failed");
                                control.close(1011, "internal server error");
                            }
                            _ => {}
                        }
                        return None;
                    }
                }
            }
        },
    )
}
