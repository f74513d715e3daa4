//! Performing one step of an execution under its idempotency key (`<execution>:<index>`): a send through the
//! inbox's automated send, a read mark, a tag, an assignment, a signed webhook, a pause. What each came to
//! decides whether the execution goes on, retries later, fails or is skipped.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::accounts::health::{CounterHolder, HealthObservation, HealthSignal, record_observation};
use crate::audit::{self, Actor, ActorKind, AuditDraft, ChainId};
use crate::automation::definition::Action;
use crate::automation::records::{AutomationRecord, ExecutionRecord};
use crate::automation::service::AutomationService;
use crate::automation::use_cases::runs::render;
use crate::error::{DomainError, DomainResult};
use crate::events::announce;
use crate::ids::ExecutionId;
use crate::inbox::AutomatedSend;
use crate::request::ClientInfo;
use crate::tenancy::TenantScope;
use crate::vault::KeyOwner;
use crate::webhooks::WebhookDelivery;

use super::execute::Subject;

/// What one step came to.
pub(super) enum StepResult {
    Done(String),
    /// Not tried: the account's connection stayed busy. Try again soon; it is not a failed attempt.
    Busy(String),
    /// Not now: try again later.
    Retry(String),
    /// Never: the execution fails.
    Fail(String),
    /// Health refused: the execution is skipped with this reason.
    Skip(String),
}

impl AutomationService {
    /// Performs one step under its idempotency key.
    pub(super) async fn perform(
        &self,
        scope: &TenantScope,
        automation: &AutomationRecord,
        execution: &ExecutionRecord,
        index: usize,
        action: &Action,
        subject: &Subject,
    ) -> DomainResult<StepResult> {
        let key = format!("{}:{index}", execution.id);
        let actor = actor_of(automation);
        let client = ClientInfo::default();
        let dialog_id = subject.dialog.as_ref().map(|d| d.id);
        Ok(match action {
            Action::SendMessage { .. } => {
                let Some(dialog) = &subject.dialog else {
                    return Ok(StepResult::Fail("there is no dialog to send in".to_owned()));
                };
                let text = render(
                    action,
                    Some(dialog),
                    &subject.account_name,
                    subject.message.as_ref().map(|m| m.text.as_str()),
                )
                .unwrap_or_default();
                match self.inbox.send_automated(scope, dialog.id, &text, &key).await? {
                    AutomatedSend::Sent(message) => StepResult::Done(format!("sent message {}", message.id)),
                    AutomatedSend::Refused(reason) => StepResult::Skip(reason),
                    AutomatedSend::Failed {
                        reason,
                        retryable: true,
                    } => StepResult::Retry(reason),
                    AutomatedSend::Failed { reason, .. } => StepResult::Fail(reason),
                    AutomatedSend::Busy(reason) => StepResult::Busy(reason),
                }
            }
            Action::MarkRead => {
                let Some(dialog) = dialog_id else {
                    return Ok(StepResult::Fail("there is no dialog to mark read".to_owned()));
                };
                match self.inbox.mark_read_automated(scope, dialog).await {
                    Ok(_) => StepResult::Done("marked read".to_owned()),
                    Err(DomainError::AccountUnavailable(reason)) => StepResult::Busy(reason),
                    Err(DomainError::Conflict { message, .. }) => StepResult::Fail(message),
                    Err(DomainError::NotFound(what)) => StepResult::Fail(format!("the {what} is gone")),
                    Err(error) => return Err(error),
                }
            }
            Action::TagDialog { tag } => {
                let Some(dialog) = dialog_id else {
                    return Ok(StepResult::Fail("there is no dialog to tag".to_owned()));
                };
                match self.inbox.apply_tag(scope, actor, &client, dialog, tag).await {
                    Ok(_) => StepResult::Done(format!("tagged {tag}")),
                    Err(DomainError::Invalid(errors)) => StepResult::Fail(describe_invalid(&errors)),
                    Err(DomainError::NotFound(what)) => StepResult::Fail(format!("the {what} is gone")),
                    Err(error) => return Err(error),
                }
            }
            Action::AssignDialog { user } => {
                let Some(dialog) = dialog_id else {
                    return Ok(StepResult::Fail("there is no dialog to assign".to_owned()));
                };
                match self.inbox.apply_assignment(scope, actor, &client, dialog, *user).await {
                    Ok(_) => StepResult::Done(match user {
                        Some(user) => format!("assigned to {user}"),
                        None => "unassigned".to_owned(),
                    }),
                    Err(DomainError::Invalid(errors)) => StepResult::Fail(describe_invalid(&errors)),
                    Err(DomainError::NotFound(what)) => StepResult::Fail(format!("the {what} is gone")),
                    Err(error) => return Err(error),
                }
            }
            Action::Webhook { url, .. } => {
                let Some(sealed) = automation.sealed_secrets.iter().find(|s| s.index == index) else {
                    return Ok(StepResult::Fail("the webhook's secret is missing".to_owned()));
                };
                let secret = self
                    .open_secret(
                        KeyOwner::Workspace(scope.workspace_id()),
                        automation.id,
                        sealed.key_version,
                        &sealed.ciphertext,
                    )
                    .await?;
                let body = webhook_body(automation, execution, subject, self.clock.now());
                let delivery = WebhookDelivery {
                    url: url.clone(),
                    secret,
                    event: "automation.execution".to_owned(),
                    delivery_id: key,
                    body: serde_json::to_vec(&body).map_err(DomainError::internal)?,
                };
                match self.webhooks.deliver(&delivery, self.clock.now()).await {
                    Ok(receipt) => StepResult::Done(format!("HTTP {}", receipt.status)),
                    Err(error) if error.retryable() => StepResult::Retry(error.to_string()),
                    Err(error) => StepResult::Fail(error.to_string()),
                }
            }
            Action::PauseAccount => {
                let Some(account) = execution.account_id else {
                    return Ok(StepResult::Fail("there is no account to pause".to_owned()));
                };
                self.pause(scope, automation, account, execution.id).await?;
                StepResult::Done("paused the account".to_owned())
            }
        })
    }

