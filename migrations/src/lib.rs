//! # tgos-migrations
//!
//! The schema of Telegram OS as ordered migrations, applied on start to SQLite and PostgreSQL alike.
//! Rules:
//! - A migration that has shipped is never edited; changes come as new migrations.
//! - On PostgreSQL a migration that adds a table grants the application role ([`APP_ROLE`]) only the
//!   statements the server needs, and a table holding a workspace's rows gets forced row-level security
//!   with a `tenant` policy (see `m20261128_000003_row_level_security`).

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_identity;
mod m20261128_000002_tenancy_audit;
mod m20261128_000003_row_level_security;
mod m20261128_000004_billing;
mod m20261128_000005_accounts_vault;
mod m20261128_000006_inbox;
mod m20261128_000007_outbox;
mod m20261129_000008_inbox_dialog_index;
mod m20261206_000009_session_hardening;
mod m20261206_000011_payment_matching;
mod m20261206_000012_second_wall;
mod m20261206_000013_jobs;
mod m20261206_000014_dialog_tags;
mod m20261206_000015_automations;
mod m20261206_000016_retention;
mod m20261206_000017_erasure;
mod m20261206_000018_data_subject_requests;
mod m20261206_000019_email_verification;
mod m20261206_000020_account_closure;
mod m20261206_000021_billing_retention;
mod m20261206_000022_request_handling;
mod m20261206_000023_lawful_requests;
mod m20261206_000024_export_reach;
mod m20261206_000025_audit_search;
mod m20261206_000026_staff_approvals;
mod m20261206_000027_account_retirement;
mod m20261206_000028_message_media;
mod m20261206_000029_leader_leases;
mod m20261206_000030_rate_windows;

pub use m20261128_000003_row_level_security::APP_ROLE;

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_identity::Migration),
            Box::new(m20261128_000002_tenancy_audit::Migration),
            Box::new(m20261128_000003_row_level_security::Migration),
            Box::new(m20261128_000004_billing::Migration),
            Box::new(m20261128_000005_accounts_vault::Migration),
            Box::new(m20261128_000006_inbox::Migration),
            Box::new(m20261128_000007_outbox::Migration),
            Box::new(m20261129_000008_inbox_dialog_index::Migration),
            Box::new(m20261206_000009_session_hardening::Migration),
            Box::new(m20261206_000011_payment_matching::Migration),
            Box::new(m20261206_000012_second_wall::Migration),
            Box::new(m20261206_000013_jobs::Migration),
            Box::new(m20261206_000014_dialog_tags::Migration),
            Box::new(m20261206_000015_automations::Migration),
            Box::new(m20261206_000016_retention::Migration),
            Box::new(m20261206_000017_erasure::Migration),
            Box::new(m20261206_000018_data_subject_requests::Migration),
            Box::new(m20261206_000019_email_verification::Migration),
            Box::new(m20261206_000020_account_closure::Migration),
            Box::new(m20261206_000021_billing_retention::Migration),
            Box::new(m20261206_000022_request_handling::Migration),
            Box::new(m20261206_000023_lawful_requests::Migration),
            Box::new(m20261206_000024_export_reach::Migration),
            Box::new(m20261206_000025_audit_search::Migration),
            Box::new(m20261206_000026_staff_approvals::Migration),
            Box::new(m20261206_000027_account_retirement::Migration),
            Box::new(m20261206_000028_message_media::Migration),
            Box::new(m20261206_000029_leader_leases::Migration),
            Box::new(m20261206_000030_rate_windows::Migration),
        ]
    }
}
