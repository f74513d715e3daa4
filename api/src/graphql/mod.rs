//! The GraphQL schema: one merged object per area, limits from configuration, and the error and metrics
//! error mapping every response passes through.

pub mod accounts;
pub mod billing;
pub mod context;
pub mod errors;
pub mod guards;
pub mod identity;
pub mod inbox;
pub mod loaders;
pub mod tenancy;

use async_graphql::{Context, MergedObject, MergedSubscription, Schema};
use tgos_domain::DomainError;
use tgos_domain::identity::IdentityService;
use tgos_domain::tenancy::TenancyService;

use crate::config::GraphqlSettings;
use errors::{ApiError, ApiResult};

#[derive(MergedObject, Default, Debug)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    identity::query::IdentityQuery,
    tenancy::query::TenancyQuery,
    accounts::query::AccountsQuery,
);

#[derive(MergedObject, Default, Debug)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    identity::mutation::IdentityMutation,
    tenancy::mutation::TenancyMutation,
    tenancy::invitations::InvitationMutation,
    tenancy::api_keys::ApiKeyMutation,
    billing::mutation::BillingMutation,
    accounts::mutation::AccountsMutation,
    accounts::mutation::AccountHealthMutation,
    accounts::sandbox::SandboxMutation,
    inbox::mutation::InboxMutation,
);

#[derive(MergedSubscription, Default, Debug)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(inbox::events::InboxSubscription);

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The use-case services resolvers call.
#[derive(Debug, Clone)]
pub struct Services {
    pub identity: IdentityService,
    pub tenancy: TenancyService,
    pub billing: tgos_domain::billing::BillingService,
    pub accounts: tgos_domain::accounts::pool::AccountsService,
    pub connections: tgos_domain::accounts::pool::connections::Connections,
    pub inbox: tgos_domain::inbox::InboxService,
    /// The simulated network, when the sandbox gateway is configured (its mutations exist only then).
    pub sandbox: Option<tgos_telegram::sandbox::SandboxNetwork>,
    /// Where published events go; `inboxEvents` follows it.
    pub bus: std::sync::Arc<dyn tgos_domain::events::EventBus>,
}

/// The schema with its limits and, when serving, the services.
pub fn build_schema(settings: &GraphqlSettings, services: Option<Services>) -> AppSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(settings.max_depth)
    .limit_complexity(settings.max_complexity);
    if let Some(services) = services {
        builder = builder
            .data(services.identity)
            .data(services.tenancy)
            .data(services.billing)
            .data(services.accounts)
            .data(services.connections)
            .data(services.inbox)
            .data(services.bus)
            .data(accounts::mutation::HealthActionLimiter::default())
            .data(inbox::mutation::InboxLimiter::default());
        if let Some(network) = services.sandbox {
            builder = builder.data(network).data(accounts::sandbox::SandboxLimiter::default());
        }
    }
    builder.finish()
}

/// The SDL of the public contract, as checked in at `schema.graphql`. It lists every field, including the
/// sandbox gateway's mutations, which introspection and execution show only when that gateway is configured.
pub fn sdl() -> String {
    build_schema(
        &GraphqlSettings {
            max_depth: usize::MAX,
            max_complexity: usize::MAX,
            graphiql: false,
        },
        None,
    )
    .sdl()
}

pub(crate) fn identity_service<'a>(ctx: &Context<'a>) -> ApiResult<&'a IdentityService> {
    ctx.data_opt::<IdentityService>()
        .ok_or_else(|| ApiError::from(DomainError::internal("identity service missing from schema data")))
}

pub(crate) fn tenancy_service<'a>(ctx: &Context<'a>) -> ApiResult<&'a TenancyService> {
    ctx.data_opt::<TenancyService>()
        .ok_or_else(|| ApiError::from(DomainError::internal("tenancy service missing from schema data")))
}

pub(crate) fn billing_service<'a>(ctx: &Context<'a>) -> ApiResult<&'a tgos_domain::billing::BillingService> {
    ctx.data_opt::<tgos_domain::billing::BillingService>()
        .ok_or_else(|| ApiError::from(DomainError::internal("billing service missing from schema data")))
}

pub(crate) fn accounts_service<'a>(ctx: &Context<'a>) -> ApiResult<&'a tgos_domain::accounts::pool::AccountsService> {
    ctx.data_opt::<tgos_domain::accounts::pool::AccountsService>()
        .ok_or_else(|| ApiError::from(DomainError::internal("accounts service missing from schema data")))
}

pub(crate) fn inbox_service<'a>(ctx: &Context<'a>) -> ApiResult<&'a tgos_domain::inbox::InboxService> {
    ctx.data_opt::<tgos_domain::inbox::InboxService>()
        .ok_or_else(|| ApiError::from(DomainError::internal("inbox service missing from schema data")))
}
