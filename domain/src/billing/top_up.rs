//! Top-ups: a payment a workspace starts with a provider, settled by the provider's signed notifications.
//!
//! Rule: a top-up's status only moves forward ([`TopUpStatus::rank`]). A notification that would move it
//! back, or repeat where it is, changes nothing, so late, duplicated and reordered deliveries are harmless.
//! Money is credited only for payment evidence, and only the difference between what the new status says
//! was paid and what was already credited.

use chrono::{DateTime, Utc};

use super::money::Money;
use crate::ids::{TopUpId, UserId, WorkspaceId};

/// A payment provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Stripe,
    NowPayments,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Stripe, Provider::NowPayments];

    /// The stored key: `stripe`, `nowpayments`.
    pub fn key(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::NowPayments => "nowpayments",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Stripe => "Stripe",
            Provider::NowPayments => "NOWPayments",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// Where a top-up stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopUpStatus {
    /// Created; the customer has not paid (or the payment is confirming).
    Pending,
    /// The checkout expired unpaid.
    Expired,
    /// The provider reports the payment failed.
    Failed,
    /// Less than the amount arrived (crypto); what arrived is credited.
    PartiallyPaid,
    /// Paid in full and credited.
    Paid,
}

impl TopUpStatus {
    pub const ALL: [TopUpStatus; 5] = [
        TopUpStatus::Pending,
        TopUpStatus::Expired,
        TopUpStatus::Failed,
        TopUpStatus::PartiallyPaid,
        TopUpStatus::Paid,
    ];

    /// The order statuses move in. Evidence of payment outranks expiry and failure: money that arrived after
    /// a checkout expired is still credited.
    pub fn rank(self) -> u8 {
        match self {
            TopUpStatus::Pending => 0,
            TopUpStatus::Expired | TopUpStatus::Failed => 1,
            TopUpStatus::PartiallyPaid => 2,
            TopUpStatus::Paid => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TopUpStatus::Pending => "PENDING",
            TopUpStatus::Expired => "EXPIRED",
            TopUpStatus::Failed => "FAILED",
            TopUpStatus::PartiallyPaid => "PARTIALLY_PAID",
            TopUpStatus::Paid => "PAID",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A top-up as stored. Only provider ids, statuses and amounts are kept, never payment credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopUpRecord {
    pub id: TopUpId,
    pub workspace_id: WorkspaceId,
    pub provider: Provider,
    pub amount: Money,
    pub status: TopUpStatus,
    /// What has been credited to the wallet so far (minor units of `amount`'s currency).
    pub credited_minor: i64,
    /// What the provider has refunded of it so far (minor units of `amount`'s currency).
    pub refunded_minor: i64,
    /// The provider's id of the checkout (Stripe Checkout Session, NOWPayments invoice).
    pub provider_ref: Option<String>,
    pub checkout_url: Option<String>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a provider's notification says about a top-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// Nothing final yet (waiting, confirming).
    Pending,
    Expired,
    Failed,
    /// Part of the amount arrived: `paid`, in the top-up's currency.
    PartiallyPaid {
        paid: Money,
    },
    /// The payment completed for `paid`.
    Paid {
        paid: Money,
    },
}

impl PaymentOutcome {
    pub fn status(&self) -> TopUpStatus {
        match self {
            PaymentOutcome::Pending => TopUpStatus::Pending,
            PaymentOutcome::Expired => TopUpStatus::Expired,
            PaymentOutcome::Failed => TopUpStatus::Failed,
            PaymentOutcome::PartiallyPaid { .. } => TopUpStatus::PartiallyPaid,
            PaymentOutcome::Paid { .. } => TopUpStatus::Paid,
        }
    }

    /// How much the outcome says has arrived in total.
    pub fn paid(&self) -> Option<Money> {
        match self {
            PaymentOutcome::PartiallyPaid { paid } | PaymentOutcome::Paid { paid } => Some(*paid),
            _ => None,
        }
    }
}

/// A verified notification from a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentEvent {
    pub provider: Provider,
    /// The provider's id of this notification (for the audit trail).
    pub event_id: String,
    pub top_up_id: TopUpId,
    pub outcome: PaymentOutcome,
    /// The provider's id of the checkout the notification is about (Stripe Checkout Session, NOWPayments
    /// invoice), when it names one: it must be the top-up's own ([`super::matching`]).
    pub checkout_ref: Option<String>,
    /// What the checkout was for (its price), when the notification says: it must be the top-up's amount.
    pub price: Option<Money>,
    /// The provider's id of the payment itself (a Stripe PaymentIntent), which later refunds and disputes
    /// name; recorded when the payment is credited.
    pub payment_ref: Option<String>,
}

/// What a provider's reversal notification says happened to a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReversalKind {
    /// The provider refunded `total` of the payment so far (a running total: only the difference is new).
    Refunded { total: Money },
    /// The customer disputed `amount`: recorded, nothing moves until the dispute closes.
    DisputeOpened { dispute: String, amount: Money },
    /// The dispute closed in the customer's favour: `amount` goes back to them.
    DisputeLost { dispute: String, amount: Money },
    /// The dispute closed in ours: nothing moves.
    DisputeWon { dispute: String },
}

/// A verified notification that money of a completed payment went back to the customer, or may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReversalEvent {
    pub provider: Provider,
    pub event_id: String,
    /// The provider's id of the payment (a Stripe PaymentIntent).
    pub payment_ref: String,
    pub kind: ReversalKind,
}

/// Any verified provider notification billing acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderNotice {
    Payment(PaymentEvent),
    Reversal(ReversalEvent),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_evidence_outranks_expiry_and_nothing_outranks_paid() {
        assert!(TopUpStatus::Paid.rank() > TopUpStatus::PartiallyPaid.rank());
        assert!(TopUpStatus::PartiallyPaid.rank() > TopUpStatus::Expired.rank());
        assert!(TopUpStatus::Expired.rank() > TopUpStatus::Pending.rank());
        assert_eq!(TopUpStatus::Expired.rank(), TopUpStatus::Failed.rank());
        for status in TopUpStatus::ALL {
            assert_eq!(TopUpStatus::parse(status.as_str()), Some(status));
        }
    }
}
