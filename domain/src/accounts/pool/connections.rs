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
use crate::vault::{Purpose, SecretPayload, Vault};

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

/// A live connection of an account, holding the account's connection lease until disconnected; or a use of a
/// connection another task of this process owns with its lease ([`Connected::borrowed`]).
#[derive(Debug)]
pub struct Connected {
    pub account: AccountId,
    pub connection: Arc<dyn GatewayConnection>,
    holder: ConnectionHolder,
    /// Whether this use owns the connection and its lease (and so closes and releases them).
    owned: bool,
}

impl Connected {
    /// A use of the connection a live task of this process holds the lease of: disconnecting it closes
    /// nothing and releases nothing, the live task keeps both.
    pub fn borrowed(account: AccountId, connection: Arc<dyn GatewayConnection>) -> Self {
        Self {
            account,
            connection,
            holder: ConnectionHolder(String::new()),
            owned: false,
        }
    }
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
    /// The account's lease as stored (expired or not), or `None` when no connection holds one.
    async fn connection_lease(&self, account: AccountId) -> StoreResult<Option<ConnectionLease>>;
}

/// A stored connection lease: which connection holds the account, and until when unless renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLease {
    /// The holder id of one connection (the process's holder id and a suffix of the connection's own).
    pub holder: String,
    pub expires_at: DateTime<Utc>,
}

impl ConnectionLease {
    /// Whether the lease belongs to a connection of the process whose holder id is `holder`.
    pub fn held_by_process(&self, holder: &ConnectionHolder) -> bool {
        self.holder
            .strip_prefix(holder.as_str())
            .is_some_and(|rest| rest.starts_with(':'))
    }
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
        match self.open(account).await? {
            Ok(connected) => Ok(connected),
            Err(refused) => Err(refused_conflict(&refused)),
        }
    }

    /// [`Self::connect`] for a caller that decides by the kind of refusal (a live connection retries a network
    /// failure and stops on one that concerns the account): the outer error is ours (the lease is held
    /// elsewhere, storage failed), the inner one is the gateway's, already recorded on the account's health,
    /// with the lease given back.
    #[tracing::instrument(skip_all)]
    pub async fn open(&self, account: &AccountRecord) -> DomainResult<Result<Connected, GatewayError>> {
        let holder = self.holder.for_one_connection();
        let now = self.clock.now();
        let until = now + Duration::seconds(CONNECTION_LEASE_SECS);
        if !self.store.acquire_connection(account.id, &holder, until, now).await? {
            return Err(DomainError::AccountUnavailable(
                "the account is connected elsewhere".to_owned(),
            ));
        }
        match self.open_and_connect(account).await {
            Ok(Ok(connection)) => Ok(Ok(Connected {
                account: account.id,
                connection,
                holder,
                owned: true,
            })),
            Ok(Err(refused)) => {
                self.store.release_connection(account.id, &holder).await?;
                Ok(Err(refused))
            }
            Err(error) => {
                self.store.release_connection(account.id, &holder).await?;
                Err(error)
            }
        }
    }

    async fn open_and_connect(
        &self,
        account: &AccountRecord,
    ) -> DomainResult<Result<Arc<dyn GatewayConnection>, GatewayError>> {
        let payload = self
            .vault
            .open(&account.sealed, account.id, Purpose::TelegramSession)
            .await?;
        let session = TelegramSession::decode(payload.expose()).map_err(DomainError::internal)?;
        drop(payload);
        match self.gateway.connect(account.id, &session).await {
            Ok(connection) => Ok(Ok(connection)),
            Err(error) => {
                self.refused(account, &error).await?;
                Ok(Err(error))
            }
        }
    }

    /// Seals the session again when the connection reports it changed (Telegram moved the account to another
    /// data centre, made a new auth key), under the key owner the payload has now, while the connection holds
    /// the lease. `account.sealed` becomes the new payload. `false` when nothing changed since `written` (the
    /// digest of the last session written back, kept by the caller) or when the payload changed hands
    /// meanwhile (a release, a key rotation: the conditional write leaves it alone).
    #[tracing::instrument(skip_all)]
    pub async fn write_back_session(
        &self,
        account: &mut AccountRecord,
        connected: &Connected,
        written: &mut Option<[u8; 32]>,
    ) -> DomainResult<bool> {
        use sha2::Digest as _;
        let Some(session) = connected.connection.changed_session() else {
            return Ok(false);
        };
        let payload = SecretPayload::from(session.encode());
        let digest: [u8; 32] = sha2::Sha256::digest(payload.expose()).into();
        if *written == Some(digest) {
            return Ok(false);
        }
        let sealed = self
            .vault
            .seal(account.sealed.owner, account.id, Purpose::TelegramSession, &payload)
            .await?;
        drop(payload);
        let replaced = self
            .store
            .replace_sealed_payload(account.id, &account.sealed, &sealed, self.clock.now())
            .await?;
        if replaced {
            account.sealed = sealed;
            *written = Some(digest);
            tracing::info!(account = %account.id, "the account's changed session was sealed again");
        }
        Ok(replaced)
    }

    /// Renews the connection's lease; `false` when it was lost (stop using the connection then).
    #[tracing::instrument(skip_all)]
    pub async fn renew(&self, connected: &Connected) -> DomainResult<bool> {
        if !connected.owned {
            return Ok(true);
        }
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
        if !connected.owned {
            return Ok(());
        }
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
        Ok(refused_conflict(error))
    }
}

/// A gateway refusal as the `CONFLICT` a caller sees: what Telegram said, never the session.
fn refused_conflict(error: &GatewayError) -> DomainError {
    DomainError::Conflict {
        field: None,
        message: format!("Telegram refused: {error}"),
    }
}
