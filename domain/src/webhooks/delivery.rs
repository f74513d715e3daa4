//! One webhook delivery and what became of it.
//!
//! Rules:
//! - **The secret stays secret.** [`WebhookDelivery::secret`] is zeroized when the delivery is dropped, and the
//!   delivery prints neither it nor the body (`Debug` shows `<redacted>` and the body's length; there is no
//!   `Display`).
//! - **Retry only what may succeed later** ([`response_outcome`]): a 2xx is delivered; network failures,
//!   timeouts, 5xx, 408 and 429 may be retried; any other answer (3xx included, since redirects are never
//!   followed) is the receiver's refusal; a destination the policy refuses is never retried.
//! - **One id per delivery, across attempts.** Every attempt of one delivery carries the same
//!   [`WebhookDelivery::delivery_id`] in `X-Tgos-Delivery`, so receivers can drop repeats.

use zeroize::Zeroize as _;

/// A JSON body to POST to a receiver, signed with its secret.
pub struct WebhookDelivery {
    pub url: String,
    /// The signing secret. Zeroized on drop; never printed.
    pub secret: String,
    /// What happened, e.g. `automation.execution`; sent as `X-Tgos-Event`.
    pub event: String,
    /// Stable across retries of this delivery; sent as `X-Tgos-Delivery`.
    pub delivery_id: String,
    /// The JSON body, sent as is and signed byte for byte.
    pub body: Vec<u8>,
}

impl Drop for WebhookDelivery {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl std::fmt::Debug for WebhookDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookDelivery")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("event", &self.event)
            .field("delivery_id", &self.delivery_id)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

/// The receiver accepted the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReceipt {
    /// The 2xx status it answered.
    pub status: u16,
}

/// Why a delivery did not arrive. Messages name the host at most, never the secret, body or query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The destination is not allowed (scheme, credentials, an address the policy refuses), or the delivery
    /// cannot be expressed as a request: never retried.
    #[error("webhook destination refused: {0}")]
    Blocked(String),
    /// The receiver answered with a status that will not change on retry (4xx but 408 and 429, 3xx).
    #[error("the webhook receiver refused the delivery with HTTP {status}")]
    Rejected { status: u16 },
    /// Network failure, timeout, 5xx, 408 or 429: worth another attempt later.
    #[error("webhook delivery failed, to be retried: {0}")]
    Retryable(String),
}

impl DeliveryError {
    /// Whether another attempt of the same delivery may succeed.
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
    }
}

/// What a receiver's HTTP status means for the delivery.
pub fn response_outcome(status: u16) -> Result<DeliveryReceipt, DeliveryError> {
    match status {
        200..=299 => Ok(DeliveryReceipt { status }),
        408 | 429 | 500..=599 => Err(DeliveryError::Retryable(format!("the receiver answered HTTP {status}"))),
        _ => Err(DeliveryError::Rejected { status }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_delivered_retryable_or_rejected() {
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(response_outcome(status), Ok(DeliveryReceipt { status }));
        }
        for status in [408, 429, 500, 502, 503, 504, 599] {
            let outcome = response_outcome(status).unwrap_err();
            assert!(outcome.retryable(), "{status}");
        }
        for status in [
            100, 301, 302, 303, 307, 308, 400, 401, 403, 404, 409, 410, 413, 422, 600,
        ] {
            assert_eq!(response_outcome(status), Err(DeliveryError::Rejected { status }));
            assert!(!response_outcome(status).unwrap_err().retryable(), "{status}");
        }
        assert!(!DeliveryError::Blocked("10.0.0.1 is a private address".into()).retryable());
    }

    #[test]
    fn a_delivery_prints_neither_its_secret_nor_its_body() {
        let delivery = WebhookDelivery {
            url: "https://hooks.example.com/in".into(),
            secret: "whsec_do_not_print".into(),
            event: "automation.execution".into(),
            delivery_id: "d-1".into(),
            body: br#"{"text":"private message"}"#.to_vec(),
        };
        let printed = format!("{delivery:?}");
        assert!(!printed.contains("whsec_do_not_print"), "{printed}");
        assert!(!printed.contains("private message"), "{printed}");
        assert!(printed.contains("<redacted>") && printed.contains("<26 bytes>") && printed.contains("d-1"));
    }
}
