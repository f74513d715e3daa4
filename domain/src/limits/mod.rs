//! Counting events in fixed windows, shared by every replica that uses the same counter: the request budgets
//! of API keys, users and anonymous networks, and the per-account and per-dialog budgets of the inbox, health
//! actions and the sandbox.
//!
//! Rules:
//! - A window is fixed and aligned to the Unix epoch: a one-minute window starts on a whole UTC minute
//!   ([`Window::containing`]). Every replica therefore names the same window for the same instant without
//!   talking to the others, and a counter needs nothing but `(key, window start)` to count.
//! - One check is one step: "count one event for key K in the window starting at T unless `limit` are
//!   already counted there; answer the count". The counter does it atomically ([`RateCounter::count`]): the
//!   database adapter with a single `INSERT … ON CONFLICT … DO UPDATE … WHERE count < limit RETURNING count`,
//!   so however many replicas race on one key, exactly `limit` events are allowed per window.
//! - A refused event is not counted; a limit of 0 refuses everything without asking the counter.
//! - Keys name the limit and a hash of the subject ([`RateKey`]): never a secret, and no address in clear.
//! - When the counter cannot answer, each limit decides by its [`OnStoreFailure`]: a request budget allows
//!   (the API stays up; logged and counted), a limit guarding a write to the same database refuses with the
//!   store's error (that write could not succeed anyway, and an account's sending is never left unbounded).
//! - Windows that ended are deleted by the counter itself (the memory counter as its table grows, the
//!   database counter at most once a window per process); a window's rows are never needed after its end.
//! - Fixed windows allow a burst of up to twice the limit across one window boundary (the end of one minute
//!   and the start of the next); what they bound is the count per window, which is what the headers report.

mod limiter;
mod memory;
mod ports;
mod window;

pub use limiter::{Limit, OnStoreFailure, RateLimiter, StoreFailures, Taken};
pub use memory::MemoryRateCounter;
pub use ports::{Counted, RateCounter, RateKey};
pub use window::Window;

#[cfg(test)]
mod tests;
