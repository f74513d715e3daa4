//! A running server and a client for it.

use std::net::SocketAddr;
use std::sync::Mutex;

use anyhow::Context as _;
use secrecy::SecretString;
use serde_json::{Value, json};
use tgos_api::config::Settings;
use tgos_api::server::{RunningServer, start};

use crate::gql::GqlResponse;
pub use crate::options::TestOptions;

pub fn init_logs() {
    #[expect(clippy::disallowed_methods, reason = "the harness's own switch")]
    if std::env::var("TEST_LOG").is_ok() {
        let _already = tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_test_writer()
            .try_init();
    }
}

/// The server's job handlers (listed by the kinds they run).
#[derive(Clone)]
pub struct JobHandlers(pub Vec<std::sync::Arc<dyn tgos_domain::jobs::JobHandler>>);

impl std::fmt::Debug for JobHandlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|handler| handler.kinds()))
            .finish()
    }
}

#[derive(Debug)]
pub struct TestApp {
    pub addr: SocketAddr,
    /// The listener serving `/metrics` alone, when the server has one (the production profile's tests).
    pub metrics_addr: Option<SocketAddr>,
    pub data_dir: tempfile::TempDir,
    pub database_url: Option<String>,
    /// The URL the server logs in with (PostgreSQL: [`SERVER_LOGIN_ROLE`]).
    pub server_database_url: Option<String>,
    /// The server's identity use cases, for driving what has no public API (staff accounts).
    pub identity: tgos_domain::identity::IdentityService,
    /// The server's tenancy and billing use cases, for driving what has no public API yet (charges).
    pub tenancy: tgos_domain::tenancy::TenancyService,
    pub billing: tgos_domain::billing::BillingService,
    /// The account pool's use cases, for stocking the pool and running the expiry sweep on demand.
    pub accounts: tgos_domain::accounts::pool::AccountsService,
    /// Connects accounts through the server's Telegram gateway (the sandbox).
    pub connections: tgos_domain::accounts::pool::connections::Connections,
    /// The server's session vault, over the real key store.
    pub vault: tgos_domain::vault::Vault,
    /// The inbox's use cases, for syncing on demand.
    pub inbox: tgos_domain::inbox::InboxService,
    /// The automations' use cases, for running their jobs with workers of a test's own.
    pub automations: tgos_domain::automation::AutomationService,
    /// The data-subject request use cases, for running the export jobs on a test's own clock.
    pub privacy: tgos_domain::privacy::PrivacyService,
    /// Wakes the server's outbox relay, as use cases do after committing events.
    pub outbox: tgos_domain::events::Outbox,
    /// The server's job handlers, for running jobs with workers of a test's own.
    pub job_handlers: JobHandlers,
    /// The simulated Telegram network the server's sandbox gateway runs on.
    sandbox: Option<tgos_telegram::sandbox::SandboxNetwork>,
    /// The fake NOWPayments and Stripe the server's real clients talk to.
    pub nowpayments: crate::fakes::FakeNowPayments,
    pub stripe: crate::fakes::FakeStripe,
    /// The NATS URL and subject prefix the server's bus uses, when it uses NATS.
    pub nats: Option<(String, String)>,
    /// The server's storage (the application role on PostgreSQL, behind row-level security).
    pub store: std::sync::Arc<dyn tgos_domain::store::Store>,
    /// The settings the server started with, for replicas of it ([`TestApp::replica`]).
    pub settings: Settings,
    client: reqwest::Client,
    pub(crate) server: Mutex<Option<RunningServer>>,
}

/// The login role test servers use on PostgreSQL: a member of the application role that owns nothing.
pub const SERVER_LOGIN_ROLE: &str = "tgos_server";

/// Creates (once per cluster) the application role and the server's login role as a deployment would, and
/// gives the test database's URL with that login role.
async fn server_login(owner_url: &str) -> anyhow::Result<String> {
    use sea_orm::{ConnectionTrait as _, TransactionTrait as _};
    let admin = sea_orm::Database::connect(owner_url).await?;
    let tx = admin.begin().await?;
    // Test processes start servers concurrently; creating cluster-wide roles is serialized.
    tx.execute_unprepared("SELECT pg_advisory_xact_lock(7263001)").await?;
    tx.execute_unprepared(&format!(
        "DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tgos_app') THEN
                CREATE ROLE tgos_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SERVER_LOGIN_ROLE}') THEN
                CREATE ROLE {SERVER_LOGIN_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE IN ROLE tgos_app;
            END IF;
        END $$"
    ))
    .await?;
    tx.commit().await?;
    admin.close().await?;
    let mut url = reqwest::Url::parse(owner_url)?;
    url.set_username(SERVER_LOGIN_ROLE)
        .map_err(|()| anyhow::anyhow!("the test database URL takes no user name"))?;
    url.set_password(None)
        .map_err(|()| anyhow::anyhow!("the test database URL takes no password"))?;
    Ok(url.to_string())
}

