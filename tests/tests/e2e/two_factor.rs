use serde_json::json;
use tgos_tests::app::PASSWORD;
use tgos_tests::{TestOptions, backend_tests, totp};

const COMPLETE: &str =
    "mutation($ch: String!, $code: String!) { completeSignIn(challenge: $ch, code: $code) { token } }";

backend_tests!(enrollment_returns_secret_uri_and_qr_and_turns_two_factor_on, |app| {
    let token = app.sign_up("turing").await?;
    app.reauthenticate(&token, None).await?;
    let begun = app
        .gql(
            Some(&token),
            "mutation { beginTotpEnrollment { secret otpauthUri qrSvg } }",
            json!({}),
        )
        .await?;
    let secret = begun.str_at("/data/beginTotpEnrollment/secret")?;
    let uri = begun.str_at("/data/beginTotpEnrollment/otpauthUri")?;
    assert!(uri.starts_with("otpauth://totp/Telegram%20OS:turing?"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")));
    assert!(begun.str_at("/data/beginTotpEnrollment/qrSvg")?.contains("<svg"));
    let wrong = app
        .gql(
            Some(&token),
            "mutation { confirmTotpEnrollment(code: \"000000\") { backupCodes } }",
            json!({}),
        )
        .await?;
    assert_eq!(wrong.code().as_deref(), Some("BAD_USER_INPUT"));
    let code = totp::code(&secret, 0)?;
    let confirmed = app
        .gql(
            Some(&token),
            "mutation($c: String!) { confirmTotpEnrollment(code: $c) { backupCodes } }",
            json!({ "c": code }),
        )
        .await?;
    let codes = confirmed
        .at("/data/confirmTotpEnrollment/backupCodes")?
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(codes.len(), 10);
    let me = app
        .gql(
            Some(&token),
            "{ me { user { twoFactorEnabled } backupCodesRemaining } }",
            json!({}),
        )
        .await?;
    assert_eq!(me.at("/data/me/user/twoFactorEnabled")?, &json!(true));
    assert_eq!(me.at("/data/me/backupCodesRemaining")?, &json!(10));
    Ok(())
});

backend_tests!(sign_in_with_two_factor_needs_the_challenge_and_a_code, |app| {
    let token = app.sign_up("turing").await?;
    let (secret, _) = app.enable_totp(&token).await?;
    let first = app.sign_in("turing", PASSWORD).await?;
    assert_eq!(
        first.at("/data/signIn/session").ok(),
        None,
        "no session before the second factor"
    );
    let challenge = first.str_at("/data/signIn/twoFactorChallenge")?;
    let wrong = app
        .gql(None, COMPLETE, json!({ "ch": challenge, "code": "123456" }))
        .await?;
    assert_eq!(wrong.code().as_deref(), Some("UNAUTHENTICATED"));
    // The enrollment used the current step; the next step's code is fresh and inside the window.
    let code = totp::code(&secret, 1)?;
    let done = app
        .gql(None, COMPLETE, json!({ "ch": challenge, "code": code }))
        .await?;
    let session = done.str_at("/data/completeSignIn/token")?;
    assert!(
        app.gql(Some(&session), "{ me { user { username } } }", json!({}))
            .await?
            .is_ok()
    );
    let reuse = app
        .gql(
            None,
            COMPLETE,
            json!({ "ch": challenge, "code": totp::code(&secret, -1)? }),
        )
        .await?;
    assert_eq!(
        reuse.code().as_deref(),
        Some("UNAUTHENTICATED"),
        "a challenge works once"
    );
    Ok(())
});

backend_tests!(backup_code_works_exactly_once, |app| {
    let token = app.sign_up("turing").await?;
    let (_, codes) = app.enable_totp(&token).await?;
    let challenge = app
        .sign_in("turing", PASSWORD)
        .await?
        .str_at("/data/signIn/twoFactorChallenge")?;
    let used = app
        .gql(
            None,
            COMPLETE,
            json!({ "ch": challenge, "code": codes[0].to_uppercase() }),
        )
        .await?;
    let session = used.str_at("/data/completeSignIn/token")?;
    let challenge = app
        .sign_in("turing", PASSWORD)
        .await?
        .str_at("/data/signIn/twoFactorChallenge")?;
    let again = app
        .gql(None, COMPLETE, json!({ "ch": challenge, "code": codes[0] }))
        .await?;
    assert_eq!(again.code().as_deref(), Some("UNAUTHENTICATED"));
    let me = app
        .gql(Some(&session), "{ me { backupCodesRemaining } }", json!({}))
        .await?;
    assert_eq!(me.at("/data/me/backupCodesRemaining")?, &json!(9));
    Ok(())
});

backend_tests!(
    one_totp_code_used_twenty_times_concurrently_gives_exactly_one_session,
    options = TestOptions::lenient_lockout(),
    |app| {
        let token = app.sign_up("turing").await?;
        let (secret, _) = app.enable_totp(&token).await?;
        let mut challenges = Vec::new();
        for _ in 0..20 {
            challenges.push(
                app.sign_in("turing", PASSWORD)
                    .await?
                    .str_at("/data/signIn/twoFactorChallenge")?,
            );
        }
        let code = totp::code(&secret, 1)?;
        let attempts: Vec<_> = challenges
            .into_iter()
            .map(|challenge| {
                let app = app.clone();
                let code = code.clone();
                tokio::spawn(async move { app.gql(None, COMPLETE, json!({ "ch": challenge, "code": code })).await })
            })
            .collect();
        let (mut sessions, mut refused) = (0, 0);
        for attempt in attempts {
            let response = attempt.await??;
            match response.code() {
                None => sessions += 1,
                Some(code) => {
                    assert_eq!(code, "UNAUTHENTICATED", "{:?}", response.body);
                    refused += 1;
                }
            }
        }
        assert_eq!((sessions, refused), (1, 19));
        Ok(())
    }
);

backend_tests!(regenerating_backup_codes_invalidates_the_old_ones, |app| {
    let token = app.sign_up("turing").await?;
    let (secret, old) = app.enable_totp(&token).await?;
    app.reauthenticate(&token, Some(&old[0])).await?;
    let regenerated = app
        .gql(
            Some(&token),
            "mutation($c: String!) { regenerateBackupCodes(code: $c) { backupCodes } }",
            json!({ "c": totp::code(&secret, 1)? }),
        )
        .await?;
    let new = regenerated
        .at("/data/regenerateBackupCodes/backupCodes")?
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(new.len(), 10);
    let challenge = app
        .sign_in("turing", PASSWORD)
        .await?
        .str_at("/data/signIn/twoFactorChallenge")?;
    let stale = app
        .gql(None, COMPLETE, json!({ "ch": challenge, "code": old[1] }))
        .await?;
    assert_eq!(stale.code().as_deref(), Some("UNAUTHENTICATED"));
    let fresh = app
        .gql(None, COMPLETE, json!({ "ch": challenge, "code": new[1] }))
        .await?;
    assert!(fresh.is_ok(), "{:?}", fresh.body);
    Ok(())
});

backend_tests!(disabling_two_factor_needs_password_and_code, |app| {
    let token = app.sign_up("turing").await?;
    let (secret, codes) = app.enable_totp(&token).await?;
    app.reauthenticate(&token, Some(&codes[0])).await?;
    let disable = "mutation($p: String!, $c: String!) { disableTotp(password: $p, code: $c) }";
    let wrong_password = app
        .gql(
            Some(&token),
            disable,
            json!({ "p": "not my password!", "c": totp::code(&secret, 1)? }),
        )
        .await?;
    assert_eq!(wrong_password.str_at("/errors/0/extensions/field")?, "password");
    let wrong_code = app
        .gql(Some(&token), disable, json!({ "p": PASSWORD, "c": "000000" }))
        .await?;
    assert_eq!(wrong_code.str_at("/errors/0/extensions/field")?, "code");
    let done = app
        .gql(
            Some(&token),
            disable,
            json!({ "p": PASSWORD, "c": totp::code(&secret, 1)? }),
        )
        .await?;
    assert_eq!(done.at("/data/disableTotp")?, &json!(true));
    let signed_in = app.sign_in("turing", PASSWORD).await?;
    assert!(
        signed_in.str_at("/data/signIn/session/token").is_ok(),
        "no challenge once two-factor is off"
    );
    Ok(())
});

backend_tests!(totp_secret_is_stored_sealed, |app| {
    let token = app.sign_up("turing").await?;
    let (secret, _) = app.enable_totp(&token).await?;
    let stored = app.raw_user_column("turing", "totp_secret_sealed").await?;
    let raw_secret = totp::decode(&secret)?;
    assert!(stored.len() > raw_secret.len(), "sealed value carries nonce and tag");
    assert!(
        !stored.windows(raw_secret.len()).any(|w| w == raw_secret.as_slice()),
        "the secret must not be stored in clear"
    );
    Ok(())
});

/// Every stored backup-code hash, as the database holds it.
async fn stored_backup_hashes(app: &tgos_tests::TestApp) -> anyhow::Result<Vec<Vec<u8>>> {
    use sea_orm::ConnectionTrait as _;
    let db = app.db().await?;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT code_hash FROM backup_codes",
        ))
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<Vec<u8>>("", "code_hash")?))
        .collect()
}

