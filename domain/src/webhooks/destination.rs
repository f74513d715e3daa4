//! Where a webhook may be sent: the SSRF guard's pure half.
//!
//! Rules:
//! - **https only**; `http` only when the operator allows private destinations (a local receiver has no TLS).
//! - **No credentials in the URL**: a user name or password is refused (it would be sent to the receiver and
//!   shown wherever the URL is shown).
//! - **Port 0 is refused**; any other port is kept as written (receivers run on 8443 and the like), the
//!   scheme's default when none is written.
//! - **Every address the host stands for must be allowed** ([`DestinationPolicy::check_addresses`]): one
//!   refused address refuses the host, so a name resolving to a public and a private address cannot pick the
//!   private one at connect time. Allowed means public unicast ([`super::addresses`]), or anything when
//!   `allow_private` is set, except the cloud metadata endpoints, which are never allowed.
//! - **One parser.** URLs are read with the `url` crate, the parser the HTTP client uses, so the host checked
//!   is the host connected to (`http://0x7f.1/` is `127.0.0.1` to both). The adapter sends
//!   [`Destination::url`], the URL as this parser wrote it back.
//!
//! Refusals name the host and why, never the path or query (which may carry a receiver's token).

use std::net::IpAddr;

use super::addresses::{is_cloud_metadata, non_public_reason};

/// The longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Which destinations the operator allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DestinationPolicy {
    /// Allow loopback, private and other non-public addresses, and plain `http` (a receiver on this host or
    /// the operator's network). Off in production.
    pub allow_private: bool,
}

/// The host of a checked URL: a name still to resolve, or an address already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationHost {
    /// A DNS name (lower case, IDNA-encoded); its addresses go through [`DestinationPolicy::check_addresses`].
    Name(String),
    /// An address literal, already allowed.
    Address(IpAddr),
}

/// A URL that passed [`DestinationPolicy::check_url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    url: String,
    host: DestinationHost,
    port: u16,
    https: bool,
}

impl Destination {
    /// The URL to send to, as normalized by the parser (no fragment).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn host(&self) -> &DestinationHost {
        &self.host
    }

    /// The port connected to: the written one or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The host as text, for messages and logs.
    pub fn host_text(&self) -> String {
        match &self.host {
            DestinationHost::Name(name) => name.clone(),
            DestinationHost::Address(addr) => addr.to_string(),
        }
    }
}

