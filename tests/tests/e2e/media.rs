//! A message's media end to end: a contact's photo is described through GraphQL and the live subscription,
//! and `GET /media/<messageId>` streams exactly its bytes to whoever may read the message, with the headers
//! of an attachment; everyone else gets 401 or the same 404, and a file over the cap 413.

use std::time::Duration;

use serde_json::{Value, json};
use tgos_domain::accounts::gateway::{MediaInfo, MediaKind};
use tgos_domain::accounts::pool::AccountRecord;
use tgos_domain::ids::AccountId;
use tgos_domain::tenancy::TenantScope;
use tgos_telegram::sandbox::SandboxFile;
use tgos_tests::live::Subscriber;
use tgos_tests::{TestApp, TestOptions, backend_tests};

use super::accounts::{RENT, funded};

const WAIT: Duration = Duration::from_secs(10);

pub(crate) const MEDIA_FIELDS: &str = "media { kind fileName sizeBytes mimeType width height durationSeconds url }";

/// A workspace renting one sandbox account its sandbox user exists for: the owner's token, the workspace,
/// the owner's scope, the account and its sandbox user id.
pub(crate) async fn renting(app: &TestApp) -> anyhow::Result<(String, String, TenantScope, AccountRecord, i64)> {
    let account = app.stock_pool(1, 500).await?[0].to_string();
    let (owner, workspace) = funded(app, "olive", 10_000).await?;
    let rented = app
        .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
        .await?;
    anyhow::ensure!(rented.is_ok(), "{:?}", rented.body);
    let scope = app.scope_of(&owner, &workspace).await?;
    let record = app.accounts.held(&scope, account.parse::<AccountId>()?).await?;
    let user = record
        .telegram_user_id
        .ok_or_else(|| anyhow::anyhow!("no sandbox user"))?;
    network(app)?.ensure_account(user, "Rented", None)?;
    Ok((owner, workspace, scope, record, user))
}

pub(crate) fn network(app: &TestApp) -> anyhow::Result<&tgos_telegram::sandbox::SandboxNetwork> {
    app.sandbox()
        .ok_or_else(|| anyhow::anyhow!("the sandbox gateway is off"))
}

/// A photo of `len` bytes in a pattern no shorter file shares.
pub(crate) fn photo_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn photo(bytes: Vec<u8>) -> anyhow::Result<SandboxFile> {
    let info = MediaInfo {
        file_name: Some("cat on sofa.jpg".to_owned()),
        mime_type: Some("image/jpeg".to_owned()),
        width: Some(800),
        height: Some(600),
        ..MediaInfo::of(MediaKind::Photo)
    };
    Ok(SandboxFile::new(info, bytes)?)
}

/// GET `path` with an optional bearer token.
pub(crate) async fn get(app: &TestApp, path: &str, token: Option<&str>) -> anyhow::Result<reqwest::Response> {
    let mut request = app.http().get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Ok(request.send().await?)
}

pub(crate) fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The newest message of the workspace's only dialog, with its media.
pub(crate) async fn newest_message(app: &TestApp, token: &str, workspace: &str) -> anyhow::Result<Value> {
    let query = format!(
        "query($w: ID!) {{ workspace(id: $w) {{ dialogs(first: 1) {{ edges {{ node {{ id messages(first: 1) {{ edges {{ node {{ id text direction {MEDIA_FIELDS} }} }} }} }} }} }} }} }}"
    );
    let read = app.gql(Some(token), &query, json!({ "w": workspace })).await?;
    Ok(read
        .at("/data/workspace/dialogs/edges/0/node/messages/edges/0/node")?
        .clone())
}

