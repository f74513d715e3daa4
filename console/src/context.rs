//! Reaching the service's data: the same database and master key the server uses, from the same
//! environment variables (`DATABASE_URL`, `TGOS_DATA_DIR`, `TGOS_MASTER_KEY`; see docs/CONFIGURATION.md).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use tgos_domain::accounts::pool::{AccountsConfig, AccountsService};
use tgos_domain::clock::{Clock, SystemClock};
use tgos_domain::compliance::ComplianceService;
use tgos_domain::crypto::password_hasher::HashingLimits;
use tgos_domain::crypto::{Argon2Pool, MasterKey};
use tgos_domain::erasure::WorkspaceErasure;
use tgos_domain::events::AccessSignals;
use tgos_domain::identity::backup_codes::BackupCodeKey;
use tgos_domain::identity::{IdentityConfig, IdentityService};
use tgos_domain::jobs::JobSignal;
use tgos_domain::mail::{MailError, Mailer, OutgoingMail};
use tgos_domain::store::Store;
use tgos_domain::tenancy::TenancyService;
use tgos_domain::vault::{KeyStore, MasterKeyRotation, Vault, VaultError};
use tgos_persistence::{DatabaseSettings, Privileges, connect, key_file};

#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// The data directory of the embedded default (database file and key file).
    #[arg(long, env = "TGOS_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// `postgres://…`; when unset, the SQLite file under the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    /// Base64 of 32 bytes; when unset, the key file under the data directory.
    #[arg(long, env = "TGOS_MASTER_KEY", hide_env_values = true, hide = true, global = true)]
    pub master_key: Option<String>,
}

/// The database URL of the arguments: `DATABASE_URL`, else the SQLite file under the data directory.
pub fn database_url(args: &ConnectionArgs) -> anyhow::Result<String> {
    match &args.database_url {
        Some(url) => Ok(url.clone()),
        None => {
            let file = args.data_dir.join("tgos.db");
            anyhow::ensure!(
                file.exists(),
                "no database at {}; start the server once or pass --data-dir",
                file.display()
            );
            Ok(format!("sqlite://{}?mode=rw", file.display()))
        }
    }
}

/// The database as the schema owner, without the master key (commands that need no key: retention, backups).
/// A failure to reach it is [`crate::errors::Unreachable`] (exit 3).
pub async fn open_store(args: &ConnectionArgs) -> anyhow::Result<(tgos_persistence::SeaStore, String)> {
    let url = database_url(args).map_err(|e| anyhow::Error::new(crate::errors::Unreachable(format!("{e:#}"))))?;
    let store = connect(&DatabaseSettings {
        url: url.clone(),
        owner_url: None,
        max_connections: 2,
        privileges: Privileges::Owner,
        migrate: tgos_persistence::MigrateMode::Auto,
    })
    .await
    .map_err(|error| anyhow::Error::new(crate::errors::Unreachable(format!("cannot open the database: {error}"))))?;
    Ok((store, url))
}

/// Where the master key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `TGOS_MASTER_KEY` (production).
    Environment,
    /// The key file of the embedded default, `<data dir>/master.key`.
    File(PathBuf),
}

/// The use-case services the console's commands call.
#[derive(Debug)]
pub struct Connection {
    pub identity: IdentityService,
    pub accounts: AccountsService,
    pub master_rotation: MasterKeyRotation,
    pub store: Arc<dyn Store>,
    /// The master key the console runs with (the current one), and where it came from.
    pub master_key: Arc<MasterKey>,
    pub key_source: KeySource,
    backup_codes_open: bool,
    keys: Arc<dyn KeyStore>,
    clock: Arc<dyn Clock>,
}

impl Connection {
    pub async fn open(args: &ConnectionArgs) -> anyhow::Result<Self> {
        Self::open_with(args, IdentityConfig::default()).await
    }

