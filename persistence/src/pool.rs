//! The connection pool's occupancy, for the server's metrics.

use sea_orm::DatabaseBackend;

use crate::repo::SeaStore;

/// How many connections the pool holds now, how many of them wait idle, and how many it may open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

impl PoolStats {
    /// Connections lent out to a statement or a transaction now.
    pub fn in_use(&self) -> u32 {
        self.open.saturating_sub(self.idle)
    }
}

impl SeaStore {
    /// The pool's occupancy now (no statement is run).
    pub fn pool_stats(&self) -> PoolStats {
        let db = self.connection();
        let (open, idle, max) = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle(), pool.options().get_max_connections())
            }
            DatabaseBackend::Sqlite => {
                let pool = db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle(), pool.options().get_max_connections())
            }
            _ => (0, 0, 0),
        };
        PoolStats {
            open,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max,
        }
    }
}
