//! Which simulated user a session is, and which user a scripted contact is.
//!
//! Rules:
//! - A session with a user id is that user. A session without one is the user derived from its auth key's
//!   fingerprint: the first 8 bytes, big-endian, reduced into `1 ..= 999_999_999_999`. The same key always
//!   gives the same user; the key itself is never read or kept.
//! - A scripted contact's id comes from its name (FNV-1a, 64 bit) reduced into
//!   `1_000_000_000_000 ..= 2^40 - 1`, a range derived users never reach. Two names that hash alike are
//!   told apart by the network (the later one takes the next free id).

use tgos_domain::accounts::TelegramSession;
use tgos_domain::accounts::gateway::peer::MAX_USER_ID;

/// Derived account ids stay below this; contact ids start here.
pub const CONTACT_ID_BASE: i64 = 1_000_000_000_000;

/// The simulated user a session signs in as.
pub fn sandbox_user_id(session: &TelegramSession) -> i64 {
    session
        .user_id()
        .unwrap_or_else(|| user_id_from_fingerprint(&session.auth_key().fingerprint()))
}

fn user_id_from_fingerprint(fingerprint: &[u8; 32]) -> i64 {
    let [b0, b1, b2, b3, b4, b5, b6, b7, ..] = *fingerprint;
    let n = u64::from_be_bytes([b0, b1, b2, b3, b4, b5, b6, b7]);
    1 + reduce(n, CONTACT_ID_BASE - 1)
}

/// The id a contact of this name gets when no other contact holds it.
pub(crate) fn contact_user_id(name: &str) -> i64 {
    CONTACT_ID_BASE + reduce(fnv1a(name.as_bytes()), MAX_USER_ID - CONTACT_ID_BASE + 1)
}

/// The contact id after `id`, wrapping inside the contact range.
pub(crate) fn next_contact_user_id(id: i64) -> i64 {
    if id >= MAX_USER_ID { CONTACT_ID_BASE } else { id + 1 }
}

pub(crate) fn is_contact_id(id: i64) -> bool {
    (CONTACT_ID_BASE..=MAX_USER_ID).contains(&id)
}

/// `n` reduced into `0 .. range` (`range` is positive).
fn reduce(n: u64, range: i64) -> i64 {
    let range = range.unsigned_abs().max(1);
    i64::try_from(n % range).unwrap_or(0)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_gives_the_same_user_below_the_contact_range() {
        let a = user_id_from_fingerprint(&[7; 32]);
        assert_eq!(a, user_id_from_fingerprint(&[7; 32]));
        assert_ne!(a, user_id_from_fingerprint(&[8; 32]));
        assert!((1..CONTACT_ID_BASE).contains(&a));
        assert!((1..CONTACT_ID_BASE).contains(&user_id_from_fingerprint(&[0xff; 32])));
    }

    #[test]
    fn a_contact_name_gives_a_stable_id_in_the_contact_range() {
        assert_eq!(contact_user_id("Alice"), contact_user_id("Alice"));
        assert_ne!(contact_user_id("Alice"), contact_user_id("Bob"));
        assert!(is_contact_id(contact_user_id("Alice")));
        assert!(is_contact_id(next_contact_user_id(MAX_USER_ID)));
    }
}
