use serde_json::json;
use tgos_tests::{TestOptions, backend_tests};

const CREATE: &str = "mutation($w: ID!, $n: String!, $s: [Scope!]!, $e: DateTime) { createApiKey(workspaceId: $w, name: $n, scopes: $s, expiresAt: $e) { secret apiKey { id name prefix scopes expiresAt lastUsedAt } } }";
const AUDIT: &str = "query($w: ID!) { workspace(id: $w) { auditLog(first: 5) { edges { node { action actor { kind displayName } } } } } }";

async fn key(
    app: &tgos_tests::TestApp,
    owner: &str,
    workspace: &str,
    scopes: serde_json::Value,
) -> anyhow::Result<(String, String)> {
    let created = app
        .gql(
            Some(owner),
            CREATE,
            json!({ "w": workspace, "n": "integration", "s": scopes }),
        )
        .await?;
    Ok((
        created.str_at("/data/createApiKey/secret")?,
        created.str_at("/data/createApiKey/apiKey/id")?,
    ))
}

backend_tests!(a_key_is_shown_once_stored_hashed_and_reaches_only_its_scopes, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "Integrations").await?;
    let created = app
        .gql(
            Some(&owner),
            CREATE,
            json!({ "w": workspace, "n": "crm sync", "s": ["AUDIT_READ", "INBOX_READ", "AUDIT_READ"] }),
        )
        .await?;
    let secret = created.str_at("/data/createApiKey/secret")?;
    let prefix = created.str_at("/data/createApiKey/apiKey/prefix")?;
    assert!(secret.starts_with(&format!("tgos_{prefix}_")), "{secret}");
    assert_eq!(
        created.at("/data/createApiKey/apiKey/scopes")?,
        &json!(["INBOX_READ", "AUDIT_READ"])
    );

    let listed = app
        .gql(
            Some(&owner),
            "query($w: ID!) { workspace(id: $w) { apiKeys { prefix lastUsedAt } } }",
            json!({ "w": workspace }),
        )
        .await?;
    assert!(
        !listed.body.to_string().contains(&secret[prefix.len() + 6..]),
        "the secret is never listed"
    );
    use sea_orm::ConnectionTrait as _;
    let db = app.db().await?;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT secret_hash FROM api_keys",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no key row"))?;
    let stored: Vec<u8> = row.try_get("", "secret_hash")?;
    assert_eq!(stored.len(), 32, "only a SHA-256 is stored");

    let log = app.gql(Some(&secret), AUDIT, json!({ "w": workspace })).await?;
    assert!(log.is_ok(), "AUDIT_READ reads the audit log: {:?}", log.body);
    let newest = log.str_at("/data/workspace/auditLog/edges/0/node/action")?;
    assert_eq!(newest, "api_key.used", "the key's first use is audited");
    assert_eq!(
        log.str_at("/data/workspace/auditLog/edges/1/node/action")?,
        "api_key.created"
    );
    let used = app
        .gql(
            Some(&owner),
            "query($w: ID!) { workspace(id: $w) { apiKeys { lastUsedAt } } }",
            json!({ "w": workspace }),
        )
        .await?;
    assert!(
        used.at("/data/workspace/apiKeys/0/lastUsedAt").is_ok(),
        "last use is recorded"
    );
    Ok(())
});

backend_tests!(a_key_without_the_scope_or_for_another_workspace_gets_nothing, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "A").await?;
    let other = app.create_workspace(&owner, "B").await?;
    let (inbox_only, _) = key(&app, &owner, &workspace, json!(["INBOX_READ"])).await?;
    let denied = app.gql(Some(&inbox_only), AUDIT, json!({ "w": workspace })).await?;
    assert_eq!(denied.code().as_deref(), Some("FORBIDDEN"));
    let elsewhere = app
        .gql(
            Some(&inbox_only),
            "query($w: ID!) { workspace(id: $w) { id } }",
            json!({ "w": other }),
        )
        .await?;
    assert_eq!(elsewhere.code().as_deref(), Some("FORBIDDEN"));
    let members = app
        .gql(
            Some(&inbox_only),
            "query($w: ID!) { workspace(id: $w) { members { edges { node { role } } } } }",
            json!({ "w": workspace }),
        )
        .await?;
    assert_eq!(
        members.code().as_deref(),
        Some("FORBIDDEN"),
        "keys do not read the member list"
    );
    let me = app.gql(Some(&inbox_only), "{ me { user { id } } }", json!({})).await?;
    assert_eq!(me.code().as_deref(), Some("FORBIDDEN"));
    Ok(())
});