backend_tests!(
    a_contacts_photo_is_described_live_and_in_graphql_and_downloads_byte_for_byte,
    |app| {
        let (owner, workspace, scope, record, user) = renting(&app).await?;
        let subscription = format!(
            "subscription($w: ID!) {{ inboxEvents(workspaceId: $w) {{ __typename ... on MessageReceived {{ message {{ id text {MEDIA_FIELDS} }} }} }} }}"
        );
        let mut live = Subscriber::start(app.addr, &owner, &subscription, json!({ "w": workspace }), None).await?;
        let bytes = photo_bytes(150_000);
        network(&app)?.contact_send_media(user, "Ada", "look!", photo(bytes.clone())?)?;
        app.inbox.sync_account(&scope, &record).await?;

        let event = live.event(WAIT).await?;
        let message = &event["message"];
        let id = message["id"].as_str().unwrap_or_default().to_owned();
        let expected = json!({
            "kind": "PHOTO", "fileName": "cat on sofa.jpg", "sizeBytes": 150_000, "mimeType": "image/jpeg",
            "width": 800, "height": 600, "durationSeconds": null, "url": format!("/media/{id}"),
        });
        assert_eq!(message["media"], expected, "{event}");
        assert_eq!(message["text"], "look!");
        let read = newest_message(&app, &owner, &workspace).await?;
        assert_eq!(read["id"], id.as_str());
        assert_eq!(read["media"], expected);

        let url = format!("/media/{id}");
        let response = get(&app, &url, Some(&owner)).await?;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-type"), "image/jpeg");
        assert_eq!(
            header(&response, "content-disposition"),
            "attachment; filename=\"cat on sofa.jpg\"; filename*=UTF-8''cat%20on%20sofa.jpg"
        );
        assert_eq!(header(&response, "cache-control"), "private, no-store");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(header(&response, "content-length"), "150000");
        assert!(
            !header(&response, "ratelimit-limit").is_empty(),
            "counted against the caller's budget"
        );
        assert_eq!(response.bytes().await?.to_vec(), bytes, "exactly the file");

        // A key of the workspace reads it with INBOX_READ, and without it is refused.
        let key = |scopes: Value| {
            let (app, owner, workspace) = (&app, &owner, &workspace);
            async move {
                let created = app
                    .gql(
                        Some(owner),
                        "mutation($w: ID!, $s: [Scope!]!) { createApiKey(workspaceId: $w, name: \"files\", scopes: $s) { secret } }",
                        json!({ "w": workspace, "s": scopes }),
                    )
                    .await?;
                created.str_at("/data/createApiKey/secret")
            }
        };
        let reader = key(json!(["INBOX_READ"])).await?;
        let response = get(&app, &url, Some(&reader)).await?;
        assert_eq!(response.status(), 200);
        assert_eq!(response.bytes().await?.to_vec(), bytes);
        let billing = key(json!(["BILLING_READ"])).await?;
        assert_eq!(get(&app, &url, Some(&billing)).await?.status(), 403);

        // A viewer of the workspace reads it too.
        let (viewer, _) = app.join(&owner, &workspace, "vera", "VIEWER").await?;
        assert_eq!(get(&app, &url, Some(&viewer)).await?.status(), 200);

        // Nobody else learns anything: another workspace's owner, an unknown id and garbage get one 404.
        let (stranger, _) = funded(&app, "peter", 0).await?;
        let theirs = get(&app, &url, Some(&stranger)).await?;
        assert_eq!(theirs.status(), 404);
        let theirs: Value = theirs.json().await?;
        let unknown = get(&app, &format!("/media/{}", uuid::Uuid::now_v7()), Some(&stranger)).await?;
        assert_eq!(unknown.status(), 404);
        assert_eq!(
            unknown.json::<Value>().await?,
            theirs,
            "the same answer as an unknown message"
        );
        assert_eq!(get(&app, "/media/not-an-id", Some(&owner)).await?.status(), 404);
        let anonymous = get(&app, &url, None).await?;
        assert_eq!(anonymous.status(), 401);
        assert_eq!(
            anonymous.json::<Value>().await?["errors"][0]["extensions"]["code"],
            "UNAUTHENTICATED"
        );
        assert_eq!(get(&app, &url, Some("not-a-token")).await?.status(), 401);

        // A message without media has none to fetch.
        network(&app)?.contact_send(user, "Ada", "just words")?;
        app.inbox.sync_account(&scope, &record).await?;
        let text = newest_message(&app, &owner, &workspace).await?;
        assert_eq!(text["media"], Value::Null);
        let text_id = text["id"].as_str().unwrap_or_default();
        assert_eq!(
            get(&app, &format!("/media/{text_id}"), Some(&owner)).await?.status(),
            404
        );
        Ok(())
    }
);

backend_tests!(
    a_file_over_the_servers_cap_is_refused_with_413_and_one_under_it_streams,
    options = TestOptions {
        media_max_bytes: 100_000,
        ..TestOptions::default()
    },
    |app| {
        let (owner, workspace, scope, record, user) = renting(&app).await?;
        network(&app)?.contact_send_media(user, "Ada", "", photo(photo_bytes(100_001))?)?;
        app.inbox.sync_account(&scope, &record).await?;
        let large = newest_message(&app, &owner, &workspace).await?;
        let response = get(&app, large["media"]["url"].as_str().unwrap_or_default(), Some(&owner)).await?;
        assert_eq!(response.status(), 413);
        assert_eq!(header(&response, "cache-control"), "private, no-store");
        let body: Value = response.json().await?;
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("100000"),
            "{body}"
        );

        let bytes = photo_bytes(100_000);
        network(&app)?.contact_send_media(user, "Ada", "", photo(bytes.clone())?)?;
        app.inbox.sync_account(&scope, &record).await?;
        let at_cap = newest_message(&app, &owner, &workspace).await?;
        let response = get(&app, at_cap["media"]["url"].as_str().unwrap_or_default(), Some(&owner)).await?;
        assert_eq!(response.status(), 200);
        assert_eq!(response.bytes().await?.to_vec(), bytes);
        Ok(())
    }
);

backend_tests!(
    a_file_of_an_account_the_workspace_no_longer_rents_is_a_clear_409,
    |app| {
        let (owner, workspace, scope, record, user) = renting(&app).await?;
        network(&app)?.contact_send_media(user, "Ada", "", photo(photo_bytes(1_000))?)?;
        app.inbox.sync_account(&scope, &record).await?;
        let message = newest_message(&app, &owner, &workspace).await?;
        let leases = app
            .gql(
                Some(&owner),
                "query($w: ID!) { workspace(id: $w) { leases { edges { node { id } } } } }",
                json!({ "w": workspace }),
            )
            .await?;
        let lease = leases.str_at("/data/workspace/leases/edges/0/node/id")?;
        let released = app
            .gql(
                Some(&owner),
                "mutation($l: ID!) { releaseLease(leaseId: $l) { id } }",
                json!({ "l": lease }),
            )
            .await?;
        assert!(released.is_ok(), "{:?}", released.body);
        let response = get(&app, message["media"]["url"].as_str().unwrap_or_default(), Some(&owner)).await?;
        assert_eq!(response.status(), 409);
        let body: Value = response.json().await?;
        assert_eq!(body["errors"][0]["extensions"]["code"], "ACCOUNT_UNAVAILABLE", "{body}");
        Ok(())
    }
);
