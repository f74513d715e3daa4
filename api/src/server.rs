//! Running the server: bind (port 0 picks a free port), serve, and shut down gracefully.
//!
//! Rules:
//! - On SIGINT or SIGTERM the listener closes, in-flight requests get `server.shutdown_grace_secs` to
//!   finish, then the process exits 0.
//! - `server.metrics_addr`, when set, is a second listener serving `/metrics` alone, stopped with the first.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use poem::Server;
use poem::listener::{Acceptor as _, Listener as _, TcpListener};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::bus::BusTasks;
use crate::config::Settings;
use crate::http::{metrics_routes, routes};
use crate::workers::Workers;

/// A server accepting connections.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    /// Where `/metrics` is served on its own (`server.metrics_addr`), when it is.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// The background loops (relay, sweep, sync); stopped with the server.
    workers: Workers,
    /// The event bus's consumer, bridges and degraded-delivery watch.
    bus: BusTasks,
    /// The metrics listener, when there is one.
    metrics: Option<(oneshot::Sender<()>, JoinHandle<std::io::Result<()>>)>,
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ignored = shutdown.send(());
        }
        self.workers.stop().await;
        self.bus.stop();
        if let Some((shutdown, task)) = self.metrics.take() {
            let _ignored = shutdown.send(());
            task.await.context("metrics server task panicked")??;
        }
        self.task.await.context("server task panicked")??;
        Ok(())
    }
}

/// Builds the state, binds and starts serving in the background.
pub async fn start(settings: Settings) -> anyhow::Result<RunningServer> {
    let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
    let requested = settings.server.addr;
    let state = AppState::build(settings).await?;
    let (acceptor, addr) = bind(requested).await?;
    tracing::info!(%addr, "listening on http://{addr}/graphql");
    let metrics = match state.settings.server.metrics_addr {
        Some(requested) => {
            let (acceptor, addr) = bind(requested).await?;
            tracing::info!(%addr, "metrics on http://{addr}/metrics");
            let (shutdown, signal) = oneshot::channel::<()>();
            let app = metrics_routes(&state);
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
            Some((addr, shutdown, task))
        }
        None => None,
    };
    let workers = if state.settings.server.workers {
        Workers::start(&state)
    } else {
        tracing::info!("background workers are off (server.workers = false)");
        Workers::none()
    };
    let bus = BusTasks::start(&state);
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
    let (metrics_addr, metrics) = match metrics {
        Some((addr, shutdown, task)) => (Some(addr), Some((shutdown, task))),
        None => (None, None),
    };
    Ok(RunningServer {
        addr,
        metrics_addr,
        state,
        shutdown: Some(shutdown),
        task,
        workers,
        bus,
        metrics,
    })
}

/// A bound listener and the address it got (port 0 picks one).
async fn bind(requested: SocketAddr) -> anyhow::Result<(impl poem::listener::Acceptor + 'static, SocketAddr)> {
    let acceptor = TcpListener::bind(requested)
        .into_acceptor()
        .await
        .with_context(|| format!("cannot listen on {requested}"))?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|addr| addr.as_socket_addr().copied())
        .context("listener has no address")?;
    Ok((acceptor, addr))
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
