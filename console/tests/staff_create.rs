//! `tgos-console staff create` end to end: the real binary, a real database, an authenticator's code.

use tgos_domain::identity::ports::UserRepository as _;
use tgos_persistence::{DatabaseSettings, Privileges, connect};

mod common;
use common::{prepared_data_dir, run_create, totp_code};

async fn stored_user(dir: &std::path::Path) -> anyhow::Result<Option<tgos_domain::identity::records::UserRecord>> {
    let url = format!("sqlite://{}?mode=rw", dir.join("tgos.db").display());
    let store = connect(&DatabaseSettings {
        url,
        owner_url: None,
        max_connections: 1,
        privileges: Privileges::Owner,
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
