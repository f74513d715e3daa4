//! A Telegram username as the account shows it, without the `@`.
//!
//! Rules (Telegram's own, as TDLib checks them): 3 to 32 characters of ASCII letters, digits and `_`,
//! starting with a letter, not ending with `_`, never two `_` in a row. A leading `@` is dropped on parse.
//! Case is kept as typed; Telegram compares usernames case-insensitively, hence [`TelegramUsername::key`].

use crate::error::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TelegramUsername(String);

impl TelegramUsername {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        let value = trimmed.strip_prefix('@').unwrap_or(trimmed);
        let invalid = |why: &str| FieldError::new(field, format!("username {why}"));
        if !(3..=32).contains(&value.len()) || !value.is_ascii() {
            return Err(invalid("must be 3 to 32 letters, digits or _"));
        }
        if !value.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(invalid("must start with a letter"));
        }
        if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid("may contain only letters, digits and _"));
        }
        if value.ends_with('_') || value.contains("__") {
            return Err(invalid("must not end with _ or contain __"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive comparison key.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_telegram_usernames_with_or_without_the_at_sign() {
        assert_eq!(
            TelegramUsername::parse("username", "@Durov_Fan1").map(|u| u.0),
            Ok("Durov_Fan1".to_owned())
        );
        assert_eq!(
            TelegramUsername::parse("username", "abcd").map(|u| u.key()),
            Ok("abcd".to_owned())
        );
    }

    #[test]
    fn refuses_what_telegram_refuses() {
        for bad in [
            "",
            "@",
            "ab",
            "1abc",
            "_abc",
            "abc_",
            "ab__cd",
            "ab cd",
            "abç",
            &"a".repeat(33),
        ] {
            assert!(
                TelegramUsername::parse("username", bad).is_err(),
                "{bad:?} must be refused"
            );
        }
    }
}
