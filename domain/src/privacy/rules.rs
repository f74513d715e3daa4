//! The rules of a data-subject request, as pure functions.
//!
//! Rules:
//! - **Due in 30 days.** A request is due 30 days after it was received (policy §8: "we respond within 30
//!   days"); it may be extended **once**, with a reason, by at most two further months (61 days).
//! - **Status moves by this table only.** RECEIVED → VERIFYING | IN_PROGRESS | REJECTED; VERIFYING →
//!   IN_PROGRESS | REJECTED; IN_PROGRESS → COMPLETED | REJECTED. Nothing leaves COMPLETED or REJECTED, and no
//!   status moves to itself or back.
//! - **The person's words are bounded.** `details` is required for the kinds staff handle, 1 to
//!   [`MAX_DETAILS_CHARS`] characters after trimming.
//! - **Few open at once.** A person may have at most [`MAX_OPEN_REQUESTS`] requests not yet completed or
//!   rejected; one export builds at a time, and at most [`EXPORTS_PER_DAY`] exports are requested a day
//!   ([`check_new_export`]). The use cases count after taking the person's lock, so simultaneous requests are
//!   counted one after the other.

use chrono::{DateTime, Duration, Utc};

use super::records::{DataSubjectRequest, RequestKind, RequestStatus};
use crate::error::{DomainError, DomainResult};

/// Days within which a request is answered.
pub const RESPONSE_DAYS: i64 = 30;
/// The longest one extension may add to the due date (two further months).
pub const MAX_EXTENSION_DAYS: i64 = 61;
/// The longest `details` text.
pub const MAX_DETAILS_CHARS: usize = 4_000;
/// The longest extension reason or resolution.
pub const MAX_NOTE_CHARS: usize = 2_000;
/// Requests one person may have open (not completed or rejected) at once.
pub const MAX_OPEN_REQUESTS: usize = 5;
/// Exports one person may request in 24 hours.
pub const EXPORTS_PER_DAY: usize = 3;
/// How long a built archive can be downloaded.
pub const EXPORT_VALID_DAYS: i64 = 7;

/// When a request received at `received` is due.
pub fn due_at(received: DateTime<Utc>) -> DateTime<Utc> {
    received + Duration::days(RESPONSE_DAYS)
}

/// Whether a request may move from `from` to `to`.
pub fn can_move(from: RequestStatus, to: RequestStatus) -> bool {
    use RequestStatus::{Completed, InProgress, Received, Rejected, Verifying};
    matches!(
        (from, to),
        (Received, Verifying | InProgress | Rejected)
            | (Verifying, InProgress | Rejected)
            | (InProgress, Completed | Rejected)
    )
}

/// The move, or `CONFLICT` naming both statuses.
pub fn check_move(from: RequestStatus, to: RequestStatus) -> DomainResult<()> {
    if can_move(from, to) {
        Ok(())
    } else {
        Err(DomainError::conflict(
            "status",
            format!("a request {} cannot become {}", from.as_str(), to.as_str()),
        ))
    }
}

/// Whether the person whose requests are `mine` may request an export at `now`: `CONFLICT` naming the export
/// still building (checked first: it is also the reason to wait), `RATE_LIMITED` with
/// [`EXPORTS_PER_DAY`] requested in the 24 hours before `now`.
pub fn check_new_export(mine: &[DataSubjectRequest], now: DateTime<Utc>) -> DomainResult<()> {
    let exports = || mine.iter().filter(|request| request.kind == RequestKind::Export);
    if let Some(building) = exports().find(|request| request.status == RequestStatus::InProgress) {
        return Err(DomainError::conflict(
            "kind",
            format!("export {} is still being built", building.id),
        ));
    }
    let today = exports()
        .filter(|request| request.received_at > now - Duration::days(1))
        .count();
    if today >= EXPORTS_PER_DAY {
        return Err(DomainError::RateLimited {
            retry_after_secs: 24 * 60 * 60,
        });
    }
    Ok(())
}

/// The kinds a person submits with `submitDataSubjectRequest` (the others have mutations of their own).
pub fn is_submittable(kind: RequestKind) -> bool {
    matches!(
        kind,
        RequestKind::Access | RequestKind::Rectification | RequestKind::Restriction | RequestKind::Objection
    )
}

