//! The configurable retention windows (`[retention]` in the configuration) and their defaults.
//!
//! Rule: every window the sweep applies has a default here and one configuration key; a cutoff is always
//! "now minus the window" on the caller's clock, so tests move time instead of waiting.

use chrono::{DateTime, Duration, Utc};

/// A window the sweep applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Days an expired or revoked session, an expired challenge, an ended invitation or an idle lockout
    /// counter is kept before it is deleted (`retention.expired_credentials_days`, 7).
    ExpiredCredentials,
    /// Days a session's IP address and user agent are kept after it was last seen
    /// (`retention.telemetry_days`, 90).
    Telemetry,
    /// Days inbox data is kept after the lease that brought it ended (`retention.inbox_after_lease_days`, 30).
    InboxAfterLease,
    /// Days a finished automation execution is kept (`retention.executions_days`, 90).
    Executions,
    /// Years billing records are kept (`retention.billing_years`, 7).
    Billing,
}

impl Window {
    /// The configuration key.
    pub fn key(self) -> &'static str {
        match self {
            Self::ExpiredCredentials => "retention.expired_credentials_days",
            Self::Telemetry => "retention.telemetry_days",
            Self::InboxAfterLease => "retention.inbox_after_lease_days",
            Self::Executions => "retention.executions_days",
            Self::Billing => "retention.billing_years",
        }
    }
}

/// The windows in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionWindows {
    pub expired_credentials_days: u32,
    pub telemetry_days: u32,
    pub inbox_after_lease_days: u32,
    pub executions_days: u32,
    pub billing_years: u32,
}

impl Default for RetentionWindows {
    fn default() -> Self {
        Self {
            expired_credentials_days: 7,
            telemetry_days: 90,
            inbox_after_lease_days: 30,
            executions_days: 90,
            billing_years: 7,
        }
    }
}

impl RetentionWindows {
    /// The window's length.
    pub fn length(&self, window: Window) -> Duration {
        match window {
            Window::ExpiredCredentials => Duration::days(i64::from(self.expired_credentials_days)),
            Window::Telemetry => Duration::days(i64::from(self.telemetry_days)),
            Window::InboxAfterLease => Duration::days(i64::from(self.inbox_after_lease_days)),
            Window::Executions => Duration::days(i64::from(self.executions_days)),
            // Calendar years with their leap days: 7 years is at most 2,557 days.
            Window::Billing => {
                Duration::days(i64::from(self.billing_years) * 365 + (i64::from(self.billing_years) + 3) / 4)
            }
        }
    }

    /// What is older than this at `now` is past the window.
    pub fn cutoff(&self, window: Window, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.length(window)
    }

    /// How long the window is, in words (reports).
    pub fn describe(&self, window: Window) -> String {
        match window {
            Window::Billing => format!("{} years", self.billing_years),
            other => format!("{} days", self.length(other).num_days()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cutoff_is_now_minus_the_window_and_the_defaults_are_the_documented_ones() {
        let windows = RetentionWindows::default();
        let now = Utc::now();
        assert_eq!(windows.cutoff(Window::Telemetry, now), now - Duration::days(90));
        assert_eq!(windows.cutoff(Window::InboxAfterLease, now), now - Duration::days(30));
        assert_eq!(windows.cutoff(Window::ExpiredCredentials, now), now - Duration::days(7));
        assert_eq!(windows.length(Window::Billing), Duration::days(7 * 365 + 2));
        let shorter = RetentionWindows {
            telemetry_days: 1,
            ..windows
        };
        assert_eq!(shorter.cutoff(Window::Telemetry, now), now - Duration::days(1));
        assert_eq!(Window::Telemetry.key(), "retention.telemetry_days");
    }
}
