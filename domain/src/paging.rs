//! Pages of a list: what a caller asks for ([`PageRequest`]) and what it gets ([`Page`]).
//!
//! Rules: a page holds at most [`MAX_PAGE`] items whatever the caller asks (a list with a cap of its own says
//! so with [`PageRequest::capped`]); whether another page follows is
//! learned by reading one row more than the page and dropping it, here and nowhere else
//! ([`PageRequest::read`]); the cursor is the position the previous page ended at, of the list's own type.

use std::future::Future;

use crate::error::DomainResult;
use crate::store::StoreResult;

/// The most items one page may hold.
pub const MAX_PAGE: u64 = 100;

/// One page's worth of a list: after `after` (exclusive, in the list's order), at most `limit` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<C> {
    after: Option<C>,
    limit: u64,
}

impl<C> PageRequest<C> {
    /// At most `limit` items (capped at [`MAX_PAGE`]) after `after`.
    pub fn new(after: Option<C>, limit: u64) -> Self {
        Self {
            after,
            limit: limit.min(MAX_PAGE),
        }
    }

    /// At most `limit` items (capped at `max`, a list's own cap instead of [`MAX_PAGE`]) after `after`.
    pub fn capped(after: Option<C>, limit: u64, max: u64) -> Self {
        Self {
            after,
            limit: limit.min(max),
        }
    }

    /// The first `limit` items of the list.
    pub fn first(limit: u64) -> Self {
        Self::new(None, limit)
    }

    pub fn after(&self) -> Option<&C> {
        self.after.as_ref()
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// How many rows to read: one more than the page, to tell whether another follows.
    pub fn rows_to_read(&self) -> u64 {
        self.limit.saturating_add(1)
    }

    /// The page of `rows` (read with [`Self::rows_to_read`]): the first `limit`, and whether more followed.
    pub fn page_of<T>(&self, mut rows: Vec<T>) -> Page<T> {
        let keep = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let has_next = rows.len() > keep;
        rows.truncate(keep);
        Page { items: rows, has_next }
    }

    /// Reads the page with `read(after, rows)`, which returns up to `rows` items of the list after `after`.
    pub async fn read<T, F, Fut>(self, read: F) -> DomainResult<Page<T>>
    where
        F: FnOnce(Option<C>, u64) -> Fut,
        Fut: Future<Output = StoreResult<Vec<T>>>,
    {
        let Self { after, limit } = self;
        let rows = read(after, limit.saturating_add(1)).await?;
        Ok(PageRequest::<()> { after: None, limit }.page_of(rows))
    }
}

/// A page of a list and whether another follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            has_next: false,
        }
    }
}

impl<T> Page<T> {
    /// The same page with each item turned into another.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next: self.has_next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_reads_one_row_more_and_drops_it_to_say_another_follows() {
        let request = PageRequest::<u32>::first(2);
        assert_eq!(request.rows_to_read(), 3);
        assert_eq!(
            request.page_of(vec![1, 2, 3]),
            Page {
                items: vec![1, 2],
                has_next: true
            }
        );
        assert_eq!(
            request.page_of(vec![1, 2]),
            Page {
                items: vec![1, 2],
                has_next: false
            }
        );
        assert_eq!(request.page_of(Vec::<u32>::new()), Page::default());
    }

    #[test]
    fn a_page_never_holds_more_than_the_maximum() {
        let request = PageRequest::new(Some(7_u32), 1_000);
        assert_eq!(request.limit(), MAX_PAGE);
        assert_eq!(request.rows_to_read(), MAX_PAGE + 1);
        assert_eq!(request.after(), Some(&7));
        let page = request.page_of((0..=MAX_PAGE).collect());
        assert_eq!(page.items.len() as u64, MAX_PAGE);
        assert!(page.has_next, "the full page of the maximum still says another follows");
    }

    #[tokio::test]
    async fn a_list_with_its_own_cap_keeps_pages_larger_than_the_maximum() {
        let request = PageRequest::capped(None::<u32>, 1_000, 500);
        assert_eq!(request.limit(), 500);
        let page = request
            .read(|_, rows| async move { Ok((0..rows).collect::<Vec<_>>()) })
            .await;
        assert!(matches!(page, Ok(Page { ref items, has_next: true }) if items.len() == 500));
    }

    #[test]
    fn an_empty_page_asks_one_row_to_learn_whether_the_list_has_any() {
        let request = PageRequest::<u32>::first(0);
        assert_eq!(request.rows_to_read(), 1);
        assert_eq!(
            request.page_of(vec![9]),
            Page {
                items: vec![],
                has_next: true
            }
        );
    }

    #[tokio::test]
    async fn read_passes_the_cursor_and_the_rows_to_read() {
        let page = PageRequest::new(Some(5_u32), 2)
            .read(|after, rows| async move {
                assert_eq!((after, rows), (Some(5), 3));
                Ok(vec!["a", "b", "c"])
            })
            .await;
        assert!(matches!(page, Ok(Page { ref items, has_next: true }) if items == &["a", "b"]));
    }
}
