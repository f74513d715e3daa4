//! Matching a provider's notification to the top-up it names, and what a wallet short of money is told.
//!
//! Rules:
//! - A notification names its top-up by an id the customer's side can influence (Stripe's
//!   `client_reference_id` and metadata travel with payment links and sessions anyone on the account can
//!   create), so naming is not enough. It credits only when the checkout it is about is the one stored on the
//!   top-up (Stripe always names its Checkout Session, so a Stripe notification without one does not match;
//!   NOWPayments names its invoice when there is one), and, when it pays, when the price of that checkout is
//!   the top-up's amount in the top-up's currency.
//! - A mismatch credits nothing and changes nothing; it is recorded for staff ([`PaymentDiscrepancy`]).
//! - A wallet below zero is in debt (a refund or dispute after the money was spent): nothing is charged to it
//!   until a top-up clears the debt, and the refusal says so.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::money::Money;
use super::top_up::{PaymentEvent, Provider, TopUpRecord};
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::{DiscrepancyId, TopUpId, WorkspaceId};
use crate::store::Store;

/// Why a notification does not match its top-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The notification is about another checkout than the one the top-up started.
    Checkout {
        expected: Option<String>,
        received: Option<String>,
    },
    /// The checkout was for another amount or currency than the top-up's.
    Amount { expected: Money, received: Money },
    /// A refund or dispute names a payment no top-up was credited for.
    UnknownPayment { payment_ref: String },
    /// A refund or dispute is in another currency than its top-up, or refunds more than was credited.
    Reversal { expected: Money, received: Money },
}

impl Mismatch {
    /// The stored reason code.
    pub fn reason(&self) -> &'static str {
        match self {
            Mismatch::Checkout { .. } => "CHECKOUT_MISMATCH",
            Mismatch::Amount { .. } => "AMOUNT_MISMATCH",
            Mismatch::UnknownPayment { .. } => "UNKNOWN_PAYMENT",
            Mismatch::Reversal { .. } => "REVERSAL_MISMATCH",
        }
    }

    /// What was expected against what arrived, for staff: provider ids and amounts only.
    pub fn details(&self) -> Value {
        let money = |m: &Money| json!({ "amountMinor": m.minor(), "currency": m.currency().code() });
        match self {
            Mismatch::Checkout { expected, received } => json!({ "expected": expected, "received": received }),
            Mismatch::Amount { expected, received } | Mismatch::Reversal { expected, received } => {
                json!({ "expected": money(expected), "received": money(received) })
            }
            Mismatch::UnknownPayment { payment_ref } => json!({ "payment": payment_ref }),
        }
    }
}

/// Whether `event` may act on `top_up` (see the module rules).
pub fn check(top_up: &TopUpRecord, event: &PaymentEvent) -> Result<(), Mismatch> {
    let named_required = event.provider == Provider::Stripe;
    let same_checkout = match (&event.checkout_ref, &top_up.provider_ref) {
        (Some(received), Some(stored)) => received == stored,
        (Some(_), None) => false,
        (None, _) => !named_required,
    };
    if !same_checkout {
        return Err(Mismatch::Checkout {
            expected: top_up.provider_ref.clone(),
            received: event.checkout_ref.clone(),
        });
    }
    if event.outcome.paid().is_some() {
        let received = event.price.or(event.outcome.paid()).unwrap_or(top_up.amount);
        if received != top_up.amount {
            return Err(Mismatch::Amount {
                expected: top_up.amount,
                received,
            });
        }
    }
    Ok(())
}

/// A notification that did not match, as kept for staff.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentDiscrepancy {
    pub id: DiscrepancyId,
    pub provider: Provider,
    /// The provider's id of the notification: one record per notification, however often it is retried.
    pub event_id: String,
    pub top_up_id: Option<TopUpId>,
    pub workspace_id: Option<WorkspaceId>,
    pub reason: String,
    pub details: Value,
    pub created_at: DateTime<Utc>,
}

/// The newest `limit` discrepancies (at most 500), for a staff member only.
pub async fn discrepancies_for_staff(
    store: &dyn Store,
    principal: &Principal,
    limit: u64,
) -> DomainResult<Vec<PaymentDiscrepancy>> {
    principal.require_staff()?;
    Ok(store.list_discrepancies(limit.clamp(1, 500)).await?)
}

