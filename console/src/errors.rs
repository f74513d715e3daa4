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

/// The exit status of a command refused because it needs a staff sign-in that was not given (any other
/// failure exits 1).
pub const EXIT_SIGN_IN_REQUIRED: u8 = 3;

/// A command that needs a signed-in staff member was run without one.
#[derive(Debug)]
pub struct SignInRequired(pub String);

impl std::fmt::Display for SignInRequired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SignInRequired {}

/// The database (or the backup directory's database) could not be reached: exit status 3, like a missing
/// sign-in (API.md, "Staff compliance console": 3 cannot reach the data).
#[derive(Debug)]
pub struct Unreachable(pub String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreachable {}

/// A failure with an exit status of its own (the `lawful` commands': see `lawful::status`).
#[derive(Debug)]
pub struct WithStatus {
    pub status: u8,
    pub error: anyhow::Error,
}

impl std::fmt::Display for WithStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for WithStatus {}