impl TestApp {
    pub async fn spawn(database_url: Option<String>, options: TestOptions) -> anyhow::Result<Self> {
        Self::spawn_on(database_url, None, options).await
    }

    /// A second server on this one's database, as another replica would run: its own listener, memory and
    /// data directory (mail, key file), the same database and master key. The caller shuts it down.
    pub async fn spawn_beside(&self, options: TestOptions) -> anyhow::Result<Self> {
        let key = std::fs::read_to_string(self.data_dir.path().join("master.key"))
            .context("the first server has no master key file")?;
        let sqlite = self
            .database_url
            .is_none()
            .then(|| self.data_dir.path().join("tgos.db"));
        Self::spawn_on(self.database_url.clone(), Some((key, sqlite)), options).await
    }

    /// [`Self::spawn_beside`], by the name the many-replica tests use.
    pub async fn spawn_replica(&self, options: TestOptions) -> anyhow::Result<Self> {
        self.spawn_beside(options).await
    }

    /// A server on `database_url` (PostgreSQL; `None`: SQLite), or beside another one: its master key and,
    /// on SQLite, its database file.
    async fn spawn_on(
        database_url: Option<String>,
        beside: Option<(String, Option<std::path::PathBuf>)>,
        options: TestOptions,
    ) -> anyhow::Result<Self> {
        tgos_persistence::payments::install_tls_provider();
        let data_dir = tempfile::tempdir()?;
        let mut settings = if options.production {
            let mut settings = Settings::embedded_as(data_dir.path(), tgos_api::config::Profile::Production)?;
            settings.master_key = Some(SecretString::from(PRODUCTION_MASTER_KEY));
            settings.server.metrics_addr = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
            settings
        } else {
            Settings::embedded(data_dir.path())?
        };
        // On PostgreSQL the server logs in as a role of its own that owns nothing, as in production; the test's
        // URL (a superuser) is the owner's, for migrations.
        let server_database_url = match &database_url {
            Some(url) => Some(server_login(url).await?),
            None => None,
        };
        settings.database.url = server_database_url.clone().map(SecretString::from);
        if let Some((url, prefix)) = &options.nats {
            settings.events.bus = tgos_api::config::EventBusKind::Nats;
            settings.events.nats_url.clone_from(url);
            settings.events.nats_prefix.clone_from(prefix);
        }
        settings.database.owner_url = database_url.clone().map(SecretString::from);
        if let Some((key, sqlite)) = beside {
            settings.master_key = Some(SecretString::from(key.trim().to_owned()));
            if let Some(file) = sqlite {
                settings.database.url = Some(SecretString::from(format!("sqlite://{}?mode=rwc", file.display())));
            }
        }
        settings.limits.store = options.limits_store;
        settings.database.max_connections = 8;
        settings.auth.account_lockout_threshold = options.account_lockout_threshold;
        settings.auth.ip_lockout_threshold = options.ip_lockout_threshold;
        settings.auth.sign_ups_per_ip_per_hour = options.sign_ups_per_ip_per_hour;
        settings.auth.api_key_requests_per_minute = options.api_key_requests_per_minute;
        settings.auth.user_requests_per_minute = options.user_requests_per_minute;
        settings.auth.anonymous_requests_per_minute = options.anonymous_requests_per_minute;
        settings.graphql.request_timeout_ms = options.request_timeout_ms;
        settings.automations.allow_private_webhooks = options.allow_private_webhooks;
        if let Some(complexity) = options.max_complexity {
            settings.graphql.max_complexity = complexity;
        }
        if let Some(depth) = options.max_depth {
            settings.graphql.max_depth = depth;
        }
        settings.server.shutdown_grace_secs = 5;
        settings.events.subscriber_buffer = options.subscriber_buffer;
        settings.events.live_window = options.live_window;
        settings.events.keepalive_secs = options.keepalive_secs;
        settings.events.relay_tick_ms = options.relay_tick_ms;
        settings.server.workers = options.workers;
        // Tests run the retention sweep themselves, on a clock they move; a sweep offered at start would put a
        // job into every test's queue.
        settings.retention.sweep_every_secs = 0;
        settings.auth.credential_cache_secs = options.credential_cache_secs;
        settings.auth.session_idle_secs = options.session_idle_secs;
        settings.events.access_recheck_secs = options.access_recheck_secs;
        settings.server.trusted_proxies = options
            .trusted_proxies
            .iter()
            .map(|net| (*net).to_owned())
            .collect::<Vec<_>>()
            .try_into()
            .map_err(|e: String| anyhow::anyhow!(e))?;
        // Tests run the lease expiry sweep themselves, when they mean to.
        settings.accounts.expiry_sweep_secs = 24 * 60 * 60;
        // Tests sync inboxes themselves too.
        settings.telegram.sync_every_secs = 24 * 60 * 60;
        settings.telegram.live_connections = Some(options.live_connections);
        settings.telegram.live_scan_secs = 1;
        settings.telegram.live_renew_secs = 2;
        settings.telegram.media_max_bytes = options.media_max_bytes;
        let nowpayments = crate::fakes::FakeNowPayments::start().await?;
        settings.nowpayments.api_key = Some(SecretString::from(NOWPAYMENTS_API_KEY));
        settings.nowpayments.api_base = nowpayments.base_url.clone();
        settings.nowpayments.ipn_secret = Some(SecretString::from(NOWPAYMENTS_IPN_SECRET));
        settings.stripe.webhook_secret = Some(SecretString::from(STRIPE_WEBHOOK_SECRET));
        let stripe = crate::fakes::FakeStripe::start().await?;
        if options.stripe_configured {
            settings.stripe.secret_key = Some(SecretString::from(STRIPE_SECRET_KEY));
            settings.stripe.api_base = stripe.base_url.clone();
        }
        let nats = options.nats.clone();
        let kept = settings.clone();
        let server = start(settings).await.context("server failed to start")?;
        Ok(Self {
            settings: kept,
            addr: server.addr,
            metrics_addr: server.metrics_addr,
            identity: server.state.identity.clone(),
            tenancy: server.state.tenancy.clone(),
            billing: server.state.billing.clone(),
            accounts: server.state.accounts.clone(),
            connections: server.state.connections.clone(),
            vault: server.state.vault.clone(),
            inbox: server.state.inbox.clone(),
            automations: server.state.automations.clone(),
            outbox: server.state.outbox.clone(),
            job_handlers: JobHandlers(server.state.job_handlers.clone()),
            privacy: server.state.privacy.clone(),
            sandbox: server.state.sandbox.clone(),
            nowpayments,
            stripe,
            store: server.state.store.clone(),
            nats,
            data_dir,
            database_url,
            server_database_url,
            client: reqwest::Client::builder().user_agent("tgos-tests/1.0").build()?,
            server: Mutex::new(Some(server)),
        })
    }

