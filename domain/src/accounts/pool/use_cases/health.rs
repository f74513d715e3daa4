//! Reading and recording an account's health.
//!
//! Rules: a workspace reads the health and counters only of an account it holds (VIEWER and above, or keys
//! with `ACCOUNTS_READ`); an account of another workspace is `NOT_FOUND`, like one that does not exist. The
//! reads for many accounts at once (`*_of_many`, for the accounts a page names) apply the same rules in a fixed
//! number of reads, leaving out the accounts the workspace does not hold; the single reads are those with one.
//! Observations are recorded by the service itself (what Telegram answered) with compare-and-swap on the
//! stored health, so concurrent reporters lose nothing.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use serde_json::json;

use crate::accounts::health::{
    AccountHealth, CounterHolder, DayCounts, HealthChange, HealthObservation, HealthSignal, HealthState, RiskBucket,
    RiskScore, record_observation, utc_day,
};
use crate::accounts::pool::records::{AccountRecord, AccountStatus};
use crate::accounts::pool::service::AccountsService;
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::error::{DomainError, DomainResult};
use crate::events::announce;
use crate::identity::Principal;
use crate::ids::{AccountId, WorkspaceId};
use crate::request::{Admit, ClientInfo};
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};

/// An account's health as a workspace sees it, evaluated at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthView {
    pub state: HealthState,
    pub risk: RiskScore,
    /// Every restriction in force, most severe first (the state is the first, or ACTIVE).
    pub restrictions: Vec<HealthState>,
    /// The risk ledger: points of bad signals per 15 minutes within the last 24 hours, oldest first.
    pub signals: Vec<RiskBucket>,
    pub last_observed_at: Option<DateTime<Utc>>,
}

impl HealthView {
    pub(crate) fn of(health: &AccountHealth, now: DateTime<Utc>) -> Self {
        Self {
            state: health.effective_state(now),
            risk: health.risk(now),
            restrictions: health.restrictions(now),
            signals: health.ledger().buckets().to_vec(),
            last_observed_at: health.last_observed_at(),
        }
    }
}

fn is_held_by(account: &AccountRecord, scope: &TenantScope) -> bool {
    account.status == AccountStatus::Leased && account.leased_to == Some(scope.workspace_id())
}

/// The longest span of daily counters one read returns.
pub const MAX_COUNTER_DAYS: i64 = 90;

impl AccountsService {
    async fn held_account(&self, scope: &TenantScope, account: AccountId) -> DomainResult<AccountRecord> {
        scope.require(Role::Viewer, Some(Scope::AccountsRead), "reading account health")?;
        self.store
            .find_account(Some(scope), account)
            .await?
            .filter(|a| is_held_by(a, scope))
            .ok_or(DomainError::NotFound("account"))
    }

    /// Those of `accounts` the workspace holds, in one read, under the rule of [`Self::held_account`].
    async fn held_accounts_of(&self, scope: &TenantScope, accounts: &[AccountId]) -> DomainResult<Vec<AccountRecord>> {
        scope.require(Role::Viewer, Some(Scope::AccountsRead), "reading account health")?;
        Ok(self
            .store
            .held_accounts(scope, accounts)
            .await?
            .into_iter()
            .filter(|a| is_held_by(a, scope))
            .collect())
    }

