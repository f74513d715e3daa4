use serde_json::json;
use tgos_domain::DomainError;
use tgos_domain::audit::ActorKind;
use tgos_domain::audit::ports::AuditRepository as _;
use tgos_domain::identity::Principal;
use tgos_domain::identity::use_cases::{NewStaff, STAFF_EXIST, StaffCreator};
use tgos_domain::request::ClientInfo;
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
        age_confirmed: true,
    }
}

backend_tests!(staff_powers_need_two_factor, |app| {
    let prepared = app.identity.prepare_staff(new_staff()).await?;
    let secret = prepared.enrollment.secret.clone();
    let wrong = app
        .identity
        .create_staff(prepared, "000000", StaffCreator::Bootstrap)
        .await;
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
        .create_staff(prepared, &totp::code(&secret_now, 0)?, StaffCreator::Bootstrap)
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

/// Signs a staff member in with password and a fresh TOTP step; their principal.
async fn staff_principal(app: &tgos_tests::TestApp, login: &str, secret: &str, step: i64) -> anyhow::Result<Principal> {
    let challenge = app
        .sign_in(login, PASSWORD)
        .await?
        .str_at("/data/signIn/twoFactorChallenge")?;
    let complete = "mutation($ch: String!, $code: String!) { completeSignIn(challenge: $ch, code: $code) { token } }";
    let token = app
        .gql(
            None,
            complete,
            json!({ "ch": challenge, "code": totp::code(secret, step)? }),
        )
        .await?
        .str_at("/data/completeSignIn/token")?;
    Ok(app
        .identity
        .authenticate(&token)
        .await?
        .ok_or_else(|| anyhow::anyhow!("session not found"))?
        .principal)
}

backend_tests!(only_the_first_staff_account_is_created_without_a_sign_in, |app| {
    assert!(!app.identity.staff_exists().await?);
    let first = app.identity.prepare_staff(new_staff()).await?;
    let first_secret = first.enrollment.secret.clone();
    let (root, _) = app
        .identity
        .create_staff(first, &totp::code(&first_secret, 0)?, StaffCreator::Bootstrap)
        .await?;
    assert!(app.identity.staff_exists().await?);

    let second = || NewStaff {
        email: "second@example.com".into(),
        full_name: "Second Staff".into(),
        username: "second".into(),
        password: PASSWORD.to_owned().into(),
        age_confirmed: true,
    };
    let prepared = app.identity.prepare_staff(second()).await?;
    let code = totp::code(&prepared.enrollment.secret.clone(), 0)?;
    let refused = app
        .identity
        .create_staff(prepared, &code, StaffCreator::Bootstrap)
        .await;
    assert!(
        matches!(&refused, Err(DomainError::Forbidden(message)) if message == STAFF_EXIST),
        "{refused:?}"
    );
    assert_eq!(
        app.sign_in("second", PASSWORD).await?.code().as_deref(),
        Some("UNAUTHENTICATED"),
        "nothing was stored"
    );

    // A non-staff user's principal cannot stand in for staff.
    let tenant = app.sign_up("olive").await?;
    let tenant = app
        .identity
        .authenticate(&tenant)
        .await?
        .ok_or_else(|| anyhow::anyhow!("session not found"))?
        .principal;
    let prepared = app.identity.prepare_staff(second()).await?;
    let code = totp::code(&prepared.enrollment.secret.clone(), 0)?;
    let client = ClientInfo::default();
    let refused = app
        .identity
        .create_staff(prepared, &code, StaffCreator::Staff(&tenant, &client))
        .await;
    assert!(matches!(refused, Err(DomainError::Forbidden(_))), "{refused:?}");

    let signed_in = staff_principal(&app, "staff", &first_secret, 1).await?;
    let prepared = app.identity.prepare_staff(second()).await?;
    let code = totp::code(&prepared.enrollment.secret.clone(), 0)?;
    let (created, _) = app
        .identity
        .create_staff(prepared, &code, StaffCreator::Staff(&signed_in, &client))
        .await?;
    assert!(created.is_staff);

    let (entries, _) = app.console_store().await?.chain_entries("platform").await?;
    let created_entries: Vec<_> = entries.iter().filter(|e| e.action == "staff.created").collect();
    assert_eq!(created_entries.len(), 2, "{entries:?}");
    assert_eq!(created_entries[0].actor.display_name, "console bootstrap");
    assert_eq!(
        created_entries[0].target_id.as_deref(),
        Some(root.id.to_string().as_str())
    );
    assert_eq!(
        created_entries[1].actor.id.as_deref(),
        Some(root.id.to_string().as_str()),
        "audited as the signed-in staff member"
    );
    assert_eq!(created_entries[1].actor.kind, ActorKind::Staff);
    assert_eq!(
        created_entries[1].target_id.as_deref(),
        Some(created.id.to_string().as_str())
    );
    Ok(())
});
