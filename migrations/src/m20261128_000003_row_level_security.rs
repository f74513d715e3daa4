//! The PostgreSQL second wall: the application role and row-level security on every tenant table.
//!
//! Rules:
//! - The server runs its queries as `tgos_app`, a role without superuser or BYPASSRLS, created here (once
//!   per cluster) and granted only the statements it needs: the audit log gets SELECT and INSERT, nothing
//!   more. Migrations and the staff console keep the login role of `DATABASE_URL` (the schema owner).
//! - Every table holding a workspace's rows has row-level security enabled and forced. A row is visible only
//!   when the transaction declared its tenant with `set_config('tgos.<wall>', …, true)`: the workspace id,
//!   or for the few lookups that find their tenant (`me.workspaces`, an invitation token, an API key prefix)
//!   the signed-in user id, the token hash or the key prefix. The settings are transaction-local, so nothing
//!   carries over to the next user of a pooled connection, and with none set a query sees no tenant rows.
//! - Audit entries of the account and platform chains (`workspace_id IS NULL`) are not tenant data and stay
//!   visible; an entry claiming a workspace must be written under that workspace's wall.
//! - SQLite has neither roles nor policies: there the scoped queries are the only wall.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The role the server's pooled connections switch to at start-up.
pub const APP_ROLE: &str = "tgos_app";

const UP: &str = r#"
DO $$
BEGIN
    CREATE ROLE tgos_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    -- Another database of this cluster created it first.
    NULL;
END
$$;
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT tgos_app TO %I', current_user);
    END IF;
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO tgos_app', current_schema());
END
$$;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    users, sessions, sign_in_challenges, backup_codes, auth_throttles,
    workspaces, memberships, invitations, api_keys, audit_chain_heads
    TO tgos_app;
GRANT SELECT, INSERT ON audit_log TO tgos_app;

-- The value of one wall setting of the current transaction, NULL when unset or empty.
CREATE FUNCTION tgos_wall(name text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('tgos.' || name, true), '')
$$;

ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspaces FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON workspaces
    USING (id = tgos_wall('workspace_id')::uuid);
CREATE POLICY own_memberships ON workspaces FOR SELECT
    USING (id IN (SELECT workspace_id FROM memberships WHERE user_id = tgos_wall('user_id')::uuid));

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON memberships
    USING (workspace_id = tgos_wall('workspace_id')::uuid);
CREATE POLICY own_memberships ON memberships FOR SELECT
    USING (user_id = tgos_wall('user_id')::uuid);

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON invitations
    USING (workspace_id = tgos_wall('workspace_id')::uuid);
CREATE POLICY by_token ON invitations FOR SELECT
    USING (encode(token_hash, 'hex') = tgos_wall('invitation_token'));

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON api_keys
    USING (workspace_id = tgos_wall('workspace_id')::uuid);
CREATE POLICY by_prefix ON api_keys FOR SELECT
    USING (prefix = tgos_wall('api_key_prefix'));
CREATE POLICY own_memberships ON api_keys FOR SELECT
    USING (workspace_id IN (SELECT workspace_id FROM memberships WHERE user_id = tgos_wall('user_id')::uuid));

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON audit_log
    USING (workspace_id IS NULL OR workspace_id = tgos_wall('workspace_id')::uuid)
    WITH CHECK (
        (workspace_id IS NULL AND chain NOT LIKE 'workspace:%')
        OR (workspace_id = tgos_wall('workspace_id')::uuid AND chain = 'workspace:' || workspace_id::text)
    );

ALTER TABLE audit_chain_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_chain_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON audit_chain_heads
    USING (chain NOT LIKE 'workspace:%' OR chain = 'workspace:' || tgos_wall('workspace_id'));
"#;

const DOWN: &str = r#"
DROP POLICY IF EXISTS tenant ON audit_chain_heads;
ALTER TABLE audit_chain_heads NO FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_chain_heads DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON audit_log;
ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_log DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON api_keys;
DROP POLICY IF EXISTS by_prefix ON api_keys;
DROP POLICY IF EXISTS own_memberships ON api_keys;
ALTER TABLE api_keys NO FORCE ROW LEVEL SECURITY;
ALTER TABLE api_keys DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON invitations;
DROP POLICY IF EXISTS by_token ON invitations;
ALTER TABLE invitations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE invitations DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON memberships;
DROP POLICY IF EXISTS own_memberships ON memberships;
ALTER TABLE memberships NO FORCE ROW LEVEL SECURITY;
ALTER TABLE memberships DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON workspaces;
DROP POLICY IF EXISTS own_memberships ON workspaces;
ALTER TABLE workspaces NO FORCE ROW LEVEL SECURITY;
ALTER TABLE workspaces DISABLE ROW LEVEL SECURITY;
DROP FUNCTION IF EXISTS tgos_wall(text);
REVOKE ALL ON
    users, sessions, sign_in_challenges, backup_codes, auth_throttles,
    workspaces, memberships, invitations, api_keys, audit_chain_heads, audit_log
    FROM tgos_app;
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
