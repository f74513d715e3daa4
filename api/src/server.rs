//! Running the server: bind (port 0 picks a free port), serve, and shut down gracefully.
//!
//! Rule: on SIGINT or SIGTERM the listener closes, in-flight requests get `server.shutdown_grace_secs` to
//! finish, then the process exits 0.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use poem::Server;
use poem::listener::{Acceptor as _, Listener as _, TcpListener};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use tgos_domain::accounts::pool::AccountsService;
use tgos_domain::clock::SystemClock;
use tgos_domain::events::OutboxRelay;
use tgos_domain::inbox::InboxService;

use crate::app::AppState;
use crate::config::Settings;
use crate::http::routes;

/// A server accepting connections.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// The lease expiry sweep; stopped with the server.
    sweep: JoinHandle<()>,
    /// The inbox sync; stopped with the server.
    sync: JoinHandle<()>,
    /// The outbox relay; stopped with the server.
    relay: JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ignored = shutdown.send(());
        }
        self.sweep.abort();
        self.sync.abort();
        self.relay.abort();
        self.task.await.context("server task panicked")??;
        Ok(())
    }
}

/// Every `period`, brings the inbox of every rented account up to date (one account at a time, each on its
/// connection lease, so replicas never connect one account twice).
async fn sync_inboxes(inbox: InboxService, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match inbox.sync_all().await {
            Ok(0) => {}
            Ok(stored) => tracing::debug!(stored, "inbox sync stored new messages"),
            Err(error) => tracing::error!(error = %error, detail = ?error, "the inbox sync failed"),
        }
    }
}

/// Every `period`, returns the accounts of leases that ran out to the pool. A failed sweep is logged and
/// retried at the next tick; nothing it half-did stays half-done (one transaction per lease).
async fn sweep_expired_leases(accounts: AccountsService, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match accounts.expire_due_leases().await {
            Ok(0) => {}
            Ok(ended) => tracing::info!(ended, "leases expired; their accounts are back in the pool"),
            Err(error) => tracing::error!(error = %error, detail = ?error, "the lease expiry sweep failed"),
        }
    }
}

/// Builds the state, binds and starts serving in the background.
pub async fn start(settings: Settings) -> anyhow::Result<RunningServer> {
    let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
    let requested = settings.server.addr;
    let state = AppState::build(settings).await?;
    let acceptor = TcpListener::bind(requested)
        .into_acceptor()
        .await
        .with_context(|| format!("cannot listen on {requested}"))?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|addr| addr.as_socket_addr().copied())
        .context("listener has no address")?;
    tracing::info!(%addr, "listening on http://{addr}/graphql");
    let sweep = tokio::spawn(sweep_expired_leases(
        state.accounts.clone(),
        Duration::from_secs(state.settings.accounts.expiry_sweep_secs.max(1)),
    ));
    let sync = tokio::spawn(sync_inboxes(
        state.inbox.clone(),
        Duration::from_secs(state.settings.telegram.sync_every_secs.max(1)),
    ));
    let relay = OutboxRelay::new(
        state.store.clone(),
        state.bus.clone(),
        Arc::new(SystemClock),
        state.outbox.clone(),
    );
    let relay = tokio::spawn(relay.run(
        Duration::from_millis(state.settings.events.relay_tick_ms.max(10)),
        Duration::from_secs(state.settings.events.replay_window_hours.max(1) * 60 * 60),
    ));
    let (shutdown, signal) = oneshot::channel::<()>();
    let app = routes(state.clone());
    let task = tokio::spawn(async move {
        Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                app,
                async move {
                    let _closed = signal.await;
                },
                Some(grace),
            )
            .await
    });
    Ok(RunningServer {
        addr,
        state,
        shutdown: Some(shutdown),
        task,
        sweep,
        sync,
        relay,
    })
}

/// Serves until SIGINT or SIGTERM, then shuts down gracefully. With `demo`, first seeds the demo world
/// ([`crate::demo`]), prints how to sign in, and lets its contact write while the server runs.
pub async fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let server = start(settings).await?;
    let chatter = if demo {
        let world = crate::demo::seed(&server.state).await?;
        let network = server
            .state
            .sandbox
            .clone()
            .context("the demo needs the sandbox gateway")?;
        #[expect(clippy::print_stdout, reason = "the demo's sign-in is for the person who started it")]
        {
            println!(
                "demo: sign in at http://{}/graphql with login {:?} and password {:?} (also in {})",
                server.addr,
                world.login,
                world.password,
                server.state.settings.data_dir.join("demo-login.txt").display()
            );
        }
        Some(tokio::spawn(crate::demo::chatter(server.state.clone(), world, network)))
    } else {
        None
    };
    wait_for_signal().await?;
    if let Some(chatter) = chatter {
        chatter.abort();
    }
    tracing::info!("shutting down: finishing in-flight requests");
    server.stop().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("cannot listen for SIGINT")?,
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.context("cannot listen for SIGINT")?;
    Ok(())
}
