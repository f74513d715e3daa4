//! Configuration: built-in defaults, then `tgos.toml` (or the file named by `--config`), then environment
//! variables `TGOS_SECTION__KEY` (and the conventional `DATABASE_URL`), then command-line flags.
//!
//! Every key is documented in `docs/CONFIGURATION.md`. Secrets (`master_key`, `database.url`) are
//! `SecretString`s: their `Debug` output is redacted, so printing the settings never prints a secret.
//! This is the only module that reads the process environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tgos_persistence::MigrateMode;

use crate::http::forwarded::{ForwardedHeader, TrustedProxies};

mod bus;
mod exports;
mod limits;
mod profile;
mod retention;
mod telemetry;
mod workers;

pub use bus::EventBusKind;
pub use exports::ExportSettings;
pub use limits::{LimitsSettings, LimitsStore};
pub use profile::{Profile, Sources};
pub use retention::{BackupSettings, RetentionSettings};
pub use telemetry::{DEFAULT_SERVICE_NAME, TelemetrySettings};
pub use workers::WorkersSettings;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Where the embedded database, the key file and written mail live.
    pub data_dir: PathBuf,
    /// Base64 of 32 bytes; when unset, a key file under `data_dir` is used (created on first start).
    pub master_key: Option<SecretString>,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub graphql: GraphqlSettings,
    pub auth: AuthSettings,
    pub mail: MailSettings,
    pub log: LogSettings,
    pub billing: BillingSettings,
    pub stripe: StripeSettings,
    pub nowpayments: NowPaymentsSettings,
    pub accounts: AccountsSettings,
    pub telegram: TelegramSettings,
    pub events: EventsSettings,
    pub jobs: JobsSettings,
    pub automations: AutomationSettingsFile,
    #[serde(default)]
    pub exports: ExportSettings,
    /// Where the per-window limits count (`[limits]`).
    #[serde(default)]
    pub limits: LimitsSettings,
    pub retention: RetentionSettings,
    pub backup: BackupSettings,
    /// Span export over OTLP (`[telemetry]`); off unless `telemetry.otlp_endpoint` is set.
    #[serde(default)]
    pub telemetry: TelemetrySettings,
    #[serde(default)]
    pub workers: WorkersSettings,
    /// `development` or `production` (see [`profile`]).
    pub profile: Profile,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TelegramSettings {
    /// How accounts reach Telegram: `sandbox` (the in-process simulated network, the embedded default) or
    /// `mtproto` (the real Telegram network; needs `api_id` and `api_hash`). See docs/TELEGRAM.md.
    pub gateway: String,
    /// The application's official `api_id` from https://my.telegram.org (`mtproto` only).
    #[serde(default)]
    pub api_id: Option<i64>,
    /// The application's `api_hash` from https://my.telegram.org (`mtproto` only; a secret, never printed).
    #[serde(default, skip_serializing)]
    pub api_hash: Option<SecretString>,
    /// Use Telegram's test data centres instead of production ones (`mtproto` only).
    #[serde(default)]
    pub test_dc: bool,
    /// How often every rented account's inbox is brought up to date, in seconds.
    pub sync_every_secs: u64,
    /// Whether this process keeps one connection open per account it holds and streams updates in
    /// (`tgos_domain::inbox::live`); unset: on unless the gateway is `sandbox`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_connections: Option<bool>,
    /// How often the live connections' supervisor lists the rented accounts, in seconds.
    pub live_scan_secs: u64,
    /// How often a live connection renews its connection lease, in seconds (kept between 1 and 30).
    pub live_renew_secs: u64,
    /// The largest file `GET /media/<messageId>` streams, in bytes; a larger one is refused with 413.
    pub media_max_bytes: u64,
}

impl TelegramSettings {
    /// Whether live connections run: as configured, else on for every gateway but the sandbox.
    pub fn live_connections_on(&self) -> bool {
        self.live_connections.unwrap_or(self.gateway != "sandbox")
    }
}