    /// The sandbox network, to act as Telegram would (contacts edit and delete, updates repeat).
    pub fn sandbox(&self) -> Option<&tgos_telegram::sandbox::SandboxNetwork> {
        self.sandbox.as_ref()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.client
    }

    /// How many SQL statements the server has executed, from its metrics.
    pub async fn sql_statements(&self) -> anyhow::Result<u64> {
        let text = self.http().get(self.url("/metrics")).send().await?.text().await?;
        text.lines()
            .find_map(|line| line.strip_prefix("tgos_db_statements_total "))
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no statement counter in the metrics"))
    }

    /// Stops the server gracefully (idempotent).
    pub async fn shutdown(&self) {
        let server = self.server.lock().ok().and_then(|mut s| s.take());
        if let Some(server) = server
            && let Err(error) = server.stop().await
        {
            eprintln!("server did not stop cleanly: {error:#}");
        }
    }

    /// POST a GraphQL operation, optionally with a bearer token.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> anyhow::Result<GqlResponse> {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        GqlResponse::read(response).await
    }

    /// Signs up a user whose password is `correct horse battery staple`; returns its session token.
    pub async fn sign_up(&self, username: &str) -> anyhow::Result<String> {
        let response = self
            .gql(
                None,
                "mutation($input: SignUpInput!) { signUp(input: $input) { session { token } } }",
                json!({ "input": {
                    "email": format!("{username}@example.com"),
                    "fullName": format!("{username} Example"),
                    "username": username,
                    "password": PASSWORD,
                    "ageConfirmed": true,
                }}),
            )
            .await?;
        response.str_at("/data/signUp/session/token")
    }

    /// Signs in; returns the raw payload (session or challenge).
    pub async fn sign_in(&self, login: &str, password: &str) -> anyhow::Result<GqlResponse> {
        self.gql(
            None,
            "mutation($input: SignInInput!) { signIn(input: $input) { session { token } twoFactorChallenge } }",
            json!({ "input": { "login": login, "password": password } }),
        )
        .await
    }

    /// Confirms the password (and `code`, with two-factor on) on the session of `token`, as sensitive changes
    /// need; fails unless the window opened.
    pub async fn reauthenticate(&self, token: &str, code: Option<&str>) -> anyhow::Result<()> {
        let response = self
            .gql(
                Some(token),
                "mutation($p: String!, $c: String) { reauthenticate(password: $p, code: $c) }",
                json!({ "p": PASSWORD, "c": code }),
            )
            .await?;
        anyhow::ensure!(response.is_ok(), "reauthenticate failed: {}", response.body);
        Ok(())
    }

    /// Turns two-factor on for the signed-in user (re-authenticating first); returns the base32 secret and
    /// the backup codes.
    pub async fn enable_totp(&self, token: &str) -> anyhow::Result<(String, Vec<String>)> {
        self.reauthenticate(token, None).await?;
        let begun = self
            .gql(
                Some(token),
                "mutation { beginTotpEnrollment { secret otpauthUri qrSvg } }",
                json!({}),
            )
            .await?;
        let secret = begun.str_at("/data/beginTotpEnrollment/secret")?;
        let code = crate::totp::code(&secret, 0)?;
        let confirmed = self
            .gql(
                Some(token),
                "mutation($code: String!) { confirmTotpEnrollment(code: $code) { backupCodes } }",
                json!({ "code": code }),
            )
            .await?;
        let codes = confirmed
            .at("/data/confirmTotpEnrollment/backupCodes")?
            .as_array()
            .context("backupCodes is not a list")?
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        Ok((secret, codes))
    }
}

