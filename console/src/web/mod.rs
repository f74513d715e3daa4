//! The console's web pages: `tgos-console serve --addr …`, on a listener of its own (never the public
//! API's), server-rendered HTML from the templates beside this file, one small stylesheet, no JavaScript.
//!
//! Rules:
//! - **Staff with two-factor only.** Sign-in is login and password, then a TOTP or backup code, through the
//!   identity use cases (so the API's lockout, throttling and sign-in audit apply). An account that is not
//!   staff, or has no second factor, is refused and the session its sign-in opened is signed out at once.
//! - **The session cookie** holds the session token: `HttpOnly; SameSite=Strict; Path=/`, and `Secure` unless
//!   the console listens on a loopback address. A session unused for [`IDLE`] stops working.
//! - **CSRF.** Every form carries a token: a MAC of the session token under a key derived from the master key
//!   (the sign-in forms: of a nonce in a short-lived cookie). A POST without the right one changes nothing
//!   (403).
//! - **Audited.** Every page that shows personal data audits `console.viewed` on the platform chain, and every
//!   action is audited by its use case, with the staff member, IP address and user agent (the Audit page's
//!   search, export and chain verification too: see `audit`).
//! - Pages are `no-store`, framed by nobody, and load nothing from elsewhere (`default-src 'self'`).

mod audit;
mod auth;
mod backups;
mod lawful;
mod pool;
mod render;
mod requests;
mod retention;
mod staff;
mod users;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use poem::listener::{Acceptor as _, Listener as _, TcpListener};
use poem::middleware::SetHeader;
use poem::web::Redirect;
use poem::{EndpointExt as _, IntoEndpoint, Route, Server, get, handler, post};
use tgos_domain::compliance::ComplianceService;
use tgos_domain::compliance::lawful::LawfulRequests;
use tgos_domain::crypto::DerivedKey;
use tgos_domain::identity::IdentityConfig;
use tgos_domain::retention::{DEFAULT_BATCH, RetentionService, RetentionWindows};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::context::{Connection, ConnectionArgs};

pub use render::when;

/// A console session unused for this long stops working.
pub const IDLE: Duration = Duration::from_secs(15 * 60);
/// A console session's longest life, however busy.
pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Where the web pages listen: an address of their own, never the public API's.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub addr: SocketAddr,
    /// The retention windows the Retention page reports and runs (as `retention report|run`).
    #[command(flatten)]
    pub windows: crate::retention::WindowArgs,
    /// The backups the Backups page lists (as `backup list`).
    #[command(flatten)]
    pub backups: crate::backup::BackupDirArgs,
    /// The exports directory (`exports.dir`); lawful disclosure packages go to its `lawful/` (as `lawful …`).
    #[arg(long = "exports-dir", env = "TGOS_EXPORTS__DIR")]
    pub exports_dir: Option<PathBuf>,
}

/// What the Retention and Backups pages work with, from the same settings as the `retention` and `backup`
/// commands.
#[derive(Debug, Clone)]
pub struct Upkeep {
    pub windows: RetentionWindows,
    /// Rows one statement of the sweep changes at most.
    pub batch: u64,
    /// The backup directory (`backup.dir`).
    pub backup_dir: PathBuf,
    /// The exports directory (`exports.dir`): lawful packages are under its `lawful/`.
    pub exports_dir: PathBuf,
}

impl Upkeep {
    /// The defaults: the default windows and batch, backups under the data directory.
    pub fn defaults(args: &ConnectionArgs) -> Self {
        Self {
            windows: RetentionWindows::default(),
            batch: DEFAULT_BATCH,
            backup_dir: args.data_dir.join("backups"),
            exports_dir: args.data_dir.join("exports"),
        }
    }
}

/// What the pages work with.
#[derive(Debug)]
pub struct Console {
    pub(crate) connection: Connection,
    pub(crate) compliance: ComplianceService,
    pub(crate) csrf: DerivedKey,
    /// Cookies are `Secure` unless the console listens on loopback.
    pub(crate) secure_cookies: bool,
    pub(crate) pages: render::Pages,
    /// The retention sweep over the console's own owner connection, removing destroyed keys from the backups.
    pub(crate) retention: RetentionService,
    pub(crate) backup_dir: PathBuf,
    /// The lawful requests register, its packages under the exports directory.
    pub(crate) lawful: LawfulRequests,
}

/// The console's identity settings: the 15-minute idle timeout.
fn identity_config() -> IdentityConfig {
    IdentityConfig {
        session_idle: IDLE,
        session_ttl: LIFETIME,
        ..IdentityConfig::default()
    }
}