/// The refusal of a charge of `cost` for `what` (e.g. "this rental") against a wallet holding `balance`.
pub fn short_of_funds(balance: Money, cost: Money, what: &str) -> DomainError {
    if balance.minor() < 0 {
        DomainError::InsufficientFunds(format!(
            "the wallet is in debt ({balance}) after a refund or dispute; top up to clear the debt before \
             paying for {what}"
        ))
    } else {
        DomainError::InsufficientFunds(format!(
            "the wallet holds {balance}, less than the {cost} {what} costs; top up first"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::money::Currency;
    use crate::billing::top_up::{PaymentOutcome, TopUpStatus};
    use crate::ids::UserId;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::USD)
    }

    fn top_up(provider: Provider) -> TopUpRecord {
        TopUpRecord {
            id: TopUpId::generate(),
            workspace_id: WorkspaceId::generate(),
            provider,
            amount: usd(1250),
            status: TopUpStatus::Pending,
            credited_minor: 0,
            refunded_minor: 0,
            provider_ref: Some("cs_1".to_owned()),
            checkout_url: None,
            created_by: UserId::generate(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn paid(provider: Provider, checkout: Option<&str>, price: Money) -> PaymentEvent {
        PaymentEvent {
            provider,
            event_id: "evt".to_owned(),
            top_up_id: TopUpId::generate(),
            outcome: PaymentOutcome::Paid { paid: price },
            checkout_ref: checkout.map(str::to_owned),
            price: Some(price),
            payment_ref: None,
        }
    }

    #[test]
    fn only_the_stored_checkout_at_the_stored_amount_matches() {
        let eur = Money::new(1250, Currency::parse("EUR").unwrap());
        let cases = [
            (Provider::Stripe, Some("cs_1"), usd(1250), None),
            (Provider::Stripe, Some("cs_2"), usd(1250), Some("CHECKOUT_MISMATCH")),
            (Provider::Stripe, None, usd(1250), Some("CHECKOUT_MISMATCH")),
            (Provider::Stripe, Some("cs_1"), usd(1), Some("AMOUNT_MISMATCH")),
            (Provider::Stripe, Some("cs_1"), eur, Some("AMOUNT_MISMATCH")),
            (Provider::NowPayments, Some("cs_1"), usd(1250), None),
            (Provider::NowPayments, None, usd(1250), None),
            (
                Provider::NowPayments,
                Some("4001"),
                usd(1250),
                Some("CHECKOUT_MISMATCH"),
            ),
            (Provider::NowPayments, None, usd(99_999), Some("AMOUNT_MISMATCH")),
        ];
        for (provider, checkout, price, expected) in cases {
            let outcome = check(&top_up(provider), &paid(provider, checkout, price));
            assert_eq!(
                outcome.err().map(|m| m.reason()),
                expected,
                "{provider:?} {checkout:?} {price}"
            );
        }
    }

    #[test]
    fn a_top_up_without_a_stored_checkout_matches_no_named_one() {
        let mut record = top_up(Provider::Stripe);
        record.provider_ref = None;
        assert!(check(&record, &paid(Provider::Stripe, Some("cs_1"), usd(1250))).is_err());
    }

    #[test]
    fn a_non_paying_outcome_is_matched_by_checkout_alone() {
        let mut expired = paid(Provider::Stripe, Some("cs_1"), usd(1));
        expired.outcome = PaymentOutcome::Expired;
        assert_eq!(check(&top_up(Provider::Stripe), &expired), Ok(()));
        expired.checkout_ref = Some("cs_9".to_owned());
        assert!(check(&top_up(Provider::Stripe), &expired).is_err());
    }

    #[test]
    fn a_wallet_in_debt_is_told_so() {
        let debt = short_of_funds(usd(-300), usd(700), "this rental").to_string();
        assert!(debt.contains("in debt"), "{debt}");
        let short = short_of_funds(usd(300), usd(700), "this rental").to_string();
        assert!(short.contains("less than"), "{short}");
    }
}
