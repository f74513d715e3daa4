//! Whether a queued execution runs: the automation still enabled, its cause still standing, its conditions
//! matched, the storm guard's room, and for sends the account's health and hourly automated budget. Any "no" is
//! the reason the execution is `SKIPPED` with; nothing has been done by then.

use crate::accounts::health::{CounterHolder, SendPolicy};
use crate::accounts::pool::records::AccountStatus;
use crate::automation::conditions::EvaluationContext;
use crate::automation::definition::{Action, Trigger};
use crate::automation::records::{AutomationRecord, ExecutionRecord};
use crate::automation::service::AutomationService;
use crate::error::DomainResult;
use crate::inbox::Direction;
use crate::tenancy::TenantScope;

use super::execute::Subject;

impl AutomationService {
    /// Whether a queued execution runs: the automation as it is now, or why not.
    pub(super) async fn decide(
        &self,
        scope: &TenantScope,
        automation: Option<&AutomationRecord>,
        execution: &ExecutionRecord,
        subject: &Subject,
    ) -> DomainResult<Result<AutomationRecord, String>> {
        let Some(automation) = automation else {
            return Ok(Err("the automation was deleted".to_owned()));
        };
        if !automation.definition.enabled {
            return Ok(Err("the automation is disabled".to_owned()));
        }
        if self.store.owner_restricted(scope).await? {
            return Ok(Err(crate::inbox::send::RESTRICTED.to_owned()));
        }
        if execution.dialog_id.is_some() && subject.dialog.is_none() {
            return Ok(Err("the dialog is gone".to_owned()));
        }
        if let Trigger::NoReply { after_minutes, .. } = &automation.definition.trigger
            && execution.trigger_key.starts_with("no-reply:")
            && let (Some(dialog), Some(message)) = (&subject.dialog, &subject.message)
        {
            let newer = self.store.messages(scope, dialog.id, None, 50).await?;
            let newer: Vec<_> = newer.iter().filter(|m| m.sent_at > message.sent_at).collect();
            if newer.iter().any(|m| m.direction == Direction::Outgoing) {
                return Ok(Err(format!("the message was answered within {after_minutes} minutes")));
            }
            if newer.iter().any(|m| m.direction == Direction::Incoming) {
                return Ok(Err("a newer message from the other side restarted the wait".to_owned()));
            }
        }
        let account = match execution.account_id {
            Some(account) => {
                let held = self
                    .store
                    .find_account(Some(scope), account)
                    .await?
                    .filter(|a| a.status == AccountStatus::Leased && a.leased_to == Some(scope.workspace_id()));
                if held.is_none() {
                    return Ok(Err("the workspace no longer holds the account".to_owned()));
                }
                Some(account)
            }
            None => None,
        };
        let now = self.clock.now();
        let health = match account {
            Some(account) => Some(
                self.store
                    .load(CounterHolder::Workspace(scope.workspace_id()), account)
                    .await?
                    .map(|s| s.health)
                    .unwrap_or_default(),
            ),
            None => None,
        };
        let risk = health.as_ref().map(|h| h.risk(now));
        let text = subject.message.as_ref().map(|m| m.text.as_str());
        let context = EvaluationContext {
            text,
            peer_kind: subject.dialog.as_ref().map(|d| d.peer.kind()),
            peer_username: subject.dialog.as_ref().and_then(|d| d.username.as_deref()),
            account,
            dialog_tags: subject.dialog.as_ref().map_or(&[][..], |d| &d.tags[..]),
            now,
            risk_score: risk.map(|r| r.value()),
        };
        let evaluation = self.conditions_of(automation)?.evaluate(&context);
        if let Some(reason) = evaluation.reason() {
            return Ok(Err(reason));
        }
        let hour_ago = now - chrono::Duration::hours(1);
        if let Some(dialog) = execution.dialog_id {
            let runs = self
                .store
                .executions_started_since(scope, Some(dialog), hour_ago)
                .await?;
            if runs >= self.settings.max_runs_per_dialog_hour {
                return Ok(Err(format!(
                    "storm guard: {runs} executions ran in this dialog in the last hour (at most {})",
                    self.settings.max_runs_per_dialog_hour
                )));
            }
        }
        let runs = self.store.executions_started_since(scope, None, hour_ago).await?;
        if runs >= self.settings.max_runs_per_workspace_hour {
            return Ok(Err(format!(
                "storm guard: {runs} executions ran in this workspace in the last hour (at most {})",
                self.settings.max_runs_per_workspace_hour
            )));
        }
        let sends = automation
            .definition
            .actions
            .iter()
            .filter(|a| matches!(a, Action::SendMessage { .. }))
            .count();
        if let (Some(account), Some(health), Some(risk)) = (account, health.as_ref(), risk)
            && sends > 0
        {
            let policy = SendPolicy::default();
            if let Err(refusal) = policy.decide(health, crate::accounts::health::SendKind::Automated, now) {
                return Ok(Err(match refusal.reason {
                    crate::accounts::health::RefusalReason::HardState(state) => {
                        format!("account {}", state.as_str())
                    }
                    crate::accounts::health::RefusalReason::RiskTooHigh => format!(
                        "risk {} over the automated limit {}",
                        risk.value(),
                        policy.automated_max_risk.value()
                    ),
                }));
            }
            let budget = u64::from(policy.automated_per_hour(risk));
            let sent = self.store.automated_sends_since(scope, account, hour_ago).await?;
            if sent + sends as u64 > budget {
                return Ok(Err(format!(
                    "the account's automated budget is spent: {sent} automated messages in the last hour, at most {budget} at risk {}",
                    risk.value()
                )));
            }
        }
        Ok(Ok(automation.clone()))
    }
}
