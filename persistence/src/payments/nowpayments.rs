//! NOWPayments: invoices through its HTTP API, and `x-nowpayments-sig` verification of IPN callbacks.
//!
//! IPN rule (NOWPayments' scheme): the signature is hex HMAC-SHA512, under the IPN secret, of the JSON body
//! re-serialized with every object's keys sorted. Amounts arrive as decimal numbers in the price currency;
//! they are turned into minor units from their decimal text (no floating point), rounding half up.

use async_trait::async_trait;
use hmac::{Hmac, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value, json};
use sha2::Sha512;
use tgos_domain::billing::money::{Currency, Money};
use tgos_domain::billing::ports::{Checkout, CheckoutError, CheckoutRequest, PaymentGateway};
use tgos_domain::billing::top_up::{PaymentEvent, PaymentOutcome, Provider};
use tgos_domain::error::InternalError;
use tgos_domain::ids::TopUpId;

use super::WebhookError;

/// How NOWPayments is reached.
#[derive(Debug, Clone)]
pub struct NowPaymentsSettings {
    pub api_key: SecretString,
    /// `https://api.nowpayments.io` in production; a local fake in tests.
    pub api_base: String,
    /// Where NOWPayments posts IPN callbacks (this server's `/webhooks/nowpayments`).
    pub ipn_callback_url: String,
    pub success_url: String,
    pub cancel_url: String,
}

/// Creates invoices with the top-up id as `order_id`.
#[derive(Debug)]
pub struct NowPaymentsGateway {
    http: reqwest::Client,
    settings: NowPaymentsSettings,
}

fn provider_error(message: impl std::fmt::Display) -> CheckoutError {
    CheckoutError::Provider(InternalError::new(format!("NOWPayments: {message}")))
}

impl NowPaymentsGateway {
    pub fn new(settings: NowPaymentsSettings) -> Result<Self, String> {
        super::install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .map_err(|error| format!("the NOWPayments client cannot be built: {error}"))?;
        Ok(Self { http, settings })
    }
}

