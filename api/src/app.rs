//! The application state: every port wired to its adapter, built once at start and shared by handlers.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use tgos_domain::accounts::gateway::TelegramGateway;
use tgos_domain::accounts::pool::connections::{ConnectionHolder, Connections};
use tgos_domain::accounts::pool::{AccountsConfig, AccountsService};
use tgos_domain::automation::{AutomationJobs, AutomationService, AutomationSettings};
use tgos_domain::billing::ports::PaymentGateway;
use tgos_domain::billing::{BillingConfig, BillingService, Currency};
use tgos_domain::clock::SystemClock;
use tgos_domain::crypto::password_hasher::HashingLimits;
use tgos_domain::crypto::{Argon2Pool, MasterKey};
use tgos_domain::erasure::{AccountErasureJob, WorkspaceErasure, WorkspaceErasureJob};
use tgos_domain::events::{AccessSignals, EventBus, EventPublisher, Outbox};
use tgos_domain::identity::backup_codes::BackupCodeKey;
use tgos_domain::identity::email_links::EmailLinkKey;
use tgos_domain::identity::lockout::{LockoutPolicy, ThrottlePolicy};
use tgos_domain::identity::{IdentityConfig, IdentityService};
use tgos_domain::inbox::InboxService;
use tgos_domain::jobs::{JobHandler, JobSignal};
use tgos_domain::leadership::LeaderLeaseRepository;
use tgos_domain::mail::Mailer;
use tgos_domain::notices::{NoticeConfig, NoticeJobs};
use tgos_domain::privacy::{ExportJobs, PrivacyService};
use tgos_domain::retention::{RetentionJobs, RetentionService};
use tgos_domain::store::Store;
use tgos_domain::tenancy::TenancyService;
use tgos_domain::vault::{KeyStore, Vault};
use tgos_domain::webhooks::{DestinationPolicy, WebhookSender};
use tgos_persistence::backup::{BackupKeysOf, Backups};
use tgos_persistence::connect;
use tgos_persistence::key_file::{self, KeyOrigin};
use tgos_persistence::mail;
use tgos_persistence::payments::{
    self, nowpayments::NowPaymentsGateway, nowpayments::NowPaymentsIpn, stripe::StripeGateway, stripe::StripeWebhook,
};
use tgos_telegram::mtproto::{MtprotoConfig, MtprotoGateway};
use tgos_telegram::sandbox::{SandboxGateway, SandboxNetwork};

