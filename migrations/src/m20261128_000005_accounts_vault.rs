//! The session vault's data keys, the Telegram account pool and leases.
//!
//! Rules:
//! - `data_keys` holds each owner's data keys only wrapped by the master key; `(owner, version)` is the
//!   primary key, so two processes racing to create a version get one winner. Destroyed keys keep their row
//!   (`wrapped` NULL, `destroyed_at` set): versions are never reused. The keys serve the whole server (the
//!   platform pool has no workspace), so the table sits outside the tenant walls.
//! - `telegram_accounts.key_fingerprint` (SHA-256 of the auth key) is unique: one session is in the pool once.
//!   The session itself is only ever stored sealed (`sealed_session`, with the owner and key version that
//!   open it); the phone number only masked.
//! - On PostgreSQL, an account row is visible to anyone while on offer, and otherwise only to the workspace
//!   holding it. Policies let a workspace update only an offered account (taking it: the new row must be
//!   LEASED to it) or its own (keeping it, or giving it back as AVAILABLE or RETIRED); a trigger checks the
//!   transition as a whole (policies see one side of it) and that nothing describing the account changes.
//!   Leases are tenant rows (a member may find the workspace of a lease named by id); the expiry sweep may
//!   read active leases, and only those, by declaring `tgos.sweep = 'lease_expiry'` (which ran out is the
//!   query's condition, on the service's clock).
//! - Account health (`account_health`, saved with a version for compare-and-swap) and engagement counters
//!   (`account_counters` per account, holding workspace (nil: the pool) and day, only ever added to;
//!   `account_counter_peers`, one row per account, holder, day and peer) belong
//!   to the account, not to a workspace: they follow it from lease to lease, and a workspace reads them only
//!   through the use cases, for an account it holds.
//! - `account_connections` holds one row per connected account: which server process holds its live
//!   connection and until when (taken only when free or expired), so an account is never connected twice.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DataKeys {
    Table,
    Owner,
    Version,
    Wrapped,
    CreatedAt,
    DestroyedAt,
}

