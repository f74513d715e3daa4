//! The password policy.
//!
//! Rules: at least 12 characters, at most 128 (bounding the hashing cost of a request), and not equal to the
//! account's email or username in any letter case. The password itself is a secret: it never appears in
//! `Debug` output, logs or errors.

use secrecy::{ExposeSecret as _, SecretString};

use crate::error::FieldError;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// A password that satisfies the policy.
#[derive(Debug, Clone)]
pub struct Password(SecretString);

/// The identifiers a password must not repeat.
#[derive(Debug, Clone, Copy)]
pub struct PasswordContext<'a> {
    pub email: &'a str,
    pub username: &'a str,
}

impl Password {
    pub fn parse(field: &str, raw: &str, context: PasswordContext<'_>) -> Result<Self, FieldError> {
        let len = raw.chars().count();
        if len < MIN_LEN {
            return Err(FieldError::new(
                field,
                format!("password must be at least {MIN_LEN} characters"),
            ));
        }
        if len > MAX_LEN {
            return Err(FieldError::new(
                field,
                format!("password must be at most {MAX_LEN} characters"),
            ));
        }
        let lower = raw.to_lowercase();
        if lower == context.email.trim().to_lowercase() {
            return Err(FieldError::new(field, "password must not be your email"));
        }
        if lower == context.username.trim().to_lowercase() {
            return Err(FieldError::new(field, "password must not be your username"));
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: PasswordContext<'static> = PasswordContext {
        email: "ada.lovelace@example.com",
        username: "ada_lovelace_1815",
    };

    #[test]
    fn twelve_characters_is_the_minimum() {
        assert!(Password::parse("password", "elevenchars", CTX).is_err());
        assert!(Password::parse("password", "twelve chars", CTX).is_ok());
        // characters, not bytes
        assert!(Password::parse("password", "ääääääääääää", CTX).is_ok());
        assert!(Password::parse("password", "äääääääääää", CTX).is_err());
    }

    #[test]
    fn upper_bound_limits_hashing_cost() {
        assert!(Password::parse("password", &"x".repeat(128), CTX).is_ok());
        assert!(Password::parse("password", &"x".repeat(129), CTX).is_err());
    }

    #[test]
    fn must_not_equal_email_or_username_in_any_case() {
        let email = Password::parse("password", "ADA.LOVELACE@example.com", CTX).err();
        assert_eq!(
            email.map(|e| e.message),
            Some("password must not be your email".to_owned())
        );
        let username = Password::parse("password", "Ada_Lovelace_1815", CTX).err();
        assert_eq!(
            username.map(|e| e.message),
            Some("password must not be your username".to_owned())
        );
    }

    #[test]
    fn debug_never_shows_the_password() -> Result<(), FieldError> {
        let password = Password::parse("password", "correct horse battery", CTX)?;
        assert!(!format!("{password:?}").contains("horse"));
        Ok(())
    }
}
