//! Creating, changing and listing automations.
//!
//! Rules:
//! - ADMIN and above write (keys with `AUTOMATIONS_WRITE`); VIEWER and above read (keys with
//!   `AUTOMATIONS_READ`).
//! - A definition is validated whole before anything is stored, and every bad field is named
//!   (`input.actions[1].sendMessage.text`): the rules of [`super::super::validate`], then what needs the
//!   workspace (accounts it holds, members it has, webhook destinations that resolve to allowed addresses).
//! - At most [`AutomationSettings::max_per_workspace`] automations per workspace, counted under the
//!   workspace's lock in the creating transaction, so parallel creations cannot pass it together.
//! - Every change is versioned (a stale `expectedVersion` is `CONFLICT`), audited on the workspace chain and
//!   announced as `AutomationChanged` in its transaction. Webhook secrets are sealed under the workspace's data
//!   key and never shown again.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::automation::definition::{Action, AutomationDefinition, Trigger};
use crate::automation::records::{AutomationRecord, SealedWebhookSecret};
use crate::automation::schedule::CronSchedule;
use crate::automation::service::AutomationService;
use crate::automation::triggers::SCHEDULE_JOB;
use crate::automation::validate::validate;
use crate::error::{DomainError, DomainResult, FieldError};
use crate::events::{self, AutomationChange, EventDraft, InboxEvent};
use crate::identity::Principal;
use crate::ids::AutomationId;
use crate::jobs::NewJob;
use crate::paging::{Page, PageRequest};
use crate::request::ClientInfo;
use crate::store::Transaction;
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};
use crate::vault::KeyOwner;