#[derive(DeriveIden)]
enum TelegramAccounts {
    Table,
    Id,
    Status,
    Sandbox,
    DisplayName,
    Username,
    PhoneMasked,
    Country,
    Premium,
    AccountCreated,
    DcId,
    TelegramUserId,
    KeyFingerprint,
    KeyOwner,
    KeyVersion,
    SealedSession,
    PricePerDayMinor,
    Currency,
    LeasedTo,
    LeasedSince,
    LeasedUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AccountHealth {
    Table,
    AccountId,
    Version,
    State,
    Health,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AccountCounters {
    Table,
    AccountId,
    Holder,
    Day,
    Sent,
    Received,
    Replies,
}

#[derive(DeriveIden)]
enum AccountCounterPeers {
    Table,
    AccountId,
    Holder,
    Day,
    Peer,
}

#[derive(DeriveIden)]
enum AccountConnections {
    Table,
    AccountId,
    Holder,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Leases {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    Status,
    StartsAt,
    EndsAt,
    PricePerDayMinor,
    Currency,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

const POSTGRES_UP: &str = r#"
GRANT SELECT, INSERT, UPDATE ON data_keys, telegram_accounts, leases,
    account_health, account_counters, account_counter_peers TO tgos_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON account_connections TO tgos_app;

ALTER TABLE telegram_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE telegram_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY on_offer ON telegram_accounts FOR SELECT USING (status = 'AVAILABLE');
CREATE POLICY held ON telegram_accounts FOR SELECT USING (leased_to = tgos_wall('workspace_id')::uuid);
-- A retired account belongs to nobody; its row stays readable (an UPDATE's new row must be) but is never
-- offered, and only staff may change it again.
CREATE POLICY retired ON telegram_accounts FOR SELECT USING (status = 'RETIRED' AND leased_to IS NULL);
CREATE POLICY stock ON telegram_accounts FOR INSERT
    WITH CHECK (status = 'AVAILABLE' AND leased_to IS NULL);
CREATE POLICY claim ON telegram_accounts FOR UPDATE
    USING (status = 'AVAILABLE' AND leased_to IS NULL AND tgos_wall('workspace_id') IS NOT NULL)
    WITH CHECK (status = 'LEASED' AND leased_to = tgos_wall('workspace_id')::uuid);
CREATE POLICY holder ON telegram_accounts FOR UPDATE
    USING (leased_to = tgos_wall('workspace_id')::uuid)
    WITH CHECK (
        (status = 'LEASED' AND leased_to = tgos_wall('workspace_id')::uuid)
        OR (status IN ('AVAILABLE', 'RETIRED') AND leased_to IS NULL AND tgos_wall('workspace_id') IS NOT NULL)
    );

-- Policies see the new row or the old one, never both; the transitions the server makes are checked here:
-- taking an offered account, extending or re-sealing a held one, giving it back (or retiring it). Nothing
-- else of an account (its price, its identity, its key fingerprint) is the server's to change.
CREATE FUNCTION telegram_accounts_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_user <> 'tgos_app' THEN
        RETURN NEW;
    END IF;
    IF (NEW.id, NEW.sandbox, NEW.display_name, NEW.username, NEW.phone_masked, NEW.country, NEW.premium,
        NEW.account_created, NEW.dc_id, NEW.telegram_user_id, NEW.key_fingerprint, NEW.price_per_day_minor,
        NEW.currency, NEW.created_at)
       IS DISTINCT FROM
       (OLD.id, OLD.sandbox, OLD.display_name, OLD.username, OLD.phone_masked, OLD.country, OLD.premium,
        OLD.account_created, OLD.dc_id, OLD.telegram_user_id, OLD.key_fingerprint, OLD.price_per_day_minor,
        OLD.currency, OLD.created_at) THEN
        RAISE EXCEPTION 'telegram_accounts: the server may not change an account''s description';
    END IF;
    IF OLD.status = 'AVAILABLE' AND NEW.status = 'LEASED' AND OLD.leased_to IS NULL
       AND NEW.leased_to IS NOT NULL THEN
        RETURN NEW;
    END IF;
    IF OLD.status = 'LEASED' AND NEW.status = 'LEASED' AND NEW.leased_to = OLD.leased_to
       AND NEW.leased_since IS NOT DISTINCT FROM OLD.leased_since THEN
        RETURN NEW;
    END IF;
    IF OLD.status = 'LEASED' AND NEW.status IN ('AVAILABLE', 'RETIRED') AND NEW.leased_to IS NULL
       AND NEW.leased_since IS NULL AND NEW.leased_until IS NULL THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'telegram_accounts: % to % is not a change the server makes', OLD.status, NEW.status;
END;
$$;
CREATE TRIGGER telegram_accounts_transition BEFORE UPDATE ON telegram_accounts
    FOR EACH ROW EXECUTE FUNCTION telegram_accounts_transition();

ALTER TABLE leases ENABLE ROW LEVEL SECURITY;
ALTER TABLE leases FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON leases USING (workspace_id = tgos_wall('workspace_id')::uuid);
CREATE POLICY own_memberships ON leases FOR SELECT
    USING (workspace_id IN (SELECT workspace_id FROM memberships WHERE user_id = tgos_wall('user_id')::uuid));
CREATE POLICY due ON leases FOR SELECT
    USING (tgos_wall('sweep') = 'lease_expiry' AND status = 'ACTIVE');
"#;

fn timestamp(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DataKeys::Table)
                    .col(ColumnDef::new(DataKeys::Owner).string_len(64).not_null())
                    .col(ColumnDef::new(DataKeys::Version).integer().not_null())
                    .col(ColumnDef::new(DataKeys::Wrapped).binary().null())
                    .col(timestamp(DataKeys::CreatedAt))
                    .col(ColumnDef::new(DataKeys::DestroyedAt).timestamp_with_time_zone().null())
                    .primary_key(Index::create().col(DataKeys::Owner).col(DataKeys::Version))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TelegramAccounts::Table)
                    .col(ColumnDef::new(TelegramAccounts::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(TelegramAccounts::Status).string_len(16).not_null())
                    .col(ColumnDef::new(TelegramAccounts::Sandbox).boolean().not_null())
                    .col(ColumnDef::new(TelegramAccounts::DisplayName).string_len(129).null())
                    .col(ColumnDef::new(TelegramAccounts::Username).string_len(32).null())
                    .col(ColumnDef::new(TelegramAccounts::PhoneMasked).string_len(64).null())
                    .col(ColumnDef::new(TelegramAccounts::Country).string_len(2).null())
                    .col(ColumnDef::new(TelegramAccounts::Premium).boolean().not_null())
                    .col(ColumnDef::new(TelegramAccounts::AccountCreated).date().null())
                    .col(ColumnDef::new(TelegramAccounts::DcId).small_integer().not_null())
                    .col(ColumnDef::new(TelegramAccounts::TelegramUserId).big_integer().null())
                    .col(ColumnDef::new(TelegramAccounts::KeyFingerprint).binary().not_null())
                    .col(ColumnDef::new(TelegramAccounts::KeyOwner).string_len(64).not_null())
                    .col(ColumnDef::new(TelegramAccounts::KeyVersion).integer().not_null())
                    .col(ColumnDef::new(TelegramAccounts::SealedSession).binary().not_null())
                    .col(
                        ColumnDef::new(TelegramAccounts::PricePerDayMinor)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(TelegramAccounts::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(TelegramAccounts::LeasedTo).uuid().null())
                    .col(
                        ColumnDef::new(TelegramAccounts::LeasedSince)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(TelegramAccounts::LeasedUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(timestamp(TelegramAccounts::CreatedAt))
                    .col(timestamp(TelegramAccounts::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            (
                "telegram_accounts_key_fingerprint_unique",
                vec![TelegramAccounts::KeyFingerprint],
                true,
            ),
            (
                "telegram_accounts_offer_idx",
                vec![TelegramAccounts::Status, TelegramAccounts::Id],
                false,
            ),
            (
                "telegram_accounts_leased_to_idx",
                vec![TelegramAccounts::LeasedTo, TelegramAccounts::Id],
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(TelegramAccounts::Table);
            for column in columns {
                index.col(column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }

        // Two sandbox accounts are never the same simulated user.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX telegram_accounts_sandbox_user_unique ON telegram_accounts (telegram_user_id) \
                 WHERE sandbox",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Leases::Table)
                    .col(ColumnDef::new(Leases::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Leases::WorkspaceId).uuid().not_null())
                    .col(ColumnDef::new(Leases::AccountId).uuid().not_null())
                    .col(ColumnDef::new(Leases::Status).string_len(16).not_null())
                    .col(timestamp(Leases::StartsAt))
                    .col(timestamp(Leases::EndsAt))
                    .col(ColumnDef::new(Leases::PricePerDayMinor).big_integer().not_null())
                    .col(ColumnDef::new(Leases::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Leases::CreatedBy).uuid().null())
                    .col(timestamp(Leases::CreatedAt))
                    .col(timestamp(Leases::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("leases_account_fk")
                            .from(Leases::Table, Leases::AccountId)
                            .to(TelegramAccounts::Table, TelegramAccounts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("leases_workspace_idx")
                    .table(Leases::Table)
                    .col(Leases::WorkspaceId)
                    .col(Leases::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("leases_due_idx")
                    .table(Leases::Table)
                    .col(Leases::Status)
                    .col(Leases::EndsAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AccountHealth::Table)
                    .col(ColumnDef::new(AccountHealth::AccountId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(AccountHealth::Version).big_integer().not_null())
                    .col(ColumnDef::new(AccountHealth::State).string_len(16).not_null())
                    .col(ColumnDef::new(AccountHealth::Health).text().not_null())
                    .col(timestamp(AccountHealth::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountCounters::Table)
                    .col(ColumnDef::new(AccountCounters::AccountId).uuid().not_null())
                    .col(ColumnDef::new(AccountCounters::Holder).uuid().not_null())
                    .col(ColumnDef::new(AccountCounters::Day).date().not_null())
                    .col(ColumnDef::new(AccountCounters::Sent).big_integer().not_null())
                    .col(ColumnDef::new(AccountCounters::Received).big_integer().not_null())
                    .col(ColumnDef::new(AccountCounters::Replies).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(AccountCounters::AccountId)
                            .col(AccountCounters::Holder)
                            .col(AccountCounters::Day),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountCounterPeers::Table)
                    .col(ColumnDef::new(AccountCounterPeers::AccountId).uuid().not_null())
                    .col(ColumnDef::new(AccountCounterPeers::Holder).uuid().not_null())
                    .col(ColumnDef::new(AccountCounterPeers::Day).date().not_null())
                    .col(ColumnDef::new(AccountCounterPeers::Peer).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(AccountCounterPeers::AccountId)
                            .col(AccountCounterPeers::Holder)
                            .col(AccountCounterPeers::Day)
                            .col(AccountCounterPeers::Peer),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountConnections::Table)
                    .col(
                        ColumnDef::new(AccountConnections::AccountId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AccountConnections::Holder).string_len(64).not_null())
                    .col(timestamp(AccountConnections::ExpiresAt))
                    .to_owned(),
            )
            .await?;

        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AccountConnections::Table.into_iden(),
            AccountCounterPeers::Table.into_iden(),
            AccountCounters::Table.into_iden(),
            AccountHealth::Table.into_iden(),
            Leases::Table.into_iden(),
            TelegramAccounts::Table.into_iden(),
            DataKeys::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
