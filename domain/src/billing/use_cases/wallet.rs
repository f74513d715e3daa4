//! Reading a wallet: ADMIN and OWNER, or an API key with `BILLING_READ`.

use crate::billing::BillingService;
use crate::billing::money::Money;
use crate::billing::ports::WalletEntry;
use crate::error::DomainResult;
use crate::ids::PostingId;
use crate::paging::{Page, PageRequest};
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};

const READ: &str = "read the wallet";

impl BillingService {
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn wallet_balance(&self, scope: &TenantScope) -> DomainResult<Money> {
        scope.require(Role::Admin, Some(Scope::BillingRead), READ)?;
        Ok(self.store.wallet_balance(scope, self.config.currency).await?)
    }

    /// A page of entries newest first.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn wallet_entries(
        &self,
        scope: &TenantScope,
        page: PageRequest<PostingId>,
    ) -> DomainResult<Page<WalletEntry>> {
        scope.require(Role::Admin, Some(Scope::BillingRead), READ)?;
        page.read(|before, rows| self.store.wallet_entries(scope, before, rows))
            .await
    }
}
