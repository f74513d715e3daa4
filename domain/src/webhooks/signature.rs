//! The `X-Tgos-Signature` header: how a receiver knows a delivery came from us and is fresh.
//!
//! Rule: the header is `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The timestamp is
//! signed with the body, so a captured delivery cannot be replayed later than the receiver's tolerance, and a
//! changed body or timestamp fails. Receivers compare in constant time and accept any `v1` that matches (room
//! for sending under two secrets while one is rotated); unknown keys (a future `v2`) are ignored.

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature_header(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let signature = hex::encode(mac(secret, timestamp, body).finalize().into_bytes());
    format!("t={timestamp},v1={signature}")
}

/// Whether `header` signs `body` under `secret` with a timestamp within `tolerance_secs` of `now` (either
/// side). Signatures are compared in constant time.
pub fn verify_signature(header: &str, secret: &[u8], body: &[u8], now: i64, tolerance_secs: i64) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    let fresh = tolerance_secs >= 0
        && now
            .checked_sub(timestamp)
            .is_some_and(|age| age.unsigned_abs() <= tolerance_secs.unsigned_abs());
    fresh
        && signatures
            .iter()
            .any(|signature| mac(secret, timestamp, body).verify_slice(signature).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";
    const BODY: &[u8] = br#"{"event":"automation.execution","id":"42"}"#;
    /// 2026-01-01T00:00:00Z.
    const T: i64 = 1_767_225_600;
    /// Computed independently of this code, with Python's standard library:
    /// `hmac.new(b"whsec_test_secret", b"1767225600." + b'{"event":"automation.execution","id":"42"}',
    ///  hashlib.sha256).hexdigest()`
    const EXPECTED: &str = "t=1767225600,v1=0cd4ee0f205e30d6c71050f1006129e1076c0d7e37c831c8807c474cc82100b7";

    #[test]
    fn the_header_matches_a_vector_computed_independently() {
        assert_eq!(signature_header(SECRET, T, BODY), EXPECTED);
    }

    #[test]
    fn a_signature_verifies_within_the_tolerance_on_either_side_and_not_beyond() {
        assert!(verify_signature(EXPECTED, SECRET, BODY, T, 300));
        assert!(verify_signature(EXPECTED, SECRET, BODY, T + 300, 300));
        assert!(verify_signature(EXPECTED, SECRET, BODY, T - 300, 300));
        assert!(
            !verify_signature(EXPECTED, SECRET, BODY, T + 301, 300),
            "replayed too late"
        );
        assert!(
            !verify_signature(EXPECTED, SECRET, BODY, T - 301, 300),
            "from too far ahead"
        );
        assert!(!verify_signature(EXPECTED, SECRET, BODY, T, -1));
        assert!(!verify_signature(EXPECTED, SECRET, BODY, i64::MIN, i64::MAX));
    }

    #[test]
    fn a_tampered_body_timestamp_or_secret_fails() {
        assert!(!verify_signature(
            EXPECTED,
            SECRET,
            br#"{"event":"automation.execution","id":"43"}"#,
            T,
            300
        ));
        assert!(!verify_signature(EXPECTED, b"another secret", BODY, T, 300));
        let moved = EXPECTED.replace("t=1767225600", "t=1767225601");
        assert!(
            !verify_signature(&moved, SECRET, BODY, T, 300),
            "the timestamp is signed"
        );
        let flipped = EXPECTED.replace("v1=0c", "v1=0d");
        assert!(!verify_signature(&flipped, SECRET, BODY, T, 300));
    }

    #[test]
    fn malformed_headers_fail_and_any_matching_v1_passes() {
        for header in [
            "",
            "t=1767225600",
            "v1=0cd4",
            "t=abc,v1=00",
            "t=1767225600,v1=zz",
            "garbage",
        ] {
            assert!(!verify_signature(header, SECRET, BODY, T, 300), "{header:?}");
        }
        let v1 = EXPECTED.trim_start_matches("t=1767225600,");
        let rotated = format!("t={T},v1={},{v1},v2=ignored", "00".repeat(32));
        assert!(verify_signature(&rotated, SECRET, BODY, T, 300));
        let spaced = format!("t={T}, {v1}");
        assert!(verify_signature(&spaced, SECRET, BODY, T, 300));
    }

    #[test]
    fn every_signature_signs_the_timestamp_it_names() {
        let header = signature_header(SECRET, 42, b"");
        assert!(header.starts_with("t=42,v1="));
        assert!(verify_signature(&header, SECRET, b"", 42, 0));
        assert_eq!(header.len(), "t=42,v1=".len() + 64);
    }
}