use crate::bus::BusParts;
use crate::config::{AuthSettings, Profile, Settings};
use crate::graphql::{AppSchema, Services, build_schema};
use crate::http::metrics::{Metrics, PoolReading};
use crate::http::request_budget::RequestBudget;
use crate::limits::RateLimits;

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    /// The GraphQL schema with the use-case services in its data.
    pub schema: AppSchema,
    /// Identity use cases, also needed outside GraphQL to resolve bearer tokens.
    pub identity: IdentityService,
    /// Storage, for readiness.
    pub store: Arc<dyn Store>,
    /// The leader leases of the background work that runs in one process at a time (`crate::workers`).
    pub leaders: Arc<dyn LeaderLeaseRepository>,
    /// Whether this process is stopping; every open WebSocket watches it.
    pub shutdown: crate::shutdown::Shutdown,
    pub metrics: Metrics,
    /// Requests per minute of every caller: API keys, signed-in users, anonymous addresses.
    pub request_budget: Arc<RequestBudget>,
    /// Tenancy use cases (the schema holds them too), for tools that drive use cases directly.
    pub tenancy: TenancyService,
    /// Billing use cases, for the providers' webhooks.
    pub billing: BillingService,
    /// The account pool's use cases, for the lease expiry sweep.
    pub accounts: AccountsService,
    /// Connects accounts through the configured Telegram gateway.
    pub connections: Connections,
    /// The session vault (for the console-like tools of tests and the demo).
    pub vault: Vault,
    /// The inbox's use cases, for the sync loop.
    pub inbox: InboxService,
    /// Where published events go; subscriptions follow it.
    pub bus: Arc<dyn EventBus>,
    /// Where the relay publishes committed events (the bus itself, or NATS).
    pub publisher: Arc<dyn EventPublisher>,
    /// The configured bus's parts, for its tasks ([`crate::bus::BusTasks`]).
    pub bus_parts: BusParts,
    /// Wakes the relay after use cases commit events.
    pub outbox: Outbox,
    /// The automations' use cases (their jobs are among `job_handlers`).
    pub automations: AutomationService,
    /// Closing and erasing workspaces (its job is among `job_handlers`).
    pub erasure: WorkspaceErasure,
    /// Wakes the job worker after use cases commit jobs.
    pub jobs: JobSignal,
    /// Data-subject requests and exports (their jobs are among `job_handlers`; `/exports/<token>` serves).
    pub privacy: PrivacyService,
    /// What runs each job kind: the job worker (`crate::workers`) claims the kinds these handle. Features add
    /// theirs in [`AppState::build`], before the workers start.
    pub job_handlers: Vec<Arc<dyn JobHandler>>,
    /// Revocations and member changes, so open subscriptions re-check at once.
    pub access: AccessSignals,
    /// The simulated Telegram network, when the sandbox gateway is the one configured.
    pub sandbox: Option<SandboxNetwork>,
    /// Verifies Stripe webhooks; `None` when no webhook secret is configured.
    pub stripe_webhook: Option<StripeWebhook>,
    /// Verifies NOWPayments IPN callbacks; `None` when no IPN secret is configured.
    pub nowpayments_ipn: Option<NowPaymentsIpn>,
    pub settings: Arc<Settings>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        // Mode 0700: it holds the SQLite database, mail with tokens and, by default, the master key.
        tgos_persistence::private_fs::create_private_dir(&settings.data_dir)
            .with_context(|| format!("cannot create the data directory {}", settings.data_dir.display()))?;
        let database = settings.database_settings();
        let backend = database.url.split(':').next().unwrap_or("unknown").to_owned();
        let store = connect(&database)
            .await
            .map_err(|error| anyhow::anyhow!("cannot open the {backend} database: {error}"))?;
        tracing::info!(backend, migrate = %settings.database.migrate, "database ready, schema current");
        if store.login_role_is_privileged().await.unwrap_or(true) {
            tracing::warn!(
                "the database login role of database.url owns the schema or bypasses row-level security: a \
                 statement that stepped out of the application role would pass the tenant wall; give the server \
                 a login role of its own and the owner's URL as database.owner_url (docs/CONFIGURATION.md)"
            );
        }
        let metrics = Metrics::new()?;
        let mut store = store;
        let statements = metrics.statements();
        store.on_statement(move || statements.inc());
        let backup_keys = Arc::new(BackupKeysOf::new(Backups::new(settings.backup_dir()), &store));
        let limits = RateLimits::configured(&settings, &store, &metrics);
        let store = Arc::new(store);
        metrics.database.watch_pool({
            let store = store.clone();
            move || {
                let stats = store.pool_stats();
                PoolReading {
                    open: stats.open,
                    idle: stats.idle,
                    max: stats.max,
                }
            }
        });
        let keys: Arc<dyn KeyStore> = store.clone();
        let leaders: Arc<dyn LeaderLeaseRepository> = store.clone();
        let store: Arc<dyn Store> = store;

        let master_key = Arc::new(load_master_key(&settings)?);
        let hasher = Arc::new(Argon2Pool::new(HashingLimits::for_this_machine()).map_err(|e| anyhow::anyhow!("{e}"))?);
        let clock = Arc::new(SystemClock);
        let outbox = Outbox::new();
        let jobs = JobSignal::new();
        let access = AccessSignals::new();
        let bus_parts = BusParts::build(&settings).await?;
        let bus = bus_parts.bus();
        let publisher = bus_parts.publisher(&metrics);
        let vault = Vault::new(keys, master_key.clone(), clock.clone());
        let backup_code_key = BackupCodeKey::load(&vault)
            .await
            .context("loading the backup-code key")?;
        let identity = IdentityService::new(
            Arc::clone(&store),
            hasher,
            master_key.clone(),
            backup_code_key,
            clock.clone(),
            identity_config(&settings.auth),
        )
        .with_access_signals(access.clone())
        .with_jobs(jobs.clone());
        // Backup codes stored before keyed hashing are keyed before the first request can use one.
        identity
            .key_stored_backup_codes()
            .await
            .context("keying stored backup codes")?;
        let mailer = mailer(&settings)?;
        let notices = NoticeJobs::new(
            Arc::clone(&store),
            Arc::clone(&mailer),
            EmailLinkKey::from_master(&master_key),
            clock.clone(),
            NoticeConfig {
                app_url: settings.mail.app_url.clone(),
            },
        );
        let tenancy = TenancyService::new(Arc::clone(&store), clock.clone(), Arc::clone(&mailer))
            .with_access_signals(access.clone())
            .with_membership_cache(Duration::from_secs(settings.auth.credential_cache_secs))
            .with_outbox(outbox.clone());
        let billing = BillingService::new(
            Arc::clone(&store),
            clock.clone(),
            payment_gateways(&settings)?,
            billing_config(&settings)?,
        );
        let (gateway, sandbox) = telegram_gateway(&settings)?;
        let connections = Connections::new(
            Arc::clone(&store),
            vault.clone(),
            gateway,
            clock.clone(),
            ConnectionHolder::generate(),
        )
        .with_outbox(outbox.clone());
        let inbox = InboxService::new(Arc::clone(&store), connections.clone(), clock.clone())
            .with_outbox(outbox.clone())
            .with_jobs(jobs.clone())
            .with_slow_consumer_after(u64::try_from(settings.events.subscriber_buffer).unwrap_or(u64::MAX));
        let automations = AutomationService::new(
            Arc::clone(&store),
            clock.clone(),
            vault.clone(),
            inbox.clone(),
            webhook_sender(&settings.automations),
            jobs.clone(),
            outbox.clone(),
            automation_settings(&settings.automations),
        );
        let accounts = AccountsService::new(
            Arc::clone(&store),
            vault.clone(),
            clock.clone(),
            AccountsConfig {
                max_lease_days: settings.accounts.max_lease_days,
                low_balance_minor: settings.billing.low_balance_minor,
            },
        )
        .with_outbox(outbox.clone());
        let privacy = PrivacyService::new(
            Arc::clone(&store),
            Arc::new(SystemClock),
            Arc::new(
                tgos_persistence::ZipExports::new(&settings.exports_dir()).with_context(|| {
                    format!(
                        "cannot create the exports directory {}",
                        settings.exports_dir().display()
                    )
                })?,
            ),
            &master_key,
            jobs.clone(),
        );
        let erasure = WorkspaceErasure::new(
            Arc::clone(&store),
            clock,
            identity.clone(),
            tenancy.clone(),
            accounts.clone(),
            vault.clone(),
            jobs.clone(),
            access.clone(),
        )
        .with_mailer(Arc::clone(&mailer));
        let services = Services {
            identity: identity.clone(),
            tenancy: tenancy.clone(),
            billing: billing.clone(),
            accounts: accounts.clone(),
            connections: connections.clone(),
            inbox: inbox.clone(),
            automations: automations.clone(),
            privacy: privacy.clone(),
            erasure: erasure.clone(),
            sandbox: sandbox.clone(),
            bus: Arc::clone(&bus),
            limits: limits.clone(),
        };
        let schema = build_schema(&settings.graphql, Some(services));
        let retention = retention_service(&store, backup_keys, &settings);
        Ok(Self {
            schema,
            identity,
            store,
            leaders,
            shutdown: crate::shutdown::Shutdown::new(),
            metrics,
            request_budget: Arc::new(RequestBudget::new(
                &limits,
                settings.auth.api_key_requests_per_minute,
                settings.auth.user_requests_per_minute,
                settings.auth.anonymous_requests_per_minute,
            )),
            tenancy,
            billing,
            accounts,
            connections,
            vault,
            inbox,
            bus,
            publisher,
            bus_parts,
            outbox,
            jobs,
            job_handlers: vec![
                Arc::new(AutomationJobs::new(automations.clone())) as Arc<dyn JobHandler>,
                Arc::new(notices),
                Arc::new(ExportJobs::new(privacy.clone())),
                Arc::new(WorkspaceErasureJob::new(erasure.clone())),
                Arc::new(AccountErasureJob::new(erasure.clone())),
                Arc::new(RetentionJobs::new(retention)),
            ],
            privacy,
            erasure,
            automations,
            access,
            sandbox,
            stripe_webhook: settings
                .stripe
                .webhook_secret
                .as_ref()
                .map(|secret| StripeWebhook::new(secret.expose_secret().to_owned())),
            nowpayments_ipn: settings.nowpayments.ipn_secret.clone().map(NowPaymentsIpn::new),
            settings: Arc::new(settings),
        })
    }
}

