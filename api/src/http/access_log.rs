//! One log line per request: method, path, GraphQL operation name, status, duration, the kind of caller and
//! the request id (target `tgos::access`); and the request's span, `request`, which everything the request
//! does runs in (exported over OTLP when `telemetry.otlp_endpoint` is set; see `crate::telemetry`).
//!
//! Rules:
//! - Never a secret: no query string, no header, no body; a path that carries a token (`/exports/<token>`) is
//!   logged by its route. A handler adds the operation name and the caller's kind ([`AccessFacts`]), never
//!   the caller's credentials.
//! - Every request gets a request id: the caller's `X-Request-Id` when it is short and plain, else a fresh one,
//!   given to the handler in the request and echoed in the response, so a client's report names the line.
//! - The span carries the request id, the method, the route's pattern (`/exports/:token`, never the path
//!   itself), the operation name and the status; for OpenTelemetry it is a server span named
//!   `<method> <route>` (`super::ROUTE_PATTERNS`), an error when the status is 5xx, continuing the caller's
//!   `traceparent` if it sent one.

use std::time::Instant;

use poem::PathPattern;
use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse as _, Request, Response, Result};
use tracing::Instrument as _;
use tracing::field::Empty;

/// What a handler knows of a request that the access log should say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessFacts {
    pub operation: Option<String>,
    /// `anonymous`, `user`, `staff` or `api_key`.
    pub principal: &'static str,
}

/// The route of a request no route matched (a 404), in its span.
const UNMATCHED: &str = "unmatched";

/// The longest path logged, in characters; longer ones are cut.
const MAX_PATH: usize = 200;

/// The path as logged: routes that carry a secret by their pattern, everything else as sent, capped.
pub fn loggable_path(path: &str) -> String {
    if path.starts_with("/exports/") {
        return "/exports/:token".to_owned();
    }
    path.chars().take(MAX_PATH).collect()
}

