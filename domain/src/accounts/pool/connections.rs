//! Connecting an account to Telegram through the gateway.
//!
//! Rules:
//! - **One live connection per account** across every server process: a connection first takes the account's
//!   connection lease in the database (a row with a holder and an expiry, taken only when free or expired, or
//!   already ours), renews it while connected and gives it back on disconnect. Telegram invalidates a
//!   session used from two connections at once.
//! - **The payload stays sealed until the last moment**: it is opened under the current holder's key (the
//!   workspace renting it, or the platform), decoded, handed to the gateway, and zeroized when the call
//!   returns; it is never logged or returned.
//! - **Failures are health signals**: a gateway refusal that says something about the account (a revoked
//!   session, a ban, a flood wait…) is recorded on its health before the error goes back.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::TelegramSession;
use crate::accounts::gateway::{GatewayConnection, GatewayError, TelegramGateway};
use crate::accounts::health::{HealthObservation, HealthSignal};
use crate::accounts::pool::records::AccountRecord;
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::events::{Outbox, announce};
use crate::ids::AccountId;
use crate::store::{Store, StoreResult};
use crate::vault::{Purpose, Vault};

/// Who holds connection leases: one id per server process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionHolder(String);

impl ConnectionHolder {
    /// A fresh holder id for this process.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A holder for one connection of this process: two connections never share a lease, even in one process.
    fn for_one_connection(&self) -> Self {
        Self(format!("{}:{:08x}", self.0, rand::random::<u32>()))
    }
}

/// A live connection of an account, holding the account's connection lease until disconnected.
#[derive(Debug)]
pub struct Connected {
    pub account: AccountId,
    pub connection: Arc<dyn GatewayConnection>,
    holder: ConnectionHolder,
}

/// Storage of the per-account connection leases.
#[async_trait::async_trait]
pub trait ConnectionLeaseRepository: Send + Sync {
    /// Takes the account's lease for `holder` until `until` when it is free, expired at `now`, or already
    /// `holder`'s (then it is renewed); `false` when another holder has it. One conditional statement.
    async fn acquire_connection(
        &self,
        account: AccountId,
        holder: &ConnectionHolder,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Gives the lease back if `holder` has it.
    async fn release_connection(&self, account: AccountId, holder: &ConnectionHolder) -> StoreResult<()>;
}

/// How long a connection lease lasts without renewal.
pub const CONNECTION_LEASE_SECS: i64 = 60;

/// Connects accounts through the configured gateway, one connection per account.
#[derive(Debug, Clone)]
pub struct Connections {
    store: Arc<dyn Store>,
    vault: Vault,
    gateway: Arc<dyn TelegramGateway>,
    clock: Arc<dyn Clock>,
    holder: ConnectionHolder,
    outbox: Outbox,
}

impl Connections {
    pub fn new(
        store: Arc<dyn Store>,
        vault: Vault,
        gateway: Arc<dyn TelegramGateway>,
        clock: Arc<dyn Clock>,
        holder: ConnectionHolder,
    ) -> Self {
        Self {
            store,
            vault,
            gateway,
            clock,
            holder,
            outbox: Outbox::default(),
        }
    }

    /// Wakes this outbox's relay when a refusal changed an account's health.
    #[must_use]
    pub fn with_outbox(mut self, outbox: Outbox) -> Self {
        self.outbox = outbox;
        self
    }

    /// Whether the gateway is the sandbox's simulated network.
    pub fn is_sandbox(&self) -> bool {
        self.gateway.is_sandbox()
    }

    /// Opens a connection of `account`, taking its connection lease; `ACCOUNT_UNAVAILABLE` while any other
    /// connection (of this process or another) holds it. A refusal by Telegram is recorded on the account's
    /// health and returned as a `CONFLICT` naming what Telegram said (never the session).
    #[tracing::instrument(skip_all)]
    pub async fn connect(&self, account: &AccountRecord) -> DomainResult<Connected> {
        let holder = self.holder.for_one_connection();
        let now = self.clock.now();
        let until = now + Duration::seconds(CONNECTION_LEASE_SECS);
        if !self.store.acquire_connection(account.id, &holder, until, now).await? {
            return Err(DomainError::AccountUnavailable(
                "the account is connected elsewhere".to_owned(),
            ));
        }
        match self.open_and_connect(account).await {
            Ok(connection) => Ok(Connected {
                account: account.id,
                connection,
                holder,
            }),
            Err(error) => {
                self.store.release_connection(account.id, &holder).await?;
                Err(error)
            }
        }
    }

    async fn open_and_connect(&self, account: &AccountRecord) -> DomainResult<Arc<dyn GatewayConnection>> {
        let payload = self
            .vault
            .open(&account.sealed, account.id, Purpose::TelegramSession)
            .await?;
        let session = TelegramSession::decode(payload.expose()).map_err(DomainError::internal)?;
        drop(payload);
        match self.gateway.connect(account.id, &session).await {
            Ok(connection) => Ok(connection),
            Err(error) => Err(self.refused(account, &error).await?),
        }
    }

    /// Renews the connection's lease; `false` when it was lost (stop using the connection then).
    #[tracing::instrument(skip_all)]
    pub async fn renew(&self, connected: &Connected) -> DomainResult<bool> {
        let now = self.clock.now();
        let until = now + Duration::seconds(CONNECTION_LEASE_SECS);
        Ok(self
            .store
            .acquire_connection(connected.account, &connected.holder, until, now)
            .await?)
    }

    /// Closes the connection and gives its lease back (only this connection's lease).
    #[tracing::instrument(skip_all)]
    pub async fn disconnect(&self, connected: Connected) -> DomainResult<()> {
        connected.connection.disconnect().await;
        Ok(self
            .store
            .release_connection(connected.account, &connected.holder)
            .await?)
    }

    /// Records what a gateway failure says about the account and turns it into the error to return.
    /// A change is announced to the workspace holding the account.
    #[tracing::instrument(skip_all)]
    pub async fn refused(&self, account: &AccountRecord, error: &GatewayError) -> DomainResult<DomainError> {
        // A connection that could not be made says nothing about the account (Telegram or the network is
        // down): only refusals by Telegram are health signals.
        let signal = match error {
            GatewayError::Network(_) => None,
            other => HealthSignal::from_gateway(other),
        };
        if let Some(signal) = signal {
            let now = self.clock.now();
            let observation = HealthObservation::new(signal, now);
            announce::observe(
                &*self.store,
                &self.outbox,
                account.leased_to,
                account.id,
                observation,
                now,
            )
            .await?;
        }
        Ok(DomainError::Conflict {
            field: None,
            message: format!("Telegram refused: {error}"),
        })
    }
}
