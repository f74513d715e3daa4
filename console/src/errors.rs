//! Turning a use case's outcome into the console's error message.
//!
//! Rule: a business outcome reads as its own sentence (`line 2: this session is already in the pool`); an
//! infrastructure failure keeps its cause, since the console's reader is the operator, whom a server would tell
//! through its log. Neither ever carries a secret: domain errors quote no session, key or password.

use tgos_domain::DomainError;

/// The error of a use case, with its cause chain (printed with `{:#}`).
pub fn domain(error: DomainError) -> anyhow::Error {
    anyhow::Error::new(error)
}
