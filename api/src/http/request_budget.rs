//! Requests per caller per minute, for every caller: an API key, a signed-in user (all their sessions
//! together), or an anonymous client by address.
//!
//! Rules:
//! - Each HTTP GraphQL request, each WebSocket `connection_init` and each operation started over a
//!   WebSocket counts once against its caller's budget: `auth.api_key_requests_per_minute` per key,
//!   `auth.user_requests_per_minute` per user, `auth.anonymous_requests_per_minute` per client address (an
//!   IPv6 client by its /64, which one subscriber usually holds whole).
//! - Over budget the request does not run: HTTP 429, `RATE_LIMITED` with `retryAfter`, `Retry-After`.
//! - Every answered request says where its caller's budget stands: `RateLimit-Limit`, `RateLimit-Remaining`
//!   and `RateLimit-Reset` (IETF httpapi rate-limit headers draft).
//! - Counted per fixed, whole-minute window in the counter `limits.store` names (`crate::limits`): with the
//!   database's, every replica on it shares each caller's budget. When the counter fails the request runs
//!   (fail open: logged, and counted in `tgos_rate_limit_store_failures_total`).

use poem::http::HeaderMap;
use poem::http::header::{HeaderName, HeaderValue};
use tgos_domain::identity::Principal;
use tgos_domain::ids::{ApiKeyId, UserId};
use tgos_domain::limits::{Limit, OnStoreFailure, RateLimiter, Taken};
use tgos_domain::request::{ClientInfo, LimitedNetwork};

use crate::graphql::context::Caller;
use crate::limits::RateLimits;

/// Whose budget a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budgeted {
    Key(ApiKeyId),
    User(UserId),
    /// An anonymous caller, by address (an IPv6 address by its /64, as every per-address limit counts).
    Address(LimitedNetwork),
}

impl Budgeted {
    /// The budget of `caller`, who came from `client`; `None` for an anonymous caller of unknown address.
    pub fn of(caller: &Caller, client: &ClientInfo) -> Option<Self> {
        match caller.0.as_ref().map(|auth| &auth.principal) {
            Some(Principal::ApiKey { key_id, .. }) => Some(Self::Key(*key_id)),
            Some(Principal::User { user_id, .. }) => Some(Self::User(*user_id)),
            None => client.ip.map(|ip| Self::Address(LimitedNetwork::of(ip))),
        }
    }

    /// What the budget's key is built from (hashed by the counter).
    fn subject(&self) -> String {
        match self {
            Self::Key(key) => key.to_string(),
            Self::User(user) => user.to_string(),
            Self::Address(network) => network.to_string(),
        }
    }

    /// How the refusal names the caller.
    fn noun(&self) -> &'static str {
        match self {
            Self::Key(_) => "this API key",
            Self::User(_) => "this account",
            Self::Address(_) => "this address",
        }
    }
}

/// Per-minute request budgets of keys, users and addresses.
#[derive(Debug)]
pub struct RequestBudget {
    keys: RateLimiter,
    users: RateLimiter,
    addresses: RateLimiter,
}

/// One request counted (or refused) against a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spent {
    pub taken: Taken,
    who: Budgeted,
}

impl Spent {
    /// Whether the request may run.
    pub fn allowed(&self) -> bool {
        self.taken.allowed
    }

    /// The refusal's message.
    pub fn refusal(&self) -> String {
        format!(
            "{} is over its request limit of {} a minute; retry in {} s",
            self.who.noun(),
            self.taken.limit,
            self.taken.reset_secs
        )
    }

    /// Adds the `RateLimit-*` headers (and `Retry-After` when refused).
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let mut set = |name: &'static str, value: u64| {
            if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
                headers.insert(HeaderName::from_static(name), value);
            }
        };
        set("ratelimit-limit", u64::from(self.taken.limit));
        set("ratelimit-remaining", u64::from(self.taken.remaining));
        set("ratelimit-reset", self.taken.reset_secs);
        if !self.taken.allowed {
            set("retry-after", self.taken.reset_secs);
        }
    }
}

