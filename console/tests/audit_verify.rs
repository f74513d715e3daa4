//! `tgos-console audit verify` catches an audit entry edited behind the service's back (SQLite has no
//! append-only trigger, so only the hash chain stands between an edit and a silent lie).

use std::process::Command;

use sea_orm::{ConnectionTrait as _, Database};

mod common;
use common::{prepared_data_dir, run_create, totp_code};

fn verify(dir: &std::path::Path, extra: &[&str]) -> anyhow::Result<(bool, String)> {
    let output = Command::new(env!("CARGO_BIN_EXE_tgos-console"))
        .args(["audit", "verify"])
        .args(extra)
        .env("TGOS_DATA_DIR", dir)
        .env_remove("DATABASE_URL")
        .env_remove("TGOS_MASTER_KEY")
        .output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((output.status.success(), text))
}

#[tokio::test]
async fn verify_passes_an_intact_log_and_names_an_edited_entry() -> anyhow::Result<()> {
    let dir = prepared_data_dir().await?;
    let (created, transcript) = run_create(dir.path(), totp_code)?;
    assert!(created, "{transcript}");

    let (ok, report) = verify(dir.path(), &[])?;
    assert!(ok, "{report}");
    assert!(report.contains("ok      user:"), "{report}");

    let db = Database::connect(format!("sqlite://{}?mode=rw", dir.path().join("tgos.db").display())).await?;
    db.execute_unprepared("UPDATE audit_log SET ip_address = '10.0.0.1' WHERE sequence = 1")
        .await?;
    let (ok, report) = verify(dir.path(), &[])?;
    assert!(!ok, "an edited entry must fail verification: {report}");
    assert!(report.contains("BROKEN  user:"), "{report}");
    assert!(report.contains("entry 1"), "the first broken link is named: {report}");

    let unrelated = uuid_like();
    let (ok, report) = verify(dir.path(), &["--workspace", &unrelated])?;
    assert!(ok, "a workspace chain without entries is intact: {report}");
    Ok(())
}

fn uuid_like() -> String {
    "0192f0c0-0000-7000-8000-000000000000".to_owned()
}
