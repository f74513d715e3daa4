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

/// The patterns of [`routes`] and [`metrics_routes`], which name request spans before routing runs (a span's
/// OpenTelemetry name is fixed once it is entered). Keep in step with the routes: a route missing here is
/// named by its method alone, and its span's `route` field, which poem's router sets, is exact anyway.
pub const ROUTE_PATTERNS: [&str; 10] = [
    "/graphql",
    "/graphql/ws",
    "/graphiql/assets/:name",
    "/exports/:token",
    "/media/:message",
    "/healthz",
    "/readyz",
    "/webhooks/stripe",
    "/webhooks/nowpayments",
    "/metrics",
];

/// The pattern of [`ROUTE_PATTERNS`] that `path` matches, if one does.
pub fn route_pattern(path: &str) -> Option<&'static str> {
    ROUTE_PATTERNS.iter().copied().find(|pattern| {
        let mut wanted = pattern.split('/');
        let mut given = path.split('/');
        loop {
            match (wanted.next(), given.next()) {
                (None, None) => return true,
                (Some(want), Some(got)) if want.starts_with(':') && !got.is_empty() => {}
                (Some(want), Some(got)) if want == got => {}
                _ => return false,
            }
        }
    })
}

/// The routes of a `tgos worker` process's listener: liveness, readiness and `/metrics`, no API. It is not a
/// public listener (nothing a client calls is on it), so `/metrics` is served there in every profile.
pub fn worker_routes(state: AppState) -> impl IntoEndpoint {
    Route::new()
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/metrics", get(metrics::serve_metrics))
        .data(state.metrics.clone())
        .data(state)
        .with(CatchPanic::new())
        .around(headers::security_headers)
}

/// The routes of `server.metrics_addr`'s own listener: `/metrics` alone.
pub fn metrics_routes(state: &AppState) -> impl IntoEndpoint + use<> {
    Route::new()
        .at("/metrics", get(metrics::serve_metrics))
        .data(state.metrics.clone())
        .with(CatchPanic::new())
        .around(headers::security_headers)
}

#[cfg(test)]
#[test]
fn paths_are_named_by_their_route_pattern() {
    assert_eq!(route_pattern("/graphql"), Some("/graphql"));
    assert_eq!(route_pattern("/graphql/ws"), Some("/graphql/ws"));
    assert_eq!(route_pattern("/exports/tok_123"), Some("/exports/:token"));
    assert_eq!(route_pattern("/exports/"), None);
    assert_eq!(route_pattern("/exports/a/b"), None);
    assert_eq!(route_pattern("/nope"), None);
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
