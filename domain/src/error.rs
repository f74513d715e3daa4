//! The closed set of business outcomes a use case can end in.
//!
//! Every failure a caller can act on has its own variant; the GraphQL edge maps each variant to exactly one
//! `extensions.code`. Infrastructure failures travel as [`DomainError::Internal`] and are never turned into a
//! business outcome silently: the edge logs them with a request id and answers with an opaque message.

use std::fmt;

/// One input field at fault, named as the client sent it (`email`, `password`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A failure of infrastructure (storage, the blocking pool, a key file). Its text is for logs only.
#[derive(Debug)]
pub struct InternalError(Box<dyn std::error::Error + Send + Sync>);

impl InternalError {
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }
}

impl fmt::Display for InternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for InternalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// No valid credentials came with the call.
    #[error("authentication required")]
    Unauthenticated,
    /// The credentials offered (password, two-factor code, challenge) are wrong, used or expired.
    #[error("{0}")]
    InvalidCredentials(&'static str),
    /// The caller is known but a rule forbids the action; the message says which rule.
    #[error("{0}")]
    Forbidden(String),
    /// The thing does not exist, or exists where the caller cannot see it (the two are indistinguishable).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// One or more input fields break a rule; each is named.
    #[error("invalid input: {}", describe(.0))]
    Invalid(Vec<FieldError>),
    /// The change collides with existing state (a taken email, a reused token).
    #[error("{message}")]
    Conflict { field: Option<String>, message: String },
    /// Too many attempts; try again after the given number of seconds.
    #[error("too many attempts; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The wallet does not hold enough for the charge; nothing was changed.
    #[error("{0}")]
    InsufficientFunds(String),
    /// The Telegram account cannot be rented (someone else has it, or it left the pool); nothing was charged.
    #[error("{0}")]
    AccountUnavailable(String),
    /// The action needs a second factor first (staff without TOTP enrolled, for example).
    #[error("{0}")]
    TwoFactorRequired(String),
    /// A sensitive change needs the caller to have re-entered their password (and code) on this session
    /// recently ([`crate::identity::reauthentication`]).
    #[error("{0}")]
    ReauthenticationRequired(String),
    /// Infrastructure failed; nothing about it reaches the client.
    #[error("internal error")]
    Internal(#[from] InternalError),
}

fn describe(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl DomainError {
    /// A single bad field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Conflict {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(InternalError::new(error))
    }
}

pub type DomainResult<T> = Result<T, DomainError>;

/// Collects field errors so that every bad field of one input is reported at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    pub fn into_result(self) -> DomainResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}
