//! Backups end to end on both databases: a backup holds no wrapped data key in its database copy, restores
//! into an empty database with its data and its keys, and the audit chains verify there; a non-empty target
//! and a tampered backup are refused; a key destroyed in the live database leaves an existing backup's keys
//! file (its checksum rewritten with it); pruning keeps 30 days.

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait as _, Database, Statement};
use serde_json::json;
use tgos_domain::audit::verify::verify_chains;
use tgos_domain::vault::KeyOwner;
use tgos_persistence::backup::{BackupError, Backups};
use tgos_tests::{TestApp, TestOptions, backend_tests};

use super::accounts::{RENT, funded};

fn quiet() -> TestOptions {
    TestOptions {
        workers: false,
        ..TestOptions::default()
    }
}

/// A fresh, empty database of the test's backend, and how to drop it (PostgreSQL) afterwards.
async fn empty_target(app: &TestApp, dir: &std::path::Path, label: &str) -> anyhow::Result<(String, Option<String>)> {
    match &app.database_url {
        None => Ok((format!("sqlite://{}", dir.join(format!("{label}.db")).display()), None)),
        Some(url) => {
            let name = format!("tgos_restore_{}", uuid::Uuid::now_v7().simple());
            let admin = Database::connect(url).await?;
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
            let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
            Ok((format!("{base}/{name}"), Some(name)))
        }
    }
}

async fn drop_target(app: &TestApp, name: Option<String>) -> anyhow::Result<()> {
    if let (Some(url), Some(name)) = (&app.database_url, name) {
        let admin = Database::connect(url).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    Ok(())
}

async fn scalar(url: &str, sql: &str) -> anyhow::Result<i64> {
    let url = if url.starts_with("sqlite") {
        format!("{url}?mode=rw")
    } else {
        url.to_owned()
    };
    let db = Database::connect(url).await?;
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    let value: i64 = row.try_get_by_index(0)?;
    db.close().await?;
    Ok(value)
}

fn keys_file(dir: &std::path::Path) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(serde_json::from_slice(&std::fs::read(dir.join("keys.json"))?)?)
}

