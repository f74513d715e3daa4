//! Health changes as events: what the accounts' side announces to the workspace that holds the account.
//!
//! Rule: an account's health change is announced (in the transaction that recorded it) only to the
//! workspace leasing the account at that moment, and only when its state or risk moved.

use chrono::{DateTime, Utc};

use super::records::{EventDraft, InboxEvent, StoredEvent};
use crate::accounts::health::{CounterHolder, HealthChange, HealthObservation, record_observation};
use crate::error::DomainResult;
use crate::events::relay::Outbox;
use crate::ids::{AccountId, WorkspaceId};
use crate::store::{Store, StoreResult, Transaction};
use crate::tenancy::TenantScope;

/// Appends `AccountHealthChanged` for `holder` when `change` moved anything and `holder` still leases the
/// account (read in the same transaction, so a lease that just moved announces nothing to its old tenant).
pub async fn health_changed(
    tx: &dyn Transaction,
    holder: Option<WorkspaceId>,
    account: AccountId,
    change: &HealthChange,
    now: DateTime<Utc>,
) -> StoreResult<Option<StoredEvent>> {
    let Some(workspace) = holder.filter(|_| change.changed()) else {
        return Ok(None);
    };
    let scope = TenantScope::system(workspace);
    let holds = tx
        .find_account(Some(&scope), account)
        .await?
        .is_some_and(|a| a.leased_to == Some(workspace));
    if !holds {
        return Ok(None);
    }
    let event = InboxEvent::AccountHealthChanged {
        state: change.after.state.kind(),
        risk_score: change.after.risk.value(),
        previous_state: change.before.state.kind(),
        previous_risk_score: change.before.risk.value(),
    };
    let stored = super::append(tx, &scope, EventDraft::new(account, event), now).await?;
    if change.after.state.kind() != change.before.state.kind() {
        // Automations triggered by the new state are queued with the change that caused them.
        crate::automation::triggers::on_health_changed(
            tx,
            &scope,
            account,
            change.after.state.kind(),
            change.after.risk.value(),
            stored.sequence,
            now,
        )
        .await?;
    }
    Ok(Some(stored))
}

/// Records an observation of the account held by `holder` and announces the change, in one transaction.
pub async fn observe(
    store: &dyn Store,
    outbox: &Outbox,
    holder: Option<WorkspaceId>,
    account: AccountId,
    observation: HealthObservation,
    now: DateTime<Utc>,
) -> DomainResult<HealthChange> {
    let tx = store.begin().await?;
    let through = holder.map_or(CounterHolder::Pool, CounterHolder::Workspace);
    let change = record_observation(&*tx, through, account, observation, now).await?;
    let announced = health_changed(&*tx, holder, account, &change, now).await?;
    tx.commit().await?;
    if announced.is_some() {
        outbox.committed();
    }
    Ok(change)
}