/// The configured Telegram gateway, and the sandbox network behind it when it is the sandbox.
fn telegram_gateway(settings: &Settings) -> anyhow::Result<(Arc<dyn TelegramGateway>, Option<SandboxNetwork>)> {
    match settings.telegram.gateway.as_str() {
        "sandbox" => {
            tracing::info!("Telegram gateway: the sandbox (a simulated network; no real Telegram account is reached)");
            let network = SandboxNetwork::new();
            Ok((Arc::new(SandboxGateway::new(network.clone())), Some(network)))
        }
        "mtproto" => {
            let telegram = &settings.telegram;
            let (Some(api_id), Some(api_hash)) = (telegram.api_id, telegram.api_hash.as_ref()) else {
                anyhow::bail!(
                    "telegram.gateway = \"mtproto\" needs telegram.api_id and telegram.api_hash \
                     (TGOS_TELEGRAM__API_ID, TGOS_TELEGRAM__API_HASH; from https://my.telegram.org)"
                );
            };
            let config = MtprotoConfig::new(api_id, api_hash.expose_secret(), telegram.test_dc)?;
            tracing::info!(
                api_id = config.api_id(),
                test_dc = config.test_dc(),
                "Telegram gateway: MTProto (the real Telegram network)"
            );
            Ok((Arc::new(MtprotoGateway::new(config)), None))
        }
        other => anyhow::bail!("telegram.gateway {other:?} is not available; the gateways are: sandbox, mtproto"),
    }
}

