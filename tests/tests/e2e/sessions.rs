use serde_json::json;
use tgos_tests::app::PASSWORD;
use tgos_tests::backend_tests;

const ME: &str = "{ me { user { username } } }";

async fn session_ids(app: &tgos_tests::TestApp, token: &str) -> anyhow::Result<Vec<(String, bool)>> {
    let me = app
        .gql(Some(token), "{ me { sessions { id current } } }", json!({}))
        .await?;
    Ok(me
        .at("/data/me/sessions")?
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| (s["id"].as_str().unwrap_or("").to_owned(), s["current"] == json!(true)))
        .collect())
}

backend_tests!(revoked_session_stops_working_and_others_continue, |app| {
    let first = app.sign_up("hopper").await?;
    let second = app
        .sign_in("hopper", PASSWORD)
        .await?
        .str_at("/data/signIn/session/token")?;
    let sessions = session_ids(&app, &first).await?;
    assert_eq!(sessions.len(), 2);
    let (other_id, _) = sessions
        .iter()
        .find(|(_, current)| !current)
        .cloned()
        .unwrap_or_default();
    let revoked = app
        .gql(
            Some(&first),
            "mutation($id: ID!) { revokeSession(id: $id) }",
            json!({ "id": other_id }),
        )
        .await?;
    assert_eq!(revoked.at("/data/revokeSession")?, &json!(true));
    assert_eq!(
        app.gql(Some(&second), ME, json!({})).await?.code().as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert!(app.gql(Some(&first), ME, json!({})).await?.is_ok());
    let again = app
        .gql(
            Some(&first),
            "mutation($id: ID!) { revokeSession(id: $id) }",
            json!({ "id": other_id }),
        )
        .await?;
    assert_eq!(again.code().as_deref(), Some("NOT_FOUND"));
    Ok(())
});

backend_tests!(a_user_cannot_revoke_someone_elses_session, |app| {
    let alice = app.sign_up("alice").await?;
    let bob = app.sign_up("bob").await?;
    let (bob_session, _) = session_ids(&app, &bob).await?.remove(0);
    let attempt = app
        .gql(
            Some(&alice),
            "mutation($id: ID!) { revokeSession(id: $id) }",
            json!({ "id": bob_session }),
        )
        .await?;
    assert_eq!(attempt.code().as_deref(), Some("NOT_FOUND"));
    assert!(app.gql(Some(&bob), ME, json!({})).await?.is_ok());
    Ok(())
});

backend_tests!(sign_out_ends_the_current_session, |app| {
    let token = app.sign_up("hopper").await?;
    let out = app.gql(Some(&token), "mutation { signOut }", json!({})).await?;
    assert_eq!(out.at("/data/signOut")?, &json!(true));
    assert_eq!(
        app.gql(Some(&token), ME, json!({})).await?.code().as_deref(),
        Some("UNAUTHENTICATED")
    );
    Ok(())
});

backend_tests!(change_password_revokes_other_sessions_and_old_password, |app| {
    let current = app.sign_up("hopper").await?;
    let other = app
        .sign_in("hopper", PASSWORD)
        .await?
        .str_at("/data/signIn/session/token")?;
    let change = "mutation($c: String!, $n: String!) { changePassword(current: $c, new: $n) }";
    let wrong = app
        .gql(
            Some(&current),
            change,
            json!({ "c": "wrong password here", "n": "a brand new passphrase" }),
        )
        .await?;
    assert_eq!(wrong.code().as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(wrong.str_at("/errors/0/extensions/field")?, "current");
    let weak = app
        .gql(Some(&current), change, json!({ "c": PASSWORD, "n": "short" }))
        .await?;
    assert_eq!(weak.str_at("/errors/0/extensions/field")?, "new");
    let changed = app
        .gql(
            Some(&current),
            change,
            json!({ "c": PASSWORD, "n": "a brand new passphrase" }),
        )
        .await?;
    assert_eq!(changed.at("/data/changePassword")?, &json!(true));
    assert!(
        app.gql(Some(&current), ME, json!({})).await?.is_ok(),
        "the current session survives"
    );
    assert_eq!(
        app.gql(Some(&other), ME, json!({})).await?.code().as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        app.sign_in("hopper", PASSWORD).await?.code().as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert!(app.sign_in("hopper", "a brand new passphrase").await?.is_ok());
    Ok(())
});

backend_tests!(
    a_session_idle_past_the_timeout_is_unauthenticated_even_when_cached,
    options = tgos_tests::TestOptions {
        session_idle_secs: 2,
        // Resolved tokens stay in memory for the whole test: idleness must be caught there too.
        credential_cache_secs: 3_600,
        ..tgos_tests::TestOptions::default()
    },
    |app| {
        let token = app.sign_up("ada").await?;
        // In use, a session outlives its idle timeout: each request keeps it fresh.
        for _ in 0..8 {
            let me = app.gql(Some(&token), ME, json!({})).await?;
            assert!(me.is_ok(), "{:?}", me.body);
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        }
        let other = app
            .sign_in("ada", PASSWORD)
            .await?
            .str_at("/data/signIn/session/token")?;
        tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
        assert_eq!(
            app.gql(Some(&token), ME, json!({})).await?.code().as_deref(),
            Some("UNAUTHENTICATED"),
            "idle for longer than the timeout"
        );
        assert_eq!(
            app.gql(Some(&other), ME, json!({})).await?.code().as_deref(),
            Some("UNAUTHENTICATED"),
            "never used after sign-in, idle too"
        );
        let fresh = app
            .sign_in("ada", PASSWORD)
            .await?
            .str_at("/data/signIn/session/token")?;
        let listed = session_ids(&app, &fresh).await?;
        assert_eq!(listed.len(), 1, "idle sessions are not listed as live: {listed:?}");
        Ok(())
    }
);