/// `1234` minor units of a 2-digit currency as the decimal `12.34`.
fn decimal(amount: Money) -> String {
    Money::new(amount.minor(), amount.currency())
        .to_string()
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[async_trait]
impl PaymentGateway for NowPaymentsGateway {
    fn provider(&self) -> Provider {
        Provider::NowPayments
    }

    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout, CheckoutError> {
        let price: Value = serde_json::from_str(&decimal(request.amount)).map_err(provider_error)?;
        let body = json!({
            "price_amount": price,
            "price_currency": request.amount.currency().code().to_ascii_lowercase(),
            "order_id": request.top_up_id.to_string(),
            "order_description": request.description,
            "ipn_callback_url": self.settings.ipn_callback_url,
            "success_url": self.settings.success_url,
            "cancel_url": self.settings.cancel_url,
        });
        let url = format!("{}/v1/invoice", self.settings.api_base.trim_end_matches('/'));
        let response = self
            .http
            .post(url)
            .header("x-api-key", self.settings.api_key.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(provider_error)?;
        let status = response.status();
        if !status.is_success() {
            return Err(provider_error(format!("invoice refused with HTTP {status}")));
        }
        let invoice: Value = response.json().await.map_err(provider_error)?;
        let id = match invoice.get("id") {
            Some(Value::String(id)) => id.clone(),
            Some(Value::Number(id)) => id.to_string(),
            _ => return Err(provider_error("invoice without an id")),
        };
        let url = invoice
            .get("invoice_url")
            .and_then(Value::as_str)
            .ok_or_else(|| provider_error("invoice without a URL"))?;
        Ok(Checkout {
            provider_ref: id,
            url: url.to_owned(),
        })
    }
}

/// `value` with every object's keys in sorted order, as NOWPayments signs it.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for key in keys {
                out.insert(key.clone(), sorted(&map[key]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Minor units of a decimal amount (`"12.345"` with 2 digits is 1235), from its text; `None` when it is not a
/// plain non-negative decimal.
pub fn minor_units(text: &str, exponent: u32) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = exponent as usize;
    let mut kept: String = fraction.chars().take(digits).collect();
    while kept.len() < digits {
        kept.push('0');
    }
    let round_up = fraction.chars().nth(digits).is_some_and(|c| c >= '5');
    let value = format!("{whole}{kept}").parse::<i64>().ok()?;
    if round_up { value.checked_add(1) } else { Some(value) }
}

/// Verifies IPN callbacks with the IPN secret.
#[derive(Debug, Clone)]
pub struct NowPaymentsIpn {
    secret: SecretString,
}

impl NowPaymentsIpn {
    pub fn new(secret: SecretString) -> Self {
        Self { secret }
    }

    fn mac(&self) -> Hmac<Sha512> {
        // HMAC takes keys of any length.
        Hmac::<Sha512>::new_from_slice(self.secret.expose_secret().as_bytes()).unwrap_or_else(|_| unreachable!())
    }

    /// The signature NOWPayments would send for `body` (for tests and the fake server).
    pub fn sign(&self, body: &Value) -> String {
        let mut mac = self.mac();
        mac.update(sorted(body).to_string().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Verifies and reads a callback. `Ok(None)` for statuses that are acknowledged and ignored (refunds,
    /// which staff handle).
    pub fn parse(&self, signature: &str, body: &[u8]) -> Result<Option<PaymentEvent>, WebhookError> {
        let parsed: Value =
            serde_json::from_slice(body).map_err(|_| WebhookError::BadSignature("the body is not JSON"))?;
        let expected = hex::decode(signature.trim()).map_err(|_| WebhookError::BadSignature("not hex"))?;
        let mut mac = self.mac();
        mac.update(sorted(&parsed).to_string().as_bytes());
        mac.verify_slice(&expected)
            .map_err(|_| WebhookError::BadSignature("no signature matches"))?;
        read_event(&parsed)
    }
}

fn read_event(ipn: &Value) -> Result<Option<PaymentEvent>, WebhookError> {
    let malformed = |what: &str| WebhookError::Malformed(what.to_owned());
    let text = |key: &str| ipn.get(key).and_then(Value::as_str);
    let number = |key: &str| ipn.get(key).filter(|v| v.is_number()).map(Value::to_string);
    let payment_id = match ipn.get("payment_id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => return Err(malformed("no payment_id")),
    };
    let status = text("payment_status").ok_or_else(|| malformed("no payment_status"))?;
    let top_up_id = text("order_id")
        .and_then(|id| id.parse::<TopUpId>().ok())
        .ok_or_else(|| malformed("no top-up id in order_id"))?;
    let currency = text("price_currency")
        .and_then(Currency::parse)
        .ok_or_else(|| malformed("unknown price_currency"))?;
    let price = number("price_amount")
        .and_then(|n| minor_units(&n, currency.exponent()))
        .ok_or_else(|| malformed("no price_amount"))?;
    let outcome = match status {
        "waiting" | "confirming" | "confirmed" | "sending" => PaymentOutcome::Pending,
        "finished" => PaymentOutcome::Paid {
            paid: Money::new(price, currency),
        },
        "partially_paid" => {
            let paid = match number("actually_paid_at_fiat").and_then(|n| minor_units(&n, currency.exponent())) {
                Some(fiat) => fiat,
                None => proportional(ipn, price).ok_or_else(|| malformed("no paid amount"))?,
            };
            PaymentOutcome::PartiallyPaid {
                paid: Money::new(paid.min(price), currency),
            }
        }
        "failed" => PaymentOutcome::Failed,
        "expired" => PaymentOutcome::Expired,
        _ => return Ok(None),
    };
    let invoice = match ipn.get("invoice_id") {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    Ok(Some(PaymentEvent {
        provider: Provider::NowPayments,
        event_id: format!("{payment_id}:{status}"),
        top_up_id,
        outcome,
        checkout_ref: invoice,
        price: Some(Money::new(price, currency)),
        payment_ref: None,
    }))
}

/// The price share of what arrived: `price × actually_paid / pay_amount`, in integer arithmetic on the
/// amounts scaled to 10⁻⁸ (crypto precision), rounded down.
fn proportional(ipn: &Value, price_minor: i64) -> Option<i64> {
    let scaled = |key: &str| {
        ipn.get(key)
            .filter(|v| v.is_number())
            .and_then(|v| minor_units(&v.to_string(), 8))
    };
    let paid = i128::from(scaled("actually_paid")?);
    let due = i128::from(scaled("pay_amount")?);
    if due <= 0 {
        return None;
    }
    i64::try_from(i128::from(price_minor) * paid / due).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipn(status: &str) -> Value {
        json!({
            "payment_id": 5077125051_u64,
            "payment_status": status,
            "order_id": TopUpId::generate().to_string(),
            "price_amount": 25.5,
            "price_currency": "usd",
            "pay_amount": 0.001,
            "actually_paid": 0.0004,
            "pay_currency": "btc",
        })
    }

    #[test]
    fn the_signature_covers_the_body_with_sorted_keys() {
        let hook = NowPaymentsIpn::new(SecretString::from("ipn-secret"));
        let body = ipn("finished");
        let signature = hook.sign(&body);
        let event = hook.parse(&signature, body.to_string().as_bytes()).unwrap().unwrap();
        assert_eq!(
            event.outcome,
            PaymentOutcome::Paid {
                paid: Money::new(2550, Currency::USD)
            }
        );
        let mut tampered = body.clone();
        tampered["price_amount"] = json!(2550);
        assert!(hook.parse(&signature, tampered.to_string().as_bytes()).is_err());
        let wrong = NowPaymentsIpn::new(SecretString::from("other"));
        assert!(wrong.parse(&signature, body.to_string().as_bytes()).is_err());
        assert_eq!(
            sorted(&json!({"b": 1, "a": {"d": 2, "c": 3}})).to_string(),
            r#"{"a":{"c":3,"d":2},"b":1}"#
        );
    }

    #[test]
    fn partial_payments_credit_what_arrived() {
        let event = read_event(&ipn("partially_paid")).unwrap().unwrap();
        assert_eq!(
            event.outcome,
            PaymentOutcome::PartiallyPaid {
                paid: Money::new(1020, Currency::USD)
            }
        );
        let mut with_fiat = ipn("partially_paid");
        with_fiat["actually_paid_at_fiat"] = json!(10.004);
        let event = read_event(&with_fiat).unwrap().unwrap();
        assert_eq!(
            event.outcome,
            PaymentOutcome::PartiallyPaid {
                paid: Money::new(1000, Currency::USD)
            }
        );
        assert_eq!(read_event(&ipn("refunded")).unwrap(), None);
        assert_eq!(
            read_event(&ipn("waiting")).unwrap().unwrap().outcome,
            PaymentOutcome::Pending
        );
    }

    #[test]
    fn decimal_text_becomes_minor_units_without_floating_point() {
        assert_eq!(minor_units("12.34", 2), Some(1234));
        assert_eq!(minor_units("12", 2), Some(1200));
        assert_eq!(minor_units("12.345", 2), Some(1235));
        assert_eq!(minor_units("0.1", 2), Some(10));
        assert_eq!(minor_units("-1", 2), None);
        assert_eq!(minor_units("1e3", 2), None);
        assert_eq!(decimal(Money::new(1234, Currency::USD)), "12.34");
    }
}
