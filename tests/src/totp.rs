//! An authenticator app, for tests: codes from a base32 secret.

use anyhow::Context as _;
use totp_rs::{Algorithm, Secret, TOTP};

/// The code of the current time step shifted by `step_offset` steps.
pub fn code(secret_base32: &str, step_offset: i64) -> anyhow::Result<String> {
    let bytes = Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("bad secret: {e:?}"))?;
    let totp = TOTP::new_unchecked(Algorithm::SHA1, 6, 0, 30, bytes, None, "test".to_owned());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("clock before 1970")?
        .as_secs();
    let at = now.checked_add_signed(step_offset * 30).context("time out of range")?;
    Ok(totp.generate(at))
}

/// The raw secret bytes of a base32 secret.
pub fn decode(secret_base32: &str) -> anyhow::Result<Vec<u8>> {
    Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("bad secret: {e:?}"))
}
