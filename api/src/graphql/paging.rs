//! Relay-style paging, written once: a connection field's arguments become a domain [`PageRequest`], and the
//! domain's [`Page`] becomes the connection with its `pageInfo`.
//!
//! Rules: `first` defaults to 20 and must lie in 0..=100 (else `BAD_USER_INPUT` on `first`); a cursor is
//! opaque to clients, the URL-safe base64 of a versioned, typed position (`1:<list>:<position>`), so a cursor
//! of one list is refused by another and a malformed one is `BAD_USER_INPUT` on `after`; an edge's cursor is
//! the position of its node.

use std::fmt::Display;
use std::str::FromStr;

use async_graphql::OutputType;
use async_graphql::connection::{Connection, Edge};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tgos_domain::DomainError;
use tgos_domain::ids::{AccountId, AutomationId, DialogId, ExecutionId, LeaseId, MessageId, PostingId, UserId};
use tgos_domain::paging::{MAX_PAGE, Page, PageRequest};

use crate::graphql::errors::{ApiError, ApiResult};

/// The page size when `first` is not given.
pub const DEFAULT_PAGE: i32 = 20;

/// What a connection field costs in a query's complexity: every item of the page it asks for (`first`, the
/// default page when absent) costs what its selection costs. A page of nothing still costs one.
pub fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    list_cost(first.unwrap_or(DEFAULT_PAGE), child_complexity)
}

/// What a list field of `items` items costs: each item what its selection costs, one at the least.
pub fn list_cost(items: i32, child_complexity: usize) -> usize {
    usize::try_from(items)
        .unwrap_or(0)
        .max(1)
        .saturating_mul(child_complexity)
        .max(1)
}

/// The version every cursor handed out today carries; a later format takes the next number.
const CURSOR_VERSION: &str = "1";

/// A position in a list that a cursor can name: the list's name and the position's text.
pub trait CursorValue: Display + FromStr + Copy {
    /// The list the position belongs to.
    const LIST: &'static str;
}

macro_rules! cursor_values {
    ($($value:ty => $list:literal),* $(,)?) => {
        $(impl CursorValue for $value {
            const LIST: &'static str = $list;
        })*
    };
}

cursor_values! {
    UserId => "member",
    LeaseId => "lease",
    AccountId => "account",
    DialogId => "dialog",
    MessageId => "message",
    PostingId => "ledger",
    i64 => "audit",
    AutomationId => "automation",
    ExecutionId => "execution",
}

/// The opaque cursor of `position`.
pub fn encode_cursor<C: CursorValue>(position: &C) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_VERSION}:{}:{position}", C::LIST))
}

/// The position an opaque cursor names, if it is one of this list's.
pub fn decode_cursor<C: CursorValue>(cursor: &str) -> Option<C> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let mut parts = text.splitn(3, ':');
    let (version, list, position) = (parts.next()?, parts.next()?, parts.next()?);
    if version != CURSOR_VERSION || list != C::LIST {
        return None;
    }
    position.parse().ok()
}

/// The page a connection field's `first` and `after` ask for.
pub fn page_request<C: CursorValue>(first: Option<i32>, after: Option<&str>) -> ApiResult<PageRequest<C>> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    let limit = u64::try_from(first)
        .ok()
        .filter(|limit| *limit <= MAX_PAGE)
        .ok_or_else(|| {
            ApiError::from(DomainError::invalid(
                "first",
                format!("first must be between 0 and {MAX_PAGE}"),
            ))
        })?;
    let after = after
        .map(|cursor| {
            decode_cursor(cursor).ok_or_else(|| {
                ApiError::from(DomainError::invalid(
                    "after",
                    "the cursor is not one this list gave out",
                ))
            })
        })
        .transpose()?;
    Ok(PageRequest::new(after, limit))
}

/// The connection of `page`, read for `request`: `edge` gives each item's position and node.
pub fn connection<C, T, N>(
    request: &PageRequest<C>,
    page: Page<T>,
    mut edge: impl FnMut(T) -> (C, N),
) -> Connection<String, N>
where
    C: CursorValue,
    N: OutputType,
{
    let mut connection = Connection::new(request.after().is_some(), page.has_next);
    connection.edges.extend(page.items.into_iter().map(|item| {
        let (position, node) = edge(item);
        Edge::new(encode_cursor(&position), node)
    }));
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_the_position_it_names() {
        let dialog = DialogId::generate();
        let cursor = encode_cursor(&dialog);
        assert_eq!(decode_cursor::<DialogId>(&cursor), Some(dialog));
        assert!(!cursor.contains(&dialog.to_string()), "cursors are opaque");
        assert_eq!(decode_cursor::<i64>(&encode_cursor(&42_i64)), Some(42));
    }

    #[test]
    fn a_cursor_of_another_list_or_version_or_no_cursor_at_all_is_refused() {
        let dialog = DialogId::generate();
        let cursor = encode_cursor(&dialog);
        assert_eq!(decode_cursor::<MessageId>(&cursor), None, "another list's cursor");
        let future = URL_SAFE_NO_PAD.encode(format!("2:dialog:{dialog}"));
        assert_eq!(decode_cursor::<DialogId>(&future), None, "another version");
        assert_eq!(decode_cursor::<DialogId>(&dialog.to_string()), None, "a bare id");
        assert_eq!(decode_cursor::<DialogId>("%%%"), None, "not base64");
        assert_eq!(decode_cursor::<i64>(&URL_SAFE_NO_PAD.encode("1:audit:x")), None);
    }

    #[test]
    fn a_page_costs_its_items_times_their_selection() {
        assert_eq!(page_cost(None, 3), 60, "the default page is 20");
        assert_eq!(page_cost(Some(100), 2), 200);
        assert_eq!(page_cost(Some(0), 5), 5, "an empty page costs as one item");
        assert_eq!(page_cost(Some(-3), 5), 5);
        assert_eq!(list_cost(i32::MAX, usize::MAX), usize::MAX, "saturates");
    }

    #[test]
    fn first_must_lie_within_the_page_limits() {
        assert_eq!(page_request::<i64>(None, None).map(|p| p.limit()).ok(), Some(20));
        assert_eq!(page_request::<i64>(Some(0), None).map(|p| p.limit()).ok(), Some(0));
        assert_eq!(page_request::<i64>(Some(100), None).map(|p| p.limit()).ok(), Some(100));
        assert!(page_request::<i64>(Some(101), None).is_err());
        assert!(page_request::<i64>(Some(-1), None).is_err());
        assert!(page_request::<i64>(None, Some("nonsense")).is_err());
        let after = encode_cursor(&7_i64);
        assert_eq!(
            page_request::<i64>(Some(5), Some(&after)).ok(),
            Some(PageRequest::new(Some(7), 5))
        );
    }
}
