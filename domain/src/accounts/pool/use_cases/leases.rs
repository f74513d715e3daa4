//! `renewLease` and `releaseLease`: a workspace extends a lease (paying again) or gives the account back.
//!
//! Rules: a renewal extends from the lease's current end, charged under a reference naming that end, so a
//! renewal sent twice at once extends and charges once. A release re-seals the payload under the platform's
//! key and returns the account to the pool (or retires it: see `rules`); the unused days are not refunded.
//! Both only touch an active lease of the caller's workspace; a lease of an account staff are retiring is not
//! renewed.

use chrono::Duration;
use serde_json::json;

use crate::accounts::health::{CounterHolder, HealthStateKind};
use crate::accounts::pool::records::{AccountStatus, LeaseRecord, LeaseStatus};
use crate::accounts::pool::rules::{may_renew, status_after_lease};
use crate::accounts::pool::service::AccountsService;
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::billing::LedgerTransaction;
use crate::billing::ports::Posted;
use crate::billing::short_of_funds;
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::LeaseId;
use crate::request::ClientInfo;
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};
use crate::vault::{KeyOwner, Purpose};

const ENDED: &str = "this lease has ended";
const CHANGED: &str = "the lease changed meanwhile; load it again";

impl AccountsService {
    async fn active_lease(&self, scope: &TenantScope, id: LeaseId) -> DomainResult<LeaseRecord> {
        let lease = self
            .store
            .find_lease(scope, id)
            .await?
            .ok_or(DomainError::NotFound("lease"))?;
        if lease.status != LeaseStatus::Active {
            return Err(DomainError::conflict("leaseId", ENDED));
        }
        Ok(lease)
    }

