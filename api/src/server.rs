//! Running a process: bind (port 0 picks a free port), serve, and shut down gracefully.
//!
//! Rules:
//! - A process has a [`Role`]: `tgos serve` serves the API and, unless `server.workers` is off
//!   (`--workers=false`), runs the background work too; `tgos worker` runs the background work alone, and its
//!   listener (`server.addr`) serves only `/healthz`, `/readyz` and `/metrics` for probes and scraping.
//! - On SIGINT or SIGTERM the listener stops accepting, every open WebSocket is closed with 1012 (service
//!   restart: reconnect with `afterSequence`), the job worker claims no more jobs, the leader leases are
//!   released, and in-flight requests, WebSocket closes and running jobs get `server.shutdown_grace_secs` to
//!   finish; then the process exits 0.
//! - `server.metrics_addr`, when set, is a second listener serving `/metrics` alone, stopped with the first.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use poem::listener::{Acceptor as _, Listener as _, TcpListener};
use poem::{IntoEndpoint, Server};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::bus::BusTasks;
use crate::config::Settings;
use crate::http::{metrics_routes, routes, worker_routes};
use crate::workers::Workers;

/// What a process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Serves the API, and runs the background work unless `server.workers` is off (`tgos serve`).
    Serve,
    /// Runs the background work alone; its listener serves `/healthz`, `/readyz` and `/metrics`
    /// (`tgos worker`).
    Worker,
}

/// A server accepting connections.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    /// Where `/metrics` is served on its own (`server.metrics_addr`), when it is.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    pub role: Role,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    /// The background work; stopped with the server.
    workers: Workers,
    /// The event bus's consumer, bridges and degraded-delivery watch.
    bus: BusTasks,
    /// The metrics listener, when there is one.
    metrics: Option<(oneshot::Sender<()>, JoinHandle<std::io::Result<()>>)>,
}

impl RunningServer {
    /// The holder id of this process's leader leases (`leader_leases.holder`), when it runs the background
    /// work.
    pub fn leader_holder(&self) -> Option<&str> {
        self.workers.leader_holder()
    }

    /// Stops gracefully: stops accepting, closes every WebSocket with 1012, stops the background work
    /// (releasing its leader leases), and gives in-flight requests, closes and running jobs
    /// `server.shutdown_grace_secs` to finish.
    pub async fn stop(self) -> anyhow::Result<()> {
        let Self {
            state,
            shutdown,
            task,
            workers,
            bus,
            metrics,
            ..
        } = self;
        let grace = Duration::from_secs(state.settings.server.shutdown_grace_secs);
        state.shutdown.begin();
        let _ignored = shutdown.send(());
        let sockets = async {
            if tokio::time::timeout(grace, state.shutdown.connections_closed())
                .await
                .is_err()
            {
                tracing::warn!(
                    open = state.shutdown.open_connections(),
                    "WebSockets still open after the grace; they are dropped"
                );
            }
        };
        tokio::join!(workers.stop(grace), sockets);
        bus.stop();
        if let Some((shutdown, task)) = metrics {
            let _ignored = shutdown.send(());
            task.await.context("metrics server task panicked")??;
        }
        task.await.context("server task panicked")??;
        Ok(())
    }
}

/// Builds the state, binds and starts serving the API in the background (`tgos serve`).
pub async fn start(settings: Settings) -> anyhow::Result<RunningServer> {
    start_as(settings, Role::Serve).await
}

/// Builds the state, binds the health listener and starts the background work (`tgos worker`).
pub async fn start_worker(settings: Settings) -> anyhow::Result<RunningServer> {
    start_as(settings, Role::Worker).await
}

async fn start_as(settings: Settings, role: Role) -> anyhow::Result<RunningServer> {
    let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
    let requested = settings.server.addr;
    let state = AppState::build(settings).await?;
    let (acceptor, addr) = bind(requested).await?;
    match role {
        Role::Serve => tracing::info!(%addr, "listening on http://{addr}/graphql"),
        Role::Worker => tracing::info!(%addr, "listening on http://{addr}/healthz (a worker: health and metrics only)"),
    }
    let metrics = match state.settings.server.metrics_addr {
        Some(requested) => {
            let (acceptor, addr) = bind(requested).await?;
            tracing::info!(%addr, "metrics on http://{addr}/metrics");
            let (shutdown, task) = spawn_listener(acceptor, metrics_routes(&state), grace);
            Some((addr, shutdown, task))
        }
        None => None,
    };
    let workers = if role == Role::Worker || state.settings.server.workers {
        Workers::start(&state)
    } else {
        tracing::info!(
            "background work is off (server.workers = false): another process (tgos worker) must run it; this \
             one publishes no events: its subscribers get them over the bus (events.bus = \"nats\"), or from \
             the outbox a few seconds late"
        );
        Workers::none()
    };
    let bus = BusTasks::start(&state);
    let (shutdown, task) = match role {
        Role::Serve => spawn_listener(acceptor, routes(state.clone()), grace),
        Role::Worker => spawn_listener(acceptor, worker_routes(state.clone()), grace),
    };
    let (metrics_addr, metrics) = match metrics {
        Some((addr, shutdown, task)) => (Some(addr), Some((shutdown, task))),
        None => (None, None),
    };
    Ok(RunningServer {
        addr,
        metrics_addr,
        state,
        role,
        shutdown,
        task,
        workers,
        bus,
        metrics,
    })
}

/// Serves `app` on `acceptor` until the returned sender fires, then lets in-flight requests finish within
/// `grace`.
fn spawn_listener(
    acceptor: impl poem::listener::Acceptor + 'static,
    app: impl IntoEndpoint<Endpoint: 'static> + Send + 'static,
    grace: Duration,
) -> (oneshot::Sender<()>, JoinHandle<std::io::Result<()>>) {
    let (shutdown, signal) = oneshot::channel::<()>();
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
    (shutdown, task)
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
    stop(server).await
}

/// Runs the background work until SIGINT or SIGTERM, then stops it gracefully (`tgos worker`).
pub async fn work(settings: Settings) -> anyhow::Result<()> {
    let server = start_worker(settings).await?;
    wait_for_signal().await?;
    stop(server).await
}

async fn stop(server: RunningServer) -> anyhow::Result<()> {
    tracing::info!(
        grace_secs = server.state.settings.server.shutdown_grace_secs,
        "shutting down: closing WebSockets (1012), finishing in-flight requests and running jobs, releasing \
         leader leases"
    );
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