fn billing_config(settings: &Settings) -> anyhow::Result<BillingConfig> {
    let currency = Currency::parse(&settings.billing.currency).ok_or_else(|| {
        anyhow::anyhow!(
            "billing.currency {:?} is not a supported currency",
            settings.billing.currency
        )
    })?;
    Ok(BillingConfig {
        currency,
        top_ups_per_hour: settings.billing.top_ups_per_hour,
        low_balance_minor: settings.billing.low_balance_minor,
        ..BillingConfig::default()
    })
}

/// The providers with credentials configured; the others refuse top-ups with a clear error.
fn payment_gateways(settings: &Settings) -> anyhow::Result<Vec<Arc<dyn PaymentGateway>>> {
    let public = settings.billing.public_url.trim_end_matches('/');
    let success_url = format!("{public}/billing?top_up=success");
    let cancel_url = format!("{public}/billing?top_up=cancelled");
    let mut gateways: Vec<Arc<dyn PaymentGateway>> = Vec::new();
    if let Some(secret_key) = &settings.stripe.secret_key {
        let stripe = StripeGateway::new(&payments::stripe::StripeSettings {
            secret_key: secret_key.expose_secret().to_owned(),
            api_base: settings.stripe.api_base.clone(),
            success_url: success_url.clone(),
            cancel_url: cancel_url.clone(),
        })
        .map_err(|e| anyhow::anyhow!(e))?;
        gateways.push(Arc::new(stripe));
    } else {
        tracing::info!("Stripe is not configured (TGOS_STRIPE__SECRET_KEY): Stripe top-ups are refused");
    }
    if let Some(api_key) = &settings.nowpayments.api_key {
        let nowpayments = NowPaymentsGateway::new(payments::nowpayments::NowPaymentsSettings {
            api_key: api_key.clone(),
            api_base: settings.nowpayments.api_base.clone(),
            ipn_callback_url: format!("{public}/webhooks/nowpayments"),
            success_url,
            cancel_url,
        })
        .map_err(|e| anyhow::anyhow!(e))?;
        gateways.push(Arc::new(nowpayments));
    } else {
        tracing::info!("NOWPayments is not configured (TGOS_NOWPAYMENTS__API_KEY): crypto top-ups are refused");
    }
    Ok(gateways)
}

