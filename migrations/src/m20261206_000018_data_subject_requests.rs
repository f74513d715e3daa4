//! Data-subject requests (policy §8) and their export archives.
//!
//! Rules:
//! - `kind`, `status` and `channel` are CHECKed against their closed sets.
//! - One export builds at a time per person: a unique partial index over `user_id` where `kind = 'EXPORT'` and
//!   `status = 'IN_PROGRESS'` (both backends).
//! - The archive's download token is stored only as its SHA-256 (`export_token_hash`, unique).
//! - A person's own rows, not a workspace's: like `users` and `sessions`, the table has no tenant wall; every
//!   query names the subject.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DataSubjectRequests {
    Table,
    Id,
    UserId,
    Kind,
    Status,
    Channel,
    Details,
    ReceivedAt,
    DueAt,
    ExtendedUntil,
    ExtensionReason,
    CompletedAt,
    Resolution,
    ExportTokenHash,
    ExportReadyAt,
    ExportExpiresAt,
    ExportExpiredAt,
    ExportBytes,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn at(column: impl IntoIden, required: bool) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.timestamp_with_time_zone();
    if required {
        def.not_null()
    } else {
        def.null()
    };
    def.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use DataSubjectRequests as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(ColumnDef::new(D::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(D::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(D::Kind)
                            .string_len(16)
                            .not_null()
                            .check(Expr::col(D::Kind).is_in([
                                "ACCESS",
                                "EXPORT",
                                "DELETION",
                                "RECTIFICATION",
                                "RESTRICTION",
                                "OBJECTION",
                            ])),
                    )
                    .col(
                        ColumnDef::new(D::Status)
                            .string_len(16)
                            .not_null()
                            .check(Expr::col(D::Status).is_in([
                                "RECEIVED",
                                "VERIFYING",
                                "IN_PROGRESS",
                                "COMPLETED",
                                "REJECTED",
                            ])),
                    )
                    .col(
                        ColumnDef::new(D::Channel)
                            .string_len(8)
                            .not_null()
                            .check(Expr::col(D::Channel).is_in(["API", "EMAIL"])),
                    )
                    .col(ColumnDef::new(D::Details).text().null())
                    .col(at(D::ReceivedAt, true))
                    .col(at(D::DueAt, true))
                    .col(at(D::ExtendedUntil, false))
                    .col(ColumnDef::new(D::ExtensionReason).text().null())
                    .col(at(D::CompletedAt, false))
                    .col(ColumnDef::new(D::Resolution).text().null())
                    .col(ColumnDef::new(D::ExportTokenHash).binary().null())
                    .col(at(D::ExportReadyAt, false))
                    .col(at(D::ExportExpiresAt, false))
                    .col(at(D::ExportExpiredAt, false))
                    .col(ColumnDef::new(D::ExportBytes).big_integer().null())
                    .col(at(D::UpdatedAt, true))
                    .foreign_key(
                        ForeignKey::create()
                            .name("data_subject_requests_user_fk")
                            .from(D::Table, D::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("data_subject_requests_user_idx")
                    .table(D::Table)
                    .col(D::UserId)
                    .col(D::ReceivedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("data_subject_requests_token_idx")
                    .table(D::Table)
                    .col(D::ExportTokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX data_subject_requests_one_export_idx ON data_subject_requests (user_id) \
             WHERE kind = 'EXPORT' AND status = 'IN_PROGRESS'",
        )
        .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("GRANT SELECT, INSERT, UPDATE, DELETE ON data_subject_requests TO tgos_app")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DataSubjectRequests::Table).to_owned())
            .await
    }
}
