//! Staff curating the pool (the console): every account with its status, price, health and holder; repricing
//! one for its next rental; retiring one.
//!
//! Rules (the changes themselves are [`crate::accounts::pool::rules`]):
//! - Staff only: [`Principal::require_staff`] before anything is read.
//! - The listing shows every account whoever holds it, with the health the platform records about it (state,
//!   risk score, restrictions and the bad signals of the last 24 hours, whichever workspace held it then) and
//!   its holder (the workspace and when its lease ends), a page at a time in the order accounts were added.
//! - Each change is one conditional update in its own transaction with its audit entry on the platform chain
//!   (`account.repriced`, `account.retired`), naming the staff member, their IP address and user agent. A
//!   change that lost a race (a rental, a lease's end, another staff member) is `CONFLICT` and changes nothing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::health::HealthView;
use crate::accounts::health::CounterHolder;
use crate::accounts::pool::ports::PoolFilter;
use crate::accounts::pool::records::AccountRecord;
use crate::accounts::pool::rules::{PriceRefusal, Retirement, may_reprice, retirement};
use crate::accounts::pool::service::AccountsService;
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::billing::Money;
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::{AccountId, WorkspaceId};
use crate::paging::{Page, PageRequest};
use crate::request::ClientInfo;
use crate::store::Transaction;

const CHANGED: &str = "the account changed meanwhile; reload the page and try again";

/// One account as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolAccount {
    pub account: AccountRecord,
    pub health: HealthView,
    /// Who rents it now; `None` while it is on offer or retired.
    pub holder: Option<Holder>,
}

/// The workspace renting an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub workspace_id: WorkspaceId,
    /// Empty when the workspace is gone (erased while its lease record lingers).
    pub workspace_name: String,
    pub lease_ends: Option<DateTime<Utc>>,
}

impl AccountsService {
    /// A page of the pool's accounts matching `filter`, oldest first, with health and holder.
    #[tracing::instrument(skip_all)]
    pub async fn pool_accounts(
        &self,
        principal: &Principal,
        filter: &PoolFilter,
        page: PageRequest<AccountId>,
    ) -> DomainResult<Page<PoolAccount>> {
        principal.require_staff()?;
        let page = page
            .read(|after, rows| self.store.pool_accounts(filter, after, rows))
            .await?;
        let ids: Vec<AccountId> = page.items.iter().map(|a| a.id).collect();
        let mut health = self.store.load_many(CounterHolder::Pool, &ids).await?;
        let mut holders: Vec<WorkspaceId> = page.items.iter().filter_map(|a| a.leased_to).collect();
        holders.sort_unstable();
        holders.dedup();
        let names: HashMap<WorkspaceId, String> = self.store.workspace_names(&holders).await?.into_iter().collect();
        let now = self.clock.now();
        Ok(page.map(|account| {
            let stored = health.remove(&account.id).map(|s| s.health).unwrap_or_default();
            let holder = account.leased_to.map(|workspace_id| Holder {
                workspace_id,
                workspace_name: names.get(&workspace_id).cloned().unwrap_or_default(),
                lease_ends: account.leased_until,
            });
            PoolAccount {
                health: HealthView::of(&stored, now),
                holder,
                account,
            }
        }))
    }

    /// Sets the price per day of the account's next rental; a running lease keeps its own.
    #[tracing::instrument(skip_all)]
    pub async fn reprice_account(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        id: AccountId,
        price: Money,
    ) -> DomainResult<AccountRecord> {
        let actor = staff_actor(principal)?;
        let account = self.any_account(id).await?;
        may_reprice(account.status, account.retiring_since.is_some(), price).map_err(|refusal| match refusal {
            PriceRefusal::Price(why) => DomainError::invalid("pricePerDay", why),
            PriceRefusal::Account(why) => DomainError::conflict("accountId", why),
        })?;
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        if !tx.reprice_account(id, price, now).await? {
            return Err(DomainError::conflict("accountId", CHANGED));
        }
        let metadata = json!({
            "status": account.status.as_str(),
            "fromMinor": account.price_per_day.minor(),
            "fromCurrency": account.price_per_day.currency().code(),
            "toMinor": price.minor(),
            "toCurrency": price.currency().code(),
        });
        audit_staff(&*tx, actor, client, "account.repriced", id, metadata, now).await?;
        tx.commit().await?;
        Ok(AccountRecord {
            price_per_day: price,
            updated_at: now,
            ..account
        })
    }

    /// Takes the account out of the pool: at once when on offer; when leased, at the end of its lease, which
    /// cannot be renewed from now on.
    #[tracing::instrument(skip_all)]
    pub async fn retire_account(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        id: AccountId,
    ) -> DomainResult<Retirement> {
        let actor = staff_actor(principal)?;
        let account = self.any_account(id).await?;
        let plan = retirement(account.status, account.retiring_since.is_some())
            .map_err(|why| DomainError::conflict("accountId", why))?;
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let done = match (plan, account.leased_to) {
            (Retirement::Now, _) => tx.retire_offered_account(id, now).await?,
            (Retirement::AtLeaseEnd, Some(holder)) => tx.mark_retiring(id, holder, now).await?,
            (Retirement::AtLeaseEnd, None) => false,
        };
        if !done {
            return Err(DomainError::conflict("accountId", CHANGED));
        }
        let metadata = json!({
            "status": account.status.as_str(),
            "when": match plan {
                Retirement::Now => "NOW",
                Retirement::AtLeaseEnd => "AT_LEASE_END",
            },
            "holder": account.leased_to.map(|w| w.to_string()),
            "leaseEnds": account.leased_until.map(|at| at.to_rfc3339()),
        });
        audit_staff(&*tx, actor, client, "account.retired", id, metadata, now).await?;
        tx.commit().await?;
        Ok(plan)
    }

    /// One account of the pool in any status, or `NOT_FOUND`.
    async fn any_account(&self, id: AccountId) -> DomainResult<AccountRecord> {
        self.store
            .pool_account(id)
            .await?
            .ok_or(DomainError::NotFound("account"))
    }
}

fn staff_actor(principal: &Principal) -> DomainResult<Actor> {
    Ok(Actor::staff(principal.require_staff()?, principal.display_name()))
}

/// Audits a staff change of one account on the platform chain.
async fn audit_staff(
    tx: &dyn Transaction,
    actor: Actor,
    client: &ClientInfo,
    action: &'static str,
    account: AccountId,
    metadata: serde_json::Value,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let draft = AuditDraft {
        chain: ChainId::Platform,
        actor,
        action,
        target_type: Some("ACCOUNT"),
        target_id: Some(account.to_string()),
        client: client.clone(),
        metadata,
    };
    audit::append(tx, draft, now).await?;
    Ok(())
}
