//! Golden session strings, produced independently of this crate by `domain/tests/fixtures/session_vectors.py`
//! (Python's `struct` and `base64` only, from the libraries' published layouts). Regenerate with
//! `python3 domain/tests/fixtures/session_vectors.py`. The core of it:
//!
//! ```python
//! KEY_A = bytes(range(256))
//! KEY_B = bytes(255 - i for i in range(256))
//! KEY_C = bytes((i * 7 + 3) % 256 for i in range(256))
//! KEY_D = bytes((i * 13 + 101) % 256 for i in range(256))
//! def telethon(dc_id, ip, port, key):
//!     packed = ipaddress.ip_address(ip).packed
//!     data = struct.pack(">B{}sH256s".format(len(packed)), dc_id, packed, port, key)
//!     return "1" + base64.urlsafe_b64encode(data).decode("ascii")
//! def pyrogram(fmt, *fields):
//!     return base64.urlsafe_b64encode(struct.pack(fmt, *fields)).decode().rstrip("=")
//! telethon(2, "149.154.167.51", 443, KEY_A)
//! telethon(4, "2001:67c:4e8:f004::a", 443, KEY_B)
//! pyrogram(">B?256sI?", 2, False, KEY_C, 123456789, False)
//! pyrogram(">B?256sQ?", 4, False, KEY_D, 6123456789, True)
//! pyrogram(">BI?256sQ?", 1, 2040, True, KEY_B, 7000000001, False)
//! ```

use std::net::SocketAddr;

use crate::accounts::{SessionError, TelegramSession, parse_pyrogram, parse_telethon};

// 353 characters
pub(super) const TELETHON_IPV4: &str = "1ApWapzMBuwABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5_gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp-goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2-v8DBwsPExcbHyMnKy8zNzs_Q0dLT1NXW19jZ2tvc3d7f4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8=";
// 369 characters
pub(super) const TELETHON_IPV6: &str = "1BCABBnwE6PAEAAAAAAAAAAoBu__-_fz7-vn49_b19PPy8fDv7u3s6-rp6Ofm5eTj4uHg397d3Nva2djX1tXU09LR0M_OzczLysnIx8bFxMPCwcC_vr28u7q5uLe2tbSzsrGwr66trKuqqainpqWko6KhoJ-enZybmpmYl5aVlJOSkZCPjo2Mi4qJiIeGhYSDgoGAf359fHt6eXh3dnV0c3JxcG9ubWxramloZ2ZlZGNiYWBfXl1cW1pZWFdWVVRTUlFQT05NTEtKSUhHRkVEQ0JBQD8-PTw7Ojk4NzY1NDMyMTAvLi0sKyopKCcmJSQjIiEgHx4dHBsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=";
// 351 characters
pub(super) const PYROGRAM_351: &str = "AgADChEYHyYtNDtCSVBXXmVsc3qBiI-WnaSrsrnAx87V3OPq8fj_Bg0UGyIpMDc-RUxTWmFob3Z9hIuSmaCnrrW8w8rR2N_m7fT7AgkQFx4lLDM6QUhPVl1ka3J5gIeOlZyjqrG4v8bN1Nvi6fD3_gUMExohKC82PURLUllgZ251fIOKkZifpq20u8LJ0Nfe5ezz-gEIDxYdJCsyOUBHTlVcY2pxeH-GjZSboqmwt77FzNPa4ejv9v0ECxIZICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM_W3eTr8vkABw4VHCMqMTg_Rk1UW2JpcHd-hYyTmqGor7a9xMvS2eDn7vX8B1vNFQA";
// 356 characters
pub(super) const PYROGRAM_356: &str = "BABlcn-MmaazwM3a5_QBDhsoNUJPXGl2g5CdqrfE0d7r-AUSHyw5RlNgbXqHlKGuu8jV4u_8CRYjMD1KV2RxfouYpbK_zNnm8wANGic0QU5baHWCj5yptsPQ3er3BBEeKzhFUl9seYaToK26x9Th7vsIFSIvPElWY3B9ipeksb7L2OXy_wwZJjNATVpndIGOm6i1ws_c6fYDEB0qN0RRXmt4hZKfrLnG0-Dt-gcUIS47SFVib3yJlqOwvcrX5PH-CxglMj9MWWZzgI2ap7TBztvo9QIPHCk2Q1BdaneEkZ6ruMXS3-z5BhMgLTpHVGFue4iVoq-8ydbj8P0KFyQxPktYAAAAAWz8iRUB";
// 362 characters
pub(super) const PYROGRAM_362: &str = "AQAAB_gB__79_Pv6-fj39vX08_Lx8O_u7ezr6uno5-bl5OPi4eDf3t3c29rZ2NfW1dTT0tHQz87NzMvKycjHxsXEw8LBwL--vby7urm4t7a1tLOysbCvrq2sq6qpqKempaSjoqGgn56dnJuamZiXlpWUk5KRkI-OjYyLiomIh4aFhIOCgYB_fn18e3p5eHd2dXRzcnFwb25tbGtqaWhnZmVkY2JhYF9eXVxbWllYV1ZVVFNSUVBPTk1MS0pJSEdGRURDQkFAPz49PDs6OTg3NjU0MzIxMC8uLSwrKikoJyYlJCMiISAfHh0cGxoZGBcWFRQTEhEQDw4NDAsKCQgHBgUEAwIBAAAAAAGhO4YBAA";

