//! `POST /graphql` and `GET /graphql` (GraphQL over HTTP).
//!
//! Rules:
//! - GET carries queries only: a mutation over GET is refused with 405 and `Allow: POST`, before it runs.
//! - A browser GET without a query gets GraphiQL (when enabled; `http::graphiql` serves it).
//! - Bodies are JSON and at most [`MAX_BODY_BYTES`].
//! - The caller is resolved once from `Authorization: Bearer …`; an unknown, expired or revoked token makes
//!   the caller anonymous, so protected fields answer `UNAUTHENTICATED`. Each request runs with fresh loaders
//!   (`graphql::loaders::Batched`).
//! - Every response's errors pass through `graphql::errors::finalize`, and every request is counted in the
//!   metrics under its operation name.
//! - `Accept: application/graphql-response+json` gets that media type and the spec's status codes.

use std::time::Instant;
use tracing::Instrument as _;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{Executor as _, Response as GqlResponse, ServerError};
use poem::http::{StatusCode, header};
use poem::web::Data;
use poem::{Body, IntoResponse as _, Request, Response, handler};

use tgos_domain::identity::Principal;

use crate::app::AppState;
use crate::graphql::context::{Caller, RequestId};
use crate::graphql::errors::{code, finalize};
use crate::graphql::loaders::Batched;

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
    let Ok(bytes) = body.into_bytes_limit(MAX_BODY_BYTES).await else {
        return request_error(
            req,
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large or unreadable",
        );
    };
    match serde_json::from_slice::<async_graphql::Request>(&bytes) {
        Ok(request) => execute(req, &state, request, false).await,
        Err(error) => request_error(
            req,
            StatusCode::BAD_REQUEST,
            &format!("malformed GraphQL request body: {error}"),
        ),
    }
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

/// Executes one request inside a span carrying its request id, so every log line it causes names it.
async fn execute(req: &Request, state: &AppState, request: async_graphql::Request, over_get: bool) -> Response {
    let request_id = super::request_id(req.headers());
    let span = tracing::info_span!("request", request_id = %request_id);
    execute_in_span(req, state, request, over_get, request_id)
        .instrument(span)
        .await
}

async fn execute_in_span(
    req: &Request,
    state: &AppState,
    mut request: async_graphql::Request,
    over_get: bool,
    request_id: String,
) -> Response {
    let started = Instant::now();
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

    if let Some(Principal::ApiKey { key_id, .. }) = caller.0.as_ref().map(|auth| &auth.principal)
        && let Err(retry_after) = state.key_limiter.check(*key_id)
    {
        let mut error = ServerError::new("this API key is over its request limit; slow down", None);
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("code", code::RATE_LIMITED);
        extensions.set("retryAfter", retry_after);
        let mut response = respond(req, GqlResponse::from_errors(vec![error]), &request_id);
        response.set_status(StatusCode::TOO_MANY_REQUESTS);
        if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }

    let request = request
        .data(caller)
        .data(super::client_info(req))
        .data(RequestId(request_id.clone()));
    let schema = Batched::new(state.schema.clone(), state.accounts.clone(), state.inbox.clone());
    let mut response = schema.execute(request).await;
    response.errors = finalize(response.errors, &request_id);
    state
        .metrics
        .observe(operation_name.as_deref(), started.elapsed(), response.errors.is_empty());
    respond(req, response, &request_id)
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

/// A request that cannot run at all: the status and one coded error.
fn request_error(req: &Request, status: StatusCode, message: &str) -> Response {
    let request_id = super::request_id(req.headers());
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code::BAD_USER_INPUT);
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
