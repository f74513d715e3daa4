//! Stripe: Checkout Sessions through async-stripe, and `Stripe-Signature` verification of webhooks.
//!
//! Webhook rule (Stripe's scheme): the header is `t=<unix time>,v1=<hex>[,v1=<hex>…]`; each `v1` is
//! HMAC-SHA256 of `"<t>.<raw body>"` under the endpoint secret. The event is accepted when any `v1` matches
//! (several are sent while secrets rotate) and `t` is within the tolerance of now (300 s), which bounds
//! replays; duplicates inside that window are absorbed by the ledger's unique references.

use std::collections::HashMap;
use std::str::FromStr as _;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;
use stripe_checkout::CheckoutSessionMode;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData, ProductData,
};
use tgos_domain::billing::money::{Currency, Money};
use tgos_domain::billing::ports::{Checkout, CheckoutError, CheckoutRequest, PaymentGateway};
use tgos_domain::billing::top_up::{
    PaymentEvent, PaymentOutcome, Provider, ProviderNotice, ReversalEvent, ReversalKind,
};
use tgos_domain::error::InternalError;
use tgos_domain::ids::TopUpId;

use super::WebhookError;

/// How Stripe is reached.
#[derive(Debug, Clone)]
pub struct StripeSettings {
    pub secret_key: String,
    /// `https://api.stripe.com/` in production; a local fake in tests.
    pub api_base: String,
    /// Where Stripe sends the customer after paying and after giving up.
    pub success_url: String,
    pub cancel_url: String,
}

/// Creates Checkout Sessions with the top-up id in `metadata.top_up_id` and `client_reference_id`.
#[derive(Debug)]
pub struct StripeGateway {
    client: stripe::Client,
    success_url: String,
    cancel_url: String,
}

impl StripeGateway {
    pub fn new(settings: &StripeSettings) -> Result<Self, String> {
        super::install_tls_provider();
        let client = stripe::ClientBuilder::new(settings.secret_key.clone())
            .url(settings.api_base.clone())
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .map_err(|error| format!("the Stripe client cannot be built: {error}"))?;
        Ok(Self {
            client,
            success_url: settings.success_url.clone(),
            cancel_url: settings.cancel_url.clone(),
        })
    }
}

fn stripe_currency(currency: Currency) -> Result<stripe_types::Currency, CheckoutError> {
    stripe_types::Currency::from_str(&currency.code().to_ascii_lowercase())
        .map_err(|_| CheckoutError::Provider(InternalError::new(format!("Stripe has no currency {currency}"))))
}

#[async_trait]
impl PaymentGateway for StripeGateway {
    fn provider(&self) -> Provider {
        Provider::Stripe
    }

    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout, CheckoutError> {
        let currency = stripe_currency(request.amount.currency())?;
        let mut price = CreateCheckoutSessionLineItemsPriceData::new(currency);
        price.unit_amount = Some(request.amount.minor());
        price.product_data = Some(ProductData::new(request.description.clone()));
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price_data = Some(price);
        item.quantity = Some(1);
        let metadata = HashMap::from([
            ("top_up_id".to_owned(), request.top_up_id.to_string()),
            ("workspace_id".to_owned(), request.workspace_id.to_string()),
        ]);
        let session = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .line_items(vec![item])
            .client_reference_id(request.top_up_id.to_string())
            .metadata(metadata)
            .success_url(self.success_url.clone())
            .cancel_url(self.cancel_url.clone())
            .send(&self.client)
            .await
            .map_err(|error| CheckoutError::Provider(InternalError::new(format!("Stripe: {error}"))))?;
        let url = session
            .url
            .ok_or_else(|| CheckoutError::Provider(InternalError::new("Stripe returned a session without a URL")))?;
        Ok(Checkout {
            provider_ref: session.id.to_string(),
            url,
        })
    }
}

/// Verifies Stripe webhooks with the endpoint secret.
#[derive(Debug, Clone)]
pub struct StripeWebhook {
    secret: SecretString,
    tolerance_secs: i64,
}

/// Stripe's default tolerance between the signed timestamp and now.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

impl StripeWebhook {
    pub fn new(secret: String) -> Self {
        Self {
            secret: SecretString::from(secret),
            tolerance_secs: DEFAULT_TOLERANCE_SECS,
        }
    }

    /// Checks the `Stripe-Signature` header against the raw body at `now`.
    pub fn verify(&self, header: &str, body: &[u8], now: DateTime<Utc>) -> Result<(), WebhookError> {
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
                Some(("v1", value)) => signatures.extend(hex::decode(value).ok()),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(WebhookError::BadSignature("no timestamp"))?;
        if signatures.is_empty() {
            return Err(WebhookError::BadSignature("no v1 signature"));
        }
        if (now.timestamp() - timestamp).abs() > self.tolerance_secs {
            return Err(WebhookError::BadSignature("timestamp outside the tolerance"));
        }
        let matches = signatures.iter().any(|signature| {
            let mut mac = self.mac();
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            mac.verify_slice(signature).is_ok()
        });
        if matches {
            Ok(())
        } else {
            Err(WebhookError::BadSignature("no signature matches"))
        }
    }

    /// The header Stripe would send for `body` at `timestamp` (for tests and the fake server).
    pub fn sign(&self, body: &[u8], timestamp: i64) -> String {
        let mut mac = self.mac();
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        Hmac::<Sha256>::new_from_slice(self.secret.expose_secret().as_bytes()).unwrap_or_else(|_| unreachable!())
    }

