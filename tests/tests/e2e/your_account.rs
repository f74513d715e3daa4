//! The person's own account: the age limit and policy at sign-up, confirming the address, the profile, and
//! an email change that happens only through a link to the new address.

use sea_orm::ConnectionTrait as _;
use serde_json::json;
use tgos_tests::app::PASSWORD;
use tgos_tests::mailbox::link_token;
use tgos_tests::{TestApp, backend_tests};

const SIGN_UP: &str = "mutation($input: SignUpInput!) { signUp(input: $input) { user { id emailVerified } } }";
const VERIFY: &str = "mutation($t: String!) { verifyEmail(token: $t) { email emailVerified } }";
const ME: &str =
    "{ me { user { email emailVerified pendingEmail fullName username noticePreferences { billing leases } } } }";
const REQUEST_CHANGE: &str = "mutation($e: String!) { requestEmailChange(newEmail: $e) }";
const CONFIRM_CHANGE: &str =
    "mutation($t: String!) { confirmEmailChange(token: $t) { email emailVerified pendingEmail } }";

async fn scalar(app: &TestApp, sql: &str) -> anyhow::Result<Option<String>> {
    let db = app.db().await?;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
        .await?;
    Ok(row.and_then(|row| row.try_get_by_index::<Option<String>>(0).ok().flatten()))
}

async fn audited(app: &TestApp, action: &str) -> anyhow::Result<usize> {
    let db = app.db().await?;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT id FROM audit_log WHERE action = '{action}'"),
        ))
        .await?;
    Ok(rows.len())
}

backend_tests!(
    sign_up_needs_the_age_confirmed_records_the_policy_and_sends_a_link_that_confirms_the_address,
    |app| {
        let input = |age: bool| {
            json!({ "input": { "email": "ada@example.com", "fullName": "Ada Lovelace", "username": "ada",
                               "password": PASSWORD, "ageConfirmed": age } })
        };
        let young = app.gql(None, SIGN_UP, input(false)).await?;
        assert_eq!(young.code().as_deref(), Some("BAD_USER_INPUT"), "{:?}", young.body);
        assert_eq!(young.str_at("/errors/0/extensions/field")?, "ageConfirmed");
        let signed_up = app.gql(None, SIGN_UP, input(true)).await?;
        assert_eq!(signed_up.at("/data/signUp/user/emailVerified")?, &json!(false));
        assert_eq!(
            scalar(&app, "SELECT policy_version FROM users WHERE username_key = 'ada'")
                .await?
                .as_deref(),
            Some("2026-04-30")
        );

        app.send_notices_now().await?;
        let mail = app.mailbox().wait_for("ada@example.com", "verify-email?token=").await?;
        assert!(mail.contains("multipart/alternative"), "plain text and HTML: {mail}");
        assert!(mail.contains("text/html") && mail.contains("text/plain"));
        let token = link_token(&mail, "verify-email")?;

        // One character of the MAC changed (not the last: its low bits are padding).
        let at = token.len() - 10;
        let swap = if &token[at..=at] == "A" { "B" } else { "A" };
        let forged = format!("{}{swap}{}", &token[..at], &token[at + 1..]);
        let refused = app.gql(None, VERIFY, json!({ "t": forged })).await?;
        assert_eq!(refused.code().as_deref(), Some("BAD_USER_INPUT"));
        assert_eq!(refused.str_at("/errors/0/extensions/field")?, "token");
        assert_eq!(audited(&app, "account.email_verified").await?, 0);

        let verified = app.gql(None, VERIFY, json!({ "t": token })).await?;
        assert_eq!(
            verified.at("/data/verifyEmail/emailVerified")?,
            &json!(true),
            "{:?}",
            verified.body
        );
        let again = app.gql(None, VERIFY, json!({ "t": token })).await?;
        assert_eq!(
            again.at("/data/verifyEmail/emailVerified")?,
            &json!(true),
            "confirming twice is harmless"
        );
        assert_eq!(audited(&app, "account.email_verified").await?, 1);

        let session = app
            .sign_in("ada", PASSWORD)
            .await?
            .str_at("/data/signIn/session/token")?;
        let resent = app
            .gql(Some(&session), "mutation { resendEmailVerification }", json!({}))
            .await?;
        assert_eq!(
            resent.at("/data/resendEmailVerification")?,
            &json!(false),
            "nothing to confirm"
        );
        Ok(())
    }
);

