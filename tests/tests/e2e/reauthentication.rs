//! Sensitive changes need a recent `reauthenticate` on the calling session.

use sea_orm::ConnectionTrait as _;
use serde_json::json;
use tgos_tests::app::PASSWORD;
use tgos_tests::{TestApp, TestOptions, backend_tests, totp};

const REAUTHENTICATE: &str = "mutation($p: String!, $c: String) { reauthenticate(password: $p, code: $c) }";
const BEGIN: &str = "mutation { beginTotpEnrollment { secret } }";

async fn audit_actions(app: &TestApp) -> anyhow::Result<Vec<String>> {
    let db = app.db().await?;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT action FROM audit_log ORDER BY chain, sequence",
        ))
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String>("", "action")?))
        .collect()
}

backend_tests!(
    two_factor_changes_need_a_recent_reauthentication_on_this_session,
    |app| {
        let token = app.sign_up("turing").await?;
        let refused = app.gql(Some(&token), BEGIN, json!({})).await?;
        assert_eq!(
            refused.code().as_deref(),
            Some("REAUTHENTICATION_REQUIRED"),
            "{:?}",
            refused.body
        );

        let wrong = app
            .gql(Some(&token), REAUTHENTICATE, json!({ "p": "not my password!" }))
            .await?;
        assert_eq!(wrong.code().as_deref(), Some("BAD_USER_INPUT"));
        assert_eq!(wrong.str_at("/errors/0/extensions/field")?, "password");
        assert_eq!(
            app.gql(Some(&token), BEGIN, json!({})).await?.code().as_deref(),
            Some("REAUTHENTICATION_REQUIRED"),
            "a wrong password opens nothing"
        );

        let opened = app.gql(Some(&token), REAUTHENTICATE, json!({ "p": PASSWORD })).await?;
        let until = chrono::DateTime::parse_from_rfc3339(&opened.str_at("/data/reauthenticate")?)?;
        let minutes = (until.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
        assert!((9 * 60..=10 * 60).contains(&minutes), "a 10-minute window: {minutes} s");
        let begun = app.gql(Some(&token), BEGIN, json!({})).await?;
        assert!(begun.is_ok(), "{:?}", begun.body);

        // The window is this session's: another session of the same person has none.
        let other = app
            .sign_in("turing", PASSWORD)
            .await?
            .str_at("/data/signIn/session/token")?;
        assert_eq!(
            app.gql(Some(&other), BEGIN, json!({})).await?.code().as_deref(),
            Some("REAUTHENTICATION_REQUIRED")
        );
        let actions = audit_actions(&app).await?;
        assert!(
            actions.iter().any(|a| a == "auth.reauthentication_failed"),
            "{actions:?}"
        );
        assert!(actions.iter().any(|a| a == "auth.reauthenticated"), "{actions:?}");
        Ok(())
    }
);

backend_tests!(with_two_factor_on_reauthentication_needs_a_code_used_once, |app| {
    let token = app.sign_up("turing").await?;
    let (secret, codes) = app.enable_totp(&token).await?;
    let other = {
        let challenge = app
            .sign_in("turing", PASSWORD)
            .await?
            .str_at("/data/signIn/twoFactorChallenge")?;
        app.gql(
            None,
            "mutation($ch: String!, $c: String!) { completeSignIn(challenge: $ch, code: $c) { token } }",
            json!({ "ch": challenge, "c": codes[0] }),
        )
        .await?
        .str_at("/data/completeSignIn/token")?
    };
    let regenerate = "mutation($c: String!) { regenerateBackupCodes(code: $c) { backupCodes } }";
    let refused = app
        .gql(Some(&other), regenerate, json!({ "c": totp::code(&secret, 1)? }))
        .await?;
    assert_eq!(refused.code().as_deref(), Some("REAUTHENTICATION_REQUIRED"));
    let disable = "mutation($p: String!, $c: String!) { disableTotp(password: $p, code: $c) }";
    let refused = app
        .gql(Some(&other), disable, json!({ "p": PASSWORD, "c": codes[1] }))
        .await?;
    assert_eq!(refused.code().as_deref(), Some("REAUTHENTICATION_REQUIRED"));

    let no_code = app.gql(Some(&other), REAUTHENTICATE, json!({ "p": PASSWORD })).await?;
    assert_eq!(
        no_code.str_at("/errors/0/extensions/field")?,
        "code",
        "{:?}",
        no_code.body
    );
    let used = app
        .gql(Some(&other), REAUTHENTICATE, json!({ "p": PASSWORD, "c": codes[0] }))
        .await?;
    assert_eq!(
        used.str_at("/errors/0/extensions/field")?,
        "code",
        "a used backup code is refused"
    );
    app.reauthenticate(&other, Some(&codes[2])).await?;
    let regenerated = app
        .gql(Some(&other), regenerate, json!({ "c": totp::code(&secret, 1)? }))
        .await?;
    assert!(regenerated.is_ok(), "{:?}", regenerated.body);
    Ok(())
});

backend_tests!(
    wrong_reauthentications_count_toward_the_lockout,
    options = TestOptions {
        account_lockout_threshold: 3,
        ..TestOptions::default()
    },
    |app| {
        let token = app.sign_up("turing").await?;
        for _ in 0..3 {
            let wrong = app
                .gql(Some(&token), REAUTHENTICATE, json!({ "p": "not my password!" }))
                .await?;
            assert_eq!(wrong.code().as_deref(), Some("BAD_USER_INPUT"));
        }
        let locked = app.gql(Some(&token), REAUTHENTICATE, json!({ "p": PASSWORD })).await?;
        assert_eq!(locked.code().as_deref(), Some("RATE_LIMITED"), "{:?}", locked.body);
        assert_eq!(
            app.sign_in("turing", PASSWORD).await?.code().as_deref(),
            Some("RATE_LIMITED"),
            "the account is locked for sign-in too"
        );
        Ok(())
    }
);

backend_tests!(api_keys_cannot_reauthenticate, |app| {
    let owner = app.sign_up("owner").await?;
    let workspace = app.create_workspace(&owner, "Acme").await?;
    let key = app
        .gql(
            Some(&owner),
            "mutation($w: ID!) { createApiKey(workspaceId: $w, name: \"ci\", scopes: [INBOX_READ]) { secret } }",
            json!({ "w": workspace }),
        )
        .await?
        .str_at("/data/createApiKey/secret")?;
    let refused = app.gql(Some(&key), REAUTHENTICATE, json!({ "p": PASSWORD })).await?;
    assert_eq!(refused.code().as_deref(), Some("FORBIDDEN"), "{:?}", refused.body);
    Ok(())
});
