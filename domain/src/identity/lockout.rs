//! Brute-force protection for passwords and second-factor codes.
//!
//! Rules:
//! - Attempts are counted per account and per IP address within a rolling window; an IPv6 address counts as
//!   its /64 ([`LimitedNetwork`]).
//! - An attempt is *reserved* atomically before the secret is checked, so fifty parallel guesses cannot get
//!   more checks than the threshold: the reservations beyond it are refused up front.
//! - Reaching the threshold locks the key; each further lock of the same key lasts twice as long as the last,
//!   up to a ceiling. A success clears the account's counter and back-off.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ids::UserId;
use crate::request::LimitedNetwork;

/// The limits for one kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed within `window` before the key locks.
    pub threshold: u32,
    /// How long failures are remembered after the last one.
    pub window: Duration,
    /// The first lock's length; doubles with each further lock.
    pub base_lock: Duration,
    /// The longest lock.
    pub max_lock: Duration,
}

impl ThrottlePolicy {
    /// The length of the lock that follows `previous_locks` earlier ones.
    pub fn lock_duration(&self, previous_locks: u32) -> Duration {
        let factor = 2u32.saturating_pow(previous_locks.min(20));
        self.base_lock.saturating_mul(factor).min(self.max_lock)
    }
}

/// Throttling for accounts and for IP addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub account: ThrottlePolicy,
    pub ip: ThrottlePolicy,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            account: ThrottlePolicy {
                threshold: 5,
                window: Duration::from_secs(15 * 60),
                base_lock: Duration::from_secs(60),
                max_lock: Duration::from_secs(60 * 60),
            },
            ip: ThrottlePolicy {
                threshold: 30,
                window: Duration::from_secs(15 * 60),
                base_lock: Duration::from_secs(60),
                max_lock: Duration::from_secs(60 * 60),
            },
        }
    }
}

/// What attempts are counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleKey {
    Account(UserId),
    /// A login that matches no account is throttled like one, so lockouts do not reveal which accounts exist.
    UnknownLogin(String),
    Ip(IpAddr),
}

impl ThrottleKey {
    pub fn storage_key(&self) -> String {
        match self {
            Self::Account(id) => format!("account:{id}"),
            Self::UnknownLogin(login) => format!("login:{login}"),
            Self::Ip(ip) => format!("ip:{}", LimitedNetwork::of(*ip)),
        }
    }
}

/// The answer to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    Granted,
    /// Refused; `locked_until` is set when the key is locked, unset when the threshold is taken by attempts
    /// still in flight.
    Denied {
        locked_until: Option<DateTime<Utc>>,
    },
}

impl Reservation {
    /// Seconds the caller should wait, at least one.
    pub fn retry_after_secs(locked_until: Option<DateTime<Utc>>, now: DateTime<Utc>, policy: &ThrottlePolicy) -> u64 {
        let wait = locked_until
            .map(|until| (until - now).num_seconds())
            .unwrap_or_else(|| i64::try_from(policy.base_lock.as_secs()).unwrap_or(i64::MAX));
        u64::try_from(wait).unwrap_or(0).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_double_up_to_the_ceiling() {
        let policy = LockoutPolicy::default().account;
        assert_eq!(policy.lock_duration(0), Duration::from_secs(60));
        assert_eq!(policy.lock_duration(1), Duration::from_secs(120));
        assert_eq!(policy.lock_duration(3), Duration::from_secs(480));
        assert_eq!(policy.lock_duration(6), Duration::from_secs(3600));
        assert_eq!(policy.lock_duration(u32::MAX), Duration::from_secs(3600));
    }

    #[test]
    fn retry_after_counts_down_to_the_lock_end_and_is_never_zero() {
        let policy = LockoutPolicy::default().account;
        let now = Utc::now();
        let until = now + chrono::Duration::seconds(90);
        assert_eq!(Reservation::retry_after_secs(Some(until), now, &policy), 90);
        assert_eq!(Reservation::retry_after_secs(Some(now), now, &policy), 1);
        assert_eq!(Reservation::retry_after_secs(None, now, &policy), 60);
    }

    #[test]
    fn keys_are_distinct_per_kind() {
        let id = UserId::generate();
        assert!(ThrottleKey::Account(id).storage_key().starts_with("account:"));
        assert_eq!(ThrottleKey::UnknownLogin("ada".into()).storage_key(), "login:ada");
        assert_eq!(
            ThrottleKey::Ip(IpAddr::from([127, 0, 0, 1])).storage_key(),
            "ip:127.0.0.1"
        );
        let ipv6 = |text: &str| text.parse::<IpAddr>().map(|ip| ThrottleKey::Ip(ip).storage_key());
        assert_eq!(
            ipv6("2001:db8:1:2::7"),
            ipv6("2001:db8:1:2:abcd::1"),
            "one /64, one key"
        );
        assert_ne!(ipv6("2001:db8:1:2::7"), ipv6("2001:db8:1:3::7"));
    }
}
