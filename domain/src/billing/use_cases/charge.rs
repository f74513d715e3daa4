//! Charging a wallet: exactly once per idempotency key, never below zero.

use serde_json::json;

use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::billing::BillingService;
use crate::billing::ledger::LedgerTransaction;
use crate::billing::matching::short_of_funds;
use crate::billing::money::Money;
use crate::billing::ports::Posted;
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::request::ClientInfo;
use crate::tenancy::{Role, TenantScope};

/// A charge that went through (now, or the first time its key was used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charged {
    pub balance_after: Money,
    /// `true` when the key had been used: nothing was charged this time.
    pub replayed: bool,
}

impl BillingService {
    /// Charges `amount` to the workspace's wallet under the caller's `idempotency_key` (OPERATOR and above).
    /// The same key again returns the first result; with another amount it is a `CONFLICT`; more than the
    /// balance is `INSUFFICIENT_FUNDS` and changes nothing.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn charge(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        amount: Money,
        idempotency_key: &str,
        description: &str,
    ) -> DomainResult<Charged> {
        scope.require(Role::Operator, None, "spend from the wallet")?;
        if amount.minor() <= 0 {
            return Err(DomainError::invalid("amount", "must be positive"));
        }
        if amount.currency() != self.config.currency {
            return Err(DomainError::invalid(
                "currency",
                format!("wallets are kept in {}", self.config.currency),
            ));
        }
        let key = idempotency_key.trim();
        if key.is_empty() || key.len() > 200 {
            return Err(DomainError::invalid("idempotencyKey", "must be 1 to 200 characters"));
        }
        // References are unique across the whole ledger; a caller's key is only unique within its workspace,
        // so the workspace is part of the reference (two tenants may both use key "1").
        let transaction = LedgerTransaction::charge(
            scope.workspace_id(),
            amount,
            format!("charge:{}:{key}", scope.workspace_id()),
            description.to_owned(),
        );
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let balance_after = match tx.post(scope, &transaction, now).await? {
            Posted::Applied { balance_after } => balance_after,
            Posted::AlreadyApplied { balance_after } => {
                return Ok(Charged {
                    balance_after,
                    replayed: true,
                });
            }
            Posted::ReferenceConflict => {
                return Err(DomainError::conflict(
                    "idempotencyKey",
                    "this idempotency key was already used for a different charge",
                ));
            }
            Posted::InsufficientFunds { balance } => {
                return Err(short_of_funds(balance, amount, "this"));
            }
        };
        let draft = AuditDraft {
            chain: ChainId::Workspace(scope.workspace_id()),
            actor: Actor::of(principal),
            action: "wallet.charged",
            target_type: Some("LEDGER_TRANSACTION"),
            target_id: Some(transaction.id().to_string()),
            client: client.clone(),
            metadata: json!({
                "amountMinor": amount.minor(),
                "currency": amount.currency().code(),
                "reference": transaction.reference(),
                "balanceAfterMinor": balance_after.minor(),
            }),
        };
        audit::append(&*tx, draft, now).await?;
        let threshold = self.config.low_balance_minor;
        crate::notices::low_balance::after_charge(&*tx, scope, amount, balance_after, threshold, now).await?;
        tx.commit().await?;
        Ok(Charged {
            balance_after,
            replayed: false,
        })
    }
}
