//! Hourly per-workspace quotas (API keys, invitations, top-ups) hold when requests arrive together: the
//! count and the insert happen under the workspace's row lock in one transaction.

use serde_json::{Value, json};
use tgos_tests::{TestApp, backend_tests};

/// Sends `query` with the variables `vars(i)` for `i` in `0..n`, all at once; returns how many succeeded and
/// how many were `RATE_LIMITED` (any other outcome fails the test).
async fn in_parallel(
    app: &std::sync::Arc<TestApp>,
    token: &str,
    query: &'static str,
    n: usize,
    vars: impl Fn(usize) -> Value,
) -> anyhow::Result<(usize, usize)> {
    let calls: Vec<_> = (0..n)
        .map(|i| {
            let (app, token, variables) = (app.clone(), token.to_owned(), vars(i));
            tokio::spawn(async move { app.gql(Some(&token), query, variables).await })
        })
        .collect();
    let (mut ok, mut limited) = (0, 0);
    for call in calls {
        let response = call.await??;
        match response.code().as_deref() {
            None => ok += 1,
            Some("RATE_LIMITED") => limited += 1,
            Some(_) => anyhow::bail!("unexpected outcome: {}", response.body),
        }
    }
    Ok((ok, limited))
}

const CREATE_KEY: &str =
    "mutation($w: ID!, $n: String!) { createApiKey(workspaceId: $w, name: $n, scopes: [INBOX_READ]) { secret } }";
const INVITE: &str = "mutation($w: ID!, $e: String!) { inviteMember(workspaceId: $w, email: $e, role: VIEWER) { id } }";
const TOP_UP: &str = "mutation($w: ID!) { createTopUp(workspaceId: $w, provider: NOWPAYMENTS, amountMinor: 1000, currency: \"USD\") { id } }";

backend_tests!(api_key_quota_holds_under_twenty_parallel_creations, |app| {
    let owner = app.sign_up("owner").await?;
    let workspace = app.create_workspace(&owner, "Acme").await?;
    // 20 an hour: 15 now, then 20 together leave room for exactly 5.
    for i in 0..15 {
        let created = app
            .gql(
                Some(&owner),
                CREATE_KEY,
                json!({ "w": workspace, "n": format!("k{i}") }),
            )
            .await?;
        assert!(created.is_ok(), "{:?}", created.body);
    }
    let outcome = in_parallel(
        &app,
        &owner,
        CREATE_KEY,
        20,
        |i| json!({ "w": workspace, "n": format!("p{i}") }),
    )
    .await?;
    assert_eq!(outcome, (5, 15));
    Ok(())
});

backend_tests!(invitation_quota_holds_under_twenty_parallel_invitations, |app| {
    let owner = app.sign_up("owner").await?;
    let workspace = app.create_workspace(&owner, "Acme").await?;
    // 50 an hour: 45 now, then 20 together leave room for exactly 5.
    for i in 0..45 {
        let invited = app
            .gql(
                Some(&owner),
                INVITE,
                json!({ "w": workspace, "e": format!("a{i}@example.com") }),
            )
            .await?;
        assert!(invited.is_ok(), "{:?}", invited.body);
    }
    let outcome = in_parallel(
        &app,
        &owner,
        INVITE,
        20,
        |i| json!({ "w": workspace, "e": format!("p{i}@example.com") }),
    )
    .await?;
    assert_eq!(outcome, (5, 15));
    Ok(())
});

backend_tests!(top_up_quota_holds_under_twenty_parallel_top_ups, |app| {
    let owner = app.sign_up("owner").await?;
    let workspace = app.create_workspace(&owner, "Acme").await?;
    // 20 an hour: 15 now, then 20 together leave room for exactly 5.
    for _ in 0..15 {
        let created = app.gql(Some(&owner), TOP_UP, json!({ "w": workspace })).await?;
        assert!(created.is_ok(), "{:?}", created.body);
    }
    let outcome = in_parallel(&app, &owner, TOP_UP, 20, |_| json!({ "w": workspace })).await?;
    assert_eq!(outcome, (5, 15));
    Ok(())
});
