//! `POST /graphql` takes only `application/json` bodies (415 otherwise, so no cross-site `text/plain` form
//! reaches a mutation) and answers invalid GraphQL-over-HTTP parameters with 400 naming the parameter.

use serde_json::json;
use tgos_tests::app::PASSWORD;
use tgos_tests::backend_tests;

const SIGN_UP: &str = r#"mutation { signUp(input: {email: "form@example.com", fullName: "F", username: "former", password: "correct horse battery staple", ageConfirmed: true}) { user { id } } }"#;

backend_tests!(a_post_that_is_not_json_is_refused_with_415_before_it_runs, |app| {
    let body = json!({ "query": SIGN_UP }).to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut post = app.http().post(app.url("/graphql")).body(body.clone());
        if let Some(content_type) = content_type {
            post = post.header("content-type", content_type);
        }
        let response = post.send().await?;
        assert_eq!(response.status().as_u16(), 415, "{content_type:?}");
        let answer: serde_json::Value = response.json().await?;
        assert_eq!(
            answer.pointer("/errors/0/extensions/code"),
            Some(&json!("BAD_USER_INPUT"))
        );
    }
    assert_eq!(
        app.sign_in("former", PASSWORD).await?.code().as_deref(),
        Some("UNAUTHENTICATED"),
        "no account was created"
    );
    let with_charset = app
        .http()
        .post(app.url("/graphql"))
        .header("content-type", "application/json; charset=utf-8")
        .body(json!({ "query": "{ __typename }" }).to_string())
        .send()
        .await?;
    assert_eq!(with_charset.status().as_u16(), 200);
    Ok(())
});

backend_tests!(
    invalid_graphql_over_http_parameters_get_400_naming_the_parameter,
    |app| {
        let cases = [
            (json!({ "query": 1 }), "query"),
            (json!({ "variables": {} }), "query"),
            (json!({ "query": "{ __typename }", "variables": "{}" }), "variables"),
            (json!({ "query": "{ __typename }", "variables": [1] }), "variables"),
            (
                json!({ "query": "{ __typename }", "operationName": 5 }),
                "operationName",
            ),
            (json!({ "query": "{ __typename }", "extensions": "x" }), "extensions"),
            (
                json!({ "query": "query A { __typename }", "operationName": "B" }),
                "operationName",
            ),
            (
                json!({ "query": "{ __typename }", "operationName": "A" }),
                "operationName",
            ),
            (
                json!({ "query": "query A { __typename } query B { __typename }" }),
                "operationName",
            ),
            (json!([{ "query": "{ __typename }" }]), "body"),
        ];
        for (body, field) in cases {
            let response = app.http().post(app.url("/graphql")).json(&body).send().await?;
            assert_eq!(response.status().as_u16(), 400, "{body}");
            let answer: serde_json::Value = response.json().await?;
            assert_eq!(
                answer.pointer("/errors/0/extensions/code"),
                Some(&json!("BAD_USER_INPUT")),
                "{body}"
            );
            assert_eq!(
                answer.pointer("/errors/0/extensions/field"),
                Some(&json!(field)),
                "{body}: {answer}"
            );
        }
        let named = app
        .http()
        .post(app.url("/graphql"))
        .json(&json!({ "query": "query A { __typename } query B { __typename }", "operationName": "B", "variables": null }))
        .send()
        .await?;
        assert_eq!(named.status().as_u16(), 200);
        let answer: serde_json::Value = named.json().await?;
        assert_eq!(answer.pointer("/data/__typename"), Some(&json!("Query")));
        Ok(())
    }
);
