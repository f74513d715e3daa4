//! Stocking the account pool and funding wallets for tests, through the same use cases staff and providers
//! reach (the import use case, ledger credits) without their outer edges (console login, payment pages).

use tgos_domain::accounts::pool::use_cases::import::sandbox_accounts;
use tgos_domain::billing::ports::Posted;
use tgos_domain::billing::{Currency, LedgerTransaction, Money, Provider};
use tgos_domain::identity::Principal;
use tgos_domain::ids::{AccountId, SessionId, UserId, WorkspaceId};
use tgos_domain::request::ClientInfo;

use crate::TestApp;

/// A staff member with two-factor on, as the console signs one in.
pub fn staff() -> Principal {
    Principal::User {
        user_id: UserId::generate(),
        session_id: SessionId::generate(),
        acts_as_staff: true,
        display_name: "staff".to_owned(),
    }
}

impl TestApp {
    /// Adds `count` sandbox accounts to the pool at `price_per_day_minor` USD cents a day.
    pub async fn stock_pool(&self, count: usize, price_per_day_minor: i64) -> anyhow::Result<Vec<AccountId>> {
        let accounts = sandbox_accounts(count, chrono::Utc::now())?;
        let summary = self
            .accounts
            .add_to_pool(
                &staff(),
                &ClientInfo::default(),
                accounts,
                Money::new(price_per_day_minor, Currency::USD),
            )
            .await?;
        Ok(summary.accounts)
    }

    /// Credits the workspace's wallet as a settled top-up would.
    pub async fn credit_wallet(&self, token: &str, workspace: &str, minor: i64) -> anyhow::Result<()> {
        let principal = self
            .identity
            .authenticate(token)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the session does not authenticate"))?
            .principal;
        let workspace = WorkspaceId::from_uuid(workspace.parse()?);
        let scope = self.tenancy.scope(&principal, workspace).await?;
        let tx = self.store.begin().await?;
        let credit = LedgerTransaction::top_up(
            workspace,
            Provider::Stripe,
            Money::new(minor, Currency::USD),
            format!("test-credit-{}", uuid::Uuid::now_v7()),
        );
        anyhow::ensure!(matches!(
            tx.post(&scope, &credit, chrono::Utc::now()).await?,
            Posted::Applied { .. }
        ));
        tx.commit().await?;
        Ok(())
    }
}

impl TestApp {
    /// Adds one account with a known auth key to the pool (sandbox), so a test can look for its bytes.
    pub async fn stock_known_session(
        &self,
        auth_key: &[u8; 256],
        price_per_day_minor: i64,
    ) -> anyhow::Result<AccountId> {
        use tgos_domain::accounts::pool::{AccountProfile, NewPoolAccount};
        use tgos_domain::accounts::{AuthKey, DcId, TelegramSession};

        let session = TelegramSession::new(DcId::new(2)?, AuthKey::from_bytes(auth_key)?)
            .with_user_id(900_000_000_123)?
            .with_test_mode(true);
        let summary = self
            .accounts
            .add_to_pool(
                &staff(),
                &ClientInfo::default(),
                vec![NewPoolAccount {
                    line: 1,
                    session,
                    profile: AccountProfile {
                        display_name: Some("Known".to_owned()),
                        ..AccountProfile::default()
                    },
                    sandbox: true,
                }],
                Money::new(price_per_day_minor, Currency::USD),
            )
            .await?;
        summary
            .accounts
            .first()
            .copied()
            .ok_or_else(|| anyhow::anyhow!("nothing was imported"))
    }
}

impl TestApp {
    /// The tenant scope a signed-in person has in a workspace, for driving use cases directly.
    pub async fn scope_of(&self, token: &str, workspace: &str) -> anyhow::Result<tgos_domain::tenancy::TenantScope> {
        let principal = self
            .identity
            .authenticate(token)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the session does not authenticate"))?
            .principal;
        Ok(self
            .tenancy
            .scope(&principal, WorkspaceId::from_uuid(workspace.parse()?))
            .await?)
    }
}
