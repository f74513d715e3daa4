//! Billing: top-ups, the double-entry ledger and wallet balances.
//!
//! Rules:
//! - `ledger_transactions.reference` is unique: a provider event or idempotency key applies once.
//! - `wallet_balances.balance_minor` has a CHECK of `>= 0`, a last line behind the conditional update.
//! - Ledger rows are immutable: the application role may only SELECT and INSERT them, and on PostgreSQL a
//!   trigger refuses UPDATE and DELETE. Every billing row carries its retention class (`BILLING_7Y`).
//! - No foreign keys to `workspaces`: billing records outlive the workspace they belong to (7 years).
//! - On PostgreSQL every billing table is a tenant table with forced row-level security; a top-up can also
//!   be read by its id alone (`tgos.top_up_id`), which is how a provider's signed notification finds it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TopUps {
    Table,
    Id,
    WorkspaceId,
    Provider,
    AmountMinor,
    Currency,
    Status,
    CreditedMinor,
    ProviderRef,
    CheckoutUrl,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    RetentionClass,
}

#[derive(DeriveIden)]
enum LedgerTransactions {
    Table,
    Id,
    WorkspaceId,
    Reference,
    Kind,
    Description,
    Currency,
    Fingerprint,
    CreatedAt,
    RetentionClass,
}

#[derive(DeriveIden)]
enum LedgerPostings {
    Table,
    Id,
    TransactionId,
    WorkspaceId,
    Account,
    AmountMinor,
    Currency,
    BalanceAfterMinor,
    CreatedAt,
    RetentionClass,
}

#[derive(DeriveIden)]
enum WalletBalances {
    Table,
    WorkspaceId,
    Currency,
    BalanceMinor,
}

const POSTGRES_UP: &str = r#"
-- The wall setting a provider's notification reads a top-up by (see migration 000003 for the others).
GRANT SELECT, INSERT, UPDATE ON top_ups, wallet_balances TO tgos_app;
GRANT SELECT, INSERT ON ledger_transactions, ledger_postings TO tgos_app;

CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are immutable; post a reversing transaction';
END;
$$;
CREATE TRIGGER ledger_transactions_immutable BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_postings_immutable BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();

ALTER TABLE top_ups ENABLE ROW LEVEL SECURITY;
ALTER TABLE top_ups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON top_ups USING (workspace_id = tgos_wall('workspace_id')::uuid);
CREATE POLICY by_id ON top_ups FOR SELECT USING (id = tgos_wall('top_up_id')::uuid);

ALTER TABLE ledger_transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_transactions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON ledger_transactions USING (workspace_id = tgos_wall('workspace_id')::uuid);

ALTER TABLE ledger_postings ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_postings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON ledger_postings USING (workspace_id = tgos_wall('workspace_id')::uuid);

ALTER TABLE wallet_balances ENABLE ROW LEVEL SECURITY;
ALTER TABLE wallet_balances FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON wallet_balances USING (workspace_id = tgos_wall('workspace_id')::uuid);
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER IF EXISTS ledger_transactions_immutable ON ledger_transactions;
DROP TRIGGER IF EXISTS ledger_postings_immutable ON ledger_postings;
DROP FUNCTION IF EXISTS ledger_immutable();
"#;

fn retention(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .string_len(16)
        .not_null()
        .default("BILLING_7Y")
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TopUps::Table)
                    .col(ColumnDef::new(TopUps::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(TopUps::WorkspaceId).uuid().not_null())
                    .col(ColumnDef::new(TopUps::Provider).string_len(16).not_null())
                    .col(ColumnDef::new(TopUps::AmountMinor).big_integer().not_null())
                    .col(ColumnDef::new(TopUps::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(TopUps::Status).string_len(16).not_null())
                    .col(ColumnDef::new(TopUps::CreditedMinor).big_integer().not_null())
                    .col(ColumnDef::new(TopUps::ProviderRef).string_len(255).null())
                    .col(ColumnDef::new(TopUps::CheckoutUrl).text().null())
                    .col(ColumnDef::new(TopUps::CreatedBy).uuid().not_null())
                    .col(ColumnDef::new(TopUps::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(TopUps::UpdatedAt).timestamp_with_time_zone().not_null())
                    .col(retention(TopUps::RetentionClass))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("top_ups_workspace_idx")
                    .table(TopUps::Table)
                    .col(TopUps::WorkspaceId)
                    .col(TopUps::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LedgerTransactions::Table)
                    .col(ColumnDef::new(LedgerTransactions::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(LedgerTransactions::WorkspaceId).uuid().not_null())
                    .col(ColumnDef::new(LedgerTransactions::Reference).string_len(255).not_null())
                    .col(ColumnDef::new(LedgerTransactions::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(LedgerTransactions::Description).text().not_null())
                    .col(ColumnDef::new(LedgerTransactions::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(LedgerTransactions::Fingerprint).binary().not_null())
                    .col(
                        ColumnDef::new(LedgerTransactions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(retention(LedgerTransactions::RetentionClass))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ledger_transactions_reference_unique")
                    .table(LedgerTransactions::Table)
                    .col(LedgerTransactions::Reference)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LedgerPostings::Table)
                    .col(ColumnDef::new(LedgerPostings::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(LedgerPostings::TransactionId).uuid().not_null())
                    .col(ColumnDef::new(LedgerPostings::WorkspaceId).uuid().not_null())
                    .col(ColumnDef::new(LedgerPostings::Account).string_len(80).not_null())
                    .col(ColumnDef::new(LedgerPostings::AmountMinor).big_integer().not_null())
                    .col(ColumnDef::new(LedgerPostings::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(LedgerPostings::BalanceAfterMinor).big_integer().null())
                    .col(
                        ColumnDef::new(LedgerPostings::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(retention(LedgerPostings::RetentionClass))
                    .foreign_key(
                        ForeignKey::create()
                            .name("ledger_postings_transaction_fk")
                            .from(LedgerPostings::Table, LedgerPostings::TransactionId)
                            .to(LedgerTransactions::Table, LedgerTransactions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ledger_postings_account_idx")
                    .table(LedgerPostings::Table)
                    .col(LedgerPostings::Account)
                    .col(LedgerPostings::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ledger_postings_transaction_idx")
                    .table(LedgerPostings::Table)
                    .col(LedgerPostings::TransactionId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WalletBalances::Table)
                    .col(ColumnDef::new(WalletBalances::WorkspaceId).uuid().not_null())
                    .col(ColumnDef::new(WalletBalances::Currency).string_len(3).not_null())
                    .col(
                        ColumnDef::new(WalletBalances::BalanceMinor)
                            .big_integer()
                            .not_null()
                            .check(Expr::col(WalletBalances::BalanceMinor).gte(0)),
                    )
                    .primary_key(
                        Index::create()
                            .col(WalletBalances::WorkspaceId)
                            .col(WalletBalances::Currency),
                    )
                    .to_owned(),
            )
            .await?;

        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_DOWN).await?;
        }
        for table in [
            WalletBalances::Table.into_iden(),
            LedgerPostings::Table.into_iden(),
            LedgerTransactions::Table.into_iden(),
            TopUps::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
