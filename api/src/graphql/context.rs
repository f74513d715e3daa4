//! Request-scoped data: resolved once per HTTP request or WebSocket connection and put into the GraphQL
//! request's data, so resolvers read it with `ctx.data::<…>()` and never look at headers themselves.

use async_graphql::Context;
use tgos_domain::identity::Principal;
use tgos_domain::identity::use_cases::sessions::Authenticated;
use tgos_domain::request::ClientInfo;

use super::errors::{ApiError, ApiResult};
use tgos_domain::DomainError;

/// The caller, when credentials came with the request and are valid.
#[derive(Debug, Clone, Default)]
pub struct Caller(pub Option<Authenticated>);

/// The id that ties a response to its log lines.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The signed-in caller, or `UNAUTHENTICATED`.
pub fn signed_in<'a>(ctx: &Context<'a>) -> ApiResult<&'a Authenticated> {
    ctx.data_opt::<Caller>()
        .and_then(|caller| caller.0.as_ref())
        .ok_or(ApiError::from(DomainError::Unauthenticated))
}

pub fn principal<'a>(ctx: &Context<'a>) -> ApiResult<&'a Principal> {
    signed_in(ctx).map(|auth| &auth.principal)
}

pub fn client<'a>(ctx: &Context<'a>) -> ClientInfo {
    ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default()
}