/// The master key of production-profile test servers (base64 of 32 bytes).
const PRODUCTION_MASTER_KEY: &str = "dGdvcy10ZXN0cy1wcm9kdWN0aW9uLW1hc3Rlci1rZXk=";

pub const PASSWORD: &str = "correct horse battery staple";
/// The credentials the test server is configured with for the providers.
pub const NOWPAYMENTS_API_KEY: &str = "np-test-key";
pub const NOWPAYMENTS_IPN_SECRET: &str = "np-test-ipn-secret";
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_test_secret";
pub const STRIPE_SECRET_KEY: &str = "sk_test_51TgosFakeKey";

impl TestApp {
    /// A separate connection to the test's database, for looking behind the server's back.
    pub async fn db(&self) -> anyhow::Result<sea_orm::DatabaseConnection> {
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rw", self.data_dir.path().join("tgos.db").display()),
        };
        Ok(sea_orm::Database::connect(url).await?)
    }

    /// The database as the staff console opens it: the schema owner, which reads across tenants (audit
    /// chain verification).
    pub async fn console_store(&self) -> anyhow::Result<tgos_persistence::SeaStore> {
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rw", self.data_dir.path().join("tgos.db").display()),
        };
        Ok(tgos_persistence::connect(&tgos_persistence::DatabaseSettings {
            url,
            owner_url: None,
            max_connections: 1,
            privileges: tgos_persistence::Privileges::Owner,
            migrate: tgos_persistence::MigrateMode::Auto,
        })
        .await?)
    }

    /// A pool of one connection opened as the server opens its own: on PostgreSQL its own login role, switched
    /// to the application role.
    pub async fn server_pool(&self) -> anyhow::Result<sea_orm::DatabaseConnection> {
        let url = match &self.server_database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rw", self.data_dir.path().join("tgos.db").display()),
        };
        let store = tgos_persistence::connect(&tgos_persistence::DatabaseSettings {
            url,
            owner_url: self.database_url.clone(),
            max_connections: 1,
            privileges: tgos_persistence::Privileges::Application,
            migrate: tgos_persistence::MigrateMode::Auto,
        })
        .await?;
        Ok(store.connection().clone())
    }

    /// The ledger invariants of a workspace as the server's storage sees them.
    pub async fn billing_check(
        &self,
        workspace: tgos_domain::ids::WorkspaceId,
    ) -> anyhow::Result<tgos_domain::billing::ports::LedgerCheck> {
        Ok(self.store.ledger_check(workspace).await?)
    }

    /// The raw bytes of one column of a user's row.
    pub async fn raw_user_column(&self, username: &str, column: &str) -> anyhow::Result<Vec<u8>> {
        use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
        let db = self.db().await?;
        let backend = db.get_database_backend();
        let placeholder = if backend == DatabaseBackend::Postgres {
            "$1"
        } else {
            "?"
        };
        let sql = format!("SELECT {column} FROM users WHERE username_key = {placeholder}");
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [username.to_lowercase().into()],
            ))
            .await?
            .context("no such user")?;
        Ok(row.try_get::<Vec<u8>>("", column)?)
    }
}

