//! The double-entry ledger: every movement of money is one transaction of postings that sum to zero.
//!
//! Rules:
//! - A [`LedgerTransaction`] can only be built balanced: its constructors take the amount once and write
//!   it to both sides, and [`LedgerTransaction::new`] refuses postings that do not sum to zero or mix
//!   currencies. Postings are never changed; a correction is a new, reversing transaction.
//! - A posting's amount is signed from the account's point of view: `+` raises a wallet's balance.
//! - Every transaction has a unique reference (the provider's event, or the caller's idempotency key). The
//!   same reference applied twice returns the first result; with other postings it is a conflict, which
//!   [`LedgerTransaction::fingerprint`] detects.
//! - Billing records are kept 7 years (policy §7): every row carries [`RetentionClass::Billing7Years`],
//!   which the retention sweep must skip; erasure pseudonymizes them instead.

use sha2::{Digest as _, Sha256};

use super::money::{Currency, Money};
use super::top_up::Provider;
use crate::ids::{LedgerTransactionId, WorkspaceId};

/// An account of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LedgerAccount {
    /// A workspace's prepaid wallet: never below zero, but for money a provider took back after it was spent
    /// (a debt: see [`LedgerTransaction::clawback`]).
    Wallet(WorkspaceId),
    /// Money a provider collected for us and has yet to pay out.
    ProviderClearing(Provider),
    /// What the platform earned from charges.
    PlatformRevenue,
    /// Money returned to customers.
    Refunds,
    /// Credit the platform gives away (the demo's starting credit, goodwill): no money came in for it.
    Promotions,
}

impl LedgerAccount {
    /// The stored key: `wallet:<id>`, `clearing:stripe`, `revenue`, `refunds`.
    pub fn key(&self) -> String {
        match self {
            LedgerAccount::Wallet(id) => format!("wallet:{id}"),
            LedgerAccount::ProviderClearing(provider) => format!("clearing:{}", provider.key()),
            LedgerAccount::PlatformRevenue => "revenue".to_owned(),
            LedgerAccount::Refunds => "refunds".to_owned(),
            LedgerAccount::Promotions => "promotions".to_owned(),
        }
    }

    /// The wallet's workspace; `None` for platform accounts.
    pub fn wallet_of(&self) -> Option<WorkspaceId> {
        match self {
            LedgerAccount::Wallet(id) => Some(*id),
            _ => None,
        }
    }
}

/// What a transaction did, as the wallet's entries show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    TopUp,
    Charge,
    Refund,
    Reversal,
    /// Credit given by the platform.
    Grant,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::TopUp => "TOP_UP",
            EntryKind::Charge => "CHARGE",
            EntryKind::Refund => "REFUND",
            EntryKind::Reversal => "REVERSAL",
            EntryKind::Grant => "GRANT",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            EntryKind::TopUp,
            EntryKind::Charge,
            EntryKind::Refund,
            EntryKind::Reversal,
            EntryKind::Grant,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// How long a row must be kept; the retention sweep reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionClass {
    /// Billing records: 7 years, pseudonymized on erasure, never deleted early (policy §7).
    Billing7Years,
}

impl RetentionClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionClass::Billing7Years => "BILLING_7Y",
        }
    }
}

/// One side of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting {
    pub account: LedgerAccount,
    /// Signed: `+` raises the account's balance.
    pub amount: Money,
}

/// Why a set of postings is not a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unbalanced {
    #[error("a transaction needs at least two postings")]
    TooFew,
    #[error("postings mix currencies")]
    MixedCurrencies,
    #[error("postings do not sum to zero")]
    NonZeroSum,
    #[error("a posting of zero moves nothing")]
    ZeroPosting,
}