impl AutomationService {
    /// The workspace's automations, oldest first (VIEWER and above, or keys with `AUTOMATIONS_READ`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn automations(
        &self,
        scope: &TenantScope,
        request: PageRequest<AutomationId>,
    ) -> DomainResult<Page<AutomationRecord>> {
        scope.require(Role::Viewer, Some(Scope::AutomationsRead), "reading automations")?;
        request
            .read(|after, rows| self.store.automations(scope, after, rows))
            .await
    }

    /// One automation of the workspace (VIEWER and above, or keys with `AUTOMATIONS_READ`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn automation(&self, scope: &TenantScope, id: AutomationId) -> DomainResult<AutomationRecord> {
        scope.require(Role::Viewer, Some(Scope::AutomationsRead), "reading automations")?;
        self.store
            .find_automation(scope, id)
            .await?
            .ok_or(DomainError::NotFound("automation"))
    }

    /// Creates an automation (ADMIN and above, or keys with `AUTOMATIONS_WRITE`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn create_automation(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        definition: AutomationDefinition,
    ) -> DomainResult<AutomationRecord> {
        scope.require(Role::Admin, Some(Scope::AutomationsWrite), "changing automations")?;
        self.check(scope, &definition).await?;
        let now = self.clock.now();
        let id = AutomationId::generate();
        let (definition, sealed_secrets) = self.seal_secrets(scope, id, definition).await?;
        let record = AutomationRecord {
            id,
            workspace_id: scope.workspace_id(),
            version: 1,
            definition,
            sealed_secrets,
            created_by: principal.user_id(),
            created_at: now,
            updated_at: now,
        };
        let tx = self.store.begin().await?;
        tx.lock_workspace(scope).await?;
        let count = tx.count_automations(scope).await?;
        if count >= self.settings.max_per_workspace {
            return Err(DomainError::invalid(
                "workspaceId",
                format!("the workspace has {count} automations, the most it may have; delete one first"),
            ));
        }
        tx.insert_automation(scope, &record).await?;
        self.announce(&*tx, scope, principal, client, &record, AutomationChange::Created, now)
            .await?;
        tx.commit().await?;
        self.committed();
        Ok(record)
    }

    /// Replaces an automation's definition when `expected_version` is still its version (ADMIN and above,
    /// or keys with `AUTOMATIONS_WRITE`); `CONFLICT` when someone changed it since.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn update_automation(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        id: AutomationId,
        expected_version: i32,
        definition: AutomationDefinition,
    ) -> DomainResult<AutomationRecord> {
        scope.require(Role::Admin, Some(Scope::AutomationsWrite), "changing automations")?;
        let current = self
            .store
            .find_automation(scope, id)
            .await?
            .ok_or(DomainError::NotFound("automation"))?;
        if current.version != expected_version {
            return Err(stale(current.version));
        }
        self.check(scope, &definition).await?;
        let (definition, sealed_secrets) = self.seal_secrets(scope, id, definition).await?;
        let now = self.clock.now();
        let record = AutomationRecord {
            version: expected_version + 1,
            definition,
            sealed_secrets,
            updated_at: now,
            ..current
        };
        self.replace(
            scope,
            principal,
            client,
            record,
            expected_version,
            AutomationChange::Updated,
        )
        .await
    }

    /// Turns an automation on or off (ADMIN and above, or keys with `AUTOMATIONS_WRITE`); a new version.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn set_automation_enabled(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        id: AutomationId,
        enabled: bool,
    ) -> DomainResult<AutomationRecord> {
        scope.require(Role::Admin, Some(Scope::AutomationsWrite), "changing automations")?;
        let current = self
            .store
            .find_automation(scope, id)
            .await?
            .ok_or(DomainError::NotFound("automation"))?;
        if current.definition.enabled == enabled {
            return Ok(current);
        }
        let expected = current.version;
        let mut record = current;
        record.definition.enabled = enabled;
        record.version = expected + 1;
        record.updated_at = self.clock.now();
        let change = if enabled {
            AutomationChange::Enabled
        } else {
            AutomationChange::Disabled
        };
        self.replace(scope, principal, client, record, expected, change).await
    }

    /// Deletes an automation (ADMIN and above, or keys with `AUTOMATIONS_WRITE`): it stops at once; its
    /// executions stay readable.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn delete_automation(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        id: AutomationId,
    ) -> DomainResult<bool> {
        scope.require(Role::Admin, Some(Scope::AutomationsWrite), "changing automations")?;
        let current = self
            .store
            .find_automation(scope, id)
            .await?
            .ok_or(DomainError::NotFound("automation"))?;
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        if !tx.delete_automation(scope, id, now).await? {
            return Err(DomainError::NotFound("automation"));
        }
        let record = AutomationRecord {
            version: current.version + 1,
            ..current
        };
        self.announce(&*tx, scope, principal, client, &record, AutomationChange::Deleted, now)
            .await?;
        tx.commit().await?;
        self.committed();
        Ok(true)
    }

    async fn replace(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        record: AutomationRecord,
        expected: i32,
        change: AutomationChange,
    ) -> DomainResult<AutomationRecord> {
        let now = record.updated_at;
        let tx = self.store.begin().await?;
        if !tx.update_automation(scope, &record, expected).await? {
            let version = tx
                .find_automation(scope, record.id)
                .await?
                .map(|a| a.version)
                .ok_or(DomainError::NotFound("automation"))?;
            return Err(stale(version));
        }
        self.announce(&*tx, scope, principal, client, &record, change, now)
            .await?;
        tx.commit().await?;
        self.committed();
        Ok(record)
    }

    /// Audits and announces a change, and queues a schedule's next fire, in the change's transaction.
    #[expect(
        clippy::too_many_arguments,
        reason = "the change and who made it, all needed for the audit entry"
    )]
    async fn announce(
        &self,
        tx: &dyn Transaction,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        record: &AutomationRecord,
        change: AutomationChange,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        let draft = AuditDraft {
            chain: ChainId::Workspace(scope.workspace_id()),
            actor: Actor::of(principal),
            action: match change {
                AutomationChange::Created => "automation.created",
                AutomationChange::Updated => "automation.updated",
                AutomationChange::Enabled => "automation.enabled",
                AutomationChange::Disabled => "automation.disabled",
                AutomationChange::Deleted => "automation.deleted",
            },
            target_type: Some("AUTOMATION"),
            target_id: Some(record.id.to_string()),
            client: client.clone(),
            metadata: json!({
                "name": record.definition.name,
                "version": record.version,
                "trigger": record.definition.trigger.kind().as_str(),
                "actions": record.definition.actions.iter().map(Action::name).collect::<Vec<_>>(),
                "enabled": record.definition.enabled,
            }),
        };
        audit::append(tx, draft, now).await?;
        let event = InboxEvent::AutomationChanged {
            automation_id: record.id,
            name: record.definition.name.clone(),
            version: record.version,
            change,
        };
        events::append(tx, scope, EventDraft::of(None, event), now).await?;
        if change != AutomationChange::Deleted && record.definition.enabled {
            queue_next_fire(tx, scope, record, now).await?;
        }
        Ok(())
    }

    fn committed(&self) {
        self.outbox.committed();
        self.jobs.enqueued();
    }

    /// Validates a definition: the pure rules, then what needs the workspace. Every bad field is named.
    pub(crate) async fn check(&self, scope: &TenantScope, definition: &AutomationDefinition) -> DomainResult<()> {
        let mut errors = validate(definition, &self.settings.limits()).err().unwrap_or_default();
        let accounts = definition.trigger.accounts();
        if !accounts.is_empty() {
            let held = self.store.held_accounts(scope, accounts).await?;
            let member = match &definition.trigger {
                Trigger::NoReply { .. } => "noReply",
                _ => "messageReceived",
            };
            for (index, account) in accounts.iter().enumerate() {
                if !held.iter().any(|a| a.id == *account) {
                    errors.push(FieldError::new(
                        format!("input.trigger.{member}.accountIds[{index}]"),
                        "is not an account this workspace holds",
                    ));
                }
            }
        }
        for (index, action) in definition.actions.iter().enumerate() {
            match action {
                Action::AssignDialog { user: Some(user) } => {
                    let member = self.store.find_member(scope, *user).await?;
                    if member.is_none() {
                        errors.push(FieldError::new(
                            format!("input.actions[{index}].assignDialog.userId"),
                            "is not a member of this workspace",
                        ));
                    }
                }
                Action::Webhook { url, .. } => {
                    let path = format!("input.actions[{index}].webhook.url");
                    let syntax_refused = errors.iter().any(|e| e.field == path);
                    if !syntax_refused && let Err(why) = self.webhooks.check_destination(url).await {
                        errors.push(FieldError::new(path, why));
                    }
                }
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(errors))
        }
    }

    /// Seals the webhook secrets of `definition` and blanks them in it.
    async fn seal_secrets(
        &self,
        scope: &TenantScope,
        id: AutomationId,
        mut definition: AutomationDefinition,
    ) -> DomainResult<(AutomationDefinition, Vec<SealedWebhookSecret>)> {
        let owner = KeyOwner::Workspace(scope.workspace_id());
        let mut sealed = Vec::new();
        for (index, action) in definition.actions.iter_mut().enumerate() {
            if let Action::Webhook { secret, .. } = action {
                let (key_version, ciphertext) = self.seal_secret(owner, id, secret).await?;
                sealed.push(SealedWebhookSecret {
                    index,
                    key_version,
                    ciphertext,
                });
                secret.clear();
            }
        }
        Ok((definition, sealed))
    }
}

