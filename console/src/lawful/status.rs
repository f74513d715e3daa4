//! The exit status of a `lawful` command, by outcome, so a script can tell them apart; with `--json` the
//! refusal is printed too, as the `requests` commands print theirs.
//!
//! Rule: 0 done; 1 refused by a rule (the registrar approving their own registration, a sign-in that is not
//! staff) or failed; 2 usage (clap's, and a registration whose values break a rule, each named); 3 a staff
//! sign-in needed and not given (the console's); 4 no such request; 5 not now: out of order (a package
//! before the approval, a delivery before the package), done already, or a reference registered already.
//! With `--json`, stdout holds `{"error": {"code", "field", "message"}}` (the code as the API names it).

use std::io::Write as _;

use serde_json::json;
use tgos_domain::DomainError;

use crate::errors::{code_of, field_of};

/// The values given break a rule.
pub const USAGE: u8 = 2;
/// No request has that id.
pub const NOT_FOUND: u8 = 4;
/// The step cannot be taken now.
pub const NOT_NOW: u8 = 5;

/// A use case's refusal, with the exit status it gets; printed as JSON on stdout when `json`.
pub fn refusal(error: DomainError, json: bool) -> anyhow::Error {
    if json {
        let body = json!({ "error": {
            "code": code_of(&error),
            "field": field_of(&error),
            "message": error.to_string(),
        } });
        if let Err(failed) = writeln!(std::io::stdout().lock(), "{body}") {
            tracing::warn!(%failed, "the refusal could not be printed as JSON");
        }
    }
    let status = match &error {
        DomainError::Invalid(_) => Some(USAGE),
        DomainError::NotFound(_) => Some(NOT_FOUND),
        DomainError::Conflict { .. } => Some(NOT_NOW),
        _ => None,
    };
    let error = crate::errors::domain(error);
    match status {
        Some(status) => anyhow::Error::new(crate::errors::WithStatus { status, error }),
        None => error,
    }
}