pub async fn access_log<E: Endpoint>(next: E, mut req: Request) -> Result<Response> {
    let started = Instant::now();
    let request_id = super::request_id(req.headers());
    let id_header = HeaderValue::from_str(&request_id).ok();
    if let Some(value) = &id_header {
        req.headers_mut().insert("x-request-id", value.clone());
    }
    let method = req.method().clone();
    let path = loggable_path(req.uri().path());
    let name =
        super::route_pattern(req.uri().path()).map_or_else(|| method.to_string(), |route| format!("{method} {route}"));
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = Empty,
        operation = Empty,
        status = Empty,
        otel.name = name,
        otel.kind = "server",
        otel.status_code = Empty,
    );
    crate::telemetry::otlp::continue_trace(&span, req.headers());
    let mut response = match next.call(req).instrument(span.clone()).await {
        Ok(output) => output.into_response(),
        Err(error) => error.into_response(),
    };
    let facts = response.extensions().get::<AccessFacts>().cloned();
    let (operation, principal) = facts.map_or((None, "-"), |f| (f.operation, f.principal));
    let route = response
        .data::<PathPattern>()
        .map_or_else(|| UNMATCHED.to_owned(), |pattern| pattern.0.to_string());
    span.record("route", route.as_str());
    if let Some(operation) = &operation {
        span.record("operation", operation.as_str());
    }
    span.record("status", response.status().as_u16());
    if response.status().is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    drop(span);
    tracing::info!(
        target: "tgos::access",
        request_id = %request_id,
        method = %method,
        path = %path,
        operation = operation.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        principal,
        "request"
    );
    if let Some(value) = id_header {
        response.headers_mut().insert("x-request-id", value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use poem::endpoint::make;
    use poem::http::StatusCode;
    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, SubscriberExt as _};

    use super::*;

    /// Every `tgos::access` event, as `name=value` pairs joined by spaces; and the fields of the `request`
    /// spans, as made and as recorded later, the same way.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<String>>>, Arc<Mutex<String>>);

    struct Line(String);

    impl Visit for Line {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!("{}={:?} ", field.name(), value));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.push_str(&format!("{}={} ", field.name(), value));
        }
        fn record_u64(&mut self, field: &Field, value: u64) {
            self.0.push_str(&format!("{}={} ", field.name(), value));
        }
    }

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Captured {
        fn on_new_span(&self, attrs: &tracing::span::Attributes<'_>, _: &tracing::span::Id, _: Context<'_, S>) {
            if attrs.metadata().name() == "request" {
                let mut line = Line(String::new());
                attrs.record(&mut line);
                if let Ok(mut span) = self.1.lock() {
                    span.push_str(&line.0);
                }
            }
        }
        fn on_record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>, _: Context<'_, S>) {
            let mut line = Line(String::new());
            values.record(&mut line);
            if let Ok(mut span) = self.1.lock() {
                span.push_str(&line.0);
            }
        }
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            if event.metadata().target() == "tgos::access" {
                let mut line = Line(String::new());
                event.record(&mut line);
                if let Ok(mut lines) = self.0.lock() {
                    lines.push(line.0);
                }
            }
        }
    }

    async fn logged(req: Request) -> (Response, Vec<String>) {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(captured.clone());
        let _guard = tracing::subscriber::set_default(subscriber);
        let endpoint = make(|_req: Request| async move {
            let mut response = StatusCode::ACCEPTED.into_response();
            response.extensions_mut().insert(AccessFacts {
                operation: Some("Me".to_owned()),
                principal: "user",
            });
            response
        });
        let response = access_log(endpoint, req).await.unwrap_or_else(|e| e.into_response());
        let lines = captured.0.lock().map(|l| l.clone()).unwrap_or_default();
        (response, lines)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_request_is_one_line_with_its_facts_and_its_id_echoed() {
        let req = Request::builder()
            .method(poem::http::Method::POST)
            .uri(poem::http::Uri::from_static("/graphql?token=secret-in-query"))
            .header("x-request-id", "client-42")
            .header("authorization", "Bearer tgos_secret_token")
            .finish();
        let (response, lines) = logged(req).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(
            response.headers().get("x-request-id").and_then(|v| v.to_str().ok()),
            Some("client-42")
        );
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        for part in [
            "request_id=client-42",
            "method=POST",
            "path=/graphql ",
            "operation=Me",
            "status=202",
            "principal=user",
            "duration_ms=",
        ] {
            assert!(line.contains(part), "{part} in {line}");
        }
        assert!(!line.contains("secret"), "no query, no header: {line}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_token_in_the_path_is_logged_by_its_route_and_a_bad_request_id_is_replaced() {
        let req = Request::builder()
            .uri(poem::http::Uri::from_static("/exports/tok_abcdef0123456789"))
            .header("x-request-id", "has spaces and ; semicolons")
            .finish();
        let (response, lines) = logged(req).await;
        let line = &lines[0];
        assert!(line.contains("path=/exports/:token"), "{line}");
        assert!(!line.contains("tok_abcdef"), "{line}");
        let echoed = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(echoed.len(), 36, "a fresh UUID: {echoed}");
        assert!(line.contains(&format!("request_id={echoed}")), "{line}");
        assert_eq!(loggable_path(&"a".repeat(500)).len(), MAX_PATH);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_request_span_names_the_route_not_the_path_and_a_server_error_is_an_error() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(captured.clone());
        let _guard = tracing::subscriber::set_default(subscriber);
        let route = poem::Route::new().at(
            "/boom/:token",
            make(|_req: Request| async move {
                let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                response.extensions_mut().insert(AccessFacts {
                    operation: Some("Boom".to_owned()),
                    principal: "anonymous",
                });
                response
            }),
        );
        let req = Request::builder()
            .uri(poem::http::Uri::from_static("/boom/tok_secret?x=1"))
            .header("x-request-id", "span-1")
            .finish();
        let response = access_log(route, req).await.unwrap_or_else(|e| e.into_response());
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let span = captured.1.lock().map(|span| span.clone()).unwrap_or_default();
        for part in [
            "request_id=span-1",
            "method=GET",
            "route=/boom/:token",
            "operation=Boom",
            "status=500",
            "otel.kind=server",
            "otel.status_code=ERROR",
            // Not one of the server's routes: named by its method alone.
            "otel.name=GET ",
        ] {
            assert!(span.contains(part), "{part} in {span}");
        }
        assert!(!span.contains("tok_secret"), "{span}");
    }
}
