//! `tgos-console staff create` end to end: the real binary, a real database, an authenticator's code.

use tgos_domain::audit::ports::AuditRepository as _;
use tgos_domain::identity::ports::UserRepository as _;
use tgos_persistence::{DatabaseSettings, Privileges, connect};

mod common;
use common::{backup_codes, prepared_data_dir, run_create, run_second, totp_code};

async fn stored_user(dir: &std::path::Path) -> anyhow::Result<Option<tgos_domain::identity::records::UserRecord>> {
    let url = format!("sqlite://{}?mode=rw", dir.join("tgos.db").display());
    let store = connect(&DatabaseSettings {
        url,
        owner_url: None,
        max_connections: 1,
        privileges: Privileges::Owner,
        migrate: tgos_persistence::MigrateMode::Auto,
    })
    .await?;
    Ok(store.find_user_by_login("root").await?)
}

#[tokio::test]
async fn staff_account_is_created_only_with_a_valid_code_and_has_two_factor_on() -> anyhow::Result<()> {
    let dir = prepared_data_dir().await?;
    let (ok, transcript) = run_create(dir.path(), |_| Ok("000000".to_owned()))?;
    assert!(!ok, "a wrong code must fail: {transcript}");
    assert!(
        stored_user(dir.path()).await?.is_none(),
        "nothing is stored without a valid code"
    );

    let (ok, transcript) = run_create(dir.path(), totp_code)?;
    assert!(ok, "{transcript}");
    assert!(transcript.contains("otpauth://totp/"), "{transcript}");
    let backup_codes = transcript
        .lines()
        .filter(|line| line.starts_with("  ") && line.trim().len() == 11 && line.trim().as_bytes()[5] == b'-')
        .count();
    assert_eq!(backup_codes, 10, "ten backup codes are shown once: {transcript}");
    assert!(
        !transcript.contains("a long staff passphrase"),
        "the password is never echoed"
    );
    let user = stored_user(dir.path())
        .await?
        .ok_or_else(|| anyhow::anyhow!("staff user missing"))?;
    assert!(user.is_staff);
    assert!(user.two_factor_enabled());
    Ok(())
}

#[tokio::test]
async fn a_second_staff_account_needs_a_signed_in_staff_member() -> anyhow::Result<()> {
    let dir = prepared_data_dir().await?;
    let (ok, transcript) = run_create(dir.path(), totp_code)?;
    assert!(ok, "the first staff account is the bootstrap: {transcript}");
    let codes = backup_codes(&transcript);

    let (status, transcript) = run_second(dir.path(), &[], &[])?;
    assert_eq!(status, Some(3), "a distinct exit status: {transcript}");
    assert!(transcript.contains("a staff account already exists"), "{transcript}");
    assert!(transcript.contains("--login"), "it says how: {transcript}");
    assert!(
        !transcript.contains("otpauth://"),
        "refused before any enrollment: {transcript}"
    );

    // A wrong password at the sign-in creates nothing.
    let (status, transcript) = run_second(
        dir.path(),
        &["--login", "root"],
        &["not the password".to_owned(), codes[0].clone()],
    )?;
    assert_eq!(status, Some(1), "{transcript}");

    let (status, transcript) = run_second(
        dir.path(),
        &["--login", "root"],
        &["a long staff passphrase".to_owned(), codes[1].clone()],
    )?;
    assert_eq!(status, Some(0), "{transcript}");
    assert!(transcript.contains("Created staff account second"), "{transcript}");

    let url = format!("sqlite://{}?mode=rw", dir.path().join("tgos.db").display());
    let store = connect(&DatabaseSettings {
        url,
        owner_url: None,
        max_connections: 1,
        privileges: Privileges::Owner,
        migrate: tgos_persistence::MigrateMode::Auto,
    })
    .await?;
    let root = store
        .find_user_by_login("root")
        .await?
        .ok_or_else(|| anyhow::anyhow!("root missing"))?;
    let second = store
        .find_user_by_login("second")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the second staff account was not stored"))?;
    assert!(second.is_staff && second.two_factor_enabled());
    let (entries, _) = store.chain_entries("platform").await?;
    let created = entries
        .iter()
        .find(|e| e.action == "staff.created" && e.target_id.as_deref() == Some(second.id.to_string().as_str()))
        .ok_or_else(|| anyhow::anyhow!("no audit entry for the second account: {entries:?}"))?;
    assert_eq!(
        created.actor.id.as_deref(),
        Some(root.id.to_string().as_str()),
        "audited as root"
    );
    Ok(())
}
