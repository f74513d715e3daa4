//! Relay-style paging arguments: `first` (default 20, at most 100) and an opaque `after` cursor.

use tgos_domain::DomainError;

use crate::graphql::errors::{ApiError, ApiResult};

pub const DEFAULT_PAGE: i32 = 20;
pub const MAX_PAGE: i32 = 100;

/// The page size asked for, checked.
pub fn page_size(first: Option<i32>) -> ApiResult<u64> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(ApiError::from(DomainError::invalid(
            "first",
            format!("first must be between 0 and {MAX_PAGE}"),
        )));
    }
    Ok(u64::try_from(first).unwrap_or(0))
}

/// A cursor's content, or `BAD_USER_INPUT` on `after`.
pub fn parse_cursor<T: std::str::FromStr>(after: Option<&str>) -> ApiResult<Option<T>> {
    after
        .map(|cursor| {
            cursor.parse().map_err(|_| {
                ApiError::from(DomainError::invalid(
                    "after",
                    "the cursor is not one this list gave out",
                ))
            })
        })
        .transpose()
}
