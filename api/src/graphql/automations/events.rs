//! `subscription automationEvents`: executions queued and finished, and definition changes, numbered like
//! `inboxEvents` (the workspace numbers both in one sequence, so each sees the other's numbers left out) and
//! replayed with `afterSequence` from the outbox.

use async_graphql::{Context, Enum, ID, SimpleObject, Subscription, Union};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use tgos_domain::automation::AutomationService;
use tgos_domain::events::{AutomationChange as DomainChange, FeedFilter, InboxEvent as DomainEvent, StoredEvent};
use tgos_domain::ids::{AutomationId, WorkspaceId};
use tgos_domain::tenancy::TenantScope;

use super::types::{AutomationExecution, ExecutionStatus};
use crate::graphql::errors::ApiError;
use crate::graphql::ids::parse_id;
use crate::graphql::inbox::events::Following;
use crate::graphql::{guards::SignedIn, service};

/// An execution was queued.
#[derive(Debug, SimpleObject)]
pub struct ExecutionQueued {
    sequence: i32,
    occurred_at: DateTime<Utc>,
    execution: AutomationExecution,
}

/// An execution ended: succeeded, failed or skipped, with its reason.
#[derive(Debug, SimpleObject)]
pub struct ExecutionFinished {
    sequence: i32,
    occurred_at: DateTime<Utc>,
    execution: AutomationExecution,
    status: ExecutionStatus,
    reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AutomationChange {
    Created,
    Updated,
    Enabled,
    Disabled,
    Deleted,
}

/// The automation as the change left it.
#[derive(Debug, SimpleObject)]
pub struct ChangedAutomation {
    id: ID,
    name: String,
    version: i32,
}

/// An automation was created, updated, enabled, disabled or deleted.
#[derive(Debug, SimpleObject)]
pub struct AutomationChanged {
    sequence: i32,
    occurred_at: DateTime<Utc>,
    automation: ChangedAutomation,
    change: AutomationChange,
}

/// One thing that happened to a workspace's automations.
#[derive(Debug, Union)]
pub enum AutomationEvent {
    ExecutionQueued(ExecutionQueued),
    ExecutionFinished(ExecutionFinished),
    AutomationChanged(AutomationChanged),
}

impl AutomationEvent {
    fn of(event: &StoredEvent, scope: &TenantScope) -> Option<Self> {
        let sequence = i32::try_from(event.sequence).unwrap_or(i32::MAX);
        let occurred_at = event.occurred_at;
        Some(match &event.event {
            DomainEvent::ExecutionQueued { execution } => Self::ExecutionQueued(ExecutionQueued {
                sequence,
                occurred_at,
                execution: AutomationExecution::new((**execution).clone(), scope.clone()),
            }),
            DomainEvent::ExecutionFinished { execution } => Self::ExecutionFinished(ExecutionFinished {
                sequence,
                occurred_at,
                status: execution.status.into(),
                reason: execution.reason.clone(),
                execution: AutomationExecution::new((**execution).clone(), scope.clone()),
            }),
            DomainEvent::AutomationChanged {
                automation_id,
                name,
                version,
                change,
            } => Self::AutomationChanged(AutomationChanged {
                sequence,
                occurred_at,
                automation: ChangedAutomation {
                    id: ID(automation_id.to_string()),
                    name: name.clone(),
                    version: *version,
                },
                change: match change {
                    DomainChange::Created => AutomationChange::Created,
                    DomainChange::Updated => AutomationChange::Updated,
                    DomainChange::Enabled => AutomationChange::Enabled,
                    DomainChange::Disabled => AutomationChange::Disabled,
                    DomainChange::Deleted => AutomationChange::Deleted,
                },
            }),
            _ => return None,
        })
    }
}

#[derive(Debug, Default)]
pub struct AutomationSubscription;

#[Subscription]
impl AutomationSubscription {
    /// The workspace's automation events as they happen (VIEWER and above, or keys with `AUTOMATIONS_READ`),
    /// of one automation when `automationId` is set. With `afterSequence`, what came after that number is
    /// replayed first. Over `GET /graphql/ws` only.
    #[graphql(guard = "SignedIn")]
    async fn automation_events(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        automation_id: Option<ID>,
        after_sequence: Option<i32>,
    ) -> Result<impl Stream<Item = AutomationEvent> + use<>, ApiError> {
        let workspace: WorkspaceId = parse_id(&workspace_id, "workspaceId", "workspace")?;
        let automation: Option<AutomationId> = automation_id
            .as_ref()
            .map(|id| parse_id(id, "automationId", "automation"))
            .transpose()?;
        let following = Following::start(ctx, workspace).await?;
        let feed = service::<AutomationService>(ctx)?
            .follow(
                &*following.bus,
                following.scope.clone(),
                FeedFilter::Automations { automation },
                after_sequence.map(i64::from),
            )
            .await?;
        Ok(following.stream(feed, AutomationEvent::of))
    }
}
