//! TOTP (RFC 6238): SHA-1, 6 digits, 30-second steps, accepted one step either side of now.
//!
//! Rule: a code is accepted once. Verification here finds the time step a code belongs to; the use case then
//! advances the user's last accepted step atomically in storage, so a code (or an older one) can never be
//! used again, not even by two concurrent requests.

use secrecy::{ExposeSecret as _, SecretBox};
use subtle::ConstantTimeEq as _;
use totp_rs::{Algorithm, TOTP};

use crate::error::{DomainError, DomainResult};

pub const STEP_SECONDS: u64 = 30;
pub const DIGITS: usize = 6;
/// Steps accepted either side of the current one.
pub const SKEW: i64 = 1;
const SECRET_BYTES: usize = 20;

/// A TOTP shared secret. Zeroized on drop, never printed.
pub struct TotpSecret(SecretBox<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    pub fn generate() -> Self {
        use rand::RngCore as _;
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(SecretBox::new(Box::new(bytes)))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }

    pub fn bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// The base32 form people type into an authenticator.
    pub fn base32(&self) -> String {
        totp_rs::Secret::Raw(self.bytes().to_vec()).to_encoded().to_string()
    }

    fn totp(&self, issuer: &str, account: &str) -> DomainResult<TOTP> {
        TOTP::new(
            Algorithm::SHA1,
            DIGITS,
            0,
            STEP_SECONDS,
            self.bytes().to_vec(),
            Some(issuer.to_owned()),
            account.to_owned(),
        )
        .map_err(|e| DomainError::internal(e.to_string()))
    }

    /// The `otpauth://` URI an authenticator app scans.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> DomainResult<String> {
        Ok(self.totp(issuer, account)?.get_url())
    }

    /// The code of a given time step.
    pub fn code_at_step(&self, step: i64) -> DomainResult<String> {
        let seconds = u64::try_from(step).map_err(DomainError::internal)? * STEP_SECONDS;
        Ok(self.totp("tgos", "user")?.generate(seconds))
    }

    /// The time step within the accepted window whose code equals `code`, if any. Compared in constant time.
    pub fn matching_step(&self, code: &str, unix_seconds: i64) -> DomainResult<Option<i64>> {
        if !is_code_shaped(code) {
            return Ok(None);
        }
        let now_step = unix_seconds.div_euclid(STEP_SECONDS as i64);
        let mut found = None;
        for step in (now_step - SKEW)..=(now_step + SKEW) {
            if step < 0 {
                continue;
            }
            let expected = self.code_at_step(step)?;
            if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
                found = Some(step);
            }
        }
        Ok(found)
    }
}

/// Six ASCII digits.
pub fn is_code_shaped(code: &str) -> bool {
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// The enrollment QR code, as an SVG document.
pub fn qr_svg(uri: &str) -> DomainResult<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(DomainError::internal)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec())
    }

    #[test]
    fn rfc6238_sha1_vectors() -> DomainResult<()> {
        // RFC 6238 appendix B, truncated to 6 digits.
        let secret = rfc_secret();
        assert_eq!(secret.code_at_step(59 / 30)?, "287082");
        assert_eq!(secret.code_at_step(1_111_111_109 / 30)?, "081804");
        assert_eq!(secret.code_at_step(1_234_567_890 / 30)?, "005924");
        Ok(())
    }

    #[test]
    fn window_accepts_one_step_either_side_and_no_more() -> DomainResult<()> {
        let secret = rfc_secret();
        let now = 1_234_567_890_i64;
        let step = now / 30;
        for offset in -1..=1 {
            let code = secret.code_at_step(step + offset)?;
            assert_eq!(secret.matching_step(&code, now)?, Some(step + offset));
        }
        for offset in [-3, -2, 2, 3] {
            let code = secret.code_at_step(step + offset)?;
            assert_eq!(
                secret.matching_step(&code, now)?,
                None,
                "offset {offset} must be refused"
            );
        }
        Ok(())
    }

    #[test]
    fn malformed_codes_never_match() -> DomainResult<()> {
        let secret = rfc_secret();
        for code in ["", "12345", "1234567", "abcdef", "12 456"] {
            assert_eq!(secret.matching_step(code, 1_234_567_890)?, None);
        }
        Ok(())
    }

    #[test]
    fn uri_and_qr_carry_the_secret_and_issuer() -> DomainResult<()> {
        let secret = rfc_secret();
        let uri = secret.otpauth_uri("Telegram OS", "ada")?;
        assert!(uri.starts_with("otpauth://totp/Telegram%20OS:ada?"), "{uri}");
        assert!(uri.contains(&format!("secret={}", secret.base32())));
        assert!(qr_svg(&uri)?.contains("<svg"));
        assert!(!format!("{secret:?}").contains(&secret.base32()));
        Ok(())
    }
}
