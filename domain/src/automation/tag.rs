//! Dialog tags: the one spelling rule shared by automations and by tagging a dialog by hand.
//!
//! Rules: a tag is 1 to [`MAX_TAG_LEN`] characters of letters, digits, `-`, `_` and `:` once surrounding
//! whitespace is trimmed, and is kept lower-case, so `VIP` and `vip` are one tag.

/// The longest tag, in characters.
pub const MAX_TAG_LEN: usize = 32;

/// The tag as stored (trimmed, lower-case), or why it cannot be one.
pub fn normalize_tag(raw: &str) -> Result<String, String> {
    let tag = raw.trim().to_lowercase();
    if tag.is_empty() {
        return Err("a tag is required".to_owned());
    }
    if tag.chars().count() > MAX_TAG_LEN {
        return Err(format!("a tag is at most {MAX_TAG_LEN} characters"));
    }
    if let Some(bad) = tag
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | ':')))
    {
        return Err(format!(
            "a tag holds only letters, digits, `-`, `_` and `:`, not {bad:?}"
        ));
    }
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_and_lower_cased() {
        assert_eq!(normalize_tag("  VIP ").unwrap(), "vip");
        assert_eq!(normalize_tag("Lead:Hot_2-b").unwrap(), "lead:hot_2-b");
        assert_eq!(normalize_tag("Клиент").unwrap(), "клиент");
    }

    #[test]
    fn tags_refuse_empty_long_and_odd_characters() {
        assert_eq!(normalize_tag("   ").unwrap_err(), "a tag is required");
        assert!(normalize_tag(&"a".repeat(32)).is_ok());
        assert!(normalize_tag(&"a".repeat(33)).unwrap_err().contains("at most 32"));
        assert!(normalize_tag("two words").unwrap_err().contains("' '"));
        assert!(normalize_tag("vip!").unwrap_err().contains("'!'"));
        assert!(normalize_tag("a/b").is_err());
    }
}
