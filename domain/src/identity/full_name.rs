//! A person's full name: 1 to 100 characters after trimming, no control characters.

use crate::error::FieldError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        crate::text::single_line(field, raw, Self::MAX_LEN, "full name").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(
            FullName::parse("fullName", "  Ada Lovelace ").map(|n| n.0),
            Ok("Ada Lovelace".to_owned())
        );
        assert!(FullName::parse("fullName", "   ").is_err());
        assert!(FullName::parse("fullName", &"x".repeat(101)).is_err());
        assert!(FullName::parse("fullName", "Ada\u{0}").is_err());
    }
}
