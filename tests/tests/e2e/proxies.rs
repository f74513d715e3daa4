//! The client address behind a trusted proxy: per-address limits count the client a trusted proxy names,
//! and nobody else's header moves them.

use serde_json::json;
use tgos_tests::gql::GqlResponse;
use tgos_tests::{TestApp, TestOptions, backend_tests};

const WRONG: &str = "certainly not the password";

/// Only the per-address lockout decides these tests: 30 failures from one address lock it.
fn options(trusted_proxies: Vec<&'static str>) -> TestOptions {
    TestOptions {
        account_lockout_threshold: 1000,
        ip_lockout_threshold: 30,
        trusted_proxies,
        ..TestOptions::default()
    }
}

async fn sign_in_from(app: &TestApp, forwarded_for: &str, password: &str) -> anyhow::Result<GqlResponse> {
    let response = app
        .http()
        .post(app.url("/graphql"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({
            "query": "mutation($input: SignInInput!) { signIn(input: $input) { session { token } } }",
            "variables": { "input": { "login": "proxied", "password": password } },
        }))
        .send()
        .await?;
    GqlResponse::read(response).await
}

async fn fail_thirty_times(app: &TestApp, forwarded_for: &str) -> anyhow::Result<()> {
    for attempt in 0..30 {
        let response = sign_in_from(app, forwarded_for, WRONG).await?;
        anyhow::ensure!(
            response.code().as_deref() == Some("UNAUTHENTICATED"),
            "attempt {attempt} was not checked: {:?}",
            response.body
        );
    }
    Ok(())
}

backend_tests!(
    thirty_failures_named_by_a_trusted_proxy_lock_out_that_client_alone,
    options = options(vec!["127.0.0.0/8", "::1"]),
    |app| {
        app.sign_up("proxied").await?;
        fail_thirty_times(&app, "198.51.100.7").await?;
        let locked = sign_in_from(&app, "198.51.100.7", WRONG).await?;
        assert_eq!(locked.code().as_deref(), Some("RATE_LIMITED"), "{:?}", locked.body);
        // The client's own claim left of the proxy's entry changes nothing.
        let spoofed = sign_in_from(&app, "203.0.113.1, 198.51.100.7", WRONG).await?;
        assert_eq!(spoofed.code().as_deref(), Some("RATE_LIMITED"), "{:?}", spoofed.body);
        // Another client behind the same proxy signs in.
        let other = sign_in_from(&app, "198.51.100.8", tgos_tests::app::PASSWORD).await?;
        assert!(other.is_ok(), "another client is not locked out: {:?}", other.body);
        Ok(())
    }
);

backend_tests!(
    an_ipv6_client_is_limited_per_64,
    options = options(vec!["127.0.0.0/8", "::1"]),
    |app| {
        app.sign_up("proxied").await?;
        fail_thirty_times(&app, "2001:db8:1:2::1").await?;
        let same_64 = sign_in_from(&app, "2001:db8:1:2:ffff::9", WRONG).await?;
        assert_eq!(
            same_64.code().as_deref(),
            Some("RATE_LIMITED"),
            "a fresh address in the same /64 is the same client: {:?}",
            same_64.body
        );
        let next_64 = sign_in_from(&app, "2001:db8:1:3::1", tgos_tests::app::PASSWORD).await?;
        assert!(next_64.is_ok(), "another /64 is another client: {:?}", next_64.body);
        Ok(())
    }
);

backend_tests!(
    without_trusted_proxies_the_forwarded_header_is_ignored,
    options = options(Vec::new()),
    |app| {
        app.sign_up("proxied").await?;
        fail_thirty_times(&app, "198.51.100.7").await?;
        let claimed_other = sign_in_from(&app, "198.51.100.8", tgos_tests::app::PASSWORD).await?;
        assert_eq!(
            claimed_other.code().as_deref(),
            Some("RATE_LIMITED"),
            "the socket peer is the client whatever the header says: {:?}",
            claimed_other.body
        );
        Ok(())
    }
);
