//! What a person types to sign in: their email or their username, matched case-insensitively.

/// The normalized sign-in identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login(String);

impl Login {
    pub fn parse(raw: &str) -> Option<Self> {
        let value = raw.trim();
        if value.is_empty() || value.chars().count() > 254 {
            return None;
        }
        Some(Self(value.to_lowercase()))
    }

    /// The key to look up: an email key if it contains `@`, else a username key.
    pub fn key(&self) -> &str {
        &self.0
    }

    pub fn is_email(&self) -> bool {
        self.0.contains('@')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_space() {
        assert_eq!(
            Login::parse("  Ada@Example.com ").map(|l| l.0),
            Some("ada@example.com".to_owned())
        );
        assert!(Login::parse("Ada").is_some_and(|l| !l.is_email()));
        assert!(Login::parse("  ").is_none());
    }
}
