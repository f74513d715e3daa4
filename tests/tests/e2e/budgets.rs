//! Per-account and per-dialog budgets (sends, read marks, pauses and resumes) are spent only by callers
//! allowed to act on that account or dialog: another tenant's key, or a member below the rank the action
//! needs, is refused every time and leaves the holder's budget whole.

use serde_json::json;
use tgos_tests::{TestApp, backend_tests};

use super::accounts::{PAUSE, RESUME};
use super::inbox::conversation;

const SEND: &str =
    "mutation($a: ID!, $d: ID!, $t: String!) { sendMessage(accountId: $a, dialogId: $d, text: $t) { status } }";
const MARK_READ: &str = "mutation($d: ID!) { markDialogRead(dialogId: $d) { unreadCount } }";

/// More attempts than any of the per-minute budgets allows (60 sends, 30 read marks, 30 health actions).
const HAMMER: usize = 70;

/// A key of a workspace of its own, with every scope the actions could ask for.
async fn foreign_key(app: &TestApp) -> anyhow::Result<String> {
    let stranger = app.sign_up("mallory").await?;
    let workspace = app.create_workspace(&stranger, "Elsewhere").await?;
    app.gql(
        Some(&stranger),
        "mutation($w: ID!) { createApiKey(workspaceId: $w, name: \"hammer\", scopes: [INBOX_WRITE, ACCOUNTS_WRITE]) { secret } }",
        json!({ "w": workspace }),
    )
    .await?
    .str_at("/data/createApiKey/secret")
}

/// Sends `query` `HAMMER` times as `token` and checks every answer carries `code`.
async fn hammer(
    app: &TestApp,
    token: &str,
    query: &str,
    variables: serde_json::Value,
    code: &str,
) -> anyhow::Result<()> {
    for i in 0..HAMMER {
        let answer = app.gql(Some(token), query, variables.clone()).await?;
        assert_eq!(answer.code().as_deref(), Some(code), "attempt {i}: {:?}", answer.body);
    }
    Ok(())
}

backend_tests!(nobody_else_can_spend_an_accounts_send_and_read_budget, |app| {
    let (owner, workspace, account, dialog) = conversation(&app).await?;
    let send = json!({ "a": account, "d": dialog, "t": "not yours" });

    // Another tenant's key names the account and dialog of a workspace it does not belong to.
    let key = foreign_key(&app).await?;
    hammer(&app, &key, SEND, send.clone(), "NOT_FOUND").await?;
    hammer(&app, &key, MARK_READ, json!({ "d": dialog }), "NOT_FOUND").await?;

    // A viewer of the holding workspace may read the dialog but not act in it.
    let (viewer, _) = app.join(&owner, &workspace, "vera", "VIEWER").await?;
    hammer(&app, &viewer, SEND, send.clone(), "FORBIDDEN").await?;
    hammer(&app, &viewer, MARK_READ, json!({ "d": dialog }), "FORBIDDEN").await?;

    // The holder's budget is whole: the owner still sends and marks read right after.
    let sent = app
        .gql(Some(&owner), SEND, json!({ "a": account, "d": dialog, "t": "mine" }))
        .await?;
    assert_eq!(sent.str_at("/data/sendMessage/status")?, "SENT", "{:?}", sent.body);
    let read = app.gql(Some(&owner), MARK_READ, json!({ "d": dialog })).await?;
    assert!(read.is_ok(), "{:?}", read.body);
    Ok(())
});

backend_tests!(nobody_else_can_spend_an_accounts_pause_budget, |app| {
    let (owner, workspace, account, _dialog) = conversation(&app).await?;
    let key = foreign_key(&app).await?;
    hammer(&app, &key, PAUSE, json!({ "a": account }), "FORBIDDEN").await?;
    let (viewer, _) = app.join(&owner, &workspace, "vera", "VIEWER").await?;
    hammer(&app, &viewer, RESUME, json!({ "a": account }), "FORBIDDEN").await?;

    let paused = app.gql(Some(&owner), PAUSE, json!({ "a": account })).await?;
    assert_eq!(
        paused.str_at("/data/pauseAccount/state")?,
        "PAUSED",
        "{:?}",
        paused.body
    );
    Ok(())
});
