//! Settling a top-up from a provider's verified notification: credit the wallet exactly once per step of
//! payment evidence, and never move the top-up backwards. A notification that does not match its top-up
//! ([`crate::billing::matching`]) changes nothing and is recorded for staff.

use serde_json::json;

use crate::audit::{self, Actor, ActorKind, AuditDraft, ChainId};
use crate::billing::BillingService;
use crate::billing::ledger::LedgerTransaction;
use crate::billing::matching::{self, Mismatch, PaymentDiscrepancy};
use crate::billing::money::Money;
use crate::billing::ports::Posted;
use crate::billing::top_up::{PaymentEvent, Provider, TopUpRecord, TopUpStatus};
use crate::error::{DomainError, DomainResult};
use crate::ids::DiscrepancyId;
use crate::request::ClientInfo;
use crate::tenancy::TenantScope;

/// What a notification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The top-up moved to `status`; `credited` was added to the wallet (zero for expiry or failure).
    Advanced { status: TopUpStatus, credited: Money },
    /// The top-up is already at or past what the notification says: nothing changed.
    Unchanged { status: TopUpStatus },
    /// The notification does not match its top-up: nothing changed; the discrepancy is recorded for staff.
    Mismatched { reason: &'static str },
}

/// How often to re-read a top-up that a concurrent notification advanced under us.
const ATTEMPTS: usize = 5;

impl BillingService {
    /// Applies a notification whose signature the caller verified. Unknown top-ups are `NOT_FOUND`; an
    /// amount in another currency is a `CONFLICT` (nothing is credited).
    #[tracing::instrument(skip_all)]
    pub async fn settle(&self, event: &PaymentEvent) -> DomainResult<Settled> {
        for _ in 0..ATTEMPTS {
            if let Some(settled) = self.try_settle(event).await? {
                return Ok(settled);
            }
        }
        Err(DomainError::internal("top-up kept changing while settling"))
    }

    /// `None` when another notification advanced the top-up between our read and our write.
    async fn try_settle(&self, event: &PaymentEvent) -> DomainResult<Option<Settled>> {
        let top_up = self
            .store
            .find_top_up(event.top_up_id)
            .await?
            .filter(|t| t.provider == event.provider)
            .ok_or(DomainError::NotFound("top-up"))?;
        if let Err(mismatch) = matching::check(&top_up, event) {
            self.record_mismatch(event.provider, &event.event_id, Some(&top_up), &mismatch)
                .await?;
            return Ok(Some(Settled::Mismatched {
                reason: mismatch.reason(),
            }));
        }
        let next = event.outcome.status();
        if next.rank() <= top_up.status.rank() {
            return Ok(Some(Settled::Unchanged { status: top_up.status }));
        }
        let paid = event.outcome.paid().unwrap_or(Money::zero(top_up.amount.currency()));
        if paid.currency() != top_up.amount.currency() {
            return Err(DomainError::Conflict {
                field: None,
                message: format!(
                    "the payment is in {}, the top-up in {}",
                    paid.currency(),
                    top_up.amount.currency()
                ),
            });
        }
        let credit = (paid.minor() - top_up.credited_minor).max(0);
        let credited_minor = top_up.credited_minor + credit;
        let scope = TenantScope::system(top_up.workspace_id);
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        if !tx
            .advance_top_up(&scope, top_up.id, top_up.status, next, credited_minor, now)
            .await?
        {
            return Ok(None);
        }
        let credited = Money::new(credit, top_up.amount.currency());
        let actor = Actor {
            kind: ActorKind::System,
            id: Some(event.event_id.clone()),
            display_name: event.provider.display_name().to_owned(),
        };
        let mut metadata = json!({
            "provider": event.provider.key(),
            "event": event.event_id,
            "from": top_up.status.as_str(),
            "to": next.as_str(),
        });
        let action = if credit > 0 {
            let transaction = LedgerTransaction::top_up(
                top_up.workspace_id,
                top_up.provider,
                credited,
                format!("top-up:{}:{}", top_up.id, next.as_str()),
            );
            let balance_after = match tx.post(&scope, &transaction, now).await? {
                Posted::Applied { balance_after } => balance_after,
                other => return Err(DomainError::internal(format!("crediting a top-up: {other:?}"))),
            };
            if let Some(payment) = &event.payment_ref {
                tx.record_payment_reference(event.provider, payment, &top_up, now)
                    .await?;
            }
            metadata["amountMinor"] = json!(credit);
            metadata["currency"] = json!(credited.currency().code());
            metadata["balanceAfterMinor"] = json!(balance_after.minor());
            "wallet.credited"
        } else {
            "top_up.status_changed"
        };
        let draft = AuditDraft {
            chain: ChainId::Workspace(top_up.workspace_id),
            actor,
            action,
            target_type: Some("TOP_UP"),
            target_id: Some(top_up.id.to_string()),
            client: ClientInfo::default(),
            metadata,
        };
        audit::append(&*tx, draft, now).await?;
        if credit > 0 {
            let notice = crate::notices::Notice::TopUpCredited {
                workspace: tx.find_workspace(&scope).await?.name,
                amount: credited.to_string(),
            };
            crate::notices::queue(&*tx, top_up.created_by, notice, now).await?;
        }
        tx.commit().await?;
        Ok(Some(Settled::Advanced { status: next, credited }))
    }

    /// Keeps a notification that did not match for staff, once per provider event: a row they can list and
    /// an entry on the platform's audit chain. Only provider ids and amounts are kept.
    pub(crate) async fn record_mismatch(
        &self,
        provider: Provider,
        event_id: &str,
        top_up: Option<&TopUpRecord>,
        mismatch: &Mismatch,
    ) -> DomainResult<()> {
        let now = self.clock.now();
        let discrepancy = PaymentDiscrepancy {
            id: DiscrepancyId::generate(),
            provider,
            event_id: event_id.to_owned(),
            top_up_id: top_up.map(|t| t.id),
            workspace_id: top_up.map(|t| t.workspace_id),
            reason: mismatch.reason().to_owned(),
            details: mismatch.details(),
            created_at: now,
        };
        tracing::warn!(
            provider = provider.key(),
            event = event_id,
            top_up = ?discrepancy.top_up_id,
            reason = mismatch.reason(),
            "a payment notification does not match its top-up: nothing credited, recorded for staff"
        );
        let tx = self.store.begin().await?;
        if !tx.record_discrepancy(&discrepancy).await? {
            return Ok(());
        }
        let draft = AuditDraft {
            chain: ChainId::Platform,
            actor: Actor {
                kind: ActorKind::System,
                id: Some(event_id.to_owned()),
                display_name: provider.display_name().to_owned(),
            },
            action: "payment.discrepancy",
            target_type: Some("PAYMENT_DISCREPANCY"),
            target_id: Some(discrepancy.id.to_string()),
            client: ClientInfo::default(),
            metadata: json!({
                "provider": provider.key(),
                "event": event_id,
                "reason": mismatch.reason(),
                "topUp": discrepancy.top_up_id.map(|id| id.to_string()),
                "workspace": discrepancy.workspace_id.map(|id| id.to_string()),
                "details": discrepancy.details,
            }),
        };
        audit::append(&*tx, draft, now).await?;
        tx.commit().await?;
        Ok(())
    }
}