    /// Extends the lease by `days`, charged at its price per day.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn renew_lease(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        id: LeaseId,
        days: i64,
    ) -> DomainResult<LeaseRecord> {
        scope.require(Role::Operator, Some(Scope::AccountsWrite), "renewing leases")?;
        let lease = self.active_lease(scope, id).await?;
        let cost = self.lease_cost(lease.price_per_day, days)?;
        let now = self.clock.now();
        if lease.ends_at <= now {
            return Err(DomainError::conflict("leaseId", ENDED));
        }
        let ends_at = lease.ends_at + Duration::days(days);
        let charge = LedgerTransaction::charge(
            scope.workspace_id(),
            cost,
            format!("lease:{}:from:{}", lease.id, lease.ends_at.timestamp_micros()),
            format!("Renewal of a Telegram account for {days} days"),
        );
        let tx = self.store.begin().await?;
        let balance_after = match tx.post(scope, &charge, now).await? {
            Posted::Applied { balance_after } => balance_after,
            Posted::AlreadyApplied { .. } | Posted::ReferenceConflict => {
                return Err(DomainError::conflict("leaseId", CHANGED));
            }
            Posted::InsufficientFunds { balance } => {
                return Err(short_of_funds(balance, cost, "this renewal"));
            }
        };
        if !tx.extend_lease(scope, id, lease.ends_at, ends_at, now).await? {
            return Err(DomainError::conflict("leaseId", CHANGED));
        }
        if !tx.extend_account_lease(scope, lease.account_id, ends_at, now).await? {
            // Either the account changed hands, or staff are retiring it (which a renewal never outlasts).
            let retiring = tx
                .find_account(Some(scope), lease.account_id)
                .await?
                .is_some_and(|a| a.retiring_since.is_some());
            may_renew(retiring).map_err(|refusal| DomainError::conflict("leaseId", refusal))?;
            return Err(DomainError::conflict("leaseId", CHANGED));
        }
        let draft = AuditDraft {
            chain: ChainId::Workspace(scope.workspace_id()),
            actor: Actor::of(principal),
            action: "lease.renewed",
            target_type: Some("LEASE"),
            target_id: Some(lease.id.to_string()),
            client: client.clone(),
            metadata: json!({
                "days": days,
                "amountMinor": cost.minor(),
                "currency": cost.currency().code(),
                "endsAt": ends_at.to_rfc3339(),
            }),
        };
        audit::append(&*tx, draft, now).await?;
        crate::notices::leases::remind_before_end(&*tx, scope, &lease, ends_at, now).await?;
        let threshold = self.config.low_balance_minor;
        crate::notices::low_balance::after_charge(&*tx, scope, cost, balance_after, threshold, now).await?;
        tx.commit().await?;
        Ok(LeaseRecord {
            ends_at,
            updated_at: now,
            ..lease
        })
    }

    /// Ends the lease now and returns the account to the pool.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn release_lease(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        id: LeaseId,
    ) -> DomainResult<LeaseRecord> {
        scope.require(Role::Operator, Some(Scope::AccountsWrite), "releasing leases")?;
        let lease = self.active_lease(scope, id).await?;
        self.end(scope, lease, LeaseStatus::Released, Actor::of(principal), client)
            .await
    }

    /// Ends `lease` with `status`: the account goes back to the pool sealed under the platform's key.
    pub(crate) async fn end(
        &self,
        scope: &TenantScope,
        lease: LeaseRecord,
        status: LeaseStatus,
        actor: Actor,
        client: &ClientInfo,
    ) -> DomainResult<LeaseRecord> {
        let account = self
            .store
            .find_account(Some(scope), lease.account_id)
            .await?
            .filter(|a| a.status == AccountStatus::Leased && a.leased_to == Some(scope.workspace_id()))
            .ok_or_else(|| DomainError::internal("an active lease without its leased account"))?;
        let sealed = self
            .vault
            .reseal(
                &account.sealed,
                account.id,
                Purpose::TelegramSession,
                KeyOwner::Platform,
            )
            .await?;
        let now = self.clock.now();
        // An account Telegram no longer accepts is not offered again: it is retired, never re-rented.
        let health = self
            .store
            .load(CounterHolder::Workspace(scope.workspace_id()), account.id)
            .await?
            .map(|s| s.health)
            .unwrap_or_default();
        let dead = matches!(
            health.effective_state(now).kind(),
            HealthStateKind::Banned | HealthStateKind::SessionInvalid | HealthStateKind::Frozen
        );
        // Staff retiring it meanwhile makes the return to offer change nothing (a `CONFLICT`; the sweep tries
        // again and then reads the mark).
        let back_to = status_after_lease(dead, account.retiring_since.is_some());
        // Released early, the lease ends now; run out, it keeps the end that was paid for. Either way only the
        // end this call read: a renewal that moved it meanwhile wins, and this call changes nothing.
        let ended_at = now.min(lease.ends_at);
        let tx = self.store.begin().await?;
        if !tx
            .end_lease(scope, lease.id, lease.ends_at, ended_at, status, now)
            .await?
            || !tx
                .return_account(scope, account.id, &account.sealed, &sealed, back_to, now)
                .await?
        {
            return Err(DomainError::conflict("leaseId", CHANGED));
        }
        let draft = AuditDraft {
            chain: ChainId::Workspace(scope.workspace_id()),
            actor,
            action: if status == LeaseStatus::Expired {
                "lease.expired"
            } else {
                "lease.released"
            },
            target_type: Some("LEASE"),
            target_id: Some(lease.id.to_string()),
            client: client.clone(),
            metadata: json!({
                "account": account.id.to_string(),
                "endedAt": ended_at.to_rfc3339(),
                "retired": back_to == AccountStatus::Retired,
            }),
        };
        audit::append(&*tx, draft, now).await?;
        if status == LeaseStatus::Expired {
            crate::notices::leases::ended(&*tx, scope, &lease, ended_at, now).await?;
        }
        tx.commit().await?;
        Ok(LeaseRecord {
            status,
            ends_at: ended_at,
            updated_at: now,
            ..lease
        })
    }
}