/// Queues the next fire of a schedule automation after `now` (nothing for other triggers). The job names the
/// version: a later change queues its own, and the older one finds its version gone and stops.
pub(crate) async fn queue_next_fire(
    tx: &dyn Transaction,
    scope: &TenantScope,
    record: &AutomationRecord,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let Trigger::Schedule { cron, timezone } = &record.definition.trigger else {
        return Ok(());
    };
    let schedule =
        CronSchedule::parse(cron, timezone).map_err(|_| DomainError::internal("a stored schedule no longer parses"))?;
    let Some(fire) = schedule.next_after(now) else {
        return Ok(());
    };
    let job = NewJob::now(
        SCHEDULE_JOB,
        Some(scope.workspace_id()),
        json!({
            "automation": record.id.to_string(),
            "version": record.version,
            "fire": fire.to_rfc3339(),
        }),
        now,
    )
    .at(fire)
    .with_dedupe_key(format!(
        "schedule:{}:{}:{}",
        record.id,
        record.version,
        fire.timestamp()
    ));
    crate::jobs::enqueue(tx, &job, now).await?;
    Ok(())
}

fn stale(version: i32) -> DomainError {
    DomainError::Conflict {
        field: Some("expectedVersion".to_owned()),
        message: format!("the automation changed since it was read: it is at version {version} now"),
    }
}

impl AutomationService {
    /// The workspace of an automation named by id: an API key's own, or for a person one of their workspaces.
    #[tracing::instrument(skip_all)]
    pub async fn automation_workspace(
        &self,
        principal: &Principal,
        id: AutomationId,
    ) -> DomainResult<crate::ids::WorkspaceId> {
        match principal {
            Principal::ApiKey { workspace_id, .. } => Ok(*workspace_id),
            Principal::User { user_id, .. } => self
                .store
                .automation_workspace_of_member(*user_id, id)
                .await?
                .ok_or(DomainError::NotFound("automation")),
        }
    }
}
