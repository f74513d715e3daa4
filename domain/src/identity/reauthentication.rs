//! Re-authentication: proving again, on this session, that the person at the keyboard holds the account.
//!
//! Rules:
//! - Sensitive changes (turning two-factor on or off, new backup codes, and later an email change or a
//!   deletion) need a re-authentication on the calling session within the last [`WINDOW`], else
//!   `ReauthenticationRequired`. A stolen session token alone cannot lock its owner out or take over the
//!   second factor.
//! - The window belongs to one session: re-authenticating on a laptop opens nothing for a phone.
//! - Re-authenticating needs the password and, with two-factor on, a TOTP or backup code. Wrong ones count
//!   toward the account's lockout and are audited, like a sign-in.
//! - API keys never re-authenticate: sensitive changes are for people only.

use chrono::{DateTime, Duration, Utc};

use crate::error::DomainError;

/// How long a re-authentication opens sensitive changes on its session.
pub const WINDOW: Duration = Duration::minutes(10);

/// The end of the window a re-authentication at `at` opens.
pub fn window_end(at: DateTime<Utc>) -> DateTime<Utc> {
    at + WINDOW
}

/// Whether a session that last re-authenticated at `at` may make a sensitive change `now`.
pub fn is_recent(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    at.is_some_and(|at| at <= now && now < window_end(at))
}

/// The refusal of a sensitive change without a recent re-authentication.
pub fn required() -> DomainError {
    DomainError::ReauthenticationRequired(
        "this change needs you to confirm your password (and two-factor code) first: call reauthenticate".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_ten_minutes_from_the_re_authentication() {
        let at = Utc::now();
        assert!(!is_recent(None, at), "never re-authenticated");
        assert!(is_recent(Some(at), at));
        assert!(is_recent(Some(at), at + Duration::minutes(9) + Duration::seconds(59)));
        assert!(!is_recent(Some(at), at + Duration::minutes(10)), "closed at the end");
        assert!(!is_recent(Some(at), at + Duration::hours(1)));
        assert!(
            !is_recent(Some(at + Duration::minutes(1)), at),
            "a time in the future opens nothing"
        );
        assert_eq!(window_end(at), at + Duration::minutes(10));
    }
}
