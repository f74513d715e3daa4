//! Renting, renewing and releasing accounts.

use crate::graphql::ids::parse_id;
use async_graphql::{Context, ID, Object};
use tgos_domain::accounts::pool::AccountsService;
use tgos_domain::ids::{AccountId, LeaseId};
use tgos_domain::tenancy::TenancyService;

use tgos_domain::tenancy::TenantScope;

use super::types::{AccountHealth, Lease};
use crate::graphql::context::{client, principal};
use crate::graphql::errors::ApiResult;
use crate::graphql::ids::workspace_id;
use crate::graphql::{guards::SignedIn, service};
use crate::limits::RateLimits;
use tgos_domain::limits::{Limit, OnStoreFailure, RateLimiter};

#[derive(Debug, Default)]
pub struct AccountsMutation;

#[Object]
impl AccountsMutation {
    /// Rents an account on offer for `days` (OPERATOR and above, or keys with `ACCOUNTS_WRITE`), charged to the
    /// wallet: `ACCOUNT_UNAVAILABLE` when someone else got it first, `INSUFFICIENT_FUNDS` when the wallet
    /// holds less than `days × pricePerDay`; either way nothing is charged.
    #[graphql(guard = "SignedIn")]
    async fn rent_account(&self, ctx: &Context<'_>, workspace_id: ID, offer_id: ID, days: i32) -> ApiResult<Lease> {
        let principal = principal(ctx)?;
        let scope = service::<TenancyService>(ctx)?
            .scope(principal, self::workspace_id(&workspace_id)?)
            .await?;
        let offer: AccountId = parse_id(&offer_id, "offerId", "account")?;
        let record = service::<AccountsService>(ctx)?
            .rent_account(&scope, principal, &client(ctx), offer, i64::from(days))
            .await?;
        Ok(Lease { record, scope })
    }

    /// Extends an active lease by `days`, charged at its price per day.
    #[graphql(guard = "SignedIn")]
    async fn renew_lease(&self, ctx: &Context<'_>, lease_id: ID, days: i32) -> ApiResult<Lease> {
        let principal = principal(ctx)?;
        let id: LeaseId = parse_id(&lease_id, "leaseId", "lease")?;
        let accounts = service::<AccountsService>(ctx)?;
        let workspace = accounts.lease_workspace(principal, id).await?;
        let scope = service::<TenancyService>(ctx)?.scope(principal, workspace).await?;
        let record = accounts
            .renew_lease(&scope, principal, &client(ctx), id, i64::from(days))
            .await?;
        Ok(Lease { record, scope })
    }

    /// Ends an active lease now and returns the account to the pool (unused days are not refunded).
    #[graphql(guard = "SignedIn")]
    async fn release_lease(&self, ctx: &Context<'_>, lease_id: ID) -> ApiResult<Lease> {
        let principal = principal(ctx)?;
        let id: LeaseId = parse_id(&lease_id, "leaseId", "lease")?;
        let accounts = service::<AccountsService>(ctx)?;
        let workspace = accounts.lease_workspace(principal, id).await?;
        let scope = service::<TenancyService>(ctx)?.scope(principal, workspace).await?;
        let record = accounts.release_lease(&scope, principal, &client(ctx), id).await?;
        Ok(Lease { record, scope })
    }
}

#[derive(Debug, Default)]
pub struct AccountHealthMutation;

#[Object]
impl AccountHealthMutation {
    /// Pauses a held account: all sending stops until someone resumes it (OPERATOR and above; people only).
    #[graphql(guard = "SignedIn")]
    async fn pause_account(&self, ctx: &Context<'_>, account_id: ID) -> ApiResult<AccountHealth> {
        let (scope, account) = held_scope(ctx, &account_id).await?;
        let view = service::<AccountsService>(ctx)?
            .pause_account(&scope, principal(ctx)?, &client(ctx), account, admit(ctx, account))
            .await?;
        Ok(view.into())
    }

    /// Resumes a held account: lifts a pause, a spam limit or a freeze; a cooldown still runs out by time and a
    /// ban or an invalid session stays (the returned health shows what is left).
    #[graphql(guard = "SignedIn")]
    async fn resume_account(&self, ctx: &Context<'_>, account_id: ID) -> ApiResult<AccountHealth> {
        let (scope, account) = held_scope(ctx, &account_id).await?;
        let view = service::<AccountsService>(ctx)?
            .resume_account(&scope, principal(ctx)?, &client(ctx), account, admit(ctx, account))
            .await?;
        Ok(view.into())
    }
}

/// How many pauses and resumes one account takes per minute: each is audited, so it is bounded.
pub const HEALTH_ACTIONS_PER_MINUTE: u32 = 30;

/// Counts pauses and resumes per account, in the counter `limits.store` names; fails closed (`crate::limits`).
#[derive(Debug)]
pub struct HealthActionLimiter(pub RateLimiter);

impl HealthActionLimiter {
    pub fn new(limits: &RateLimits) -> Self {
        Self(limits.limiter(
            Limit::per_minute("health_action", HEALTH_ACTIONS_PER_MINUTE),
            OnStoreFailure::Closed,
        ))
    }
}

/// The scope of the workspace holding the account named by id, for a member of it.
async fn held_scope(ctx: &Context<'_>, account_id: &ID) -> ApiResult<(TenantScope, AccountId)> {
    let principal = principal(ctx)?;
    let account: AccountId = parse_id(account_id, "accountId", "account")?;
    let workspace = service::<AccountsService>(ctx)?
        .holder_workspace(principal, account)
        .await?;
    let scope = service::<TenancyService>(ctx)?.scope(principal, workspace).await?;
    Ok((scope, account))
}

/// Spends one of the account's operator actions; the use case calls it once the caller is authorized and
/// the account is held, so nobody else can use up the holder's budget.
fn admit<'a>(ctx: &Context<'a>, account: AccountId) -> impl tgos_domain::request::Admit + 'a {
    let limiter = ctx.data_opt::<HealthActionLimiter>();
    move || async move {
        match limiter {
            Some(limiter) => limiter.0.admit(&account.to_string()).await,
            None => Ok(()),
        }
    }
}
