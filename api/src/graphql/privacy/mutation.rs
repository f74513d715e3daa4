//! `submitDataSubjectRequest` and `requestDataExport`: people only, each one use-case call.

use async_graphql::{Context, Object};
use tgos_domain::privacy::PrivacyService;

use super::types::{DataSubjectRequest, SubmittableRequestKind};
use crate::graphql::context::{client, principal};
use crate::graphql::errors::ApiResult;
use crate::graphql::{guards::SignedIn, service};

#[derive(Debug, Default)]
pub struct PrivacyMutation;

#[Object]
impl PrivacyMutation {
    /// A request for staff to handle, due in 30 days. `details` is required (at most 4,000 characters:
    /// `BAD_USER_INPUT` on `details`); with 5 requests open, `RATE_LIMITED`; API keys get `FORBIDDEN`.
    #[graphql(guard = "SignedIn")]
    async fn submit_data_subject_request(
        &self,
        ctx: &Context<'_>,
        kind: SubmittableRequestKind,
        details: String,
    ) -> ApiResult<DataSubjectRequest> {
        let request = service::<PrivacyService>(ctx)?
            .submit_request(principal(ctx)?, &client(ctx), kind.into(), &details)
            .await?;
        Ok(DataSubjectRequest(request))
    }

    /// An archive of your data, built in the background and announced by email; download it from
    /// `downloadUrl` with your bearer token for 7 days. `CONFLICT` (naming it) while one is being built;
    /// `RATE_LIMITED` after 3 in a day; API keys get `FORBIDDEN`.
    #[graphql(guard = "SignedIn")]
    async fn request_data_export(&self, ctx: &Context<'_>) -> ApiResult<DataSubjectRequest> {
        let request = service::<PrivacyService>(ctx)?
            .request_export(principal(ctx)?, &client(ctx))
            .await?;
        Ok(DataSubjectRequest(request))
    }
}
