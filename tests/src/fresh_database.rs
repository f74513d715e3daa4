//! A fresh, empty database with no server on it: for tests of what comes before a server starts (the
//! migrations). A SQLite file in a temporary data directory, or a PostgreSQL database created here and
//! dropped by [`FreshDatabase::drop`].

use anyhow::Context as _;
use sea_orm::{ConnectionTrait as _, Database, DatabaseConnection};
use secrecy::SecretString;
use tgos_api::config::Settings;

use crate::Backend;
use crate::backend::{postgres_admin_url, with_database};

#[derive(Debug)]
pub struct FreshDatabase {
    pub data_dir: tempfile::TempDir,
    /// PostgreSQL: the database's URL (a superuser, which owns the schema); SQLite: none (the embedded file).
    pub url: Option<String>,
    /// PostgreSQL: the server connection that created the database, and its name, to drop it.
    admin: Option<(DatabaseConnection, String)>,
}

impl FreshDatabase {
    /// An empty database on `backend`; `None` when PostgreSQL is not configured (the test is skipped, as
    /// `backend_tests!` skips).
    pub async fn create(backend: Backend) -> anyhow::Result<Option<Self>> {
        crate::app::init_logs();
        let data_dir = tempfile::tempdir()?;
        if backend == Backend::Sqlite {
            return Ok(Some(Self {
                data_dir,
                url: None,
                admin: None,
            }));
        }
        let Some(admin_url) = postgres_admin_url()? else {
            eprintln!("SKIPPED (PostgreSQL): TGOS_TEST_DATABASE_URL is not set; set it to run this test on PostgreSQL");
            return Ok(None);
        };
        let name = format!("tgos_test_{}", uuid::Uuid::now_v7().simple());
        let admin = Database::connect(&admin_url)
            .await
            .context("cannot reach the PostgreSQL test server")?;
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
        Ok(Some(Self {
            data_dir,
            url: Some(with_database(&admin_url, &name)?),
            admin: Some((admin, name)),
        }))
    }

    /// The embedded settings on this database, with a listener on port 0.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = Settings::embedded(self.data_dir.path())?;
        settings.database.url = self.url.clone().map(SecretString::from);
        settings.database.max_connections = 4;
        settings.server.shutdown_grace_secs = 5;
        Ok(settings)
    }

    /// A connection of the test's own, for looking at the database directly.
    pub async fn db(&self) -> anyhow::Result<DatabaseConnection> {
        let url = match &self.url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rw", self.data_dir.path().join("tgos.db").display()),
        };
        Ok(Database::connect(url).await?)
    }

    /// Drops the PostgreSQL database (the SQLite file goes with the directory).
    pub async fn drop(self) -> anyhow::Result<()> {
        if let Some((admin, name)) = self.admin {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
        }
        Ok(())
    }
}