fn mailer(settings: &Settings) -> anyhow::Result<Arc<dyn Mailer>> {
    let from = mail::sender(&settings.mail.from).map_err(|e| anyhow::anyhow!("mail.from: {e}"))?;
    Ok(match &settings.mail.smtp_url {
        Some(url) => Arc::new(
            mail::SmtpMailer::new(url.expose_secret(), from, settings.mail.allow_plaintext_smtp)
                .map_err(|e| anyhow::anyhow!("mail.smtp_url: {e}"))?,
        ),
        None => {
            let dir = settings.mail_dir();
            tracing::info!(dir = %dir.display(), "mail is written as .eml files (set TGOS_MAIL__SMTP_URL to send it)");
            Arc::new(mail::FileMailer::new(&dir, from).map_err(|e| anyhow::anyhow!("{e}"))?)
        }
    })
}

fn load_master_key(settings: &Settings) -> anyhow::Result<MasterKey> {
    if let Some(text) = &settings.master_key {
        return MasterKey::from_base64(text.expose_secret())
            .map_err(|_| anyhow::anyhow!("TGOS_MASTER_KEY is malformed: it must be base64 of exactly 32 bytes"));
    }
    if settings.profile == Profile::Production {
        anyhow::bail!("the production profile needs TGOS_MASTER_KEY: it creates and reads no key file");
    }
    let path = settings.key_file_path();
    let (key, origin) = key_file::load_or_create(&path)?;
    if origin == KeyOrigin::Created {
        tracing::warn!(
            path = %path.display(),
            "generated a new master key file; back it up, and set TGOS_MASTER_KEY in production"
        );
    }
    Ok(key)
}

fn identity_config(auth: &AuthSettings) -> IdentityConfig {
    let policy = |threshold| ThrottlePolicy {
        threshold,
        window: Duration::from_secs(auth.lockout_window_secs),
        base_lock: Duration::from_secs(auth.lockout_base_secs),
        max_lock: Duration::from_secs(auth.lockout_max_secs),
    };
    IdentityConfig {
        session_ttl: Duration::from_secs(auth.session_ttl_hours * 3600),
        // At least a second: a zero would end every session at its first request.
        session_idle: Duration::from_secs(auth.session_idle_secs.max(1)),
        credential_cache_ttl: Duration::from_secs(auth.credential_cache_secs),
        challenge_ttl: Duration::from_secs(auth.challenge_ttl_secs),
        lockout: LockoutPolicy {
            account: policy(auth.account_lockout_threshold),
            ip: policy(auth.ip_lockout_threshold),
        },
        sign_ups_per_ip: ThrottlePolicy {
            threshold: auth.sign_ups_per_ip_per_hour,
            window: Duration::from_secs(3600),
            base_lock: Duration::from_secs(3600),
            max_lock: Duration::from_secs(3600),
        },
        ..IdentityConfig::default()
    }
}

