//! A workspace name: 1 to 64 characters after trimming, no control characters.

use crate::error::FieldError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceName(String);

impl WorkspaceName {
    pub const MAX_LEN: usize = 64;

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        crate::text::single_line(field, raw, Self::MAX_LEN, "name").map(Self)
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
