//! Limits hold across replicas: two servers on one database share each API key's, each user's and each
//! account's and dialog's budget when limits count in the database (`limits.store = "database"`, the
//! default on PostgreSQL), and the sign-up limit and sign-in lockouts, which were always stored there. The
//! database counter allows exactly the limit however many checks race from two pools, and a request budget
//! whose counter fails lets the request through while an account action is refused.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait as _, Statement};
use serde_json::{Value, json};
use tgos_api::config::LimitsStore;
use tgos_domain::limits::{RateCounter, RateKey};
use tgos_persistence::{DatabaseSettings, MigrateMode, Privileges, SqlRateCounter};
use tgos_tests::app::PASSWORD;
use tgos_tests::{TestApp, TestOptions, backend_tests, postgres_tests};

use super::accounts::{PAUSE, RESUME};
use super::inbox::conversation;

/// A request's status, its `RateLimit-Remaining` and `Retry-After` headers, and its body.
struct Answer {
    status: u16,
    remaining: Option<String>,
    retry_after: Option<u64>,
    body: Value,
}

impl Answer {
    fn code(&self) -> Option<&str> {
        self.body.pointer("/errors/0/extensions/code").and_then(Value::as_str)
    }

    /// Asserts a 429 `RATE_LIMITED` with a `Retry-After` of a minute at most, equal to `retryAfter`.
    fn assert_limited(&self, what: &str) {
        assert_eq!(self.status, 429, "{what}: {}", self.body);
        assert_eq!(self.code(), Some("RATE_LIMITED"), "{what}: {}", self.body);
        let retry_after = self
            .body
            .pointer("/errors/0/extensions/retryAfter")
            .and_then(Value::as_u64);
        assert!(
            self.retry_after.is_some_and(|s| (1..=60).contains(&s)),
            "{what}: {:?}",
            self.retry_after
        );
        assert_eq!(self.retry_after, retry_after, "{what}: Retry-After is retryAfter");
    }
}