impl TestApp {
    /// Creates a workspace as the holder of `token`; returns its id.
    pub async fn create_workspace(&self, token: &str, name: &str) -> anyhow::Result<String> {
        let response = self
            .gql(
                Some(token),
                "mutation($n: String!) { createWorkspace(name: $n) { id } }",
                json!({ "n": name }),
            )
            .await?;
        response.str_at("/data/createWorkspace/id")
    }

    /// Creates an API key named `ci` with `AUDIT_READ` in `workspace` as the holder of `token`; returns its secret.
    pub async fn create_audit_key(&self, token: &str, workspace: &str) -> anyhow::Result<String> {
        self.gql(
            Some(token),
            "mutation($w: ID!) { createApiKey(workspaceId: $w, name: \"ci\", scopes: [AUDIT_READ]) { secret } }",
            json!({ "w": workspace }),
        )
        .await?
        .str_at("/data/createApiKey/secret")
    }

    /// The invitation token from the newest email to `email` in the file mailer's directory.
    pub fn invitation_token_for(&self, email: &str) -> anyhow::Result<String> {
        let dir = self.data_dir.path().join("mail");
        let mut newest: Option<(std::time::SystemTime, String)> = None;
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let text = std::fs::read_to_string(entry.path())?;
            if !text.contains(&format!("To: {email}")) || !text.contains("tgi_") {
                continue;
            }
            let modified = entry.metadata()?.modified()?;
            if newest.as_ref().is_none_or(|(at, _)| modified >= *at) {
                newest = Some((modified, text));
            }
        }
        let (_, text) = newest.with_context(|| format!("no email to {email} in {}", dir.display()))?;
        let token = text
            .split_whitespace()
            .find(|word| word.starts_with("tgi_"))
            .context("the email holds no invitation token")?;
        Ok(token.to_owned())
    }

    /// Signs up `username`, invites them to `workspace` with `role` as the holder of `inviter`, and accepts;
    /// returns the new member's session token and user id.
    pub async fn join(
        &self,
        inviter: &str,
        workspace: &str,
        username: &str,
        role: &str,
    ) -> anyhow::Result<(String, String)> {
        let token = self.sign_up(username).await?;
        self.verify_email_of(username).await?;
        let email = format!("{username}@example.com");
        let invited = self
            .gql(
                Some(inviter),
                "mutation($w: ID!, $e: String!, $r: Role!) { inviteMember(workspaceId: $w, email: $e, role: $r) { id } }",
                json!({ "w": workspace, "e": email, "r": role }),
            )
            .await?;
        anyhow::ensure!(invited.is_ok(), "invite failed: {}", invited.body);
        let invitation = self.invitation_token_for(&email)?;
        let accepted = self
            .gql(
                Some(&token),
                "mutation($t: String!) { acceptInvitation(token: $t) { id } }",
                json!({ "t": invitation }),
            )
            .await?;
        anyhow::ensure!(accepted.is_ok(), "accept failed: {}", accepted.body);
        let me = self.gql(Some(&token), "{ me { user { id } } }", json!({})).await?;
        Ok((token, me.str_at("/data/me/user/id")?))
    }
}
