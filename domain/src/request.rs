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

/// Spends one unit of a budget the edge keeps (a per-minute limit per account or dialog), or refuses with
/// `RATE_LIMITED`. A use case calls it only once the caller is authorized for the target (role, scope, and the
/// workspace holding it), so nobody else can spend a holder's budget. [`unlimited`] spends nothing.
pub trait Admit: FnOnce() -> crate::error::DomainResult<()> + Send {}

impl<F: FnOnce() -> crate::error::DomainResult<()> + Send> Admit for F {}

/// A budget that never runs out (callers without a limit: tools, tests).
pub fn unlimited() -> impl Admit {
    || Ok(())
}
