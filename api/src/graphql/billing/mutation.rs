//! Starting a top-up.

use async_graphql::{Context, ID, Object};

use super::types::{PaymentProvider, TopUp};
use crate::graphql::context::{client, principal};
use crate::graphql::errors::ApiResult;
use crate::graphql::tenancy::query::workspace_id;
use crate::graphql::{billing_service, guards::SignedIn, tenancy_service};

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
        let scope = tenancy_service(ctx)?
            .scope(principal, self::workspace_id(&workspace_id)?)
            .await?;
        let record = billing_service(ctx)?
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
