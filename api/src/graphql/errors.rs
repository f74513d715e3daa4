//! The one place where outcomes become GraphQL errors.
//!
//! Rules:
//! - Every error a client sees carries `extensions.code` from the closed set in API.md ([`code`]).
//! - `BAD_USER_INPUT` names the field at fault in `extensions.field`; an input with several bad fields gets
//!   one error per field.
//! - An infrastructure failure is logged once, with the request id, and answered with an opaque message and
//!   that request id. No database text, secret or internal detail reaches a client.
//! - Errors produced outside resolvers (parse, validation, limits) are classified here too, so nothing leaves
//!   without a code.

use std::sync::Arc;

use async_graphql::{ErrorExtensionValues, ServerError, Value};
use tgos_domain::{DomainError, FieldError};

/// The closed set of `extensions.code` values.
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const CONFLICT: &str = "CONFLICT";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const TWO_FACTOR_REQUIRED: &str = "TWO_FACTOR_REQUIRED";
    pub const INSUFFICIENT_FUNDS: &str = "INSUFFICIENT_FUNDS";
    pub const ACCOUNT_UNAVAILABLE: &str = "ACCOUNT_UNAVAILABLE";
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    pub const REAUTHENTICATION_REQUIRED: &str = "REAUTHENTICATION_REQUIRED";
    pub const REQUEST_TIMEOUT: &str = "REQUEST_TIMEOUT";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
}

const OPAQUE: &str = "internal server error";

/// The error type of every resolver: a domain outcome on its way to the client. It deliberately has no
/// `Display`, so it cannot slip through async-graphql's blanket conversion without its code.
/// (`Clone` because async-graphql requires it of resolver errors; the outcome is shared, not copied.)
#[derive(Debug, Clone)]
pub struct ApiError(Arc<DomainError>);

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        Self(Arc::new(error))
    }
}

/// Carried as the error's source until [`finalize`] expands or logs it.
#[derive(Debug)]
enum Pending {
    Fields(Vec<FieldError>),
    Internal(String),
}

fn with_code(message: impl Into<String>, code: &str) -> async_graphql::Error {
    let mut error = async_graphql::Error::new(message);
    error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code);
    error
}

impl From<ApiError> for async_graphql::Error {
    fn from(ApiError(error): ApiError) -> Self {
        let message = error.to_string();
        match &*error {
            DomainError::Unauthenticated | DomainError::InvalidCredentials(_) => {
                with_code(message, code::UNAUTHENTICATED)
            }
            DomainError::Forbidden(_) => with_code(message, code::FORBIDDEN),
            DomainError::NotFound(_) => with_code(message, code::NOT_FOUND),
            DomainError::Invalid(fields) => {
                let message = match fields.as_slice() {
                    [only] => only.message.clone(),
                    _ => message,
                };
                let mut error = with_code(message, code::BAD_USER_INPUT);
                if let Some(first) = fields.first() {
                    error
                        .extensions
                        .get_or_insert_with(ErrorExtensionValues::default)
                        .set("field", first.field.as_str());
                }
                error.source = Some(Arc::new(Pending::Fields(fields.clone())));
                error
            }
            DomainError::Conflict { field, .. } => {
                let mut error = with_code(message, code::CONFLICT);
                if let Some(field) = field {
                    error
                        .extensions
                        .get_or_insert_with(ErrorExtensionValues::default)
                        .set("field", field.as_str());
                }
                error
            }
            DomainError::RateLimited { retry_after_secs } => {
                let mut error = with_code(message, code::RATE_LIMITED);
                error
                    .extensions
                    .get_or_insert_with(ErrorExtensionValues::default)
                    .set("retryAfter", *retry_after_secs);
                error
            }
            DomainError::TwoFactorRequired(_) => with_code(message, code::TWO_FACTOR_REQUIRED),
            DomainError::InsufficientFunds(_) => with_code(message, code::INSUFFICIENT_FUNDS),
            DomainError::AccountUnavailable(_) => with_code(message, code::ACCOUNT_UNAVAILABLE),
            DomainError::ReauthenticationRequired(_) => with_code(message, code::REAUTHENTICATION_REQUIRED),
            DomainError::Internal(internal) => {
                let mut error = with_code(OPAQUE, code::INTERNAL_SERVER_ERROR);
                error.source = Some(Arc::new(Pending::Internal(format!("{internal}: {:?}", internal))));
                error
            }
        }
    }
}

