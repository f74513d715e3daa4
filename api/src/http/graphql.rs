//! `POST /graphql` and `GET /graphql` (GraphQL over HTTP).
//!
//! Rules:
//! - GET carries queries only: a mutation over GET is refused with 405 and `Allow: POST`, before it runs.
//! - A browser GET without a query gets GraphiQL (when enabled; `http::graphiql` serves it).
//! - POST bodies are `application/json` (else 415, so no cross-site `text/plain` form reaches a mutation)
//!   and at most [`MAX_BODY_BYTES`], or `multipart/form-data` following the GraphQL multipart request spec
//!   for file uploads ([`multipart`]): those need an `Authorization` header (which a cross-site form cannot
//!   send; without it 415 too), carry at most one file of at most `MAX_UPLOAD_BYTES`, and are refused (413, `BAD_USER_INPUT` on
//!   `document`) as soon as they run past, never buffered whole. Invalid GraphQL-over-HTTP parameters get 400 naming the parameter in
//!   `extensions.field`: a body that is not a JSON object, `query` missing or not a string, `variables` or
//!   `extensions` not an object, `operationName` not a string or naming no operation of the document (or
//!   none given for a document of several).
//! - Every request counts against its caller's budget (`http::request_budget`): over it 429 before anything
//!   runs; every answer carries the `RateLimit-*` headers.
//! - A request running longer than `graphql.request_timeout_ms` is stopped and answered 503 with
//!   `REQUEST_TIMEOUT`; a mutation stopped part-way keeps what it had committed.
//! - The caller is resolved once from `Authorization: Bearer …`; an unknown, expired or revoked token makes
//!   the caller anonymous, so protected fields answer `UNAUTHENTICATED`. Each request runs with fresh loaders
//!   (`graphql::loaders::Batched`).
//! - Every response's errors pass through `graphql::errors::finalize`, and every request is counted in the
//!   metrics under its operation name.
//! - `Accept: application/graphql-response+json` gets that media type and the spec's status codes.

use std::time::{Duration, Instant};

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{Executor as _, Response as GqlResponse, ServerError};
use poem::http::{StatusCode, header};
use poem::web::Data;
use poem::{Body, IntoResponse as _, Request, Response, handler};

use crate::app::AppState;
use crate::graphql::context::{Caller, RequestId};
use crate::graphql::errors::{code, finalize};
use crate::graphql::loaders::Batched;
use crate::http::access_log::AccessFacts;
use crate::http::request_budget::Budgeted;

mod multipart;
mod params;

pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

#[handler]
pub async fn graphql_get(req: &Request, state: Data<&AppState>) -> Response {
    let query = req.uri().query().unwrap_or_default();
    if query.is_empty() && accepts(req, "text/html") && state.settings.graphql.graphiql {
        return super::graphiql::page();
    }
    match async_graphql::http::parse_query_string(query) {
        Ok(request) => execute(req, &state, request, true).await,
        Err(error) => request_error(
            req,
            StatusCode::BAD_REQUEST,
            &format!("malformed GraphQL GET request: {error}"),
        ),
    }
}

#[handler]
pub async fn graphql_post(req: &Request, body: Body, state: Data<&AppState>) -> Response {
    if multipart::is_multipart(req) {
        return match multipart::receive(req, body).await {
            Ok(request) => execute(req, &state, request, false).await,
            Err(refusal) => coded_error(req, refusal.status, refusal.code, &refusal.message, refusal.field),
        };
    }
    if !is_json(req) {
        return request_error(
            req,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "POST /graphql takes a body of Content-Type application/json",
        );
    }
    let Ok(bytes) = body.into_bytes_limit(MAX_BODY_BYTES).await else {
        return request_error(
            req,
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large or unreadable",
        );
    };
    match params::parse(&bytes) {
        Ok(request) => execute(req, &state, request, false).await,
        Err(invalid) => invalid_params(req, &invalid),
    }
}

/// Whether the request's body is declared `application/json` (parameters such as `charset` aside).
fn is_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

fn accepts(req: &Request, media_type: &str) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(media_type))
}

/// The operation the request will run: its type and name, when the document parses.
fn selected_operation(request: &mut async_graphql::Request) -> Option<(OperationType, Option<String>)> {
    let wanted = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    match &document.operations {
        DocumentOperations::Single(op) => Some((op.node.ty, wanted)),
        DocumentOperations::Multiple(ops) => {
            let name = wanted?;
            ops.iter()
                .find(|(op_name, _)| op_name.as_str() == name)
                .map(|(_, op)| (op.node.ty, Some(name.clone())))
        }
    }
}

/// Why a parsed document has no operation for the request's `operationName`, if it has none.
fn missing_operation(request: &mut async_graphql::Request) -> Option<String> {
    let wanted = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    match (&document.operations, wanted) {
        (DocumentOperations::Single(_), None) => None,
        (DocumentOperations::Single(_), Some(name)) => Some(format!(
            "operationName \"{name}\" names no operation: the document's one operation is anonymous"
        )),
        (DocumentOperations::Multiple(ops), Some(name)) => (!ops.keys().any(|op| op.as_str() == name))
            .then(|| format!("operationName \"{name}\" names no operation of the document")),
        (DocumentOperations::Multiple(ops), None) => {
            (ops.len() > 1).then(|| "the document holds several operations; operationName must name one".to_owned())
        }
    }
}

/// Executes one request; it runs inside the request's span (`access_log`), which carries its request id, so
/// every log line it causes names it.
async fn execute(req: &Request, state: &AppState, request: async_graphql::Request, over_get: bool) -> Response {
    let request_id = super::request_id(req.headers());
    execute_in_span(req, state, request, over_get, request_id).await
}