    /// The health of an account the workspace holds: its state and risk now (facts about the account, which
    /// decide whether it may send), and only the signals observed since this workspace's lease began (what an
    /// earlier holder did stays that holder's).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn health(&self, scope: &TenantScope, account: AccountId) -> DomainResult<HealthView> {
        self.health_of_many(scope, &[account])
            .await?
            .remove(&account)
            .ok_or(DomainError::NotFound("account"))
    }

    /// [`Self::health`] of each of `accounts`, in two reads however many they are (the accounts a page names).
    /// Accounts the workspace does not hold are absent.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn health_of_many(
        &self,
        scope: &TenantScope,
        accounts: &[AccountId],
    ) -> DomainResult<HashMap<AccountId, HealthView>> {
        let held = self.held_accounts_of(scope, accounts).await?;
        let ids: Vec<AccountId> = held.iter().map(|a| a.id).collect();
        let mut stored = self
            .store
            .load_many(CounterHolder::Workspace(scope.workspace_id()), &ids)
            .await?;
        let now = self.clock.now();
        Ok(held
            .into_iter()
            .map(|account| {
                let health = stored.remove(&account.id).map(|s| s.health).unwrap_or_default();
                let mut view = HealthView::of(&health, now);
                if let Some(since) = account.leased_since {
                    view.signals.retain(|bucket| bucket.at > since);
                }
                (account.id, view)
            })
            .collect())
    }

    /// The daily engagement counters of an account the workspace holds, for the last `days` days (today
    /// included), oldest first; days without activity are absent. Only what happened while this workspace held
    /// the account counts: each holder's counters are its own.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn counters(&self, scope: &TenantScope, account: AccountId, days: i64) -> DomainResult<Vec<DayCounts>> {
        self.counters_of_many(scope, &[account], days)
            .await?
            .remove(&account)
            .ok_or(DomainError::NotFound("account"))
    }

    /// [`Self::counters`] of each of `accounts`, in a fixed number of reads however many they are. Accounts the
    /// workspace does not hold are absent.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn counters_of_many(
        &self,
        scope: &TenantScope,
        accounts: &[AccountId],
        days: i64,
    ) -> DomainResult<HashMap<AccountId, Vec<DayCounts>>> {
        if !(1..=MAX_COUNTER_DAYS).contains(&days) {
            return Err(DomainError::invalid("days", format!("must be 1 to {MAX_COUNTER_DAYS}")));
        }
        let held = self.held_accounts_of(scope, accounts).await?;
        let ids: Vec<AccountId> = held.iter().map(|a| a.id).collect();
        let since = utc_day(self.clock.now() - Duration::days(days - 1));
        let mut counted = self
            .store
            .counters_since(&ids, CounterHolder::Workspace(scope.workspace_id()), since)
            .await?;
        Ok(ids
            .into_iter()
            .map(|id| (id, counted.remove(&id).unwrap_or_default()))
            .collect())
    }

    /// An operator pauses a held account: all sending stops until someone resumes it (OPERATOR and above;
    /// people only, as the pause names who did it). Audited as `account.paused`. `admit` spends the account's
    /// budget of operator actions once the caller is authorized and the account is held.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn pause_account(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        account: AccountId,
        admit: impl Admit,
    ) -> DomainResult<HealthView> {
        let by = self.operator_of(scope, principal, account, "pausing accounts").await?;
        admit.admit().await?;
        self.operator_signal(
            scope,
            principal,
            client,
            account,
            HealthSignal::OperatorPaused { by },
            "account.paused",
        )
        .await
    }

    /// An operator resumes a held account: lifts a pause, a spam limit or a freeze observed before now; a
    /// cooldown still runs out by time, and a ban or an invalid session stays (the returned health shows
    /// what is left). Audited as `account.resumed`. `admit` as for a pause.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn resume_account(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        account: AccountId,
        admit: impl Admit,
    ) -> DomainResult<HealthView> {
        let by = self.operator_of(scope, principal, account, "resuming accounts").await?;
        admit.admit().await?;
        self.operator_signal(
            scope,
            principal,
            client,
            account,
            HealthSignal::OperatorResumed { by },
            "account.resumed",
        )
        .await
    }

    async fn operator_of(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        account: AccountId,
        what: &str,
    ) -> DomainResult<crate::ids::UserId> {
        scope.require(Role::Operator, None, what)?;
        let by = principal.require_user()?;
        self.held_account(scope, account).await?;
        Ok(by)
    }

    async fn operator_signal(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        account: AccountId,
        signal: HealthSignal,
        action: &'static str,
    ) -> DomainResult<HealthView> {
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let holder = CounterHolder::Workspace(scope.workspace_id());
        let change = record_observation(&*tx, holder, account, HealthObservation::new(signal, now), now).await?;
        let announced = announce::health_changed(&*tx, Some(scope.workspace_id()), account, &change, now).await?;
        let draft = AuditDraft {
            chain: ChainId::Workspace(scope.workspace_id()),
            actor: Actor::of(principal),
            action,
            target_type: Some("ACCOUNT"),
            target_id: Some(account.to_string()),
            client: client.clone(),
            metadata: json!({
                "from": change.before.state.as_str(),
                "to": change.after.state.as_str(),
            }),
        };
        audit::append(&*tx, draft, now).await?;
        tx.commit().await?;
        if announced.is_some() {
            self.outbox.committed();
        }
        let stored = self.store.load(holder, account).await?;
        Ok(HealthView::of(&stored.map(|s| s.health).unwrap_or_default(), now))
    }

    /// Records what Telegram said about an account. The change is announced to `holder` when that workspace
    /// does hold the account now (checked, so a wrong holder announces nothing).
    #[tracing::instrument(skip_all)]
    pub async fn record_health(
        &self,
        holder: Option<WorkspaceId>,
        account: AccountId,
        observation: HealthObservation,
    ) -> DomainResult<HealthChange> {
        let holder = match holder {
            Some(workspace) => self
                .store
                .find_account(Some(&TenantScope::system(workspace)), account)
                .await?
                .and_then(|a| a.leased_to)
                .filter(|held_by| *held_by == workspace),
            None => None,
        };
        announce::observe(
            &*self.store,
            &self.outbox,
            holder,
            account,
            observation,
            self.clock.now(),
        )
        .await
    }
}