/// Puts one code back as it was stored before keyed hashing: its bare digest, unkeyed.
async fn store_unkeyed(app: &tgos_tests::TestApp, keyed: &[u8], digest: &[u8]) -> anyhow::Result<()> {
    use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let sql = if backend == DatabaseBackend::Postgres {
        "UPDATE backup_codes SET code_hash = $1, keyed = false WHERE code_hash = $2"
    } else {
        "UPDATE backup_codes SET code_hash = ?, keyed = false WHERE code_hash = ?"
    };
    let done = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [digest.to_vec().into(), keyed.to_vec().into()],
        ))
        .await?;
    anyhow::ensure!(done.rows_affected() == 1, "the code's row was not found");
    Ok(())
}

async fn complete_with(app: &tgos_tests::TestApp, code: &str) -> anyhow::Result<tgos_tests::gql::GqlResponse> {
    let challenge = app
        .sign_in("turing", PASSWORD)
        .await?
        .str_at("/data/signIn/twoFactorChallenge")?;
    app.gql(None, COMPLETE, json!({ "ch": challenge, "code": code })).await
}

backend_tests!(
    backup_codes_are_stored_under_a_keyed_hash_and_old_ones_still_work_once,
    |app| {
        use tgos_domain::identity::backup_codes;
        let token = app.sign_up("turing").await?;
        let (_, codes) = app.enable_totp(&token).await?;
        let user: tgos_domain::ids::UserId = app
            .gql(Some(&token), "{ me { user { id } } }", json!({}))
            .await?
            .str_at("/data/me/user/id")?
            .parse()?;
        let stored = stored_backup_hashes(&app).await?;
        assert_eq!(stored.len(), 10);
        for code in &codes {
            let unkeyed = backup_codes::digest(user, code).ok_or_else(|| anyhow::anyhow!("not a code: {code}"))?;
            assert!(
                !stored.contains(&unkeyed),
                "no stored value is the unkeyed hash of a code"
            );
        }

        // A code stored the old way (its unkeyed digest) is keyed at server start and then works, once.
        let key = backup_codes::BackupCodeKey::load(&app.vault).await?;
        let old = &codes[4];
        let digest = backup_codes::digest(user, old).ok_or_else(|| anyhow::anyhow!("not a code"))?;
        let keyed = key.hash(user, old).ok_or_else(|| anyhow::anyhow!("not a code"))?;
        assert!(stored.contains(&keyed), "the stored value is the keyed hash");
        store_unkeyed(&app, &keyed, &digest).await?;
        assert_eq!(
            complete_with(&app, old).await?.code().as_deref(),
            Some("UNAUTHENTICATED"),
            "an unkeyed value is never matched as it stands"
        );
        assert_eq!(app.identity.key_stored_backup_codes().await?, 1);
        assert_eq!(app.identity.key_stored_backup_codes().await?, 0, "nothing left to key");
        assert!(stored_backup_hashes(&app).await?.contains(&keyed));
        let first = complete_with(&app, old).await?;
        assert!(first.is_ok(), "{:?}", first.body);
        assert_eq!(
            complete_with(&app, old).await?.code().as_deref(),
            Some("UNAUTHENTICATED"),
            "a code works once"
        );
        let other = complete_with(&app, &codes[5]).await?;
        assert!(other.is_ok(), "{:?}", other.body);
        Ok(())
    }
);
