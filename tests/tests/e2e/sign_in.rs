use serde_json::json;
use tgos_tests::app::PASSWORD;
use tgos_tests::backend_tests;

backend_tests!(sign_in_by_email_or_username_in_any_case, |app| {
    app.sign_up("grace").await?;
    for login in ["grace", "GRACE", "grace@example.com", "Grace@Example.com"] {
        let response = app.sign_in(login, PASSWORD).await?;
        let token = response.str_at("/data/signIn/session/token")?;
        assert_eq!(response.at("/data/signIn/twoFactorChallenge").ok(), None);
        let me = app.gql(Some(&token), "{ me { user { username } } }", json!({})).await?;
        assert_eq!(me.str_at("/data/me/user/username")?, "grace");
    }
    Ok(())
});

backend_tests!(wrong_password_and_unknown_login_look_the_same, |app| {
    app.sign_up("grace").await?;
    let wrong = app.sign_in("grace", "not the password at all").await?;
    let unknown = app.sign_in("nobody", "not the password at all").await?;
    assert_eq!(wrong.code().as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(unknown.code().as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(wrong.str_at("/errors/0/message")?, unknown.str_at("/errors/0/message")?);
    Ok(())
});

backend_tests!(me_without_a_token_is_unauthenticated, |app| {
    let response = app.gql(None, "{ me { user { id } } }", json!({})).await?;
    assert_eq!(response.code().as_deref(), Some("UNAUTHENTICATED"));
    let bogus = app
        .gql(Some("tgs_not-a-real-token"), "{ me { user { id } } }", json!({}))
        .await?;
    assert_eq!(bogus.code().as_deref(), Some("UNAUTHENTICATED"));
    Ok(())
});

backend_tests!(sign_in_records_ip_address_and_user_agent, |app| {
    let token = app.sign_up("grace").await?;
    let me = app
        .gql(
            Some(&token),
            "{ me { sessions { ipAddress userAgent current } } }",
            json!({}),
        )
        .await?;
    assert_eq!(me.str_at("/data/me/sessions/0/ipAddress")?, "127.0.0.1");
    assert_eq!(me.str_at("/data/me/sessions/0/userAgent")?, "tgos-tests/1.0");
    assert_eq!(me.at("/data/me/sessions/0/current")?, &json!(true));
    Ok(())
});