backend_tests!(
    an_email_change_needs_reauthentication_and_happens_only_through_the_latest_link_to_the_new_address,
    |app| {
        let token = app.sign_up("grace").await?;
        let refused = app
            .gql(Some(&token), REQUEST_CHANGE, json!({ "e": "grace@new.example" }))
            .await?;
        assert_eq!(
            refused.code().as_deref(),
            Some("REAUTHENTICATION_REQUIRED"),
            "{:?}",
            refused.body
        );
        app.reauthenticate(&token, None).await?;
        app.sign_up("taken").await?;
        let taken = app
            .gql(Some(&token), REQUEST_CHANGE, json!({ "e": "TAKEN@example.com" }))
            .await?;
        assert_eq!(taken.code().as_deref(), Some("CONFLICT"));
        assert_eq!(taken.str_at("/errors/0/extensions/field")?, "newEmail");
        let bad = app
            .gql(Some(&token), REQUEST_CHANGE, json!({ "e": "not an address" }))
            .await?;
        assert_eq!(bad.str_at("/errors/0/extensions/field")?, "newEmail");

        let first = app
            .gql(Some(&token), REQUEST_CHANGE, json!({ "e": "grace@first.example" }))
            .await?;
        assert_eq!(first.at("/data/requestEmailChange")?, &json!(true), "{:?}", first.body);
        app.send_notices_now().await?;
        let first_link = app
            .mailbox()
            .wait_for("grace@first.example", "confirm-email?token=")
            .await?;
        let first_token = link_token(&first_link, "confirm-email")?;
        let second = app
            .gql(Some(&token), REQUEST_CHANGE, json!({ "e": "grace@new.example" }))
            .await?;
        assert!(second.is_ok(), "{:?}", second.body);
        app.send_notices_now().await?;
        let told = app.mailbox().wait_for("grace@example.com", "grace@new.example").await?;
        assert!(
            told.contains("about to change"),
            "the current address hears of it: {told}"
        );
        let link = app
            .mailbox()
            .wait_for("grace@new.example", "confirm-email?token=")
            .await?;
        let latest = link_token(&link, "confirm-email")?;

        let me = app.gql(Some(&token), ME, json!({})).await?;
        assert_eq!(
            me.str_at("/data/me/user/email")?,
            "grace@example.com",
            "nothing changed yet"
        );
        assert_eq!(me.str_at("/data/me/user/pendingEmail")?, "grace@new.example");

        let stale = app.gql(None, CONFIRM_CHANGE, json!({ "t": first_token })).await?;
        assert_eq!(
            stale.code().as_deref(),
            Some("BAD_USER_INPUT"),
            "a replaced link: {:?}",
            stale.body
        );
        let confirmed = app.gql(None, CONFIRM_CHANGE, json!({ "t": latest })).await?;
        assert_eq!(
            confirmed.str_at("/data/confirmEmailChange/email")?,
            "grace@new.example",
            "{:?}",
            confirmed.body
        );
        assert_eq!(confirmed.at("/data/confirmEmailChange/emailVerified")?, &json!(true));
        assert_eq!(
            confirmed.body.pointer("/data/confirmEmailChange/pendingEmail"),
            Some(&json!(null))
        );
        let replay = app.gql(None, CONFIRM_CHANGE, json!({ "t": latest })).await?;
        assert_eq!(replay.code().as_deref(), Some("BAD_USER_INPUT"), "a link works once");

        app.send_notices_now().await?;
        let changed = app.mailbox().wait_for("grace@example.com", "was changed").await?;
        assert!(changed.contains("grace@new.example"));
        let by_new = app.sign_in("grace@new.example", PASSWORD).await?;
        assert!(by_new.str_at("/data/signIn/session/token").is_ok(), "{:?}", by_new.body);
        let by_old = app.sign_in("grace@example.com", PASSWORD).await?;
        assert!(!by_old.is_ok(), "the old address no longer signs in");
        assert_eq!(audited(&app, "account.email_changed").await?, 1);
        Ok(())
    }
);

backend_tests!(profile_changes_follow_sign_up_rules_and_conflicts, |app| {
    let token = app.sign_up("linus").await?;
    app.sign_up("alan").await?;
    let update = "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { fullName username } }";
    let taken = app
        .gql(Some(&token), update, json!({ "i": { "username": "ALAN" } }))
        .await?;
    assert_eq!(taken.code().as_deref(), Some("CONFLICT"), "{:?}", taken.body);
    assert_eq!(taken.str_at("/errors/0/extensions/field")?, "input.username");
    let bad = app
        .gql(
            Some(&token),
            update,
            json!({ "i": { "username": "x", "fullName": "" } }),
        )
        .await?;
    let fields: Vec<_> = bad
        .at("/errors")?
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["extensions"]["field"].as_str().map(str::to_owned))
        .collect();
    assert!(
        fields.contains(&"input.username".to_owned()) && fields.contains(&"input.fullName".to_owned()),
        "{fields:?}"
    );
    let changed = app
        .gql(
            Some(&token),
            update,
            json!({ "i": { "username": "Linus2", "fullName": "Linus T." } }),
        )
        .await?;
    assert_eq!(
        changed.str_at("/data/updateProfile/username")?,
        "Linus2",
        "{:?}",
        changed.body
    );
    let me = app.gql(Some(&token), ME, json!({})).await?;
    assert_eq!(me.str_at("/data/me/user/fullName")?, "Linus T.");
    assert!(app.sign_in("linus2", PASSWORD).await?.is_ok());
    assert_eq!(audited(&app, "account.profile_updated").await?, 1);

    let prefs =
        "mutation { updateNoticePreferences(input: { billing: false }) { noticePreferences { billing leases } } }";
    let prefs = app.gql(Some(&token), prefs, json!({})).await?;
    assert_eq!(
        prefs.at("/data/updateNoticePreferences/noticePreferences")?,
        &json!({ "billing": false, "leases": true })
    );
    Ok(())
});
