//! Backup codes: the way in when the authenticator is lost.
//!
//! Rules: ten codes are issued at once and shown once; each is ten characters of Crockford base32 (50 bits)
//! written `xxxxx-xxxxx`; only a hash bound to the user is stored; a code works once. Input is forgiving:
//! case, spaces and dashes are ignored, and `o`, `i`, `l` read as `0`, `1`, `1`.

use rand::Rng as _;
use sha2::{Digest as _, Sha256};

use crate::ids::UserId;

pub const COUNT: usize = 10;
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const LEN: usize = 10;

/// Ten fresh codes, formatted for display.
pub fn generate() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..COUNT)
        .map(|_| {
            let raw: String = (0..LEN)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect()
}

/// The canonical form of typed input, or `None` when it cannot be a backup code.
pub fn normalize(input: &str) -> Option<String> {
    let canonical: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect();
    let valid = canonical.len() == LEN && canonical.bytes().all(|b| ALPHABET.contains(&b));
    valid.then_some(canonical)
}

/// The stored form of a code: SHA-256 over the user id and the canonical code.
pub fn hash(user: UserId, code: &str) -> Option<Vec<u8>> {
    let canonical = normalize(code)?;
    let mut digest = Sha256::new();
    digest.update(user.as_uuid().as_bytes());
    digest.update(canonical.as_bytes());
    Some(digest.finalize().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_codes_in_display_format() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), COUNT);
        for code in &codes {
            assert_eq!(code.len(), 11);
            assert_eq!(code.as_bytes()[5], b'-');
            assert!(normalize(code).is_some(), "{code} must normalize");
        }
    }

    #[test]
    fn input_is_forgiving_about_case_spaces_dashes_and_lookalikes() {
        assert_eq!(normalize("ABCDE-FGH0O"), Some("abcdefgh00".to_owned()));
        assert_eq!(normalize(" abcde fgh1l "), Some("abcdefgh11".to_owned()));
        assert_eq!(normalize("abcdefgh1i"), Some("abcdefgh11".to_owned()));
    }

    #[test]
    fn rejects_what_cannot_be_a_code() {
        assert_eq!(normalize("123456"), None);
        assert_eq!(normalize("abcde-fghj"), None, "nine characters");
        assert_eq!(normalize("abcde-fghjk-m"), None, "eleven characters");
        assert_eq!(normalize("abcde-fghu0"), None, "u is not in the alphabet");
    }

    #[test]
    fn hash_binds_the_user() {
        let a = UserId::generate();
        let b = UserId::generate();
        assert_eq!(hash(a, "ABCDE-FGH00"), hash(a, "abcdefgh00"));
        assert_ne!(hash(a, "abcdefgh00"), hash(b, "abcdefgh00"));
        assert_eq!(hash(a, "nope"), None);
    }
}
