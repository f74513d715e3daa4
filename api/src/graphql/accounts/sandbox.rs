//! The sandbox gateway's tools: a scripted contact writes to a sandbox account, or the simulated Telegram
//! is told to refuse it. They exist only when the sandbox gateway is configured (the embedded default).

use async_graphql::{Context, Enum, ID, Object};
use tgos_domain::DomainError;
use tgos_domain::accounts::gateway::GatewayError;
use tgos_domain::accounts::pool::AccountsService;
use tgos_domain::ids::AccountId;
use tgos_domain::tenancy::TenancyService;
use tgos_telegram::sandbox::{SandboxError, SandboxFault as NetworkFault, SandboxNetwork};

use crate::graphql::context::principal;
use crate::graphql::errors::{ApiError, ApiResult};
use crate::graphql::{guards::SignedIn, service};
use crate::limits::RateLimits;
use tgos_domain::limits::{Limit, OnStoreFailure, RateLimiter};

/// How the simulated Telegram should refuse an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SandboxFault {
    /// The next send waits `seconds` (FLOOD_WAIT).
    FloodWait,
    /// The next send is refused as spam (PEER_FLOOD).
    PeerFlood,
    /// The session is revoked until the account signs in again.
    SessionInvalid,
}

fn sandbox_active(ctx: &Context<'_>) -> bool {
    ctx.data_opt::<SandboxNetwork>().is_some()
}

fn network<'a>(ctx: &Context<'a>) -> ApiResult<&'a SandboxNetwork> {
    ctx.data_opt::<SandboxNetwork>().ok_or_else(|| {
        ApiError::from(DomainError::Forbidden(
            "the sandbox gateway is not configured on this server".to_owned(),
        ))
    })
}

fn sandbox_error(error: SandboxError) -> ApiError {
    ApiError::from(match error {
        SandboxError::BlankContactName => DomainError::invalid("contact", "must not be blank"),
        SandboxError::ContactNameTooLong => {
            DomainError::invalid("contact", "must be one line of at most 64 characters")
        }
        SandboxError::TooManyContacts => DomainError::RateLimited { retry_after_secs: 3600 },
        SandboxError::Refused(GatewayError::MessageTooLong) => {
            DomainError::invalid("text", "must be at most 4096 characters")
        }
        SandboxError::Refused(GatewayError::MessageEmpty) => DomainError::invalid("text", "must not be empty"),
        other => DomainError::internal(other),
    })
}

#[derive(Debug, Default)]
pub struct SandboxMutation;

#[Object]
impl SandboxMutation {
    /// Sandbox gateway only: the scripted contact named `contact` writes `text` to a sandbox account the
    /// workspace holds (OPERATOR and above, or keys with `ACCOUNTS_WRITE`).
    #[graphql(guard = "SignedIn", visible = "sandbox_active")]
    async fn sandbox_contact_send(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        contact: String,
        text: String,
    ) -> ApiResult<bool> {
        let (user_id, network) = target(ctx, &account_id).await?;
        network.contact_send(user_id, &contact, &text).map_err(sandbox_error)?;
        Ok(true)
    }

    /// Sandbox gateway only: makes the simulated Telegram refuse the account's next send (`FLOOD_WAIT` for
    /// `seconds`, or `PEER_FLOOD`), or revoke its session (`SESSION_INVALID`).
    #[graphql(guard = "SignedIn", visible = "sandbox_active")]
    async fn sandbox_inject_fault(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        fault: SandboxFault,
        seconds: Option<i32>,
    ) -> ApiResult<bool> {
        let fault = match (fault, seconds) {
            (SandboxFault::FloodWait, Some(seconds)) if (1..=86_400).contains(&seconds) => NetworkFault::FloodWait {
                seconds: u32::try_from(seconds).unwrap_or(1),
            },
            (SandboxFault::FloodWait, _) => {
                return Err(ApiError::from(DomainError::invalid(
                    "seconds",
                    "a flood wait needs 1 to 86400 seconds",
                )));
            }
            (SandboxFault::PeerFlood, _) => NetworkFault::PeerFlood,
            (SandboxFault::SessionInvalid, _) => NetworkFault::SessionInvalid,
        };
        let (user_id, network) = target(ctx, &account_id).await?;
        network.inject_fault(user_id, fault).map_err(sandbox_error)?;
        Ok(true)
    }
}

/// How many sandbox actions one account takes per minute: enough for any demo, not enough to fill memory.
pub const SANDBOX_ACTIONS_PER_MINUTE: u32 = 60;

/// Counts the sandbox actions per account, in the counter `limits.store` names; fails closed
/// (`crate::limits`).
#[derive(Debug)]
pub struct SandboxLimiter(pub RateLimiter);

impl SandboxLimiter {
    pub fn new(limits: &RateLimits) -> Self {
        Self(limits.limiter(
            Limit::per_minute("sandbox", SANDBOX_ACTIONS_PER_MINUTE),
            OnStoreFailure::Closed,
        ))
    }
}

/// The sandbox user behind `account_id`, after the caller's right to drive it and the account's rate were
/// checked.
async fn target<'a>(ctx: &Context<'a>, account_id: &ID) -> ApiResult<(i64, &'a SandboxNetwork)> {
    let network = network(ctx)?;
    let principal = principal(ctx)?;
    let account: AccountId = account_id
        .parse()
        .map_err(|_| ApiError::from(DomainError::invalid("accountId", "not an account id")))?;
    let accounts = service::<AccountsService>(ctx)?;
    let workspace = accounts.holder_workspace(principal, account).await?;
    let scope = service::<TenancyService>(ctx)?.scope(principal, workspace).await?;
    let identity = accounts.sandbox_identity(&scope, account).await?;
    // Counted only for callers allowed to drive the account, so nobody else can use up its budget.
    if let Some(limiter) = ctx.data_opt::<SandboxLimiter>() {
        limiter.0.admit(&account.to_string()).await?;
    }
    network
        .ensure_account(identity.user_id, &identity.name, None)
        .map_err(sandbox_error)?;
    Ok((identity.user_id, network))
}
