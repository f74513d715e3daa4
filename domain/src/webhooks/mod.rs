//! Outgoing webhooks: signed JSON deliveries to URLs that tenants choose (the automations' `webhook` action).
//!
//! Rules:
//! - **Signed.** Every delivery carries `X-Tgos-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
//!   ([`signature`]), the timestamp taken from the domain clock the caller passes in.
//! - **No server-side request forgery.** A tenant's URL must not reach the operator's own network: only
//!   `https`, no credentials in the URL, and the host must resolve only to public addresses; the connection
//!   then goes to the very addresses checked, so DNS cannot answer differently between the check and the
//!   connection ([`destination`], [`addresses`]). The operator may allow private destinations (a receiver on
//!   the same host or network); the cloud metadata endpoints stay refused even then.
//! - **No redirects, bounded time, nothing read back.** A 3xx is the receiver's refusal; each attempt has a
//!   time limit; the response body is not read.
//! - **Retries are the caller's.** [`WebhookSender::deliver`] makes one attempt and says whether another may
//!   succeed ([`DeliveryError::retryable`]); the caller retries with the same delivery id.
//!
//! The HTTP adapter is `tgos_persistence::webhooks::HttpWebhookSender`.

pub mod addresses;
pub mod delivery;
pub mod destination;
pub mod signature;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use delivery::{DeliveryError, DeliveryReceipt, WebhookDelivery, response_outcome};
pub use destination::{Destination, DestinationHost, DestinationPolicy};
pub use signature::{signature_header, verify_signature};

/// The headers every delivery carries.
pub mod headers {
    pub const CONTENT_TYPE: &str = "application/json";
    pub const USER_AGENT: &str = "TelegramOS-Webhooks/1";
    /// The delivery's event name.
    pub const EVENT: &str = "X-Tgos-Event";
    /// The delivery id, the same on every attempt.
    pub const DELIVERY: &str = "X-Tgos-Delivery";
    /// `t=<unix>,v1=<hex>`; see [`super::signature`].
    pub const SIGNATURE: &str = "X-Tgos-Signature";
}

/// Sends webhook deliveries over HTTP, refusing destinations the operator's policy does not allow.
#[async_trait]
pub trait WebhookSender: Send + Sync + std::fmt::Debug {
    /// Whether the URL is an allowed destination now (scheme, host resolving only to allowed addresses); the
    /// message says why not.
    async fn check_destination(&self, url: &str) -> Result<(), String>;

    /// One attempt to POST `delivery`, signed with `now` as its timestamp.
    async fn deliver(&self, delivery: &WebhookDelivery, now: DateTime<Utc>) -> Result<DeliveryReceipt, DeliveryError>;
}
