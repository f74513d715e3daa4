//! What automations need from storage. Every method is bound to a workspace scope, except the sweeps.
//!
//! Rules for implementations:
//! - `update_automation` changes the row only when its stored version is `expected_version` (one conditional
//!   UPDATE) and stores `expected_version + 1`; deleting, enabling and disabling bump the version the same way.
//! - The trigger index (`automations_triggered_by`) holds only enabled, undeleted automations and is kept in
//!   the same statement group as the change, so a lookup costs one indexed read whatever the number of
//!   automations that do not concern the account.
//! - `insert_execution` stores nothing and answers `false` when the automation already has an execution with
//!   that trigger key.
//! - `save_execution` writes the status, reason, steps and times of an execution only while its stored status
//!   is `expected` (a compare-and-swap), so two workers cannot both move one execution.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::definition::TriggerKind;
use super::records::{AutomationRecord, AutomationStats, ExecutionFilter, ExecutionRecord, ExecutionStatus};
use crate::ids::{AccountId, AutomationId, DialogId, ExecutionId, MessageId, UserId, WorkspaceId};
use crate::store::StoreResult;
use crate::tenancy::TenantScope;

#[async_trait]
pub trait AutomationRepository: Send + Sync {
    async fn insert_automation(&self, scope: &TenantScope, record: &AutomationRecord) -> StoreResult<()>;
    /// Replaces the definition when the stored version is `expected_version`; `false` when it is not (or the
    /// automation is gone).
    async fn update_automation(
        &self,
        scope: &TenantScope,
        record: &AutomationRecord,
        expected_version: i32,
    ) -> StoreResult<bool>;
    /// Marks the automation deleted (its executions stay readable); `false` when unknown.
    async fn delete_automation(&self, scope: &TenantScope, id: AutomationId, at: DateTime<Utc>) -> StoreResult<bool>;
    /// An automation of the workspace that is not deleted.
    async fn find_automation(&self, scope: &TenantScope, id: AutomationId) -> StoreResult<Option<AutomationRecord>>;
    /// The name of an automation, deleted or not (for executions that outlived it).
    async fn automation_names(
        &self,
        scope: &TenantScope,
        ids: &[AutomationId],
    ) -> StoreResult<Vec<(AutomationId, String)>>;
    /// The workspace of an automation named by id, if `user` is a member of it.
    async fn automation_workspace_of_member(&self, user: UserId, id: AutomationId) -> StoreResult<Option<WorkspaceId>>;
    /// The workspace's undeleted automations, oldest first, after `after`.
    async fn automations(
        &self,
        scope: &TenantScope,
        after: Option<AutomationId>,
        limit: u64,
    ) -> StoreResult<Vec<AutomationRecord>>;
    async fn count_automations(&self, scope: &TenantScope) -> StoreResult<u64>;
    /// The enabled automations of the `kinds` that concern `account` (listing it, or listing no account).
    async fn automations_triggered_by(
        &self,
        scope: &TenantScope,
        kinds: &[TriggerKind],
        account: Option<AccountId>,
    ) -> StoreResult<Vec<AutomationRecord>>;
    /// Every enabled schedule automation of every workspace (the scheduler's sweep), after `after`.
    async fn scheduled_automations(
        &self,
        after: Option<AutomationId>,
        limit: u64,
    ) -> StoreResult<Vec<AutomationRecord>>;

    async fn insert_execution(&self, scope: &TenantScope, execution: &ExecutionRecord) -> StoreResult<bool>;
    async fn find_execution(&self, scope: &TenantScope, id: ExecutionId) -> StoreResult<Option<ExecutionRecord>>;
    /// Stores the execution's status, version, reason, steps and times when its stored status is `expected`.
    async fn save_execution(
        &self,
        scope: &TenantScope,
        execution: &ExecutionRecord,
        expected: ExecutionStatus,
    ) -> StoreResult<bool>;
    /// The workspace's executions, newest first, before `after`.
    async fn executions(
        &self,
        scope: &TenantScope,
        filter: ExecutionFilter,
        after: Option<ExecutionId>,
        limit: u64,
    ) -> StoreResult<Vec<ExecutionRecord>>;
    /// How many executions of the workspace (of one dialog when given) started since `since` (the storm guard).
    async fn executions_started_since(
        &self,
        scope: &TenantScope,
        dialog: Option<DialogId>,
        since: DateTime<Utc>,
    ) -> StoreResult<u64>;
    async fn automation_stats(
        &self,
        scope: &TenantScope,
        ids: &[AutomationId],
    ) -> StoreResult<Vec<(AutomationId, AutomationStats)>>;
    /// Deletes executions that finished as `SKIPPED` before `before`, across workspaces (the retention sweep).
    async fn prune_skipped_executions(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// The message an automated send with this idempotency key stored, if any.
    async fn find_automated_send(&self, scope: &TenantScope, key: &str) -> StoreResult<Option<MessageId>>;
    /// Records that the automated send `key` is `message` (in the transaction storing the message); a key
    /// already recorded is a `UniqueViolation("automation_sends_pkey")`.
    async fn record_automated_send(
        &self,
        scope: &TenantScope,
        key: &str,
        message: MessageId,
        account: AccountId,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// How many automated messages the account sent for the workspace since `since` (the hourly budget).
    async fn automated_sends_since(
        &self,
        scope: &TenantScope,
        account: AccountId,
        since: DateTime<Utc>,
    ) -> StoreResult<u64>;
}
