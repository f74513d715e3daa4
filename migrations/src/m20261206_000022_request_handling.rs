//! Staff handling of data-subject requests and the account flags it sets.
//!
//! - `data_subject_requests`: how the requester's identity was verified (`verification_method`,
//!   `verified_at`, `verified_by`), the two-person erasure (`erasure_proposed_by/_at` by one staff member,
//!   `erasure_approved_by/_at` by another), and an objection's `decision` (`UPHELD` or `DISMISSED`).
//! - `users.restricted_at`: processing restricted (policy §8): automations and sending stop in the workspaces
//!   the person owns. `users.suspended_at` and `suspension_reason`: suspended by staff, signed out and refused
//!   sign-in until unsuspended.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum DataSubjectRequests {
    Table,
    VerificationMethod,
    VerifiedAt,
    VerifiedBy,
    ErasureProposedBy,
    ErasureProposedAt,
    ErasureApprovedBy,
    ErasureApprovedAt,
    Decision,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    RestrictedAt,
    SuspendedAt,
    SuspensionReason,
}

fn request_columns() -> Vec<ColumnDef> {
    use DataSubjectRequests as D;
    let at = |c: D| ColumnDef::new(c).timestamp_with_time_zone().null().to_owned();
    let by = |c: D| ColumnDef::new(c).uuid().null().to_owned();
    vec![
        ColumnDef::new(D::VerificationMethod).text().null().to_owned(),
        at(D::VerifiedAt),
        by(D::VerifiedBy),
        by(D::ErasureProposedBy),
        at(D::ErasureProposedAt),
        by(D::ErasureApprovedBy),
        at(D::ErasureApprovedAt),
        ColumnDef::new(D::Decision)
            .string_len(16)
            .null()
            .check(Expr::col(D::Decision).is_in(["UPHELD", "DISMISSED"]))
            .to_owned(),
    ]
}

fn user_columns() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new(Users::RestrictedAt)
            .timestamp_with_time_zone()
            .null()
            .to_owned(),
        ColumnDef::new(Users::SuspendedAt)
            .timestamp_with_time_zone()
            .null()
            .to_owned(),
        ColumnDef::new(Users::SuspensionReason).text().null().to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in request_columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(DataSubjectRequests::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in user_columns() {
            manager
                .alter_table(Table::alter().table(Users::Table).add_column(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use DataSubjectRequests as D;
        for column in [
            D::Decision,
            D::ErasureApprovedAt,
            D::ErasureApprovedBy,
            D::ErasureProposedAt,
            D::ErasureProposedBy,
            D::VerifiedBy,
            D::VerifiedAt,
            D::VerificationMethod,
        ] {
            manager
                .alter_table(Table::alter().table(D::Table).drop_column(column).to_owned())
                .await?;
        }
        for column in [Users::SuspensionReason, Users::SuspendedAt, Users::RestrictedAt] {
            manager
                .alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
