//! Verified email, the policy a user accepted, a pending email change and notice preferences.
//!
//! - `users.email_verified_at`: when the current address was confirmed through its link; an email change
//!   clears it (the new address is confirmed by the change's own link, so it is set again then).
//! - `users.pending_email`: an address asked for by `requestEmailChange` and not yet confirmed; the change
//!   happens only when its link comes back.
//! - `users.age_confirmed_at` and `users.policy_version`: what the person confirmed at sign-up (not under 16)
//!   and which privacy policy they accepted. Accounts from before stay without them.
//! - `users.notify_billing` / `users.notify_leases`: whether billing and lease notices are sent (security and
//!   account notices always are).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    EmailVerifiedAt,
    PendingEmail,
    AgeConfirmedAt,
    PolicyVersion,
    NotifyBilling,
    NotifyLeases,
}

fn columns() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new(Users::EmailVerifiedAt)
            .timestamp_with_time_zone()
            .null()
            .to_owned(),
        ColumnDef::new(Users::PendingEmail).string_len(254).null().to_owned(),
        ColumnDef::new(Users::AgeConfirmedAt)
            .timestamp_with_time_zone()
            .null()
            .to_owned(),
        ColumnDef::new(Users::PolicyVersion).string_len(32).null().to_owned(),
        ColumnDef::new(Users::NotifyBilling)
            .boolean()
            .not_null()
            .default(true)
            .to_owned(),
        ColumnDef::new(Users::NotifyLeases)
            .boolean()
            .not_null()
            .default(true)
            .to_owned(),
    ]
}

const NAMES: [Users; 6] = [
    Users::EmailVerifiedAt,
    Users::PendingEmail,
    Users::AgeConfirmedAt,
    Users::PolicyVersion,
    Users::NotifyBilling,
    Users::NotifyLeases,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for mut column in columns() {
            manager
                .alter_table(Table::alter().table(Users::Table).add_column(&mut column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in NAMES.into_iter().rev() {
            manager
                .alter_table(Table::alter().table(Users::Table).drop_column(name).to_owned())
                .await?;
        }
        Ok(())
    }
}
