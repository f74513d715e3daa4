//! The client's address behind reverse proxies (`server.trusted_proxies`, `server.forwarded_header`).
//!
//! Rules:
//! - The socket peer is the client unless it lies inside one of the trusted proxies' networks; then, and
//!   only then, the configured header is read: `X-Forwarded-For` (the default) or `Forwarded` (RFC 7239).
//!   Only one of the two is ever read, so a header the proxy passes through untouched cannot be spoofed.
//! - The header's hops are walked from the right (the nearest proxy's entry first); the client is the first
//!   address that is not itself a trusted proxy. Entries left of it are the client's own words and are
//!   never read. When every hop is trusted, the left-most one is the client.
//! - A hop that does not parse (garbage, `unknown`, an obfuscated `_name`, a `Forwarded` element without
//!   `for=`) ends the walk: the client is the nearest address already established, at worst the peer.
//! - IPv4-mapped IPv6 addresses are their IPv4 address, so `::ffff:192.0.2.1` matches `192.0.2.0/24`.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use poem::http::HeaderMap;
use serde::{Deserialize, Serialize};

/// The networks whose requests may name the client in a forwarding header. Written in configuration as a
/// list of CIDRs or plain addresses (`["10.0.0.0/8", "::1"]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Vec<String>> for TrustedProxies {
    type Error = String;

    fn try_from(entries: Vec<String>) -> Result<Self, Self::Error> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .map(|net| net.trunc())
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is neither an IP address nor a CIDR such as 10.0.0.0/8"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl From<TrustedProxies> for Vec<String> {
    fn from(proxies: TrustedProxies) -> Self {
        proxies.0.iter().map(ToString::to_string).collect()
    }
}

/// The header trusted proxies name the client in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for="[2001:db8::1]:4711"` (RFC 7239).
    Forwarded,
}

/// The client of a request that arrived from `peer`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &TrustedProxies, header: ForwardedHeader) -> IpAddr {
    let mut client = peer.to_canonical();
    if !proxies.contains(client) {
        return client;
    }
    let name = match header {
        ForwardedHeader::XForwardedFor => "x-forwarded-for",
        ForwardedHeader::Forwarded => "forwarded",
    };
    let Some(hops) = hops(headers, name) else {
        return client;
    };
    for hop in hops.into_iter().rev() {
        let parsed = match header {
            ForwardedHeader::XForwardedFor => node(&hop),
            ForwardedHeader::Forwarded => forwarded_for(&hop),
        };
        let Some(hop) = parsed else {
            break;
        };
        client = hop.to_canonical();
        if !proxies.contains(client) {
            break;
        }
    }
    client
}

/// The comma-separated entries of every line of a header, in order (several lines are one list, RFC 9110
/// §5.3; a quote left open on one line does not swallow the next; bytes that are not text spoil only their
/// own entry); `None` when absent.
fn hops(headers: &HeaderMap, name: &str) -> Option<Vec<String>> {
    let mut hops = Vec::new();
    for line in headers.get_all(name) {
        let line = String::from_utf8_lossy(line.as_bytes());
        hops.extend(split_outside_quotes(&line, ',').into_iter().map(str::to_owned));
    }
    (!hops.is_empty()).then_some(hops)
}

