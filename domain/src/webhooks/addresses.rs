//! Which IP addresses a webhook may connect to.
//!
//! Rules:
//! - **Public unicast only.** An address is refused when it is not a public unicast address: loopback,
//!   unspecified, private (RFC 1918), shared CGNAT space, link-local (the cloud metadata services live there),
//!   unique-local and site-local IPv6, multicast, broadcast and the reserved 240/4, benchmarking, the 0/8 block,
//!   IETF protocol assignments, documentation ranges, discard-only and anything outside IPv6 global unicast
//!   (`2000::/3`).
//! - **An IPv4 address inside IPv6 is judged as the IPv4 address.** IPv4-mapped (`::ffff:a.b.c.d`), NAT64
//!   (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::`) addresses reach the IPv4 address they carry, so they are
//!   refused exactly when it is. IPv4-compatible addresses (`::a.b.c.d`, deprecated) lie outside `2000::/3` and
//!   are refused whatever they carry.
//! - **Cloud metadata is never a destination.** [`is_cloud_metadata`] names the instance-metadata endpoints
//!   (credentials for the host's cloud account); they stay refused even where private addresses are allowed.
//!
//! Each rule is a row of a table with the reason a refusal gives, so a refusal names what the address is.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 blocks that are not public unicast, with what they are. (RFC 6890 and the IANA special-purpose
/// registry.)
const IPV4_REFUSED: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "\"this network\" (0.0.0.0/8)"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private"),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "shared carrier-grade NAT"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link-local"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private"),
    (Ipv4Addr::new(192, 0, 0, 0), 24, "IETF protocol assignment"),
    (Ipv4Addr::new(192, 0, 2, 0), 24, "documentation"),
    (Ipv4Addr::new(192, 88, 99, 0), 24, "6to4 relay anycast"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "documentation"),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "documentation"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast"),
    (Ipv4Addr::new(255, 255, 255, 255), 32, "broadcast"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved"),
];

/// IPv6 blocks that are not public unicast, with what they are. Checked in order, so the more specific
/// names come first; everything outside `2000::/3` is refused after them.
const IPV6_REFUSED: &[(Ipv6Addr, u8, &str)] = &[
    (Ipv6Addr::UNSPECIFIED, 128, "unspecified"),
    (Ipv6Addr::LOCALHOST, 128, "loopback"),
    (
        Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0),
        96,
        "IPv4-compatible (deprecated)",
    ),
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48, "local-use NAT64"),
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, "discard-only"),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, "documentation"),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "IETF protocol assignment (Teredo, benchmarking)",
    ),
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20, "documentation"),
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, "unique-local"),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "link-local"),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "site-local (deprecated)",
    ),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "multicast"),
];

/// Instance-metadata endpoints of the large clouds: AWS, GCP, Azure and Oracle (169.254.169.254), AWS ECS
/// task credentials (169.254.170.2), Alibaba (100.100.100.200) and AWS over IPv6 (fd00:ec2::254).
const CLOUD_METADATA: &[IpAddr] = &[
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
];

fn in_v4(addr: Ipv4Addr, network: Ipv4Addr, prefix: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    u32::from(addr) & mask == u32::from(network) & mask
}

fn in_v6(addr: Ipv6Addr, network: Ipv6Addr, prefix: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    u128::from(addr) & mask == u128::from(network) & mask
}

/// The IPv4 address an IPv6 address reaches, for the forms that carry one: IPv4-mapped, NAT64 (RFC 6052's
/// well-known prefix) and 6to4.
fn embedded_ipv4(addr: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(addr);
    let low32 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    if let Some(mapped) = addr.to_ipv4_mapped() {
        return Some(mapped);
    }
    if in_v6(addr, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        return Some(low32);
    }
    if in_v6(addr, Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16) {
        return Some(Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32));
    }
    None
}

/// Why `addr` is not a public unicast address, or `None` when it is one.
pub fn non_public_reason(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => IPV4_REFUSED
            .iter()
            .find(|(network, prefix, _)| in_v4(v4, *network, *prefix))
            .map(|(_, _, reason)| *reason),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_ipv4(v6) {
                return non_public_reason(IpAddr::V4(v4));
            }
            let named = IPV6_REFUSED
                .iter()
                .find(|(network, prefix, _)| in_v6(v6, *network, *prefix))
                .map(|(_, _, reason)| *reason);
            let global_unicast = in_v6(v6, Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);
            named.or((!global_unicast).then_some("not global unicast"))
        }
    }
}

