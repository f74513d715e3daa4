//! # tgos-migrations
//!
//! The schema of Telegram OS as ordered migrations, applied on start to SQLite and PostgreSQL alike.
//! Rule: a migration that has shipped is never edited; changes come as new migrations.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_identity;
mod m20261128_000002_tenancy_audit;

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_identity::Migration),
            Box::new(m20261128_000002_tenancy_audit::Migration),
        ]
    }
}
