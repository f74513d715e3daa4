//! Starting a top-up: ADMIN and OWNER only (API keys have no billing write scope).
//!
//! The top-up is stored (PENDING, audited) before the provider is asked for a checkout, so a payment can
//! never arrive for a top-up we do not know. The hourly quota is counted under the workspace's row lock in the
//! transaction that stores it, so parallel requests cannot overrun it. The provider call happens outside any database transaction.

use chrono::Duration;
use serde_json::json;

use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::billing::BillingService;
use crate::billing::money::{Currency, Money};
use crate::billing::ports::{CheckoutError, CheckoutRequest};
use crate::billing::top_up::{Provider, TopUpRecord, TopUpStatus};
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::identity::Principal;
use crate::ids::TopUpId;
use crate::request::ClientInfo;
use crate::tenancy::{Role, TenantScope};

impl BillingService {
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn create_top_up(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        provider: Provider,
        amount_minor: i64,
        currency: &str,
    ) -> DomainResult<TopUpRecord> {
        scope.require(Role::Admin, None, "top up the wallet")?;
        let user = principal.require_user()?;
        let amount = self.validate_amount(amount_minor, currency)?;
        let Some(gateway) = self.gateway(provider).cloned() else {
            return Err(DomainError::invalid(
                "provider",
                format!("{} is not configured on this server", provider.display_name()),
            ));
        };
        let now = self.clock.now();
        let mut record = TopUpRecord {
            id: TopUpId::generate(),
            workspace_id: scope.workspace_id(),
            provider,
            amount,
            status: TopUpStatus::Pending,
            credited_minor: 0,
            refunded_minor: 0,
            provider_ref: None,
            checkout_url: None,
            created_by: user,
            created_at: now,
            updated_at: now,
        };
        let tx = self.store.begin().await?;
        // Counted under the workspace's lock, in the transaction that inserts, so the hourly quota holds under
        // parallel requests.
        tx.lock_workspace(scope).await?;
        let started = tx.count_top_ups_since(scope, now - Duration::hours(1)).await?;
        if started >= self.config.top_ups_per_hour {
            return Err(DomainError::RateLimited { retry_after_secs: 3600 });
        }
        tx.insert_top_up(scope, &record).await?;
        let draft = AuditDraft {
            chain: ChainId::Workspace(scope.workspace_id()),
            actor: Actor::of(principal),
            action: "top_up.created",
            target_type: Some("TOP_UP"),
            target_id: Some(record.id.to_string()),
            client: client.clone(),
            metadata: json!({
                "provider": provider.key(),
                "amountMinor": amount.minor(),
                "currency": amount.currency().code(),
            }),
        };
        audit::append(&*tx, draft, now).await?;
        tx.commit().await?;

        let request = CheckoutRequest {
            top_up_id: record.id,
            workspace_id: scope.workspace_id(),
            amount,
            description: format!("Telegram OS wallet top-up ({amount})"),
        };
        let checkout = match gateway.create_checkout(&request).await {
            Ok(checkout) => checkout,
            Err(error) => {
                // The top-up can never be paid: close it so it does not linger as PENDING.
                let failed_at = self.clock.now();
                self.store
                    .advance_top_up(
                        scope,
                        record.id,
                        TopUpStatus::Pending,
                        TopUpStatus::Failed,
                        0,
                        failed_at,
                    )
                    .await?;
                return Err(match error {
                    CheckoutError::NotConfigured(what) => {
                        DomainError::invalid("provider", format!("{what} is not configured on this server"))
                    }
                    CheckoutError::Provider(internal) => DomainError::Internal(internal),
                });
            }
        };
        self.store
            .set_top_up_checkout(scope, record.id, &checkout.provider_ref, &checkout.url)
            .await?;
        record.provider_ref = Some(checkout.provider_ref);
        record.checkout_url = Some(checkout.url);
        Ok(record)
    }

    fn validate_amount(&self, amount_minor: i64, currency: &str) -> DomainResult<Money> {
        let mut errors = FieldErrors::default();
        let currency = errors.check(match Currency::parse(currency) {
            Some(c) if c == self.config.currency => Ok(c),
            Some(_) | None => Err(crate::error::FieldError::new(
                "currency",
                format!("wallets are kept in {}", self.config.currency),
            )),
        });
        if amount_minor > self.config.max_top_up_minor {
            errors.push(crate::error::FieldError::new(
                "amountMinor",
                format!(
                    "at most {} per top-up",
                    Money::new(self.config.max_top_up_minor, self.config.currency)
                ),
            ));
        }
        let amount = errors.check(Money::positive(amount_minor, self.config.currency, "amountMinor"));
        errors.into_result()?;
        match (amount, currency) {
            (Some(amount), Some(_)) => Ok(amount),
            _ => Err(DomainError::internal("validated amount missing")),
        }
    }
}