    /// Records the automation's pause of the account, announces it and audits it, in one transaction.
    async fn pause(
        &self,
        scope: &TenantScope,
        automation: &AutomationRecord,
        account: crate::ids::AccountId,
        execution: ExecutionId,
    ) -> DomainResult<()> {
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let signal = HealthSignal::AutomationPaused {
            automation: automation.id,
        };
        let holder = CounterHolder::Workspace(scope.workspace_id());
        let change = record_observation(&*tx, holder, account, HealthObservation::new(signal, now), now).await?;
        let announced = announce::health_changed(&*tx, Some(scope.workspace_id()), account, &change, now).await?;
        let draft = AuditDraft {
            chain: ChainId::Workspace(scope.workspace_id()),
            actor: actor_of(automation),
            action: "account.paused",
            target_type: Some("ACCOUNT"),
            target_id: Some(account.to_string()),
            client: ClientInfo::default(),
            metadata: json!({ "automation": automation.id.to_string(), "execution": execution.to_string() }),
        };
        audit::append(&*tx, draft, now).await?;
        tx.commit().await?;
        if announced.is_some() {
            self.outbox.committed();
        }
        Ok(())
    }
}

/// How an automation appears in the audit log and on the changes it makes.
fn actor_of(automation: &AutomationRecord) -> Actor {
    Actor {
        kind: ActorKind::System,
        id: Some(format!("automation:{}", automation.id)),
        display_name: format!("automation “{}”", automation.definition.name),
    }
}

fn describe_invalid(errors: &[crate::error::FieldError]) -> String {
    errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ")
}

/// What a webhook receives: the automation, the execution and what it is about. Never a secret, never more
/// of the inbox than the triggering message.
fn webhook_body(
    automation: &AutomationRecord,
    execution: &ExecutionRecord,
    subject: &Subject,
    now: DateTime<Utc>,
) -> serde_json::Value {
    json!({
        "event": "automation.execution",
        "occurredAt": now.to_rfc3339(),
        "workspaceId": execution.workspace_id.to_string(),
        "automation": {
            "id": automation.id.to_string(),
            "name": automation.definition.name,
            "version": automation.version,
        },
        "execution": {
            "id": execution.id.to_string(),
            "trigger": execution.trigger_key,
            "context": execution.context,
        },
        "accountId": execution.account_id.map(|a| a.to_string()),
        "dialog": subject.dialog.as_ref().map(|d| json!({
            "id": d.id.to_string(),
            "title": d.title,
            "username": d.username,
            "peerKind": format!("{:?}", d.peer.kind()).to_uppercase(),
            "tags": d.tags,
        })),
        "message": subject.message.as_ref().map(|m| json!({
            "id": m.id.to_string(),
            "text": m.text,
            "sentAt": m.sent_at.to_rfc3339(),
        })),
    })
}