async fn post(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> anyhow::Result<Answer> {
    let mut request = app
        .http()
        .post(app.url("/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let remaining = header("ratelimit-remaining");
    let retry_after = header("retry-after").and_then(|s| s.parse().ok());
    Ok(Answer {
        status: response.status().as_u16(),
        remaining,
        retry_after,
        body: response.json().await?,
    })
}

fn shared(options: TestOptions) -> TestOptions {
    TestOptions {
        limits_store: Some(LimitsStore::Database),
        ..options
    }
}

const AUDIT: &str = "query($w: ID!) { workspace(id: $w) { auditLog(first: 1) { edges { node { action } } } } }";
const ME: &str = "{ me { user { id } } }";

backend_tests!(
    an_api_keys_limit_holds_across_two_servers,
    options = shared(TestOptions {
        api_key_requests_per_minute: 4,
        ..TestOptions::default()
    }),
    |app| {
        let second = app
            .spawn_beside(shared(TestOptions {
                api_key_requests_per_minute: 4,
                workers: false,
                ..TestOptions::default()
            }))
            .await?;
        let outcome = async {
            let owner = app.sign_up("kim").await?;
            let workspace = app.create_workspace(&owner, "Shared").await?;
            let key = app.create_audit_key(&owner, &workspace).await?;
            let servers = [&*app, &second, &*app, &second];
            for (i, (server, remaining)) in servers.iter().zip(["3", "2", "1", "0"]).enumerate() {
                let answer = post(server, Some(&key), AUDIT, json!({ "w": workspace })).await?;
                assert_eq!(answer.status, 200, "request {i}: {}", answer.body);
                assert_eq!(answer.remaining.as_deref(), Some(remaining), "request {i}");
            }
            post(&app, Some(&key), AUDIT, json!({ "w": workspace }))
                .await?
                .assert_limited("the fifth on the first server");
            post(&second, Some(&key), AUDIT, json!({ "w": workspace }))
                .await?
                .assert_limited("the fifth on the second server");
            anyhow::Ok(())
        }
        .await;
        second.shutdown().await;
        outcome
    }
);

backend_tests!(
    a_users_budget_holds_across_two_servers,
    options = shared(TestOptions {
        user_requests_per_minute: 5,
        ..TestOptions::default()
    }),
    |app| {
        let second = app
            .spawn_beside(shared(TestOptions {
                user_requests_per_minute: 5,
                workers: false,
                ..TestOptions::default()
            }))
            .await?;
        let outcome = async {
            // Signing up is anonymous; the session then spends the user's budget on either server.
            let token = app.sign_up("lee").await?;
            let other_session = second
                .sign_in("lee", PASSWORD)
                .await?
                .str_at("/data/signIn/session/token")?;
            let mut remaining = Vec::new();
            for (server, token) in [(&*app, &token), (&second, &other_session)].iter().cycle().take(5) {
                let answer = post(server, Some(token), ME, json!({})).await?;
                assert_eq!(answer.status, 200, "{}", answer.body);
                remaining.extend(answer.remaining);
            }
            assert_eq!(remaining, ["4", "3", "2", "1", "0"]);
            post(&second, Some(&token), ME, json!({}))
                .await?
                .assert_limited("the sixth on the second server");
            post(&app, Some(&other_session), ME, json!({}))
                .await?
                .assert_limited("the sixth on the first server");
            // Another user's budget is their own.
            let other = second.sign_up("moe_other").await?;
            assert_eq!(post(&app, Some(&other), ME, json!({})).await?.status, 200);
            anyhow::Ok(())
        }
        .await;
        second.shutdown().await;
        outcome
    }
);

backend_tests!(
    an_accounts_budget_of_operator_actions_holds_across_two_servers,
    options = shared(TestOptions::default()),
    |app| {
        let second = app
            .spawn_beside(shared(TestOptions {
                workers: false,
                ..TestOptions::default()
            }))
            .await?;
        let outcome = async {
            let (owner, _workspace, account, _dialog) = conversation(&app).await?;
            // 30 pauses and resumes a minute, spread over both servers.
            for i in 0..30 {
                let server = if i % 2 == 0 { &*app } else { &second };
                let query = if i % 4 < 2 { PAUSE } else { RESUME };
                let answer = post(server, Some(&owner), query, json!({ "a": account })).await?;
                assert!(answer.body.get("errors").is_none(), "action {i}: {}", answer.body);
            }
            for server in [&*app, &second] {
                let over = post(server, Some(&owner), PAUSE, json!({ "a": account })).await?;
                assert_eq!(over.code(), Some("RATE_LIMITED"), "{}", over.body);
            }
            anyhow::Ok(())
        }
        .await;
        second.shutdown().await;
        outcome
    }
);

const MARK_READ: &str = "mutation($d: ID!) { markDialogRead(dialogId: $d) { unreadCount } }";

backend_tests!(
    a_dialogs_read_marks_are_counted_across_two_servers,
    options = shared(TestOptions::default()),
    |app| {
        let second = app
            .spawn_beside(shared(TestOptions {
                workers: false,
                ..TestOptions::default()
            }))
            .await?;
        let outcome = async {
            let (owner, _workspace, _account, dialog) = conversation(&app).await?;
            // The dialog's Telegram side lives in the first server's sandbox network, so the marks go through
            // it; the second server spends from the same budget before it would reach Telegram.
            for i in 0..30 {
                let answer = post(&app, Some(&owner), MARK_READ, json!({ "d": dialog })).await?;
                assert!(answer.body.get("errors").is_none(), "mark {i}: {}", answer.body);
            }
            let over = post(&second, Some(&owner), MARK_READ, json!({ "d": dialog })).await?;
            assert_eq!(over.code(), Some("RATE_LIMITED"), "{}", over.body);
            let retry = over
                .body
                .pointer("/errors/0/extensions/retryAfter")
                .and_then(Value::as_u64);
            assert!(retry.is_some_and(|s| (1..=60).contains(&s)), "{}", over.body);
            anyhow::Ok(())
        }
        .await;
        second.shutdown().await;
        outcome
    }
);

backend_tests!(
    sign_ups_per_address_and_lockouts_hold_across_two_servers,
    options = TestOptions {
        sign_ups_per_ip_per_hour: 3,
        account_lockout_threshold: 3,
        ..TestOptions::default()
    },
    |app| {
        let second = app
            .spawn_beside(TestOptions {
                sign_ups_per_ip_per_hour: 3,
                account_lockout_threshold: 3,
                workers: false,
                ..TestOptions::default()
            })
            .await?;
        let outcome = async {
            app.sign_up("first").await?;
            second.sign_up("second").await?;
            app.sign_up("third").await?;
            let refused = second
                .gql(
                    None,
                    "mutation($i: SignUpInput!) { signUp(input: $i) { user { id } } }",
                    json!({ "i": {
                        "email": "fourth@example.com", "fullName": "Fourth", "username": "fourth",
                        "password": PASSWORD, "ageConfirmed": true,
                    }}),
                )
                .await?;
            assert_eq!(refused.code().as_deref(), Some("RATE_LIMITED"), "{:?}", refused.body);

            for server in [&*app, &second, &*app] {
                let wrong = server.sign_in("first", "not the password at all").await?;
                assert_eq!(wrong.code().as_deref(), Some("UNAUTHENTICATED"), "{:?}", wrong.body);
            }
            let locked = second.sign_in("first", PASSWORD).await?;
            assert_eq!(
                locked.code().as_deref(),
                Some("RATE_LIMITED"),
                "the lock taken on both servers holds on the second: {:?}",
                locked.body
            );
            anyhow::Ok(())
        }
        .await;
        second.shutdown().await;
        outcome
    }
);

/// A database counter on its own pool of `size` connections to the server's database, as another replica
/// holds one.
async fn counter_on(app: &TestApp, size: u32) -> anyhow::Result<SqlRateCounter> {
    let url = match &app.server_database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}?mode=rw", app.data_dir.path().join("tgos.db").display()),
    };
    let store = tgos_persistence::connect(&DatabaseSettings {
        url,
        owner_url: app.database_url.clone(),
        max_connections: size,
        privileges: Privileges::Application,
        migrate: MigrateMode::Check,
    })
    .await?;
    Ok(SqlRateCounter::new(&store))
}

backend_tests!(
    concurrent_checks_on_one_key_from_two_pools_allow_exactly_the_limit,
    |app| {
        let pools = [
            Arc::new(counter_on(&app, 4).await?),
            Arc::new(counter_on(&app, 4).await?),
        ];
        let key = RateKey::of("test", "one hot key");
        let now = chrono::Utc::now();
        let checks: Vec<_> = (0..200)
            .map(|i| {
                let counter = Arc::clone(&pools[i % 2]);
                let key = key.clone();
                tokio::spawn(async move { counter.count(&key, 50, Duration::from_secs(60), now).await })
            })
            .collect();
        let mut allowed = 0;
        let mut counts = Vec::new();
        for check in checks {
            let counted = check.await??;
            counts.push(counted.count);
            if counted.allowed(50) {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 50, "exactly the limit is allowed");
        counts.sort_unstable();
        assert_eq!(counts[..50], (1..=50).collect::<Vec<_>>()[..], "each count once");
        assert!(
            counts[50..].iter().all(|count| *count == 51),
            "the count stops past the limit"
        );

        // A window that ended starts afresh, and pruning deletes ended windows only.
        let old = RateKey::of("test", "old");
        pools[0].count(&old, 5, Duration::from_secs(60), now).await?;
        let later = now + chrono::Duration::seconds(61);
        let fresh = pools[1].count(&key, 50, Duration::from_secs(60), later).await?;
        assert_eq!(fresh.count, 1);
        // (The second pool's check at `later` may have started its own background prune already.)
        pools[0].prune(later).await?;
        let db = app.db().await?;
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT key FROM rate_windows",
            ))
            .await?;
        let keys: Vec<String> = rows
            .iter()
            .map(|row| row.try_get::<String>("", "key"))
            .collect::<Result<_, _>>()?;
        assert_eq!(keys, [key.as_str()], "only the old key's window had ended");
        Ok(())
    }
);