backend_tests!(
    a_backup_restores_into_an_empty_database_where_the_audit_verifies_and_destroyed_keys_leave_it,
    options = quiet(),
    |app| {
        // Data: a workspace renting an account (its session resealed under the workspace's data key).
        let account = app.stock_pool(1, 500).await?[0].to_string();
        let (owner, workspace) = funded(&app, "bruno", 10_000).await?;
        let rented = app
            .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
            .await?;
        assert!(rented.is_ok(), "{:?}", rented.body);

        let scratch = tempfile::tempdir()?;
        let backups = Backups::new(scratch.path().join("backups"));
        let live = app.console_store().await?;
        let live_url = app
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", app.data_dir.path().join("tgos.db").display()));
        let manifest = backups.create(live.connection(), &live_url, Utc::now()).await?;
        let dir = backups.root().join(&manifest.name);
        assert_eq!(manifest.files.len(), 2, "{manifest:?}");
        assert!(manifest.file("keys.json").is_some());
        let newest = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/src"))?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter_map(|name| {
                name.strip_suffix(".rs")
                    .filter(|n| n.starts_with('m'))
                    .map(str::to_owned)
            })
            .max()
            .unwrap_or_default();
        assert_eq!(
            manifest.latest_migration, newest,
            "the manifest names the newest migration"
        );
        let owner_key = format!("workspace:{workspace}");
        let saved = keys_file(&dir)?;
        assert!(
            saved
                .iter()
                .any(|k| k["owner"] == owner_key.as_str() && k["wrapped"].is_string()),
            "the keys file holds the workspace's wrapped key: {saved:?}"
        );
        if app.database_url.is_none() {
            let copy = format!("sqlite://{}", dir.join("database.sqlite").display());
            assert!(scalar(&copy, "SELECT COUNT(*) FROM data_keys").await? > 0);
            assert_eq!(
                scalar(&copy, "SELECT COUNT(*) FROM data_keys WHERE wrapped IS NOT NULL").await?,
                0,
                "the database copy holds no wrapped key"
            );
        }
        assert_eq!(backups.list()?.len(), 1);

        // Restored into an empty database: the data, the keys, and audit chains that verify.
        let (target, created) = empty_target(&app, scratch.path(), "restored").await?;
        let outcome = async {
            backups.restore(&manifest.name, &target).await?;
            assert_eq!(
                scalar(&target, "SELECT COUNT(*) FROM users WHERE username = 'bruno'").await?,
                1
            );
            assert_eq!(
                scalar(&target, "SELECT COUNT(*) FROM data_keys WHERE wrapped IS NOT NULL").await?,
                scalar(&live_url, "SELECT COUNT(*) FROM data_keys WHERE wrapped IS NOT NULL").await?,
            );
            let restored = tgos_persistence::connect(&tgos_persistence::DatabaseSettings {
                url: if target.starts_with("sqlite") {
                    format!("{target}?mode=rw")
                } else {
                    target.clone()
                },
                owner_url: None,
                max_connections: 1,
                privileges: tgos_persistence::Privileges::Owner,
                migrate: tgos_persistence::MigrateMode::Auto,
            })
            .await?;
            let reports = verify_chains(&restored, None).await?;
            assert!(reports.len() >= 2, "{reports:?}");
            for report in &reports {
                assert!(report.verdict.is_ok(), "{}: {:?}", report.chain, report.verdict);
            }
            // A second restore into the now non-empty database is refused.
            let again = backups.restore(&manifest.name, &target).await;
            assert!(matches!(again, Err(BackupError::NotEmpty)), "{again:?}");
            anyhow::Ok(())
        }
        .await;
        drop_target(&app, created).await?;
        outcome?;

        // The workspace's key destroyed in the live database leaves the backup's keys file.
        let workspace_id: tgos_domain::ids::WorkspaceId = workspace.parse()?;
        assert!(app.vault.destroy(KeyOwner::Workspace(workspace_id)).await? >= 1);
        assert_eq!(backups.remove_destroyed_keys(live.connection()).await?, 1);
        let scrubbed = keys_file(&dir)?;
        let key = scrubbed
            .iter()
            .find(|k| k["owner"] == owner_key.as_str())
            .ok_or_else(|| anyhow::anyhow!("the key's row is kept as a tombstone"))?;
        assert!(key["wrapped"].is_null() && key["destroyed_at"].is_string(), "{key:?}");
        assert!(
            scrubbed
                .iter()
                .any(|k| k["owner"] == "platform" && k["wrapped"].is_string()),
            "other keys stay"
        );
        assert_eq!(
            backups.remove_destroyed_keys(live.connection()).await?,
            0,
            "nothing twice"
        );
        backups.list()?[0].verify(&dir)?;

        // A tampered backup is refused before anything is written.
        let database_file = manifest
            .files
            .iter()
            .find(|f| f.name != "keys.json")
            .ok_or_else(|| anyhow::anyhow!("no database file"))?;
        let mut bytes = std::fs::read(dir.join(&database_file.name))?;
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(dir.join(&database_file.name), bytes)?;
        let (target, created) = empty_target(&app, scratch.path(), "tampered").await?;
        let tampered = backups.restore(&manifest.name, &target).await;
        drop_target(&app, created).await?;
        assert!(
            matches!(tampered, Err(BackupError::Checksum(ref f)) if *f == database_file.name),
            "{tampered:?}"
        );

        // Thirty days are kept; the thirty-first goes.
        assert!(
            backups
                .prune(Duration::days(30), Utc::now() + Duration::days(29))?
                .is_empty()
        );
        assert_eq!(
            backups.prune(Duration::days(30), Utc::now() + Duration::days(31))?,
            vec![manifest.name.clone()]
        );
        assert!(backups.list()?.is_empty());
        Ok(())
    }
);
