//! Where a webhook action may post, checked by the address alone.
//!
//! Rules:
//! - The address is an absolute URL with a host, at most [`Limits::max_url_len`] characters, using `https`;
//!   `http` only where private destinations are allowed ([`Limits::allow_insecure_http`], a development
//!   and test setting).
//! - It carries no user name or password: the address is shown in dry runs and execution steps, and the
//!   secret already authenticates each delivery.
//! - Unless private destinations are allowed, a host that is `localhost` or a loopback, private,
//!   link-local or unspecified IP address is refused. This is an early answer to an obvious mistake, not
//!   the defence against reaching internal services: a public name can resolve to a private address, so
//!   the sender must check the addresses it actually connects to.
//! - The secret is 16 to 256 characters.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use super::validate::Limits;

/// The shortest webhook secret, in characters.
pub const MIN_SECRET_LEN: usize = 16;
/// The longest webhook secret, in characters.
pub const MAX_SECRET_LEN: usize = 256;

/// Why `raw` cannot be a webhook address, if it cannot.
pub fn check_webhook_url(raw: &str, limits: &Limits) -> Result<(), String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("an address is required".to_owned());
    }
    if raw.chars().count() > limits.max_url_len {
        return Err(format!("the address is at most {} characters", limits.max_url_len));
    }
    let url = Url::parse(raw).map_err(|error| format!("not an absolute URL: {error}"))?;
    match url.scheme() {
        "https" => {}
        "http" if limits.allow_insecure_http => {}
        "http" => return Err("the address must use https".to_owned()),
        other => return Err(format!("the address must use https, not {other}")),
    }
    let Some(host) = url.host() else {
        return Err("the address has no host".to_owned());
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the address must not hold a user name or password; the secret signs each delivery".to_owned());
    }
    if !limits.allow_insecure_http && is_private(&host) {
        return Err(format!(
            "the address points into a private network ({host}); webhooks go to public addresses"
        ));
    }
    Ok(())
}

/// Why `secret` cannot sign webhooks, if it cannot.
pub fn check_webhook_secret(secret: &str) -> Result<(), String> {
    let length = secret.chars().count();
    if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&length) {
        return Err(format!(
            "the secret is {MIN_SECRET_LEN} to {MAX_SECRET_LEN} characters, not {length}"
        ));
    }
    Ok(())
}

fn is_private(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Host::Ipv4(address) => private_v4(*address),
        Host::Ipv6(address) => private_v6(*address),
    }
}

fn private_v4(address: Ipv4Addr) -> bool {
    address.is_loopback()
        || address.is_private()
        || address.is_link_local()
        || address.is_unspecified()
        || address.is_broadcast()
}

fn private_v6(address: Ipv6Addr) -> bool {
    if let Some(v4) = address.to_ipv4_mapped() {
        return private_v4(v4);
    }
    address.is_loopback() || address.is_unspecified() || address.is_unique_local() || address.is_unicast_link_local()
}

/// Whether an IP address is one the rules above call private (exposed for the sender's own check).
pub fn is_private_address(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => private_v6(v6),
    }
}
