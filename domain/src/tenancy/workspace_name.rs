//! A workspace name: 1 to 64 characters after trimming, no control characters.

use crate::error::FieldError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceName(String);

impl WorkspaceName {
    pub const MAX_LEN: usize = 64;

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(FieldError::new(field, "name is required"));
        }
        if value.chars().count() > Self::MAX_LEN {
            return Err(FieldError::new(field, "name must be at most 64 characters"));
        }
        if value.chars().any(char::is_control) {
            return Err(FieldError::new(field, "name must not contain control characters"));
        }
        Ok(Self(value.to_owned()))
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
            WorkspaceName::parse("name", "  Growth team ").map(|n| n.0),
            Ok("Growth team".to_owned())
        );
        assert!(WorkspaceName::parse("name", " ").is_err());
        assert!(WorkspaceName::parse("name", &"w".repeat(65)).is_err());
        assert!(WorkspaceName::parse("name", &"w".repeat(64)).is_ok());
        assert!(WorkspaceName::parse("name", "tab\there").is_err());
    }
}
