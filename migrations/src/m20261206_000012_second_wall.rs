//! The second wall, completed: account health and engagement counters behind row-level security, and an
//! account-transition trigger that no member of the application role can step around.
//!
//! Rules:
//! - `account_health` shows (and takes) an account's health exactly where `telegram_accounts` shows the
//!   account: behind the wall of the workspace holding it, or anywhere while it is on offer or retired. The
//!   platform's own recording of an observation about an account it does not know the holder of declares
//!   `tgos.sweep = 'account_health'`, as the outbox relay declares its own sweep.
//! - `account_counters` and `account_counter_peers` rows belong to their holder: a workspace's wall shows
//!   only the counters of its own use of an account; the pool's counters (holder nil) only behind the
//!   `account_health` sweep.
//! - The account-transition trigger exempts only the table's owner and superusers (staff tooling), not
//!   "anyone who is not `tgos_app`": the server may log in as a role of its own that is a member of
//!   `tgos_app`, and `SET ROLE NONE` on such a connection must not switch the checks off.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE account_health ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_health FORCE ROW LEVEL SECURITY;
CREATE POLICY visible_account ON account_health
    USING (account_id IN (SELECT id FROM telegram_accounts) OR tgos_wall('sweep') = 'account_health')
    WITH CHECK (account_id IN (SELECT id FROM telegram_accounts) OR tgos_wall('sweep') = 'account_health');

ALTER TABLE account_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY holder ON account_counters
    USING (holder = tgos_wall('workspace_id')::uuid
        OR (holder = '00000000-0000-0000-0000-000000000000'::uuid AND tgos_wall('sweep') = 'account_health'));

ALTER TABLE account_counter_peers ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_counter_peers FORCE ROW LEVEL SECURITY;
CREATE POLICY holder ON account_counter_peers
    USING (holder = tgos_wall('workspace_id')::uuid
        OR (holder = '00000000-0000-0000-0000-000000000000'::uuid AND tgos_wall('sweep') = 'account_health'));

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

const DOWN: &str = r#"
DROP POLICY IF EXISTS holder ON account_counter_peers;
ALTER TABLE account_counter_peers NO FORCE ROW LEVEL SECURITY;
ALTER TABLE account_counter_peers DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS holder ON account_counters;
ALTER TABLE account_counters NO FORCE ROW LEVEL SECURITY;
ALTER TABLE account_counters DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS visible_account ON account_health;
ALTER TABLE account_health NO FORCE ROW LEVEL SECURITY;
ALTER TABLE account_health DISABLE ROW LEVEL SECURITY;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(DOWN).await?;
        }
        Ok(())
    }
}
