//! What a dialog tag may be.
//!
//! Rules:
//! - A tag is compared in one form: trimmed and lower-cased, so `" VIP "` and `"vip"` are the same tag.
//! - That form is 1 to [`MAX_TAG_CHARS`] characters, each a letter (any script: operators tag in their own
//!   language), an ASCII digit, `-`, `_` or `:` (so `lang:ru` or `follow-up` work, and a tag never holds
//!   spaces, commas or quotes that a filter or an export would have to escape).
//! - A dialog holds at most [`MAX_TAGS_PER_DIALOG`] tags.

/// The most characters a tag holds (after normalizing).
pub const MAX_TAG_CHARS: usize = 32;

/// The most tags one dialog holds.
pub const MAX_TAGS_PER_DIALOG: usize = 20;

/// The rule a refused tag broke, as `BAD_USER_INPUT` on `tag` says it.
pub const TAG_RULE: &str = "a tag is 1 to 32 letters, digits, '-', '_' or ':'";

/// The one form of `tag` (trimmed, lower-cased), or the rule it breaks.
pub fn normalize_tag(tag: &str) -> Result<String, String> {
    let normalized = tag.trim().to_lowercase();
    let length = normalized.chars().count();
    if length == 0 {
        return Err(format!("a tag cannot be empty: {TAG_RULE}"));
    }
    if length > MAX_TAG_CHARS {
        return Err(format!("a tag is at most {MAX_TAG_CHARS} characters: {TAG_RULE}"));
    }
    if let Some(bad) = normalized.chars().find(|c| !allowed(*c)) {
        return Err(format!("a tag cannot hold {bad:?}: {TAG_RULE}"));
    }
    Ok(normalized)
}

fn allowed(c: char) -> bool {
    c.is_alphabetic() || c.is_ascii_digit() || matches!(c, '-' | '_' | ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_and_lower_cased_into_one_form() {
        for (given, form) in [
            ("vip", "vip"),
            ("  VIP ", "vip"),
            ("Follow-Up", "follow-up"),
            ("lang:RU", "lang:ru"),
            ("stage_2", "stage_2"),
            ("Клиент", "клиент"),
            ("\tx\n", "x"),
        ] {
            assert_eq!(normalize_tag(given).as_deref(), Ok(form), "{given:?}");
        }
    }

    #[test]
    fn a_tag_is_one_to_thirty_two_allowed_characters() {
        assert!(normalize_tag(&"a".repeat(MAX_TAG_CHARS)).is_ok());
        assert!(
            normalize_tag(&"я".repeat(MAX_TAG_CHARS)).is_ok(),
            "counted in characters, not bytes"
        );
        for refused in [
            "",
            "   ",
            &"a".repeat(MAX_TAG_CHARS + 1)[..],
            "two words",
            "a,b",
            "quote\"",
            "semi;colon",
            "emoji🙂",
            "slash/",
            "dot.",
            "٣", // a digit, but not an ASCII one
        ] {
            let error = normalize_tag(refused).expect_err(refused);
            assert!(error.contains(TAG_RULE), "{refused:?}: {error}");
        }
    }
}
