//! An email address as accepted at sign-up: trimmed, at most 254 characters, one `@`, a dotted domain.
//!
//! Uniqueness is case-insensitive: [`Email::key`] is the lower-cased form the database indexes.

use crate::error::FieldError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let invalid = |why: &str| FieldError::new(field, format!("email {why}"));
        if value.is_empty() {
            return Err(invalid("is required"));
        }
        if value.chars().count() > Self::MAX_LEN {
            return Err(invalid("must be at most 254 characters"));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces"));
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err(invalid("must look like name@example.com"));
        };
        let labels_ok = domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if local.is_empty() || local.len() > 64 || domain.contains('@') || !domain.contains('.') || !labels_ok {
            return Err(invalid("must look like name@example.com"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive uniqueness key.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_trims() {
        let email = Email::parse("email", "  Ada.Lovelace+x@Example.co.uk ").map(|e| e.0);
        assert_eq!(email, Ok("Ada.Lovelace+x@Example.co.uk".to_owned()));
    }

    #[test]
    fn key_is_lower_case() -> Result<(), FieldError> {
        assert_eq!(Email::parse("email", "Ada@Example.COM")?.key(), "ada@example.com");
        Ok(())
    }

    #[test]
    fn rejects_malformed_addresses_naming_the_field() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "a@b@c.com",
            "ada@-x.com",
            "ada@x..com",
        ] {
            let err = Email::parse("email", bad).err();
            assert_eq!(
                err.map(|e| e.field),
                Some("email".to_owned()),
                "{bad:?} must be rejected"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse("email", &long).is_err());
    }
}