    /// Opens the data with identity tuned by `identity_config` (the web pages' 15-minute idle timeout).
    pub async fn open_with(args: &ConnectionArgs, identity_config: IdentityConfig) -> anyhow::Result<Self> {
        let url = database_url(args)?;
        let store = connect(&DatabaseSettings {
            url,
            owner_url: None,
            max_connections: 2,
            privileges: Privileges::Owner,
            migrate: tgos_persistence::MigrateMode::Auto,
        })
        .await
        .map_err(|error| anyhow::anyhow!("cannot open the database: {error}"))?;
        let sees_every_tenant = store
            .reads_across_tenants()
            .await
            .map_err(|error| anyhow::anyhow!("cannot read the database role: {error}"))?;
        anyhow::ensure!(
            sees_every_tenant,
            "the login role of the database URL is subject to row-level security; the console needs a superuser \
             or a role with BYPASSRLS (see \"The database roles\" in docs/CONFIGURATION.md)"
        );
        let (master_key, key_source) = load_master_key(args)?;
        let hasher = Argon2Pool::new(HashingLimits::for_this_machine()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let store = Arc::new(store);
        let keys: Arc<dyn KeyStore> = store.clone();
        let store: Arc<dyn Store> = store;
        let master_key = Arc::new(master_key);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let vault = Vault::new(Arc::clone(&keys), Arc::clone(&master_key), Arc::clone(&clock));
        // Under a master key that does not unwrap it (a wrong key, or the old one after an interrupted
        // rotation) the backup-code key does not open: backup codes then match nothing until
        // `backup_codes_under` finds the key that does, and a staff sign-in says so.
        let (backup_code_key, backup_codes_open) = match BackupCodeKey::load(&vault).await {
            Ok(key) => (key, true),
            Err(VaultError::DataKeyUnwrapFailed) => (BackupCodeKey::unusable(), false),
            Err(error) => return Err(anyhow::anyhow!("cannot load the backup-code key: {error}")),
        };
        let identity = IdentityService::new(
            Arc::clone(&store),
            Arc::new(hasher),
            Arc::clone(&master_key),
            backup_code_key,
            Arc::clone(&clock),
            identity_config,
        );
        let master_rotation = MasterKeyRotation::new(Arc::clone(&store), vault.clone(), Arc::clone(&clock));
        let accounts = AccountsService::new(Arc::clone(&store), vault, Arc::clone(&clock), AccountsConfig::default());
        Ok(Self {
            identity,
            accounts,
            master_rotation,
            store,
            master_key,
            key_source,
            backup_codes_open,
            keys,
            clock,
        })
    }

    /// Checks backup codes under the key `master` unwraps, when the console's own master key did not open it:
    /// during a master-key rotation an interrupted earlier run may have re-wrapped it under the new key already.
    pub async fn backup_codes_under(&mut self, master: &MasterKey) {
        if self.backup_codes_open {
            return;
        }
        let vault = Vault::new(
            Arc::clone(&self.keys),
            Arc::new(master.clone()),
            Arc::clone(&self.clock),
        );
        if let Ok(key) = BackupCodeKey::load(&vault).await {
            self.identity = self.identity.clone().with_backup_code_key(key);
            self.backup_codes_open = true;
        }
    }

    /// The staff compliance use cases over this connection. The console sends no mail itself: notices are
    /// queued as jobs, which the server's workers send.
    pub fn compliance(&self) -> ComplianceService {
        let clock = Arc::clone(&self.clock);
        let store = Arc::clone(&self.store);
        let vault = Vault::new(Arc::clone(&self.keys), Arc::clone(&self.master_key), Arc::clone(&clock));
        let tenancy = TenancyService::new(Arc::clone(&store), Arc::clone(&clock), Arc::new(NoMail));
        let erasure = WorkspaceErasure::new(
            Arc::clone(&store),
            Arc::clone(&clock),
            self.identity.clone(),
            tenancy,
            self.accounts.clone(),
            vault,
            JobSignal::default(),
            AccessSignals::default(),
        );
        ComplianceService::new(store, clock, erasure, JobSignal::default())
    }

    /// Whether backup codes can sign in: the backup-code key opened under a master key the console holds.
    pub fn backup_codes_open(&self) -> bool {
        self.backup_codes_open
    }
}

/// The console's mailer: it refuses, since everything the console tells a person goes through a notice job.
#[derive(Debug)]
struct NoMail;

#[async_trait::async_trait]
impl Mailer for NoMail {
    async fn send(&self, _mail: &OutgoingMail) -> Result<(), MailError> {
        Err(MailError(
            "the console sends no mail itself; notices are queued for the server's workers".to_owned(),
        ))
    }
}

/// The current master key: `TGOS_MASTER_KEY` when set, else the key file under the data directory (never
/// created here).
fn load_master_key(args: &ConnectionArgs) -> anyhow::Result<(MasterKey, KeySource)> {
    if let Some(text) = &args.master_key {
        let key = MasterKey::from_base64(text)
            .map_err(|_| anyhow::anyhow!("TGOS_MASTER_KEY is malformed: it must be base64 of exactly 32 bytes"))?;
        return Ok((key, KeySource::Environment));
    }
    let path = key_file_path(&args.data_dir);
    anyhow::ensure!(
        path.exists(),
        "no master key at {}; set TGOS_MASTER_KEY",
        path.display()
    );
    let (key, _) = key_file::load_or_create(&path).context("reading the master key")?;
    Ok((key, KeySource::File(path)))
}

/// The key file of the embedded default.
pub fn key_file_path(data_dir: &Path) -> PathBuf {
    data_dir.join("master.key")
}