/// The automations' settings from the configuration.
fn automation_settings(file: &crate::config::AutomationSettingsFile) -> AutomationSettings {
    AutomationSettings {
        max_per_workspace: file.max_per_workspace,
        max_runs_per_dialog_hour: file.max_runs_per_dialog_hour,
        max_runs_per_workspace_hour: file.max_runs_per_workspace_hour,
        keep_skipped: Duration::from_secs(file.keep_skipped_days.max(1) * 24 * 60 * 60),
        allow_private_webhooks: file.allow_private_webhooks,
        ..AutomationSettings::default()
    }
}

/// Webhooks over HTTP, to the destinations the configuration allows.
fn webhook_sender(file: &crate::config::AutomationSettingsFile) -> Arc<dyn WebhookSender> {
    Arc::new(tgos_persistence::webhooks::HttpWebhookSender::new(
        DestinationPolicy {
            allow_private: file.allow_private_webhooks,
        },
        Duration::from_secs(file.webhook_timeout_secs.max(1)),
    ))
}

/// The retention sweep on the server's store, windows and backup directory (`[retention]`, `[backup]`): each
/// sweep also removes destroyed data keys from every backup there.
fn retention_service(store: &Arc<dyn Store>, backups: Arc<BackupKeysOf>, settings: &Settings) -> RetentionService {
    RetentionService::new(Arc::clone(store), Arc::new(SystemClock), settings.retention.windows())
        .with_batch(settings.retention.batch)
        .with_backups(backups)
}

#[cfg(test)]
mod gateway_tests {
    use super::*;
    use crate::config::Overrides;

    #[expect(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
    fn gateway_with(env: &[(&str, &str)]) -> Result<bool, String> {
        let mut outcome = Err(String::new());
        figment::Jail::expect_with(|jail| {
            for (name, value) in env {
                jail.set_env(name, value);
            }
            let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
            outcome = telegram_gateway(&settings)
                .map(|(gateway, sandbox)| gateway.is_sandbox() && sandbox.is_some())
                .map_err(|e| format!("{e:#}"));
            Ok(())
        });
        outcome
    }

    #[test]
    fn the_configured_gateway_is_built_and_an_incomplete_mtproto_setup_is_named() {
        assert_eq!(gateway_with(&[]), Ok(true), "the sandbox by default");
        let missing = gateway_with(&[("TGOS_TELEGRAM__GATEWAY", "mtproto")]).unwrap_err();
        assert!(missing.contains("TGOS_TELEGRAM__API_ID"), "{missing}");
        let bad_hash = gateway_with(&[
            ("TGOS_TELEGRAM__GATEWAY", "mtproto"),
            ("TGOS_TELEGRAM__API_ID", "94575"),
            ("TGOS_TELEGRAM__API_HASH", "not-a-hash"),
        ])
        .unwrap_err();
        assert!(bad_hash.contains("telegram.api_hash"), "{bad_hash}");
        assert!(!bad_hash.contains("not-a-hash"), "the hash is not repeated: {bad_hash}");
        let real = gateway_with(&[
            ("TGOS_TELEGRAM__GATEWAY", "mtproto"),
            ("TGOS_TELEGRAM__API_ID", "94575"),
            ("TGOS_TELEGRAM__API_HASH", "a3406de8d171bb422bb6ddf3bbd800e2"),
        ]);
        assert_eq!(real, Ok(false), "the real gateway is not the sandbox");
        let unknown = gateway_with(&[("TGOS_TELEGRAM__GATEWAY", "tdlib")]).unwrap_err();
        assert!(unknown.contains("sandbox, mtproto"), "{unknown}");
    }
}
