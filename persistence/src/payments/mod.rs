//! Payment provider adapters: starting checkouts (the domain's `PaymentGateway` port) and reading the
//! providers' signed notifications into domain [`PaymentEvent`]s. Provider protocol stays here; the domain
//! sees only top-up ids, outcomes and amounts.
//!
//! Rules:
//! - A notification is trusted only after its signature verifies in constant time; a bad one changes
//!   nothing and is answered 400 by the web edge.
//! - Base URLs are configuration, so tests point the real clients at local fakes that speak the protocol.
//!
//! [`PaymentEvent`]: tgos_domain::billing::PaymentEvent

pub mod nowpayments;
pub mod stripe;

/// Why a notification was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    /// Missing, malformed, stale or wrong signature: answered 400, nothing changes.
    #[error("signature verification failed: {0}")]
    BadSignature(&'static str),
    /// Signed correctly but not understood (missing fields): answered 400.
    #[error("malformed notification: {0}")]
    Malformed(String),
}

/// Installs ring as the process's TLS crypto provider (the HTTP clients use rustls without picking one).
/// Idempotent.
pub fn install_tls_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}
