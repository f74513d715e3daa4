//! Facts about the client making a call, recorded with sign-ins and sensitive actions (policy §3.3).

use std::net::IpAddr;

/// Where a call came from. Both parts are optional: a console action has no HTTP client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// The user agent, cut to a length fit for storage.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        const MAX_USER_AGENT: usize = 512;
        Self {
            ip,
            user_agent: user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
        }
    }
}

/// Spends one unit of a budget the edge keeps (a per-minute limit per account or dialog, counted in
/// [`crate::limits`], possibly in the database), or refuses with `RATE_LIMITED`. A use case calls it only once
/// the caller is authorized for the target (role, scope, and the workspace holding it), so nobody else can
/// spend a holder's budget, and before it opens its transaction (a database counter's statement must not wait
/// on the use case's own lock). [`unlimited`] spends nothing.
pub trait Admit: Send {
    /// Spends the unit.
    fn admit(self) -> impl std::future::Future<Output = crate::error::DomainResult<()>> + Send;
}

impl<F, Fut> Admit for F
where
    F: FnOnce() -> Fut + Send,
    Fut: std::future::Future<Output = crate::error::DomainResult<()>> + Send,
{
    fn admit(self) -> impl std::future::Future<Output = crate::error::DomainResult<()>> + Send {
        self()
    }
}

/// A budget that never runs out (callers without a limit: tools, tests).
pub fn unlimited() -> impl Admit {
    || async { Ok(()) }
}

/// The network a per-address limit counts against (sign-in lockout by IP, sign-ups per IP).
///
/// Rule: an IPv4 address counts alone; an IPv6 address counts as its /64, since one subscriber is usually
/// handed a whole /64 and could otherwise take a fresh address for every attempt. An IPv4-mapped IPv6
/// address (`::ffff:192.0.2.1`, as a dual-stack listener reports IPv4 peers) is its IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LimitedNetwork(IpAddr);

impl LimitedNetwork {
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self(IpAddr::V4(v4)),
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !(u128::from(u64::MAX));
                Self(IpAddr::V6(std::net::Ipv6Addr::from(prefix)))
            }
        }
    }
}

/// `192.0.2.1` for IPv4, `2001:db8:1:2::/64` for IPv6: the text limits are stored under.
impl std::fmt::Display for LimitedNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn network(text: &str) -> String {
        text.parse::<IpAddr>()
            .map(|ip| LimitedNetwork::of(ip).to_string())
            .unwrap_or_else(|e| format!("unparsable {text}: {e}"))
    }

    #[test]
    fn ipv4_counts_alone_and_ipv6_counts_per_64() {
        assert_eq!(network("192.0.2.1"), "192.0.2.1");
        assert_eq!(network("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(network("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_eq!(network("2001:db8:1:3::1"), "2001:db8:1:3::/64");
        assert_eq!(network("::ffff:192.0.2.1"), "192.0.2.1");
        assert_eq!(network("::1"), "::/64");
    }

    proptest! {
        #[test]
        fn addresses_in_one_64_share_a_network_and_other_64s_do_not(prefix: u64, a: u64, b: u64, other: u64) {
            let ip = |high: u64, low: u64| IpAddr::V6(std::net::Ipv6Addr::from((u128::from(high) << 64) | u128::from(low)));
            // Prefixes of IPv4-mapped addresses (::ffff:0:0/96) are the IPv4 rule's; keep to real IPv6 ones.
            prop_assume!(prefix != 0 && other != 0);
            prop_assert_eq!(LimitedNetwork::of(ip(prefix, a)), LimitedNetwork::of(ip(prefix, b)));
            if other != prefix {
                prop_assert_ne!(LimitedNetwork::of(ip(prefix, a)), LimitedNetwork::of(ip(other, a)));
            }
        }

        #[test]
        fn distinct_ipv4_addresses_never_share(a: u32, b: u32) {
            prop_assume!(a != b);
            let ip = |n: u32| IpAddr::V4(std::net::Ipv4Addr::from(n));
            prop_assert_ne!(LimitedNetwork::of(ip(a)).to_string(), LimitedNetwork::of(ip(b)).to_string());
        }
    }
}
