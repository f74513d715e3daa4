//! A username: 3 to 32 characters of ASCII letters, digits and `_`, starting with a letter.
//!
//! Shown as typed; unique case-insensitively through [`Username::key`].

use crate::error::FieldError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let len = value.chars().count();
        if !(3..=32).contains(&len) {
            return Err(FieldError::new(field, "username must be 3 to 32 characters"));
        }
        if !value.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(FieldError::new(field, "username must start with a letter"));
        }
        if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(FieldError::new(
                field,
                "username may contain only letters, digits and _",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive uniqueness key.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_letters_digits_underscore() {
        assert!(Username::parse("username", "Ada_1815").is_ok());
        assert_eq!(
            Username::parse("username", "Ada_1815").map(|u| u.key()),
            Ok("ada_1815".to_owned())
        );
    }

    #[test]
    fn rejects_bad_usernames() {
        for bad in ["ab", "1ada", "_ada", "ada lovelace", "ada@home", "ädä", &"a".repeat(33)] {
            assert!(Username::parse("username", bad).is_err(), "{bad:?} must be rejected");
        }
    }
}
