//! What a person's own wall (`tgos.user_id`) may read for their data export, beyond their memberships.
//!
//! Rules (PostgreSQL; on SQLite the export's queries filter the same way and are the only wall):
//! - `invitations`: the invitations addressed to the person's email address (`email_key`), whatever became of
//!   them, but only once the address is verified, as accepting one requires: an account holding somebody
//!   else's unverified address sees none of theirs. Keyed on the user id through `users`, so the address
//!   read is always the account's current one.
//! - `audit_log`: the entries where the person is the actor, on any chain. Reading only: the policies that
//!   check what may be written are untouched.
//! - No table or column is added.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &str = r#"
CREATE POLICY invited_person ON invitations FOR SELECT
    USING (email_key = (
        SELECT email_key FROM users
        WHERE id = tgos_wall('user_id')::uuid AND email_verified_at IS NOT NULL
    ));
CREATE POLICY own_entries ON audit_log FOR SELECT
    USING (actor_id = tgos_wall('user_id'));
"#;

const POSTGRES_DOWN: &str = r#"
DROP POLICY IF EXISTS own_entries ON audit_log;
DROP POLICY IF EXISTS invited_person ON invitations;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_DOWN).await?;
        }
        Ok(())
    }
}
