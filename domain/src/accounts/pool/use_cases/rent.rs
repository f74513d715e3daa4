//! `rentAccount`: a workspace rents an account on offer for whole days, paid from its wallet.
//!
//! The payload is re-sealed under the workspace's key before the transaction (the vault's key store writes
//! on its own connection); the transaction then takes the account only if it is still on offer with exactly
//! that sealed payload, charges the wallet and records the lease, or does nothing at all.

use chrono::Duration;
use serde_json::json;

use crate::accounts::pool::records::{AccountStatus, LeaseRecord, LeaseStatus};
use crate::accounts::pool::service::AccountsService;
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::billing::LedgerTransaction;
use crate::billing::Money;
use crate::billing::ports::Posted;
use crate::billing::short_of_funds;
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::{AccountId, LeaseId};
use crate::request::ClientInfo;
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};
use crate::vault::{KeyOwner, Purpose};

pub(crate) const UNAVAILABLE: &str = "this account is no longer on offer; pick another";

impl AccountsService {
    /// `days × pricePerDay`, or the field error that explains why not.
    pub(crate) fn lease_cost(&self, price_per_day: Money, days: i64) -> DomainResult<Money> {
        if days < 1 || days > self.config.max_lease_days {
            return Err(DomainError::invalid(
                "days",
                format!("must be 1 to {}", self.config.max_lease_days),
            ));
        }
        price_per_day
            .minor()
            .checked_mul(days)
            .map(|minor| Money::new(minor, price_per_day.currency()))
            .ok_or_else(|| DomainError::invalid("days", "the total is too large"))
    }

    /// Rents `account` for `days` (OPERATOR and above, or keys with `ACCOUNTS_WRITE`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn rent_account(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        account: AccountId,
        days: i64,
    ) -> DomainResult<LeaseRecord> {
        scope.require(Role::Operator, Some(Scope::AccountsWrite), "renting accounts")?;
        let offered = self
            .store
            .find_account(Some(scope), account)
            .await?
            .filter(|a| a.status == AccountStatus::Available)
            .ok_or_else(|| DomainError::AccountUnavailable(UNAVAILABLE.to_owned()))?;
        let cost = self.lease_cost(offered.price_per_day, days)?;
        let workspace = scope.workspace_id();
        let sealed = self
            .vault
            .reseal(
                &offered.sealed,
                offered.id,
                Purpose::TelegramSession,
                KeyOwner::Workspace(workspace),
            )
            .await?;
        let now = self.clock.now();
        let lease = LeaseRecord {
            id: LeaseId::generate(),
            workspace_id: workspace,
            account_id: offered.id,
            status: LeaseStatus::Active,
            starts_at: now,
            ends_at: now + Duration::days(days),
            price_per_day: offered.price_per_day,
            created_by: principal.user_id(),
            created_at: now,
            updated_at: now,
        };
        let tx = self.store.begin().await?;
        if !tx
            .lease_account(scope, offered.id, &offered.sealed, &sealed, lease.ends_at, now)
            .await?
        {
            return Err(DomainError::AccountUnavailable(UNAVAILABLE.to_owned()));
        }
        let charge = LedgerTransaction::charge(
            workspace,
            cost,
            format!("lease:{}", lease.id),
            format!("Rent of a Telegram account for {days} days"),
        );
        let balance_after = match tx.post(scope, &charge, now).await? {
            Posted::Applied { balance_after } => balance_after,
            Posted::InsufficientFunds { balance } => {
                return Err(short_of_funds(balance, cost, "this rental"));
            }
            other => return Err(DomainError::internal(format!("charging a rental: {other:?}"))),
        };
        tx.insert_lease(scope, &lease).await?;
        let draft = AuditDraft {
            chain: ChainId::Workspace(workspace),
            actor: Actor::of(principal),
            action: "lease.created",
            target_type: Some("LEASE"),
            target_id: Some(lease.id.to_string()),
            client: client.clone(),
            metadata: json!({
                "account": offered.id.to_string(),
                "days": days,
                "amountMinor": cost.minor(),
                "currency": cost.currency().code(),
                "balanceAfterMinor": balance_after.minor(),
                "endsAt": lease.ends_at.to_rfc3339(),
            }),
        };
        audit::append(&*tx, draft, now).await?;
        crate::notices::leases::remind_before_end(&*tx, scope, &lease, lease.ends_at, now).await?;
        let threshold = self.config.low_balance_minor;
        crate::notices::low_balance::after_charge(&*tx, scope, cost, balance_after, threshold, now).await?;
        tx.commit().await?;
        Ok(lease)
    }
}
