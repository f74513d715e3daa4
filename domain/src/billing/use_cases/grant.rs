//! Credit the platform gives away (the demo's starting credit): a balanced transaction from the promotions
//! account, applied once per reference, audited as `wallet.granted` by the system. No person or API key can
//! reach it; only the server's own set-up code calls it.

use serde_json::json;

use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::billing::ledger::LedgerTransaction;
use crate::billing::money::Money;
use crate::billing::ports::Posted;
use crate::billing::service::BillingService;
use crate::error::{DomainError, DomainResult};
use crate::ids::WorkspaceId;
use crate::request::ClientInfo;
use crate::tenancy::TenantScope;

impl BillingService {
    /// Grants `amount` to the workspace's wallet under `reference`; `false` when that reference was already
    /// granted (nothing changed).
    #[tracing::instrument(skip_all, fields(workspace = %workspace))]
    pub async fn grant_credit(
        &self,
        workspace: WorkspaceId,
        amount: Money,
        reference: &str,
        description: &str,
    ) -> DomainResult<bool> {
        if amount.minor() <= 0 {
            return Err(DomainError::invalid("amount", "must be positive"));
        }
        let scope = TenantScope::system(workspace);
        let transaction =
            LedgerTransaction::grant(workspace, amount, format!("grant:{reference}"), description.to_owned());
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let balance_after = match tx.post(&scope, &transaction, now).await? {
            Posted::Applied { balance_after } => balance_after,
            Posted::AlreadyApplied { .. } => return Ok(false),
            other => return Err(DomainError::internal(format!("granting credit: {other:?}"))),
        };
        let draft = AuditDraft {
            chain: ChainId::Workspace(workspace),
            actor: Actor::system(),
            action: "wallet.granted",
            target_type: Some("LEDGER_TRANSACTION"),
            target_id: Some(transaction.id().to_string()),
            client: ClientInfo::default(),
            metadata: json!({
                "amountMinor": amount.minor(),
                "currency": amount.currency().code(),
                "reference": transaction.reference(),
                "balanceAfterMinor": balance_after.minor(),
            }),
        };
        audit::append(&*tx, draft, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