/// `details`, trimmed: required and bounded.
pub fn parse_details(details: &str) -> DomainResult<String> {
    let trimmed = details.trim();
    if trimmed.is_empty() {
        return Err(DomainError::invalid("details", "say what you are asking for"));
    }
    if trimmed.chars().count() > MAX_DETAILS_CHARS {
        return Err(DomainError::invalid(
            "details",
            format!("at most {MAX_DETAILS_CHARS} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A new due date for a request due at `due_at`, already extended once or not: once only, later than the
/// current due date, at most [`MAX_EXTENSION_DAYS`] past it, with a reason.
pub fn check_extension(
    due_at: DateTime<Utc>,
    already_extended: bool,
    until: DateTime<Utc>,
    reason: &str,
) -> DomainResult<String> {
    if already_extended {
        return Err(DomainError::conflict("until", "a request is extended once at most"));
    }
    if until <= due_at || until > due_at + Duration::days(MAX_EXTENSION_DAYS) {
        return Err(DomainError::invalid(
            "until",
            format!("after the due date and at most {MAX_EXTENSION_DAYS} days past it"),
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_NOTE_CHARS {
        return Err(DomainError::invalid(
            "reason",
            format!("required, at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    Ok(reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestStatus::{Completed, InProgress, Received, Rejected, Verifying};

    #[test]
    fn the_transition_table_allows_forward_moves_only_and_nothing_out_of_a_final_status() {
        let allowed = [
            (Received, Verifying),
            (Received, InProgress),
            (Received, Rejected),
            (Verifying, InProgress),
            (Verifying, Rejected),
            (InProgress, Completed),
            (InProgress, Rejected),
        ];
        for &from in RequestStatus::ALL {
            for &to in RequestStatus::ALL {
                assert_eq!(
                    can_move(from, to),
                    allowed.contains(&(from, to)),
                    "{} -> {}",
                    from.as_str(),
                    to.as_str()
                );
            }
        }
        for &to in RequestStatus::ALL {
            assert!(!can_move(Completed, to) && !can_move(Rejected, to));
            assert!(check_move(Completed, to).is_err());
        }
        assert!(check_move(Received, Completed).is_err(), "no skipping the work");
    }

    #[test]
    fn a_request_is_due_thirty_days_after_it_was_received() {
        let received = DateTime::parse_from_rfc3339("2026-01-31T10:00:00Z").map(|t| t.to_utc());
        let received = received.unwrap_or_default();
        assert_eq!(due_at(received).to_rfc3339(), "2026-03-02T10:00:00+00:00");
    }

    #[test]
    fn an_extension_is_once_with_a_reason_and_at_most_two_further_months() {
        let due = Utc::now();
        assert_eq!(
            check_extension(due, false, due + Duration::days(61), " complex ")
                .ok()
                .as_deref(),
            Some("complex")
        );
        assert!(check_extension(due, true, due + Duration::days(10), "again").is_err());
        assert!(check_extension(due, false, due + Duration::days(62), "too long").is_err());
        assert!(check_extension(due, false, due, "not later").is_err());
        assert!(check_extension(due, false, due + Duration::days(5), "   ").is_err());
    }

    #[test]
    fn details_are_required_and_bounded_and_only_staff_kinds_are_submitted() {
        assert_eq!(parse_details("  fix my name ").ok().as_deref(), Some("fix my name"));
        assert!(parse_details(" \n ").is_err());
        assert!(parse_details(&"x".repeat(MAX_DETAILS_CHARS)).is_ok());
        assert!(parse_details(&"x".repeat(MAX_DETAILS_CHARS + 1)).is_err());
        assert!(is_submittable(RequestKind::Rectification) && is_submittable(RequestKind::Access));
        assert!(!is_submittable(RequestKind::Export) && !is_submittable(RequestKind::Deletion));
    }

    #[test]
    fn an_export_waits_for_the_one_building_and_three_a_day_are_the_most() {
        let now = Utc::now();
        let user = crate::ids::UserId::generate();
        let request = |kind, status, hours_ago| {
            DataSubjectRequest::received_now(user, kind, status, None, now - Duration::hours(hours_ago))
        };
        let code = |mine: &[DataSubjectRequest]| match check_new_export(mine, now) {
            Ok(()) => "OK",
            Err(DomainError::Conflict { .. }) => "CONFLICT",
            Err(DomainError::RateLimited { .. }) => "RATE_LIMITED",
            Err(_) => "OTHER",
        };
        let done = |hours_ago| request(RequestKind::Export, Completed, hours_ago);
        let building = request(RequestKind::Export, InProgress, 30);
        let other = request(RequestKind::Access, Received, 1);
        let cases: &[(&[DataSubjectRequest], &str)] = &[
            (&[], "OK"),
            (&[done(1), done(2)], "OK"),
            (&[done(1), done(2), done(3)], "RATE_LIMITED"),
            (&[done(1), done(2), done(25)], "OK"),
            (&[done(1), done(2), other.clone(), other.clone()], "OK"),
            (std::slice::from_ref(&building), "CONFLICT"),
            (&[done(1), done(2), done(3), building.clone()], "CONFLICT"),
        ];
        for (mine, expected) in cases {
            assert_eq!(code(mine), *expected, "{mine:?}");
        }
        let Err(DomainError::Conflict { message, .. }) = check_new_export(std::slice::from_ref(&building), now) else {
            panic!("not a conflict");
        };
        assert!(message.contains(&building.id.to_string()), "names it: {message}");
    }

    #[test]
    fn codes_read_back_what_they_write() {
        for &kind in RequestKind::ALL {
            assert_eq!(RequestKind::parse(kind.as_str()), Some(kind));
        }
        for &status in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(RequestKind::parse("export"), None);
    }
}
