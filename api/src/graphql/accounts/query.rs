//! Browsing the pool.

use async_graphql::{Context, Object};
use tgos_domain::DomainError;
use tgos_domain::accounts::CountryCode;
use tgos_domain::accounts::pool::AccountsService;

use super::types::{AccountOffer, AccountOfferConnection};
use crate::graphql::context::principal;
use crate::graphql::errors::{ApiError, ApiResult};
use crate::graphql::guards::SignedIn;
use crate::graphql::paging::{connection, page_request};
use crate::graphql::service;

#[derive(Debug, Default)]
pub struct AccountsQuery;

#[Object]
impl AccountsQuery {
    /// Accounts on offer for rent, oldest first, optionally of one country (ISO 3166-1 alpha-2).
    #[graphql(
        guard = "SignedIn",
        complexity = "crate::graphql::paging::page_cost(first, child_complexity)"
    )]
    async fn account_offers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        country: Option<String>,
    ) -> ApiResult<AccountOfferConnection> {
        let request = page_request(first, after.as_deref())?;
        let country = country
            .map(|c| CountryCode::parse("country", &c))
            .transpose()
            .map_err(|field| ApiError::from(DomainError::Invalid(vec![field])))?;
        let accounts = service::<AccountsService>(ctx)?;
        let page = accounts.offers(principal(ctx)?, country.as_ref(), request).await?;
        let now = accounts.now();
        Ok(connection(&request, page, |offer| {
            (offer.id, AccountOffer::new(offer, now))
        }))
    }
}
