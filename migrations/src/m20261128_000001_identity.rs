//! Identity: users, sessions, sign-in challenges, backup codes and attempt throttles.
//!
//! Case-insensitive uniqueness of email and username is carried by the `*_key` columns (lower-cased by the
//! domain) and their named unique indexes, which the persistence layer maps to `Conflict` on the right field.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    EmailKey,
    FullName,
    Username,
    UsernameKey,
    PasswordHash,
    IsStaff,
    TotpSecretSealed,
    TotpPendingSealed,
    TotpLastStep,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    IpAddress,
    UserAgent,
    RevokedAt,
}

#[derive(DeriveIden)]
enum SignInChallenges {
    Table,
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum BackupCodes {
    Table,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum AuthThrottles {
    Table,
    Key,
    Failures,
    LockCount,
    LockedUntil,
    UpdatedAt,
}

fn timestamp(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().not_null().to_owned()
}

fn timestamp_null(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().null().to_owned()
}

fn user_fk(table: impl IntoIden, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, Alias::new("user_id"))
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(ColumnDef::new(Users::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Users::Email).string_len(254).not_null())
                    .col(ColumnDef::new(Users::EmailKey).string_len(254).not_null())
                    .col(ColumnDef::new(Users::FullName).string_len(100).not_null())
                    .col(ColumnDef::new(Users::Username).string_len(32).not_null())
                    .col(ColumnDef::new(Users::UsernameKey).string_len(32).not_null())
                    .col(ColumnDef::new(Users::PasswordHash).text().not_null())
                    .col(ColumnDef::new(Users::IsStaff).boolean().not_null().default(false))
                    .col(ColumnDef::new(Users::TotpSecretSealed).binary().null())
                    .col(ColumnDef::new(Users::TotpPendingSealed).binary().null())
                    .col(ColumnDef::new(Users::TotpLastStep).big_integer().null())
                    .col(timestamp(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("users_email_key_unique", Users::EmailKey),
            ("users_username_key_unique", Users::UsernameKey),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Users::Table)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(ColumnDef::new(Sessions::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Sessions::UserId).uuid().not_null())
                    .col(ColumnDef::new(Sessions::TokenHash).binary().not_null())
                    .col(timestamp(Sessions::CreatedAt))
                    .col(timestamp(Sessions::LastSeenAt))
                    .col(timestamp(Sessions::ExpiresAt))
                    .col(ColumnDef::new(Sessions::IpAddress).string_len(45).null())
                    .col(ColumnDef::new(Sessions::UserAgent).string_len(512).null())
                    .col(timestamp_null(Sessions::RevokedAt))
                    .foreign_key(&mut user_fk(Sessions::Table, "sessions_user_fk"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sessions_token_hash_unique")
                    .table(Sessions::Table)
                    .col(Sessions::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sessions_user_idx")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SignInChallenges::Table)
                    .col(
                        ColumnDef::new(SignInChallenges::TokenHash)
                            .binary()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SignInChallenges::UserId).uuid().not_null())
                    .col(timestamp(SignInChallenges::CreatedAt))
                    .col(timestamp(SignInChallenges::ExpiresAt))
                    .col(timestamp_null(SignInChallenges::ConsumedAt))
                    .foreign_key(&mut user_fk(SignInChallenges::Table, "sign_in_challenges_user_fk"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BackupCodes::Table)
                    .col(ColumnDef::new(BackupCodes::UserId).uuid().not_null())
                    .col(ColumnDef::new(BackupCodes::CodeHash).binary().not_null())
                    .col(timestamp(BackupCodes::CreatedAt))
                    .col(timestamp_null(BackupCodes::UsedAt))
                    .primary_key(Index::create().col(BackupCodes::UserId).col(BackupCodes::CodeHash))
                    .foreign_key(&mut user_fk(BackupCodes::Table, "backup_codes_user_fk"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuthThrottles::Table)
                    .col(
                        ColumnDef::new(AuthThrottles::Key)
                            .string_len(300)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuthThrottles::Failures).integer().not_null().default(0))
                    .col(ColumnDef::new(AuthThrottles::LockCount).integer().not_null().default(0))
                    .col(timestamp_null(AuthThrottles::LockedUntil))
                    .col(timestamp(AuthThrottles::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuthThrottles::Table.into_iden(),
            BackupCodes::Table.into_iden(),
            SignInChallenges::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
