//! Every caller has a request budget per minute (API keys, signed-in users across their sessions,
//! anonymous callers by address): over it 429 with `RATE_LIMITED`, `retryAfter` and `Retry-After`, and every
//! answer says where the budget stands in `RateLimit-*` headers. A request running past its time limit is
//! stopped with `REQUEST_TIMEOUT`.

use serde_json::json;
use tgos_tests::app::PASSWORD;
use tgos_tests::{TestApp, TestOptions, backend_tests};

/// Posts `{ me { user { id } } }` as `token`; the status, the `RateLimit-*` and `Retry-After` headers and
/// the body.
async fn ask(app: &TestApp, token: Option<&str>) -> anyhow::Result<(u16, [Option<String>; 4], serde_json::Value)> {
    let mut post = app
        .http()
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ me { user { id } } }" }));
    if let Some(token) = token {
        post = post.bearer_auth(token);
    }
    let response = post.send().await?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let headers = [
        header("ratelimit-limit"),
        header("ratelimit-remaining"),
        header("ratelimit-reset"),
        header("retry-after"),
    ];
    Ok((response.status().as_u16(), headers, response.json().await?))
}

fn seconds(value: Option<&String>) -> u64 {
    value.and_then(|v| v.parse().ok()).unwrap_or(0)
}

backend_tests!(
    a_signed_in_user_over_budget_is_refused_with_429_across_all_their_sessions,
    options = TestOptions {
        user_requests_per_minute: 3,
        ..TestOptions::default()
    },
    |app| {
        let token = app.sign_up("busy").await?;
        for remaining in ["2", "1", "0"] {
            let (status, headers, body) = ask(&app, Some(&token)).await?;
            assert_eq!(status, 200, "{body}");
            assert_eq!(headers[0].as_deref(), Some("3"));
            assert_eq!(headers[1].as_deref(), Some(remaining));
            assert!((1..=60).contains(&seconds(headers[2].as_ref())), "{headers:?}");
            assert_eq!(headers[3], None, "no Retry-After while within budget");
        }
        let (status, headers, body) = ask(&app, Some(&token)).await?;
        assert_eq!(status, 429);
        assert_eq!(body.pointer("/errors/0/extensions/code"), Some(&json!("RATE_LIMITED")));
        let retry_after = body
            .pointer("/errors/0/extensions/retryAfter")
            .and_then(serde_json::Value::as_u64);
        assert!(retry_after.is_some_and(|s| (1..=60).contains(&s)), "{body}");
        assert_eq!(
            seconds(headers[3].as_ref()),
            retry_after.unwrap_or_default(),
            "Retry-After"
        );
        assert_eq!(headers[1].as_deref(), Some("0"));
        assert_eq!(
            body.pointer("/data").filter(|data| !data.is_null()),
            None,
            "nothing ran"
        );

        // Another session of the same user spends the same budget; another user has their own.
        let second = app
            .sign_in("busy", PASSWORD)
            .await?
            .str_at("/data/signIn/session/token")?;
        assert_eq!(ask(&app, Some(&second)).await?.0, 429);
        let other = app.sign_up("calm").await?;
        let (status, headers, _) = ask(&app, Some(&other)).await?;
        assert_eq!(status, 200);
        assert_eq!(headers[1].as_deref(), Some("2"));
        Ok(())
    }
);

backend_tests!(
    anonymous_callers_are_budgeted_by_address,
    options = TestOptions {
        anonymous_requests_per_minute: 3,
        ..TestOptions::default()
    },
    |app| {
        for remaining in ["2", "1", "0"] {
            let (status, headers, body) = ask(&app, None).await?;
            assert_eq!(status, 200, "{body}");
            assert_eq!(headers[1].as_deref(), Some(remaining));
        }
        let (status, headers, body) = ask(&app, None).await?;
        assert_eq!(status, 429);
        assert_eq!(body.pointer("/errors/0/extensions/code"), Some(&json!("RATE_LIMITED")));
        assert!(headers[3].is_some(), "Retry-After");
        // A token that resolves to no one is anonymous too.
        assert_eq!(ask(&app, Some("not-a-token")).await?.0, 429);
        // GET counts the same way.
        let get = app
            .http()
            .get(app.url("/graphql"))
            .query(&[("query", "{ __typename }")])
            .send()
            .await?;
        assert_eq!(get.status().as_u16(), 429);
        Ok(())
    }
);

backend_tests!(
    a_request_running_past_its_time_limit_is_stopped_with_request_timeout,
    options = TestOptions {
        request_timeout_ms: 1,
        ..TestOptions::default()
    },
    |app| {
        // A sign-up spends tens of milliseconds hashing the password.
        let query = format!(
            r#"mutation {{ signUp(input: {{email: "slow@example.com", fullName: "S", username: "slow", password: "{PASSWORD}", ageConfirmed: true}}) {{ user {{ id }} }} }}"#
        );
        let response = app
            .http()
            .post(app.url("/graphql"))
            .json(&json!({ "query": query }))
            .send()
            .await?;
        assert_eq!(response.status().as_u16(), 503);
        let body: serde_json::Value = response.json().await?;
        assert_eq!(
            body.pointer("/errors/0/extensions/code"),
            Some(&json!("REQUEST_TIMEOUT")),
            "{body}"
        );
        let message = body
            .pointer("/errors/0/message")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        assert!(message.contains("1 ms"), "{message}");
        Ok(())
    }
);
