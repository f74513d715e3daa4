//! Refunds and disputes: money a provider takes back from a credited payment comes off the wallet.
//!
//! Rules:
//! - A reversal finds its top-up through the payment it names (recorded when that payment was credited); an
//!   unknown payment, another currency, or refunds beyond what was credited change nothing and are recorded
//!   for staff like any mismatch.
//! - A refund notification carries the running total refunded: the top-up keeps that total
//!   (`refunded_minor`, moved by a conditional update) and only the difference is posted, as a `REFUND`
//!   entry. The same notification twice, or an older total after a newer one, posts nothing.
//! - An opened dispute is recorded; a lost one posts a `REVERSAL` entry once per dispute (its reference); a
//!   won one is recorded.
//! - Both may take the wallet below zero: the money left whatever the wallet holds. The balance then shows a
//!   debt, recorded in the audit entry, and no charge goes through until a top-up clears it.

use serde_json::json;

use crate::audit::{self, Actor, ActorKind, AuditDraft, ChainId};
use crate::billing::BillingService;
use crate::billing::ledger::{EntryKind, LedgerTransaction};
use crate::billing::matching::Mismatch;
use crate::billing::money::Money;
use crate::billing::ports::Posted;
use crate::billing::top_up::{ReversalEvent, ReversalKind, TopUpRecord};
use crate::error::{DomainError, DomainResult};
use crate::request::ClientInfo;
use crate::tenancy::TenantScope;

/// What a reversal notification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reversed {
    /// `amount` came off the wallet, leaving `balance_after` (below zero: a debt).
    Posted { amount: Money, balance_after: Money },
    /// Recorded in the audit log; no money moved (an opened or won dispute).
    Recorded,
    /// Already applied, or older than what was: nothing changed.
    Unchanged,
    /// Did not match a credited top-up: nothing changed; recorded for staff.
    Mismatched { reason: &'static str },
}

/// How often to re-read a top-up whose refunded total another notification moved under us.
const ATTEMPTS: usize = 5;

impl BillingService {
    /// Applies a reversal notification whose signature the caller verified.
    #[tracing::instrument(skip_all)]
    pub async fn reverse(&self, event: &ReversalEvent) -> DomainResult<Reversed> {
        let found = match self
            .store
            .find_payment_reference(event.provider, &event.payment_ref)
            .await?
        {
            Some(id) => self.store.find_top_up(id).await?,
            None => None,
        };
        let Some(mut top_up) = found.filter(|t| t.provider == event.provider) else {
            let mismatch = Mismatch::UnknownPayment {
                payment_ref: event.payment_ref.clone(),
            };
            self.record_mismatch(event.provider, &event.event_id, None, &mismatch)
                .await?;
            return Ok(Reversed::Mismatched {
                reason: mismatch.reason(),
            });
        };
        for _ in 0..ATTEMPTS {
            if let Some(reversed) = self.try_reverse(event, &top_up).await? {
                return Ok(reversed);
            }
            top_up = self
                .store
                .find_top_up(top_up.id)
                .await?
                .ok_or(DomainError::NotFound("top-up"))?;
        }
        Err(DomainError::internal("top-up kept changing while reversing"))
    }

    /// `None` when another notification moved the refunded total between our read and our write.
    async fn try_reverse(&self, event: &ReversalEvent, top_up: &TopUpRecord) -> DomainResult<Option<Reversed>> {
        let currency = top_up.amount.currency();
        let credited = Money::new(top_up.credited_minor, currency);
        let scope = TenantScope::system(top_up.workspace_id);
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let (amount, transaction, action) = match &event.kind {
            ReversalKind::Refunded { total } => {
                if total.currency() != currency || total.minor() > top_up.credited_minor {
                    drop(tx);
                    return self.reversal_mismatch(event, top_up, credited, *total).await.map(Some);
                }
                let delta = total.minor() - top_up.refunded_minor;
                if delta <= 0 {
                    return Ok(Some(Reversed::Unchanged));
                }
                if !tx
                    .advance_top_up_refund(&scope, top_up.id, top_up.refunded_minor, total.minor(), now)
                    .await?
                {
                    return Ok(None);
                }
                let amount = Money::new(delta, currency);
                let transaction = LedgerTransaction::clawback(
                    top_up.workspace_id,
                    EntryKind::Refund,
                    amount,
                    format!("refund:{}:{}", top_up.id, total.minor()),
                    format!("Refund through {}", event.provider.display_name()),
                );
                (amount, Some(transaction), "wallet.refunded")
            }
            ReversalKind::DisputeLost { dispute, amount } => {
                if amount.currency() != currency || amount.minor() > top_up.credited_minor {
                    drop(tx);
                    return self.reversal_mismatch(event, top_up, credited, *amount).await.map(Some);
                }
                let transaction = LedgerTransaction::clawback(
                    top_up.workspace_id,
                    EntryKind::Reversal,
                    *amount,
                    format!("dispute:{}:{dispute}", event.provider.key()),
                    format!("Dispute lost through {}", event.provider.display_name()),
                );
                (*amount, Some(transaction), "wallet.dispute_lost")
            }
            ReversalKind::DisputeOpened { amount, .. } => (*amount, None, "payment.disputed"),
            ReversalKind::DisputeWon { .. } => (Money::zero(currency), None, "payment.dispute_won"),
        };
        let mut metadata = json!({
            "provider": event.provider.key(),
            "event": event.event_id,
            "payment": event.payment_ref,
            "amountMinor": amount.minor(),
            "currency": amount.currency().code(),
        });
        if let ReversalKind::DisputeOpened { dispute, .. }
        | ReversalKind::DisputeLost { dispute, .. }
        | ReversalKind::DisputeWon { dispute } = &event.kind
        {
            metadata["dispute"] = json!(dispute);
        }
        let mut outcome = Reversed::Recorded;
        if let Some(transaction) = &transaction {
            let balance_after = match tx.post(&scope, transaction, now).await? {
                Posted::Applied { balance_after } => balance_after,
                Posted::AlreadyApplied { .. } => return Ok(Some(Reversed::Unchanged)),
                other => return Err(DomainError::internal(format!("posting a reversal: {other:?}"))),
            };
            metadata["balanceAfterMinor"] = json!(balance_after.minor());
            if balance_after.minor() < 0 {
                metadata["debtMinor"] = json!(-balance_after.minor());
            }
            outcome = Reversed::Posted { amount, balance_after };
        }
        let draft = AuditDraft {
            chain: ChainId::Workspace(top_up.workspace_id),
            actor: Actor {
                kind: ActorKind::System,
                id: Some(event.event_id.clone()),
                display_name: event.provider.display_name().to_owned(),
            },
            action,
            target_type: Some("TOP_UP"),
            target_id: Some(top_up.id.to_string()),
            client: ClientInfo::default(),
            metadata,
        };
        audit::append(&*tx, draft, now).await?;
        tx.commit().await?;
        Ok(Some(outcome))
    }

    async fn reversal_mismatch(
        &self,
        event: &ReversalEvent,
        top_up: &TopUpRecord,
        expected: Money,
        received: Money,
    ) -> DomainResult<Reversed> {
        let mismatch = Mismatch::Reversal { expected, received };
        self.record_mismatch(event.provider, &event.event_id, Some(top_up), &mismatch)
            .await?;
        Ok(Reversed::Mismatched {
            reason: mismatch.reason(),
        })
    }
}
