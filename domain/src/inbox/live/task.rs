//! One account's live connection, from connect to stop.
//!
//! Rules:
//! - **Subscribe first, then catch up**: the stream is opened before the difference since the stored state is
//!   asked for, so nothing falls between the two; what both deliver is applied once (updates at or below the
//!   state applied are skipped, and applying is idempotent anyway).
//! - **The lease is renewed** every [`LiveTiming::renew_every`](super::LiveTiming) (a third of the lease by
//!   default). A lease found lost stops the task: another connection has the account now, and Telegram
//!   invalidates a session used twice. Disconnecting gives back only this connection's own lease.
//! - **A changed session is sealed again** after connecting and on every renewal, under the lease.
//! - **Dropped, not refused**: a stream that ends, a network failure or a flood wait closes the connection
//!   and opens a new one after the [`Backoff`] wait; the new one catches up from the stored state, so what
//!   arrived during the outage is applied once. A failure that concerns the account (a revoked session, a ban,
//!   a freeze, a spam limit) is recorded on its health and ends the task with no retry: the supervisor parks
//!   the account until its health changes.
//! - **Shared while up**: once caught up, the connection is attached to the process's [`LiveSet`](super::LiveSet)
//!   so sends and read marks of this process use it instead of waiting for the lease.
//! - **Stopping** (shutdown, the account no longer rented) closes the connection and releases the lease.

use std::sync::Arc;

use tokio::sync::{Semaphore, SemaphorePermit};

use super::LiveTiming;
use super::backoff::Backoff;
use super::stop::StopSignal;
use crate::accounts::gateway::{GatewayError, Next, UpdateState};
use crate::accounts::pool::connections::Connected;
use crate::accounts::pool::records::AccountRecord;
use crate::error::DomainError;
use crate::inbox::InboxService;
use crate::inbox::sync::SyncFailure;
use crate::tenancy::TenantScope;

/// Why a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TaskEnd {
    /// Told to stop; the lease was released.
    Stopped,
    /// Another connection holds the account's lease.
    Unavailable,
    /// The lease was taken over while connected.
    LeaseLost,
    /// Telegram refused the account itself; recorded on its health.
    Refused(GatewayError),
}

/// How one connection's life ended.
enum Outcome {
    /// Try again after the backoff wait (with what the gateway said, when it said something).
    Dropped(Option<GatewayError>),
    End(TaskEnd),
}

/// One account's live task.
#[derive(Debug)]
pub(super) struct AccountTask {
    pub inbox: InboxService,
    pub scope: TenantScope,
    pub account: AccountRecord,
    pub timing: LiveTiming,
    pub backoff: Backoff,
    pub stop: StopSignal,
    /// Bounds how many tasks connect and catch up at once (a restart with many accounts).
    pub starts: Arc<Semaphore>,
    /// The digest of the last session written back.
    pub written: Option<[u8; 32]>,
}

