use serde_json::json;
use tgos_domain::identity::Principal;
use tgos_domain::identity::use_cases::NewStaff;
use tgos_tests::{backend_tests, totp};

const PASSWORD: &str = "a long staff passphrase";

async fn acts_as_staff(app: &tgos_tests::TestApp, token: &str) -> anyhow::Result<bool> {
    let found = app
        .identity
        .authenticate(token)
        .await?
        .ok_or_else(|| anyhow::anyhow!("session not found"))?;
    let Principal::User { acts_as_staff, .. } = found.principal else {
        anyhow::bail!("a session token resolved to an API key");
    };
    Ok(acts_as_staff)
}

fn new_staff() -> NewStaff {
    NewStaff {
        email: "staff@example.com".into(),
        full_name: "Staff Member".into(),
        username: "staff".into(),
        password: PASSWORD.to_owned().into(),
    }
}

backend_tests!(staff_powers_need_two_factor, |app| {
    let prepared = app.identity.prepare_staff(new_staff()).await?;
    let secret = prepared.enrollment.secret.clone();
    let wrong = app.identity.create_staff(prepared, "000000").await;
    assert!(wrong.is_err(), "a wrong code creates nothing");
    assert_eq!(
        app.sign_in("staff", PASSWORD).await?.code().as_deref(),
        Some("UNAUTHENTICATED")
    );

    let prepared = app.identity.prepare_staff(new_staff()).await?;
    let secret_now = prepared.enrollment.secret.clone();
    assert_ne!(secret, secret_now, "every preparation draws a new secret");
    let (_, backup_codes) = app
        .identity
        .create_staff(prepared, &totp::code(&secret_now, 0)?)
        .await?;

    let challenge = app
        .sign_in("staff", PASSWORD)
        .await?
        .str_at("/data/signIn/twoFactorChallenge")?;
    let complete = "mutation($ch: String!, $code: String!) { completeSignIn(challenge: $ch, code: $code) { token } }";
    let token = app
        .gql(
            None,
            complete,
            json!({ "ch": challenge, "code": totp::code(&secret_now, 1)? }),
        )
        .await?
        .str_at("/data/completeSignIn/token")?;
    assert!(acts_as_staff(&app, &token).await?);

    let disable = "mutation($p: String!, $c: String!) { disableTotp(password: $p, code: $c) }";
    // Both recent TOTP steps are spent; backup codes stand in.
    let reauthenticated = app
        .gql(
            Some(&token),
            "mutation($p: String!, $c: String) { reauthenticate(password: $p, code: $c) }",
            json!({ "p": PASSWORD, "c": backup_codes[1] }),
        )
        .await?;
    assert!(reauthenticated.is_ok(), "{:?}", reauthenticated.body);
    let disabled = app
        .gql(Some(&token), disable, json!({ "p": PASSWORD, "c": backup_codes[0] }))
        .await?;
    assert_eq!(disabled.at("/data/disableTotp")?, &json!(true), "{:?}", disabled.body);
    assert!(
        !acts_as_staff(&app, &token).await?,
        "without two-factor the staff flag gives no powers"
    );
    Ok(())
});
