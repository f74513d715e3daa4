use serde_json::json;
use tgos_tests::app::PASSWORD;
use tgos_tests::{TestOptions, backend_tests};

backend_tests!(a_mutation_over_get_is_refused_and_does_nothing, |app| {
    let query = r#"mutation { signUp(input: {email: "get@example.com", fullName: "G", username: "getter", password: "correct horse battery staple", ageConfirmed: true}) { user { id } } }"#;
    let response = app
        .http()
        .get(app.url("/graphql"))
        .query(&[("query", query)])
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(
        response.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let body: serde_json::Value = response.json().await?;
    assert_eq!(
        body.pointer("/errors/0/extensions/code"),
        Some(&json!("BAD_USER_INPUT"))
    );
    assert_eq!(
        app.sign_in("getter", PASSWORD).await?.code().as_deref(),
        Some("UNAUTHENTICATED"),
        "no account was created"
    );
    Ok(())
});

backend_tests!(a_query_over_get_works_and_browsers_get_graphiql, |app| {
    let response = app
        .http()
        .get(app.url("/graphql"))
        .query(&[("query", "{ __typename }")])
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await?;
    assert_eq!(body.pointer("/data/__typename"), Some(&json!("Query")));
    let page = app
        .http()
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await?;
    assert!(
        page.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .starts_with("text/html")
    );
    let page = page.text().await?;
    assert!(page.to_lowercase().contains("graphiql"));
    // Subscriptions from the page (its own script, served beside it) reach the WebSocket endpoint with the
    // header editor's token in connection_init, where the server reads it.
    assert!(page.contains("src=\"/graphiql/assets/graphiql-page.js\""));
    let script = app
        .http()
        .get(app.url("/graphiql/assets/graphiql-page.js"))
        .send()
        .await?
        .text()
        .await?;
    assert!(script.contains("'/graphql/ws'"));
    assert!(script.contains("connectionParams: authorization ? { authorization } : {}"));
    // Every vendored script and stylesheet it loads comes from this server, pinned by an integrity hash.
    assert_eq!(page.matches("https://").count(), 0, "nothing from another origin");
    let vendored = page.matches("/graphiql/assets/").count() - 2;
    assert_eq!(vendored, 5);
    assert_eq!(page.matches("integrity=\"sha384-").count(), vendored);
    Ok(())
});

backend_tests!(the_depth_limit_is_enforced, |app| {
    let nested = (0..10).fold("name".to_owned(), |inner, _| format!("ofType {{ {inner} }}"));
    let deep = format!("{{ __schema {{ types {{ fields {{ type {{ {nested} }} }} }} }} }}");
    let response = app.gql(None, &deep, json!({})).await?;
    assert_eq!(
        response.code().as_deref(),
        Some("QUERY_TOO_COMPLEX"),
        "{:?}",
        response.body
    );
    assert_eq!(response.at("/data").ok(), None);
    Ok(())
});

backend_tests!(invalid_documents_get_bad_user_input, |app| {
    let unknown_field = app.gql(None, "{ me { password } }", json!({})).await?;
    assert_eq!(unknown_field.code().as_deref(), Some("BAD_USER_INPUT"));
    let syntax = app
        .http()
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "{ me { " }))
        .send()
        .await?;
    assert_eq!(
        syntax.status().as_u16(),
        400,
        "request errors are 400 under the GraphQL response media type"
    );
    assert_eq!(
        syntax.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/graphql-response+json")
    );
    let body: serde_json::Value = syntax.json().await?;
    assert_eq!(
        body.pointer("/errors/0/extensions/code"),
        Some(&json!("BAD_USER_INPUT"))
    );
    let not_json = app
        .http()
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body("nope")
        .send()
        .await?;
    assert_eq!(not_json.status().as_u16(), 400);
    Ok(())
});

backend_tests!(an_internal_error_carries_a_request_id_and_no_database_text, |app| {
    use sea_orm::ConnectionTrait as _;
    let token = app.sign_up("breaker").await?;
    app.db().await?.execute_unprepared("DROP TABLE sessions").await?;
    let response = app
        .http()
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { user { id } } }" }))
        .send()
        .await?;
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_default();
    let text = response.text().await?;
    let body: serde_json::Value = serde_json::from_str(&text)?;
    assert_eq!(
        body.pointer("/errors/0/extensions/code"),
        Some(&json!("INTERNAL_SERVER_ERROR"))
    );
    assert_eq!(body.pointer("/errors/0/message"), Some(&json!("internal server error")));
    assert_eq!(body.pointer("/errors/0/extensions/requestId"), Some(&json!(request_id)));
    for leak in ["sessions", "table", "relation", "SQL", "sqlx", "no such"] {
        assert!(!text.contains(leak), "response leaks {leak:?}: {text}");
    }
    Ok(())
});

backend_tests!(health_readiness_and_metrics_answer, |app| {
    assert_eq!(app.http().get(app.url("/healthz")).send().await?.text().await?, "ok");
    let ready = app.http().get(app.url("/readyz")).send().await?;
    assert_eq!(ready.status().as_u16(), 200);
    app.gql(None, "query WhoAmI { me { user { id } } }", json!({})).await?;
    app.sign_up("counted").await?;
    let metrics = app.http().get(app.url("/metrics")).send().await?.text().await?;
    assert!(
        metrics.contains(r#"tgos_graphql_requests_total{operation="WhoAmI",outcome="error"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"tgos_graphql_request_duration_seconds_count{operation="WhoAmI"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"operation="anonymous""#));
    Ok(())
});

backend_tests!(graceful_shutdown_lets_in_flight_requests_finish, |app| {
    app.sign_up("inflight").await?;
    // A sign-in spends tens of milliseconds hashing; stop the server while it runs.
    let in_flight = {
        let app = app.clone();
        tokio::spawn(async move { app.sign_in("inflight", PASSWORD).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.shutdown().await;
    let response = in_flight.await??;
    assert!(
        response.str_at("/data/signIn/session/token").is_ok(),
        "{:?}",
        response.body
    );
    let after = app.http().get(app.url("/healthz")).send().await;
    assert!(after.is_err(), "the listener is closed after shutdown");
    Ok(())
});

backend_tests!(
    depth_and_complexity_limits_come_from_configuration,
    options = TestOptions {
        max_depth: Some(3),
        max_complexity: Some(6),
        ..TestOptions::default()
    },
    |app| {
        let token = app.sign_up("limited").await?;
        let shallow = app
            .gql(Some(&token), "{ me { backupCodesRemaining } }", json!({}))
            .await?;
        assert!(shallow.is_ok(), "{:?}", shallow.body);
        let deep = app.gql(Some(&token), "{ me { user { id } } }", json!({})).await?;
        assert!(deep.is_ok(), "depth 3 is allowed: {:?}", deep.body);
        let too_deep = app
            .gql(
                Some(&token),
                "{ me { workspaces { members { edges { cursor } } } } }",
                json!({}),
            )
            .await?;
        assert_eq!(
            too_deep.code().as_deref(),
            Some("QUERY_TOO_COMPLEX"),
            "{:?}",
            too_deep.body
        );
        let wide = app
            .gql(
                Some(&token),
                "{ me { user { id email fullName username twoFactorEnabled createdAt } } }",
                json!({}),
            )
            .await?;
        assert_eq!(wide.code().as_deref(), Some("QUERY_TOO_COMPLEX"), "{:?}", wide.body);
        Ok(())
    }
);
