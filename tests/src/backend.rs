//! The database a test runs against, created before and dropped after it.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context as _;
use sea_orm::{ConnectionTrait as _, Database};

use crate::app::{TestApp, TestOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test harness reads its own switches from the environment"
)]
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The PostgreSQL server to create test databases on, or why there is none.
pub(crate) fn postgres_admin_url() -> anyhow::Result<Option<String>> {
    match env("TGOS_TEST_DATABASE_URL") {
        Some(url) => Ok(Some(url)),
        None if env("TGOS_REQUIRE_POSTGRES").as_deref() == Some("1") => {
            anyhow::bail!("TGOS_REQUIRE_POSTGRES=1 but TGOS_TEST_DATABASE_URL is not set")
        }
        None => Ok(None),
    }
}

/// `postgres://u@h:5432/whatever?x` with the database replaced.
pub(crate) fn with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").context("database URL has no scheme")? + 3;
    let path_start = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

impl Backend {
    /// Runs `test` against a fresh server on this backend, then tears everything down, even on failure.
    pub async fn run<F, Fut>(self, options: TestOptions, test: F) -> anyhow::Result<()>
    where
        F: FnOnce(Arc<TestApp>) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        crate::app::init_logs();
        match self {
            Backend::Sqlite => {
                let app = Arc::new(TestApp::spawn(None, options).await?);
                let outcome = tokio::spawn(test(Arc::clone(&app))).await;
                app.shutdown().await;
                outcome.map_err(|panic| anyhow::anyhow!("test panicked: {panic}"))?
            }
            Backend::Postgres => {
                let Some(admin_url) = postgres_admin_url()? else {
                    eprintln!(
                        "SKIPPED (PostgreSQL): TGOS_TEST_DATABASE_URL is not set; set it to run this test on PostgreSQL"
                    );
                    return Ok(());
                };
                let name = format!("tgos_test_{}", uuid::Uuid::now_v7().simple());
                let admin = Database::connect(&admin_url)
                    .await
                    .context("cannot reach the PostgreSQL test server")?;
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
                let spawned = TestApp::spawn(Some(with_database(&admin_url, &name)?), options).await;
                let outcome = match spawned {
                    Ok(app) => {
                        let app = Arc::new(app);
                        let outcome = tokio::spawn(test(Arc::clone(&app))).await;
                        app.shutdown().await;
                        outcome
                            .map_err(|panic| anyhow::anyhow!("test panicked: {panic}"))
                            .and_then(|r| r)
                    }
                    Err(error) => Err(error),
                };
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                outcome
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_in_urls() -> anyhow::Result<()> {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1")?,
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t2")?,
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:5432", "t3")?, "postgres://h:5432/t3");
        Ok(())
    }
}