impl RequestBudget {
    /// `per_key`, `per_user` and `per_address` requests a minute, counted in `limits`.
    pub fn new(limits: &RateLimits, per_key: u32, per_user: u32, per_address: u32) -> Self {
        let budget = |name, per_minute| limits.limiter(Limit::per_minute(name, per_minute), OnStoreFailure::Open);
        Self {
            keys: budget("api_key", per_key),
            users: budget("user", per_user),
            addresses: budget("anonymous", per_address),
        }
    }

    /// Counts one request of `who` unless over budget.
    pub async fn spend(&self, who: Budgeted) -> Spent {
        let limiter = match who {
            Budgeted::Key(_) => &self.keys,
            Budgeted::User(_) => &self.users,
            Budgeted::Address(_) => &self.addresses,
        };
        // Budgets fail open, so the counter's failure is an allowed request here, never an error.
        let taken = limiter.take(&who.subject()).await.unwrap_or(Taken {
            allowed: true,
            limit: limiter.limit().per_window,
            remaining: limiter.limit().per_window,
            reset_secs: limiter.limit().window.as_secs().max(1),
        });
        Spent { taken, who }
    }

    /// Counts one request of `who`; `Err(seconds)` to wait when over budget.
    pub async fn check(&self, who: Budgeted) -> Result<(), u64> {
        let spent = self.spend(who).await;
        if spent.allowed() {
            Ok(())
        } else {
            Err(spent.taken.reset_secs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[tokio::test]
    async fn each_kind_of_caller_has_its_own_budget() {
        let budget = RequestBudget::new(&RateLimits::in_memory(), 1, 2, 3);
        let key = Budgeted::Key(ApiKeyId::generate());
        let user = Budgeted::User(UserId::generate());
        let address = Budgeted::Address(LimitedNetwork::of(IpAddr::from([192, 0, 2, 1])));
        assert!(budget.check(key).await.is_ok());
        assert!(budget.check(key).await.is_err());
        assert!({
            let mut all = true;
            for _ in 0..2 {
                all &= budget.check(user).await.is_ok();
            }
            all
        });
        assert!(budget.check(user).await.is_err());
        assert!({
            let mut all = true;
            for _ in 0..3 {
                all &= budget.check(address).await.is_ok();
            }
            all
        });
        let refused = budget.spend(address).await;
        assert!(!refused.allowed());
        assert!(refused.refusal().contains("this address"), "{}", refused.refusal());
    }

    #[test]
    fn an_ipv6_client_is_budgeted_by_its_slash_64() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap_or(IpAddr::from([0; 4]));
        let other: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap_or(IpAddr::from([0; 4]));
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(LimitedNetwork::of(one), LimitedNetwork::of(other));
        assert_ne!(LimitedNetwork::of(one), LimitedNetwork::of(elsewhere));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(
            LimitedNetwork::of(mapped),
            LimitedNetwork::of(IpAddr::from([192, 0, 2, 7]))
        );
    }

    #[tokio::test]
    async fn the_headers_say_where_the_budget_stands() {
        let budget = RequestBudget::new(&RateLimits::in_memory(), 1, 1, 1);
        let who = Budgeted::Key(ApiKeyId::generate());
        let mut headers = HeaderMap::new();
        budget.spend(who).await.write_headers(&mut headers);
        assert_eq!(headers.get("ratelimit-limit").and_then(|v| v.to_str().ok()), Some("1"));
        assert_eq!(
            headers.get("ratelimit-remaining").and_then(|v| v.to_str().ok()),
            Some("0")
        );
        assert!(headers.get("ratelimit-reset").is_some());
        assert!(headers.get("retry-after").is_none());
        let mut refused = HeaderMap::new();
        budget.spend(who).await.write_headers(&mut refused);
        assert!(refused.get("retry-after").is_some());
    }
}
