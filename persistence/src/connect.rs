//! Opening the database: SQLite file (created if missing) or PostgreSQL, then bringing the schema to this
//! build's version as `migrate` says: applying pending migrations under the migration lock, or refusing to
//! open while any is pending ([`crate::schema`]).
//!
//! SQLite runs in WAL mode with `synchronous = NORMAL` (readers never wait for a writer; a commit is durable
//! against a process crash, and against power loss up to the last checkpoint) and a busy timeout, so
//! concurrent writers queue instead of failing. Pooled connections are not pinged on every checkout (a
//! round trip per query otherwise); one idle for 30 s is checked first.
//!
//! On PostgreSQL, migrations run on a connection of their own as the schema owner: the login role of
//! `owner_url` when set, else of `url`. The server's pool then switches every connection to the application
//! role at start-up ([`Privileges::Application`]): a role without superuser or BYPASSRLS, so row-level security
//! applies to every query it runs. `RESET ROLE` returns to that start-up value, but `SET ROLE NONE` returns to
//! the login role of `url`: in production that is a role of the server's own, a member of the application role
//! that owns nothing ([`SeaStore::login_role_is_privileged`] tells), so stepping out of the application role
//! gains nothing.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use tgos_migrations::APP_ROLE;

use crate::repo::SeaStore;
use crate::schema::{self, MigrateMode, SchemaError, SchemaStatus};

/// Whose rights the pool's queries run with (PostgreSQL; SQLite has no roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privileges {
    /// The server: the application role, behind row-level security.
    Application,
    /// Staff tooling: the login role of the URL, which owns the schema (verifying every audit chain reads
    /// across tenants by design).
    Owner,
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `sqlite://path?mode=rwc` or `postgres://…`.
    pub url: String,
    /// PostgreSQL: the schema owner's URL, for migrations only, when the server's `url` logs in as a role of its
    /// own (a member of the application role that owns nothing). Unset: migrations run as `url`'s login role.
    pub owner_url: Option<String>,
    pub max_connections: u32,
    pub privileges: Privileges,
    /// Whether opening applies pending migrations or refuses while any is pending.
    pub migrate: MigrateMode,
}

impl DatabaseSettings {
    /// The URL migrations run with: the owner's when set, else `url`.
    fn migration_url(&self) -> &str {
        self.owner_url.as_deref().unwrap_or(&self.url)
    }
}

fn options(settings: &DatabaseSettings, max_connections: u32, role: Option<&'static str>) -> ConnectOptions {
    let mut options = ConnectOptions::new(settings.url.clone());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(|options| {
            options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    if let Some(role) = role {
        options.map_sqlx_postgres_opts(move |options| options.options([("role", role)]));
    }
    options
}

/// Connects as the schema owner with a single connection (migrations and their status).
async fn open_owner(settings: &DatabaseSettings) -> Result<(DatabaseConnection, String), DbErr> {
    let url = settings.migration_url().to_owned();
    let owner = DatabaseSettings {
        url: url.clone(),
        owner_url: None,
        ..settings.clone()
    };
    Ok((Database::connect(options(&owner, 1, None)).await?, url))
}

/// Brings the schema of `db` (connected as the owner, at `url`) to this build's version as `migrate` says.
async fn prepare(db: &DatabaseConnection, url: &str, migrate: MigrateMode) -> Result<(), SchemaError> {
    match migrate {
        MigrateMode::Auto => {
            schema::migrate_up_on(db, url).await?;
        }
        MigrateMode::Check => {
            let count = schema::status_of(db).await?.pending();
            if count > 0 {
                return Err(SchemaError::Pending { count });
            }
        }
    }
    Ok(())
}

/// Connects, and applies pending migrations under the migration lock (`migrate = Auto`) or refuses while
/// any is pending (`Check`).
pub async fn connect(settings: &DatabaseSettings) -> Result<SeaStore, SchemaError> {
    let is_postgres = settings.url.starts_with("postgres");
    if !is_postgres || settings.privileges == Privileges::Owner {
        let db = Database::connect(options(settings, settings.max_connections, None)).await?;
        prepare(&db, &settings.url, settings.migrate).await?;
        return Ok(SeaStore::new(db));
    }
    let (owner, owner_url) = open_owner(settings).await?;
    let prepared = prepare(&owner, &owner_url, settings.migrate).await;
    owner.close().await?;
    prepared?;
    let db = Database::connect(options(settings, settings.max_connections, Some(APP_ROLE))).await?;
    Ok(SeaStore::new(db))
}

/// `tgos migrate up`: applies the pending migrations as the schema owner under the migration lock; returns
/// how many this run applied (0 when another process applied them first).
pub async fn migrate_up(settings: &DatabaseSettings) -> Result<usize, DbErr> {
    let (owner, url) = open_owner(settings).await?;
    let applied = schema::migrate_up_on(&owner, &url).await;
    owner.close().await?;
    applied
}

/// `tgos migrate status`: every migration this build knows and whether the database has it.
pub async fn schema_status(settings: &DatabaseSettings) -> Result<SchemaStatus, DbErr> {
    let (owner, _url) = open_owner(settings).await?;
    let status = schema::status_of(&owner).await;
    owner.close().await?;
    status
}

impl SeaStore {
    /// Whether the login role of the pool (PostgreSQL's `session_user`, which `SET ROLE NONE` returns to) is a
    /// superuser, may bypass row-level security, or owns a table of the schema (and so could switch its
    /// row-level security off). The server's login role should be none of these; SQLite has no roles.
    pub async fn login_role_is_privileged(&self) -> Result<bool, DbErr> {
        let db = self.connection();
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(false);
        }
        let sql = "SELECT r.rolsuper OR r.rolbypassrls OR EXISTS (
                SELECT 1 FROM pg_class c
                WHERE c.relnamespace = current_schema()::regnamespace AND c.relowner = r.oid)
            FROM pg_roles r WHERE r.rolname = session_user";
        let row = db
            .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("the login role".to_owned()))?;
        row.try_get_by_index::<bool>(0)
    }

    /// Whether this connection reads past row-level security: always on SQLite; on PostgreSQL only as a
    /// superuser or a role with BYPASSRLS. Staff tooling that must see every tenant checks this first.
    pub async fn reads_across_tenants(&self) -> Result<bool, DbErr> {
        let db = self.connection();
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(true);
        }
        let sql = "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user";
        let row = db
            .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("the current role".to_owned()))?;
        row.try_get_by_index::<bool>(0)
    }
}
