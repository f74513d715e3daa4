//! [`Repo`]: the repositories over any SeaORM connection, and the [`Store`] and [`Transaction`] built on it.

use async_trait::async_trait;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseExecutor, DatabaseTransaction, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use tgos_domain::store::{Store, StoreResult, Transaction};

use crate::errors::DbResultExt as _;
use crate::wall::WallMemo;

/// The repositories over one connection: the pool ([`SeaStore`]) or a transaction, with the tenant wall that
/// transaction's settings hold now ([`WallMemo`]; on the pool it stays empty and unread, since every walled
/// call there opens a transaction of its own).
pub struct Repo<C>(pub(crate) C, pub(crate) WallMemo);

/// The store on a connection pool.
pub type SeaStore = Repo<DatabaseConnection>;

impl<C> std::fmt::Debug for Repo<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Repo")
    }
}

impl SeaStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self(db, WallMemo::default())
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.0
    }

    /// Calls `count` for every statement this pool (and its transactions) executes: the server counts them in
    /// its metrics, so a request's database cost is observable (and tested for lists).
    pub fn on_statement(&mut self, count: impl Fn() + Send + Sync + 'static) {
        self.0.set_metric_callback(move |_info| count());
    }
}

impl SeaStore {
    async fn open(&self, sqlite_mode: SqliteTransactionMode) -> StoreResult<Box<dyn Transaction>> {
        let options = match self.0.get_database_backend() {
            DatabaseBackend::Sqlite => TransactionOptions {
                sqlite_transaction_mode: Some(sqlite_mode),
                ..TransactionOptions::default()
            },
            _ => TransactionOptions::default(),
        };
        let tx = self.0.begin_with_options(options).await.store()?;
        Ok(Box::new(Repo(tx, WallMemo::default())))
    }
}

#[async_trait]
impl Store for SeaStore {
    async fn begin(&self) -> StoreResult<Box<dyn Transaction>> {
        // A writer takes SQLite's write lock up front, so two writers queue on it instead of one failing
        // with "busy" when it upgrades a read lock.
        self.open(SqliteTransactionMode::Immediate).await
    }

    async fn begin_read(&self) -> StoreResult<Box<dyn Transaction>> {
        self.open(SqliteTransactionMode::Deferred).await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.0.ping().await.store()
    }
}

#[async_trait]
impl Transaction for Repo<DatabaseTransaction> {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.0.commit().await.store()
    }
}

/// What every repository implementation needs of its connection: a pool or a transaction. Public only so
/// [`Repo`] can name it; the module is private, so no other crate implements it.
pub trait Conn: ConnectionTrait + Send + Sync {
    /// The connection as SeaORM's executor, which [`crate::wall`] may swap for a transaction of its own.
    fn executor(&self) -> DatabaseExecutor<'_>;
}

impl Conn for DatabaseConnection {
    fn executor(&self) -> DatabaseExecutor<'_> {
        DatabaseExecutor::Connection(self)
    }
}

impl Conn for DatabaseTransaction {
    fn executor(&self) -> DatabaseExecutor<'_> {
        DatabaseExecutor::Transaction(self)
    }
}
