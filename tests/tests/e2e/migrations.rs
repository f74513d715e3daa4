//! Migrations as a deployment step: `tgos migrate up` run twice at once on a fresh database applies each
//! migration once, `tgos migrate status` tells pending from applied, and a server with
//! `database.migrate = "check"` refuses a database that is behind and starts on one that is current.

use anyhow::Context as _;
use sea_orm::{ConnectionTrait as _, Statement};
use serde_json::json;
use tgos_api::config::Settings;
use tgos_persistence::MigrateMode;
use tgos_tests::Backend;
use tgos_tests::fresh_database::FreshDatabase;

/// Every version in `seaql_migrations` with how many rows record it.
async fn recorded(fresh: &FreshDatabase) -> anyhow::Result<Vec<(String, i64)>> {
    let db = fresh.db().await?;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version, COUNT(*) AS n FROM seaql_migrations GROUP BY version ORDER BY version",
        ))
        .await?;
    let recorded = rows
        .iter()
        .map(|row| Ok((row.try_get::<String>("", "version")?, row.try_get::<i64>("", "n")?)))
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
    db.close().await?;
    Ok(recorded)
}

/// A user can sign up on the server: the schema the migrations built works.
async fn sign_up(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .json(&json!({
            "query": "mutation($input: SignUpInput!) { signUp(input: $input) { session { token } } }",
            "variables": { "input": {
                "email": "ada@example.com",
                "fullName": "Ada Example",
                "username": "ada",
                "password": tgos_tests::app::PASSWORD,
                "ageConfirmed": true,
            }},
        }))
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(
        body.pointer("/data/signUp/session/token")
            .and_then(|t| t.as_str())
            .is_some(),
        "sign-up failed: {body}"
    );
    Ok(())
}

async fn concurrent_ups_apply_each_migration_once_and_check_mode_waits_for_them(
    fresh: &FreshDatabase,
) -> anyhow::Result<()> {
    let settings = fresh.settings()?;
    let before = tgos_api::migrate::status(&settings).await?;
    let total = before.migrations.len();
    assert!(total > 0);
    assert_eq!(before.pending(), total, "a fresh database has every migration pending");
    assert!(
        tgos_api::migrate::render_status(&before, false).contains(&format!("{total} pending; run `tgos migrate up`"))
    );

    let checking = Settings {
        database: tgos_api::config::DatabaseSettings {
            migrate: MigrateMode::Check,
            ..settings.database.clone()
        },
        ..settings.clone()
    };
    let refused = tgos_api::server::start(checking.clone())
        .await
        .err()
        .context("a server with database.migrate = check started on a fresh database")?;
    let message = format!("{refused:#}");
    assert!(
        message.contains(&format!("{total} migration(s) pending")) && message.contains("tgos migrate up"),
        "{message}"
    );
    assert_eq!(
        tgos_api::migrate::status(&settings).await?.pending(),
        total,
        "the refusing server migrated nothing"
    );

    let first = tokio::spawn({
        let settings = settings.clone();
        async move { tgos_api::migrate::up(&settings).await }
    });
    let second = tokio::spawn({
        let settings = settings.clone();
        async move { tgos_api::migrate::up(&settings).await }
    });
    let (first, second) = (first.await??, second.await??);
    assert_eq!(
        first + second,
        total,
        "the two runs applied {first} and {second} of {total}"
    );

    let recorded = recorded(fresh).await?;
    assert_eq!(recorded.len(), total);
    assert!(
        recorded.iter().all(|(_, n)| *n == 1),
        "recorded more than once: {recorded:?}"
    );
    let after = tgos_api::migrate::status(&settings).await?;
    assert!(after.is_current(), "{after:?}");
    let listed: Vec<_> = after.migrations.iter().map(|m| m.name.clone()).collect();
    let versions: Vec<_> = recorded.into_iter().map(|(version, _)| version).collect();
    assert_eq!(listed, versions);
    assert!(tgos_api::migrate::render_status(&after, false).ends_with("up to date\n"));
    assert_eq!(tgos_api::migrate::up(&settings).await?, 0, "nothing is left to apply");

    let server = tgos_api::server::start(checking).await?;
    let worked = sign_up(server.addr).await;
    server.stop().await?;
    worked
}

async fn run(backend: Backend) -> anyhow::Result<()> {
    tgos_persistence::payments::install_tls_provider();
    let Some(fresh) = FreshDatabase::create(backend).await? else {
        return Ok(());
    };
    let outcome = concurrent_ups_apply_each_migration_once_and_check_mode_waits_for_them(&fresh).await;
    fresh.drop().await?;
    outcome
}

mod concurrent_migrations {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() -> anyhow::Result<()> {
        run(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() -> anyhow::Result<()> {
        run(Backend::Postgres).await
    }
}
