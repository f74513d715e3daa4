//! The rules of the lawful requests register, as pure functions (policy §6: data goes out on lawful requests
//! "only when legally compelled, and limited to what is required").
//!
//! Rules:
//! - **A complete registration.** Authority and reference (1 to 200 characters, one line each), the legal basis
//!   (1 to 2,000), the date received (not in the future) and the date due (not before it), a valid
//!   [`DisclosureScope`], optional notes (at most 4,000). Every bad field is
//!   reported at once.
//! - **Two people.** Only staff act on the register, and the approval comes from a second staff member: the
//!   registrar never approves their own registration. A request is approved once.
//! - **In order.** A package is built only after the approval, once; a request is marked delivered only after
//!   its package, once. Nothing is undone: each step is appended and stays.

use chrono::{DateTime, NaiveDate, Utc};

use super::records::{LawfulRequest, NewLawfulRequest};
use super::scope::DisclosureScope;
use crate::error::{DomainError, DomainResult, FieldError};
use crate::identity::Principal;
use crate::ids::{LawfulRequestId, UserId};
use crate::text::single_line;

/// The longest authority name and reference.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest legal basis.
pub const MAX_LEGAL_BASIS_CHARS: usize = 2_000;
/// The longest notes, and the longest delivery note.
pub const MAX_NOTES_CHARS: usize = 4_000;

/// The registration `input` as a new request of `registrar` registered at `now`, or every field at fault.
pub fn registration(
    id: LawfulRequestId,
    input: NewLawfulRequest,
    registrar: UserId,
    now: DateTime<Utc>,
) -> DomainResult<LawfulRequest> {
    let mut errors = Vec::new();
    let mut keep = |result: Result<String, FieldError>| match result {
        Ok(value) => Some(value),
        Err(error) => {
            errors.push(error);
            None
        }
    };
    let authority = keep(single_line(
        "authority",
        &input.authority,
        MAX_NAME_CHARS,
        "the authority",
    ));
    let reference = keep(single_line(
        "reference",
        &input.reference,
        MAX_NAME_CHARS,
        "the reference",
    ));
    let legal_basis = keep(text(
        "legalBasis",
        &input.legal_basis,
        MAX_LEGAL_BASIS_CHARS,
        "the legal basis",
    ));
    let notes = match input.notes.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(notes) => keep(text("notes", notes, MAX_NOTES_CHARS, "notes")).map(Some),
        None => Some(None),
    };
    if let Err(error) = check_dates(input.received_on, input.due_on, now.date_naive()) {
        errors.push(error);
    }
    let scope = DisclosureScope::new(
        input.users,
        input.workspaces,
        input.categories,
        input.period_from,
        input.period_to,
    )
    .map_err(|mut scope_errors| errors.append(&mut scope_errors))
    .ok();
    match (authority, reference, legal_basis, notes, scope) {
        (Some(authority), Some(reference), Some(legal_basis), Some(notes), Some(scope)) if errors.is_empty() => {
            Ok(LawfulRequest {
                id,
                authority,
                reference,
                legal_basis,
                received_on: input.received_on,
                due_on: input.due_on,
                scope,
                notes,
                registered_by: registrar,
                registered_at: now,
                approval: None,
                package: None,
                delivery: None,
            })
        }
        _ => Err(DomainError::Invalid(errors)),
    }
}

/// A request received on `received` and due on `due`, registered `today`.
pub fn check_dates(received: NaiveDate, due: NaiveDate, today: NaiveDate) -> Result<(), FieldError> {
    if received > today {
        return Err(FieldError::new(
            "receivedOn",
            "the date received cannot be in the future",
        ));
    }
    if due < received {
        return Err(FieldError::new(
            "dueOn",
            "the due date cannot be before the date received",
        ));
    }
    Ok(())
}

/// A delivery note: trimmed, at most [`MAX_NOTES_CHARS`]; empty is none.
pub fn delivery_note(note: Option<&str>) -> Result<Option<String>, FieldError> {
    match note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(note) => text("note", note, MAX_NOTES_CHARS, "the note").map(Some),
        None => Ok(None),
    }
}

/// Who may approve `request`: a staff member other than its registrar, while it is not approved. The
/// approver's id.
pub fn check_approval(request: &LawfulRequest, approver: &Principal) -> DomainResult<UserId> {
    let staff = approver.require_staff()?;
    if let Some(approval) = &request.approval {
        return Err(DomainError::conflict(
            "request",
            format!(
                "request {} was already approved at {}",
                request.id,
                approval.at.to_rfc3339()
            ),
        ));
    }
    if staff == request.registered_by {
        return Err(DomainError::Forbidden(
            "the registrar of a lawful request cannot approve it: a second staff member approves".to_owned(),
        ));
    }
    Ok(staff)
}

/// Whether `request`'s package may be built now: approved, and not built yet.
pub fn check_package(request: &LawfulRequest) -> DomainResult<()> {
    if request.approval.is_none() {
        return Err(DomainError::conflict(
            "request",
            format!(
                "request {} is not approved: its package is built only after a second staff member approves it",
                request.id
            ),
        ));
    }
    if let Some(package) = &request.package {
        return Err(DomainError::conflict(
            "request",
            format!("request {} already has its package ({})", request.id, package.file),
        ));
    }
    Ok(())
}

/// Whether `request` may be marked delivered now: packaged, and not delivered yet.
pub fn check_delivery(request: &LawfulRequest) -> DomainResult<()> {
    if request.package.is_none() {
        return Err(DomainError::conflict(
            "request",
            format!(
                "request {} has no package yet: build it before marking it delivered",
                request.id
            ),
        ));
    }
    if let Some(delivery) = &request.delivery {
        return Err(DomainError::conflict(
            "request",
            format!(
                "request {} was already delivered at {}",
                request.id,
                delivery.at.to_rfc3339()
            ),
        ));
    }
    Ok(())
}

/// `raw` trimmed, 1 to `max` characters, line breaks and tabs allowed but no other control character.
fn text(field: &str, raw: &str, max: usize, what: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, format!("{what} is required")));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("{what} must be at most {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new(
            field,
            format!("{what} must not contain control characters"),
        ));
    }
    Ok(value.to_owned())
}
