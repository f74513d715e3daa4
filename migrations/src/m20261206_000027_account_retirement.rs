//! Staff retiring an account while it is leased: `telegram_accounts.retiring_since` marks it, and it leaves
//! the pool (`RETIRED`) when that lease ends instead of going back on offer; the lease is not renewed.
//!
//! On PostgreSQL the account-transition trigger (last replaced by `000012`) also refuses the server's role
//! any change of the mark, and any return to offer of an account that carries it: only staff (the schema
//! owner, through the console) retire accounts.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum TelegramAccounts {
    Table,
    RetiringSince,
}

const TRIGGER_UP: &str = r#"
CREATE OR REPLACE FUNCTION telegram_accounts_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
       OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
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
    IF NEW.retiring_since IS DISTINCT FROM OLD.retiring_since THEN
        RAISE EXCEPTION 'telegram_accounts: only staff retire an account';
    END IF;
    IF OLD.retiring_since IS NOT NULL AND NEW.status = 'AVAILABLE' THEN
        RAISE EXCEPTION 'telegram_accounts: an account staff are retiring is never offered again';
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
"#;

/// The trigger as `000012` left it.
const TRIGGER_DOWN: &str = r#"
CREATE OR REPLACE FUNCTION telegram_accounts_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
       OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
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
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TelegramAccounts::Table)
                    .add_column(
                        ColumnDef::new(TelegramAccounts::RetiringSince)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(TRIGGER_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(TRIGGER_DOWN).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(TelegramAccounts::Table)
                    .drop_column(TelegramAccounts::RetiringSince)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
