use serde_json::json;
use tgos_tests::{TestOptions, backend_tests, error_codes};

const SIGN_UP: &str = "mutation($input: SignUpInput!) { signUp(input: $input) { user { id email username fullName twoFactorEnabled } session { token expiresAt } } }";

fn input(email: &str, username: &str, password: &str) -> serde_json::Value {
    json!({ "input": { "email": email, "fullName": "Ada Lovelace", "username": username, "password": password, "ageConfirmed": true } })
}

backend_tests!(sign_up_returns_user_and_working_session, |app| {
    let response = app
        .gql(
            None,
            SIGN_UP,
            input(" Ada@Example.com ", "Ada_1815", "correct horse battery"),
        )
        .await?;
    assert!(response.is_ok(), "{:?}", response.body);
    assert_eq!(response.str_at("/data/signUp/user/email")?, "Ada@Example.com");
    assert_eq!(response.str_at("/data/signUp/user/username")?, "Ada_1815");
    assert_eq!(response.at("/data/signUp/user/twoFactorEnabled")?, &json!(false));
    let token = response.str_at("/data/signUp/session/token")?;
    let me = app.gql(Some(&token), "{ me { user { username } } }", json!({})).await?;
    assert_eq!(me.str_at("/data/me/user/username")?, "Ada_1815");
    Ok(())
});

backend_tests!(every_bad_field_is_reported_with_its_name, |app| {
    let response = app.gql(None, SIGN_UP, input("not-an-email", "1x", "short")).await?;
    assert_eq!(response.at("/data").ok(), None, "nothing is created");
    let mut fields: Vec<String> = response
        .errors()
        .iter()
        .map(|e| {
            e.pointer("/extensions/field")
                .and_then(|f| f.as_str())
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    fields.sort();
    assert_eq!(fields, vec!["email", "password", "username"]);
    assert!(error_codes(&response).iter().all(|c| c == "BAD_USER_INPUT"));
    Ok(())
});

backend_tests!(password_equal_to_username_or_email_is_refused, |app| {
    let same_as_username = app
        .gql(
            None,
            SIGN_UP,
            input("ada@example.com", "adalovelace1815", "AdaLovelace1815"),
        )
        .await?;
    assert_eq!(same_as_username.code().as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(same_as_username.str_at("/errors/0/extensions/field")?, "password");
    let same_as_email = app
        .gql(
            None,
            SIGN_UP,
            input("ada.lovelace@example.com", "ada", "ADA.LOVELACE@example.com"),
        )
        .await?;
    assert_eq!(same_as_email.str_at("/errors/0/extensions/field")?, "password");
    Ok(())
});

backend_tests!(duplicate_email_or_username_in_any_case_is_a_conflict, |app| {
    let first = app
        .gql(None, SIGN_UP, input("ada@example.com", "ada", "correct horse battery"))
        .await?;
    assert!(first.is_ok(), "{:?}", first.body);
    let email = app
        .gql(
            None,
            SIGN_UP,
            input("ADA@example.COM", "someone_else", "correct horse battery"),
        )
        .await?;
    assert_eq!(email.code().as_deref(), Some("CONFLICT"));
    assert_eq!(email.str_at("/errors/0/extensions/field")?, "email");
    let username = app
        .gql(
            None,
            SIGN_UP,
            input("other@example.com", "ADA", "correct horse battery"),
        )
        .await?;
    assert_eq!(username.code().as_deref(), Some("CONFLICT"));
    assert_eq!(username.str_at("/errors/0/extensions/field")?, "username");
    Ok(())
});

backend_tests!(racing_sign_ups_for_one_email_create_exactly_one_account, |app| {
    let calls = (0..6).map(|i| {
        let app = app.clone();
        tokio::spawn(async move {
            app.gql(
                None,
                SIGN_UP,
                input("race@example.com", &format!("racer{i}"), "correct horse battery"),
            )
            .await
        })
    });
    let mut created = 0;
    for call in calls.collect::<Vec<_>>() {
        let response = call.await??;
        match response.code() {
            None => created += 1,
            Some(code) => assert_eq!(code, "CONFLICT", "{:?}", response.body),
        }
    }
    assert_eq!(created, 1);
    Ok(())
});

backend_tests!(
    sign_ups_from_one_address_are_limited,
    options = TestOptions {
        sign_ups_per_ip_per_hour: 3,
        ..TestOptions::default()
    },
    |app| {
        for i in 0..3 {
            let response = app
                .gql(
                    None,
                    SIGN_UP,
                    input(
                        &format!("u{i}@example.com"),
                        &format!("user{i}"),
                        "correct horse battery",
                    ),
                )
                .await?;
            assert!(response.is_ok(), "{:?}", response.body);
        }
        let refused = app
            .gql(None, SIGN_UP, input("u9@example.com", "user9", "correct horse battery"))
            .await?;
        assert_eq!(refused.code().as_deref(), Some("RATE_LIMITED"));
        let retry = refused.at("/errors/0/extensions/retryAfter")?.as_u64().unwrap_or(0);
        assert!(retry > 3000, "about an hour: {retry}");
        assert_eq!(
            app.sign_in("user9", "correct horse battery").await?.code().as_deref(),
            Some("UNAUTHENTICATED"),
            "no account was created"
        );
        Ok(())
    }
);

backend_tests!(
    sign_ups_past_the_limit_do_not_reveal_taken_emails,
    options = TestOptions {
        sign_ups_per_ip_per_hour: 3,
        ..TestOptions::default()
    },
    |app| {
        let first = app
            .gql(None, SIGN_UP, input("ada@example.com", "ada", "correct horse battery"))
            .await?;
        assert!(first.is_ok(), "{:?}", first.body);
        // Conflicts count like successes: two probes of taken names use up the allowance.
        for probe in ["probe1", "probe2"] {
            let taken = app
                .gql(None, SIGN_UP, input("ada@example.com", probe, "correct horse battery"))
                .await?;
            assert_eq!(taken.code().as_deref(), Some("CONFLICT"), "{:?}", taken.body);
        }
        let taken_email = app
            .gql(
                None,
                SIGN_UP,
                input("ada@example.com", "probe3", "correct horse battery"),
            )
            .await?;
        assert_eq!(
            taken_email.code().as_deref(),
            Some("RATE_LIMITED"),
            "{:?}",
            taken_email.body
        );
        let taken_username = app
            .gql(
                None,
                SIGN_UP,
                input("other@example.com", "ada", "correct horse battery"),
            )
            .await?;
        assert_eq!(taken_username.code().as_deref(), Some("RATE_LIMITED"));
        // Many aliased sign-ups in one request learn nothing more.
        let aliased = (0..5)
            .map(|i| {
                format!(
                    "a{i}: signUp(input: {{ email: \"ada@example.com\", fullName: \"A\", username: \"alias{i}\", \
                     password: \"correct horse battery\", ageConfirmed: true }}) {{ user {{ id }} }}"
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        let response = app.gql(None, &format!("mutation {{ {aliased} }}"), json!({})).await?;
        let codes = tgos_tests::error_codes(&response);
        assert!(
            !codes.is_empty() && codes.iter().all(|c| c == "RATE_LIMITED"),
            "{codes:?}"
        );
        Ok(())
    }
);