fn code_of(error: &ServerError) -> Option<String> {
    match error.extensions.as_ref()?.get("code")? {
        Value::String(code) => Some(code.clone()),
        _ => None,
    }
}

fn set(error: &mut ServerError, key: &str, value: impl Into<Value>) {
    error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set(key, value);
}

/// Gives every error of a response its final shape (see the module rules).
pub fn finalize(errors: Vec<ServerError>, request_id: &str) -> Vec<ServerError> {
    let mut out = Vec::with_capacity(errors.len());
    for mut error in errors {
        let pending = error
            .source
            .as_ref()
            .and_then(|source| source.downcast_ref::<Pending>());
        match (code_of(&error), pending) {
            (Some(_), Some(Pending::Fields(fields))) if fields.len() > 1 => {
                for field in fields {
                    let mut one = ServerError::new(field.message.clone(), error.locations.first().copied());
                    one.path = error.path.clone();
                    set(&mut one, "code", code::BAD_USER_INPUT);
                    set(&mut one, "field", field.field.as_str());
                    out.push(one);
                }
                continue;
            }
            (Some(_), Some(Pending::Internal(detail))) => {
                tracing::error!(request_id, path = ?error.path, error = %detail, "unexpected error");
                set(&mut error, "requestId", request_id);
            }
            (Some(_), _) => {}
            (None, _) => classify_uncoded(&mut error, request_id),
        }
        error.source = None;
        out.push(error);
    }
    out
}

/// Errors async-graphql raises itself: limits, parse and validation failures, input coercion; anything else
/// without a code is unexpected and becomes opaque.
fn classify_uncoded(error: &mut ServerError, request_id: &str) {
    let message = error.message.as_str();
    if message.contains("nested too deep") || message.contains("too complex") {
        set(error, "code", code::QUERY_TOO_COMPLEX);
    } else if error.path.is_empty()
        || message.starts_with("Failed to parse")
        || message.starts_with("Invalid value for argument")
    {
        set(error, "code", code::BAD_USER_INPUT);
    } else {
        tracing::error!(request_id, path = ?error.path, error = %error.message, "unexpected error without a code");
        error.message = OPAQUE.to_owned();
        error.extensions = None;
        set(error, "code", code::INTERNAL_SERVER_ERROR);
        set(error, "requestId", request_id);
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::Pos;

    fn server_error(error: ApiError) -> ServerError {
        async_graphql::Error::from(error).into_server_error(Pos::default())
    }

    #[test]
    fn several_bad_fields_become_one_error_each() {
        let error = ApiError::from(DomainError::Invalid(vec![
            FieldError::new("email", "bad email"),
            FieldError::new("password", "too short"),
        ]));
        let out = finalize(vec![server_error(error)], "req-1");
        let fields: Vec<_> = out
            .iter()
            .map(|e| e.extensions.as_ref().and_then(|x| x.get("field").cloned()))
            .collect();
        assert_eq!(fields, vec![Some(Value::from("email")), Some(Value::from("password"))]);
        assert!(out.iter().all(|e| code_of(e).as_deref() == Some(code::BAD_USER_INPUT)));
    }

    #[test]
    fn internal_errors_are_opaque_with_a_request_id() {
        let error = ApiError::from(DomainError::internal("relation \"users\" does not exist"));
        let out = finalize(vec![server_error(error)], "req-42");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].message, OPAQUE);
        assert_eq!(code_of(&out[0]).as_deref(), Some(code::INTERNAL_SERVER_ERROR));
        let printed = format!("{:?}", out[0]);
        assert!(!printed.contains("relation"), "database text leaked: {printed}");
        assert!(printed.contains("req-42"));
    }

    #[test]
    fn uncoded_resolver_errors_become_opaque() {
        let mut error = ServerError::new("secret detail", None);
        error.path = vec![async_graphql::PathSegment::Field("me".into())];
        let out = finalize(vec![error], "req-7");
        assert_eq!(out[0].message, OPAQUE);
        assert_eq!(code_of(&out[0]).as_deref(), Some(code::INTERNAL_SERVER_ERROR));
    }

    #[test]
    fn rate_limited_carries_retry_after() {
        let out = finalize(
            vec![server_error(ApiError::from(DomainError::RateLimited {
                retry_after_secs: 42,
            }))],
            "r",
        );
        let retry = out[0].extensions.as_ref().and_then(|x| x.get("retryAfter").cloned());
        assert_eq!(retry, Some(Value::from(42u64)));
    }
}
