//! Browsing the pool.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Object};
use tgos_domain::DomainError;
use tgos_domain::accounts::CountryCode;

use super::types::{AccountOffer, AccountOfferConnection};
use crate::graphql::accounts_service;
use crate::graphql::context::principal;
use crate::graphql::errors::{ApiError, ApiResult};
use crate::graphql::guards::SignedIn;
use crate::graphql::tenancy::connection::{page_size, parse_cursor};

#[derive(Debug, Default)]
pub struct AccountsQuery;

#[Object]
impl AccountsQuery {
    /// Accounts on offer for rent, oldest first, optionally of one country (ISO 3166-1 alpha-2).
    #[graphql(guard = "SignedIn")]
    async fn account_offers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        country: Option<String>,
    ) -> ApiResult<AccountOfferConnection> {
        let limit = page_size(first)?;
        let after = parse_cursor(after.as_deref())?;
        let country = country
            .map(|c| CountryCode::parse("country", &c))
            .transpose()
            .map_err(|field| ApiError::from(DomainError::Invalid(vec![field])))?;
        let accounts = accounts_service(ctx)?;
        let mut page = accounts
            .offers(principal(ctx)?, country.as_ref(), after, limit + 1)
            .await?;
        let has_next = page.len() as u64 > limit;
        page.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let now = accounts.now();
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(
            page.into_iter()
                .map(|offer| Edge::new(offer.id.to_string(), AccountOffer::new(offer, now))),
        );
        Ok(connection)
    }
}
