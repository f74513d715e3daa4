//! `tgos-console accounts list|reprice|retire` on the real binary: the pool's accounts as JSON and as lines, a
//! new price, a retirement, and a second retirement refused as a `CONFLICT` document with exit status 1; each
//! change audited on the platform chain under the staff member.

mod common;
use common::{backup_codes, count, prepared_data_dir, run_console, run_create, staff_answers, totp_code};

fn json_of(stdout: &str) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::from_str(stdout.trim())?)
}

#[tokio::test]
async fn staff_list_reprice_and_retire_accounts_of_the_pool() -> anyhow::Result<()> {
    let dir = prepared_data_dir().await?;
    let (created, transcript) = run_create(dir.path(), totp_code)?;
    assert!(created, "{transcript}");
    let codes = backup_codes(&transcript);
    let as_staff = |n: usize| staff_answers(&codes[n]);

    let stocked = run_console(
        dir.path(),
        &["accounts", "create-sandbox", "--count", "2", "--price-per-day", "100"],
        &as_staff(0),
    )?;
    assert!(stocked.ok, "{}", stocked.everything());

    let listed = run_console(dir.path(), &["accounts", "list", "--json"], &as_staff(1))?;
    assert!(listed.ok, "{}", listed.everything());
    let listed = json_of(&listed.stdout)?;
    let accounts = listed["accounts"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("no accounts in {listed}"))?;
    assert_eq!(accounts.len(), 2, "{listed}");
    assert_eq!(accounts[0]["status"], "AVAILABLE");
    assert_eq!(accounts[0]["health"]["state"], "ACTIVE");
    assert_eq!(accounts[0]["holder"], serde_json::Value::Null);
    let id = accounts[0]["id"].as_str().unwrap_or_default().to_owned();

    let repriced = run_console(
        dir.path(),
        &[
            "accounts",
            "reprice",
            &id,
            "--price-per-day",
            "250",
            "--currency",
            "EUR",
            "--json",
        ],
        &as_staff(2),
    )?;
    assert!(repriced.ok, "{}", repriced.everything());
    assert_eq!(json_of(&repriced.stdout)?["price_per_day"]["formatted"], "2.50 EUR");

    let retired = run_console(dir.path(), &["accounts", "retire", &id, "--json"], &as_staff(3))?;
    assert!(retired.ok, "{}", retired.everything());
    assert_eq!(json_of(&retired.stdout)?["when"], "NOW");

    let only_retired = run_console(
        dir.path(),
        &["accounts", "list", "--status", "retired", "--json"],
        &as_staff(4),
    )?;
    let only_retired = json_of(&only_retired.stdout)?;
    assert_eq!(only_retired["accounts"][0]["id"], id.as_str(), "{only_retired}");
    assert_eq!(only_retired["accounts"][0]["price_per_day"]["amount_minor"], 250);
    assert_eq!(only_retired["accounts"].as_array().map(Vec::len), Some(1));

    let again = run_console(dir.path(), &["accounts", "retire", &id, "--json"], &as_staff(5))?;
    assert!(!again.ok, "a second retirement is refused");
    assert_eq!(json_of(&again.stdout)?["error"]["code"], "CONFLICT");

    let lines = run_console(dir.path(), &["accounts", "list"], &as_staff(6))?;
    assert!(lines.ok, "{}", lines.everything());
    assert!(
        lines.stdout.contains(&format!("{id} RETIRED 2.50 EUR")),
        "{}",
        lines.stdout
    );
    assert!(lines.stdout.contains("2 accounts"), "{}", lines.stdout);

    let db = common::database(dir.path()).await?;
    for action in ["account.repriced", "account.retired"] {
        let sql = format!(
            "SELECT COUNT(*) FROM audit_log WHERE chain = 'platform' AND action = '{action}' AND actor_kind = \
             'STAFF' AND target_id = '{id}'"
        );
        assert_eq!(count(&db, &sql).await?, 1, "{action}");
    }
    Ok(())
}