pub(super) fn key_a() -> Vec<u8> {
    (0..=255u8).collect()
}

pub(super) fn key_b() -> Vec<u8> {
    (0..=255u8).rev().collect()
}

fn key_c() -> Vec<u8> {
    (0..256u32).map(|i| ((i * 7 + 3) % 256) as u8).collect()
}

fn key_d() -> Vec<u8> {
    (0..256u32).map(|i| ((i * 13 + 101) % 256) as u8).collect()
}

fn all_vectors() -> [(&'static str, TelegramSession); 5] {
    [
        ("telethon ipv4", parse_telethon(TELETHON_IPV4).unwrap()),
        ("telethon ipv6", parse_telethon(TELETHON_IPV6).unwrap()),
        ("pyrogram 351", parse_pyrogram(PYROGRAM_351).unwrap()),
        ("pyrogram 356", parse_pyrogram(PYROGRAM_356).unwrap()),
        ("pyrogram 362", parse_pyrogram(PYROGRAM_362).unwrap()),
    ]
}

#[test]
fn the_golden_strings_have_the_lengths_of_their_layouts() {
    assert_eq!(TELETHON_IPV4.len(), 353);
    assert_eq!(TELETHON_IPV6.len(), 369);
    assert_eq!(PYROGRAM_351.len(), 351);
    assert_eq!(PYROGRAM_356.len(), 356);
    assert_eq!(PYROGRAM_362.len(), 362);
}

#[test]
fn a_telethon_ipv4_string_gives_its_data_centre_server_and_key() {
    let session = parse_telethon(TELETHON_IPV4).unwrap();
    assert_eq!(session.dc_id().get(), 2);
    assert_eq!(
        session.server(),
        Some("149.154.167.51:443".parse::<SocketAddr>().unwrap())
    );
    assert_eq!(session.auth_key().expose_bytes().as_slice(), key_a().as_slice());
    assert_eq!(session.user_id(), None);
    assert_eq!(session.api_id(), None);
    assert!(!session.test_mode());
    assert!(!session.is_bot());
}

#[test]
fn a_telethon_ipv6_string_gives_its_data_centre_server_and_key() {
    let session = parse_telethon(TELETHON_IPV6).unwrap();
    assert_eq!(session.dc_id().get(), 4);
    assert_eq!(
        session.server(),
        Some("[2001:67c:4e8:f004::a]:443".parse::<SocketAddr>().unwrap())
    );
    assert_eq!(session.auth_key().expose_bytes().as_slice(), key_b().as_slice());
    assert_eq!(session.user_id(), None);
}

#[test]
fn a_telethon_string_without_padding_gives_the_same_session() {
    let unpadded = TELETHON_IPV4.trim_end_matches('=');
    assert_ne!(unpadded, TELETHON_IPV4);
    assert_eq!(parse_telethon(unpadded), parse_telethon(TELETHON_IPV4));
}

#[test]
fn a_pyrogram_351_string_gives_a_32_bit_user_id() {
    let session = parse_pyrogram(PYROGRAM_351).unwrap();
    assert_eq!(session.dc_id().get(), 2);
    assert!(!session.test_mode());
    assert_eq!(session.auth_key().expose_bytes().as_slice(), key_c().as_slice());
    assert_eq!(session.user_id(), Some(123_456_789));
    assert!(!session.is_bot());
    assert_eq!(session.api_id(), None);
    assert_eq!(session.server(), None);
}

#[test]
fn a_pyrogram_356_string_gives_a_64_bit_user_id() {
    let session = parse_pyrogram(PYROGRAM_356).unwrap();
    assert_eq!(session.dc_id().get(), 4);
    assert!(!session.test_mode());
    assert_eq!(session.auth_key().expose_bytes().as_slice(), key_d().as_slice());
    assert_eq!(session.user_id(), Some(6_123_456_789));
    assert!(session.is_bot());
    assert_eq!(session.api_id(), None);
}

#[test]
fn a_pyrogram_362_string_gives_its_api_id_and_test_mode() {
    let session = parse_pyrogram(PYROGRAM_362).unwrap();
    assert_eq!(session.dc_id().get(), 1);
    assert_eq!(session.api_id(), Some(2040));
    assert!(session.test_mode());
    assert_eq!(session.auth_key().expose_bytes().as_slice(), key_b().as_slice());
    assert_eq!(session.user_id(), Some(7_000_000_001));
    assert!(!session.is_bot());
}

#[test]
fn each_golden_session_survives_the_canonical_encoding() {
    for (name, session) in all_vectors() {
        let bytes = session.encode();
        assert_eq!(TelegramSession::decode(&bytes).as_ref(), Ok(&session), "{name}");
    }
}

#[test]
fn a_string_of_one_library_is_refused_by_the_other() {
    assert_eq!(
        parse_pyrogram(TELETHON_IPV4).err(),
        Some(SessionError::PyrogramLength(353))
    );
    assert_eq!(parse_telethon(PYROGRAM_356).err(), Some(SessionError::TelethonVersion));
}

#[test]
fn debug_of_a_golden_session_shows_no_trace_of_the_key() {
    for (name, session) in all_vectors() {
        let text = format!("{session:?} {:?} {:#?}", session.auth_key(), session);
        assert!(text.contains("<redacted>"), "{name}: {text}");
        super::assert_no_trace_of(&text, session.auth_key().expose_bytes());
    }
}