/// Whether `addr` is (or carries) a cloud instance-metadata endpoint.
pub fn is_cloud_metadata(addr: IpAddr) -> bool {
    let carried = match addr {
        IpAddr::V6(v6) => embedded_ipv4(v6).map(IpAddr::V4),
        IpAddr::V4(_) => None,
    };
    CLOUD_METADATA.contains(&addr) || carried.is_some_and(|v4| CLOUD_METADATA.contains(&v4))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> Option<&'static str> {
        non_public_reason(text.parse().unwrap())
    }

    #[test]
    fn every_non_public_ipv4_block_is_refused_at_both_ends_and_its_neighbours_are_not() {
        // (first address, last address, reason, the address just below, the address just above)
        let blocks = [
            (
                "0.0.0.0",
                "0.255.255.255",
                "\"this network\" (0.0.0.0/8)",
                None,
                Some("1.0.0.0"),
            ),
            (
                "10.0.0.0",
                "10.255.255.255",
                "private",
                Some("9.255.255.255"),
                Some("11.0.0.0"),
            ),
            (
                "100.64.0.0",
                "100.127.255.255",
                "shared carrier-grade NAT",
                Some("100.63.255.255"),
                Some("100.128.0.0"),
            ),
            (
                "127.0.0.0",
                "127.255.255.255",
                "loopback",
                Some("126.255.255.255"),
                Some("128.0.0.0"),
            ),
            (
                "169.254.0.0",
                "169.254.255.255",
                "link-local",
                Some("169.253.255.255"),
                Some("169.255.0.0"),
            ),
            (
                "172.16.0.0",
                "172.31.255.255",
                "private",
                Some("172.15.255.255"),
                Some("172.32.0.0"),
            ),
            (
                "192.0.0.0",
                "192.0.0.255",
                "IETF protocol assignment",
                Some("191.255.255.255"),
                Some("192.0.1.0"),
            ),
            (
                "192.0.2.0",
                "192.0.2.255",
                "documentation",
                Some("192.0.1.255"),
                Some("192.0.3.0"),
            ),
            (
                "192.88.99.0",
                "192.88.99.255",
                "6to4 relay anycast",
                Some("192.88.98.255"),
                Some("192.88.100.0"),
            ),
            (
                "192.168.0.0",
                "192.168.255.255",
                "private",
                Some("192.167.255.255"),
                Some("192.169.0.0"),
            ),
            (
                "198.18.0.0",
                "198.19.255.255",
                "benchmarking",
                Some("198.17.255.255"),
                Some("198.20.0.0"),
            ),
            (
                "198.51.100.0",
                "198.51.100.255",
                "documentation",
                Some("198.51.99.255"),
                Some("198.51.101.0"),
            ),
            (
                "203.0.113.0",
                "203.0.113.255",
                "documentation",
                Some("203.0.112.255"),
                Some("203.0.114.0"),
            ),
            (
                "224.0.0.0",
                "239.255.255.255",
                "multicast",
                Some("223.255.255.255"),
                None,
            ),
            ("240.0.0.0", "255.255.255.254", "reserved", None, None),
        ];
        for (first, last, why, below, above) in blocks {
            assert_eq!(reason(first), Some(why), "{first}");
            assert_eq!(reason(last), Some(why), "{last}");
            for neighbour in [below, above].into_iter().flatten() {
                assert_eq!(
                    reason(neighbour),
                    None,
                    "{neighbour} is public, next to {first}..{last}"
                );
            }
        }
        assert_eq!(reason("255.255.255.255"), Some("broadcast"));
        assert_eq!(reason("169.254.169.254"), Some("link-local"));
        for public in ["1.1.1.1", "8.8.8.8", "93.184.215.14", "223.255.255.255"] {
            assert_eq!(reason(public), None, "{public}");
        }
    }

    #[test]
    fn every_non_public_ipv6_block_is_refused_and_global_unicast_is_not() {
        let refused = [
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::2", "IPv4-compatible (deprecated)"),
            ("::8.8.8.8", "IPv4-compatible (deprecated)"),
            ("64:ff9b:1::1", "local-use NAT64"),
            ("100::1", "discard-only"),
            ("2001:db8::1", "documentation"),
            ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "documentation"),
            ("2001::1", "IETF protocol assignment (Teredo, benchmarking)"),
            ("2001:2::1", "IETF protocol assignment (Teredo, benchmarking)"),
            ("2001:1ff:ffff::1", "IETF protocol assignment (Teredo, benchmarking)"),
            ("3fff::1", "documentation"),
            ("3fff:fff:ffff::1", "documentation"),
            ("fc00::1", "unique-local"),
            ("fd00:ec2::254", "unique-local"),
            ("fdff:ffff::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("febf:ffff::1", "link-local"),
            ("fec0::1", "site-local (deprecated)"),
            ("ff02::1", "multicast"),
            ("ff0e::1", "multicast"),
            ("5f00::1", "not global unicast"),
            ("4000::1", "not global unicast"),
            ("1::1", "not global unicast"),
        ];
        for (addr, why) in refused {
            assert_eq!(reason(addr), Some(why), "{addr}");
        }
        for public in [
            "2606:4700:4700::1111",
            "2a00:1450:4001::1",
            "2001:200::1",
            "3fff:1000::1",
            "2c0f::1",
        ] {
            assert_eq!(reason(public), None, "{public}");
        }
    }

    #[test]
    fn an_ipv4_address_carried_in_ipv6_is_judged_as_that_ipv4_address() {
        let carried = [
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.1.2.3", Some("private")),
            ("::ffff:169.254.169.254", Some("link-local")),
            ("::ffff:0.0.0.0", Some("\"this network\" (0.0.0.0/8)")),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::127.0.0.1", Some("loopback")),
            ("64:ff9b::192.168.1.1", Some("private")),
            ("64:ff9b::100.64.0.1", Some("shared carrier-grade NAT")),
            ("64:ff9b::8.8.8.8", None),
            // 6to4: 2002:AABB:CCDD:: carries AA.BB.CC.DD
            ("2002:7f00:1::", Some("loopback")),
            ("2002:a9fe:a9fe::1", Some("link-local")),
            ("2002:0808:0808::1", None),
        ];
        for (addr, why) in carried {
            assert_eq!(reason(addr), why, "{addr}");
        }
    }

    #[test]
    fn cloud_metadata_endpoints_are_recognised_however_they_are_written() {
        for metadata in [
            "169.254.169.254",
            "169.254.170.2",
            "100.100.100.200",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::",
        ] {
            assert!(is_cloud_metadata(metadata.parse().unwrap()), "{metadata}");
        }
        for other in ["169.254.169.253", "127.0.0.1", "10.0.0.1", "8.8.8.8", "fd00:ec2::253"] {
            assert!(!is_cloud_metadata(other.parse().unwrap()), "{other}");
        }
    }
}
