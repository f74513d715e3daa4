//! A phone number in E.164 form: `+`, then 8 to 15 digits, the first not 0.
//!
//! Rules: spaces, dashes, dots and parentheses are dropped on parse (`+44 (7911) 123-456`); the `+` is
//! required, because a number without its country code is ambiguous. The full number is available only
//! through [`PhoneNumber::as_e164`]; `Debug` and [`PhoneNumber::masked`] show the `+`, the first two digits
//! (about the country code) and the last two digits, nothing else.

use crate::error::FieldError;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub const MIN_DIGITS: usize = 8;
    pub const MAX_DIGITS: usize = 15;
    const SHOWN_HEAD: usize = 2;
    const SHOWN_TAIL: usize = 2;

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let invalid = |why: &str| FieldError::new(field, format!("phone number {why}"));
        let value = raw.trim();
        let Some(rest) = value.strip_prefix('+') else {
            return Err(invalid("must start with + and the country code"));
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(invalid(
                        "may contain only digits, spaces, dashes and parentheses after the +",
                    ));
                }
            }
        }
        if !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits.len()) {
            return Err(invalid("must have 8 to 15 digits"));
        }
        if digits.starts_with('0') {
            return Err(invalid("must not start with 0 after the + (no country code does)"));
        }
        Ok(Self(format!("+{digits}")))
    }

    /// The full number, `+` and digits only. For dialling and storage; never for logs.
    pub fn as_e164(&self) -> &str {
        &self.0
    }

    /// `+44 ••••••••56`: the `+`, two leading and two trailing digits; every other digit is a `•`.
    pub fn masked(&self) -> String {
        let digits = self.0.trim_start_matches('+');
        let head = digits.get(..Self::SHOWN_HEAD).unwrap_or_default();
        let tail = digits
            .get(digits.len().saturating_sub(Self::SHOWN_TAIL)..)
            .unwrap_or_default();
        let hidden = digits.len().saturating_sub(Self::SHOWN_HEAD + Self::SHOWN_TAIL);
        format!("+{head} {}{tail}", "•".repeat(hidden))
    }
}

impl std::fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PhoneNumber").field(&self.masked()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(raw: &str) -> PhoneNumber {
        PhoneNumber::parse("phone", raw).unwrap()
    }

    #[test]
    fn strips_separators_and_keeps_the_plus() {
        assert_eq!(phone(" +44 (7911) 123-456 ").as_e164(), "+447911123456");
        assert_eq!(phone("+1.415.555.0100").as_e164(), "+14155550100");
    }

    #[test]
    fn refuses_numbers_that_are_not_e164() {
        for bad in [
            "",
            "447911123456",
            "+",
            "+1234567",
            "+1234567890123456",
            "+0447911123456",
            "+44 7911 12345a",
            "++447911123456",
            "+44/7911123456",
        ] {
            assert!(PhoneNumber::parse("phone", bad).is_err(), "{bad:?} must be refused");
        }
        assert!(PhoneNumber::parse("phone", "+12345678").is_ok());
        assert!(PhoneNumber::parse("phone", "+123456789012345").is_ok());
    }

    #[test]
    fn the_masked_form_shows_only_two_leading_and_two_trailing_digits() {
        assert_eq!(phone("+447911123456").masked(), "+44 ••••••••56");
        assert_eq!(phone("+12345678").masked(), "+12 ••••78");
    }

    #[test]
    fn debug_shows_the_masked_form_only() {
        let text = format!("{:?}", phone("+447911123456"));
        assert_eq!(text, "PhoneNumber(\"+44 ••••••••56\")");
        assert!(!text.contains("7911123"));
    }

    #[test]
    fn error_messages_never_repeat_the_number() {
        let err = PhoneNumber::parse("phone", "+44 7911 12345a").err().map(|e| e.message);
        assert!(err.is_some_and(|m| !m.contains("7911")));
    }
}
