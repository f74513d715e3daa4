//! Starting a top-up.

use async_graphql::{Context, ID, Object};
use tgos_domain::billing::BillingService;
use tgos_domain::tenancy::TenancyService;

use super::types::{PaymentProvider, TopUp};
use crate::graphql::context::{client, principal};
use crate::graphql::errors::ApiResult;
use crate::graphql::ids::workspace_id;
use crate::graphql::{guards::SignedIn, service};

#[derive(Debug, Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// Starts a top-up of the workspace's wallet (ADMIN and OWNER): returns the provider's payment page. The
    /// wallet is credited when the provider's signed notification confirms the payment.
    #[graphql(guard = "SignedIn")]
    async fn create_top_up(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        provider: PaymentProvider,
        amount_minor: i64,
        currency: String,
    ) -> ApiResult<TopUp> {
        let principal = principal(ctx)?;
        let scope = service::<TenancyService>(ctx)?
            .scope(principal, self::workspace_id(&workspace_id)?)
            .await?;
        let record = service::<BillingService>(ctx)?
            .create_top_up(
                &scope,
                principal,
                &client(ctx),
                provider.into(),
                amount_minor,
                &currency,
            )
            .await?;
        Ok(record.into())
    }
}
