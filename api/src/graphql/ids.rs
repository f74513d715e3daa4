//! Ids from clients, parsed once for every resolver.
//!
//! Rules: a malformed id of something the caller names as input is `BAD_USER_INPUT` on its field; a
//! malformed workspace id is refused like a workspace the caller is not in (`FORBIDDEN`), and a malformed id
//! of a thing looked up by id like an unknown one (`NOT_FOUND`), so malformed ids reveal nothing more than
//! unknown ones.

use std::str::FromStr;

use async_graphql::ID;
use tgos_domain::DomainError;
use tgos_domain::ids::WorkspaceId;

use crate::graphql::errors::{ApiError, ApiResult};

/// An id given as input on `field`, of a `what`; `BAD_USER_INPUT` on `field` when malformed.
pub fn parse_id<T: FromStr>(id: &ID, field: &str, what: &'static str) -> ApiResult<T> {
    id.parse()
        .map_err(|_| ApiError::from(DomainError::invalid(field, format!("not a {what} id"))))
}

/// An optional id given as input on `field`.
pub fn parse_optional_id<T: FromStr>(id: Option<&ID>, field: &str, what: &'static str) -> ApiResult<Option<T>> {
    id.map(|id| parse_id(id, field, what)).transpose()
}

/// The id of a `what` looked up by id; `NOT_FOUND` when malformed, as when unknown.
pub fn found_id<T: FromStr>(id: &ID, what: &'static str) -> ApiResult<T> {
    id.parse().map_err(|_| ApiError::from(DomainError::NotFound(what)))
}

/// A workspace id from a client: malformed ids are refused like ids of workspaces the caller is not in.
pub fn workspace_id(id: &ID) -> ApiResult<WorkspaceId> {
    id.parse().map_err(|_| {
        ApiError::from(DomainError::Forbidden(
            "you are not a member of this workspace".to_owned(),
        ))
    })
}
