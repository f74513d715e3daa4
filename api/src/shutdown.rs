//! The stop of a process as its open WebSockets see it.
//!
//! Rules:
//! - On a graceful stop every open WebSocket is closed with 1012 (service restart) and a reason telling the
//!   client to reconnect with `afterSequence`, so subscribers move to another replica and lose nothing; a
//!   connection that upgrades after the stop began is closed the same way at once.
//! - poem's graceful shutdown waits for HTTP requests only: an upgraded WebSocket runs on a task of its own
//!   that it does not track. So each connection holds a [`ShutdownWatch`] for its whole life, and the stop
//!   waits ([`Shutdown::connections_closed`], within the grace) until every one has sent its close and gone.

use std::sync::Arc;

use tokio::sync::watch;

/// The close code and reason of the WebSockets open when the process stops.
pub const RESTARTING: (u16, &str) = (
    1012,
    "service restart: this server is stopping; reconnect with afterSequence",
);

/// Whether the process is stopping, shared by the state and watched by every open WebSocket.
#[derive(Debug, Clone)]
pub struct Shutdown {
    stopping: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    pub fn new() -> Self {
        Self {
            stopping: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Tells every open WebSocket to close (and the ones yet to open not to stay).
    pub fn begin(&self) {
        self.stopping.send_replace(true);
    }

    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// The watch one WebSocket holds for its whole life; it counts as open until dropped.
    pub fn watch(&self) -> ShutdownWatch {
        ShutdownWatch(self.stopping.subscribe())
    }

    /// How many WebSockets are open.
    pub fn open_connections(&self) -> usize {
        self.stopping.receiver_count()
    }

    /// Resolves once no WebSocket is open.
    pub async fn connections_closed(&self) {
        self.stopping.closed().await;
    }
}

/// One open WebSocket's view of the stop.
#[derive(Debug)]
pub struct ShutdownWatch(watch::Receiver<bool>);

impl ShutdownWatch {
    /// Resolves once the process is stopping (at once if it already is).
    pub async fn stopping(&mut self) {
        let _stopping = self.0.wait_for(|stopping| *stopping).await;
    }
}
