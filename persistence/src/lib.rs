//! # tgos-persistence
//!
//! The domain's storage ports implemented with SeaORM on SQLite (the embedded default) and PostgreSQL.
//!
//! Rules:
//! - Entities stay inside this crate; ports take and return domain records.
//! - Each port method is generic over the connection, so the same code runs on the pool and inside a
//!   transaction ([`Repo`]).
//! - Database errors never reach a client: unique violations are named by constraint, anything else is an
//!   opaque backend failure for the log.
//! - On PostgreSQL every statement on a tenant table runs behind a [`wall`] that declares its tenant to the
//!   row-level security policies, and the server's connections run as the non-superuser application role.
//! - Migrations run under one lock per database ([`schema`]), so replicas starting together apply each once.
//! - On SQLite every transaction begins `IMMEDIATE`, so concurrent writers queue on the busy timeout instead
//!   of failing with a lock upgrade error.

mod account_erasure;
mod accounts;
mod audit;
mod automations;
pub mod backup;
mod billing;
pub mod bus;
mod connect;
mod entities;
mod erasure;
mod errors;
mod identity;
mod inbox;
mod jobs;
pub mod key_file;
mod lawful;
mod leadership;
mod limits;
pub use lawful::files::ZipPackages;
pub use limits::SqlRateCounter;
pub mod mail;
mod outbox;
pub mod payments;
mod pool;
mod privacy;
pub mod private_fs;
pub use privacy::files::ZipExports;
mod repo;
mod retention;
pub mod schema;
mod staff;
mod tenancy;
mod tenant;
mod wall;
pub mod webhooks;

pub use connect::{DatabaseSettings, Privileges, connect, migrate_up, schema_status};
pub use pool::PoolStats;
pub use repo::{Repo, SeaStore};
pub use schema::{MigrateMode, SchemaError, SchemaStatus};