/// A balanced, immutable movement of money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerTransaction {
    id: LedgerTransactionId,
    /// The workspace whose wallet the movement concerns (every transaction concerns exactly one).
    workspace: WorkspaceId,
    reference: String,
    kind: EntryKind,
    description: String,
    postings: Vec<Posting>,
    /// Whether it may take the wallet below zero: only money a provider took back (a refund, a lost
    /// dispute), which happened whatever the wallet holds and leaves a debt.
    allows_debt: bool,
}

impl LedgerTransaction {
    /// A transaction of `postings`, refused unless they are balanced in one currency.
    pub fn new(
        workspace: WorkspaceId,
        reference: String,
        kind: EntryKind,
        description: String,
        postings: Vec<Posting>,
    ) -> Result<Self, Unbalanced> {
        if postings.len() < 2 {
            return Err(Unbalanced::TooFew);
        }
        let currency = postings[0].amount.currency();
        let mut sum: i128 = 0;
        for posting in &postings {
            if posting.amount.currency() != currency {
                return Err(Unbalanced::MixedCurrencies);
            }
            if posting.amount.minor() == 0 {
                return Err(Unbalanced::ZeroPosting);
            }
            sum += i128::from(posting.amount.minor());
        }
        if sum != 0 {
            return Err(Unbalanced::NonZeroSum);
        }
        Ok(Self {
            id: LedgerTransactionId::generate(),
            workspace,
            reference,
            kind,
            description,
            postings,
            allows_debt: false,
        })
    }

    /// `amount` (positive) from the provider's clearing account into the workspace's wallet.
    pub fn top_up(workspace: WorkspaceId, provider: Provider, amount: Money, reference: String) -> Self {
        Self::two_sided(
            workspace,
            reference,
            EntryKind::TopUp,
            format!("Top-up through {}", provider.display_name()),
            LedgerAccount::ProviderClearing(provider),
            LedgerAccount::Wallet(workspace),
            amount,
        )
    }

    /// `amount` (positive) from the platform's promotions into the workspace's wallet: credit given away.
    pub fn grant(workspace: WorkspaceId, amount: Money, reference: String, description: String) -> Self {
        Self::two_sided(
            workspace,
            reference,
            EntryKind::Grant,
            description,
            LedgerAccount::Promotions,
            LedgerAccount::Wallet(workspace),
            amount,
        )
    }

    /// `amount` (positive) from the workspace's wallet to platform revenue.
    pub fn charge(workspace: WorkspaceId, amount: Money, reference: String, description: String) -> Self {
        Self::two_sided(
            workspace,
            reference,
            EntryKind::Charge,
            description,
            LedgerAccount::Wallet(workspace),
            LedgerAccount::PlatformRevenue,
            amount,
        )
    }

    /// `amount` (positive) the provider took back from the customer's payment (a refund, kind
    /// [`EntryKind::Refund`]; a lost dispute, [`EntryKind::Reversal`]): from the wallet to refunds, even below
    /// zero, where it is a debt.
    pub fn clawback(
        workspace: WorkspaceId,
        kind: EntryKind,
        amount: Money,
        reference: String,
        description: String,
    ) -> Self {
        let mut transaction = Self::two_sided(
            workspace,
            reference,
            kind,
            description,
            LedgerAccount::Wallet(workspace),
            LedgerAccount::Refunds,
            amount,
        );
        transaction.allows_debt = true;
        transaction
    }

    /// The same postings with their signs flipped: how a transaction is corrected.
    pub fn reversal_of(original: &LedgerTransaction, reference: String) -> Self {
        Self {
            id: LedgerTransactionId::generate(),
            workspace: original.workspace,
            reference,
            kind: EntryKind::Reversal,
            description: format!("Reversal of {}", original.reference),
            postings: original
                .postings
                .iter()
                .map(|p| Posting {
                    account: p.account,
                    amount: p.amount.negated(),
                })
                .collect(),
            allows_debt: false,
        }
    }

