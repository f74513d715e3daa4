//! Reading executions, running an automation by hand, and the dry run.
//!
//! Rules:
//! - Executions and stats are read like automations (VIEWER and above, or `AUTOMATIONS_READ`).
//! - `runAutomationNow` is a write (ADMIN and above, or `AUTOMATIONS_WRITE`): it queues an execution like any
//!   trigger, on the dialog given (which the workspace must have); actions that need a dialog need one.
//! - `testAutomation` has no effect at all: nothing is stored, sent or called. It validates the definition,
//!   evaluates its conditions against the dialog's newest incoming message (or the text given) and renders
//!   what the actions would do. A dialog's text is the inbox's: a key also needs `INBOX_READ` to name one.

use crate::accounts::health::CounterHolder;
use crate::automation::ConditionOutcome;
use crate::automation::conditions::{ConditionSet, EvaluationContext};
use crate::automation::definition::{Action, AutomationDefinition};
use crate::automation::describe_action;
use crate::automation::records::{AutomationStats, ExecutionFilter, ExecutionRecord, TriggerContext};
use crate::automation::service::AutomationService;
use crate::automation::template::Template;
use crate::automation::triggers::{self, Cause};
use crate::automation::validate::validate;
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::{AutomationId, DialogId, ExecutionId};
use crate::inbox::{DialogRecord, Direction, MessageRecord};
use crate::paging::{Page, PageRequest};
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};

/// What a dry run found.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub would_run: bool,
    pub conditions: Vec<ConditionOutcome>,
    /// What each action would do, rendered (`sendMessage: "Hello Ann"`).
    pub rendered_actions: Vec<String>,
    /// Why it would not run, naming the failed condition.
    pub reason: Option<String>,
}

