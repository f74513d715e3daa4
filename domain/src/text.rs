//! Short single-line texts people type (names): the one rule they share.

use crate::error::FieldError;

/// `raw` trimmed, when it is 1 to `max` characters with no control characters; `what` names it in errors
/// ("full name", "name").
pub fn single_line(field: &str, raw: &str, max: usize, what: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, format!("{what} is required")));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("{what} must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!("{what} must not contain control characters"),
        ));
    }
    Ok(value.to_owned())
}
