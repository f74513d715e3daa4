//! The HTTP surface: routes, and the per-request facts (request id, client address, caller) every handler
//! derives the same way.

pub mod access_log;
pub mod exports;
pub mod forwarded;
pub mod graphiql;
pub mod graphql;
pub mod headers;
pub mod health;
pub mod media;
pub mod metrics;
pub mod recheck;
pub mod request_budget;
pub mod webhooks;
pub mod websocket;

use poem::http::HeaderMap;
use poem::middleware::CatchPanic;
use poem::{EndpointExt as _, IntoEndpoint, Request, Route, get, post};
use tgos_domain::request::ClientInfo;

use crate::app::AppState;
use crate::config::Profile;

/// The main listener's routes. `/metrics` is among them in the development profile only (see
/// [`metrics_routes`]).
pub fn routes(state: AppState) -> impl IntoEndpoint {
    let mut route = Route::new()
        .at("/graphql", get(graphql::graphql_get).post(graphql::graphql_post))
        .at("/graphql/ws", get(websocket::graphql_ws))
        .at("/graphiql/assets/:name", get(graphiql::asset))
        .at("/exports/:token", get(exports::download))
        .at("/media/:message", get(media::download))
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/webhooks/stripe", post(webhooks::stripe))
        .at("/webhooks/nowpayments", post(webhooks::nowpayments));
    if state.settings.profile == Profile::Development {
        route = route.at("/metrics", get(metrics::serve_metrics));
    }
    route
        .data(state.metrics.clone())
        .data(state)
        .with(CatchPanic::new())
        .around(headers::security_headers)
        .around(access_log::access_log)
}

/// The routes of `server.metrics_addr`'s own listener: `/metrics` alone.
pub fn metrics_routes(state: &AppState) -> impl IntoEndpoint + use<> {
    Route::new()
        .at("/metrics", get(metrics::serve_metrics))
        .data(state.metrics.clone())
        .with(CatchPanic::new())
        .around(headers::security_headers)
}

/// The client's address and user agent, as recorded with sign-ins and counted by per-address limits: the
/// socket peer, or the client a trusted proxy names ([`forwarded`]).
pub fn client_info(req: &Request) -> ClientInfo {
    let ip = req.remote_addr().as_socket_addr().map(|addr| {
        let peer = addr.ip();
        match req.data::<AppState>() {
            Some(state) => forwarded::client_ip(
                peer,
                req.headers(),
                &state.settings.server.trusted_proxies,
                state.settings.server.forwarded_header,
            ),
            None => peer.to_canonical(),
        }
    });
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
