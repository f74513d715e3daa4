//! Automation rows to domain records and back, and the trigger index kept beside a definition.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde::{Deserialize, Serialize};
use tgos_domain::automation::definition::{AutomationDefinition, TriggerKind};
use tgos_domain::automation::records::{AutomationRecord, ExecutionRecord, ExecutionStatus, SealedWebhookSecret};
use tgos_domain::ids::{AccountId, AutomationId, DialogId, ExecutionId, MessageId, UserId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};

use super::EVERY_ACCOUNT;
use crate::entities::{automation_executions, automation_triggers, automations};
use crate::errors::DbResultExt as _;
use crate::tenant::Tenant;

#[derive(Serialize, Deserialize)]
struct StoredSecret {
    index: usize,
    key_version: u32,
    ciphertext: String,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::backend(format!("a stored {what} does not read"))
}

pub(super) fn automation(row: automations::Model) -> StoreResult<AutomationRecord> {
    let mut definition: AutomationDefinition =
        serde_json::from_str(&row.definition).map_err(|_| corrupt("automation definition"))?;
    definition.enabled = row.enabled;
    definition.name = row.name;
    let secrets: Vec<StoredSecret> =
        serde_json::from_str(&row.sealed_secrets).map_err(|_| corrupt("automation secret"))?;
    let sealed_secrets = secrets
        .into_iter()
        .map(|s| {
            Ok(SealedWebhookSecret {
                index: s.index,
                key_version: s.key_version,
                ciphertext: hex::decode(&s.ciphertext).map_err(|_| corrupt("automation secret"))?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(AutomationRecord {
        id: AutomationId::from_uuid(row.id),
        workspace_id: WorkspaceId::from_uuid(row.workspace_id),
        version: row.version,
        definition,
        sealed_secrets,
        created_by: row.created_by.map(UserId::from_uuid),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub(super) fn automation_row(record: &AutomationRecord) -> StoreResult<automations::ActiveModel> {
    let secrets: Vec<StoredSecret> = record
        .sealed_secrets
        .iter()
        .map(|s| StoredSecret {
            index: s.index,
            key_version: s.key_version,
            ciphertext: hex::encode(&s.ciphertext),
        })
        .collect();
    Ok(automations::ActiveModel {
        id: Set(record.id.as_uuid()),
        workspace_id: Set(record.workspace_id.as_uuid()),
        name: Set(record.definition.name.clone()),
        enabled: Set(record.definition.enabled),
        version: Set(record.version),
        trigger_kind: Set(record.definition.trigger.kind().as_str().to_owned()),
        definition: Set(serde_json::to_string(&record.definition).map_err(StoreError::backend)?),
        sealed_secrets: Set(serde_json::to_string(&secrets).map_err(StoreError::backend)?),
        created_by: Set(record.created_by.map(|u| u.as_uuid())),
        created_at: Set(record.created_at),
        updated_at: Set(record.updated_at),
        deleted_at: Set(None),
    })
}

pub(super) fn execution(row: automation_executions::Model) -> StoreResult<ExecutionRecord> {
    Ok(ExecutionRecord {
        id: ExecutionId::from_uuid(row.id),
        workspace_id: WorkspaceId::from_uuid(row.workspace_id),
        automation_id: AutomationId::from_uuid(row.automation_id),
        automation_version: row.automation_version,
        status: ExecutionStatus::parse(&row.status).ok_or_else(|| corrupt("execution status"))?,
        reason: row.reason,
        trigger_key: row.trigger_key,
        account_id: row.account_id.map(AccountId::from_uuid),
        dialog_id: row.dialog_id.map(DialogId::from_uuid),
        message_id: row.message_id.map(MessageId::from_uuid),
        context: serde_json::from_str(&row.context).map_err(|_| corrupt("execution context"))?,
        steps: serde_json::from_str(&row.steps).map_err(|_| corrupt("execution step"))?,
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
    })
}

/// Rewrites the automation's rows of the trigger index: none unless enabled and triggered by events.
pub(super) async fn index_triggers(db: &Tenant<'_>, record: &AutomationRecord, deleted: bool) -> StoreResult<()> {
    db.delete_many::<automation_triggers::Entity>()
        .filter(automation_triggers::Column::AutomationId.eq(record.id.as_uuid()))
        .exec(db.conn())
        .await
        .store()?;
    let kind = record.definition.trigger.kind();
    let indexed = matches!(
        kind,
        TriggerKind::MessageReceived | TriggerKind::NoReply | TriggerKind::HealthChanged
    );
    if deleted || !record.definition.enabled || !indexed {
        return Ok(());
    }
    let accounts = record.definition.trigger.accounts();
    let keys: Vec<String> = if accounts.is_empty() {
        vec![EVERY_ACCOUNT.to_owned()]
    } else {
        accounts.iter().map(ToString::to_string).collect()
    };
    let rows = keys.into_iter().map(|account_key| automation_triggers::ActiveModel {
        automation_id: Set(record.id.as_uuid()),
        account_key: Set(account_key),
        workspace_id: Set(db.id()),
        trigger_kind: Set(kind.as_str().to_owned()),
    });
    automation_triggers::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                automation_triggers::Column::AutomationId,
                automation_triggers::Column::AccountKey,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db.conn())
        .await
        .store()?;
    Ok(())
}