impl DestinationPolicy {
    /// Why `addr` may not be connected to, or `None` when it may.
    pub fn refusal(&self, addr: IpAddr) -> Option<&'static str> {
        if is_cloud_metadata(addr) {
            return Some("cloud metadata");
        }
        if self.allow_private {
            return None;
        }
        non_public_reason(addr)
    }

    /// Whether a webhook may connect to `addr`.
    pub fn allows(&self, addr: IpAddr) -> bool {
        self.refusal(addr).is_none()
    }

    /// Parses `url` and checks everything that can be checked without DNS: scheme, credentials, port, and the
    /// host when it is an address literal.
    pub fn check_url(&self, url: &str) -> Result<Destination, String> {
        if url.len() > MAX_URL_LEN {
            return Err(format!("the URL is longer than {MAX_URL_LEN} characters"));
        }
        let mut parsed = url::Url::parse(url.trim()).map_err(|_| "not an absolute http(s) URL".to_owned())?;
        let https = match parsed.scheme() {
            "https" => true,
            "http" if self.allow_private => false,
            _ => return Err("only https URLs are allowed".to_owned()),
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("a URL with a user name or password is refused".to_owned());
        }
        let host = match parsed.host() {
            Some(url::Host::Domain(name)) => DestinationHost::Name(name.to_owned()),
            Some(url::Host::Ipv4(v4)) => DestinationHost::Address(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => DestinationHost::Address(IpAddr::V6(v6)),
            None => return Err("the URL has no host".to_owned()),
        };
        let port = match parsed.port_or_known_default() {
            Some(0) | None => return Err("port 0 is refused".to_owned()),
            Some(port) => port,
        };
        if let DestinationHost::Address(addr) = host {
            self.check_addresses(&addr.to_string(), &[addr])?;
        }
        parsed.set_fragment(None);
        Ok(Destination {
            url: parsed.into(),
            host,
            port,
            https,
        })
    }

    /// Checks every address `host` resolved to: all must be allowed, and there must be at least one.
    pub fn check_addresses(&self, host: &str, addrs: &[IpAddr]) -> Result<(), String> {
        if addrs.is_empty() {
            return Err(format!("{host} resolves to no address"));
        }
        for addr in addrs {
            if let Some(reason) = self.refusal(*addr) {
                return Err(if host == addr.to_string() {
                    format!("{addr} is a {reason} address")
                } else {
                    format!("{host} resolves to {addr}, a {reason} address")
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: DestinationPolicy = DestinationPolicy { allow_private: false };
    const LENIENT: DestinationPolicy = DestinationPolicy { allow_private: true };

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_https_is_allowed_and_http_only_with_private_destinations() {
        let checked = STRICT.check_url("https://hooks.example.com/in?token=abc#frag").unwrap();
        assert_eq!(checked.url(), "https://hooks.example.com/in?token=abc");
        assert_eq!(checked.host(), &DestinationHost::Name("hooks.example.com".into()));
        assert!(checked.is_https());
        assert_eq!(
            STRICT.check_url("http://hooks.example.com/").unwrap_err(),
            "only https URLs are allowed"
        );
        let plain = LENIENT.check_url("http://hooks.example.com/").unwrap();
        assert!(!plain.is_https());
        assert_eq!(plain.port(), 80);
        for other in [
            "ftp://hooks.example.com/",
            "file:///etc/passwd",
            "gopher://hooks.example.com/",
            "data:,x",
        ] {
            assert_eq!(
                LENIENT.check_url(other).unwrap_err(),
                "only https URLs are allowed",
                "{other}"
            );
        }
        for garbage in [
            "",
            "hooks.example.com/in",
            "/relative",
            "https://",
            "https:// bad host/",
        ] {
            assert!(LENIENT.check_url(garbage).is_err(), "{garbage}");
        }
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        for url in [
            "https://user@hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "https://:pw@hooks.example.com/",
        ] {
            assert_eq!(
                LENIENT.check_url(url).unwrap_err(),
                "a URL with a user name or password is refused",
                "{url}"
            );
        }
    }

    #[test]
    fn ports_are_kept_defaulted_or_refused_when_zero() {
        assert_eq!(STRICT.check_url("https://hooks.example.com/").unwrap().port(), 443);
        assert_eq!(STRICT.check_url("https://hooks.example.com:443/").unwrap().port(), 443);
        let custom = STRICT.check_url("https://hooks.example.com:8443/in").unwrap();
        assert_eq!(custom.port(), 8443);
        assert_eq!(custom.url(), "https://hooks.example.com:8443/in");
        assert_eq!(LENIENT.check_url("http://127.0.0.1:9000/").unwrap().port(), 9000);
        assert_eq!(
            STRICT.check_url("https://hooks.example.com:0/").unwrap_err(),
            "port 0 is refused"
        );
        assert!(STRICT.check_url("https://hooks.example.com:65536/").is_err());
        // A port does not hide the address it is attached to.
        assert!(STRICT.check_url("https://127.0.0.1:8443/").is_err());
        assert!(STRICT.check_url("https://[::1]:8443/").is_err());
    }

    #[test]
    fn address_literals_are_checked_in_every_spelling_the_client_understands() {
        let refused = [
            ("https://127.0.0.1/", "127.0.0.1 is a loopback address"),
            ("https://0x7f.1/", "127.0.0.1 is a loopback address"),
            ("https://2130706433/", "127.0.0.1 is a loopback address"),
            ("https://0177.0.0.1/", "127.0.0.1 is a loopback address"),
            ("https://127.1/", "127.0.0.1 is a loopback address"),
            ("https://127.0.0.1./", "127.0.0.1 is a loopback address"),
            ("https://0.0.0.0/", "0.0.0.0 is a \"this network\" (0.0.0.0/8) address"),
            ("https://10.0.0.1/", "10.0.0.1 is a private address"),
            (
                "https://169.254.169.254/latest/meta-data/",
                "169.254.169.254 is a cloud metadata address",
            ),
            ("https://[::1]/", "::1 is a loopback address"),
            ("https://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 is a loopback address"),
            ("https://[::ffff:7f00:1]/", "::ffff:127.0.0.1 is a loopback address"),
            ("https://[64:ff9b::10.0.0.1]/", "64:ff9b::a00:1 is a private address"),
            ("https://[fe80::1]/", "fe80::1 is a link-local address"),
            ("https://[fd12::1]/", "fd12::1 is a unique-local address"),
        ];
        for (url, message) in refused {
            assert_eq!(STRICT.check_url(url).unwrap_err(), message, "{url}");
        }
        let public = STRICT.check_url("https://8.8.8.8/").unwrap();
        assert_eq!(public.host(), &DestinationHost::Address(ip("8.8.8.8")));
        let public6 = STRICT.check_url("https://[2606:4700:4700::1111]:8443/").unwrap();
        assert_eq!(public6.host(), &DestinationHost::Address(ip("2606:4700:4700::1111")));
        assert_eq!(public6.host_text(), "2606:4700:4700::1111");
    }

    #[test]
    fn private_destinations_are_allowed_only_when_configured_and_cloud_metadata_never() {
        for addr in ["127.0.0.1", "10.0.0.1", "192.168.1.10", "::1", "fd12::1", "100.64.0.1"] {
            assert!(!STRICT.allows(ip(addr)), "{addr}");
            assert!(LENIENT.allows(ip(addr)), "{addr}");
        }
        for metadata in [
            "169.254.169.254",
            "169.254.170.2",
            "100.100.100.200",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
        ] {
            assert!(!STRICT.allows(ip(metadata)), "{metadata}");
            assert!(!LENIENT.allows(ip(metadata)), "{metadata}");
        }
        assert!(LENIENT.check_url("http://localhost:8080/hook").is_ok());
        assert!(LENIENT.check_url("http://169.254.169.254/").is_err());
        assert!(STRICT.allows(ip("8.8.8.8")) && LENIENT.allows(ip("8.8.8.8")));
    }

    #[test]
    fn a_name_is_refused_when_any_address_it_resolves_to_is() {
        let host = "hooks.example.com";
        assert_eq!(
            STRICT.check_addresses(host, &[ip("93.184.215.14"), ip("2606:2800:21f::1")]),
            Ok(())
        );
        assert_eq!(
            STRICT
                .check_addresses(host, &[ip("93.184.215.14"), ip("10.0.0.7")])
                .unwrap_err(),
            "hooks.example.com resolves to 10.0.0.7, a private address"
        );
        assert_eq!(
            STRICT
                .check_addresses(host, &[ip("::ffff:127.0.0.1"), ip("93.184.215.14")])
                .unwrap_err(),
            "hooks.example.com resolves to ::ffff:127.0.0.1, a loopback address"
        );
        assert_eq!(
            STRICT.check_addresses(host, &[]).unwrap_err(),
            "hooks.example.com resolves to no address"
        );
        assert_eq!(
            LENIENT.check_addresses(host, &[ip("10.0.0.7"), ip("127.0.0.1")]),
            Ok(())
        );
        assert!(
            LENIENT
                .check_addresses(host, &[ip("10.0.0.7"), ip("169.254.169.254")])
                .is_err()
        );
    }

    #[test]
    fn refusals_name_the_host_but_not_the_path_or_query() {
        let message = STRICT.check_url("https://10.1.1.1/hook?token=s3cr3t").unwrap_err();
        assert!(!message.contains("s3cr3t") && !message.contains("hook"), "{message}");
        let too_long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(
            STRICT.check_url(&too_long).unwrap_err(),
            format!("the URL is longer than {MAX_URL_LEN} characters")
        );
    }

    #[test]
    fn host_names_are_normalized_by_the_same_parser_the_client_uses() {
        let upper = STRICT.check_url("https://HOOKS.Example.COM/x").unwrap();
        assert_eq!(upper.host(), &DestinationHost::Name("hooks.example.com".into()));
        let idn = STRICT.check_url("https://bücher.example/").unwrap();
        assert_eq!(idn.host(), &DestinationHost::Name("xn--bcher-kva.example".into()));
        assert_eq!(idn.url(), "https://xn--bcher-kva.example/");
    }
}
