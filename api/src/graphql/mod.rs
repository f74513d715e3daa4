//! The GraphQL schema: one merged object per area, limits from configuration (`limits`), and the error and metrics
//! error mapping every response passes through.

pub mod accounts;
pub mod automations;
pub mod billing;
mod closed_accounts;
pub mod context;
pub mod errors;
pub mod guards;
pub mod identity;
pub mod ids;
pub mod inbox;
pub mod introspection;
pub mod limits;
pub mod loaders;
pub mod paging;
pub mod privacy;
mod root_fields;
pub mod tenancy;

use async_graphql::{Context, MergedObject, MergedSubscription, Schema};
use tgos_domain::DomainError;

use crate::config::GraphqlSettings;
use errors::{ApiError, ApiResult};

#[derive(MergedObject, Default, Debug)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    identity::query::IdentityQuery,
    tenancy::query::TenancyQuery,
    accounts::query::AccountsQuery,
    automations::query::AutomationQuery,
);

#[derive(MergedObject, Default, Debug)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    identity::mutation::IdentityMutation,
    identity::account::AccountMutation,
    tenancy::mutation::TenancyMutation,
    tenancy::invitations::InvitationMutation,
    tenancy::api_keys::ApiKeyMutation,
    billing::mutation::BillingMutation,
    accounts::mutation::AccountsMutation,
    accounts::mutation::AccountHealthMutation,
    accounts::sandbox::SandboxMutation,
    inbox::mutation::InboxMutation,
    automations::mutation::AutomationMutation,
    privacy::mutation::PrivacyMutation,
    privacy::deletion::AccountDeletionMutation,
    tenancy::deletion::WorkspaceDeletionMutation,
);

#[derive(MergedSubscription, Default, Debug)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(
    inbox::events::InboxSubscription,
    automations::events::AutomationSubscription,
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The use-case services resolvers call.
#[derive(Debug, Clone)]
pub struct Services {
    pub identity: tgos_domain::identity::IdentityService,
    pub tenancy: tgos_domain::tenancy::TenancyService,
    pub billing: tgos_domain::billing::BillingService,
    pub accounts: tgos_domain::accounts::pool::AccountsService,
    pub connections: tgos_domain::accounts::pool::connections::Connections,
    pub inbox: tgos_domain::inbox::InboxService,
    pub automations: tgos_domain::automation::AutomationService,
    pub privacy: tgos_domain::privacy::PrivacyService,
    /// Closing and erasing workspaces.
    pub erasure: tgos_domain::erasure::WorkspaceErasure,
    /// The simulated network, when the sandbox gateway is configured (its mutations exist only then).
    pub sandbox: Option<tgos_telegram::sandbox::SandboxNetwork>,
    /// Where published events go; `inboxEvents` follows it.
    pub bus: std::sync::Arc<dyn tgos_domain::events::EventBus>,
    /// What the inbox's, the health actions' and the sandbox's limiters count in (`crate::limits`).
    pub limits: crate::limits::RateLimits,
}

/// The schema with its limits and, when serving, the services.
pub fn build_schema(settings: &GraphqlSettings, services: Option<Services>) -> AppSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    // Depth, cost, aliases and mutation fields are held to the settings by one extension (`limits`), which
    // measures introspection apart; async-graphql's own depth limit would count it as data.
    .extension(limits::QueryLimits(limits::Limits::of(settings)))
    .extension(closed_accounts::ClosedAccounts);
    if !settings.introspection {
        builder = builder
            .disable_introspection()
            .extension(introspection::RefuseIntrospection);
    }
    if let Some(services) = services {
        builder = builder
            .data(services.identity)
            .data(services.tenancy)
            .data(services.billing)
            .data(services.accounts)
            .data(services.connections)
            .data(services.inbox)
            .data(services.automations)
            .data(services.privacy)
            .data(services.erasure)
            .data(services.bus)
            .data(accounts::mutation::HealthActionLimiter::new(&services.limits))
            .data(inbox::mutation::InboxLimiter::new(&services.limits));
        if let Some(network) = services.sandbox {
            builder = builder
                .data(network)
                .data(accounts::sandbox::SandboxLimiter::new(&services.limits));
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
            max_aliases: usize::MAX,
            max_mutation_fields: usize::MAX,
            request_timeout_ms: 0,
            graphiql: false,
            introspection: true,
        },
        None,
    )
    .sdl()
}

/// The use-case service of type `S` the schema was built with (`INTERNAL` when it was built without services,
/// as `sdl()` is).
pub(crate) fn service<'a, S: std::any::Any + Send + Sync>(ctx: &Context<'a>) -> ApiResult<&'a S> {
    ctx.data_opt::<S>().ok_or_else(|| {
        ApiError::from(DomainError::internal(format!(
            "{} missing from schema data",
            std::any::type_name::<S>()
        )))
    })
}
