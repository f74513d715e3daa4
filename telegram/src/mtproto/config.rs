//! What the MTProto gateway needs from configuration: the application's official `api_id` and `api_hash`
//! (from https://my.telegram.org), and whether to use Telegram's test data centres.
//!
//! Rules: the `api_id` is positive; the `api_hash` is 32 hexadecimal characters and never printed (`Debug`
//! shows its length only). The client parameters Telegram sees are honest ones: the product's name and
//! version and the server's operating system, the same for every account; there is nothing to set per account.

use std::fmt;

/// Why the MTProto settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("telegram.api_id must be a positive number (from https://my.telegram.org)")]
    ApiId,
    #[error("telegram.api_hash must be the 32 hexadecimal characters from https://my.telegram.org")]
    ApiHash,
}

/// The MTProto gateway's settings.
#[derive(Clone, PartialEq, Eq)]
pub struct MtprotoConfig {
    api_id: i32,
    api_hash: String,
    test_dc: bool,
}

impl MtprotoConfig {
    pub fn new(api_id: i64, api_hash: &str, test_dc: bool) -> Result<Self, ConfigError> {
        let api_id = i32::try_from(api_id)
            .ok()
            .filter(|id| *id > 0)
            .ok_or(ConfigError::ApiId)?;
        let api_hash = api_hash.trim();
        if api_hash.len() != 32 || !api_hash.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ConfigError::ApiHash);
        }
        Ok(Self {
            api_id,
            api_hash: api_hash.to_ascii_lowercase(),
            test_dc,
        })
    }

    pub fn api_id(&self) -> i32 {
        self.api_id
    }

    /// The application's hash, for `auth.sendCode` only.
    pub fn api_hash(&self) -> &str {
        &self.api_hash
    }

    pub fn test_dc(&self) -> bool {
        self.test_dc
    }
}

impl fmt::Debug for MtprotoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MtprotoConfig")
            .field("api_id", &self.api_id)
            .field("api_hash", &"<redacted>")
            .field("test_dc", &self.test_dc)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "0123456789abcdef0123456789ABCDEF";

    #[test]
    fn settings_are_checked_and_the_hash_is_never_printed() {
        let config = MtprotoConfig::new(12345, HASH, true).unwrap();
        assert_eq!(config.api_id(), 12345);
        assert_eq!(config.api_hash(), HASH.to_ascii_lowercase());
        assert!(config.test_dc());
        let printed = format!("{config:?}");
        assert!(!printed.contains("0123456789"), "{printed}");
        assert_eq!(MtprotoConfig::new(0, HASH, false), Err(ConfigError::ApiId));
        assert_eq!(MtprotoConfig::new(-4, HASH, false), Err(ConfigError::ApiId));
        assert_eq!(MtprotoConfig::new(1 << 40, HASH, false), Err(ConfigError::ApiId));
        assert_eq!(MtprotoConfig::new(1, "abc", false), Err(ConfigError::ApiHash));
        assert_eq!(MtprotoConfig::new(1, &"g".repeat(32), false), Err(ConfigError::ApiHash));
    }
}