impl AccountTask {
    /// Connects, streams and reconnects until stopped, refused or outbid for the lease.
    pub async fn run(mut self) -> TaskEnd {
        loop {
            if self.stop.is_stopped() {
                return TaskEnd::Stopped;
            }
            let flood_wait = match self.connection().await {
                Outcome::End(end) => return end,
                Outcome::Dropped(Some(GatewayError::FloodWait { seconds })) => Some(seconds),
                Outcome::Dropped(_) => None,
            };
            let wait = self.backoff.next_wait(flood_wait);
            tracing::debug!(
                account = %self.account.id,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                failures = self.backoff.failures(),
                "live connection dropped; reconnecting after a wait"
            );
            let mut stop = self.stop.clone();
            tokio::select! {
                () = stop.stopped() => return TaskEnd::Stopped,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One connection: open it, stream until it ends, close it.
    async fn connection(&mut self) -> Outcome {
        let starts = Arc::clone(&self.starts);
        let permit = starts.acquire().await.ok();
        let connections = self.inbox.connections.clone();
        let connected = match connections.open(&self.account).await {
            Ok(Ok(connected)) => connected,
            Ok(Err(refused)) if refused.concerns_account() => return Outcome::End(TaskEnd::Refused(refused)),
            Ok(Err(refused)) => return Outcome::Dropped(Some(refused)),
            Err(DomainError::AccountUnavailable(_)) => return Outcome::End(TaskEnd::Unavailable),
            Err(error) => {
                tracing::warn!(account = %self.account.id, %error, "a live connection could not be opened");
                return Outcome::Dropped(None);
            }
        };
        let mut stop = self.stop.clone();
        let outcome = tokio::select! {
            () = stop.stopped() => Outcome::End(TaskEnd::Stopped),
            outcome = self.stream(&connected, permit) => outcome,
        };
        self.inbox.live.attach(self.account.id, None);
        if let Err(error) = connections.disconnect(connected).await {
            tracing::warn!(account = %self.account.id, %error, "a live connection's lease was not released");
        }
        outcome
    }

    /// Subscribes, catches up, then applies updates as they come and renews the lease on time.
    async fn stream(&mut self, connected: &Connected, permit: Option<SemaphorePermit<'_>>) -> Outcome {
        let connection = &*connected.connection;
        let mut updates = connection.subscribe();
        self.write_back(connected).await;
        let mut applied = match self.inbox.catch_up(&self.scope, &self.account, connection).await {
            Ok(report) => UpdateState::new(report.state),
            Err(failure) => return self.failed(failure).await,
        };
        drop(permit);
        self.backoff.connected();
        self.inbox
            .live
            .attach(self.account.id, Some(Arc::clone(&connected.connection)));
        tracing::debug!(account = %self.account.id, state = applied.get(), "live connection up");
        let period = self.timing.renew_every;
        let mut renewals = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        renewals.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = renewals.tick() => {
                    match self.inbox.connections.renew(connected).await {
                        Ok(true) => self.write_back(connected).await,
                        Ok(false) => {
                            tracing::warn!(account = %self.account.id, "the live connection's lease was taken over");
                            return Outcome::End(TaskEnd::LeaseLost);
                        }
                        Err(error) => {
                            // Unrenewed, the lease would lapse under a live connection: close it and take the
                            // lease again on reconnecting.
                            tracing::warn!(account = %self.account.id, %error, "the live connection's lease was not renewed");
                            return Outcome::Dropped(None);
                        }
                    }
                }
                next = updates.next() => match next {
                    Next::Update(stamped) => {
                        match self.inbox.apply_live(&self.scope, &self.account, connection, stamped, applied).await {
                            Ok((state, _stored)) => applied = state,
                            Err(failure) => return self.failed(failure).await,
                        }
                    }
                    Next::Behind { missed } => {
                        tracing::debug!(account = %self.account.id, missed, "live stream fell behind; catching up");
                        match self.inbox.catch_up(&self.scope, &self.account, connection).await {
                            Ok(report) => applied = applied.max(UpdateState::new(report.state)),
                            Err(failure) => return self.failed(failure).await,
                        }
                    }
                    Next::Closed => return Outcome::Dropped(None),
                },
            }
        }
    }

    /// Seals the session again when it changed; a failure is logged and tried again at the next renewal.
    async fn write_back(&mut self, connected: &Connected) {
        let connections = self.inbox.connections.clone();
        if let Err(error) = connections
            .write_back_session(&mut self.account, connected, &mut self.written)
            .await
        {
            tracing::warn!(account = %self.account.id, %error, "a changed session was not sealed again");
        }
    }

    /// What a failed step means for the connection: an account failure ends the task (recorded on health),
    /// anything else drops the connection to try again.
    async fn failed(&self, failure: SyncFailure) -> Outcome {
        match failure {
            SyncFailure::Gateway(error) if error.concerns_account() => {
                if let Err(recording) = self.inbox.connections.refused(&self.account, &error).await {
                    tracing::warn!(account = %self.account.id, error = %recording, "a refusal was not recorded");
                }
                Outcome::End(TaskEnd::Refused(error))
            }
            SyncFailure::Gateway(error) => Outcome::Dropped(Some(error)),
            SyncFailure::Domain(error) => {
                tracing::warn!(account = %self.account.id, %error, "a live update was not applied; reconnecting");
                Outcome::Dropped(None)
            }
        }
    }
}
