//! Counting events per key in windows, shared by every replica that uses the same counter: the request
//! budgets of API keys, users and anonymous networks, and the per-account and per-dialog budgets of the inbox,
//! health actions and the sandbox.
//!
//! Rules:
//! - A key's window starts at its first event after its previous window ended and lasts the limit's length
//!   ([`Window`]); at most `limit` events of the key are allowed in it. A caller's minute starts when they
//!   start, so no shared boundary resets every key at once.
//! - One check is one atomic step of the counter ([`RateCounter::count`]): "count one event of key K now;
//!   answer the count and the window". The database counter does it with a single
//!   `INSERT … ON CONFLICT (key) DO UPDATE … RETURNING count, window_start`, so however many replicas race on
//!   one key, exactly `limit` events are allowed per window.
//! - A limit of 0 refuses everything without asking the counter.
//! - Keys name the limit and a hash of the subject ([`RateKey`]): never a secret, and no address in clear.
//! - When the counter cannot answer, each limit decides by its [`OnStoreFailure`]: a request budget allows
//!   (the API stays up; logged and counted), a limit guarding a write to the same database refuses with the
//!   store's error (that write could not succeed anyway, and an account's sending is never left unbounded).
//! - Windows that ended are deleted by the counter itself (the memory counter as its table grows, the
//!   database counter at most once a minute per process); a window is never needed after its end.
//! - A window bounds the count within it: a caller may spend a whole budget at the end of one window and
//!   another at the start of the next (what the `RateLimit-*` headers report is the current window).

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