/// `telegram.media_max_bytes` unless configured: 20 MiB.
pub const DEFAULT_MEDIA_MAX_BYTES: u64 = 20 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventsSettings {
    /// The longest the relay waits before publishing committed events when no use case woke it, in
    /// milliseconds (use cases wake it at once after they commit).
    pub relay_tick_ms: u64,
    /// How long published events stay in the outbox for `afterSequence` replays, in hours.
    pub replay_window_hours: u64,
    /// Events a subscriber may fall behind its workspace's newest event before it is disconnected as a slow
    /// consumer (up to that, a subscriber past the live window catches up from the outbox).
    pub subscriber_buffer: usize,
    /// Events each followed workspace keeps in memory for subscribers momentarily behind; allocated when the
    /// workspace's first subscriber arrives, so it is what an idle followed workspace costs.
    pub live_window: usize,
    /// How often an open subscription re-checks its caller's token and membership even without a signal, in
    /// seconds (revocations and member changes signal at once).
    pub access_recheck_secs: u64,
    /// How long one WebSocket send may wait for a client that does not read before it is disconnected, in
    /// seconds.
    pub send_timeout_secs: u64,
    /// How often an open WebSocket is pinged, in seconds (0: never); a client heard from not at all for two
    /// of these periods is disconnected.
    pub keepalive_secs: u64,
    /// `memory` (one process per database) or `nats` (replicas share events and access changes over NATS).
    pub bus: EventBusKind,
    /// The NATS server (`bus = "nats"`), e.g. `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// The first token of this deployment's NATS subjects and the name of its stream (`<PREFIX>_EVENTS`).
    pub nats_prefix: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobsSettings {
    /// The longest the worker waits for new jobs when nothing is due and no use case woke it, in milliseconds
    /// (use cases wake it at once after they commit a job; the poll finds jobs that became due by time, and
    /// those another process enqueued).
    pub poll_ms: u64,
    /// How long finished (done or failed) jobs are kept, in hours; their dedupe keys stay taken until then.
    pub keep_finished_hours: u64,
    /// How long a claimed job is held without renewal, in seconds; a worker that stops leaves its jobs to
    /// another after this long.
    pub lease_secs: u64,
    /// How many jobs one worker claims and runs at once.
    pub batch: u64,
}

/// `[automations]`: limits of the workspaces' automations.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AutomationSettingsFile {
    /// The most automations one workspace may have.
    pub max_per_workspace: u64,
    /// The most executions one dialog may run in an hour (the storm guard).
    pub max_runs_per_dialog_hour: u64,
    /// The most executions one workspace may run in an hour (the storm guard).
    pub max_runs_per_workspace_hour: u64,
    /// How long executions that did not run are kept to explain why, in days.
    pub keep_skipped_days: u64,
    /// Whether webhooks may go to private, loopback and link-local addresses (and over plain http there);
    /// cloud metadata addresses stay refused. The production profile refuses it.
    pub allow_private_webhooks: bool,
    /// How long one webhook delivery may take, in seconds.
    pub webhook_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountsSettings {
    /// The longest rental or renewal, in days.
    pub max_lease_days: i64,
    /// How often the sweep returns accounts of leases that ran out to the pool, in seconds.
    pub expiry_sweep_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BillingSettings {
    /// ISO 4217 code wallets are kept in.
    pub currency: String,
    /// Top-ups a workspace may start per hour.
    pub top_ups_per_hour: u64,
    /// This server as customers and providers reach it: payment pages return to `<public_url>/billing`, and
    /// NOWPayments posts to `<public_url>/webhooks/nowpayments`.
    pub public_url: String,
    /// A charge, rental or renewal that takes a wallet below this (minor units) emails the workspace's owner;
    /// 0 turns the notice off.
    pub low_balance_minor: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StripeSettings {
    /// `sk_live_…`/`sk_test_…`; unset means Stripe top-ups are refused with a clear error.
    pub secret_key: Option<SecretString>,
    /// The webhook endpoint's signing secret (`whsec_…`); unset means `/webhooks/stripe` answers 503.
    pub webhook_secret: Option<SecretString>,
    pub api_base: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NowPaymentsSettings {
    /// Unset means NOWPayments top-ups are refused with a clear error.
    pub api_key: Option<SecretString>,
    /// The IPN secret; unset means `/webhooks/nowpayments` answers 503.
    pub ipn_secret: Option<SecretString>,
    pub api_base: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    /// `smtp://user:pass@host:587` (STARTTLS) or `smtps://…`; unset means `.eml` files under `data_dir/mail`.
    pub smtp_url: Option<SecretString>,
    /// The sender of every email.
    pub from: String,
    /// Whether SMTP may send in clear: `smtp://` then upgrades with STARTTLS only when the server offers it.
    /// Off by default: STARTTLS is required for `smtp://`, TLS from the start for `smtps://`.
    #[serde(default)]
    pub allow_plaintext_smtp: bool,
    /// The web app people use: links in emails point at `<app_url>/verify-email?token=…` and
    /// `<app_url>/confirm-email?token=…`, which pass the token to `verifyEmail` / `confirmEmailChange`.
    pub app_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerSettings {
    /// Listen address; port 0 picks a free port (the log says which).
    pub addr: SocketAddr,
    /// Seconds in-flight requests get to finish after SIGINT/SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Whether this process runs the background work (the job worker, and the leader-held work: the outbox
    /// relay, the lease expiry sweep, the inbox sync, the automations' upkeep, the retention enqueue) besides
    /// serving; `false` serves only (`tgos serve --workers=false`; `tgos worker` runs the work alone).
    pub workers: bool,
    /// Networks of reverse proxies (CIDRs or addresses) whose requests may name the client in
    /// `forwarded_header`; empty: the socket peer is always the client.
    pub trusted_proxies: TrustedProxies,
    /// Which header trusted proxies name the client in: `x-forwarded-for` or `forwarded` (RFC 7239).
    pub forwarded_header: ForwardedHeader,
    /// A second listen address serving only `/metrics`; unset: none. In the development profile `/metrics` is
    /// on the main listener too, in production only here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_addr: Option<SocketAddr>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `postgres://…` or `sqlite://…`; unset means the SQLite file `data_dir/tgos.db`.
    pub url: Option<SecretString>,
    /// PostgreSQL: the schema owner's URL, used only to migrate; `url` then logs in as the server's own role,
    /// a member of `tgos_app` that owns nothing. Unset: `url` migrates too (its role owns the schema).
    pub owner_url: Option<SecretString>,
    pub max_connections: u32,
    /// `auto`: the server applies pending migrations at start, under the migration lock; `check`: it refuses
    /// to start while any is pending (migrations are a deployment step, `tgos migrate up`).
    pub migrate: MigrateMode,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphqlSettings {
    /// Deepest data selection accepted (introspection is measured apart).
    pub max_depth: usize,
    /// Largest query cost accepted: a field costs 1 plus its selection, a list `first` (or `days`) times
    /// its selection.
    pub max_complexity: usize,
    /// Most aliases one request may use.
    pub max_aliases: usize,
    /// Most root mutation fields one request may run.
    pub max_mutation_fields: usize,
    /// The longest one HTTP GraphQL request may run before it is stopped, in milliseconds (0: no limit).
    pub request_timeout_ms: u64,
    /// Serve GraphiQL to browsers on `GET /graphql` (default: on in development, off in production).
    pub graphiql: bool,
    /// Answer introspection (`__schema`, `__type`) (default: on in development, off in production).
    pub introspection: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthSettings {
    pub session_ttl_hours: u64,
    /// How long a resolved session token and a member's role are served from memory, in seconds (0: read
    /// for every request). Changes made through this process take effect at once; changes another process
    /// makes to the same database, within this many seconds.
    pub credential_cache_secs: u64,
    pub challenge_ttl_secs: u64,
    pub account_lockout_threshold: u32,
    pub ip_lockout_threshold: u32,
    pub lockout_window_secs: u64,
    pub lockout_base_secs: u64,
    pub lockout_max_secs: u64,
    /// Sign-ups allowed from one IP address within an hour of each other.
    pub sign_ups_per_ip_per_hour: u32,
    /// Requests one API key may make per minute.
    pub api_key_requests_per_minute: u32,
    /// A session unused for this many seconds stops working, within its absolute lifetime.
    pub session_idle_secs: u64,
    /// Requests one signed-in user (all their sessions together) may make per minute.
    pub user_requests_per_minute: u32,
    /// Requests anonymous callers from one address (an IPv6 /64) may make per minute.
    pub anonymous_requests_per_minute: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogSettings {
    /// A `tracing` filter, e.g. `info,tgos_api=debug`.
    pub filter: String,
    /// `text` or `json`.
    pub format: String,
}

/// The defaults, as a serializable tree figment can merge over.
#[derive(Debug, Serialize)]
struct Defaults {
    data_dir: PathBuf,
    server: ServerSettings,
    database: DatabaseDefaults,
    graphql: GraphqlSettings,
    auth: AuthSettings,
    mail: MailDefaults,
    log: LogSettings,
    billing: BillingSettings,
    stripe: ApiBaseDefault,
    nowpayments: ApiBaseDefault,
    accounts: AccountsSettings,
    telegram: TelegramSettings,
    events: EventsSettings,
    jobs: JobsSettings,
    automations: AutomationSettingsFile,
    retention: RetentionSettings,
    backup: BackupSettings,
    profile: Profile,
}

#[derive(Debug, Serialize)]
struct ApiBaseDefault {
    api_base: String,
}

#[derive(Debug, Serialize)]
struct DatabaseDefaults {
    max_connections: u32,
    migrate: MigrateMode,
}

#[derive(Debug, Serialize)]
struct MailDefaults {
    from: String,
    allow_plaintext_smtp: bool,
    app_url: String,
}

fn defaults() -> Defaults {
    Defaults {
        data_dir: PathBuf::from("./data"),
        server: ServerSettings {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            shutdown_grace_secs: 30,
            workers: true,
            trusted_proxies: TrustedProxies::default(),
            forwarded_header: ForwardedHeader::default(),
            metrics_addr: None,
        },
        database: DatabaseDefaults {
            max_connections: 16,
            migrate: MigrateMode::Auto,
        },
        graphql: GraphqlSettings {
            max_depth: 12,
            max_complexity: 10_000,
            max_aliases: 30,
            max_mutation_fields: 10,
            request_timeout_ms: 30_000,
            graphiql: true,
            introspection: true,
        },
        auth: AuthSettings {
            session_ttl_hours: 24 * 30,
            credential_cache_secs: 5,
            challenge_ttl_secs: 300,
            account_lockout_threshold: 5,
            ip_lockout_threshold: 30,
            lockout_window_secs: 15 * 60,
            lockout_base_secs: 60,
            lockout_max_secs: 60 * 60,
            sign_ups_per_ip_per_hour: 20,
            api_key_requests_per_minute: 600,
            session_idle_secs: 7 * 24 * 60 * 60,
            user_requests_per_minute: 600,
            anonymous_requests_per_minute: 300,
        },
        mail: MailDefaults {
            from: "Telegram OS <no-reply@telegramos.app>".to_owned(),
            allow_plaintext_smtp: false,
            app_url: "http://127.0.0.1:8080".to_owned(),
        },
        log: LogSettings {
            filter: "info".to_owned(),
            format: "text".to_owned(),
        },
        billing: BillingSettings {
            currency: "USD".to_owned(),
            top_ups_per_hour: 20,
            public_url: "http://127.0.0.1:8080".to_owned(),
            low_balance_minor: 500,
        },
        stripe: ApiBaseDefault {
            api_base: "https://api.stripe.com/".to_owned(),
        },
        nowpayments: ApiBaseDefault {
            api_base: "https://api.nowpayments.io".to_owned(),
        },
        accounts: AccountsSettings {
            max_lease_days: 90,
            expiry_sweep_secs: 60,
        },
        telegram: TelegramSettings {
            gateway: "sandbox".to_owned(),
            api_id: None,
            api_hash: None,
            test_dc: false,
            sync_every_secs: 5,
            live_connections: None,
            live_scan_secs: 5,
            live_renew_secs: 20,
            media_max_bytes: DEFAULT_MEDIA_MAX_BYTES,
        },
        events: EventsSettings {
            relay_tick_ms: 1000,
            replay_window_hours: 24,
            subscriber_buffer: 1024,
            live_window: 64,
            access_recheck_secs: 60,
            send_timeout_secs: 10,
            keepalive_secs: 30,
            bus: EventBusKind::Memory,
            nats_url: "nats://127.0.0.1:4222".into(),
            nats_prefix: "tgos".into(),
        },
        jobs: JobsSettings {
            poll_ms: 500,
            keep_finished_hours: 168,
            lease_secs: 60,
            batch: 8,
        },
        automations: AutomationSettingsFile {
            max_per_workspace: 200,
            max_runs_per_dialog_hour: 20,
            max_runs_per_workspace_hour: 5_000,
            keep_skipped_days: 14,
            allow_private_webhooks: false,
            webhook_timeout_secs: 10,
        },
        retention: RetentionSettings::default(),
        backup: BackupSettings::default(),
        profile: Profile::Development,
    }
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub addr: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    /// `server.workers` (`tgos serve --workers=false`).
    pub workers: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration is invalid: {0}")]
    Invalid(String),
}

impl Settings {
    /// Loads the layered configuration from the real environment, and refuses what its profile does not allow.
    pub fn load(overrides: &Overrides) -> Result<Self, ConfigError> {
        let file = overrides
            .config_file
            .clone()
            .unwrap_or_else(|| PathBuf::from("tgos.toml"));
        let invalid = |e: figment::Error| ConfigError::Invalid(e.to_string());
        let layered = Self::layers(&file, overrides, Profile::Development);
        let profile: Profile = layered.extract_inner("profile").map_err(invalid)?;
        let figment = match profile {
            Profile::Development => layered,
            other => Self::layers(&file, overrides, other),
        };
        let settings: Self = figment.extract().map_err(invalid)?;
        let sources = Sources {
            master_key_in_file: Figment::from(Toml::file(&file)).contains("master_key"),
            allow_plaintext_smtp: figment
                .extract_inner::<bool>("mail.allow_plaintext_smtp")
                .unwrap_or(false),
        };
        profile::check(&settings, sources)?;
        Ok(settings)
    }

    /// Every layer: the defaults (with the profile's), the file, the environment, the command line.
    fn layers(file: &Path, overrides: &Overrides, profile: Profile) -> Figment {
        let mut figment = Figment::from(Serialized::defaults(defaults()))
            .merge(Serialized::defaults(profile.defaults()))
            .merge(Toml::file(file))
            .merge(Env::raw().only(&["DATABASE_URL"]).map(|_| "database.url".into()))
            .merge(Env::raw().only(&["RUST_LOG"]).map(|_| "log.filter".into()))
            .merge(Env::prefixed("TGOS_").split("__"));
        if let Some(addr) = overrides.addr {
            figment = figment.merge(Serialized::default("server.addr", addr));
        }
        if let Some(dir) = &overrides.data_dir {
            figment = figment.merge(Serialized::default("data_dir", dir));
        }
        if let Some(workers) = overrides.workers {
            figment = figment.merge(Serialized::default("server.workers", workers));
        }
        figment
    }

    /// Defaults and the TOML file only: what tests and tools build on.
    pub fn figment_without_env(file: &Path) -> Figment {
        Figment::from(Serialized::defaults(defaults())).merge(Toml::file(file))
    }

    /// The built-in defaults with `data_dir` set: the embedded configuration tests start from.
    pub fn embedded(data_dir: &Path) -> Result<Self, ConfigError> {
        Self::embedded_as(data_dir, Profile::Development)
    }

    /// The built-in defaults of `profile` with `data_dir` set. The profile's refusals are [`Settings::load`]'s,
    /// so a test may run a production server on the sandbox network.
    pub fn embedded_as(data_dir: &Path, profile: Profile) -> Result<Self, ConfigError> {
        Figment::from(Serialized::defaults(defaults()))
            .merge(Serialized::defaults(profile.defaults()))
            .merge(Serialized::default("profile", profile))
            .merge(Serialized::default("data_dir", data_dir))
            .merge(Serialized::default(
                "server.addr",
                SocketAddr::from(([127, 0, 0, 1], 0)),
            ))
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// The server's database URL: `database.url`, else the SQLite file under `data_dir` (created if missing).
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => secrecy::ExposeSecret::expose_secret(url).to_owned(),
            None => format!("sqlite://{}?mode=rwc", self.sqlite_path().display()),
        }
    }

    /// How the server reaches its database: [`Self::database_url`] as the application role, the owner's URL for
    /// migrations, and `database.migrate`.
    pub fn database_settings(&self) -> tgos_persistence::DatabaseSettings {
        tgos_persistence::DatabaseSettings {
            url: self.database_url(),
            owner_url: self
                .database
                .owner_url
                .as_ref()
                .map(|url| secrecy::ExposeSecret::expose_secret(url).to_owned()),
            max_connections: self.database.max_connections,
            privileges: tgos_persistence::Privileges::Application,
            migrate: self.database.migrate,
        }
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("tgos.db")
    }

    pub fn key_file_path(&self) -> PathBuf {
        self.data_dir.join("master.key")
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }
}

#[cfg(test)]
mod tests;
