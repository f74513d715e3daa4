//! Tests of the public surface of [`crate::accounts`]: golden strings made by an independent generator,
//! whole import files, and properties over arbitrary input.

mod golden;
mod import;
mod properties;

/// `bytes` is nowhere in `text` as hex, URL-safe or standard base64, or a Rust byte list; checked on 12-byte
/// windows so a partial leak is caught too.
pub(super) fn assert_no_trace_of(text: &str, bytes: &[u8]) {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    for window in bytes.windows(12).step_by(5) {
        let forms = [
            hex::encode(window),
            hex::encode_upper(window),
            URL_SAFE_NO_PAD.encode(window),
            STANDARD_NO_PAD.encode(window),
            format!("{window:?}").trim_matches(['[', ']']).to_owned(),
        ];
        for form in forms {
            assert!(!text.contains(&form), "{text:?} contains {form:?}");
        }
    }
}

/// No 16-character piece of `secret` appears in `text`.
pub(super) fn assert_does_not_quote(text: &str, secret: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for window in chars.windows(16) {
        let piece: String = window.iter().collect();
        assert!(!text.contains(&piece), "{text:?} quotes {piece:?}");
    }
}
