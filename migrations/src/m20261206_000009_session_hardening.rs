//! Session hardening: a session remembers when it was last re-authenticated, and backup codes say whether
//! their stored hash is keyed.
//!
//! - `sessions.reauthenticated_at`: when the password (and code) were last confirmed on the session; sensitive
//!   changes need it within the last ten minutes. Existing sessions start without one.
//! - `backup_codes.keyed`: `false` for a code stored before keyed hashing (an unkeyed SHA-256 of the user and
//!   the code). The server, which holds the master key, wraps such a hash under the backup-code key at start
//!   and sets the flag (`tgos_domain::identity::backup_codes`); no code stops working.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    ReauthenticatedAt,
}

#[derive(DeriveIden)]
enum BackupCodes {
    Table,
    Keyed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(
                        ColumnDef::new(Sessions::ReauthenticatedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BackupCodes::Table)
                    .add_column(ColumnDef::new(BackupCodes::Keyed).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BackupCodes::Table)
                    .drop_column(BackupCodes::Keyed)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::ReauthenticatedAt)
                    .to_owned(),
            )
            .await
    }
}
