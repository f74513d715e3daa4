use serde_json::json;
use tgos_tests::app::PASSWORD;
use tgos_tests::backend_tests;

backend_tests!(
    fifty_parallel_wrong_passwords_get_no_more_checks_than_the_threshold,
    |app| {
        app.sign_up("mallory_target").await?;
        let guesses: Vec<_> = (0..50)
            .map(|i| {
                let app = app.clone();
                tokio::spawn(async move { app.sign_in("mallory_target", &format!("wrong guess number {i}")).await })
            })
            .collect();
        let (mut checked, mut limited) = (0, 0);
        for guess in guesses {
            let response = guess.await??;
            match response.code().as_deref() {
                Some("UNAUTHENTICATED") => checked += 1,
                Some("RATE_LIMITED") => {
                    let retry = response.at("/errors/0/extensions/retryAfter")?.as_u64().unwrap_or(0);
                    assert!(
                        retry >= 1,
                        "retryAfter must tell when to come back: {:?}",
                        response.body
                    );
                    limited += 1;
                }
                other => anyhow::bail!("unexpected outcome {other:?}: {:?}", response.body),
            }
        }
        assert_eq!(checked, 5, "exactly the threshold of guesses were checked");
        assert_eq!(limited, 45);
        let right = app.sign_in("mallory_target", PASSWORD).await?;
        assert_eq!(
            right.code().as_deref(),
            Some("RATE_LIMITED"),
            "even the right password waits out the lock"
        );
        Ok(())
    }
);

backend_tests!(a_successful_sign_in_resets_the_counter, |app| {
    app.sign_up("forgetful").await?;
    for _ in 0..4 {
        assert_eq!(
            app.sign_in("forgetful", "not it, sorry!!").await?.code().as_deref(),
            Some("UNAUTHENTICATED")
        );
    }
    assert!(app.sign_in("forgetful", PASSWORD).await?.is_ok());
    for _ in 0..4 {
        let again = app.sign_in("forgetful", "not it, sorry!!").await?;
        assert_eq!(again.code().as_deref(), Some("UNAUTHENTICATED"), "{:?}", again.body);
    }
    Ok(())
});

backend_tests!(the_lock_grows_after_each_lockout, |app| {
    app.sign_up("victim").await?;
    for _ in 0..5 {
        app.sign_in("victim", "wrong wrong wrong").await?;
    }
    let first = app.sign_in("victim", "wrong wrong wrong").await?;
    assert_eq!(first.code().as_deref(), Some("RATE_LIMITED"));
    let first_wait = first.at("/errors/0/extensions/retryAfter")?.as_u64().unwrap_or(0);
    assert!(
        (55..=60).contains(&first_wait),
        "first lock is about a minute: {first_wait}"
    );
    // Expire the lock behind the server's back, then fail five more times.
    use sea_orm::ConnectionTrait as _;
    app.db()
        .await?
        .execute_unprepared("UPDATE auth_throttles SET locked_until = NULL WHERE key LIKE 'account:%'")
        .await?;
    for _ in 0..5 {
        assert_eq!(
            app.sign_in("victim", "wrong wrong wrong").await?.code().as_deref(),
            Some("UNAUTHENTICATED")
        );
    }
    let second = app.sign_in("victim", "wrong wrong wrong").await?;
    let second_wait = second.at("/errors/0/extensions/retryAfter")?.as_u64().unwrap_or(0);
    assert!((115..=120).contains(&second_wait), "second lock doubles: {second_wait}");
    Ok(())
});

backend_tests!(wrong_two_factor_codes_are_throttled_too, |app| {
    let token = app.sign_up("twofa").await?;
    app.enable_totp(&token).await?;
    let challenge = app
        .sign_in("twofa", PASSWORD)
        .await?
        .str_at("/data/signIn/twoFactorChallenge")?;
    let complete = "mutation($ch: String!, $code: String!) { completeSignIn(challenge: $ch, code: $code) { token } }";
    let mut codes = Vec::new();
    for i in 0..7 {
        let response = app
            .gql(None, complete, json!({ "ch": challenge, "code": format!("00000{i}") }))
            .await?;
        codes.push(response.code().unwrap_or_default());
    }
    assert_eq!(&codes[..5], ["UNAUTHENTICATED"; 5]);
    assert_eq!(&codes[5..], ["RATE_LIMITED"; 2]);
    Ok(())
});
