//! One subscriber's view of a workspace's events: replay, then live, without loss or repeats.
//!
//! Rules:
//! - The feed subscribes to the bus before it reads the outbox, so nothing published in between is missed.
//! - It passes each sequence number at most once and never goes back: repeats (a replayed event arriving
//!   live, a relay publishing twice) are dropped.
//! - A live event further ahead than the next expected number means the feed missed some (the bus's live
//!   window moved past it, or another process's events): it reads them from the outbox first, so the
//!   subscriber sees every number in order. Memory stays bounded by one outbox page however far behind it is.
//! - A feed further behind its workspace's newest event than `slow_consumer_after` ends
//!   ([`FeedEnd::SlowConsumer`]): the subscriber cannot keep up, and catching up would only grow the gap.
//! - Events the subscriber may not see (another account than the one it asked for, health without
//!   `ACCOUNTS_READ`) are passed over silently; their numbers still count as passed.
//! - A replay further back than the outbox keeps is refused (`afterSequence`), not silently shortened; a
//!   feed that finds events it still owes gone from the outbox ends ([`FeedEnd::Lost`]) rather than skip them.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::broadcast;

use super::bus::EventBus;
use super::records::{EventFamily, StoredEvent};
use crate::error::{DomainError, DomainResult};
use crate::ids::{AccountId, AutomationId};
use crate::store::Store;
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};

/// How many events one outbox read brings.
const PAGE: u64 = 200;

/// Why a feed stopped.
#[derive(Debug)]
pub enum FeedEnd {
    /// Events it had yet to deliver are gone from the outbox (pruned past the replay window, or unreadable):
    /// the subscriber should reload rather than continue with a hole.
    Lost { last_sequence: i64 },
    /// The subscriber fell further behind than `slow_consumer_after`; it should reconnect with `afterSequence`.
    SlowConsumer { last_sequence: i64 },
    /// The bus closed (the server is stopping).
    Closed,
    /// Storage failed while filling a gap.
    Failed(DomainError),
}

/// Which of a workspace's events a feed shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFilter {
    /// The inbox's events (VIEWER and above, or keys with `INBOX_READ`), of one account when set.
    Inbox { account: Option<AccountId> },
    /// The automations' events (VIEWER and above, or keys with `AUTOMATIONS_READ`), of one automation when set.
    Automations { automation: Option<AutomationId> },
}

impl FeedFilter {
    fn family(self) -> EventFamily {
        match self {
            Self::Inbox { .. } => EventFamily::Inbox,
            Self::Automations { .. } => EventFamily::Automation,
        }
    }
}

pub struct EventFeed {
    store: Arc<dyn Store>,
    scope: TenantScope,
    filter: FeedFilter,
    receiver: broadcast::Receiver<Arc<StoredEvent>>,
    /// The last sequence number passed.
    last: i64,
    /// Read from the outbox up to here before taking live events again.
    replay_until: i64,
    /// At most one page of the outbox.
    pending: VecDeque<StoredEvent>,
    /// The most events the feed may be behind the newest it has seen.
    slow_consumer_after: u64,
}

impl std::fmt::Debug for EventFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventFeed")
            .field("workspace", &self.scope.workspace_id())
            .field("filter", &self.filter)
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

impl EventFeed {
    /// Opens a feed of the workspace's events that `filter` shows, starting after `after` (or from now).
    pub async fn open(
        store: Arc<dyn Store>,
        bus: &dyn EventBus,
        scope: TenantScope,
        filter: FeedFilter,
        after: Option<i64>,
    ) -> DomainResult<Self> {
        match filter {
            FeedFilter::Inbox { .. } => scope.require(Role::Viewer, Some(Scope::InboxRead), "following the inbox")?,
            FeedFilter::Automations { .. } => {
                scope.require(Role::Viewer, Some(Scope::AutomationsRead), "following automations")?
            }
        }
        if after.is_some_and(|after| after < 0) {
            return Err(DomainError::invalid("afterSequence", "must be 0 or more"));
        }
        let receiver = bus.subscribe(scope.workspace_id());
        let latest = store.latest_sequence(&scope).await?;
        bus.following_from(scope.workspace_id(), latest);
        let after = match after {
            Some(after) if after > latest => {
                return Err(DomainError::invalid(
                    "afterSequence",
                    format!("is ahead of the workspace's latest event ({latest})"),
                ));
            }
            Some(after) => after,
            None => latest,
        };
        let mut feed = Self {
            store,
            scope,
            filter,
            receiver,
            last: after,
            replay_until: latest,
            pending: VecDeque::new(),
            slow_consumer_after: u64::MAX,
        };
        if after < latest {
            feed.read_page().await?;
            if feed.pending.front().is_none_or(|first| first.sequence != after + 1) {
                return Err(DomainError::invalid(
                    "afterSequence",
                    "is older than the events kept for replay; reload the inbox instead",
                ));
            }
        }
        Ok(feed)
    }

    /// Ends the feed as a slow consumer once it is more than `events` behind the newest event it has seen.
    #[must_use]
    pub fn slow_consumer_after(mut self, events: u64) -> Self {
        self.slow_consumer_after = events;
        self
    }

    /// The last sequence number passed.
    pub fn last_sequence(&self) -> i64 {
        self.last
    }

    /// The next event the subscriber may see.
    pub async fn next(&mut self) -> Result<Arc<StoredEvent>, FeedEnd> {
        loop {
            if self.pending.is_empty() && self.replay_until > self.last {
                self.read_page().await.map_err(FeedEnd::Failed)?;
                if self.pending.front().is_none_or(|first| first.sequence != self.last + 1) {
                    // Only when events were pruned while a subscriber was still behind them.
                    return Err(FeedEnd::Lost {
                        last_sequence: self.last,
                    });
                }
                continue;
            }
            let event = match self.pending.pop_front() {
                Some(event) => Arc::new(event),
                None => match self.receiver.recv().await {
                    Ok(event) => event,
                    // The live window moved past this feed: the next event it gets is ahead, and the gap is
                    // read from the outbox below.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return Err(FeedEnd::Closed),
                },
            };
            if event.sequence <= self.last {
                continue;
            }
            if event.sequence > self.last + 1 {
                if u64::try_from(event.sequence - self.last).unwrap_or(u64::MAX) > self.slow_consumer_after {
                    return Err(FeedEnd::SlowConsumer {
                        last_sequence: self.last,
                    });
                }
                // Missed some: read them, this one included, from the outbox first.
                self.replay_until = self.replay_until.max(event.sequence);
                continue;
            }
            self.last = event.sequence;
            if self.shows(&event) {
                return Ok(event);
            }
        }
    }

    fn shows(&self, event: &StoredEvent) -> bool {
        if event.event.family() != self.filter.family() {
            return false;
        }
        match self.filter {
            FeedFilter::Inbox { account: Some(account) } if event.account_id != Some(account) => return false,
            FeedFilter::Automations {
                automation: Some(automation),
            } if event.event.automation() != Some(automation) => return false,
            _ => {}
        }
        match event.event.extra_scope() {
            Some(scope) => self.scope.role().is_some() || self.scope.allows(Role::Viewer, Some(scope)),
            None => true,
        }
    }

    /// Queues the next page of the outbox after the last passed, up to `replay_until`.
    async fn read_page(&mut self) -> DomainResult<()> {
        let page = self
            .store
            .events_after(&self.scope, self.last, Some(self.replay_until), PAGE)
            .await?;
        self.pending.extend(page);
        Ok(())
    }
}
