//! Declarative field guards. A guard reads the request's [`Caller`] and fails closed.

use async_graphql::{Context, Guard};
use tgos_domain::DomainError;

use super::context::Caller;
use super::errors::ApiError;

/// The field needs a signed-in caller: `UNAUTHENTICATED` otherwise.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn;

impl Guard for SignedIn {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        match ctx.data_opt::<Caller>() {
            Some(Caller(Some(_))) => Ok(()),
            _ => Err(ApiError::from(DomainError::Unauthenticated).into()),
        }
    }
}
