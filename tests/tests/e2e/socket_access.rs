//! An open WebSocket keeps no caller it no longer has: before each operation and on the periodic re-check,
//! a session or key that expired closes the socket with 4401 and one that was revoked with 4403, idle
//! sockets included, however the change was made (this server, or another process on the same database).

use std::time::Duration;

use serde_json::json;
use tgos_tests::live::{Frame, Subscriber};
use tgos_tests::{TestApp, TestOptions, backend_tests};

const TYPENAME: &str = "{ __typename }";

/// Nothing is remembered between requests, so a change made behind the server's back (as another process
/// would) is seen by the next check, not after the credential cache's time to live.
fn uncached() -> TestOptions {
    TestOptions {
        credential_cache_secs: 0,
        ..TestOptions::default()
    }
}

async fn connect(app: &TestApp, token: &str) -> anyhow::Result<Subscriber> {
    Subscriber::connect(app.addr, token, None).await
}

/// Runs `{ __typename }` as operation `id` and expects its answer.
async fn runs(socket: &mut Subscriber, id: &str) -> anyhow::Result<()> {
    socket.add(id, TYPENAME, json!({})).await?;
    assert_eq!(socket.frame(Duration::from_secs(5)).await?, Frame::Next(json!("Query")));
    assert_eq!(socket.frame(Duration::from_secs(5)).await?, Frame::Complete);
    Ok(())
}

/// Expects the socket to close with `code` (and nothing else first); with `operation`, after starting one.
async fn closes_with(socket: &mut Subscriber, operation: Option<&str>, code: u16) -> anyhow::Result<()> {
    if let Some(id) = operation {
        socket.add(id, TYPENAME, json!({})).await?;
    }
    match socket.frame(Duration::from_secs(5)).await? {
        Frame::Closed(closed, reason) => assert_eq!(closed, code, "{reason}"),
        other => anyhow::bail!("expected the socket to close with {code}, got {other:?}"),
    }
    Ok(())
}

/// Changes rows behind the server's back, as another process on the same database would.
async fn behind_the_servers_back(app: &TestApp, sql: &str) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait as _;
    let db = app.db().await?;
    let done = db.execute_unprepared(sql).await?;
    anyhow::ensure!(done.rows_affected() > 0, "{sql} changed nothing");
    Ok(())
}

async fn key_of(
    app: &TestApp,
    owner: &str,
    workspace: &str,
    name: &str,
    expires_at: Option<String>,
) -> anyhow::Result<String> {
    app.gql(
        Some(owner),
        "mutation($w: ID!, $n: String!, $e: DateTime) { createApiKey(workspaceId: $w, name: $n, scopes: [INBOX_READ], expiresAt: $e) { secret } }",
        json!({ "w": workspace, "n": name, "e": expires_at }),
    )
    .await?
    .str_at("/data/createApiKey/secret")
}

backend_tests!(
    a_revoked_session_or_key_runs_no_further_operation_over_an_idle_socket,
    options = uncached(),
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Team").await?;
        let key = key_of(&app, &owner, &workspace, "socket", None).await?;
        let mut by_session = connect(&app, &owner).await?;
        let mut by_key = connect(&app, &key).await?;
        runs(&mut by_session, "1").await?;
        runs(&mut by_key, "1").await?;

        // Revoked by another process: no signal reaches this server, the next operation finds it.
        behind_the_servers_back(
        &app,
        "UPDATE sessions SET revoked_at = created_at WHERE user_id IN (SELECT id FROM users WHERE username_key = 'olive')",
    )
    .await?;
        closes_with(&mut by_session, Some("2"), 4403).await?;
        behind_the_servers_back(
            &app,
            "UPDATE api_keys SET revoked_at = created_at WHERE name = 'socket'",
        )
        .await?;
        closes_with(&mut by_key, Some("2"), 4403).await?;

        // Signed out through this server while the socket is idle.
        let vera = app.sign_up("vera").await?;
        let mut idle = connect(&app, &vera).await?;
        runs(&mut idle, "1").await?;
        let out = app.gql(Some(&vera), "mutation { signOut }", json!({})).await?;
        assert!(out.is_ok(), "{:?}", out.body);
        closes_with(&mut idle, Some("2"), 4403).await?;
        Ok(())
    }
);

backend_tests!(
    an_expired_session_or_key_closes_an_idle_socket_with_4401,
    options = uncached(),
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Team").await?;
        let expires_at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
        let key = key_of(&app, &owner, &workspace, "short", Some(expires_at)).await?;
        let mut by_key = connect(&app, &key).await?;
        runs(&mut by_key, "1").await?;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        closes_with(&mut by_key, Some("2"), 4401).await?;

        let mut by_session = connect(&app, &owner).await?;
        runs(&mut by_session, "1").await?;
        // The session's lifetime runs out (set behind the server's back rather than waited for).
        behind_the_servers_back(
        &app,
        "UPDATE sessions SET expires_at = created_at WHERE user_id IN (SELECT id FROM users WHERE username_key = 'olive')",
    )
    .await?;
        closes_with(&mut by_session, Some("2"), 4401).await?;

        // An expired token is refused at `connection_init` with the same code.
        let refused = Subscriber::connect(app.addr, &key, None).await;
        let error = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("4401"), "{error}");
        Ok(())
    }
);

backend_tests!(
    the_periodic_recheck_closes_an_idle_socket_whose_session_was_revoked,
    options = TestOptions {
        access_recheck_secs: 1,
        ..uncached()
    },
    |app| {
        let owner = app.sign_up("olive").await?;
        let mut idle = connect(&app, &owner).await?;
        runs(&mut idle, "1").await?;
        behind_the_servers_back(
            &app,
            "UPDATE sessions SET revoked_at = created_at WHERE user_id IN (SELECT id FROM users WHERE username_key = 'olive')",
        )
        .await?;
        // No operation: the timer alone finds it, within a period and a bit.
        closes_with(&mut idle, None, 4403).await?;
        Ok(())
    }
);

backend_tests!(
    checking_a_sessions_caller_before_each_operation_reads_nothing_from_the_database,
    options = TestOptions::counting_statements(),
    |app| {
        let owner = app.sign_up("olive").await?;
        let mut socket = connect(&app, &owner).await?;
        runs(&mut socket, "warm").await?;
        let before = app.sql_statements().await?;
        for i in 0..20 {
            runs(&mut socket, &format!("op{i}")).await?;
        }
        let after = app.sql_statements().await?;
        eprintln!(
            "statements for 20 operations over one socket, each re-checking its session: {}",
            after - before
        );
        assert_eq!(
            after, before,
            "the re-check is a memory read while the credential cache holds the session"
        );
        Ok(())
    }
);
