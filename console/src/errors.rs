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

/// The exit status of a failed command (API.md, "Staff compliance console"): 3 when a staff sign-in was
/// needed and not given or the data cannot be reached, a command's own status when it gave one
/// ([`WithStatus`]), else 1 (refused or failed; clap exits 2 for usage).
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if let Some(failed) = error.downcast_ref::<WithStatus>() {
        failed.status
    } else if error.downcast_ref::<SignInRequired>().is_some() || error.downcast_ref::<Unreachable>().is_some() {
        EXIT_SIGN_IN_REQUIRED
    } else {
        1
    }
}

/// The `extensions.code`-style name of a domain refusal, for `--json` output and the web pages.
pub fn code_of(error: &DomainError) -> &'static str {
    match error {
        DomainError::Unauthenticated => "UNAUTHENTICATED",
        DomainError::InvalidCredentials(_) => "INVALID_CREDENTIALS",
        DomainError::Forbidden(_) => "FORBIDDEN",
        DomainError::NotFound(_) => "NOT_FOUND",
        DomainError::Invalid(_) => "BAD_USER_INPUT",
        DomainError::Conflict { .. } => "CONFLICT",
        DomainError::RateLimited { .. } => "RATE_LIMITED",
        DomainError::InsufficientFunds(_) => "INSUFFICIENT_FUNDS",
        DomainError::AccountUnavailable(_) => "ACCOUNT_UNAVAILABLE",
        DomainError::TwoFactorRequired(_) => "TWO_FACTOR_REQUIRED",
        DomainError::ReauthenticationRequired(_) => "REAUTHENTICATION_REQUIRED",
        DomainError::Internal(_) => "INTERNAL",
    }
}

/// The field a refusal names, when it names one.
pub fn field_of(error: &DomainError) -> Option<String> {
    match error {
        DomainError::Invalid(fields) => fields.first().map(|f| f.field.clone()),
        DomainError::Conflict { field, .. } => field.clone(),
        _ => None,
    }
}