async fn execute_in_span(
    req: &Request,
    state: &AppState,
    mut request: async_graphql::Request,
    over_get: bool,
    request_id: String,
) -> Response {
    let started = Instant::now();
    if let Some(message) = missing_operation(&mut request) {
        return invalid_params(
            req,
            &params::Invalid {
                field: "operationName",
                message,
            },
        );
    }
    let operation = selected_operation(&mut request);
    let operation_name = operation.as_ref().and_then(|(_, name)| name.clone()).or_else(|| {
        request.parsed_query().ok().and_then(|doc| match &doc.operations {
            DocumentOperations::Multiple(ops) if ops.len() == 1 => ops.keys().next().map(|name| name.to_string()),
            _ => None,
        })
    });
    if over_get
        && matches!(
            operation,
            Some((OperationType::Mutation | OperationType::Subscription, _))
        )
    {
        let mut response = request_error(
            req,
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations and subscriptions must use POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }

    let caller = match super::bearer(req.headers()) {
        None => Caller(None),
        Some(token) => match state.identity.authenticate(token).await {
            Ok(found) => Caller(found),
            Err(error) => {
                tracing::error!(request_id, %error, "resolving the caller failed");
                let mut response = GqlResponse::from_errors(vec![opaque(&request_id)]);
                response.errors = finalize(response.errors, &request_id);
                return respond(req, response, &request_id);
            }
        },
    };

    let client = super::client_info(req);
    let spent = match Budgeted::of(&caller, &client) {
        Some(who) => Some(state.request_budget.spend(who).await),
        None => None,
    };
    if let Some(spent) = spent.filter(|spent| !spent.allowed()) {
        let mut error = ServerError::new(spent.refusal(), None);
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("code", code::RATE_LIMITED);
        extensions.set("retryAfter", spent.taken.reset_secs);
        let mut response = respond(req, GqlResponse::from_errors(vec![error]), &request_id);
        response.set_status(StatusCode::TOO_MANY_REQUESTS);
        spent.write_headers(response.headers_mut());
        response.extensions_mut().insert(AccessFacts {
            operation: operation_name,
            principal: caller.kind(),
        });
        return response;
    }
    let principal = caller.kind();

    let request = request.data(caller).data(client).data(RequestId(request_id.clone()));
    let schema = Batched::new(
        state.schema.clone(),
        state.accounts.clone(),
        state.inbox.clone(),
        state.automations.clone(),
    );
    let timeout_ms = state.settings.graphql.request_timeout_ms;
    let (mut response, timed_out) = if timeout_ms == 0 {
        (schema.execute(request).await, false)
    } else {
        match tokio::time::timeout(Duration::from_millis(timeout_ms), schema.execute(request)).await {
            Ok(response) => (response, false),
            Err(_elapsed) => {
                tracing::warn!(request_id, timeout_ms, "request stopped at its time limit");
                (GqlResponse::from_errors(vec![timed_out_error(timeout_ms)]), true)
            }
        }
    };
    response.errors = finalize(response.errors, &request_id);
    state
        .metrics
        .observe(operation_name.as_deref(), started.elapsed(), response.errors.is_empty());
    let mut response = respond(req, response, &request_id);
    if timed_out {
        response.set_status(StatusCode::SERVICE_UNAVAILABLE);
    }
    if let Some(spent) = spent {
        spent.write_headers(response.headers_mut());
    }
    response.extensions_mut().insert(AccessFacts {
        operation: operation_name,
        principal,
    });
    response
}

fn timed_out_error(timeout_ms: u64) -> ServerError {
    let mut error = ServerError::new(
        format!(
            "the request ran longer than its limit of {timeout_ms} ms and was stopped; a mutation may have completed part of its work"
        ),
        None,
    );
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code::REQUEST_TIMEOUT);
    error
}

fn opaque(request_id: &str) -> ServerError {
    let mut error = ServerError::new("internal server error", None);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code::INTERNAL_SERVER_ERROR);
    extensions.set("requestId", request_id);
    error
}

fn respond(req: &Request, response: GqlResponse, request_id: &str) -> Response {
    let spec_media_type = accepts(req, GRAPHQL_RESPONSE_JSON);
    // A response without data is a request error (parse, validation, limits): 400 under the spec's media type.
    let status = if spec_media_type && response.data == async_graphql::Value::Null && response.is_err() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let content_type = if spec_media_type {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    };
    match serde_json::to_vec(&response) {
        Ok(body) => Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, content_type)
            .header("x-request-id", request_id)
            .body(body),
        Err(error) => {
            tracing::error!(request_id, %error, "serializing a response failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Invalid GraphQL-over-HTTP parameters: 400 naming the parameter.
fn invalid_params(req: &Request, invalid: &params::Invalid) -> Response {
    request_error_on(req, StatusCode::BAD_REQUEST, &invalid.message, Some(invalid.field))
}

/// A request that cannot run at all: the status and one coded error.
fn request_error(req: &Request, status: StatusCode, message: &str) -> Response {
    request_error_on(req, status, message, None)
}

/// [`request_error`], naming the parameter at fault.
fn request_error_on(req: &Request, status: StatusCode, message: &str, field: Option<&str>) -> Response {
    coded_error(req, status, code::BAD_USER_INPUT, message, field)
}

/// A request that cannot run, with its status, code and the parameter at fault.
fn coded_error(req: &Request, status: StatusCode, code: &str, message: &str, field: Option<&str>) -> Response {
    let request_id = super::request_id(req.headers());
    let mut error = ServerError::new(message, None);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code);
    if let Some(field) = field {
        extensions.set("field", field);
    }
    let body = serde_json::json!({ "errors": [error] });
    let content_type = if accepts(req, GRAPHQL_RESPONSE_JSON) {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header("x-request-id", request_id)
        .body(body.to_string())
}