    /// Verifies and reads a notification. `Ok(None)` for event types that are acknowledged and ignored.
    pub fn parse(&self, header: &str, body: &[u8], now: DateTime<Utc>) -> Result<Option<ProviderNotice>, WebhookError> {
        self.verify(header, body, now)?;
        let event: serde_json::Value =
            serde_json::from_slice(body).map_err(|_| WebhookError::Malformed("the body is not JSON".to_owned()))?;
        read_event(&event)
    }
}

fn malformed(what: &str) -> WebhookError {
    WebhookError::Malformed(what.to_owned())
}

/// A verified event as a domain notice: Checkout Sessions pay top-ups; refunds and disputes of their payments
/// reverse them.
fn read_event(event: &serde_json::Value) -> Result<Option<ProviderNotice>, WebhookError> {
    let text = |pointer: &str| event.pointer(pointer).and_then(serde_json::Value::as_str);
    let event_id = text("/id").ok_or_else(|| malformed("no event id"))?;
    let kind = text("/type").unwrap_or_default();
    let object = "/data/object";
    // An amount of the event's object: `amount_total`, `amount_refunded` or `amount`, with its `currency`.
    let money = |field: &str| -> Result<Money, WebhookError> {
        let amount = event
            .pointer(&format!("{object}/{field}"))
            .and_then(serde_json::Value::as_i64)
            .filter(|amount| *amount >= 0)
            .ok_or_else(|| malformed(&format!("no {field}")))?;
        let currency = text(&format!("{object}/currency"))
            .and_then(Currency::parse)
            .ok_or_else(|| malformed("unknown currency"))?;
        Ok(Money::new(amount, currency))
    };
    let payment_intent = || {
        text(&format!("{object}/payment_intent"))
            .map(str::to_owned)
            .ok_or_else(|| malformed("no payment_intent"))
    };
    let reversal = |kind: ReversalKind| -> Result<Option<ProviderNotice>, WebhookError> {
        Ok(Some(ProviderNotice::Reversal(ReversalEvent {
            provider: Provider::Stripe,
            event_id: event_id.to_owned(),
            payment_ref: payment_intent()?,
            kind,
        })))
    };
    let dispute = || {
        text(&format!("{object}/id"))
            .map(str::to_owned)
            .ok_or_else(|| malformed("no dispute id"))
    };
    let (outcome, price) = match kind {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            if text(&format!("{object}/payment_status")) != Some("paid") {
                // Completed but not yet paid (delayed methods): the async event will follow.
                return Ok(None);
            }
            let paid = money("amount_total")?;
            (PaymentOutcome::Paid { paid }, Some(paid))
        }
        "checkout.session.expired" => (PaymentOutcome::Expired, None),
        "checkout.session.async_payment_failed" => (PaymentOutcome::Failed, None),
        "charge.refunded" => {
            return reversal(ReversalKind::Refunded {
                total: money("amount_refunded")?,
            });
        }
        "charge.dispute.created" => {
            return reversal(ReversalKind::DisputeOpened {
                dispute: dispute()?,
                amount: money("amount")?,
            });
        }
        "charge.dispute.closed" => {
            return match text(&format!("{object}/status")) {
                Some("lost") => reversal(ReversalKind::DisputeLost {
                    dispute: dispute()?,
                    amount: money("amount")?,
                }),
                Some("won") => reversal(ReversalKind::DisputeWon { dispute: dispute()? }),
                // Closed with a warning only (no money moved): nothing to do.
                _ => Ok(None),
            };
        }
        _ => return Ok(None),
    };
    let top_up_id = text(&format!("{object}/metadata/top_up_id"))
        .or_else(|| text(&format!("{object}/client_reference_id")))
        .and_then(|id| id.parse::<TopUpId>().ok())
        .ok_or_else(|| malformed("no top-up id in the session"))?;
    Ok(Some(ProviderNotice::Payment(PaymentEvent {
        provider: Provider::Stripe,
        event_id: event_id.to_owned(),
        top_up_id,
        outcome,
        checkout_ref: text(&format!("{object}/id")).map(str::to_owned),
        price,
        payment_ref: text(&format!("{object}/payment_intent")).map(str::to_owned),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn a_signed_body_verifies_and_any_change_does_not() {
        let hook = StripeWebhook::new("whsec_test".into());
        let body = br#"{"id":"evt_1"}"#;
        let header = hook.sign(body, 1_700_000_000);
        assert_eq!(hook.verify(&header, body, at(1_700_000_100)), Ok(()));
        assert!(hook.verify(&header, br#"{"id":"evt_2"}"#, at(1_700_000_100)).is_err());
        let other = StripeWebhook::new("whsec_other".into());
        assert!(other.verify(&header, body, at(1_700_000_100)).is_err());
        assert_eq!(
            hook.verify(&header, body, at(1_700_000_301)),
            Err(WebhookError::BadSignature("timestamp outside the tolerance"))
        );
        assert!(hook.verify("garbage", body, at(1_700_000_000)).is_err());
    }

    #[test]
    fn any_of_several_signatures_may_match_during_secret_rotation() {
        let old = StripeWebhook::new("whsec_old".into());
        let new = StripeWebhook::new("whsec_new".into());
        let body = b"{}";
        let by_new = new.sign(body, 1_700_000_000);
        let by_old = old.sign(body, 1_700_000_000);
        let old_v1 = by_old.split_once(",v1=").unwrap().1;
        let both = format!("{by_new},v1={old_v1}");
        assert!(old.verify(&both, body, at(1_700_000_000)).is_ok());
        assert!(new.verify(&both, body, at(1_700_000_000)).is_ok());
    }
}