impl AutomationService {
    /// The workspace's executions, newest first (VIEWER and above, or keys with `AUTOMATIONS_READ`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn executions(
        &self,
        scope: &TenantScope,
        filter: ExecutionFilter,
        request: PageRequest<ExecutionId>,
    ) -> DomainResult<Page<ExecutionRecord>> {
        scope.require(
            Role::Viewer,
            Some(Scope::AutomationsRead),
            "reading automation executions",
        )?;
        request
            .read(|after, rows| self.store.executions(scope, filter, after, rows))
            .await
    }

    /// One execution of the workspace.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn execution(&self, scope: &TenantScope, id: ExecutionId) -> DomainResult<ExecutionRecord> {
        scope.require(
            Role::Viewer,
            Some(Scope::AutomationsRead),
            "reading automation executions",
        )?;
        self.store
            .find_execution(scope, id)
            .await?
            .ok_or(DomainError::NotFound("execution"))
    }

    /// How each automation's executions went, in one read.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn stats(
        &self,
        scope: &TenantScope,
        ids: &[AutomationId],
    ) -> DomainResult<Vec<(AutomationId, AutomationStats)>> {
        scope.require(Role::Viewer, Some(Scope::AutomationsRead), "reading automations")?;
        Ok(self.store.automation_stats(scope, ids).await?)
    }

    /// The names of automations, deleted ones too (an execution outlives its automation).
    pub async fn automation_names(
        &self,
        scope: &TenantScope,
        ids: &[AutomationId],
    ) -> DomainResult<Vec<(AutomationId, String)>> {
        scope.require(Role::Viewer, Some(Scope::AutomationsRead), "reading automations")?;
        Ok(self.store.automation_names(scope, ids).await?)
    }

    /// Queues a run of the automation now, on `dialog` when given (ADMIN and above, or keys with
    /// `AUTOMATIONS_WRITE`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn run_now(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        id: AutomationId,
        dialog: Option<DialogId>,
    ) -> DomainResult<ExecutionRecord> {
        scope.require(Role::Admin, Some(Scope::AutomationsWrite), "running automations")?;
        let automation = self
            .store
            .find_automation(scope, id)
            .await?
            .ok_or(DomainError::NotFound("automation"))?;
        let dialog = match dialog {
            Some(id) => Some(
                self.store
                    .find_dialog(scope, id)
                    .await?
                    .ok_or(DomainError::NotFound("dialog"))?,
            ),
            None => None,
        };
        if dialog.is_none() && automation.definition.actions.iter().any(Action::needs_dialog) {
            return Err(DomainError::invalid(
                "dialogId",
                "the automation's actions act in a dialog: name one",
            ));
        }
        let message = match &dialog {
            Some(dialog) => self.newest_incoming(scope, dialog).await?,
            None => None,
        };
        let now = self.clock.now();
        let cause = Cause {
            trigger_key: format!("manual:{}", ExecutionId::generate()),
            account: dialog.as_ref().map(|d| d.account_id),
            dialog: dialog.as_ref().map(|d| d.id),
            message: message.map(|m| m.id),
            context: TriggerContext {
                requested_by: principal.user_id(),
                ..TriggerContext::default()
            },
            run_at: Some(now),
        };
        let tx = self.store.begin().await?;
        let execution = triggers::queue(&*tx, scope, &automation, cause, now)
            .await?
            .ok_or_else(|| DomainError::internal("a manual run's trigger key was taken"))?;
        tx.commit().await?;
        self.outbox.committed();
        self.jobs.enqueued();
        Ok(execution)
    }

    /// Evaluates `definition` without effects (VIEWER and above, or keys with `AUTOMATIONS_READ`, and
    /// `INBOX_READ` to name a dialog).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn test_automation(
        &self,
        scope: &TenantScope,
        definition: &AutomationDefinition,
        dialog: Option<DialogId>,
        text: Option<&str>,
    ) -> DomainResult<TestOutcome> {
        scope.require(Role::Viewer, Some(Scope::AutomationsRead), "testing automations")?;
        validate(definition, &self.settings.limits()).map_err(DomainError::Invalid)?;
        let dialog = match dialog {
            Some(id) => {
                scope.require(Role::Viewer, Some(Scope::InboxRead), "reading dialogs")?;
                Some(
                    self.store
                        .find_dialog(scope, id)
                        .await?
                        .ok_or(DomainError::NotFound("dialog"))?,
                )
            }
            None => None,
        };
        let message = match (&dialog, text) {
            (Some(dialog), None) => self.newest_incoming(scope, dialog).await?,
            _ => None,
        };
        let text = text
            .map(str::to_owned)
            .or_else(|| message.as_ref().map(|m| m.text.clone()));
        let conditions =
            ConditionSet::compile(&definition.conditions, definition.mode).map_err(DomainError::Invalid)?;
        let risk = match &dialog {
            Some(dialog) => Some(self.risk_of(scope, dialog.account_id).await?),
            None => None,
        };
        let now = self.clock.now();
        let context = EvaluationContext {
            text: text.as_deref(),
            peer_kind: dialog.as_ref().map(|d| d.peer.kind()),
            peer_username: dialog.as_ref().and_then(|d| d.username.as_deref()),
            account: dialog.as_ref().map(|d| d.account_id),
            dialog_tags: dialog.as_ref().map_or(&[][..], |d| &d.tags[..]),
            now,
            risk_score: risk,
        };
        let evaluation = conditions.evaluate(&context);
        let account_name = match &dialog {
            Some(dialog) => self.account_name(scope, dialog).await?,
            None => String::new(),
        };
        let rendered_actions = definition
            .actions
            .iter()
            .map(|action| {
                let rendered = render(action, dialog.as_ref(), &account_name, text.as_deref());
                describe_action(action, rendered.as_deref())
            })
            .collect();
        Ok(TestOutcome {
            would_run: evaluation.matched,
            reason: evaluation.reason(),
            conditions: evaluation.conditions,
            rendered_actions,
        })
    }

    /// The dialog's newest incoming message.
    pub(crate) async fn newest_incoming(
        &self,
        scope: &TenantScope,
        dialog: &DialogRecord,
    ) -> DomainResult<Option<MessageRecord>> {
        let recent = self.store.messages(scope, dialog.id, None, 20).await?;
        Ok(recent
            .into_iter()
            .find(|m| m.direction == Direction::Incoming && m.deleted_at.is_none()))
    }

    /// The account's risk score now.
    pub(crate) async fn risk_of(&self, scope: &TenantScope, account: crate::ids::AccountId) -> DomainResult<u8> {
        let health = self
            .store
            .load(CounterHolder::Workspace(scope.workspace_id()), account)
            .await?
            .map(|s| s.health)
            .unwrap_or_default();
        Ok(health.risk(self.clock.now()).value())
    }

    /// The name the account shows (for `{{account.displayName}}`).
    pub(crate) async fn account_name(&self, scope: &TenantScope, dialog: &DialogRecord) -> DomainResult<String> {
        Ok(self
            .store
            .find_account(Some(scope), dialog.account_id)
            .await?
            .and_then(|a| a.profile.display_name)
            .unwrap_or_default())
    }
}

/// The text a `sendMessage` action would send; `None` for other actions.
pub(crate) fn render(
    action: &Action,
    dialog: Option<&DialogRecord>,
    account_name: &str,
    message_text: Option<&str>,
) -> Option<String> {
    let Action::SendMessage { text } = action else {
        return None;
    };
    let template = Template::parse(text).ok()?;
    Some(template.render(&crate::automation::template::TemplateValues {
        peer_title: dialog.map(|d| d.title.clone()).unwrap_or_default(),
        peer_username: dialog.and_then(|d| d.username.clone()),
        account_display_name: account_name.to_owned(),
        message_text: message_text.map(str::to_owned),
    }))
}

impl AutomationService {
    /// Follows the workspace's automation events (VIEWER and above, or keys with `AUTOMATIONS_READ`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn follow(
        &self,
        bus: &dyn crate::events::EventBus,
        scope: TenantScope,
        filter: crate::events::FeedFilter,
        after: Option<i64>,
    ) -> DomainResult<crate::events::EventFeed> {
        crate::events::EventFeed::open(std::sync::Arc::clone(&self.store), bus, scope, filter, after).await
    }
}