    fn two_sided(
        workspace: WorkspaceId,
        reference: String,
        kind: EntryKind,
        description: String,
        from: LedgerAccount,
        to: LedgerAccount,
        amount: Money,
    ) -> Self {
        let magnitude = Money::new(amount.minor().saturating_abs(), amount.currency());
        Self {
            id: LedgerTransactionId::generate(),
            workspace,
            reference,
            kind,
            description,
            postings: vec![
                Posting {
                    account: from,
                    amount: magnitude.negated(),
                },
                Posting {
                    account: to,
                    amount: magnitude,
                },
            ],
            allows_debt: false,
        }
    }

    pub fn id(&self) -> LedgerTransactionId {
        self.id
    }

    pub fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    pub fn reference(&self) -> &str {
        &self.reference
    }

    pub fn kind(&self) -> EntryKind {
        self.kind
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }

    /// Whether posting it may take the wallet below zero ([`LedgerTransaction::clawback`] only).
    pub fn allows_debt(&self) -> bool {
        self.allows_debt
    }

    pub fn currency(&self) -> Currency {
        self.postings[0].amount.currency()
    }

    /// What the transaction moves, for comparing two uses of one reference: the kind and every posting's
    /// account and amount (not the id, time or description).
    pub fn fingerprint(&self) -> Vec<u8> {
        let mut hasher = Sha256::new();
        hasher.update(self.kind.as_str());
        for posting in &self.postings {
            hasher.update(b"\n");
            hasher.update(posting.account.key());
            hasher.update(b"=");
            hasher.update(posting.amount.minor().to_string());
            hasher.update(posting.amount.currency().code());
        }
        hasher.finalize().to_vec()
    }

    /// The change this transaction makes to `account`'s balance.
    pub fn delta_of(&self, account: LedgerAccount) -> i64 {
        self.postings
            .iter()
            .filter(|p| p.account == account)
            .map(|p| p.amount.minor())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::USD)
    }

    #[test]
    fn unbalanced_postings_are_refused() {
        let ws = WorkspaceId::generate();
        let wallet = LedgerAccount::Wallet(ws);
        let post = |amount| Posting {
            account: wallet,
            amount,
        };
        let new = |postings| LedgerTransaction::new(ws, "r".into(), EntryKind::Charge, String::new(), postings);
        assert_eq!(new(vec![post(usd(5))]), Err(Unbalanced::TooFew));
        assert_eq!(new(vec![post(usd(5)), post(usd(-4))]), Err(Unbalanced::NonZeroSum));
        assert_eq!(new(vec![post(usd(0)), post(usd(0))]), Err(Unbalanced::ZeroPosting));
        let eur = Money::new(-5, Currency::parse("EUR").unwrap());
        assert_eq!(new(vec![post(usd(5)), post(eur)]), Err(Unbalanced::MixedCurrencies));
        assert!(new(vec![post(usd(5)), post(usd(-5))]).is_ok());
    }

    #[test]
    fn a_reversal_undoes_every_posting() {
        let ws = WorkspaceId::generate();
        let charge = LedgerTransaction::charge(ws, usd(700), "rent:1".into(), "Rent".into());
        let reversal = LedgerTransaction::reversal_of(&charge, "rent:1:reversal".into());
        for account in [LedgerAccount::Wallet(ws), LedgerAccount::PlatformRevenue] {
            assert_eq!(charge.delta_of(account) + reversal.delta_of(account), 0);
        }
    }

    #[test]
    fn fingerprints_differ_by_amount_and_account_but_not_by_id() {
        let ws = WorkspaceId::generate();
        let a = LedgerTransaction::charge(ws, usd(100), "r".into(), "x".into());
        let b = LedgerTransaction::charge(ws, usd(100), "r".into(), "other words".into());
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(
            a.fingerprint(),
            LedgerTransaction::charge(ws, usd(101), "r".into(), "x".into()).fingerprint()
        );
        let other = WorkspaceId::generate();
        assert_ne!(
            a.fingerprint(),
            LedgerTransaction::charge(other, usd(100), "r".into(), "x".into()).fingerprint()
        );
    }
}