/// `text` split at `separator`s outside double-quoted strings.
fn split_outside_quotes(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (at, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            _ if c == separator && !quoted => {
                parts.push(&text[start..at]);
                start = at + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The `for=` node of one `Forwarded` element (`for=192.0.2.60;proto=https;by=203.0.113.43`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let mut found = None;
    for pair in split_outside_quotes(element, ';') {
        let (name, value) = pair.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("for") {
            if found.is_some() {
                return None;
            }
            let value = value.trim();
            let value = match value.strip_prefix('"') {
                Some(rest) => rest.strip_suffix('"')?,
                None => value,
            };
            found = Some(node(value)?);
        }
    }
    found
}

/// One hop's address: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    text.strip_prefix('[')?
        .strip_suffix(']')?
        .parse::<std::net::Ipv6Addr>()
        .ok()
        .map(IpAddr::V6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::http::HeaderValue;
    use proptest::prelude::*;

    fn proxies(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::try_from(entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap_or_else(|e| panic!("{e}")));
        }
        map
    }

    fn xff(peer: &str, trusted: &[&str], pairs: &[(&'static str, &str)]) -> IpAddr {
        client_ip(
            ip(peer),
            &headers(pairs),
            &proxies(trusted),
            ForwardedHeader::XForwardedFor,
        )
    }

    fn fwd(peer: &str, trusted: &[&str], pairs: &[(&'static str, &str)]) -> IpAddr {
        client_ip(ip(peer), &headers(pairs), &proxies(trusted), ForwardedHeader::Forwarded)
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let spoofed = [("x-forwarded-for", "198.51.100.7"), ("forwarded", "for=198.51.100.7")];
        assert_eq!(xff("203.0.113.9", &[], &spoofed), ip("203.0.113.9"));
        assert_eq!(xff("203.0.113.9", &["10.0.0.0/8"], &spoofed), ip("203.0.113.9"));
        assert_eq!(fwd("203.0.113.9", &["10.0.0.0/8"], &spoofed), ip("203.0.113.9"));
    }

    #[test]
    fn a_trusted_peer_names_the_right_most_untrusted_hop() {
        let trusted = ["10.0.0.0/8"];
        let chain = [("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.2")];
        assert_eq!(xff("10.0.0.1", &trusted, &chain), ip("198.51.100.7"));
        // Several header lines are one list, in order.
        let lines = [("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "198.51.100.7")];
        assert_eq!(xff("10.0.0.1", &trusted, &lines), ip("198.51.100.7"));
        // All hops trusted: the furthest one.
        let internal = [("x-forwarded-for", "10.1.1.1, 10.0.0.2")];
        assert_eq!(xff("10.0.0.1", &trusted, &internal), ip("10.1.1.1"));
        // No header: the peer.
        assert_eq!(xff("10.0.0.1", &trusted, &[]), ip("10.0.0.1"));
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_understood() {
        let trusted = ["10.0.0.0/8", "::1"];
        assert_eq!(
            xff("::1", &trusted, &[("x-forwarded-for", "198.51.100.7:4711")]),
            ip("198.51.100.7")
        );
        assert_eq!(
            xff("::1", &trusted, &[("x-forwarded-for", "[2001:db8::5]:443")]),
            ip("2001:db8::5")
        );
        assert_eq!(
            xff("::ffff:10.0.0.1", &trusted, &[("x-forwarded-for", "2001:db8::5")]),
            ip("2001:db8::5")
        );
        assert_eq!(
            xff("10.0.0.1", &trusted, &[("x-forwarded-for", "::ffff:198.51.100.7")]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn malformed_hops_end_the_walk_at_the_nearest_known_address() {
        let trusted = ["10.0.0.0/8"];
        assert_eq!(
            xff("10.0.0.1", &trusted, &[("x-forwarded-for", "not an address")]),
            ip("10.0.0.1")
        );
        assert_eq!(xff("10.0.0.1", &trusted, &[("x-forwarded-for", "")]), ip("10.0.0.1"));
        assert_eq!(
            xff("10.0.0.1", &trusted, &[("x-forwarded-for", "198.51.100.7, unknown")]),
            ip("10.0.0.1")
        );
        assert_eq!(
            xff(
                "10.0.0.1",
                &trusted,
                &[("x-forwarded-for", "198.51.100.7, 10.0.0.9, bad")]
            ),
            ip("10.0.0.1")
        );
        assert_eq!(
            xff("10.0.0.1", &trusted, &[("x-forwarded-for", "bad, 10.0.0.9")]),
            ip("10.0.0.9")
        );
        // Garbage the client wrote left of the real hop is never read.
        assert_eq!(
            xff("10.0.0.1", &trusted, &[("x-forwarded-for", "bad, 198.51.100.7")]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn forwarded_elements_follow_rfc_7239() {
        let trusted = ["10.0.0.0/8"];
        let run = |value: &str| fwd("10.0.0.1", &trusted, &[("forwarded", value)]);
        assert_eq!(run("for=192.0.2.60;proto=http;by=203.0.113.43"), ip("192.0.2.60"));
        assert_eq!(
            run("for=1.2.3.4, For=\"[2001:db8:cafe::17]:4711\""),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(run("for=198.51.100.7, for=10.0.0.2;by=\"x,y\""), ip("198.51.100.7"));
        assert_eq!(run("for=unknown"), ip("10.0.0.1"));
        assert_eq!(run("for=_hidden"), ip("10.0.0.1"));
        assert_eq!(run("proto=https"), ip("10.0.0.1"));
        assert_eq!(run("for=1.2.3.4;for=5.6.7.8"), ip("10.0.0.1"));
        assert_eq!(run("for=\"[2001:db8::1\""), ip("10.0.0.1"));
        // The configured header is the only one read.
        assert_eq!(
            xff("10.0.0.1", &trusted, &[("forwarded", "for=192.0.2.60")]),
            ip("10.0.0.1")
        );
        assert_eq!(
            fwd("10.0.0.1", &trusted, &[("x-forwarded-for", "192.0.2.60")]),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn configuration_takes_cidrs_and_plain_addresses_and_names_a_bad_entry() {
        let parsed = proxies(&["10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "::1", "10.1.2.3/16"]);
        assert!(parsed.contains(ip("10.200.0.1")));
        assert!(parsed.contains(ip("192.0.2.1")));
        assert!(!parsed.contains(ip("192.0.2.2")));
        assert!(parsed.contains(ip("2001:db8:ffff::1")));
        assert!(parsed.contains(ip("::ffff:10.0.0.1")));
        assert_eq!(
            Vec::<String>::from(parsed.clone())[4],
            "10.1.0.0/16",
            "host bits are dropped"
        );
        let bad = TrustedProxies::try_from(vec!["10.0.0.0/33".to_owned()]);
        assert!(bad.is_err_and(|e| e.contains("10.0.0.0/33")));
    }

    fn any_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<u32>().prop_map(|n| IpAddr::V4(n.into())),
            any::<u128>().prop_map(|n| IpAddr::V6(n.into())),
        ]
    }

    proptest! {
        #[test]
        fn no_header_moves_an_untrusted_peer(peer in any_ip(), value in "\\PC{0,80}", forwarded: bool) {
            let trusted = proxies(&["10.0.0.0/8", "fd00::/8"]);
            prop_assume!(!trusted.contains(peer));
            let mut map = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&value) {
                map.insert("x-forwarded-for", value.clone());
                map.insert("forwarded", value);
            }
            let header = if forwarded { ForwardedHeader::Forwarded } else { ForwardedHeader::XForwardedFor };
            prop_assert_eq!(client_ip(peer, &map, &trusted, header), peer.to_canonical());
        }

        #[test]
        fn a_trusted_peer_yields_the_right_most_untrusted_hop_whatever_came_before(
            hops in proptest::collection::vec(any_ip(), 0..5),
            junk in "[^,\"\\p{C}]{0,40}",
            forwarded: bool,
        ) {
            let trusted = proxies(&["10.0.0.0/8"]);
            let peer = ip("10.0.0.1");
            let listed: Vec<String> = hops
                .iter()
                .map(|hop| if forwarded { format!("for=\"{}\"", SocketAddr::new(*hop, 1)) } else { hop.to_string() })
                .collect();
            let Ok(value) = HeaderValue::from_str(&format!("{junk},{}", listed.join(","))) else {
                return Ok(());
            };
            let mut map = HeaderMap::new();
            map.insert(if forwarded { "forwarded" } else { "x-forwarded-for" }, value);
            let header = if forwarded { ForwardedHeader::Forwarded } else { ForwardedHeader::XForwardedFor };
            let client = client_ip(peer, &map, &trusted, header);
            let expected = hops.iter().rev().map(|hop| hop.to_canonical()).find(|hop| !trusted.contains(*hop));
            match expected {
                Some(hop) => prop_assert_eq!(client, hop),
                // Every listed hop trusted: the walk reaches the client's own entry, taken only if it parses.
                None => {
                    let own = if forwarded { forwarded_for(&junk) } else { node(&junk) };
                    let furthest = hops.first().map_or(peer, |hop| hop.to_canonical());
                    prop_assert_eq!(client, own.map_or(furthest, |own| own.to_canonical()));
                }
            }
        }
    }
}
