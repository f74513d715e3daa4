//! Staff add accounts to the pool: imported session strings, or sandbox accounts for the simulated network.
//!
//! Rules: only staff (two-factor enrolled) may add accounts; each session is sealed under the platform's key
//! before anything is written; a batch is all or nothing (one transaction, so a session already in the pool
//! refuses the whole batch and names its line); the batch is audited on the platform chain.

use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde_json::json;

use crate::accounts::pool::records::{AccountProfile, AccountRecord, AccountStatus};
use crate::accounts::pool::service::AccountsService;
use crate::accounts::{AuthKey, DcId, ImportedAccount, TelegramSession};
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::billing::Money;
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::AccountId;
use crate::request::ClientInfo;
use crate::store::StoreError;
use crate::vault::{KeyOwner, Purpose, SecretPayload};

/// One account to add, with where it came from (a line of an import file, for error messages).
#[derive(Debug)]
pub struct NewPoolAccount {
    pub line: usize,
    pub session: TelegramSession,
    pub profile: AccountProfile,
    pub sandbox: bool,
}

impl From<ImportedAccount> for NewPoolAccount {
    fn from(imported: ImportedAccount) -> Self {
        Self {
            line: imported.line,
            profile: AccountProfile {
                display_name: imported.display_name,
                username: imported.username.map(|u| u.as_str().to_owned()),
                phone_masked: imported.phone.map(|p| p.masked()),
                country: imported.country,
                premium: imported.premium,
                account_created: imported.account_created,
            },
            session: imported.session,
            sandbox: false,
        }
    }
}

/// What an import added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub accounts: Vec<AccountId>,
}

/// The largest batch one call adds (one transaction).
pub const MAX_BATCH: usize = 10_000;

impl AccountsService {
    /// Adds `accounts` to the pool at `price_per_day`, all or nothing.
    #[tracing::instrument(skip_all)]
    pub async fn add_to_pool(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        accounts: Vec<NewPoolAccount>,
        price_per_day: Money,
    ) -> DomainResult<ImportSummary> {
        let staff = principal.require_staff()?;
        self.add_batch(
            Actor::staff(staff, principal.display_name()),
            client,
            accounts,
            price_per_day,
            None,
        )
        .await
    }

    /// Adds `count` new sandbox accounts to the pool on the server's own behalf (the demo's seeding). Only
    /// sandbox accounts: nothing here can put a real session in the pool.
    #[tracing::instrument(skip_all)]
    pub async fn stock_sandbox(&self, count: usize, price_per_day: Money) -> DomainResult<ImportSummary> {
        let accounts = sandbox_accounts(count, self.clock.now())?;
        self.add_batch(Actor::system(), &ClientInfo::default(), accounts, price_per_day, None)
            .await
    }

    /// The batch, sealed and stored in one transaction with its audit entry; `via` names how the accounts
    /// came (`phone_login`) in the entry when they were not imported from a file or stocked.
    pub(crate) async fn add_batch(
        &self,
        actor: Actor,
        client: &ClientInfo,
        accounts: Vec<NewPoolAccount>,
        price_per_day: Money,
        via: Option<&'static str>,
    ) -> DomainResult<ImportSummary> {
        if price_per_day.minor() <= 0 {
            return Err(DomainError::invalid("pricePerDay", "must be positive"));
        }
        if accounts.is_empty() || accounts.len() > MAX_BATCH {
            return Err(DomainError::invalid(
                "accounts",
                format!("a batch holds 1 to {MAX_BATCH} accounts"),
            ));
        }
        let now = self.clock.now();
        let mut records = Vec::with_capacity(accounts.len());
        for account in accounts {
            let id = AccountId::generate();
            let payload = SecretPayload::from(account.session.encode());
            let sealed = self
                .vault
                .seal(KeyOwner::Platform, id, Purpose::TelegramSession, &payload)
                .await?;
            records.push((
                account.line,
                AccountRecord {
                    id,
                    status: AccountStatus::Available,
                    sandbox: account.sandbox,
                    profile: account.profile,
                    dc_id: account.session.dc_id().get(),
                    telegram_user_id: account.session.user_id(),
                    key_fingerprint: account.session.auth_key().fingerprint(),
                    sealed,
                    price_per_day,
                    leased_to: None,
                    leased_since: None,
                    leased_until: None,
                    retiring_since: None,
                    created_at: now,
                    updated_at: now,
                },
            ));
        }
        let tx = self.store.begin().await?;
        for (line, record) in &records {
            tx.insert_account(record).await.map_err(|error| match error {
                StoreError::UniqueViolation(_) => DomainError::conflict(
                    format!("line {line}"),
                    format!("line {line}: this session is already in the pool"),
                ),
                other => DomainError::from(other),
            })?;
        }
        let sandbox = records.iter().filter(|(_, r)| r.sandbox).count();
        let mut metadata = json!({
            "count": records.len(),
            "sandbox": sandbox,
            "pricePerDayMinor": price_per_day.minor(),
            "currency": price_per_day.currency().code(),
        });
        if let Some(via) = via {
            metadata["via"] = json!(via);
        }
        let draft = AuditDraft {
            chain: ChainId::Platform,
            actor,
            action: "accounts.imported",
            target_type: Some("ACCOUNT_POOL"),
            target_id: None,
            client: client.clone(),
            metadata,
        };
        audit::append(&*tx, draft, now).await?;
        tx.commit().await?;
        Ok(ImportSummary {
            accounts: records.into_iter().map(|(_, r)| r.id).collect(),
        })
    }
}

/// `count` new sandbox accounts: random auth keys on data centre 2 in test mode, with user ids of
/// [`SANDBOX_USER_IDS`], named "Sandbox <n>". They live on the sandbox network only.
pub fn sandbox_accounts(count: usize, now: DateTime<Utc>) -> DomainResult<Vec<NewPoolAccount>> {
    let mut accounts = Vec::with_capacity(count);
    let mut rng = rand::rngs::OsRng;
    for n in 1..=count {
        let mut key = zeroize::Zeroizing::new([0u8; AuthKey::LEN]);
        rng.fill_bytes(key.as_mut());
        let auth_key = AuthKey::from_bytes(key.as_ref()).map_err(DomainError::internal)?;
        let user_id = rand::Rng::gen_range(&mut rng, SANDBOX_USER_IDS);
        let dc = DcId::new(2).map_err(DomainError::internal)?;
        let session = TelegramSession::new(dc, auth_key)
            .with_user_id(user_id)
            .map_err(DomainError::internal)?
            .with_test_mode(true);
        accounts.push(NewPoolAccount {
            line: n,
            session,
            profile: AccountProfile {
                display_name: Some(format!("Sandbox {}", user_id % 100_000)),
                username: None,
                phone_masked: Some(format!("+999 ••••••{:02}", user_id % 100)),
                country: None,
                premium: false,
                account_created: Some(now.date_naive()),
            },
            sandbox: true,
        });
    }
    Ok(accounts)
}

/// User ids of sandbox accounts: valid Telegram user ids, below the sandbox network's range of scripted
/// contacts (from 10^12): a hundred billion ids, drawn at random, unique in the pool (an index says so).
pub const SANDBOX_USER_IDS: std::ops::Range<i64> = 900_000_000_000..1_000_000_000_000;
