//! `tgos-console retention report|run` and `backup …` on the real binary: the report is a dry run (it
//! changes nothing and audits nothing), the run deletes what expired and prints its summary, `--json` reads
//! back, an unreachable database exits 3, and a backup made by the console restores only into an empty file.

use std::process::{Command, Output};

use sea_orm::{ConnectionTrait as _, Database, Statement};

mod common;
use common::prepared_data_dir;

fn console(dir: &std::path::Path, args: &[&str]) -> anyhow::Result<Output> {
    Ok(Command::new(env!("CARGO_BIN_EXE_tgos-console"))
        .args(args)
        .env("TGOS_DATA_DIR", dir)
        .env_remove("DATABASE_URL")
        .env_remove("TGOS_MASTER_KEY")
        .output()?)
}

async fn scalar(dir: &std::path::Path, sql: &str) -> anyhow::Result<i64> {
    let db = Database::connect(format!("sqlite://{}?mode=rw", dir.join("tgos.db").display())).await?;
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    Ok(row.try_get_by_index(0)?)
}

#[tokio::test]
async fn the_report_changes_nothing_and_the_run_deletes_what_expired() -> anyhow::Result<()> {
    let dir = prepared_data_dir().await?;
    let db = Database::connect(format!("sqlite://{}?mode=rw", dir.path().join("tgos.db").display())).await?;
    db.execute_unprepared(
        "INSERT INTO auth_throttles (key, failures, lock_count, locked_until, updated_at) VALUES \
         ('login:old', 1, 0, NULL, '2020-01-01 00:00:00+00:00')",
    )
    .await?;

    let report = console(dir.path(), &["retention", "report", "--json"])?;
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    let body: serde_json::Value = serde_json::from_slice(&report.stdout)?;
    assert_eq!(body["dryRun"], true);
    let throttles = body["classes"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["class"] == "stale_throttles"))
        .ok_or_else(|| anyhow::anyhow!("no stale_throttles in {body}"))?;
    assert_eq!(throttles["rows"], 1);
    assert_eq!(
        scalar(dir.path(), "SELECT COUNT(*) FROM auth_throttles").await?,
        1,
        "a report changes nothing"
    );
    assert_eq!(
        scalar(
            dir.path(),
            "SELECT COUNT(*) FROM audit_log WHERE action = 'retention.swept'"
        )
        .await?,
        0
    );

    let run = console(dir.path(), &["retention", "run"])?;
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{text}{}", String::from_utf8_lossy(&run.stderr));
    assert!(
        text.contains("stale_throttles") && text.contains("1 rows changed by the sweep"),
        "{text}"
    );
    assert_eq!(scalar(dir.path(), "SELECT COUNT(*) FROM auth_throttles").await?, 0);
    assert_eq!(
        scalar(
            dir.path(),
            "SELECT COUNT(*) FROM audit_log WHERE action = 'retention.swept'"
        )
        .await?,
        1
    );
    let verify = console(dir.path(), &["audit", "verify"])?;
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    Ok(())
}

#[tokio::test]
async fn a_console_backup_restores_only_into_an_empty_file_and_a_missing_database_exits_3() -> anyhow::Result<()> {
    let dir = prepared_data_dir().await?;
    let created = console(dir.path(), &["backup", "create", "--json"])?;
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let manifest: serde_json::Value = serde_json::from_slice(&created.stdout)?;
    let name = manifest["name"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no name"))?
        .to_owned();
    let listed = console(dir.path(), &["backup", "list"])?;
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&name));

    let target = dir.path().join("restored.db");
    let into = format!("sqlite://{}", target.display());
    let restored = console(dir.path(), &["backup", "restore", &name, "--into", &into])?;
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let again = console(dir.path(), &["backup", "restore", &name, "--into", &into])?;
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    let nowhere = tempfile::tempdir()?;
    let missing = console(nowhere.path(), &["retention", "report"])?;
    assert_eq!(
        missing.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    let usage = console(dir.path(), &["backup", "restore"])?;
    assert_eq!(usage.status.code(), Some(2));
    Ok(())
}