impl Console {
    pub async fn open(args: &ConnectionArgs, listening_on: SocketAddr, upkeep: Upkeep) -> anyhow::Result<Arc<Self>> {
        let connection = Connection::open_with(args, identity_config()).await?;
        let compliance = connection.compliance();
        let csrf = connection.master_key.derive("tgos/console-csrf/v1");
        let (store, _url) = crate::context::open_store(args).await?;
        let retention = crate::retention::service(store, upkeep.windows, upkeep.batch, &upkeep.backup_dir);
        let packages = tgos_persistence::ZipPackages::under(&upkeep.exports_dir).map_err(|error| {
            anyhow::anyhow!(
                "cannot open the packages' directory under {}: {error}",
                upkeep.exports_dir.display()
            )
        })?;
        let lawful = LawfulRequests::new(
            Arc::clone(&connection.store),
            Arc::new(tgos_domain::clock::SystemClock),
            Arc::new(packages),
        );
        Ok(Arc::new(Self {
            connection,
            compliance,
            csrf,
            secure_cookies: !listening_on.ip().is_loopback(),
            pages: render::Pages::new()?,
            retention,
            backup_dir: upkeep.backup_dir,
            lawful,
        }))
    }
}

#[handler]
fn home() -> Redirect {
    Redirect::see_other("/requests")
}

#[handler]
fn stylesheet() -> poem::Response {
    poem::Response::builder()
        .content_type("text/css; charset=utf-8")
        .header("cache-control", "max-age=3600")
        .body(include_str!("static/console.css"))
}

/// Every page of the console.
pub fn routes(console: Arc<Console>) -> impl IntoEndpoint {
    Route::new()
        .at("/", get(home))
        .at("/static/console.css", get(stylesheet))
        .at("/login", get(auth::login_page).post(auth::login))
        .at("/login/code", post(auth::second_factor))
        .at("/logout", post(auth::logout))
        .at("/requests", get(requests::queue).post(requests::register))
        .at("/requests/new", get(requests::new_form))
        .at("/requests/:id", get(requests::detail))
        .at("/requests/:id/:action", post(requests::act))
        .at("/lawful", get(lawful::list).post(lawful::register))
        .at("/lawful/:id", get(lawful::show))
        .at("/lawful/:id/package.zip", get(lawful::download))
        .at("/lawful/:id/:action", post(lawful::act))
        .at("/users", get(users::find))
        .at("/users/:id", get(users::show))
        .at("/users/:id/:action", post(users::act))
        .at("/staff", get(staff::list).post(staff::add))
        .at("/staff/:id/:action", post(staff::act))
        .at("/audit", get(audit::search))
        .at("/audit/export", get(audit::export))
        .at("/audit/verify", post(audit::verify))
        .at("/pool", get(pool::list))
        .at("/pool/sandbox", post(pool::add_sandbox))
        .at("/pool/:id/:action", post(pool::act))
        .at("/retention", get(retention::report))
        .at("/retention/run", post(retention::run))
        .at("/backups", get(backups::list))
        .with(
            SetHeader::new()
                .overriding("cache-control", "no-store")
                .overriding("x-frame-options", "DENY")
                .overriding("x-content-type-options", "nosniff")
                .overriding("referrer-policy", "no-referrer")
                .overriding(
                    "content-security-policy",
                    "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                ),
        )
        .data(console)
}

/// The console serving in the background.
#[derive(Debug)]
pub struct RunningConsole {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningConsole {
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ignored = shutdown.send(());
        }
        self.task.await.context("console task panicked")??;
        Ok(())
    }
}

/// Binds `addr` (port 0 picks one) and serves the pages in the background, with the default [`Upkeep`].
pub async fn start(args: &ConnectionArgs, addr: SocketAddr) -> anyhow::Result<RunningConsole> {
    start_with(args, addr, Upkeep::defaults(args)).await
}

/// [`start`] with the retention windows and backup directory of `upkeep`.
pub async fn start_with(args: &ConnectionArgs, addr: SocketAddr, upkeep: Upkeep) -> anyhow::Result<RunningConsole> {
    let acceptor = TcpListener::bind(addr)
        .into_acceptor()
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .context("listener has no address")?;
    let console = Console::open(args, bound, upkeep).await?;
    let app = routes(console);
    let (shutdown, signal) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                app,
                async move {
                    let _closed = signal.await;
                },
                Some(Duration::from_secs(5)),
            )
            .await
    });
    Ok(RunningConsole {
        addr: bound,
        shutdown: Some(shutdown),
        task,
    })
}

/// `tgos-console serve`: serves until interrupted.
pub async fn serve(args: ServeArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let upkeep = Upkeep {
        windows: args.windows.windows(),
        batch: args.windows.batch(),
        backup_dir: args.backups.dir(connection),
        exports_dir: args.exports_dir.unwrap_or_else(|| connection.data_dir.join("exports")),
    };
    let running = start_with(connection, args.addr, upkeep).await?;
    eprintln!("tgos-console: the staff console is at http://{}/", running.addr);
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    running.stop().await
}