backend_tests!(a_key_never_manages_members_keys_or_ownership, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "A").await?;
    let (_, member_id) = app.join(&owner, &workspace, "vera", "VIEWER").await?;
    let all_scopes = json!([
        "INBOX_READ",
        "INBOX_WRITE",
        "ACCOUNTS_READ",
        "ACCOUNTS_WRITE",
        "AUTOMATIONS_READ",
        "AUTOMATIONS_WRITE",
        "BILLING_READ",
        "AUDIT_READ"
    ]);
    let (powerful, key_id) = key(&app, &owner, &workspace, all_scopes.clone()).await?;
    let attempts = [
        (CREATE, json!({ "w": workspace, "n": "child", "s": ["INBOX_READ"] })),
        ("mutation($id: ID!) { revokeApiKey(id: $id) }", json!({ "id": key_id })),
        (
            "mutation($w: ID!, $u: ID!) { changeMemberRole(workspaceId: $w, userId: $u, role: OPERATOR) { role } }",
            json!({ "w": workspace, "u": member_id }),
        ),
        (
            "mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }",
            json!({ "w": workspace, "u": member_id }),
        ),
        (
            "mutation($w: ID!, $u: ID!) { transferOwnership(workspaceId: $w, userId: $u) { id } }",
            json!({ "w": workspace, "u": member_id }),
        ),
        (
            "mutation($w: ID!) { inviteMember(workspaceId: $w, email: \"x@example.com\", role: VIEWER) { id } }",
            json!({ "w": workspace }),
        ),
        (
            "query($w: ID!) { workspace(id: $w) { apiKeys { id } } }",
            json!({ "w": workspace }),
        ),
        (
            "query($w: ID!) { workspace(id: $w) { invitations { id } } }",
            json!({ "w": workspace }),
        ),
    ];
    for (query, variables) in attempts {
        let response = app.gql(Some(&powerful), query, variables).await?;
        let code = response.code();
        assert!(
            matches!(code.as_deref(), Some("FORBIDDEN") | Some("NOT_FOUND")),
            "{query}: {:?}",
            response.body
        );
    }
    Ok(())
});

backend_tests!(revoked_and_expired_keys_stop_working, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "A").await?;
    let (secret, id) = key(&app, &owner, &workspace, json!(["AUDIT_READ"])).await?;
    assert!(app.gql(Some(&secret), AUDIT, json!({ "w": workspace })).await?.is_ok());
    let revoked = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { revokeApiKey(id: $id) }",
            json!({ "id": id }),
        )
        .await?;
    assert_eq!(revoked.at("/data/revokeApiKey")?, &json!(true));
    assert_eq!(
        app.gql(Some(&secret), AUDIT, json!({ "w": workspace }))
            .await?
            .code()
            .as_deref(),
        Some("UNAUTHENTICATED")
    );
    let past = app
        .gql(
            Some(&owner),
            CREATE,
            json!({ "w": workspace, "n": "old", "s": ["AUDIT_READ"], "e": "2001-01-01T00:00:00Z" }),
        )
        .await?;
    assert_eq!(past.str_at("/errors/0/extensions/field")?, "expiresAt");
    let no_scopes = app
        .gql(Some(&owner), CREATE, json!({ "w": workspace, "n": "none", "s": [] }))
        .await?;
    assert_eq!(no_scopes.str_at("/errors/0/extensions/field")?, "scopes");
    let forged = format!("{}x", &secret[..secret.len() - 1]);
    assert_eq!(
        app.gql(Some(&forged), AUDIT, json!({ "w": workspace }))
            .await?
            .code()
            .as_deref(),
        Some("UNAUTHENTICATED")
    );
    let log = app.gql(Some(&owner), AUDIT, json!({ "w": workspace })).await?;
    assert_eq!(
        log.str_at("/data/workspace/auditLog/edges/0/node/action")?,
        "api_key.revoked"
    );
    Ok(())
});

backend_tests!(only_admins_create_keys, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "A").await?;
    let (operator, _) = app.join(&owner, &workspace, "opal", "OPERATOR").await?;
    let refused = app
        .gql(
            Some(&operator),
            CREATE,
            json!({ "w": workspace, "n": "mine", "s": ["INBOX_READ"] }),
        )
        .await?;
    assert_eq!(refused.code().as_deref(), Some("FORBIDDEN"));
    Ok(())
});

backend_tests!(
    a_key_over_its_request_limit_is_slowed_down_and_its_use_is_audited_once,
    options = TestOptions {
        api_key_requests_per_minute: 3,
        ..TestOptions::default()
    },
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "A").await?;
        let (secret, _) = key(&app, &owner, &workspace, json!(["AUDIT_READ"])).await?;
        for _ in 0..3 {
            assert!(app.gql(Some(&secret), AUDIT, json!({ "w": workspace })).await?.is_ok());
        }
        let response = app
            .http()
            .post(app.url("/graphql"))
            .bearer_auth(&secret)
            .json(&json!({ "query": AUDIT, "variables": { "w": workspace } }))
            .send()
            .await?;
        assert_eq!(response.status().as_u16(), 429);
        assert!(response.headers().get("retry-after").is_some());
        let body: serde_json::Value = response.json().await?;
        assert_eq!(body.pointer("/errors/0/extensions/code"), Some(&json!("RATE_LIMITED")));
        let used = app
            .gql(
                Some(&owner),
                "query($w: ID!) { workspace(id: $w) { auditLog(action: \"api_key.used\") { edges { node { actor { kind displayName } } } } } }",
                json!({ "w": workspace }),
            )
            .await?;
        let entries = used
            .at("/data/workspace/auditLog/edges")?
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(entries.len(), 1, "use is audited at most once a minute: {entries:?}");
        assert_eq!(entries[0]["node"]["actor"]["kind"], "API_KEY");
        Ok(())
    }
);
