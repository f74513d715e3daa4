//! The HTTP surface: routes, and the per-request facts (request id, client address, caller) every handler
//! derives the same way.

pub mod graphql;
pub mod health;
pub mod key_limiter;
pub mod metrics;
pub mod request_budget;
pub mod webhooks;
pub mod websocket;

use poem::http::HeaderMap;
use poem::middleware::CatchPanic;
use poem::{EndpointExt as _, IntoEndpoint, Request, Route, get, post};
use tgos_domain::request::ClientInfo;

use crate::app::AppState;

pub fn routes(state: AppState) -> impl IntoEndpoint {
    Route::new()
        .at("/graphql", get(graphql::graphql_get).post(graphql::graphql_post))
        .at("/graphql/ws", get(websocket::graphql_ws))
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/metrics", get(metrics::serve_metrics))
        .at("/webhooks/stripe", post(webhooks::stripe))
        .at("/webhooks/nowpayments", post(webhooks::nowpayments))
        .data(state.metrics.clone())
        .data(state)
        .with(CatchPanic::new())
}

/// The client's address and user agent, as recorded with sign-ins.
pub fn client_info(req: &Request) -> ClientInfo {
    let ip = req.remote_addr().as_socket_addr().map(|addr| addr.ip());
    let user_agent = req.headers().get("user-agent").and_then(|v| v.to_str().ok());
    ClientInfo::new(ip, user_agent)
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// A caller-supplied `X-Request-Id` when it is short and plain, else a fresh one.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}