postgres_tests!(
    a_failing_counter_lets_requests_through_and_refuses_account_actions,
    |app| {
        let (owner, _workspace, account, _dialog) = conversation(&app).await?;
        // The database counter stops working: the server's role loses the table.
        let db = app.db().await?;
        db.execute_unprepared("REVOKE ALL ON rate_windows FROM tgos_app")
            .await?;
        let answer = post(&app, Some(&owner), ME, json!({})).await?;
        assert_eq!(answer.status, 200, "a request budget fails open: {}", answer.body);
        let metrics = app.http().get(app.url("/metrics")).send().await?.text().await?;
        assert!(
            metrics
                .lines()
                .any(|line| line.starts_with("tgos_rate_limit_store_failures_total{limit=\"user\"} ")),
            "the failure is counted: {metrics}"
        );
        let refused = post(&app, Some(&owner), PAUSE, json!({ "a": account })).await?;
        assert_eq!(
            refused.code(),
            Some("INTERNAL_SERVER_ERROR"),
            "an account action fails closed: {}",
            refused.body
        );
        db.execute_unprepared("GRANT SELECT, INSERT, UPDATE, DELETE ON rate_windows TO tgos_app")
            .await?;
        let paused = post(&app, Some(&owner), PAUSE, json!({ "a": account })).await?;
        assert!(paused.body.get("errors").is_none(), "counting again: {}", paused.body);
        Ok(())
    }
);
