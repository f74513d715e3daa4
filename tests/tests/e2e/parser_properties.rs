//! Property tests of the parsers that take outside input without a server in between: connection cursors and
//! the payment providers' signed notifications. Whatever arrives, they answer or refuse; they never panic,
//! and nothing unsigned is ever read.

use chrono::Utc;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::Value;
use tgos_api::graphql::paging::{decode_cursor, encode_cursor, page_request};
use tgos_domain::ids::{AccountId, DialogId, MessageId};
use tgos_persistence::payments::WebhookError;
use tgos_persistence::payments::nowpayments::{NowPaymentsIpn, minor_units};
use tgos_persistence::payments::stripe::StripeWebhook;

/// JSON of any shape, with the keys the providers' notifications use, so the readers' paths are exercised.
fn json() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "id",
        "type",
        "data",
        "object",
        "payment_status",
        "amount_total",
        "currency",
        "metadata",
        "top_up_id",
        "client_reference_id",
        "payment_id",
        "order_id",
        "price_amount",
        "price_currency",
        "actually_paid",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![
            "checkout.session.completed",
            "checkout.session.expired",
            "paid",
            "finished",
            "usd",
            "USD",
            "0194a3b4-7c1d-7000-8000-000000000000",
            "12.345",
            "",
        ])
        .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(key.clone(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_cursor_names_its_position_in_its_own_list_only(position in any::<i64>(), raw in any::<u128>()) {
        let audit = encode_cursor(&position);
        prop_assert_eq!(decode_cursor::<i64>(&audit), Some(position));
        prop_assert!(decode_cursor::<DialogId>(&audit).is_none());
        let dialog = DialogId::from_uuid(uuid::Uuid::from_u128(raw));
        let cursor = encode_cursor(&dialog);
        prop_assert_eq!(decode_cursor::<DialogId>(&cursor), Some(dialog));
        prop_assert!(decode_cursor::<MessageId>(&cursor).is_none());
        prop_assert!(decode_cursor::<AccountId>(&cursor).is_none());
        prop_assert!(decode_cursor::<i64>(&cursor).is_none());
    }

    #[test]
    fn any_text_as_after_is_a_page_request_or_bad_input(text in any::<String>(), first in any::<Option<i32>>()) {
        match page_request::<DialogId>(first, Some(&text)) {
            Ok(request) => {
                prop_assert!(request.limit() <= 100);
                prop_assert!(decode_cursor::<DialogId>(&text).is_some());
            }
            Err(_) => prop_assert!(
                first.is_some_and(|f| !(0..=100).contains(&f)) || decode_cursor::<DialogId>(&text).is_none()
            ),
        }
    }

    #[test]
    fn an_unsigned_stripe_notification_is_refused(header in ".{0,120}", body in vec(any::<u8>(), 0..400)) {
        let webhook = StripeWebhook::new("whsec_property".to_owned());
        let read = webhook.parse(&header, &body, Utc::now());
        prop_assert!(matches!(read, Err(WebhookError::BadSignature(_))), "{read:?}");
    }

    #[test]
    fn a_signed_stripe_notification_of_any_shape_is_read_or_refused(body in json()) {
        let webhook = StripeWebhook::new("whsec_property".to_owned());
        let bytes = body.to_string().into_bytes();
        let now = Utc::now();
        let header = webhook.sign(&bytes, now.timestamp());
        // Reading may accept, ignore or refuse as malformed; the signature itself is never the complaint.
        let read = webhook.parse(&header, &bytes, now);
        prop_assert!(!matches!(read, Err(WebhookError::BadSignature(_))), "{read:?}");
    }

    #[test]
    fn an_unsigned_nowpayments_callback_is_refused(signature in ".{0,140}", body in json()) {
        let ipn = NowPaymentsIpn::new("ipn-property".to_owned().into());
        let read = ipn.parse(&signature, body.to_string().as_bytes());
        prop_assert!(matches!(read, Err(WebhookError::BadSignature(_))), "{read:?}");
    }

    #[test]
    fn a_signed_nowpayments_callback_of_any_shape_is_read_or_refused(body in json()) {
        let ipn = NowPaymentsIpn::new("ipn-property".to_owned().into());
        let signature = ipn.sign(&body);
        let read = ipn.parse(&signature, body.to_string().as_bytes());
        prop_assert!(!matches!(read, Err(WebhookError::BadSignature(_))), "{read:?}");
    }

    #[test]
    fn minor_units_round_half_up_and_refuse_anything_else(
        whole in 0_i64..1_000_000_000,
        fraction in "[0-9]{0,6}",
        junk in ".{0,12}",
    ) {
        let text = if fraction.is_empty() { whole.to_string() } else { format!("{whole}.{fraction}") };
        let digits: Vec<i64> = fraction.bytes().map(|b| i64::from(b - b'0')).collect();
        let cents = digits.first().copied().unwrap_or(0) * 10 + digits.get(1).copied().unwrap_or(0);
        let up = i64::from(digits.get(2).is_some_and(|d| *d >= 5));
        prop_assert_eq!(minor_units(&text, 2), Some(whole * 100 + cents + up));
        // Text that is not a plain non-negative decimal has no amount.
        if !junk.is_empty() && !junk.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            prop_assert_eq!(minor_units(&format!("{text}{junk}"), 2), None);
        }
    }
}
